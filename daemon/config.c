/* config.c: reads the INI file with inih into one validated struct config; every error names file:line. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"
#include "trace_list.h"

/* A configuration file is a few hundred bytes; anything this big is a wrong path. */
#define CONFIG_FILE_MAX (1024 * 1024)
/* sun_path is 108 bytes including its NUL. */
#define CONFIG_UNIX_PATH_MAX 107
/* PID_MAX_LIMIT on 64-bit Linux: no process id is larger. */
#define CONFIG_PID_MAX 4194304u
/* The kernel caps a BPF ring buffer near 1 GiB (RINGBUF_MAX_DATA_SZ), and libbpf takes a u32. */
#define CONFIG_RINGBUF_MAX (1ull << 30)
/* Fluent Bit's in_forward closes the connection on a frame above 6,144,000 bytes. */
#define CONFIG_FRAME_MAX (4ull << 20)

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)

enum section { SEC_NONE = -1, SEC_SERVICE, SEC_INPUT, SEC_OUTPUT, SEC_COUNT };

static const char *const section_names[SEC_COUNT] = {"SERVICE", "INPUT", "OUTPUT"};

enum key_id {
	K_USER,
	K_GROUP,
	K_LOG_LEVEL,
	K_STATS_INTERVAL,
	K_METRICS_RECORDS,
	K_INPUT_NAME,
	K_TRACE,
	K_RINGBUF_SIZE,
	K_PID,
	K_UID,
	K_LIBC_PATH,
	K_POLL_MS,
	K_CGROUP,
	K_COMM,
	K_MOUNT_NS,
	K_OUTPUT_NAME,
	K_TAG,
	K_HOST,
	K_PORT,
	K_UNIX_PATH,
	K_BUFFER_LIMIT,
	K_FRAME_SIZE,
	K_FLUSH_MS,
	K_REQUIRE_ACK,
	K_COMPRESS,
	K_COUNT
};

struct parse;

struct key {
	enum section section;
	const char *name;                 /* canonical spelling, used in messages */
	int (*set)(struct parse *p, const char *value);
	bool repeats;
	bool forward_only;
};

/* Everything one parse needs; inih hands it back to the reader and the handler. */
struct parse {
	struct config *cfg;
	const char *name;                 /* file name for messages */
	char *err;
	size_t errlen;
	bool failed;
	int fail_line;

	const char *text;                 /* whole input, NUL-terminated */
	const char *pos;                  /* start of the next line to hand to inih */
	int line;                         /* physical line last handed to inih */

	enum section section;             /* section of the lines being parsed */
	int section_line[SEC_COUNT];      /* 0 = not seen */
	int key_line[K_COUNT];            /* 0 = not given */
	const struct key *key;            /* key being set, for value messages */
};

static int set_user(struct parse *p, const char *v);
static int set_group(struct parse *p, const char *v);
static int set_log_level(struct parse *p, const char *v);
static int set_stats_interval(struct parse *p, const char *v);
static int set_metrics_records(struct parse *p, const char *v);
static int set_input_name(struct parse *p, const char *v);
static int set_trace(struct parse *p, const char *v);
static int set_ringbuf_size(struct parse *p, const char *v);
static int set_pid(struct parse *p, const char *v);
static int set_uid(struct parse *p, const char *v);
static int set_libc_path(struct parse *p, const char *v);
static int set_poll_ms(struct parse *p, const char *v);
static int set_cgroup(struct parse *p, const char *v);
static int set_comm(struct parse *p, const char *v);
static int set_mount_ns(struct parse *p, const char *v);
static int set_output_name(struct parse *p, const char *v);
static int set_tag(struct parse *p, const char *v);
static int set_host(struct parse *p, const char *v);
static int set_port(struct parse *p, const char *v);
static int set_unix_path(struct parse *p, const char *v);
static int set_buffer_limit(struct parse *p, const char *v);
static int set_frame_size(struct parse *p, const char *v);
static int set_flush_ms(struct parse *p, const char *v);
static int set_require_ack(struct parse *p, const char *v);
static int set_compress(struct parse *p, const char *v);

static const struct key keys[K_COUNT] = {
	[K_USER] = {SEC_SERVICE, "User", set_user, false, false},
	[K_GROUP] = {SEC_SERVICE, "Group", set_group, false, false},
	[K_LOG_LEVEL] = {SEC_SERVICE, "Log_Level", set_log_level, false, false},
	[K_STATS_INTERVAL] = {SEC_SERVICE, "Stats_Interval", set_stats_interval, false, false},
	[K_METRICS_RECORDS] = {SEC_SERVICE, "Metrics_Records", set_metrics_records, false, false},
	[K_INPUT_NAME] = {SEC_INPUT, "Name", set_input_name, false, false},
	[K_TRACE] = {SEC_INPUT, "Trace", set_trace, true, false},
	[K_RINGBUF_SIZE] = {SEC_INPUT, "Ringbuf_Size", set_ringbuf_size, false, false},
	[K_PID] = {SEC_INPUT, "Pid", set_pid, false, false},
	[K_UID] = {SEC_INPUT, "Uid", set_uid, false, false},
	[K_LIBC_PATH] = {SEC_INPUT, "Libc_Path", set_libc_path, false, false},
	[K_POLL_MS] = {SEC_INPUT, "Poll_Ms", set_poll_ms, false, false},
	[K_CGROUP] = {SEC_INPUT, "Cgroup", set_cgroup, false, false},
	[K_COMM] = {SEC_INPUT, "Comm", set_comm, false, false},
	[K_MOUNT_NS] = {SEC_INPUT, "Mount_Ns", set_mount_ns, false, false},
	[K_OUTPUT_NAME] = {SEC_OUTPUT, "Name", set_output_name, false, false},
	[K_TAG] = {SEC_OUTPUT, "Tag", set_tag, false, false},
	[K_HOST] = {SEC_OUTPUT, "Host", set_host, false, true},
	[K_PORT] = {SEC_OUTPUT, "Port", set_port, false, true},
	[K_UNIX_PATH] = {SEC_OUTPUT, "Unix_Path", set_unix_path, false, true},
	[K_BUFFER_LIMIT] = {SEC_OUTPUT, "Buffer_Limit", set_buffer_limit, false, true},
	[K_FRAME_SIZE] = {SEC_OUTPUT, "Frame_Size", set_frame_size, false, true},
	[K_FLUSH_MS] = {SEC_OUTPUT, "Flush_Ms", set_flush_ms, false, true},
	[K_REQUIRE_ACK] = {SEC_OUTPUT, "Require_Ack_Response", set_require_ack, false, true},
	[K_COMPRESS] = {SEC_OUTPUT, "Compress", set_compress, false, true},
};

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->user, sizeof(cfg->user), "%s", "ebpf-forward");
	cfg->log_level = LOG_LVL_INFO;
	cfg->stats_interval_s = 60;
	cfg->metrics_records = true;
	cfg->trace.ringbuf_size = 16 * MIB;
	cfg->trace.filter_pid = 0;
	cfg->trace.filter_uid = -1;
	cfg->trace.poll_ms = 25;
	cfg->output = OUTPUT_STDOUT;
	snprintf(cfg->tag, sizeof(cfg->tag), "%s", "ebpf");
	snprintf(cfg->host, sizeof(cfg->host), "%s", "127.0.0.1");
	cfg->port = 24224;
	cfg->buffer_limit = 64 * MIB;
	cfg->frame_size = 1 * MIB;
	cfg->flush_ms = 50;
	cfg->require_ack = true;
}

/*
 * Copies s into out with '"', '\\' and non-printable bytes escaped, so that a
 * value with control bytes or binary junk still gives a one-line, readable message.
 */
static const char *quote(char *out, size_t outlen, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 8 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
		if (i + 1 < len && o + 8 >= outlen)
			o += (size_t)snprintf(out + o, outlen - o, "...");
	}
	out[o] = '\0';
	return out;
}

/* Records the first error as "name:line: message" (line 0: "name: message"); returns 0 for inih. */
__attribute__((format(printf, 3, 4)))
static int fail(struct parse *p, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return 0;
	p->failed = true;
	p->fail_line = line;
	if (!p->err || !p->errlen)
		return 0;
	if (line > 0)
		n = snprintf(p->err, p->errlen, "%s:%d: ", p->name, line);
	else
		n = snprintf(p->err, p->errlen, "%s: ", p->name);
	if (n < 0 || (size_t)n >= p->errlen)
		return 0;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return 0;
}

/* An error about the value of the key being set: Key: "value" why. */
__attribute__((format(printf, 3, 4)))
static int bad(struct parse *p, const char *value, const char *fmt, ...)
{
	char why[256], q[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	quote(q, sizeof(q), value, strlen(value));
	return fail(p, p->line, "%s: \"%s\" %s", p->key->name, q, why);
}

/* Non-empty, printable ASCII, no spaces: what a user name, host or tag may look like. */
static bool is_word(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static int copy_value(struct parse *p, const char *v, char *dst, size_t size)
{
	size_t len = strlen(v);

	if (len >= size)
		return bad(p, v, "is longer than %zu bytes", size - 1);
	memcpy(dst, v, len + 1);
	return 1;
}

/* Plain decimal only: no sign, no spaces, no 0x, nothing after the digits. */
static bool parse_u64(const char *s, const char **end, uint64_t *out)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*end = s;
	*out = v;
	return true;
}

static bool get_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	const char *end;

	return parse_u64(s, &end, out) && !*end && *out >= min && *out <= max;
}

/* Bytes, or a number with K, M or G (powers of 1024), optionally followed by B. */
static bool parse_size(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v, mult = 1;

	if (!parse_u64(s, &end, &v))
		return false;
	switch (toupper((unsigned char)*end)) {
	case 'K': mult = KIB; end++; break;
	case 'M': mult = MIB; end++; break;
	case 'G': mult = GIB; end++; break;
	default: break;
	}
	if (mult != 1 && toupper((unsigned char)*end) == 'B')
		end++;
	if (*end || v > UINT64_MAX / mult)
		return false;
	*out = v * mult;
	return true;
}

/* 4096 -> "4K", 1048576 -> "1M": how ranges read in messages. */
static const char *size_str(char *buf, size_t len, uint64_t v)
{
	if (v && v % GIB == 0)
		snprintf(buf, len, "%lluG", (unsigned long long)(v / GIB));
	else if (v && v % MIB == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(v / MIB));
	else if (v && v % KIB == 0)
		snprintf(buf, len, "%lluK", (unsigned long long)(v / KIB));
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

static int get_size(struct parse *p, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	char lo[32], hi[32];
	uint64_t n;

	if (!parse_size(v, &n))
		return bad(p, v, "is not a size (bytes, or a number with K, M or G)");
	if (n < min || n > max)
		return bad(p, v, "is out of range (%s-%s)", size_str(lo, sizeof(lo), min),
			   size_str(hi, sizeof(hi), max));
	*out = n;
	return 1;
}

static int set_user(struct parse *p, const char *v)
{
	if (!is_word(v))
		return bad(p, v, "is not a user name");
	p->cfg->user_set = true;
	return copy_value(p, v, p->cfg->user, sizeof(p->cfg->user));
}

static int set_group(struct parse *p, const char *v)
{
	if (!is_word(v))
		return bad(p, v, "is not a group name");
	return copy_value(p, v, p->cfg->group, sizeof(p->cfg->group));
}

static int set_log_level(struct parse *p, const char *v)
{
	static const char *const names[] = {
		[LOG_LVL_ERROR] = "error", [LOG_LVL_WARN] = "warn",
		[LOG_LVL_INFO] = "info", [LOG_LVL_DEBUG] = "debug",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(v, names[i]) == 0) {
			p->cfg->log_level = (enum config_log_level)i;
			return 1;
		}
	}
	return bad(p, v, "is not a level (error, warn, info or debug)");
}

static int set_stats_interval(struct parse *p, const char *v)
{
	uint64_t n;

	if (!get_uint(v, 0, UINT_MAX, &n))
		return bad(p, v, "is not a number of seconds (0-%u, 0 = off)", UINT_MAX);
	p->cfg->stats_interval_s = (unsigned)n;
	return 1;
}

static int set_input_name(struct parse *p, const char *v)
{
	if (strcasecmp(v, "ebpf") != 0)
		return bad(p, v, "is not an input (ebpf is the only one)");
	return 1;
}

static int set_trace(struct parse *p, const char *v)
{
	struct config *cfg = p->cfg;
#define NAME_OF(T) #T,
	static const char *const names[] = {TRACE_LIST(NAME_OF)};
	const char *name = strncasecmp(v, "trace_", 6) == 0 ? v + 6 : v, *canon = NULL;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i]) == 0)
			canon = names[i];
	if (!canon)
		return bad(p, v, "is not a trace (see ebpf-forward --list-traces)");
	for (unsigned i = 0; i < cfg->trace_count; i++)
		if (strcmp(cfg->traces[i], canon) == 0)
			return bad(p, v, "is listed twice (first on line %d)", cfg->trace_line[i]);
	if (cfg->trace_count >= CONFIG_MAX_TRACES)
		return bad(p, v, "is one trace too many (at most %d)", CONFIG_MAX_TRACES);
	if (copy_value(p, canon, cfg->traces[cfg->trace_count], sizeof(cfg->traces[0])) == 0)
		return 0;
	cfg->trace_line[cfg->trace_count++] = p->line;
	return 1;
}

static int set_ringbuf_size(struct parse *p, const char *v)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t n;

	if (page <= 0)
		page = 4096;
	if (!get_size(p, v, 4 * KIB, CONFIG_RINGBUF_MAX, &n))
		return 0;
	/* The kernel refuses a ring that is not a power of two or not page-aligned. */
	if (n & (n - 1))
		return bad(p, v, "is not a power of two");
	if (n % (uint64_t)page)
		return bad(p, v, "is not a multiple of the page size (%ld)", page);
	p->cfg->trace.ringbuf_size = n;
	return 1;
}

static int set_pid(struct parse *p, const char *v)
{
	uint64_t n;

	if (!get_uint(v, 0, CONFIG_PID_MAX, &n))
		return bad(p, v, "is not a process id (0-%u, 0 = all)", CONFIG_PID_MAX);
	p->cfg->trace.filter_pid = (uint32_t)n;
	return 1;
}

static int set_uid(struct parse *p, const char *v)
{
	uint64_t n;

	/* (uid_t)-1 is no user; all users is the default, so it needs no spelling. */
	if (!get_uint(v, 0, UINT32_MAX - 1, &n))
		return bad(p, v, "is not a user id (0-%u)", UINT32_MAX - 1);
	p->cfg->trace.filter_uid = (int64_t)n;
	return 1;
}

static int set_libc_path(struct parse *p, const char *v)
{
	if (v[0] != '/')
		return bad(p, v, "is not an absolute path");
	return copy_value(p, v, p->cfg->trace.libc_path, sizeof(p->cfg->trace.libc_path));
}

/* A cgroup v2 directory: only its tasks and its descendants' are traced (a pod, a service). */
static int set_cgroup(struct parse *p, const char *v)
{
	if (v[0] != '/')
		return bad(p, v, "is not an absolute path");
	return copy_value(p, v, p->cfg->trace.cgroup_path, sizeof(p->cfg->trace.cgroup_path));
}

/* A command name as the kernel keeps it: 1 to 15 bytes. */
static int set_comm(struct parse *p, const char *v)
{
	if (!*v || strlen(v) > 15)
		return bad(p, v, "is not a command name (1-15 bytes, as in /proc/PID/comm)");
	return copy_value(p, v, p->cfg->trace.filter_comm, sizeof(p->cfg->trace.filter_comm));
}

/* The namespace's inode, as readlink /proc/PID/ns/mnt shows it: 4026531840 or mnt:[4026531840]. */
static int set_mount_ns(struct parse *p, const char *v)
{
	char digits[32];
	size_t n = strlen(v);
	uint64_t id;

	if (strncmp(v, "mnt:[", 5) == 0 && n > 6 && v[n - 1] == ']' && n - 6 < sizeof(digits)) {
		memcpy(digits, v + 5, n - 6);
		digits[n - 6] = '\0';
	} else {
		snprintf(digits, sizeof(digits), "%s", n < sizeof(digits) ? v : "x");
	}
	if (!get_uint(digits, 1, UINT32_MAX, &id))
		return bad(p, v, "is not a mount namespace (its inode number, as readlink /proc/PID/ns/mnt shows)");
	p->cfg->trace.filter_mntns = id;
	return 1;
}

/* in_ebpf's key: how often the rings are read while events flow; 0 = a wake-up per event. */
static int set_poll_ms(struct parse *p, const char *v)
{
	uint64_t n;

	if (!get_uint(v, 0, 1000, &n))
		return bad(p, v, "is not a number of milliseconds (0-1000, 0 = wake on every event)");
	p->cfg->trace.poll_ms = (unsigned)n;
	return 1;
}

static int set_output_name(struct parse *p, const char *v)
{
	if (strcasecmp(v, "stdout") == 0)
		p->cfg->output = OUTPUT_STDOUT;
	else if (strcasecmp(v, "forward") == 0)
		p->cfg->output = OUTPUT_FORWARD;
	else
		return bad(p, v, "is not an output (stdout or forward)");
	return 1;
}

static int set_tag(struct parse *p, const char *v)
{
	const char *star = strchr(v, '*');

	if (!*v)
		return bad(p, v, "is empty");
	if (!is_word(v))
		return bad(p, v, "is not printable ASCII without spaces");
	/* One '*' is replaced by the event type; a second has no meaning. */
	if (star && strchr(star + 1, '*'))
		return bad(p, v, "has more than one '*'");
	return copy_value(p, v, p->cfg->tag, sizeof(p->cfg->tag));
}

static int set_host(struct parse *p, const char *v)
{
	if (!is_word(v))
		return bad(p, v, "is not a host name or address");
	return copy_value(p, v, p->cfg->host, sizeof(p->cfg->host));
}

static int set_port(struct parse *p, const char *v)
{
	uint64_t n;

	if (!get_uint(v, 1, 65535, &n))
		return bad(p, v, "is not a port (1-65535)");
	p->cfg->port = (uint16_t)n;
	return 1;
}

static int set_unix_path(struct parse *p, const char *v)
{
	if (v[0] != '/')
		return bad(p, v, "is not an absolute path");
	if (strlen(v) > CONFIG_UNIX_PATH_MAX)
		return bad(p, v, "is longer than %d bytes (the limit of a Unix socket path)",
			   CONFIG_UNIX_PATH_MAX);
	return copy_value(p, v, p->cfg->unix_path, sizeof(p->cfg->unix_path));
}

static int set_buffer_limit(struct parse *p, const char *v)
{
	/* The top is only there to keep the arithmetic of the queue far from overflow. */
	return get_size(p, v, 1 * MIB, 1024 * GIB, &p->cfg->buffer_limit);
}

static int set_frame_size(struct parse *p, const char *v)
{
	return get_size(p, v, 4 * KIB, CONFIG_FRAME_MAX, &p->cfg->frame_size);
}

static int set_flush_ms(struct parse *p, const char *v)
{
	uint64_t n;

	if (!get_uint(v, 1, 60000, &n))
		return bad(p, v, "is not a number of milliseconds (1-60000)");
	p->cfg->flush_ms = (unsigned)n;
	return 1;
}

/* Fluent Bit's spellings of a boolean. */
static int get_bool(struct parse *p, const char *v, bool *out)
{
	static const char *const yes[] = {"on", "true", "yes", "1"}, *const no[] = {"off", "false", "no", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 1;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 1;
		}
	}
	return bad(p, v, "is not a boolean (on/off, true/false, yes/no, 1/0)");
}

static int set_require_ack(struct parse *p, const char *v)
{
	return get_bool(p, v, &p->cfg->require_ack);
}

/* out_forward's key: gzip, or none (the default). */
static int set_compress(struct parse *p, const char *v)
{
	if (strcasecmp(v, "gzip") == 0 || strcasecmp(v, "none") == 0 || strcasecmp(v, "off") == 0) {
		p->cfg->compress_gzip = strcasecmp(v, "gzip") == 0;
		return 1;
	}
	return bad(p, v, "is not a compression (gzip or none)");
}

static int set_metrics_records(struct parse *p, const char *v)
{
	return get_bool(p, v, &p->cfg->metrics_records);
}

static bool blank(const char *s, size_t len)
{
	return len == 0 || s[0] == ';' || s[0] == '#';
}

static int not_key_value(struct parse *p, int line, const char *s, size_t len)
{
	char q[1024];

	return fail(p, line, "\"%s\" is neither [SECTION] nor Key = Value", quote(q, sizeof(q), s, len));
}

/* A "[NAME]" line: known, not seen before, nothing after it but a comment. */
static int section_start(struct parse *p, const char *s, size_t len)
{
	const char *close = memchr(s, ']', len);
	const char *name, *rest, *end = s + len;
	size_t nlen;
	char q[1024];

	if (!close)
		return fail(p, p->line, "\"%s\" has no closing ']'", quote(q, sizeof(q), s, len));
	for (rest = close + 1; rest < end && isspace((unsigned char)*rest); rest++)
		;
	if (rest < end && *rest != ';' && *rest != '#')
		return fail(p, p->line, "\"%s\": text after ']'", quote(q, sizeof(q), s, len));
	for (name = s + 1; name < close && isspace((unsigned char)*name); name++)
		;
	for (nlen = (size_t)(close - name); nlen && isspace((unsigned char)name[nlen - 1]); nlen--)
		;
	for (int i = 0; i < SEC_COUNT; i++) {
		if (strlen(section_names[i]) != nlen || strncasecmp(name, section_names[i], nlen) != 0)
			continue;
		if (p->section_line[i])
			return fail(p, p->line, "[%s] given twice (first on line %d); %s", section_names[i],
				    p->section_line[i],
				    i == SEC_OUTPUT ? "only one output is supported" :
				    i == SEC_INPUT ? "put every Trace= in one [INPUT]" : "merge them");
		p->section = (enum section)i;
		p->section_line[i] = p->line;
		return 1;
	}
	return fail(p, p->line, "unknown section [%s] (expected [SERVICE], [INPUT] or [OUTPUT])",
		    quote(q, sizeof(q), name, nlen));
}

/*
 * inih's reader: hands inih one physical line per call, so inih's count and
 * ours agree, and keeps the line number inih's handler does not get (Debian's
 * libinih is built without INI_HANDLER_LINENO). It also strips leading blanks,
 * because inih would take an indented line as the continuation of the previous
 * value, and Fluent Bit users indent their keys. Section lines are checked
 * here because inih does not report them to the handler.
 */
static char *read_line(char *buf, int num, void *stream)
{
	struct parse *p = stream;
	const char *s = p->pos, *eol;
	size_t len;

	if (p->failed || !*s)
		return NULL;
	eol = strchr(s, '\n');
	len = eol ? (size_t)(eol - s) : strlen(s);
	p->pos = eol ? eol + 1 : s + len;
	p->line++;
	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	/* inih's line buffer is num bytes; a longer line would be cut and misread. */
	if (num < 3 || len > (size_t)num - 2) {
		fail(p, p->line, "line is longer than %d bytes", num < 3 ? 0 : num - 2);
		return NULL;
	}
	if (!blank(s, len)) {
		if (s[0] == '[') {
			if (!section_start(p, s, len))
				return NULL;
		} else if (!memchr(s, '=', len) && !memchr(s, ':', len)) {
			not_key_value(p, p->line, s, len);
			return NULL;
		}
	}
	memcpy(buf, s, len);
	buf[len] = '\n';
	buf[len + 1] = '\0';
	return buf;
}

#if INI_HANDLER_LINENO
static int on_key(void *user, const char *section, const char *name, const char *value, int lineno)
#else
static int on_key(void *user, const char *section, const char *name, const char *value)
#endif
{
	struct parse *p = user;
	char q[1024];

	/* Our own section state and line count are authoritative (see read_line). */
	(void)section;
#if INI_HANDLER_LINENO
	(void)lineno;
#endif
	if (p->failed)
		return 0;
	if (!value)
		value = "";
	if (!*name)
		return fail(p, p->line, "no key name before '='");
	quote(q, sizeof(q), name, strlen(name));
	if (p->section == SEC_NONE)
		return fail(p, p->line, "%s: key before any section ([SERVICE], [INPUT] or [OUTPUT])", q);
	for (int i = 0; i < K_COUNT; i++) {
		const struct key *k = &keys[i];

		if (k->section != p->section || strcasecmp(k->name, name) != 0)
			continue;
		if (p->key_line[i] && !k->repeats)
			return fail(p, p->line, "%s: given twice (first on line %d)", k->name, p->key_line[i]);
		if (!p->key_line[i])
			p->key_line[i] = p->line;
		p->key = k;
		return k->set(p, value);
	}
	return fail(p, p->line, "unknown key \"%s\" in [%s]", q, section_names[p->section]);
}

/* Rules that span keys or sections, checked once the whole file is read. */
static int check(struct parse *p)
{
	struct config *cfg = p->cfg;
	const int *kl = p->key_line;

	if (!p->section_line[SEC_INPUT])
		return fail(p, 0, "no [INPUT] section");
	if (!cfg->trace_count)
		return fail(p, p->section_line[SEC_INPUT], "no Trace= in [INPUT]");
	if (!p->section_line[SEC_OUTPUT])
		return fail(p, 0, "no [OUTPUT] section");
	if (!kl[K_OUTPUT_NAME])
		return fail(p, p->section_line[SEC_OUTPUT], "no Name= in [OUTPUT] (stdout or forward)");
	if (cfg->output != OUTPUT_FORWARD) {
		int first = -1;

		for (int i = 0; i < K_COUNT; i++)
			if (keys[i].forward_only && kl[i] && (first < 0 || kl[i] < kl[first]))
				first = i;
		if (first >= 0)
			return fail(p, kl[first], "%s: only for Name forward", keys[first].name);
	}
	if (kl[K_UNIX_PATH] && (kl[K_HOST] || kl[K_PORT]))
		return fail(p, kl[K_UNIX_PATH], "Unix_Path: not together with %s (line %d); use one or the other",
			    kl[K_HOST] ? "Host" : "Port", kl[K_HOST] ? kl[K_HOST] : kl[K_PORT]);
	if (cfg->frame_size > cfg->buffer_limit)
		return fail(p, kl[K_FRAME_SIZE] > kl[K_BUFFER_LIMIT] ? kl[K_FRAME_SIZE] : kl[K_BUFFER_LIMIT],
			    "Frame_Size (%llu bytes) is larger than Buffer_Limit (%llu bytes)",
			    (unsigned long long)cfg->frame_size, (unsigned long long)cfg->buffer_limit);
	return 1;
}

/* Line n (from 1) of text, trimmed, for a message about a line inih refused. */
static void nth_line(const char *text, int n, const char **s, size_t *len)
{
	const char *eol;

	for (; n > 1 && (eol = strchr(text, '\n')); n--)
		text = eol + 1;
	eol = strchr(text, '\n');
	*len = eol ? (size_t)(eol - text) : strlen(text);
	for (; *len && isspace((unsigned char)*text); (*len)--)
		text++;
	while (*len && isspace((unsigned char)text[*len - 1]))
		(*len)--;
	*s = text;
}

int config_load_string(struct config *cfg, const char *text, const char *name, char *err, size_t errlen)
{
	struct parse p = {
		.cfg = cfg, .name = name ? name : "(config)", .err = err, .errlen = errlen,
		.text = text ? text : "", .section = SEC_NONE,
	};
	int rc;

	config_defaults(cfg);
	cfg->path = name;
	if (err && errlen)
		err[0] = '\0';
	/* A UTF-8 byte order mark from a Windows editor is not content. */
	if (strncmp(p.text, "\xef\xbb\xbf", 3) == 0)
		p.text += 3;
	p.pos = p.text;
	rc = ini_parse_stream(read_line, &p, on_key, &p);
	if (rc > 0 && (!p.failed || rc < p.fail_line)) {
		/* A line inih refused before any error of ours, e.g. "Key ; = x". */
		const char *s;
		size_t len;

		p.failed = false;
		nth_line(p.text, rc, &s, &len);
		not_key_value(&p, rc, s, len);
	} else if (rc < 0 && !p.failed) {
		fail(&p, 0, "cannot parse: %s", rc == -2 ? "out of memory" : "inih failed");
	}
	if (!p.failed)
		check(&p);
	return p.failed ? -1 : 0;
}

/* Reads at most CONFIG_FILE_MAX bytes of f into a NUL-terminated buffer; NULL with the reason in p. */
static char *read_all(struct parse *p, FILE *f)
{
	/* One byte more than allowed, to tell "exactly the limit" from "too big". */
	char *buf = malloc(CONFIG_FILE_MAX + 2);
	const char *nul;
	size_t n;

	if (!buf) {
		fail(p, 0, "cannot read: out of memory");
		return NULL;
	}
	n = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
	if (ferror(f)) {
		fail(p, 0, "cannot read: %s", strerror(errno));
	} else if (n > CONFIG_FILE_MAX) {
		fail(p, 0, "larger than %d bytes, not a configuration file", CONFIG_FILE_MAX);
	} else if ((nul = memchr(buf, '\0', n))) {
		int line = 1;

		for (const char *c = buf; c < nul; c++)
			line += *c == '\n';
		fail(p, line, "NUL byte, not a text file");
	} else {
		buf[n] = '\0';
		return buf;
	}
	free(buf);
	return NULL;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct parse p = {.cfg = cfg, .name = path ? path : "(config)", .err = err, .errlen = errlen};
	char *buf;
	FILE *f;
	int rc;

	config_defaults(cfg);
	cfg->path = path;
	if (!path) {
		fail(&p, 0, "no configuration file given");
		return -1;
	}
	f = fopen(path, "re");
	if (!f) {
		fail(&p, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	buf = read_all(&p, f);
	fclose(f);
	if (!buf)
		return -1;
	rc = config_load_string(cfg, buf, path, err, errlen);
	free(buf);
	return rc;
}
