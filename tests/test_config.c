/* test_config.c: the configuration parser: shipped files, defaults, and every kind of bad input with its exact message. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "suite_run.h"

#ifndef SRC_DIR
#error "SRC_DIR must be defined to the source directory (-DSRC_DIR=\"...\")"
#endif

#define MINIMAL "[INPUT]\nTrace = exec\n[OUTPUT]\nName = stdout\n"

static struct config cfg;
static char err[2048];

static int load(const char *text)
{
	return config_load_string(&cfg, text, "t.conf", err, sizeof(err));
}

#define ck_ok(text)                                                          \
	do {                                                                 \
		int rc_ = load(text);                                        \
		ck_assert_msg(rc_ == 0, "unexpected error: %s", err);        \
	} while (0)

#define ck_error(text, msg)                                                  \
	do {                                                                 \
		ck_assert_int_eq(load(text), -1);                            \
		ck_assert_str_eq(err, msg);                                  \
	} while (0)

/* Writes len bytes to a fresh temporary file; returns its path (static buffer). */
static const char *temp_file(const char *data, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_config.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

/* Whole file into a malloc'd string. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void assert_defaults_except_input_output(const struct config *c)
{
	ck_assert_str_eq(c->user, "ebpf-forward");
	ck_assert(!c->user_set);
	ck_assert_int_eq(c->log_level, LOG_LVL_INFO);
	ck_assert_uint_eq(c->stats_interval_s, 60);
	ck_assert_uint_eq(c->trace.ringbuf_size, 16 << 20);
	ck_assert_uint_eq(c->trace.filter_pid, 0);
	ck_assert_int_eq(c->trace.filter_uid, -1);
	ck_assert_str_eq(c->trace.libc_path, "");
	ck_assert_str_eq(c->outputs[0].tag, "ebpf");
	ck_assert_uint_eq(c->outputs[0].buffer_limit, 64 << 20);
	ck_assert_uint_eq(c->outputs[0].frame_size, 1 << 20);
	ck_assert_uint_eq(c->outputs[0].flush_ms, 50);
	ck_assert(!c->http_server);
	ck_assert_str_eq(c->http_listen, "127.0.0.1");
	ck_assert_uint_eq(c->http_port, 8424);
}

/* ---- shipped files ---- */

START_TEST(quickstart_file)
{
	const char *path = SRC_DIR "/conf/quickstart.conf";

	ck_assert_msg(config_load(&cfg, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(cfg.path, path);
	ck_assert_int_eq(cfg.outputs[0].output, OUTPUT_STDOUT);
	ck_assert_uint_eq(cfg.trace_count, 4);
	ck_assert_str_eq(cfg.traces[0], "exec");
	ck_assert_str_eq(cfg.traces[1], "vfs");
	ck_assert_str_eq(cfg.traces[2], "signal");
	ck_assert_str_eq(cfg.traces[3], "bind");
	ck_assert_int_eq(cfg.log_level, LOG_LVL_INFO);
	assert_defaults_except_input_output(&cfg);
}
END_TEST

START_TEST(reference_file)
{
	ck_assert_msg(config_load(&cfg, SRC_DIR "/conf/ebpf-forward.conf", err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cfg.outputs[0].output, OUTPUT_FORWARD);
	/* one receiver, the Unix socket (Host and Unix_Path are a list now) */
	ck_assert_uint_eq(cfg.output_count, 1);
	ck_assert_uint_eq(cfg.outputs[0].receiver_count, 1);
	ck_assert_str_eq(cfg.outputs[0].receivers[0].unix_path, "/run/fluent-bit/forward.sock");
	ck_assert_uint_eq(cfg.outputs[0].port, 24224);
	ck_assert_uint_eq(cfg.trace_count, 4);
	ck_assert_str_eq(cfg.traces[0], "exec");
	ck_assert_str_eq(cfg.traces[3], "bind");
	assert_defaults_except_input_output(&cfg);
}
END_TEST

/* Every key is documented, and each commented-out example is itself valid. */
START_TEST(reference_file_documents_every_key)
{
	static const char *const names[] = {
		"User", "Log_Level", "Stats_Interval", "Name", "Trace", "Ringbuf_Size", "Pid", "Uid",
		"Libc_Path", "Tag", "Host", "Port", "Unix_Path", "Buffer_Limit", "Frame_Size", "Flush_Ms",
		"Group", "Require_Ack_Response", "Poll_Ms", "Metrics_Records", "Compress", "Cgroup", "Comm", "Mount_Ns",
	};
	char *text = slurp(SRC_DIR "/conf/ebpf-forward.conf");
	char needle[64];
	int examples = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(needle, sizeof(needle), " %s = ", names[i]);
		ck_assert_msg(strstr(text, needle) != NULL, "%s is not in the reference file", names[i]);
	}
	for (char *line = text; *line; ) {
		char *eol = strchr(line, '\n');
		char *hash = line + strspn(line, " ");
		char key[32];
		int n = 0;

		if (!eol)
			break;
		/* "# Key = value", not prose: %n is only reached when " =" follows the key. */
		if (sscanf(hash, "# %31[A-Za-z_] =%n", key, &n) == 1 && n > 0) {
			size_t off = (size_t)(hash - text);

			text[off] = ' ';
			if (strcmp(key, "Port") == 0) {
				/* a Host beside the Unix socket is a second receiver; a Port alone means nothing */
				ck_assert_int_eq(load(text), -1);
				ck_assert_msg(strstr(err, "Unix_Path: not together with") != NULL, "%s", err);
			} else if (strcmp(key, "Shared_Key_File") == 0 || strcmp(key, "Password_File") == 0) {
				/* the example names a file of the installed system, not of this tree */
				ck_assert_int_eq(load(text), -1);
				ck_assert_msg(strstr(err, "cannot be opened") != NULL, "%s", err);
			} else if (strcmp(key, "Username") == 0) {
				ck_assert_int_eq(load(text), -1);
				ck_assert_msg(strstr(err, "needs a Shared_Key") != NULL, "%s", err);
			} else {
				ck_assert_msg(load(text) == 0, "uncommented %s: %s", key, err);
			}
			text[off] = '#';
			examples++;
		}
		line = eol + 1;
	}
	ck_assert_int_ge(examples, 14);
	free(text);
}
END_TEST

/* The text of section sec of a file: from the line "<open>SEC<close>" to the next line starting with open. */
static const char *section_of(const char *text, const char *open, const char *sec, const char *close, size_t *len)
{
	char head[64];
	const char *start, *end;

	snprintf(head, sizeof(head), "\n%s%s%s", open, sec, close);
	start = strstr(text, head);
	ck_assert_msg(start != NULL, "no %s in the file", head + 1);
	start += 1;
	snprintf(head, sizeof(head), "\n%s", open);
	end = strstr(start + 1, head);
	*len = end ? (size_t)(end - start) : strlen(start);
	return start;
}

/* Every key of the table is in the reference file, in its section, and in README's table, on its section's row. */
START_TEST(every_table_key_is_documented)
{
	char *conf = slurp(SRC_DIR "/conf/ebpf-forward.conf"), *readme = slurp(SRC_DIR "/README.md");
	const char *cfg_start = strstr(readme, "\n## Configuration\n"), *cfg_end;
	const struct config_key *keys;
	size_t n;

	ck_assert_ptr_nonnull(cfg_start);
	cfg_end = strstr(cfg_start + 1, "\n## ");
	ck_assert_ptr_nonnull(cfg_end);
	keys = config_keys(&n);
	ck_assert_uint_ge(n, 25);
	for (size_t i = 0; i < n; i++) {
		const char *sec = config_section_names[keys[i].section], *s, *row;
		char needle[64], *text;
		size_t len;
		bool found = false;

		s = section_of(conf, "[", sec, "]\n", &len);
		text = strndup(s, len);
		snprintf(needle, sizeof(needle), " %s = ", keys[i].name);
		ck_assert_msg(strstr(text, needle), "%s is not in [%s] of conf/ebpf-forward.conf", keys[i].name, sec);
		free(text);

		/* README rows read "| SECTION | `Key` | ..." or "| SECTION | `Key`, `Other` | ...". */
		snprintf(needle, sizeof(needle), "\n| %s | ", sec);
		snprintf(needle + 32, 32, "`%s`", keys[i].name);
		for (s = cfg_start; !found && (row = strstr(s, needle)) && row < cfg_end; s = row + 1) {
			const char *cell = row + strlen(needle), *bar = strchr(cell, '|');
			char *key_cell = strndup(cell, bar ? (size_t)(bar - cell) : strlen(cell));

			found = strstr(key_cell, needle + 32) != NULL;
			free(key_cell);
		}
		ck_assert_msg(found, "%s of [%s] is not in README's configuration table", keys[i].name, sec);
	}
	free(conf);
	free(readme);
}
END_TEST

/* Every default in the table, written in a file, is a valid value (config_defaults reads them the same way). */
START_TEST(every_table_default_is_valid)
{
	const struct config_key *keys;
	size_t n;
	char text[512];

	keys = config_keys(&n);
	for (size_t i = 0; i < n; i++) {
		const char *def = keys[i].def, *name = keys[i].name;

		if (def[0] == '(')
			continue;
		if (keys[i].section == CONFIG_SERVICE)
			snprintf(text, sizeof(text), "[SERVICE]\n%s = %s\n[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\n",
				 name, def);
		else if (keys[i].section == CONFIG_INPUT)
			snprintf(text, sizeof(text), "[INPUT]\nTrace = exec\n%s = %s\n[OUTPUT]\nName = forward\n", name, def);
		else
			snprintf(text, sizeof(text), "[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\n%s = %s\n", name, def);
		ck_assert_msg(load(text) == 0, "default of %s: %s", name, err);
	}
}
END_TEST

/* ---- valid input ---- */

START_TEST(defaults)
{
	config_defaults(&cfg);
	ck_assert_uint_eq(cfg.trace_count, 0);
	ck_assert_uint_eq(cfg.outputs[0].receiver_count, 0);
	ck_assert_uint_eq(cfg.outputs[0].port, 24224);
	ck_assert_str_eq(cfg.outputs[0].match, "*");
	ck_assert_uint_eq(cfg.outputs[0].ack_timeout_ns, 30000000000ull);
	ck_assert_str_eq(cfg.storage_path, "");
	ck_assert_uint_eq(cfg.storage_limit, 1ull << 30);
	assert_defaults_except_input_output(&cfg);

	ck_ok(MINIMAL);
	ck_assert_str_eq(cfg.path, "t.conf");
	ck_assert_int_eq(cfg.outputs[0].output, OUTPUT_STDOUT);
	/* no receiver given: Fluent Bit's default, 127.0.0.1 at Port */
	ck_assert_uint_eq(cfg.outputs[0].receiver_count, 1);
	ck_assert_str_eq(cfg.outputs[0].receivers[0].host, "127.0.0.1");
	ck_assert_uint_eq(cfg.outputs[0].receivers[0].port, 24224);
	ck_assert_uint_eq(cfg.trace_count, 1);
	ck_assert_int_eq(cfg.trace_line[0], 2);
	assert_defaults_except_input_output(&cfg);
}
END_TEST

START_TEST(every_key)
{
	ck_ok("[SERVICE]\n"
	      "User = daemon\n"
	      "Group = adm\n"
	      "Log_Level = debug\n"
	      "Stats_Interval = 0\n"
	      "Metrics_Records = no\n"
	      "HTTP_Server = on\n"
	      "HTTP_Listen = ::\n"
	      "HTTP_Port = 1\n"
	      "[INPUT]\n"
	      "Name = ebpf\n"
	      "Trace = malloc\n"
	      "Ringbuf_Size = 256K\n"
	      "Pid = 4194304\n"
	      "Uid = 0\n"
	      "Libc_Path = /usr/lib/libc.so.6\n"
	      "Poll_Ms = 0\n"
	      "Cgroup = /sys/fs/cgroup/kubepods.slice\n"
	      "Comm = nginx\n"
	      "Mount_Ns = mnt:[4026532000]\n"
	      "[OUTPUT]\n"
	      "Name = forward\n"
	      "Tag = host.*.ebpf\n"
	      "Host = fe80::1\n"
	      "Port = 65535\n"
	      "Buffer_Limit = 1G\n"
	      "Frame_Size = 4M\n"
	      "Flush_Ms = 60000\n"
	      "Require_Ack_Response = Off\n"
	      "Compress = GZIP\n");
	ck_assert(cfg.outputs[0].compress_gzip);
	ck_assert_str_eq(cfg.user, "daemon");
	ck_assert_str_eq(cfg.group, "adm");
	ck_assert(!cfg.outputs[0].require_ack);
	ck_assert(cfg.user_set);
	ck_assert_int_eq(cfg.log_level, LOG_LVL_DEBUG);
	ck_assert_uint_eq(cfg.stats_interval_s, 0);
	ck_assert(!cfg.metrics_records);
	ck_assert(cfg.http_server);
	ck_assert_str_eq(cfg.http_listen, "::");
	ck_assert_uint_eq(cfg.http_port, 1);
	ck_assert_str_eq(cfg.traces[0], "malloc");
	ck_assert_uint_eq(cfg.trace.ringbuf_size, 262144);
	ck_assert_uint_eq(cfg.trace.filter_pid, 4194304);
	ck_assert_int_eq(cfg.trace.filter_uid, 0);
	ck_assert_str_eq(cfg.trace.libc_path, "/usr/lib/libc.so.6");
	ck_assert_uint_eq(cfg.trace.poll_ms, 0);
	ck_assert_str_eq(cfg.trace.cgroup_path, "/sys/fs/cgroup/kubepods.slice");
	ck_assert_str_eq(cfg.trace.filter_comm, "nginx");
	ck_assert_uint_eq(cfg.trace.filter_mntns, 4026532000u);
	ck_assert_int_eq(cfg.outputs[0].output, OUTPUT_FORWARD);
	ck_assert_str_eq(cfg.outputs[0].tag, "host.*.ebpf");
	ck_assert_str_eq(cfg.outputs[0].receivers[0].host, "fe80::1");
	ck_assert_uint_eq(cfg.outputs[0].port, 65535);
	ck_assert_uint_eq(cfg.outputs[0].buffer_limit, 1ull << 30);
	ck_assert_uint_eq(cfg.outputs[0].frame_size, 4 << 20);
	ck_assert_uint_eq(cfg.outputs[0].flush_ms, 60000);
}
END_TEST

START_TEST(sizes_and_levels)
{
	static const struct {
		const char *value;
		uint64_t bytes;
	} sizes[] = {
		{"4096", 4096}, {"8k", 8192}, {"8KB", 8192}, {"1m", 1 << 20}, {"2Mb", 2 << 20},
		{"1G", 1 << 30}, {"1gb", 1 << 30},
	};
	static const char *const levels[] = {"error", "WARN", "Info", "debug"};
	char text[256];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (sizes[i].bytes % (uint64_t)sysconf(_SC_PAGESIZE))
			continue;
		snprintf(text, sizeof(text), "[INPUT]\nTrace = exec\nRingbuf_Size = %s\n[OUTPUT]\nName = stdout\n",
			 sizes[i].value);
		ck_ok(text);
		ck_assert_uint_eq(cfg.trace.ringbuf_size, sizes[i].bytes);
	}
	for (int i = 0; i < 4; i++) {
		snprintf(text, sizeof(text), "[SERVICE]\nLog_Level = %s\n" MINIMAL, levels[i]);
		ck_ok(text);
		ck_assert_int_eq(cfg.log_level, i);
	}
}
END_TEST

START_TEST(durations_and_repeated_paths)
{
	static const struct {
		const char *value;
		uint64_t ns;
	} d[] = {{"0", 0}, {"0ms", 0}, {"250ns", 250}, {"500us", 500000}, {"1ms", 1000000}, {"2s", 2000000000},
		 {"60s", 60000000000ull}};
	char text[256];

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		snprintf(text, sizeof(text), "[INPUT]\nTrace = sched\nSched_Min_Latency = %s\n[OUTPUT]\nName = stdout\n",
			 d[i].value);
		ck_ok(text);
		ck_assert_uint_eq(cfg.trace.sched_min_latency_ns, d[i].ns);
	}
	ck_ok("[INPUT]\nTrace = openssl\nOpenSSL_Path = /a/libssl.so.3\nOpenSSL_Path = /b/libssl.so.1.1\n"
	      "[OUTPUT]\nName = stdout\n");
	ck_assert_uint_eq(cfg.trace.openssl_path_count, 2);
	ck_assert_str_eq(cfg.trace.openssl_paths[0], "/a/libssl.so.3");
	ck_assert_str_eq(cfg.trace.openssl_paths[1], "/b/libssl.so.1.1");
	ck_error("[INPUT]\nTrace = openssl\nOpenSSL_Path = /1\nOpenSSL_Path = /2\nOpenSSL_Path = /3\n"
		 "OpenSSL_Path = /4\nOpenSSL_Path = /5\nOpenSSL_Path = /6\nOpenSSL_Path = /7\nOpenSSL_Path = /8\n"
		 "OpenSSL_Path = /9\n",
		 "t.conf:11: OpenSSL_Path: \"/9\" is one path too many (at most 8)");
	/* a key that does not repeat still may not */
	ck_error("[INPUT]\nTrace = sched\nSched_Min_Latency = 1ms\nSched_Min_Latency = 2ms\n",
		 "t.conf:4: Sched_Min_Latency: given twice (first on line 3)");
}
END_TEST

START_TEST(trace_spellings)
{
	ck_ok("[INPUT]\n"
	      "Trace = exec\n"
	      "Trace = trace_vfs\n"
	      "Trace = SIGNAL\n"
	      "\n"
	      "Trace = Trace_Bind\n"
	      "Trace = TRACE_MALLOC\n"
	      "[OUTPUT]\nName = stdout\n");
	ck_assert_uint_eq(cfg.trace_count, 5);
	ck_assert_str_eq(cfg.traces[0], "exec");
	ck_assert_str_eq(cfg.traces[1], "vfs");
	ck_assert_str_eq(cfg.traces[2], "signal");
	ck_assert_str_eq(cfg.traces[3], "bind");
	ck_assert_str_eq(cfg.traces[4], "malloc");
	ck_assert_int_eq(cfg.trace_line[0], 2);
	ck_assert_int_eq(cfg.trace_line[3], 6);
	ck_assert_int_eq(cfg.trace_line[4], 7);
}
END_TEST

START_TEST(case_comments_and_layout)
{
	/* BOM, CRLF, indented keys (not continuations), comments of both kinds, inline ';' comments. */
	ck_ok("\xef\xbb\xbf# comment\r\n"
	      "; comment\r\n"
	      "[input] ; the input\r\n"
	      "    NAME  =  EBPF\r\n"
	      "    trace = exec ; the exec trace\r\n"
	      "\t\tTRACE=vfs\r\n"
	      "  [ Output ]\r\n"
	      "    name = Forward\r\n"
	      "    unix_path = /run/fb.sock\r\n"
	      "    tag = a;b\r\n");
	ck_assert_uint_eq(cfg.trace_count, 2);
	ck_assert_str_eq(cfg.traces[1], "vfs");
	ck_assert_int_eq(cfg.outputs[0].output, OUTPUT_FORWARD);
	ck_assert_str_eq(cfg.outputs[0].receivers[0].unix_path, "/run/fb.sock");
	ck_assert_str_eq(cfg.outputs[0].tag, "a;b");
	ck_assert_int_eq(cfg.trace_line[1], 6);

	/* Lines are counted as the file has them, blank and comment lines too. */
	ck_error("\xef\xbb\xbf# c\r\n\r\n[INPUT]\r\n  Trace = exec\r\n\r\n  Pid = x\r\n",
		 "t.conf:6: Pid: \"x\" is not a process id (0-4194304, 0 = all)");
}
END_TEST

/* ---- invalid values: one key, one bad value, the exact message ---- */

static const struct bad_value {
	const char *section;
	const char *key;
	const char *value;
	const char *message;   /* after "t.conf:LINE: " */
} bad_values[] = {
	{"SERVICE", "User", "", "User: \"\" is not a user name"},
	{"SERVICE", "User", "a b", "User: \"a b\" is not a user name"},
	{"SERVICE", "Group", "", "Group: \"\" is not a group name"},
	{"SERVICE", "HTTP_Server", "maybe", "HTTP_Server: \"maybe\" is not a boolean (on/off, true/false, yes/no, 1/0)"},
	{"SERVICE", "HTTP_Listen", "localhost", "HTTP_Listen: \"localhost\" is not an IPv4 or IPv6 address (127.0.0.1, ::1, 0.0.0.0 for all)"},
	{"SERVICE", "HTTP_Listen", "127.0.0.1:8424", "HTTP_Listen: \"127.0.0.1:8424\" is not an IPv4 or IPv6 address (127.0.0.1, ::1, 0.0.0.0 for all)"},
	{"SERVICE", "HTTP_Listen", "[::1]", "HTTP_Listen: \"[::1]\" is not an IPv4 or IPv6 address (127.0.0.1, ::1, 0.0.0.0 for all)"},
	{"SERVICE", "HTTP_Listen", "", "HTTP_Listen: \"\" is not an IPv4 or IPv6 address"},
	{"SERVICE", "HTTP_Port", "0", "HTTP_Port: \"0\" is not a port (1-65535)"},
	{"SERVICE", "HTTP_Port", "65536", "HTTP_Port: \"65536\" is not a port (1-65535)"},
	{"INPUT", "Cgroup", "kubepods", "Cgroup: \"kubepods\" is not an absolute path"},
	{"INPUT", "Comm", "a-command-name-too-long", "Comm: \"a-command-name-too-long\" is not a command name (1-15 bytes, as in /proc/PID/comm)"},
	{"INPUT", "Mount_Ns", "mnt:[x]", "Mount_Ns: \"mnt:[x]\" is not a mount namespace (its inode number, as readlink /proc/PID/ns/mnt shows)"},
	{"INPUT", "Mount_Ns", "0", "Mount_Ns: \"0\" is not a mount namespace (its inode number, as readlink /proc/PID/ns/mnt shows)"},
	{"OUTPUT", "Compress", "zstd", "Compress: \"zstd\" is not a compression (gzip or none)"},
	{"INPUT", "Poll_Ms", "1001", "Poll_Ms: \"1001\" is not a number of milliseconds (0-1000, 0 = wake on every event)"},
	{"OUTPUT", "Require_Ack_Response", "maybe", "Require_Ack_Response: \"maybe\" is not a boolean (on/off, true/false, yes/no, 1/0)"},
	{"SERVICE", "Log_Level", "loud", "Log_Level: \"loud\" is not a level (error, warn, info or debug)"},
	{"SERVICE", "Log_Level", "", "Log_Level: \"\" is not a level (error, warn, info or debug)"},
	{"SERVICE", "Stats_Interval", "abc", "Stats_Interval: \"abc\" is not a number of seconds (0-4294967295, 0 = off)"},
	{"SERVICE", "Stats_Interval", "-1", "Stats_Interval: \"-1\" is not a number of seconds (0-4294967295, 0 = off)"},
	{"SERVICE", "Stats_Interval", "+5", "Stats_Interval: \"+5\" is not a number of seconds (0-4294967295, 0 = off)"},
	{"SERVICE", "Stats_Interval", "10s", "Stats_Interval: \"10s\" is not a number of seconds (0-4294967295, 0 = off)"},
	{"SERVICE", "Stats_Interval", "0x10", "Stats_Interval: \"0x10\" is not a number of seconds (0-4294967295, 0 = off)"},
	{"SERVICE", "Stats_Interval", "4294967296", "Stats_Interval: \"4294967296\" is not a number of seconds (0-4294967295, 0 = off)"},
	{"SERVICE", "Stats_Interval", "99999999999999999999999", "Stats_Interval: \"99999999999999999999999\" is not a number of seconds (0-4294967295, 0 = off)"},
	{"SERVICE", "Stats_Interval", "", "Stats_Interval: \"\" is not a number of seconds (0-4294967295, 0 = off)"},
	{"INPUT", "Name", "kprobe", "Name: \"kprobe\" is not an input (ebpf is the only one)"},
	{"INPUT", "Trace", "nope", "Trace: \"nope\" is not a trace (see ebpf-forward --list-traces)"},
	{"INPUT", "Trace", "trace_", "Trace: \"trace_\" is not a trace (see ebpf-forward --list-traces)"},
	{"INPUT", "Trace", "", "Trace: \"\" is not a trace (see ebpf-forward --list-traces)"},
	{"INPUT", "Trace", "exec vfs", "Trace: \"exec vfs\" is not a trace (see ebpf-forward --list-traces)"},
	{"INPUT", "Trace", "trace_exec", "Trace: \"trace_exec\" is listed twice (first on line 2)"},
	{"INPUT", "Ringbuf_Size", "lots", "Ringbuf_Size: \"lots\" is not a size (bytes, or a number with K, M or G)"},
	{"INPUT", "Ringbuf_Size", "16X", "Ringbuf_Size: \"16X\" is not a size (bytes, or a number with K, M or G)"},
	{"INPUT", "Ringbuf_Size", "16 M", "Ringbuf_Size: \"16 M\" is not a size (bytes, or a number with K, M or G)"},
	{"INPUT", "Ringbuf_Size", "-4096", "Ringbuf_Size: \"-4096\" is not a size (bytes, or a number with K, M or G)"},
	{"INPUT", "Ringbuf_Size", "16MBs", "Ringbuf_Size: \"16MBs\" is not a size (bytes, or a number with K, M or G)"},
	{"INPUT", "Ringbuf_Size", "17179869184G", "Ringbuf_Size: \"17179869184G\" is not a size (bytes, or a number with K, M or G)"},
	{"INPUT", "Ringbuf_Size", "1K", "Ringbuf_Size: \"1K\" is out of range (4K-1G)"},
	{"INPUT", "Ringbuf_Size", "2G", "Ringbuf_Size: \"2G\" is out of range (4K-1G)"},
	{"INPUT", "Ringbuf_Size", "18446744073709551615", "Ringbuf_Size: \"18446744073709551615\" is out of range (4K-1G)"},
	{"INPUT", "Ringbuf_Size", "3M", "Ringbuf_Size: \"3M\" is not a power of two"},
	{"INPUT", "Pid", "-1", "Pid: \"-1\" is not a process id (0-4194304, 0 = all)"},
	{"INPUT", "Pid", "4194305", "Pid: \"4194305\" is not a process id (0-4194304, 0 = all)"},
	{"INPUT", "Pid", "12abc", "Pid: \"12abc\" is not a process id (0-4194304, 0 = all)"},
	{"INPUT", "Uid", "-1", "Uid: \"-1\" is not a user id (0-4294967294)"},
	{"INPUT", "Uid", "4294967295", "Uid: \"4294967295\" is not a user id (0-4294967294)"},
	{"INPUT", "Uid", "root", "Uid: \"root\" is not a user id (0-4294967294)"},
	{"INPUT", "Libc_Path", "libc.so.6", "Libc_Path: \"libc.so.6\" is not an absolute path"},
	{"INPUT", "Libc_Path", "", "Libc_Path: \"\" is not an absolute path"},
	{"OUTPUT", "Tag", "", "Tag: \"\" is empty"},
	{"OUTPUT", "Tag", "my tag", "Tag: \"my tag\" is not printable ASCII without spaces"},
	{"OUTPUT", "Tag", "t\x01\"\xff", "Tag: \"t\\x01\\\"\\xff\" is not printable ASCII without spaces"},
	{"OUTPUT", "Tag", "ebpf.*.*", "Tag: \"ebpf.*.*\" has more than one '*'"},
	{"OUTPUT", "Host", "", "Host: \"\" is not a host name or address"},
	{"OUTPUT", "Host", "local host", "Host: \"local host\" is not a host name or address"},
	{"OUTPUT", "Port", "99999", "Port: \"99999\" is not a port (1-65535)"},
	{"OUTPUT", "Port", "0", "Port: \"0\" is not a port (1-65535)"},
	{"OUTPUT", "Port", "65536", "Port: \"65536\" is not a port (1-65535)"},
	{"OUTPUT", "Port", "-80", "Port: \"-80\" is not a port (1-65535)"},
	{"OUTPUT", "Port", "80x", "Port: \"80x\" is not a port (1-65535)"},
	{"OUTPUT", "Port", "http", "Port: \"http\" is not a port (1-65535)"},
	{"OUTPUT", "Unix_Path", "fb.sock", "Unix_Path: \"fb.sock\" is not an absolute path"},
	{"OUTPUT", "Unix_Path", "/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	 "Unix_Path: \"/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" is longer than 107 bytes (the limit of a Unix socket path)"},
	{"OUTPUT", "Buffer_Limit", "512K", "Buffer_Limit: \"512K\" is out of range (1M-1024G)"},
	{"OUTPUT", "Buffer_Limit", "2048G", "Buffer_Limit: \"2048G\" is out of range (1M-1024G)"},
	{"OUTPUT", "Buffer_Limit", "1.5M", "Buffer_Limit: \"1.5M\" is not a size (bytes, or a number with K, M or G)"},
	{"OUTPUT", "Frame_Size", "2K", "Frame_Size: \"2K\" is out of range (4K-4M)"},
	{"OUTPUT", "Frame_Size", "6144000", "Frame_Size: \"6144000\" is out of range (4K-4M)"},
	{"OUTPUT", "Flush_Ms", "0", "Flush_Ms: \"0\" is not a number of milliseconds (1-60000)"},
	{"OUTPUT", "Flush_Ms", "60001", "Flush_Ms: \"60001\" is not a number of milliseconds (1-60000)"},
	{"OUTPUT", "Flush_Ms", "1.5", "Flush_Ms: \"1.5\" is not a number of milliseconds (1-60000)"},
	{"INPUT", "Sched_Min_Latency", "5", "Sched_Min_Latency: \"5\" is not a duration (0, or a number with ns, us, ms or s, at most 60s)"},
	{"INPUT", "Sched_Min_Latency", "1h", "Sched_Min_Latency: \"1h\" is not a duration (0, or a number with ns, us, ms or s, at most 60s)"},
	{"INPUT", "Sched_Min_Latency", "61s", "Sched_Min_Latency: \"61s\" is not a duration (0, or a number with ns, us, ms or s, at most 60s)"},
	{"INPUT", "Sched_Min_Latency", "ms", "Sched_Min_Latency: \"ms\" is not a duration (0, or a number with ns, us, ms or s, at most 60s)"},
	{"INPUT", "Sched_Min_Latency", "-1ms", "Sched_Min_Latency: \"-1ms\" is not a duration (0, or a number with ns, us, ms or s, at most 60s)"},
	{"INPUT", "OpenSSL_Path", "libssl.so.3", "OpenSSL_Path: \"libssl.so.3\" is not an absolute path"},
};

START_TEST(bad_value)
{
	const struct bad_value *b = &bad_values[_i];
	char text[1024], want[1024];
	int line;

	/* The bad key sits in its own section, on a known line. */
	if (strcmp(b->section, "SERVICE") == 0) {
		snprintf(text, sizeof(text), "[SERVICE]\n%s = %s\n[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\n",
			 b->key, b->value);
		line = 2;
	} else if (strcmp(b->section, "INPUT") == 0) {
		snprintf(text, sizeof(text), "[INPUT]\nTrace = exec\n%s = %s\n[OUTPUT]\nName = forward\n",
			 b->key, b->value);
		line = 3;
	} else {
		snprintf(text, sizeof(text), "[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\n%s = %s\n",
			 b->key, b->value);
		line = 5;
	}
	snprintf(want, sizeof(want), "t.conf:%d: %s", line, b->message);
	ck_error(text, want);
}
END_TEST

START_TEST(bad_output_name)
{
	ck_error("[INPUT]\nTrace = exec\n[OUTPUT]\nName = http\n",
		 "t.conf:4: Name: \"http\" is not an output (stdout or forward)");
}
END_TEST

/* ---- invalid structure ---- */

START_TEST(unknown_section)
{
	ck_error("[FILTER]\nMatch = *\n",
		 "t.conf:1: unknown section [FILTER] (expected [SERVICE], [INPUT] or [OUTPUT])");
	ck_error(MINIMAL "[]\n", "t.conf:5: unknown section [] (expected [SERVICE], [INPUT] or [OUTPUT])");
	/* An empty unknown section is caught too. */
	ck_error(MINIMAL "\n[Parsers]\n",
		 "t.conf:6: unknown section [Parsers] (expected [SERVICE], [INPUT] or [OUTPUT])");
}
END_TEST

START_TEST(unknown_key)
{
	ck_error("[INPUT]\nTrace = exec\nCommand = bash\n", "t.conf:3: unknown key \"Command\" in [INPUT]");
	/* A key of another section is unknown here. */
	ck_error("[SERVICE]\nTrace = exec\n", "t.conf:2: unknown key \"Trace\" in [SERVICE]");
	ck_error("[OUTPUT]\nName = stdout\nTrace = exec\n", "t.conf:3: unknown key \"Trace\" in [OUTPUT]");
}
END_TEST

START_TEST(key_before_section)
{
	ck_error("# top\nTrace = exec\n[INPUT]\nTrace = vfs\n",
		 "t.conf:2: Trace: key before any section ([SERVICE], [INPUT] or [OUTPUT])");
}
END_TEST

START_TEST(no_key_name)
{
	ck_error("[INPUT]\n= exec\n", "t.conf:2: no key name before '='");
}
END_TEST

START_TEST(duplicate_key)
{
	ck_error("[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\nPort = 1\n\nport = 2\n",
		 "t.conf:7: Port: given twice (first on line 5)");
	ck_error("[SERVICE]\nUser = a\nuser = a\n", "t.conf:3: User: given twice (first on line 2)");
	ck_error("[INPUT]\nName = ebpf\nNAME = ebpf\n", "t.conf:3: Name: given twice (first on line 2)");
}
END_TEST

START_TEST(duplicate_trace)
{
	ck_error("[INPUT]\nTrace = exec\nTrace = vfs\nTrace = TRACE_EXEC\n",
		 "t.conf:4: Trace: \"TRACE_EXEC\" is listed twice (first on line 2)");
}
END_TEST

START_TEST(duplicate_section)
{
	ck_error(MINIMAL "[input]\nTrace = vfs\n",
		 "t.conf:5: [INPUT] given twice (first on line 1); put every Trace= in one [INPUT]");
	ck_error("[SERVICE]\n[SERVICE]\n", "t.conf:2: [SERVICE] given twice (first on line 1); merge them");
}
END_TEST

START_TEST(missing_parts)
{
	ck_error("", "t.conf: no [INPUT] section");
	ck_error("# only a comment\n\n; and another\n", "t.conf: no [INPUT] section");
	ck_error("[INPUT]\nName = ebpf\n[OUTPUT]\nName = stdout\n", "t.conf:1: no Trace= in [INPUT]");
	ck_error("[INPUT]\nTrace = exec\n", "t.conf: no [OUTPUT] section");
	ck_error("[INPUT]\nTrace = exec\n\n[OUTPUT]\nTag = x\n",
		 "t.conf:4: no Name= in [OUTPUT] (stdout or forward)");
}
END_TEST

START_TEST(forward_keys_with_stdout)
{
	static const char *const keys[] = {"Host = h", "Port = 1", "Unix_Path = /s", "Buffer_Limit = 1M",
					   "Frame_Size = 4K", "Flush_Ms = 1"};
	char text[256], want[256];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char name[32];

		sscanf(keys[i], "%31s", name);
		snprintf(text, sizeof(text), "[INPUT]\nTrace = exec\n[OUTPUT]\nName = stdout\n%s\n", keys[i]);
		snprintf(want, sizeof(want), "t.conf:5: %s: only for Name forward", name);
		ck_error(text, want);
	}
	/* Before Name, and the first one is named. */
	ck_error("[INPUT]\nTrace = exec\n[OUTPUT]\nFlush_Ms = 5\nPort = 1\nName = stdout\n",
		 "t.conf:4: Flush_Ms: only for Name forward");
}
END_TEST

/* Several [OUTPUT]s, each with its own keys, defaults and rules; receivers in the order of their lines. */
START_TEST(several_outputs_and_receivers)
{
	ck_ok("[INPUT]\nTrace = exec\n"
	      "[OUTPUT]\nName = forward\nMatch = ebpf.execve\nHost = 10.0.0.1\nUnix_Path = /run/fb.sock\n"
	      "Host = fb.example:24300\nHost = [fe80::1]:24301\nHost = fe80::2\nPort = 24999\nAck_Timeout = 500ms\n"
	      "[OUTPUT]\nName = stdout\nMatch = ebpf.*\n");
	ck_assert_uint_eq(cfg.output_count, 2);
	ck_assert_str_eq(cfg.outputs[0].match, "ebpf.execve");
	ck_assert_uint_eq(cfg.outputs[0].receiver_count, 5);
	ck_assert_str_eq(cfg.outputs[0].receivers[0].host, "10.0.0.1");
	ck_assert_uint_eq(cfg.outputs[0].receivers[0].port, 24999);
	ck_assert_str_eq(cfg.outputs[0].receivers[1].unix_path, "/run/fb.sock");
	ck_assert_str_eq(cfg.outputs[0].receivers[2].host, "fb.example");
	ck_assert_uint_eq(cfg.outputs[0].receivers[2].port, 24300);
	ck_assert_str_eq(cfg.outputs[0].receivers[3].host, "fe80::1");
	ck_assert_uint_eq(cfg.outputs[0].receivers[3].port, 24301);
	ck_assert_str_eq(cfg.outputs[0].receivers[4].host, "fe80::2");
	ck_assert_uint_eq(cfg.outputs[0].ack_timeout_ns, 500000000ull);
	ck_assert_int_eq(cfg.outputs[1].output, OUTPUT_STDOUT);
	ck_assert_str_eq(cfg.outputs[1].match, "ebpf.*");
	/* the second starts from the defaults, not from the first's values */
	ck_assert_uint_eq(cfg.outputs[1].ack_timeout_ns, 30000000000ull);
	ck_assert_uint_eq(cfg.outputs[1].port, 24224);
	/* a key given twice is per section */
	ck_error("[INPUT]\nTrace = exec\n[OUTPUT]\nName = stdout\n[OUTPUT]\nName = stdout\nName = forward\n",
		 "t.conf:7: Name: given twice (first on line 6)");
	/* each output's own rules, at its section's end */
	ck_error("[INPUT]\nTrace = exec\n[OUTPUT]\nName = stdout\n[OUTPUT]\nMatch = *\n[SERVICE]\n",
		 "t.conf:5: no Name= in [OUTPUT] (stdout or forward)");
	ck_error("[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\nHost = h:0\n",
		 "t.conf:5: Host: \"h:0\" has no port (1-65535) after its ':'");
	ck_error("[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\nHost = 1\nHost = 2\nHost = 3\nHost = 4\n"
		 "Host = 5\nHost = 6\nHost = 7\nHost = 8\nHost = 9\n",
		 "t.conf:13: Host: \"9\" is one receiver too many (at most 8)");
}
END_TEST

START_TEST(unix_path_with_host_or_port)
{
	/* a Host beside a Unix socket is a second receiver now */
	ck_ok("[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\nHost = 127.0.0.1\nUnix_Path = /run/fb.sock\n");
	ck_error("[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\nUnix_Path = /run/fb.sock\nPort = 24224\n",
		 "t.conf:5: Unix_Path: not together with Port (line 6); use one or the other");
}
END_TEST

START_TEST(frame_larger_than_buffer)
{
	ck_error("[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\nBuffer_Limit = 1M\nFrame_Size = 2M\n",
		 "t.conf:6: Frame_Size (2097152 bytes) is larger than Buffer_Limit (1048576 bytes)");
	ck_ok("[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\nBuffer_Limit = 1M\nFrame_Size = 1M\n");
}
END_TEST

START_TEST(syntax_errors)
{
	ck_error("[INPUT]\nTrace exec\n", "t.conf:2: \"Trace exec\" is neither [SECTION] nor Key = Value");
	/* As inih would, this is refused: the ';' starts a comment before '='; still named by line. */
	ck_error("[INPUT]\nTrace = exec\n  Trace ; = vfs\n[OUTPUT]\nName = stdout\n",
		 "t.conf:3: \"Trace ; = vfs\" is neither [SECTION] nor Key = Value");
	/* ...and it is reported even when one of our errors comes later. */
	ck_error("[INPUT]\nTrace ; = vfs\nPid = x\n",
		 "t.conf:2: \"Trace ; = vfs\" is neither [SECTION] nor Key = Value");
	ck_error("[INPUT\nTrace = exec\n", "t.conf:1: \"[INPUT\" has no closing ']'");
	ck_error("[INPUT] Trace = exec\n", "t.conf:1: \"[INPUT] Trace = exec\": text after ']'");
	ck_error("[INPUT]\nTrace = exec\n\x01\x02\xfe\n",
		 "t.conf:3: \"\\x01\\x02\\xfe\" is neither [SECTION] nor Key = Value");
	ck_ok("[INPUT] # comment\nTrace = exec\n[OUTPUT] ; comment\nName = stdout\n");
}
END_TEST

START_TEST(long_line)
{
	static char text[CONFIG_LINE_MAX + 256];
	char want[128], *at;
	size_t fill = (size_t)CONFIG_LINE_MAX - strlen("Libc_Path = /");
	int n;

	/* One byte over the limit is refused, with the limit in the message. */
	n = snprintf(text, sizeof(text), "[INPUT]\nTrace = exec\nLibc_Path = /");
	memset(text + n, 'a', fill + 1);
	snprintf(text + n + fill + 1, sizeof(text) - (size_t)n - fill - 1, "\n[OUTPUT]\nName = stdout\n");
	snprintf(want, sizeof(want), "t.conf:3: line is longer than %d bytes", CONFIG_LINE_MAX);
	ck_error(text, want);

	/* Exactly the limit is fine, and leading blanks do not count. */
	n = snprintf(text, sizeof(text), "[INPUT]\nTrace = exec\n        Libc_Path = /");
	memset(text + n, 'a', fill);
	snprintf(text + n + fill, sizeof(text) - (size_t)n - fill, "\n[OUTPUT]\nName = stdout\n");
	ck_ok(text);
	ck_assert_uint_eq(strlen(cfg.trace.libc_path), (size_t)CONFIG_LINE_MAX - strlen("Libc_Path = "));

	/* A Kubernetes pod's cgroup, longer than the 200 bytes Debian's libinih took. */
	n = snprintf(text, sizeof(text), "[INPUT]\nTrace = exec\nCgroup = /sys/fs/cgroup/kubepods.slice/");
	at = text + n;
	memset(at, 'p', 300 - strlen("/sys/fs/cgroup/kubepods.slice/"));
	snprintf(at + 300 - strlen("/sys/fs/cgroup/kubepods.slice/"), 64, "\n[OUTPUT]\nName = stdout\n");
	ck_ok(text);
	ck_assert_uint_eq(strlen(cfg.trace.cgroup_path), 300);
	ck_assert(strncmp(cfg.trace.cgroup_path, "/sys/fs/cgroup/kubepods.slice/pp", 32) == 0);
}
END_TEST

/* ---- files ---- */

START_TEST(missing_file)
{
	ck_assert_int_eq(config_load(&cfg, "/nonexistent/ebpf-forward.conf", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/ebpf-forward.conf: cannot open: No such file or directory");
}
END_TEST

START_TEST(directory)
{
	ck_assert_int_eq(config_load(&cfg, SRC_DIR "/conf", err, sizeof(err)), -1);
	ck_assert_str_eq(err, SRC_DIR "/conf: cannot read: Is a directory");
}
END_TEST

START_TEST(file_errors_name_the_file)
{
	static const char nul[] = "[INPUT]\nTrace = exec\0[OUTPUT]\n";
	static const char bad[] = "[INPUT]\nTrace = exec\n[OUTPUT]\nName = stdout\nPort = 1\n";
	char want[256];
	const char *path;
	char *big;

	path = temp_file("", 0);
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: no [INPUT] section", path);
	ck_assert_str_eq(err, want);
	unlink(path);

	path = temp_file(nul, sizeof(nul) - 1);
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: NUL byte, not a text file", path);
	ck_assert_str_eq(err, want);
	unlink(path);

	path = temp_file(bad, strlen(bad));
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:5: Port: only for Name forward", path);
	ck_assert_str_eq(err, want);
	unlink(path);

	big = malloc(2 << 20);
	memset(big, '\n', 2 << 20);
	path = temp_file(big, 2 << 20);
	free(big);
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: larger than 1048576 bytes, not a configuration file", path);
	ck_assert_str_eq(err, want);
	unlink(path);
}
END_TEST

/* Root reads it and it decides what root loads: only root may be able to change it. */
START_TEST(file_only_root_may_change)
{
	static const char text[] = MINIMAL;
	char want[256];
	const char *path = temp_file(text, strlen(text));

	ck_assert_msg(config_load(&cfg, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(chmod(path, 0646), 0);
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: writable by other users; only root may be able to change it (chown root, chmod go-w)", path);
	ck_assert_str_eq(err, want);
	/* group-writable is fine when the group is root's */
	ck_assert_int_eq(chmod(path, 0664), 0);
	ck_assert_msg(config_load(&cfg, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(chown(path, 0, 65534), 0);
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof(err)), -1);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(chown(path, 65534, 0), 0);
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: not owned by root; only root may be able to change it (chown root, chmod go-w)", path);
	ck_assert_str_eq(err, want);
	unlink(path);
}
END_TEST

/* Secrets: from a file only root can read, or inline in a main file only root can read. */
START_TEST(secrets_stay_secret)
{
	char text[512], want[512], key[] = "/tmp/test_config_key.XXXXXX";
	int fd = mkstemp(key);
	const char *path;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "s3cret\nignored\n", 15), 15);
	close(fd);
	snprintf(text, sizeof(text), "[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\nShared_Key_File = %s\n", key);
	ck_ok(text);
	ck_assert_str_eq(cfg.outputs[0].shared_key, "s3cret");
	ck_assert_int_eq(chmod(key, 0640), 0);
	ck_assert_int_eq(load(text), -1);
	snprintf(want, sizeof(want), "t.conf:5: Shared_Key_File: \"%s\" must be a regular file of root's that no one "
		 "else can read (mode 0640, uid 0): chown root, chmod 600", key);
	ck_assert_str_eq(err, want);
	unlink(key);
	ck_assert_int_eq(load(text), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot be opened: No such file or directory"));
	/* inline: fine in a 0600 file, refused in one others can read */
	snprintf(text, sizeof(text), "[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\nShared_Key = k\n");
	path = temp_file(text, strlen(text));
	ck_assert_msg(config_load(&cfg, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(cfg.outputs[0].shared_key, "k");
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:5: a secret in a file others can read (mode 0644): chmod 600 it, or use "
		 "Shared_Key_File / Password_File", path);
	ck_assert_str_eq(err, want);
	unlink(path);
	ck_error("[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\nUsername = u\n",
		 "t.conf:5: Username: needs a Shared_Key (users come with the handshake)");
	ck_error("[INPUT]\nTrace = exec\n[OUTPUT]\nName = stdout\nShared_Key = k\n",
		 "t.conf:5: Shared_Key: only for Name forward");
}
END_TEST

/* tls and its keys: files there and kept as they must be, a certificate with its key, TCP only, tls on. */
START_TEST(tls_keys_and_rules)
{
	char text[1024], want[768], key[] = "/tmp/test_config_tls.XXXXXX";
	int fd = mkstemp(key);
	const char *fw = "[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\nHost = fb.example\n";

	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(text, sizeof(text), "%stls = on\ntls.verify = off\ntls.ca_file = %s\ntls.crt_file = %s\n"
		 "tls.key_file = %s\ntls.vhost = fluent.example\n", fw, key, key, key);
	ck_ok(text);
	ck_assert(cfg.outputs[0].tls);
	ck_assert(!cfg.outputs[0].tls_verify);
	ck_assert_str_eq(cfg.outputs[0].tls_key_file, key);
	ck_assert_str_eq(cfg.outputs[0].tls_vhost, "fluent.example");
	snprintf(text, sizeof(text), "%stls = on\n", fw);
	ck_ok(text);
	ck_assert(cfg.outputs[0].tls_verify); /* on unless said otherwise */
	ck_assert_str_eq(cfg.outputs[0].tls_ca_file, "");
	/* the key is a secret file */
	ck_assert_int_eq(chmod(key, 0644), 0);
	snprintf(text, sizeof(text), "%stls = on\ntls.crt_file = %s\ntls.key_file = %s\n", fw, key, key);
	snprintf(want, sizeof(want), "t.conf:8: tls.key_file: \"%s\" must be a regular file of root's that no one "
		 "else can read (mode 0644, uid 0): chown root, chmod 600", key);
	ck_error(text, want);
	ck_assert_int_eq(chmod(key, 0600), 0);
	snprintf(text, sizeof(text), "%stls = on\ntls.crt_file = %s\n", fw, key);
	ck_error(text, "t.conf:7: tls.crt_file without tls.key_file: a client certificate needs both");
	snprintf(text, sizeof(text), "%stls.ca_file = %s\n", fw, key);
	ck_error(text, "t.conf:6: tls.ca_file: tls is off in this [OUTPUT]; add tls = on, or remove it");
	snprintf(text, sizeof(text), "%stls = on\ntls.ca_path = %s\n", fw, key);
	snprintf(want, sizeof(want), "t.conf:7: tls.ca_path: \"%s\" is not a directory", key);
	ck_error(text, want);
	ck_error("[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\nHost = h\ntls = on\ntls.ca_file = /nonexistent\n",
		 "t.conf:7: tls.ca_file: \"/nonexistent\" cannot be read: No such file or directory");
	ck_error("[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\nUnix_Path = /run/fb.sock\ntls = on\n",
		 "t.conf:6: tls: only for TCP receivers (Host), and this [OUTPUT] has only Unix sockets");
	ck_error("[INPUT]\nTrace = exec\n[OUTPUT]\nName = stdout\ntls = on\n", "t.conf:5: tls: only for Name forward");
	unlink(key);
}
END_TEST

/* ---- robustness ---- */

START_TEST(small_or_no_error_buffer)
{
	char tiny[8];

	ck_assert_int_eq(config_load_string(&cfg, "[INPUT]\nPid = x\n", "t.conf", tiny, sizeof(tiny)), -1);
	ck_assert_str_eq(tiny, "t.conf:");
	ck_assert_int_eq(config_load_string(&cfg, "[INPUT]\nPid = x\n", "t.conf", NULL, 0), -1);
	ck_assert_int_eq(config_load_string(&cfg, "[INPUT]\nPid = x\n", "t.conf", tiny, 0), -1);
	ck_assert_int_eq(config_load(&cfg, "/nonexistent", NULL, 0), -1);
	ck_assert_int_eq(config_load_string(&cfg, NULL, "t.conf", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "t.conf: no [INPUT] section");
}
END_TEST

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random text and mangled copies of the reference file: always 0 or -1 with a message, never a crash. */
START_TEST(junk_never_crashes)
{
	static const char alphabet[] = "[]=:;# \t\r\n\n\nabcINPUTOUTPUTSERVICETracePort0123456789*/\\\"\x01\xff";
	char *ref = slurp(SRC_DIR "/conf/ebpf-forward.conf");
	size_t reflen = strlen(ref);
	char *text = malloc(reflen + 4096);

	for (int iter = 0; iter < 4000; iter++) {
		size_t len;
		int rc;

		if (iter % 2) {
			len = rng() % 3000;
			for (size_t i = 0; i < len; i++)
				text[i] = (iter % 4 == 1) ? alphabet[rng() % (sizeof(alphabet) - 1)]
							  : (char)(rng() % 255 + 1);
		} else {
			len = reflen;
			memcpy(text, ref, len);
			for (int k = (int)(rng() % 8) + 1; k > 0; k--)
				text[rng() % len] = alphabet[rng() % (sizeof(alphabet) - 1)];
		}
		text[len] = '\0';
		err[0] = '\0';
		rc = load(text);
		ck_assert(rc == 0 || rc == -1);
		if (rc)
			ck_assert_msg(strncmp(err, "t.conf", 6) == 0 && strlen(err) > 8, "bad message: %s", err);
	}
	free(text);
	free(ref);
}
END_TEST

/* ---- the quick mode: -t, -o and -p through the same rows ---- */

static struct config qcfg;

/* Loads the quick-mode arguments of spec, "t:exec o:stdout p:Tag=x" (no spaces inside a value). */
static int load_args(const char *spec)
{
	static struct config_arg args[32];
	static char buf[1024];
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok && n < 32; tok = strtok_r(NULL, " ", &save))
		args[n++] = (struct config_arg){tok[0], tok + 2};
	err[0] = '\0';
	return config_load_args(&qcfg, args, n, err, sizeof(err));
}

/* What differs between a file and the command line by nature: where each value was given. */
static void forget_origins(struct config *c)
{
	c->path = NULL;
	c->args = NULL;
	c->arg_count = 0;
	memset(c->trace_line, 0, sizeof(c->trace_line));
	for (unsigned i = 0; i < CONFIG_MAX_OUTPUTS; i++) {
		c->outputs[i].line = 0;
		c->outputs[i].secret_line = 0;
		for (unsigned r = 0; r < CONFIG_MAX_RECEIVERS; r++)
			c->outputs[i].receivers[r].line = 0;
	}
}

/* The arguments and the file that says the same give the same struct, byte for byte. */
static void ck_same(const char *spec, const char *file)
{
	ck_assert_msg(load_args(spec) == 0, "%s: %s", spec, err);
	ck_assert_msg(load(file) == 0, "%s", err);
	forget_origins(&qcfg);
	forget_origins(&cfg);
	ck_assert_msg(memcmp(&qcfg, &cfg, sizeof(cfg)) == 0, "%s differs from its file", spec);
}

START_TEST(quick_mode_is_the_file)
{
	ck_same("t:exec t:vfs o:stdout", "[INPUT]\nTrace = exec\nTrace = vfs\n[OUTPUT]\nName = stdout\n");
	/* no -o: stdout */
	ck_same("t:exec", MINIMAL);
	/* keys of every section, wherever they are, an [OUTPUT] key in the output before it */
	ck_same("t:trace_exec p:Pid=7 o:[::1]:24224 p:Tag=ebpf.* p:log_level=debug o:/run/fb.sock p:Require_Ack_Response=off "
		"p:Host=10.0.0.1:1 t:dns o:stdout p:Match=ebpf.dns",
		"[SERVICE]\nLog_Level = debug\n[INPUT]\nTrace = exec\nPid = 7\nTrace = dns\n"
		"[OUTPUT]\nName = forward\nHost = [::1]:24224\nTag = ebpf.*\n"
		"[OUTPUT]\nName = forward\nUnix_Path = /run/fb.sock\nRequire_Ack_Response = off\nHost = 10.0.0.1:1\n"
		"[OUTPUT]\nName = stdout\nMatch = ebpf.dns\n");
	ck_same("t:exec o:forward p:Port=24225", "[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\nPort = 24225\n");
	ck_assert_uint_eq(qcfg.outputs[0].receivers[0].port, 24225);
	ck_assert_str_eq(qcfg.outputs[0].receivers[0].host, "127.0.0.1");
	/* the default account may fall back to nobody; one given may not */
	ck_assert_int_eq(load_args("t:exec"), 0);
	ck_assert(!qcfg.user_set);
	ck_assert_int_eq(load_args("t:exec p:User=daemon"), 0);
	ck_assert(qcfg.user_set);
	ck_assert_str_eq(qcfg.path, "command line");
}
END_TEST

/* A value is what the shell passed: no comment, no trimming. */
START_TEST(quick_mode_values_as_written)
{
	static const struct config_arg args[] = {{'t', "exec"}, {'o', "stdout"}, {'p', "Tag=a ;b"}, {'p', "Comm= x y"}};

	ck_assert_msg(config_load_args(&qcfg, args, 4, err, sizeof(err)) == -1, "a blank in a Tag");
	ck_assert_str_eq(err, "-p Tag=a ;b: Tag: \"a ;b\" is not printable ASCII without spaces");
	ck_assert_msg(config_load_args(&qcfg, (const struct config_arg[]){{'t', "exec"}, {'p', "Comm= x y"}}, 2, err,
				       sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(qcfg.trace.filter_comm, " x y");
}
END_TEST

static const struct {
	const char *spec, *message;
} bad_args[] = {
	{"t:exec p:Bad_Key=1", "-p Bad_Key=1: unknown key (see ebpf-forward --help-config)"},
	{"t:nosuch", "-t nosuch: Trace: \"nosuch\" is not a trace (see ebpf-forward --list-traces)"},
	{"t:exec t:trace_exec", "-t trace_exec: Trace: \"trace_exec\" is listed twice (first as -t exec)"},
	{"t:exec p:Tag=x o:stdout", "-p Tag=x: Tag is an [OUTPUT] key: give it after the -o it is for"},
	{"t:exec o:localhost", "-o localhost: not an output: stdout, forward, HOST:PORT, [IPV6]:PORT or the /PATH of a "
			       "Unix socket"},
	{"t:exec o:foo:bar", "-o foo:bar: Host: \"foo:bar\" has no port (1-65535) after its ':'"},
	{"t:exec o:stdout p:Port=1", "-p Port=1: Port: only for Name forward"},
	{"t:exec o:/s p:Port=5", "-o /s: Unix_Path: not together with Port (-p Port=5); use one or the other"},
	{"t:exec p:Pid", "-p Pid: not KEY=VALUE"},
	{"t:exec p:=1", "-p =1: not KEY=VALUE"},
	{"t:exec o:stdout p:Name=forward", "-p Name=forward: Name is not a -p key: the input is ebpf, and -o names "
					   "each output"},
	{"t:exec p:Pid=1 p:pid=2", "-p pid=2: Pid: given twice (first as -p Pid=1)"},
	{"t:exec p:Ringbuf_Size=12K", "-p Ringbuf_Size=12K: Ringbuf_Size: \"12K\" is not a power of two"},
	{"t:exec o:forward p:Frame_Size=4M p:Buffer_Limit=1M",
	 "-p Buffer_Limit=1M: Frame_Size (4194304 bytes) is larger than Buffer_Limit (1048576 bytes)"},
	{"t:exec o:forward p:Username=u", "-p Username=u: Username: needs a Shared_Key (users come with the handshake)"},
	{"o:stdout", "command line: no -t TRACE: name the traces to load (ebpf-forward --list-traces shows them)"},
	{"t:exec o:stdout o:stdout o:stdout o:stdout o:stdout o:stdout o:stdout o:stdout o:stdout",
	 "-o stdout: [OUTPUT]: one output too many (at most 8)"},
};

START_TEST(quick_mode_errors_name_the_argument)
{
	ck_assert_int_eq(load_args(bad_args[_i].spec), -1);
	ck_assert_str_eq(err, bad_args[_i].message);
}
END_TEST

/* A long value is cut in the argument's name, so the reason still fits (found by fuzz_args). */
START_TEST(quick_mode_long_value_keeps_the_reason)
{
	static char value[3000];
	struct config_arg args[] = {{'t', value}};

	memset(value, 0xff, sizeof(value) - 1);
	ck_assert_int_eq(config_load_args(&qcfg, args, 1, err, sizeof(err)), -1);
	ck_assert_msg(strncmp(err, "-t \\xff", 7) == 0, "%s", err);
	ck_assert_msg(strstr(err, "...: Trace: \"\\xff"), "%s", err);
	ck_assert_msg(strstr(err, "\" is not a trace (see ebpf-forward --list-traces)"), "%s", err);
}
END_TEST

/* Any user can read a command line: a secret there is refused, and the message does not repeat it. */
START_TEST(quick_mode_refuses_secrets)
{
	ck_assert_int_eq(load_args("t:exec o:forward p:Shared_Key=s3cret"), -1);
	ck_assert_str_eq(err, "command line: -p Shared_Key=(not shown): a secret on the command line is visible to "
			      "every user; give its file (Shared_Key_File) instead");
	ck_assert_int_eq(load_args("t:exec o:forward p:Shared_Key_File=/nonexistent p:Username=u p:Password=pw"), -1);
	ck_assert_ptr_nonnull(strstr(err, "-p Shared_Key_File=/nonexistent: Shared_Key_File: \"/nonexistent\" cannot be "
					  "opened"));
}
END_TEST

/* -p finds a key's section by its name: that holds while no name but Name is in two sections. */
START_TEST(prop_keys_name_one_section)
{
	size_t n;
	const struct config_key *k = config_keys(&n);

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			ck_assert_msg(strcasecmp(k[i].name, k[j].name) != 0 || strcasecmp(k[i].name, "Name") == 0,
				      "%s is in [%s] and [%s]: -p cannot tell which", k[i].name,
				      config_section_names[k[i].section], config_section_names[k[j].section]);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_test(tc, quickstart_file);
	tcase_add_test(tc, reference_file);
	tcase_add_test(tc, reference_file_documents_every_key);
	tcase_add_test(tc, every_table_key_is_documented);
	tcase_add_test(tc, every_table_default_is_valid);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, every_key);
	tcase_add_test(tc, sizes_and_levels);
	tcase_add_test(tc, trace_spellings);
	tcase_add_test(tc, durations_and_repeated_paths);
	tcase_add_test(tc, case_comments_and_layout);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad values");
	tcase_add_loop_test(tc, bad_value, 0, (int)(sizeof(bad_values) / sizeof(bad_values[0])));
	tcase_add_test(tc, bad_output_name);
	suite_add_tcase(s, tc);

	tc = tcase_create("bad structure");
	tcase_add_test(tc, unknown_section);
	tcase_add_test(tc, unknown_key);
	tcase_add_test(tc, key_before_section);
	tcase_add_test(tc, no_key_name);
	tcase_add_test(tc, duplicate_key);
	tcase_add_test(tc, duplicate_trace);
	tcase_add_test(tc, duplicate_section);
	tcase_add_test(tc, missing_parts);
	tcase_add_test(tc, forward_keys_with_stdout);
	tcase_add_test(tc, unix_path_with_host_or_port);
	tcase_add_test(tc, several_outputs_and_receivers);
	tcase_add_test(tc, frame_larger_than_buffer);
	tcase_add_test(tc, syntax_errors);
	tcase_add_test(tc, long_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("files and robustness");
	tcase_add_test(tc, missing_file);
	tcase_add_test(tc, directory);
	tcase_add_test(tc, file_errors_name_the_file);
	tcase_add_test(tc, file_only_root_may_change);
	tcase_add_test(tc, secrets_stay_secret);
	tcase_add_test(tc, tls_keys_and_rules);
	tcase_add_test(tc, small_or_no_error_buffer);
	tcase_add_test(tc, junk_never_crashes);
	/* The fuzz loop is slow under the sanitizers. */
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);

	tc = tcase_create("quick mode");
	tcase_add_test(tc, quick_mode_is_the_file);
	tcase_add_test(tc, quick_mode_values_as_written);
	tcase_add_loop_test(tc, quick_mode_errors_name_the_argument, 0, (int)(sizeof(bad_args) / sizeof(bad_args[0])));
	tcase_add_test(tc, quick_mode_refuses_secrets);
	tcase_add_test(tc, quick_mode_long_value_keeps_the_reason);
	tcase_add_test(tc, prop_keys_name_one_section);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return suite_run(config_suite());
}
