/* test_cli.c: the ebpf-forward binary as a user runs it: options, config errors, records on stdout, SIGTERM. */
#include <check.h>

#include "config.h"
#include "receiver_proc.h"
#include "suite_run.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef DAEMON_PATH
#error "DAEMON_PATH must name the built binary"
#endif
#ifndef SRC_DIR
#error "SRC_DIR must name the source tree"
#endif
#ifndef CURL_PATH
#define CURL_PATH "curl"
#endif

struct proc {
	pid_t pid;
	int out;   /* read end of its stdout */
	int err;   /* read end of its stderr */
};

static void spawn(struct proc *p, char *const argv[])
{
	int o[2], e[2];

	ck_assert_int_eq(pipe(o), 0);
	ck_assert_int_eq(pipe(e), 0);
	p->pid = fork();
	ck_assert_int_ge(p->pid, 0);
	if (p->pid == 0) {
		dup2(o[1], 1);
		dup2(e[1], 2);
		close(o[0]);
		close(e[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(o[1]);
	close(e[1]);
	p->out = o[0];
	p->err = e[0];
}

/* Reads fd to EOF into a NUL-terminated malloc'd buffer. */
static char *slurp(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;

	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

/* Runs argv to the end; returns its exit status and its output. */
static int run(char *const argv[], char **out, char **err)
{
	struct proc p;
	int status;

	spawn(&p, argv);
	*out = slurp(p.out);
	*err = slurp(p.err);
	ck_assert_int_eq(waitpid(p.pid, &status, 0), p.pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

#define MINIMAL_CONF "[INPUT]\nTrace = exec\n[OUTPUT]\nName = stdout\n"

static const char *write_conf(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/ebpf-forward-cli-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

START_TEST(version_and_help)
{
	char *out, *err;
	char *v[] = {DAEMON_PATH, "--version", NULL};
	char *h[] = {DAEMON_PATH, "--help", NULL};
	char *bad[] = {DAEMON_PATH, "--no-such-option", NULL};

	ck_assert_int_eq(run(v, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "ebpf-forward " EBPF_FORWARD_VERSION));
	free(out), free(err);
	ck_assert_int_eq(run(h, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "--check-config"));
	ck_assert_ptr_nonnull(strstr(out, "--list-traces"));
	ck_assert_ptr_nonnull(strstr(out, "--help-config"));
	free(out), free(err);
	ck_assert_int_eq(run(bad, &out, &err), 2);
	ck_assert_ptr_nonnull(strstr(err, "usage:"));
	free(out), free(err);
}
END_TEST

/* --help-config lists every key of the table, each once, in its section, in the table's order. */
START_TEST(help_config_lists_every_key)
{
	char *argv[] = {DAEMON_PATH, "--help-config", NULL};
	char *out, *err, *at, want[64];
	size_t n, lines = 0;
	const struct config_key *keys = config_keys(&n);

	ck_assert_int_eq(run(argv, &out, &err), 0);
	for (int sec = 0; sec < CONFIG_SECTIONS; sec++) {
		snprintf(want, sizeof(want), "[%s]\n", config_section_names[sec]);
		at = strstr(out, want);
		ck_assert_msg(at, "%s not listed in: %s", want, out);
		for (size_t i = 0; i < n; i++) {
			if ((int)keys[i].section != sec)
				continue;
			snprintf(want, sizeof(want), "\n  %s ", keys[i].name);
			at = strstr(at, want);
			ck_assert_msg(at, "%s not listed (in order) in: %s", keys[i].name, out);
		}
	}
	/* a key's line is "  Key  type  default: ..." */
	for (const char *s = out; (s = strstr(s, " default: ")); s++)
		lines++;
	ck_assert_uint_eq(lines, n);
	ck_assert_ptr_nonnull(strstr(out, "size 4K-1G"));
	ck_assert_ptr_nonnull(strstr(out, "default: 16M"));
	free(out), free(err);
}
END_TEST

START_TEST(check_config_good_and_bad)
{
	char *out, *err;
	char *good[] = {DAEMON_PATH, "--check-config", "-c", SRC_DIR "/conf/quickstart.conf", NULL};
	char *ref[] = {DAEMON_PATH, "--check-config", "-c", SRC_DIR "/conf/ebpf-forward.conf", NULL};
	const char *path = write_conf("[INPUT]\nTrace = exec\nTrace = nosuch\n[OUTPUT]\nName = stdout\n");
	char *bad[] = {DAEMON_PATH, "--check-config", "-c", (char *)path, NULL};
	char want[128];

	ck_assert_int_eq(run(good, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "configuration is valid"));
	free(out), free(err);
	ck_assert_int_eq(run(ref, &out, &err), 0);
	free(out), free(err);
	ck_assert_int_eq(run(bad, &out, &err), 1);
	snprintf(want, sizeof(want), "%s:3:", path);
	ck_assert_msg(strstr(err, want), "error does not name %s: %s", want, err);
	ck_assert_ptr_nonnull(strstr(err, "nosuch"));
	free(out), free(err);
	unlink(path);
}
END_TEST

START_TEST(list_traces_says_what_attaches)
{
	char *out, *err;
	char *l[] = {DAEMON_PATH, "--list-traces", NULL};
	/* the build's list of traces, space-separated */
	char names[] = TRACE_NAMES, *save = NULL;
	int n = 0, yes = 0;

	ck_assert_int_eq(run(l, &out, &err), 0);
	for (char *name = strtok_r(names, " ", &save); name; name = strtok_r(NULL, " ", &save), n++)
		ck_assert_msg(strstr(out, name), "%s not listed", name);
	ck_assert_int_ge(n, 5);
	/* on this kernel every one of them attaches */
	for (const char *s = out; (s = strstr(s, "attaches here: yes")); s++)
		yes++;
	ck_assert_int_eq(yes, n);
	free(out), free(err);
}
END_TEST

/* Reads the daemon's stdout until a line contains want (or 10 s pass); returns that line. */
static char *wait_line(int fd, const char *want, char *buf, size_t cap, size_t *len)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	for (int i = 0; i < 1000; i++) {
		char *nl, *line = buf;

		while ((nl = memchr(line, '\n', *len - (size_t)(line - buf)))) {
			*nl = '\0';
			if (strstr(line, want))
				return line;
			line = nl + 1;
		}
		/* keep the unfinished tail */
		*len -= (size_t)(line - buf);
		memmove(buf, line, *len);
		if (poll(&pfd, 1, 10) > 0) {
			ssize_t n = read(fd, buf + *len, cap - *len - 1);

			if (n <= 0)
				return NULL;
			*len += (size_t)n;
		}
	}
	return NULL;
}

/*
 * Execs /bin/true with marker as its argument in a child, again while the daemon attaches, until
 * the daemon's stdout has a record with marker; returns that line (NULL after 50 tries), *child the last pid.
 */
static char *exec_until_record(struct proc *d, const char *marker, char *buf, size_t cap, size_t *len, pid_t *child)
{
	char *line = NULL;
	int status;

	for (int tries = 0; tries < 50 && !line; tries++) {
		*child = fork();
		if (*child == 0) {
			execl("/bin/true", "/bin/true", marker, NULL);
			_exit(127);
		}
		waitpid(*child, &status, 0);
		line = wait_line(d->out, marker, buf, cap, len);
	}
	return line;
}

/* SIGTERM, the rest of its output read, and its exit status 0; returns its log. */
static char *stop_cleanly(struct proc *d)
{
	int status;
	char *err;

	ck_assert_int_eq(kill(d->pid, SIGTERM), 0);
	/* keep reading: a daemon blocked on a full stdout pipe cannot finish */
	free(slurp(d->out));
	err = slurp(d->err);
	ck_assert_int_eq(waitpid(d->pid, &status, 0), d->pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d: %s", status, err);
	return err;
}

START_TEST(daemon_prints_records_and_stops_on_sigterm)
{
	const char *path = write_conf("[SERVICE]\nUser = nobody\n[INPUT]\nTrace = exec\nTrace = vfs\n"
				      "[OUTPUT]\nName = stdout\nTag = ebpf.*\n");
	char *argv[] = {DAEMON_PATH, "-c", (char *)path, NULL};
	static char buf[1 << 20];
	char marker[96], *line, *err;
	struct proc d;
	size_t len = 0;
	int status;
	pid_t child;

	snprintf(marker, sizeof(marker), "cli-marker-%d-%ld", getpid(), (long)time(NULL));
	spawn(&d, argv);
	line = exec_until_record(&d, marker, buf, sizeof(buf), &len, &child);
	ck_assert_msg(line, "no record with %s on the daemon's stdout", marker);
	ck_assert_ptr_nonnull(strstr(line, "\"tag\": \"ebpf.execve\""));
	ck_assert_ptr_nonnull(strstr(line, "\"event_type\": \"execve\""));
	ck_assert_msg(strstr(line, "\"filename\": \"/bin/true\""), "line: %s", line);
	ck_assert_ptr_nonnull(strstr(line, "\"date\": "));
	ck_assert_int_eq(kill(d.pid, SIGTERM), 0);
	/* keep reading: a daemon blocked on a full stdout pipe cannot finish */
	free(slurp(d.out));
	err = slurp(d.err);
	ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d", status);
	ck_assert_ptr_nonnull(strstr(err, "running as nobody"));
	ck_assert_ptr_nonnull(strstr(err, "stopping"));
	free(err);
	unlink(path);
}
END_TEST

/* The quick mode: no file, -t and -o; the exec record of a child with its fields, as a file would give it. */
START_TEST(quick_mode_prints_exec_records)
{
	char *argv[] = {DAEMON_PATH, "-t", "exec", "-o", "stdout", NULL};
	static char buf[1 << 20];
	char marker[96], want[128], *line, *err;
	struct proc d;
	size_t len = 0;
	pid_t child;

	snprintf(marker, sizeof(marker), "cli-quick-%d-%ld", getpid(), (long)time(NULL));
	spawn(&d, argv);
	line = exec_until_record(&d, marker, buf, sizeof(buf), &len, &child);
	ck_assert_msg(line, "no record with %s on the daemon's stdout", marker);
	ck_assert_msg(strstr(line, "\"tag\": \"ebpf\","), "line: %s", line);
	ck_assert_ptr_nonnull(strstr(line, "\"event_type\": \"execve\""));
	ck_assert_msg(strstr(line, "\"filename\": \"/bin/true\""), "line: %s", line);
	snprintf(want, sizeof(want), "\"argv_last\": \"%s\"", marker);
	ck_assert_msg(strstr(line, want), "line: %s", line);
	ck_assert_ptr_nonnull(strstr(line, "\"argc\": 2"));
	/* one of this test's children (an earlier try's record may be the first to show) */
	snprintf(want, sizeof(want), "\"ppid\": %d,", getpid());
	ck_assert_msg(strstr(line, want), "line: %s", line);
	ck_assert_ptr_nonnull(strstr(line, "\"date\": "));
	err = stop_cleanly(&d);
	/* it dropped root as a file's daemon does: to the default account, or nobody without it */
	ck_assert_msg(strstr(err, getpwnam("ebpf-forward") ? "running as ebpf-forward (" : "running as nobody ("), "%s", err);
	ck_assert_ptr_nonnull(strstr(err, "running with 1 trace(s) and 1 output(s)"));
	ck_assert_ptr_nonnull(strstr(err, "stopping"));
	free(err);
}
END_TEST

/* -o HOST:PORT (IPv6, bracketed) and -o /PATH of a Unix socket reach the strict receiver, -p keys applied. */
START_TEST(quick_mode_forwards_to_a_receiver)
{
	struct receiver rv;
	char target[160], marker[96], tagkv[64], argkv[140];
	char *argv[] = {DAEMON_PATH, "-t", "exec", "-p", "User=nobody", "-o", target, "-p", "Tag=quick.*",
			"-p", "Flush_Ms=20", NULL};
	const char *want[] = {tagkv, argkv, NULL};
	struct proc d;
	char *out = NULL, *err;
	bool found = false;
	int status;

	if (_i == 0) {
		receiver_start_at(&rv, "::1", NULL);
		snprintf(target, sizeof(target), "[::1]:%u", rv.port);
	} else {
		receiver_start(&rv, 1, 0, NULL);
		snprintf(target, sizeof(target), "%s", rv.path);
	}
	snprintf(marker, sizeof(marker), "cli-fwd-%d-%d-%ld", _i, getpid(), (long)time(NULL));
	snprintf(tagkv, sizeof(tagkv), "\"tag\":\"quick.execve\"");
	snprintf(argkv, sizeof(argkv), "\"argv_last\":\"%s\"", marker);
	spawn(&d, argv);
	for (int tries = 0; tries < 100 && !found; tries++) {
		pid_t child = fork();

		if (child == 0) {
			execl("/bin/true", "/bin/true", marker, NULL);
			_exit(127);
		}
		waitpid(child, &status, 0);
		usleep(100000);
		free(out);
		out = receiver_slurp(rv.out);
		found = strstr(out, want[0]) && strstr(out, want[1]);
	}
	ck_assert_msg(found, "no %s record with %s at the receiver (%s)", want[0], marker, target);
	ck_assert_ptr_nonnull(strstr(out, "\"filename\":\"/bin/true\""));
	free(out);
	ck_assert_uint_eq(receiver_stat(&rv, "rejected"), 0);
	err = stop_cleanly(&d);
	ck_assert_msg(strstr(err, "running as nobody ("), "%s", err);
	free(err);
	receiver_stop(&rv);
	receiver_cleanup(&rv);
}
END_TEST

/* Bad quick-mode arguments: the argument named, exit 1; -c with them, or no argument to -t: usage, exit 2. */
START_TEST(quick_mode_bad_arguments)
{
	const char *path = write_conf(MINIMAL_CONF);
	char *bad_p[] = {DAEMON_PATH, "-t", "exec", "-p", "Bad_Key=1", NULL};
	char *bad_t[] = {DAEMON_PATH, "-t", "exec", "--trace", "nosuch", NULL};
	char *bad_o[] = {DAEMON_PATH, "-t", "exec", "-o", "nowhere", NULL};
	char *both[] = {DAEMON_PATH, "-c", (char *)path, "-t", "exec", NULL};
	char *no_arg[] = {DAEMON_PATH, "-t", NULL};
	char *check[] = {DAEMON_PATH, "-t", "exec", "-o", "[::1]:24224", "-p", "Tag=ebpf.*", "--check-config", NULL};
	char *help[] = {DAEMON_PATH, "--help", NULL};
	char *out, *err;

	ck_assert_int_eq(run(bad_p, &out, &err), 1);
	ck_assert_msg(strstr(err, "ebpf-forward: -p Bad_Key=1: unknown key"), "%s", err);
	ck_assert_str_eq(out, "");
	free(out), free(err);
	ck_assert_int_eq(run(bad_t, &out, &err), 1);
	ck_assert_msg(strstr(err, "ebpf-forward: -t nosuch: Trace: \"nosuch\" is not a trace"), "%s", err);
	free(out), free(err);
	ck_assert_int_eq(run(bad_o, &out, &err), 1);
	ck_assert_msg(strstr(err, "ebpf-forward: -o nowhere: not an output"), "%s", err);
	free(out), free(err);
	ck_assert_int_eq(run(both, &out, &err), 2);
	ck_assert_msg(strstr(err, "-c FILE and -t/-o/-p do not go together") && strstr(err, "usage:"), "%s", err);
	free(out), free(err);
	ck_assert_int_eq(run(no_arg, &out, &err), 2);
	ck_assert_msg(strstr(err, "usage:"), "%s", err);
	free(out), free(err);
	ck_assert_int_eq(run(check, &out, &err), 0);
	ck_assert_msg(strstr(out, "command line: configuration is valid (1 trace(s), output forward)"), "%s", out);
	free(out), free(err);
	/* --help says how, with an example */
	ck_assert_int_eq(run(help, &out, &err), 0);
	ck_assert_ptr_nonnull(strstr(out, "-t, --trace TRACE"));
	ck_assert_ptr_nonnull(strstr(out, "ebpf-forward -t exec -t vfs -o stdout"));
	free(out), free(err);
	unlink(path);
}
END_TEST

START_TEST(trace_that_cannot_start_stops_startup)
{
	/* a libc that is not there: malloc cannot attach, and start-up says where and why */
	const char *path = write_conf("[INPUT]\nTrace = exec\nTrace = malloc\nLibc_Path = /nonexistent/libc.so.6\n"
				      "[OUTPUT]\nName = stdout\n");
	char *argv[] = {DAEMON_PATH, "-c", (char *)path, NULL};
	char *out, *err, want[128];

	ck_assert_int_eq(run(argv, &out, &err), 1);
	snprintf(want, sizeof(want), "%s:3: trace malloc cannot start", path);
	ck_assert_msg(strstr(err, want), "no '%s' in: %s", want, err);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/libc.so.6"));
	free(out), free(err);
	unlink(path);
}
END_TEST

/* "CapabilityBoundingSet=CAP_BPF CAP_PERFMON ..." of the unit -> setpriv's "-all,+bpf,+perfmon,...". */
static void unit_bounding_set(char *out, size_t len)
{
	char *unit = NULL, *line, *tok, *save = NULL;
	size_t n = 0;
	FILE *f = fopen(SRC_DIR "/systemd/ebpf-forward.service.in", "r");

	ck_assert_ptr_nonnull(f);
	snprintf(out, len, "-all");
	while (getline(&unit, &n, f) > 0) {
		if (strncmp(unit, "CapabilityBoundingSet=", 22) != 0)
			continue;
		line = unit + 22;
		for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			size_t at = strlen(out);

			ck_assert(strncmp(tok, "CAP_", 4) == 0);
			snprintf(out + at, len - at, ",+");
			for (const char *c = tok + 4; *c && strlen(out) + 1 < len; c++) {
				at = strlen(out);
				out[at] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
				out[at + 1] = '\0';
			}
		}
	}
	free(unit);
	fclose(f);
	ck_assert_msg(strlen(out) > 4, "no CapabilityBoundingSet= in the unit");
}

/* Whether pid runs as a user other than root by now (or is gone). */
static bool left_root(pid_t pid)
{
	char path[64], line[256];
	bool left = true;
	FILE *st;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	st = fopen(path, "r");
	if (!st)
		return true;
	while (fgets(line, sizeof(line), st))
		if (strncmp(line, "Uid:", 4) == 0)
			left = strtoul(line + 5, NULL, 10) != 0;
	fclose(st);
	return left;
}

/* The value of field (e.g. "CapEff") in /proc/PID/status, as a string. */
static const char *status_field(pid_t pid, const char *field, char *out, size_t len)
{
	char path[64], line[256];
	FILE *st;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	st = fopen(path, "r");
	while (st && fgets(line, sizeof(line), st))
		if (strncmp(line, field, strlen(field)) == 0 && line[strlen(field)] == ':') {
			snprintf(out, len, "%s", line + strlen(field) + 1 + strspn(line + strlen(field) + 1, " \t"));
			out[strcspn(out, "\n")] = '\0';
		}
	if (st)
		fclose(st);
	return out;
}

START_TEST(runs_with_only_the_units_capabilities)
{
	/* what systemd would give it: the unit's bounding set, no_new_privs and SystemCallFilter= */
	char conf[1024], names[] = TRACE_NAMES, *save = NULL, want[64];
	char calls[] = "/tmp/ebpf-forward-calls-XXXXXX", cmd[512], spool[] = "/tmp/ebpf-forward-spool-XXXXXX";
	char spool_out[64];
	struct stat sst;
	const char *path;
	int ntraces = 0, fd;
	char caps[512], *out, *err;
	char *argv[] = {"/usr/bin/setpriv", "--no-new-privs", "--inh-caps", "-all", "--bounding-set", caps,
			"--", UNIT_SANDBOX_PATH, calls, DAEMON_PATH, "-c", NULL, NULL};
	struct proc d;
	int status;
	unsigned http_port = receiver_free_port();

	/* a spool too: its directory is given to the account at start (CAP_CHOWN) */
	ck_assert_ptr_nonnull(mkdtemp(spool));
	/* and the HTTP server: it accepts and answers under the unit's system calls and the daemon's own filter */
	snprintf(conf, sizeof(conf), "[SERVICE]\nStorage_Path = %s\nHTTP_Server = on\nHTTP_Port = %u\n[INPUT]\n", spool,
		 http_port);
	/* every trace of the build */
	for (char *t = strtok_r(names, " ", &save); t; t = strtok_r(NULL, " ", &save), ntraces++)
		snprintf(conf + strlen(conf), sizeof(conf) - strlen(conf), "Trace = %s\n", t);
	/* nothing listens on the discard port: the forward output spools; stdout takes only the metrics records,
	 * as nothing reads its pipe until the end and a full one would stop the loop */
	snprintf(conf + strlen(conf), sizeof(conf) - strlen(conf),
		 "[OUTPUT]\nName = stdout\nMatch = ebpf.metrics\n[OUTPUT]\nName = forward\nHost = 127.0.0.1:9\n");
	path = write_conf(conf);
	argv[11] = (char *)path;
	unit_bounding_set(caps, sizeof(caps));
	/* the unit's system call allow list, systemd's groups expanded as this machine's systemd has them */
	fd = mkstemp(calls);
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/unit_syscalls.py %s/systemd/ebpf-forward.service.in > %s",
		 SRC_DIR, SRC_DIR, calls);
	ck_assert_int_eq(system(cmd), 0);
	spawn(&d, argv);
	/* up and running as the unprivileged account: every trace attached with these capabilities */
	for (int i = 0; i < 500 && !left_root(d.pid); i++)
		usleep(20000);
	/* and from then on: no capability in any set, no_new_privs, a seccomp filter */
	usleep(300000);
	{
		char v[128];

		ck_assert_msg(strtoul(status_field(d.pid, "Uid", v, sizeof(v)), NULL, 10) != 0, "Uid %s", v);
		ck_assert_str_eq(status_field(d.pid, "CapEff", v, sizeof(v)), "0000000000000000");
		ck_assert_str_eq(status_field(d.pid, "CapPrm", v, sizeof(v)), "0000000000000000");
		ck_assert_str_eq(status_field(d.pid, "CapBnd", v, sizeof(v)), "0000000000000000");
		ck_assert_str_eq(status_field(d.pid, "NoNewPrivs", v, sizeof(v)), "1");
		ck_assert_str_eq(status_field(d.pid, "Seccomp", v, sizeof(v)), "2");
		snprintf(spool_out, sizeof(spool_out), "%s/output2", spool);
		ck_assert_int_eq(stat(spool_out, &sst), 0);
		ck_assert_uint_eq(sst.st_uid, strtoul(status_field(d.pid, "Uid", v, sizeof(v)), NULL, 10));
	}
	{
		char code[16] = "";
		FILE *p;

		snprintf(cmd, sizeof(cmd), "%s -s -m 5 -o /dev/null -w '%%{http_code}' http://127.0.0.1:%u/metrics",
			 CURL_PATH, http_port);
		p = popen(cmd, "r");
		ck_assert_ptr_nonnull(p);
		if (!fgets(code, sizeof(code), p))
			code[0] = '\0';
		pclose(p);
		ck_assert_msg(strcmp(code, "200") == 0, "GET /metrics under the unit's bounds: %s", code);
	}
	kill(d.pid, SIGTERM);
	out = slurp(d.out);
	err = slurp(d.err);
	ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit %d, log: %s", status, err);
	snprintf(want, sizeof(want), "running with %d trace(s)", ntraces);
	ck_assert_msg(strstr(err, want), "caps %s: %s", caps, err);
	unlink(calls);
	free(out);
	free(err);
	unlink(path);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", spool);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The next datagram on fd that is want (others are skipped), within ms. */
static bool got_state(int fd, const char *want, unsigned ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char buf[256];

	for (unsigned waited = 0; waited < ms; waited += 10) {
		ssize_t n;

		if (poll(&pfd, 1, 10) <= 0)
			continue;
		n = recv(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (strstr(buf, want))
			return true;
	}
	return false;
}

/* Type=notify: READY once running, WATCHDOG=1 at half WATCHDOG_USEC, STOPPING on SIGTERM; SIGHUP stops nothing. */
START_TEST(tells_systemd_ready_alive_and_stopping)
{
	const char *path = write_conf("[SERVICE]\nUser = nobody\n[INPUT]\nTrace = signal\n[OUTPUT]\nName = stdout\n");
	char sock[] = "/tmp/ebpf-forward-notify-XXXXXX", *argv[] = {DAEMON_PATH, "-c", (char *)path, NULL};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct proc d;
	char *out, *err;
	int fd, status;

	ck_assert_ptr_nonnull(mkdtemp(sock));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", sock);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* the daemon sends as nobody after the drop */
	chmod(sock, 0755);
	chmod(sa.sun_path, 0666);
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	setenv("WATCHDOG_USEC", "400000", 1);
	spawn(&d, argv);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	ck_assert_msg(got_state(fd, "READY=1", 15000), "no READY=1");
	ck_assert_msg(got_state(fd, "WATCHDOG=1", 1000), "no WATCHDOG=1 within the 0.4 s interval");
	ck_assert_msg(got_state(fd, "WATCHDOG=1", 1000), "the watchdog stopped");
	kill(d.pid, SIGHUP);
	usleep(300000);
	ck_assert_int_eq(waitpid(d.pid, &status, WNOHANG), 0); /* still running */
	kill(d.pid, SIGTERM);
	ck_assert_msg(got_state(fd, "STOPPING=1", 5000), "no STOPPING=1");
	out = slurp(d.out);
	err = slurp(d.err);
	ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit %d: %s", status, err);
	ck_assert_msg(strstr(err, "SIGHUP: the configuration is read at start only"), "%s", err);
	free(out);
	free(err);
	close(fd);
	unlink(sa.sun_path);
	rmdir(sock);
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("binary");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, version_and_help);
	tcase_add_test(tc, check_config_good_and_bad);
	tcase_add_test(tc, help_config_lists_every_key);
	tcase_add_test(tc, quick_mode_bad_arguments);
	if (geteuid() == 0) {
		tcase_add_test(tc, list_traces_says_what_attaches);
		tcase_add_test(tc, daemon_prints_records_and_stops_on_sigterm);
		tcase_add_test(tc, trace_that_cannot_start_stops_startup);
		tcase_add_test(tc, quick_mode_prints_exec_records);
		tcase_add_loop_test(tc, quick_mode_forwards_to_a_receiver, 0, 2);
		tcase_add_test(tc, runs_with_only_the_units_capabilities);
	tcase_add_test(tc, tells_systemd_ready_alive_and_stopping);
	} else {
		fprintf(stderr, "test_cli: not root: the tests that load traces are not run\n");
		return EXIT_FAILURE;
	}
	suite_add_tcase(s, tc);
	return suite_run(s);
}
