/* config_keys.c: the table of every configuration key, and the generic setters that read its rows. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config_parse.h"
#include "trace_list.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)

/* Where a key's value lands: offset and size of a field of struct config. */
#define FIELD(f) .offset = offsetof(struct config, f), .size = sizeof(((struct config *)0)->f)

static const char units[] = "KMG";

/* An error about the value of the key being set: Key: "value" why. */
__attribute__((format(printf, 3, 4)))
static int bad(struct config_parse *p, const char *value, const char *fmt, ...)
{
	char why[256], q[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	config_quote(q, sizeof(q), value, strlen(value));
	return config_fail(p, p->line, "%s: \"%s\" %s", p->key->name, q, why);
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

/* ---- the few keys with a rule of their own, beyond their type's ---- */

/* "exec", "trace_exec", "EXEC": canonical names from the build's list (not the loader's), each once. */
static int trace_add(struct config_parse *p, const char *v, uint64_t n)
{
#define NAME_OF(T) #T,
	static const char *const names[] = {TRACE_LIST(NAME_OF)};
#undef NAME_OF
	struct config *cfg = p->cfg;
	const char *name = strncasecmp(v, "trace_", 6) == 0 ? v + 6 : v, *canon = NULL;

	(void)n;
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
	snprintf(cfg->traces[cfg->trace_count], sizeof(cfg->traces[0]), "%s", canon);
	cfg->trace_line[cfg->trace_count++] = p->line;
	return 1;
}

/* The kernel refuses a ring that is not a power of two or not page-aligned. */
static int ringbuf_shape(struct config_parse *p, const char *v, uint64_t n)
{
	long page = sysconf(_SC_PAGESIZE);

	if (n & (n - 1))
		return bad(p, v, "is not a power of two");
	if (page > 0 && n % (uint64_t)page)
		return bad(p, v, "is not a multiple of the page size (%ld)", page);
	return 1;
}

/* One '*' is replaced by the event type; a second has no meaning. */
static int tag_shape(struct config_parse *p, const char *v, uint64_t n)
{
	const char *star = strchr(v, '*');

	(void)n;
	if (!*v)
		return bad(p, v, "is empty");
	if (!is_word(v))
		return bad(p, v, "is not printable ASCII without spaces");
	if (star && strchr(star + 1, '*'))
		return bad(p, v, "has more than one '*'");
	return 1;
}

/* A command name as the kernel keeps it, in 16 bytes with the NUL. */
static int comm_length(struct config_parse *p, const char *v, uint64_t n)
{
	(void)n;
	if (!*v || strlen(v) > 15)
		return bad(p, v, "is not a command name (1-15 bytes, as in /proc/PID/comm)");
	return 1;
}

/* sun_path is 108 bytes with its NUL. */
static int unix_path_length(struct config_parse *p, const char *v, uint64_t n)
{
	(void)n;
	if (strlen(v) > 107)
		return bad(p, v, "is longer than 107 bytes (the limit of a Unix socket path)");
	return 1;
}

/* ---- the table ---- */

/* Fluent Bit's spellings of a boolean. */
static const struct config_choice booleans[] = {
	{"on", 1}, {"off", 0}, {"true", 1}, {"false", 0}, {"yes", 1}, {"no", 0}, {"1", 1}, {"0", 0}, {0},
};
static const struct config_choice levels[] = {
	{"error", LOG_LVL_ERROR}, {"warn", LOG_LVL_WARN}, {"info", LOG_LVL_INFO}, {"debug", LOG_LVL_DEBUG}, {0},
};
static const struct config_choice inputs[] = {{"ebpf", 0}, {0}};
static const struct config_choice outputs[] = {{"stdout", OUTPUT_STDOUT}, {"forward", OUTPUT_FORWARD}, {0}};
/* "off" as out_forward users write it. */
static const struct config_choice compressions[] = {{"none", 0}, {"gzip", 1}, {"off", 0}, {0}};

static const struct config_key keys[] = {
	{CONFIG_SERVICE, "User", CONFIG_WORD, "ebpf-forward", FIELD(user), .what = "a user name",
	 .help = "account to run as once the traces are attached (nobody if the default one is missing)"},
	{CONFIG_SERVICE, "Group", CONFIG_WORD, "(the user's)", FIELD(group), .what = "a group name",
	 .help = "primary group to run as, e.g. Fluent Bit's to reach its socket"},
	{CONFIG_SERVICE, "Log_Level", CONFIG_ENUM, "info", FIELD(log_level), .choices = levels,
	 .what = "a level (error, warn, info or debug)", .help = "least severe message logged"},
	{CONFIG_SERVICE, "Stats_Interval", CONFIG_UINT, "60", FIELD(stats_interval_s), 0, UINT_MAX,
	 "a number of seconds", "0 = off", .help = "seconds between per-trace counter lines in the log"},
	{CONFIG_SERVICE, "Metrics_Records", CONFIG_BOOL, "on", FIELD(metrics_records),
	 .help = "at every Stats_Interval also send the counters as records"},

	{CONFIG_INPUT, "Name", CONFIG_ENUM, "ebpf", .choices = inputs, .what = "an input (ebpf is the only one)",
	 .help = "the only input; may be left out"},
	{CONFIG_INPUT, "Trace", CONFIG_LIST, "(required)", .check = trace_add,
	 .help = "a trace to load, exec or trace_exec; repeat the key for each (see --list-traces)"},
	/* The kernel caps a ring near 1 GiB (RINGBUF_MAX_DATA_SZ), and libbpf takes a u32. */
	{CONFIG_INPUT, "Ringbuf_Size", CONFIG_SIZE, "16M", FIELD(trace.ringbuf_size), 4 * KIB, 1 * GIB,
	 .check = ringbuf_shape, .help = "ring buffer per trace: a power of two, a multiple of the page size"},
	/* No process id is above PID_MAX_LIMIT on 64-bit Linux. */
	{CONFIG_INPUT, "Pid", CONFIG_UINT, "0", FIELD(trace.filter_pid), 0, 4194304, "a process id", "0 = all",
	 .help = "only events of this process"},
	/* (uid_t)-1 is no user; the default is every user. */
	{CONFIG_INPUT, "Uid", CONFIG_UINT, "(all)", FIELD(trace.filter_uid), 0, UINT32_MAX - 1, "a user id",
	 .help = "only events of this user"},
	{CONFIG_INPUT, "Libc_Path", CONFIG_PATH, "(found at run time)", FIELD(trace.libc_path),
	 .help = "the libc the malloc uprobes attach to"},
	{CONFIG_INPUT, "Poll_Ms", CONFIG_UINT, "25", FIELD(trace.poll_ms), 0, 1000, "a number of milliseconds",
	 "0 = wake on every event", .help = "while events flow, the rings are read this often"},
	{CONFIG_INPUT, "Cgroup", CONFIG_PATH, "(all)", FIELD(trace.cgroup_path),
	 .help = "only tasks in this cgroup v2 directory or below it (a pod's, a service's)"},
	{CONFIG_INPUT, "Comm", CONFIG_TEXT, "(all)", FIELD(trace.filter_comm), .check = comm_length,
	 .help = "only tasks with this command name (1-15 bytes)"},
	{CONFIG_INPUT, "Mount_Ns", CONFIG_UINT, "(all)", FIELD(trace.filter_mntns), 1, UINT32_MAX,
	 "a mount namespace", "its inode number, as readlink /proc/PID/ns/mnt shows", .no_range = true,
	 .wrap = "mnt:[", .help = "only this mount namespace (a container): N or mnt:[N]"},

	{CONFIG_OUTPUT, "Name", CONFIG_ENUM, "(required)", FIELD(output), .choices = outputs,
	 .what = "an output (stdout or forward)", .help = "stdout (JSON lines) or forward (Fluent Forward)"},
	{CONFIG_OUTPUT, "Tag", CONFIG_TEXT, "ebpf", FIELD(tag), .check = tag_shape,
	 .help = "tag of every record; one '*' is replaced by the event type"},
	{CONFIG_OUTPUT, "Host", CONFIG_WORD, "127.0.0.1", FIELD(host), .what = "a host name or address",
	 .forward_only = true, .help = "Fluent Bit's forward input over TCP"},
	{CONFIG_OUTPUT, "Port", CONFIG_UINT, "24224", FIELD(port), 1, 65535, "a port", .forward_only = true,
	 .help = "its TCP port"},
	{CONFIG_OUTPUT, "Unix_Path", CONFIG_PATH, "(none: TCP)", FIELD(unix_path), .check = unix_path_length,
	 .forward_only = true, .help = "its Unix socket instead of TCP"},
	/* The top is only there to keep the queue's arithmetic far from overflow. */
	{CONFIG_OUTPUT, "Buffer_Limit", CONFIG_SIZE, "64M", FIELD(buffer_limit), 1 * MIB, 1024 * GIB,
	 .forward_only = true, .help = "bytes held while Fluent Bit is away; beyond, the oldest are dropped"},
	/* Fluent Bit's in_forward closes the connection on a frame above 6,144,000 bytes. */
	{CONFIG_OUTPUT, "Frame_Size", CONFIG_SIZE, "1M", FIELD(frame_size), 4 * KIB, 4 * MIB,
	 .forward_only = true, .help = "a frame is sent once it is this big"},
	{CONFIG_OUTPUT, "Flush_Ms", CONFIG_UINT, "50", FIELD(flush_ms), 1, 60000, "a number of milliseconds",
	 .forward_only = true, .help = "...or this long after its first record"},
	{CONFIG_OUTPUT, "Require_Ack_Response", CONFIG_BOOL, "on", FIELD(require_ack), .forward_only = true,
	 .help = "keep each frame until Fluent Bit acks it; send it again after a reconnect"},
	{CONFIG_OUTPUT, "Compress", CONFIG_ENUM, "none", FIELD(compress_gzip), .choices = compressions,
	 .what = "a compression (gzip or none)", .forward_only = true,
	 .help = "gzip: CompressedPackedForward, for a receiver across a network"},
};

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))
_Static_assert(KEY_COUNT <= CONFIG_KEYS_MAX, "raise CONFIG_KEYS_MAX");

const struct config_key *config_keys(size_t *n)
{
	*n = KEY_COUNT;
	return keys;
}

const char *config_section_name(enum config_section s)
{
	static const char *const names[CONFIG_SECTIONS] = {"SERVICE", "INPUT", "OUTPUT"};

	return s < CONFIG_SECTIONS ? names[s] : "?";
}

const struct config_key *config_key_find(int s, const char *name)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		if ((int)keys[i].section == s && strcasecmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/* ---- the generic setters: one per type, the row gives the limits and the words ---- */

/* Plain decimal (no sign, spaces or 0x) up to end; with units, K, M or G (x1024) may follow, then B. */
static bool parse_number(const char *s, const char *end, bool with_units, uint64_t *out)
{
	const char *u;
	char *e;

	errno = 0;
	*out = isdigit((unsigned char)*s) ? strtoull(s, &e, 10) : 0;
	if (!isdigit((unsigned char)*s) || errno)
		return false;
	if (with_units && e < end && (u = strchr(units, toupper((unsigned char)*e)))) {
		if (*out > UINT64_MAX >> (10 * (u - units + 1)))
			return false;
		*out <<= 10 * (u - units + 1);
		e += 1 + (e + 1 < end && toupper((unsigned char)e[1]) == 'B');
	}
	return e == end;
}

/* 4096 -> "4K", 1048576 -> "1M": how sizes read in messages and help. */
static const char *size_str(char *buf, size_t len, uint64_t v)
{
	int shift = 30;

	while (shift && (!v || v % (1ull << shift)))
		shift -= 10;
	if (shift)
		snprintf(buf, len, "%llu%c", (unsigned long long)(v >> shift), units[shift / 10 - 1]);
	else
		snprintf(buf, len, "%llu", (unsigned long long)v);
	return buf;
}

static int get_uint(struct config_parse *p, const struct config_key *k, const char *v, uint64_t *n)
{
	size_t len = strlen(v), wl = k->wrap ? strlen(k->wrap) : 0;
	bool wrapped = wl && len > wl && strncmp(v, k->wrap, wl) == 0 && v[len - 1] == ']';

	if (parse_number(wrapped ? v + wl : v, v + len - wrapped, false, n) && *n >= k->min && *n <= k->max)
		return 1;
	if (k->no_range)
		return bad(p, v, "is not %s (%s)", k->what, k->note);
	return bad(p, v, "is not %s (%llu-%llu%s%s)", k->what, (unsigned long long)k->min,
		   (unsigned long long)k->max, k->note ? ", " : "", k->note ? k->note : "");
}

static int get_size(struct config_parse *p, const struct config_key *k, const char *v, uint64_t *n)
{
	char lo[32], hi[32];

	if (!parse_number(v, v + strlen(v), true, n))
		return bad(p, v, "is not a size (bytes, or a number with K, M or G)");
	if (*n < k->min || *n > k->max)
		return bad(p, v, "is out of range (%s-%s)", size_str(lo, sizeof(lo), k->min),
			   size_str(hi, sizeof(hi), k->max));
	return 1;
}

static int get_enum(struct config_parse *p, const struct config_choice *choices, const char *what, const char *v,
		    uint64_t *n)
{
	for (const struct config_choice *c = choices; c->name; c++) {
		if (strcasecmp(v, c->name) == 0) {
			*n = c->value;
			return 1;
		}
	}
	return bad(p, v, "is not %s", what);
}

/* A number into a field of 1, 2, 4 or 8 bytes (bool, uint16_t, unsigned or enum, uint64_t or int64_t). */
static void store(void *field, size_t size, uint64_t n)
{
	uint8_t u8 = (uint8_t)n;
	uint16_t u16 = (uint16_t)n;
	uint32_t u32 = (uint32_t)n;

	memcpy(field, size == 1 ? (void *)&u8 : size == 2 ? (void *)&u16 : size == 4 ? (void *)&u32 : (void *)&n, size);
}

int config_set(struct config_parse *p, const struct config_key *k, const char *v)
{
	uint64_t n = 0;
	int ok = 1;

	p->key = k;
	switch (k->type) {
	case CONFIG_BOOL: ok = get_enum(p, booleans, "a boolean (on/off, true/false, yes/no, 1/0)", v, &n); break;
	case CONFIG_UINT: ok = get_uint(p, k, v, &n); break;
	case CONFIG_SIZE: ok = get_size(p, k, v, &n); break;
	case CONFIG_ENUM: ok = get_enum(p, k->choices, k->what, v, &n); break;
	case CONFIG_WORD: ok = is_word(v) || bad(p, v, "is not %s", k->what); break;
	case CONFIG_PATH: ok = v[0] == '/' || bad(p, v, "is not an absolute path"); break;
	case CONFIG_TEXT: case CONFIG_LIST: break;
	}
	if (!ok || (k->check && !k->check(p, v, n)))
		return 0;
	if (k->size && k->type < CONFIG_WORD)
		store((char *)p->cfg + k->offset, k->size, n);
	else if (k->size && strlen(v) >= k->size)
		return bad(p, v, "is longer than %zu bytes", k->size - 1);
	else if (k->size)
		memcpy((char *)p->cfg + k->offset, v, strlen(v) + 1);
	return 1;
}

int config_apply_defaults(struct config_parse *p)
{
	memset(p->cfg, 0, sizeof(*p->cfg));
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (keys[i].def[0] != '(' && !config_set(p, &keys[i], keys[i].def))
			return 0;
	/* Every user: (uid_t)-1 is no user, so this default has no spelling the setter could read. */
	p->cfg->trace.filter_uid = -1;
	return 1;
}

void config_defaults(struct config *cfg)
{
	struct config_parse p = {.cfg = cfg, .name = "(defaults)", .section = -1};

	config_apply_defaults(&p);
}

/* ---- --help-config ---- */

int config_help(FILE *f)
{
	static const char *const plain[] = {
		[CONFIG_BOOL] = "on/off", [CONFIG_WORD] = "word", [CONFIG_PATH] = "absolute path",
		[CONFIG_TEXT] = "text", [CONFIG_LIST] = "name, repeated", [CONFIG_UINT] = "number",
	};
	char type[128], lo[32], hi[32];

	for (int s = 0; s < CONFIG_SECTIONS; s++) {
		fprintf(f, "%s[%s]\n", s ? "\n" : "", config_section_name((enum config_section)s));
		for (const struct config_key *k = keys; k < keys + KEY_COUNT; k++) {
			size_t o = 0;

			if ((int)k->section != s)
				continue;
			if (k->type == CONFIG_UINT && !k->no_range)
				snprintf(type, sizeof(type), "number %llu-%llu", (unsigned long long)k->min,
					 (unsigned long long)k->max);
			else if (k->type == CONFIG_SIZE)
				snprintf(type, sizeof(type), "size %s-%s", size_str(lo, sizeof(lo), k->min),
					 size_str(hi, sizeof(hi), k->max));
			else if (k->type != CONFIG_ENUM)
				snprintf(type, sizeof(type), "%s", plain[k->type]);
			for (const struct config_choice *c = k->choices; c && c->name && o < sizeof(type); c++)
				o += (size_t)snprintf(type + o, sizeof(type) - o, "%s%s", o ? "|" : "", c->name);
			fprintf(f, "  %-22s %-26s default: %s\n  %-22s %s%s\n", k->name, type, k->def, "", k->help,
				k->forward_only ? " (only for Name forward)" : "");
		}
	}
	return ferror(f) ? -1 : 0;
}
