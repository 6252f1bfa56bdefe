/* config.c: the table of every configuration key, the generic setters that read its rows, and their errors. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_parse.h"
#include "events.h"
#include "trace_list.h"

/* Escapes quotes, backslashes and non-printable bytes: a value of binary junk still gives a one-line message. */
const char *config_quote(char *out, size_t outlen, const char *s)
{
	size_t o = 0;

	for (const unsigned char *c = (const unsigned char *)s; *c && o + 8 < outlen; c++) {
		if (*c == '"' || *c == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\%c", *c);
		else if (*c < 0x20 || *c >= 0x7f)
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", *c);
		else
			out[o++] = (char)*c;
		if (c[1] && o + 8 >= outlen)
			o += (size_t)snprintf(out + o, outlen - o, "...");
	}
	out[o] = '\0';
	return out;
}

/*
 * "-t exec": a quick-mode argument as the user typed it, its value quoted as messages quote; a long one
 * cut with "...", since a message about its value quotes it again, and the reason must still fit.
 */
static const char *arg_str(const struct config_arg *a, char *buf, size_t len)
{
	char q[128];

	snprintf(buf, len, "-%c %s", a->opt, config_quote(q, sizeof(q), a->value));
	return buf;
}

const char *config_origin(const struct config *cfg, int line, char *buf, size_t len)
{
	if (cfg->args && line > 0 && (size_t)line <= cfg->arg_count)
		return arg_str(&cfg->args[line - 1], buf, len);
	snprintf(buf, len, "%s:%d", cfg->path ? cfg->path : "(config)", line);
	return buf;
}

const char *config_where(const struct config_parse *p, int line, bool preposition, char *buf, size_t len)
{
	char arg[1100];

	if (p->cfg->args)
		snprintf(buf, len, "%s%s", preposition ? "as " : "", config_origin(p->cfg, line, arg, sizeof(arg)));
	else
		snprintf(buf, len, "%sline %d", preposition ? "on " : "", line);
	return buf;
}

int config_fail(struct config_parse *p, int line, const char *fmt, ...)
{
	char msg[2048], where[1100];
	va_list ap;

	if (p->failed)
		return 0;
	p->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* quick mode: a "line" is an argument, named as the user typed it */
	if (p->err && p->errlen && line > 0 && p->cfg && p->cfg->args)
		snprintf(p->err, p->errlen, "%s: %s", config_origin(p->cfg, line, where, sizeof(where)), msg);
	else if (p->err && p->errlen && line > 0)
		snprintf(p->err, p->errlen, "%s:%d: %s", p->name, line, msg);
	else if (p->err && p->errlen)
		snprintf(p->err, p->errlen, "%s: %s", p->name, msg);
	return 0;
}

#define KIB 1024ull
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)

/* Where a key's value lands: offset and size of a field of struct config (OFIELD: of the section's output). */
#define FIELD(f) .offset = offsetof(struct config, f), .size = sizeof(((struct config *)0)->f)
#define OFIELD(f) .offset = offsetof(struct config_output, f), .size = sizeof(((struct config_output *)0)->f)

static const char *const units[] = {"", "K", "M", "G"}; /* by power of 1024 */

/* An error about the value of the key being set: Key: "value" why. */
__attribute__((format(printf, 3, 4))) static int bad(struct config_parse *p, const char *value, const char *fmt, ...)
{
	char why[256], q[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return config_fail(p, p->line, "%s: \"%s\" %s", p->key->name, config_quote(q, sizeof(q), value), why);
}

/* Non-empty, printable ASCII, no spaces: what a user name, host or tag may look like. */
static bool is_word(const char *s)
{
	const unsigned char *c = (const unsigned char *)s;

	while (*c > 0x20 && *c < 0x7f)
		c++;
	return *s && !*c;
}

/* The build's traces (trace_list.h, not the loader's registry), also by in_ebpf's names "trace_exec"...;
 * each is taken once, so they always fit in CONFIG_MAX_TRACES. */
#define TRACE_ID(T) TRACE_ID_##T,
enum { TRACE_LIST(TRACE_ID) };
#define TRACE_CHOICES(T) {#T, TRACE_ID_##T}, {"trace_" #T, TRACE_ID_##T},
static const struct config_choice trace_names[] = {TRACE_LIST(TRACE_CHOICES) {0}};
_Static_assert(sizeof(trace_names) / sizeof(trace_names[0]) / 2 <= CONFIG_MAX_TRACES, "raise CONFIG_MAX_TRACES");

/* Each trace once, by its canonical name (its first spelling above). */
static int trace_add(struct config_parse *p, const char *v, uint64_t n)
{
	struct config *cfg = p->cfg;
	const char *canon = trace_names[2 * n].name;
	char where[1200];

	for (unsigned i = 0; i < cfg->trace_count; i++)
		if (strcmp(cfg->traces[i], canon) == 0)
			return bad(p, v, "is listed twice (first %s)", config_where(p, cfg->trace_line[i], true, where, sizeof(where)));
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

/* Libraries besides the system's, up to TRACE_OPENSSL_PATHS; the loader refuses one that is not there. */
static int openssl_path_add(struct config_parse *p, const char *v, uint64_t n __attribute__((unused)))
{
	struct trace_opts *o = &p->cfg->trace;

	if (o->openssl_path_count == TRACE_OPENSSL_PATHS)
		return bad(p, v, "is one path too many (at most %d)", TRACE_OPENSSL_PATHS);
	snprintf(o->openssl_paths[o->openssl_path_count++], TRACE_PATH_MAX, "%s", v);
	return 1;
}

/* The HTTP server binds a numeric address: a name would need the resolver at start-up and could mean several. */
static int listen_address(struct config_parse *p, const char *v, uint64_t n __attribute__((unused)))
{
	unsigned char a[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, v, a) != 1 && inet_pton(AF_INET6, v, a) != 1)
		return bad(p, v, "is not an IPv4 or IPv6 address (127.0.0.1, ::1, 0.0.0.0 for all)");
	return 1;
}

/* The current [OUTPUT]: its rows land there. */
static struct config_output *output_of(struct config_parse *p)
{
	return &p->cfg->outputs[p->cfg->output_count ? p->cfg->output_count - 1 : 0];
}

/* Host (name:port, [v6]:port, or a name or address) and Unix_Path repeat: the receivers, in line order. */
static int receiver_add(struct config_parse *p, const char *v, uint64_t n __attribute__((unused)))
{
	struct config_output *o = output_of(p);
	struct config_receiver *r = &o->receivers[o->receiver_count];
	const char *colon = strrchr(v, ':'), *host = v;
	size_t hlen = strlen(v);
	char *end;

	if (o->receiver_count == CONFIG_MAX_RECEIVERS)
		return bad(p, v, "is one receiver too many (at most %d)", CONFIG_MAX_RECEIVERS);
	memset(r, 0, sizeof(*r));
	r->line = p->line;
	if (strcmp(p->key->name, "Unix_Path") == 0) {
		snprintf(r->unix_path, sizeof(r->unix_path), "%s", v);
		o->receiver_count++;
		return 1;
	}
	/* a port after the last ':' of a name (one colon) or of a bracketed IPv6 address */
	if (colon && (colon == strchr(v, ':') || (v[0] == '[' && colon[-1] == ']'))) {
		unsigned long port = strtoul(colon + 1, &end, 10);

		if (!isdigit((unsigned char)colon[1]) || *end || port < 1 || port > 65535)
			return bad(p, v, "has no port (1-65535) after its ':'");
		r->port = (uint16_t)port;
		hlen = (size_t)(colon - v);
		if (v[0] == '[')
			host++, hlen -= 2;
	}
	if (!hlen || hlen >= sizeof(r->host))
		return bad(p, v, "is not a host name or address");
	memcpy(r->host, host, hlen);
	o->receiver_count++;
	return 1;
}

/* Shared_Key and Password written in the file: the file itself then must keep them (see config_load). */
static int secret_inline(struct config_parse *p, const char *v, uint64_t n __attribute__((unused)))
{
	struct config_output *o = output_of(p);

	if (!*v)
		return bad(p, v, "is empty");
	if (!o->secret_line)
		o->secret_line = p->line;
	return 1;
}

/* A file that holds a secret: a regular file of root's that no one else can read, or it is no secret. */
static int root_only(struct config_parse *p, const char *v, int fd)
{
	struct stat st;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 077))
		return bad(p, v, "must be a regular file of root's that no one else can read (mode %04o, uid %u): "
			   "chown root, chmod 600", (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
	return 1;
}

/* tls.key_file: read by OpenSSL at start, as root; held to the rule of every secret file. */
static int key_file(struct config_parse *p, const char *v, uint64_t n __attribute__((unused)))
{
	int fd = open(v, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), ok;

	if (fd < 0)
		return bad(p, v, "cannot be opened: %s", strerror(errno));
	ok = root_only(p, v, fd);
	close(fd);
	return ok;
}

/* tls.ca_file, tls.crt_file (a file) and tls.ca_path (a directory): there now, so the error is the file's line. */
static int tls_input(struct config_parse *p, const char *v, uint64_t n __attribute__((unused)))
{
	bool dir = strcmp(p->key->name, "tls.ca_path") == 0;
	struct stat st;

	if (stat(v, &st))
		return bad(p, v, "cannot be read: %s", strerror(errno));
	if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
		return bad(p, v, "is not a %s", dir ? "directory" : "regular file");
	return 1;
}

/*
 * Shared_Key_File, Password_File: the secret is the file's first line. Read
 * here, as root: it must be a regular file of root's that no one else can
 * read, or the secret is not one.
 */
static int secret_file(struct config_parse *p, const char *v, uint64_t n __attribute__((unused)))
{
	struct config_output *o = output_of(p);
	bool key = strcmp(p->key->name, "Shared_Key_File") == 0;
	char *dst = key ? o->shared_key : o->password;
	int fd = open(v, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t len;

	if (fd < 0)
		return bad(p, v, "cannot be opened: %s", strerror(errno));
	if (!root_only(p, v, fd)) {
		close(fd);
		return 0;
	}
	len = read(fd, dst, CONFIG_SECRET_MAX);
	close(fd);
	if (len < 0 || len >= CONFIG_SECRET_MAX)
		return bad(p, v, "cannot be read, or is longer than %d bytes", CONFIG_SECRET_MAX - 1);
	dst[len] = '\0';
	dst[strcspn(dst, "\r\n")] = '\0';
	if (!*dst)
		return bad(p, v, "holds no secret (its first line is empty)");
	return 1;
}

/* One '*' is replaced by the event type; a second has no meaning. */
static int tag_shape(struct config_parse *p, const char *v, uint64_t n __attribute__((unused)))
{
	if (!*v)
		return bad(p, v, "is empty");
	if (!is_word(v))
		return bad(p, v, "is not printable ASCII without spaces");
	if (strchr(v, '*') != strrchr(v, '*'))
		return bad(p, v, "has more than one '*'");
	return 1;
}

/* Fluent Bit's spellings of a boolean. */
static const struct config_choice booleans[] = {{"on", 1}, {"off", 0}, {"true", 1}, {"false", 0}, {"yes", 1},
						{"no", 0}, {"1", 1}, {"0", 0}, {0}};
static const struct config_choice levels[] = {{"error", LOG_LVL_ERROR}, {"warn", LOG_LVL_WARN},
					      {"info", LOG_LVL_INFO}, {"debug", LOG_LVL_DEBUG}, {0}};
static const struct config_choice inputs[] = {{"ebpf", 0}, {0}};
static const struct config_choice outputs[] = {{"stdout", OUTPUT_STDOUT}, {"forward", OUTPUT_FORWARD}, {0}};
/* "off" as out_forward users write it. */
static const struct config_choice compressions[] = {{"none", 0}, {"gzip", 1}, {"off", 0}, {0}};
static const struct config_choice syncs[] = {{"normal", 0}, {"full", 1}, {0}};

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
	{CONFIG_SERVICE, "Storage_Path", CONFIG_PATH, "(none: memory only)", FIELD(storage_path),
	 .help = "spool directory: a forward output keeps frames no receiver takes in DIR/outputN"},
	{CONFIG_SERVICE, "Storage_Limit", CONFIG_SIZE, "1G", FIELD(storage_limit), 1 * MIB, 1024 * GIB,
	 .help = "spool bytes per output; beyond, new frames are dropped and counted"},
	{CONFIG_SERVICE, "Storage_Sync", CONFIG_ENUM, "normal", FIELD(storage_sync_full), .choices = syncs,
	 .what = "a sync mode (normal or full)", .help = "normal: synced in batches; full: every frame (power loss)"},
	{CONFIG_SERVICE, "HTTP_Server", CONFIG_BOOL, "off", FIELD(http_server),
	 .help = "serve Prometheus metrics at /metrics and a health check at /api/v1/health"},
	{CONFIG_SERVICE, "HTTP_Listen", CONFIG_WORD, "127.0.0.1", FIELD(http_listen), .check = listen_address,
	 .what = "an IPv4 or IPv6 address", .help = "the HTTP server's address, numeric (0.0.0.0 or :: for all)"},
	/* Not Fluent Bit's 2020, which may run beside it; outside Prometheus's exporter range, which is full. */
	{CONFIG_SERVICE, "HTTP_Port", CONFIG_UINT, "8424", FIELD(http_port), 1, 65535, "a port",
	 .help = "the HTTP server's TCP port"},
	{CONFIG_INPUT, "Name", CONFIG_ENUM, "ebpf", .choices = inputs, .what = "an input (ebpf is the only one)",
	 .help = "the only input; may be left out"},
	{CONFIG_INPUT, "Trace", CONFIG_LIST, "(required)", .choices = trace_names, .check = trace_add, .repeats = true,
	 .what = "a trace (see ebpf-forward --list-traces)", .help = "a trace to load, exec or trace_exec; repeatable"},
	/* The kernel caps a ring near 1 GiB (RINGBUF_MAX_DATA_SZ), and libbpf takes a u32. */
	{CONFIG_INPUT, "Ringbuf_Size", CONFIG_SIZE, "16M", FIELD(trace.ringbuf_size), 4 * KIB, 1 * GIB,
	 .check = ringbuf_shape, .help = "ring buffer per trace: a power of two, a multiple of the page size"},
	{CONFIG_INPUT, "Pid", CONFIG_UINT, "0", FIELD(trace.filter_pid), 0, 4194304 /* PID_MAX_LIMIT */, "a process id",
	 "0 = all", .help = "only events of this process"},
	{CONFIG_INPUT, "Uid", CONFIG_UINT, "(all)", FIELD(trace.filter_uid), 0, UINT32_MAX - 1 /* (uid_t)-1: no user */,
	 "a user id", .help = "only events of this user"},
	{CONFIG_INPUT, "Libc_Path", CONFIG_PATH, "(found at run time)", FIELD(trace.libc_path),
	 .help = "the libc the malloc uprobes attach to"},
	{CONFIG_INPUT, "Poll_Ms", CONFIG_UINT, "25", FIELD(trace.poll_ms), 0, 1000, "a number of milliseconds",
	 "0 = wake on every event", .help = "while events flow, the rings are read this often"},
	{CONFIG_INPUT, "Cgroup", CONFIG_PATH, "(all)", FIELD(trace.cgroup_path),
	 .help = "only tasks in this cgroup v2 directory or below it (a pod's, a service's)"},
	{CONFIG_INPUT, "Comm", CONFIG_TEXT, "(all)", FIELD(trace.filter_comm), 1, 15 /* the kernel's, NUL included: 16 */,
	 "a command name", "as in /proc/PID/comm", .help = "only tasks with this command name"},
	{CONFIG_INPUT, "Mount_Ns", CONFIG_UINT, "(all)", FIELD(trace.filter_mntns), 1, UINT32_MAX,
	 "a mount namespace", "its inode number, as readlink /proc/PID/ns/mnt shows", .no_range = true,
	 .wrap = "mnt:[", .help = "only this mount namespace (a container): N or mnt:[N]"},
	{CONFIG_INPUT, "Sched_Min_Latency", CONFIG_DURATION, "0", FIELD(trace.sched_min_latency_ns), 0, 60000000000ull,
	 "a duration", "0, or a number with ns, us, ms or s, at most 60s", .no_range = true,
	 .help = "sched: only switches whose task waited at least this long to run (0 = all; 1ms advised)"},
	{CONFIG_INPUT, "Vfs_Resolved_Path", CONFIG_BOOL, "off", FIELD(trace.vfs_resolved_path),
	 .help = "vfs: add resolved_path, the opened file's absolute path walked from the kernel's file"},
	{CONFIG_INPUT, "Exec_Args_Max", CONFIG_SIZE, "4K", FIELD(trace.exec_args_max), 0, EV_ARGS_AREA_MAX,
	 .help = "exec: bytes of the command line the exit record's args carries, read in one copy (0 = no args)"},
	{CONFIG_INPUT, "OpenSSL_Path", CONFIG_PATH, "(none)", .check = openssl_path_add, .repeats = true,
	 .help = "openssl: a libssl to probe besides the system's (a container's, a vendored copy)"},
	{CONFIG_OUTPUT, "Name", CONFIG_ENUM, "(required)", OFIELD(output), .choices = outputs,
	 .what = "an output (stdout or forward)", .help = "stdout (JSON lines) or forward (Fluent Forward)"},
	{CONFIG_OUTPUT, "Match", CONFIG_WORD, "*", OFIELD(match), .what = "a tag pattern",
	 .help = "records whose ebpf.<event_type> matches go here; '*' matches any run (ebpf.*, ebpf.execve)"},
	{CONFIG_OUTPUT, "Tag", CONFIG_TEXT, "ebpf", OFIELD(tag), .check = tag_shape,
	 .help = "tag of every record; one '*' is replaced by the event type"},
	{CONFIG_OUTPUT, "Host", CONFIG_WORD, "(127.0.0.1)", .check = receiver_add, .repeats = true,
	 .what = "a host name or address", .forward_only = true,
	 .help = "a receiver over TCP, NAME or NAME:PORT; several: tried in line order, the first preferred"},
	{CONFIG_OUTPUT, "Port", CONFIG_UINT, "24224", OFIELD(port), 1, 65535, "a port", .forward_only = true,
	 .help = "the TCP port of every Host without one"},
	{CONFIG_OUTPUT, "Unix_Path", CONFIG_PATH, "(none)", .check = receiver_add, .repeats = true,
	 .max = CONFIG_UNIX_PATH_MAX - 1, .note = "the limit of a Unix socket path", .forward_only = true,
	 .help = "a receiver on a Unix socket; repeatable, in line order with the Hosts"},
	/* The top is only there to keep the queue's arithmetic far from overflow. */
	{CONFIG_OUTPUT, "Buffer_Limit", CONFIG_SIZE, "64M", OFIELD(buffer_limit), 1 * MIB, 1024 * GIB,
	 .forward_only = true, .help = "memory frames may hold; beyond, the spool, or the oldest not sent are dropped"},
	/* Fluent Bit's in_forward closes the connection on a frame above 6,144,000 bytes. */
	{CONFIG_OUTPUT, "Frame_Size", CONFIG_SIZE, "1M", OFIELD(frame_size), 4 * KIB, 4 * MIB,
	 .forward_only = true, .help = "a frame is sent once it is this big"},
	{CONFIG_OUTPUT, "Flush_Ms", CONFIG_UINT, "50", OFIELD(flush_ms), 1, 60000, "a number of milliseconds",
	 .forward_only = true, .help = "...or this long after its first record"},
	{CONFIG_OUTPUT, "Require_Ack_Response", CONFIG_BOOL, "on", OFIELD(require_ack), .forward_only = true,
	 .help = "keep each frame until Fluent Bit acks it; send it again after a reconnect"},
	{CONFIG_OUTPUT, "Ack_Timeout", CONFIG_DURATION, "30s", OFIELD(ack_timeout_ns), 100000000ull, 3600000000000ull,
	 "a duration", "a number with ms or s, 100ms to 3600s", .no_range = true, .forward_only = true,
	 .help = "no ack this long: reconnect and resend; also TCP keepalive's and TCP_USER_TIMEOUT's bound"},
	{CONFIG_OUTPUT, "Unix_Peer_User", CONFIG_WORD, "(any)", OFIELD(unix_peer_user), .what = "a user",
	 .forward_only = true, .help = "a Unix socket must be this account's (Fluent Bit's), by SO_PEERCRED, or gets nothing"},
	{CONFIG_OUTPUT, "Shared_Key", CONFIG_TEXT, "(none)", OFIELD(shared_key), .check = secret_inline,
	 .forward_only = true, .help = "the handshake's key: nothing is sent to a receiver that does not know it"},
	{CONFIG_OUTPUT, "Shared_Key_File", CONFIG_PATH, "(none)", .check = secret_file, .forward_only = true,
	 .help = "the key as the first line of a file of root's that no one else can read"},
	{CONFIG_OUTPUT, "Self_Hostname", CONFIG_WORD, "localhost", OFIELD(self_hostname), .what = "a host name",
	 .forward_only = true, .help = "our name in the handshake"},
	{CONFIG_OUTPUT, "Username", CONFIG_WORD, "(none)", OFIELD(username), .what = "a user name",
	 .forward_only = true, .help = "for a receiver that asks for users (with Password)"},
	{CONFIG_OUTPUT, "Password", CONFIG_TEXT, "(none)", OFIELD(password), .check = secret_inline,
	 .forward_only = true, .help = "Username's password"},
	{CONFIG_OUTPUT, "Password_File", CONFIG_PATH, "(none)", .check = secret_file, .forward_only = true,
	 .help = "the password as the first line of a file of root's that no one else can read"},
	{CONFIG_OUTPUT, "tls", CONFIG_BOOL, "off", OFIELD(tls), .forward_only = true,
	 .help = "TLS to the TCP receivers (Unix sockets stay as they are)"},
	{CONFIG_OUTPUT, "tls.verify", CONFIG_BOOL, "on", OFIELD(tls_verify), .forward_only = true,
	 .help = "check the receiver's certificate: signed by a trusted CA, in date, for tls.vhost or the Host"},
	{CONFIG_OUTPUT, "tls.verify_hostname", CONFIG_BOOL, "on", OFIELD(tls_verify_hostname), .forward_only = true,
	 .help = "with tls.verify: the name too (off: any name, as Fluent Bit's default; not advised)"},
	{CONFIG_OUTPUT, "tls.ca_file", CONFIG_PATH, "(system store)", OFIELD(tls_ca_file), .check = tls_input,
	 .forward_only = true, .help = "PEM file of the CAs to trust instead of the system's"},
	{CONFIG_OUTPUT, "tls.ca_path", CONFIG_PATH, "(system store)", OFIELD(tls_ca_path), .check = tls_input,
	 .forward_only = true, .help = "directory of hashed CA certificates (c_rehash) to trust instead of the system's"},
	{CONFIG_OUTPUT, "tls.crt_file", CONFIG_PATH, "(none)", OFIELD(tls_crt_file), .check = tls_input,
	 .forward_only = true, .help = "our certificate (PEM, chain after it), for a receiver that asks for one"},
	{CONFIG_OUTPUT, "tls.key_file", CONFIG_PATH, "(none)", OFIELD(tls_key_file), .check = key_file,
	 .forward_only = true, .help = "its private key (PEM, unencrypted), a file of root's that no one else can read"},
	{CONFIG_OUTPUT, "tls.vhost", CONFIG_WORD, "(the Host)", OFIELD(tls_vhost), .what = "a host name",
	 .forward_only = true, .help = "the name sent (SNI) and required in the receiver's certificate"},
	{CONFIG_OUTPUT, "Compress", CONFIG_ENUM, "none", OFIELD(compress_gzip), .choices = compressions,
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

const char *const config_section_names[CONFIG_SECTIONS] = {"SERVICE", "INPUT", "OUTPUT"};

const struct config_key *config_key_find(int s, const char *name)
{
	for (const struct config_key *k = keys; k < keys + KEY_COUNT; k++)
		if ((int)k->section == s && strcasecmp(k->name, name) == 0)
			return k;
	return NULL;
}

/* "0-65535", for a size "4K-1G", for a text "1-15 bytes": a row's range as messages and --help-config say it. */
static const char *range_str(char *buf, size_t len, const struct config_key *k)
{
	uint64_t ends[2] = {k->min, k->max};
	size_t o = 0;

	for (int i = 0; i < 2; i++) {
		int unit = k->type == CONFIG_SIZE ? 3 : 0;

		while (unit && (!ends[i] || ends[i] % (1ull << (10 * unit))))
			unit--;
		o += (size_t)snprintf(buf + o, len - o, "%s%llu%s", i ? "-" : "", (unsigned long long)(ends[i] >> (10 * unit)),
				      units[unit]);
	}
	if (k->type >= CONFIG_WORD)
		snprintf(buf + o, len - o, " bytes");
	return buf;
}

/* "is not a port (1-65535)", "is not a number of seconds (0-4294967295, 0 = off)": the row's words and range. */
static int not_a(struct config_parse *p, const struct config_key *k, const char *v)
{
	char range[64] = "";

	if (!k->no_range)
		range_str(range, sizeof(range), k);
	return bad(p, v, "is not %s (%s%s%s)", k->what, range, *range && k->note ? ", " : "", k->note ? k->note : "");
}

static const struct {
	const char *unit;
	uint64_t ns;
} durations[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}};

/* Plain decimal (no sign, spaces or 0x) up to end; for a size, K, M or G (x1024) may follow, then B;
 * for a duration, a unit. */
static int get_number(struct config_parse *p, const struct config_key *k, const char *v, uint64_t *n)
{
	static const char suffixes[] = "KMG";
	size_t len = strlen(v), wl = k->wrap ? strlen(k->wrap) : 0;
	bool wrapped = wl && len > wl && strncmp(v, k->wrap, wl) == 0 && v[len - 1] == ']';
	const char *s = wrapped ? v + wl : v, *end = v + len - wrapped, *u;
	bool ok = isdigit((unsigned char)*s), unit = false;
	char *e = (char *)s, range[64];

	errno = 0;
	*n = ok ? strtoull(s, &e, 10) : 0;
	if (ok && k->type == CONFIG_SIZE && e < end && (u = strchr(suffixes, toupper((unsigned char)*e)))) {
		ok = *n <= UINT64_MAX >> (10 * (u - suffixes + 1));
		*n <<= 10 * (u - suffixes + 1);
		e += 1 + (e + 1 < end && toupper((unsigned char)e[1]) == 'B');
	}
	/* a duration has a unit, but for a bare 0 */
	for (int i = 0; ok && k->type == CONFIG_DURATION && e < end && i < 4; i++)
		if (strcmp(e, durations[i].unit) == 0) {
			ok = *n <= UINT64_MAX / durations[i].ns;
			*n *= durations[i].ns;
			e = (char *)end;
			unit = true;
		}
	ok = ok && !errno && e == end && (k->type != CONFIG_DURATION || unit || *n == 0);
	if (ok && *n >= k->min && *n <= k->max)
		return 1;
	if (k->type != CONFIG_SIZE)
		return not_a(p, k, v);
	if (!ok)
		return bad(p, v, "is not a size (bytes, or a number with K, M or G)");
	return bad(p, v, "is out of range (%s)", range_str(range, sizeof(range), k));
}

static int get_enum(struct config_parse *p, const struct config_choice *c, const char *what, const char *v, uint64_t *n)
{
	while (c->name && strcasecmp(v, c->name) != 0)
		c++;
	if (!c->name)
		return bad(p, v, "is not %s", what);
	*n = c->value;
	return 1;
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
	size_t len = strlen(v), longest = k->max ? k->max : k->size - 1;
	uint64_t n = 0;
	char *base;
	int ok = 1;

	p->key = k;
	switch (k->type) {
	case CONFIG_BOOL: ok = get_enum(p, booleans, "a boolean (on/off, true/false, yes/no, 1/0)", v, &n); break;
	case CONFIG_UINT: case CONFIG_SIZE: case CONFIG_DURATION: ok = get_number(p, k, v, &n); break;
	case CONFIG_ENUM: case CONFIG_LIST: ok = get_enum(p, k->choices, k->what, v, &n); break;
	case CONFIG_WORD: ok = is_word(v) || bad(p, v, "is not %s", k->what); break;
	case CONFIG_PATH: ok = v[0] == '/' || bad(p, v, "is not an absolute path"); break;
	/* A text's range is its length in bytes. */
	case CONFIG_TEXT: ok = !k->max || (len >= k->min && len <= k->max) || not_a(p, k, v); break;
	}
	/* A string is bounded by its row's max, with the note why, or else by its field; before a check keeps it. */
	if (ok && k->type >= CONFIG_WORD && (k->max || k->size) && len > longest)
		return bad(p, v, "is longer than %zu bytes%s%s%s", longest, k->note ? " (" : "", k->note ? k->note : "",
			   k->note ? ")" : "");
	if (!ok || (k->check && !k->check(p, v, n)))
		return 0;
	base = k->section == CONFIG_OUTPUT ? (char *)output_of(p) : (char *)p->cfg;
	if (k->size && k->type < CONFIG_WORD)
		store(base + k->offset, k->size, n);
	else if (k->size)
		memcpy(base + k->offset, v, len + 1);
	return 1;
}

/* The defaults of one section's rows; for [OUTPUT], into the output the parse is at. */
void config_section_defaults(struct config_parse *p, int section)
{
	int line = p->line;

	/* Read as a file's values are; a default the setter refuses fails the test that loads each one. */
	p->line = 0;
	for (const struct config_key *k = keys; k < keys + KEY_COUNT; k++)
		if ((int)k->section == section && k->def[0] != '(')
			config_set(p, k, k->def);
	p->line = line;
}

void config_defaults(struct config *cfg)
{
	struct config_parse p = {.cfg = cfg, .name = "(defaults)", .section = -1};

	memset(cfg, 0, sizeof(*cfg));
	for (int s = 0; s < CONFIG_SECTIONS; s++)
		config_section_defaults(&p, s);
	/* Every user: (uid_t)-1 is no user, so this default has no spelling the setter could read. */
	cfg->trace.filter_uid = -1;
}

/* "size 4K-1G", "error|warn|info|debug", "absolute path, at most 107 bytes, repeated": a row's type as
 * --help-config and the man page say it. */
const char *config_key_type(const struct config_key *k, char *buf, size_t len)
{
	/* By enum config_type; a range or the choices follow. */
	static const char *const names[] = {"on/off", "number", "size", "duration", "", "name", "word",
					    "absolute path", "text"};
	size_t o = (size_t)snprintf(buf, len, "%s", names[k->type]);

	if (o < len && k->max && !k->no_range) {
		/* a string's length from 0 is a bound, not a range */
		if (k->type >= CONFIG_WORD && !k->min)
			o += (size_t)snprintf(buf + o, len - o, ", at most %llu bytes", (unsigned long long)k->max);
		else {
			o += (size_t)snprintf(buf + o, len - o, " ");
			if (o < len)
				range_str(buf + o, len - o, k);
			o += strlen(buf + o);
		}
	}
	for (const struct config_choice *c = k->type == CONFIG_ENUM ? k->choices : NULL; c && c->name && o < len; c++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "|" : "", c->name);
	if (k->repeats && o < len)
		snprintf(buf + o, len - o, ", repeated");
	return buf;
}

/* --help-config: each key's name, type with its range or choices, default, and help line. */
int config_help(FILE *f)
{
	char type[256];

	for (int s = 0; s < CONFIG_SECTIONS; s++) {
		fprintf(f, "%s[%s]\n", s ? "\n" : "", config_section_names[s]);
		for (const struct config_key *k = keys; k < keys + KEY_COUNT; k++) {
			if ((int)k->section != s)
				continue;
			fprintf(f, "  %-22s %-26s default: %s\n  %-22s %s%s\n", k->name, config_key_type(k, type, sizeof(type)),
				k->def, "", k->help, k->forward_only ? " (only for Name forward)" : "");
		}
	}
	return ferror(f) ? -1 : 0;
}
