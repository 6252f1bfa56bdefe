/* test_e2e.c: the daemon with real traces sends to the strict receiver over TCP and a Unix socket. */
#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "receiver_proc.h"
#include "tls_certs.h"
#include "suite_run.h"

#ifndef DAEMON_PATH
#error "DAEMON_PATH must name the built binary"
#endif

struct daemon_proc {
	pid_t pid;
	char conf[64];
	char log[80];
	char out[80];   /* its standard output: a stdout output's JSON lines */
};

static const char *output_extra = "";

static void daemon_start(struct daemon_proc *d, const struct receiver *rv, const char *stats_interval)
{
	char text[1024];
	int fd;

	snprintf(d->conf, sizeof(d->conf), "/tmp/ebpf-forward-e2e-XXXXXX");
	fd = mkstemp(d->conf);
	ck_assert_int_ge(fd, 0);
	if (rv->unix_socket)
		snprintf(text, sizeof(text),
			 "[SERVICE]\nUser = nobody\nStats_Interval = %s\n[INPUT]\nTrace = exec\nTrace = vfs\n"
			 "[OUTPUT]\nName = forward\nUnix_Path = %s\nTag = ebpf.*\nFlush_Ms = 50\n%s",
			 stats_interval ? stats_interval : "0", rv->path, output_extra);
	else
		snprintf(text, sizeof(text),
			 "[SERVICE]\nUser = nobody\nStats_Interval = %s\n[INPUT]\nTrace = exec\nTrace = vfs\n"
			 "[OUTPUT]\nName = forward\nPort = %u\nTag = ebpf.*\nFlush_Ms = 50\n%s",
			 stats_interval ? stats_interval : "0", rv->port, output_extra);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(d->log, sizeof(d->log), "%s.log", d->conf);
	snprintf(d->out, sizeof(d->out), "%s.out", d->conf);
	d->pid = fork();
	ck_assert_int_ge(d->pid, 0);
	if (d->pid == 0) {
		int log = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int out = open(d->out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(log, 2);
		dup2(out, 1);
		execl(DAEMON_PATH, DAEMON_PATH, "-c", d->conf, NULL);
		_exit(127);
	}
}

/* Waits (up to ms) for the daemon's log to contain text. */
static bool log_has(struct daemon_proc *d, const char *text, unsigned ms)
{
	return receiver_file_has(d->log, text, ms);
}

static void daemon_stop(struct daemon_proc *d)
{
	int status;

	kill(d->pid, SIGTERM);
	ck_assert_int_eq(waitpid(d->pid, &status, 0), d->pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "daemon exit status %d", status);
	unlink(d->conf);
	unlink(d->log);
	unlink(d->out);
}

/* The first receiver line (a malloc'd copy) containing all of needles, waiting up to ms. */
static char *wait_line(struct receiver *rv, const char *const needles[], unsigned ms)
{
	for (unsigned i = 0; i <= ms / 20; i++) {
		char *text = receiver_slurp(rv->out), *line = text, *nl;

		for (; *line; line = nl + 1) {
			bool all = true;

			nl = strchr(line, '\n');
			if (!nl)
				break;
			*nl = '\0';
			for (int k = 0; needles[k] && all; k++)
				all = strstr(line, needles[k]) != NULL;
			if (all) {
				char *copy = strdup(line);

				free(text);
				return copy;
			}
		}
		free(text);
		usleep(20000);
	}
	return NULL;
}

static char marker[96];
static char path[160];

static void new_marker(const char *what)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(marker, sizeof(marker), "e2e-%s-%d-%ld", what, getpid(), ts.tv_nsec);
	snprintf(path, sizeof(path), "/tmp/%s", marker);
}

/* A child opens the marker path and then execs /bin/true with the marker; returns its pid. */
static pid_t act(void)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char arg[96];
		int fd = open(path, O_RDONLY);

		if (fd >= 0)
			close(fd);
		snprintf(arg, sizeof(arg), "%s", marker);
		execl("/bin/true", "/bin/true", arg, NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return pid;
}

static void assert_time_near(const char *line, time_t when)
{
	const char *t = strstr(line, "\"time_sec\":");
	long sec;

	ck_assert_ptr_nonnull(t);
	sec = strtol(t + 11, NULL, 10);
	ck_assert_msg(labs(sec - (long)when) <= 1, "event time %ld vs action at %ld", sec, (long)when);
	ck_assert_ptr_nonnull(strstr(line, "\"time_type\":\"eventtime\""));
}

/* Waits for the vfs and execve records of the child's action and checks them. */
static void expect_records(struct receiver *rv, pid_t pid, time_t when)
{
	char pidkey[32], pathkv[200], argkv[140];
	const char *vfs[] = {"\"tag\":\"ebpf.vfs\"", pathkv, pidkey, NULL};
	const char *exec[] = {"\"tag\":\"ebpf.execve\"", argkv, pidkey, "\"stage\":\"enter\"", NULL};
	char *line;

	snprintf(pidkey, sizeof(pidkey), "\"pid\":%d,", pid);
	snprintf(pathkv, sizeof(pathkv), "\"path\":\"%s\"", path);
	snprintf(argkv, sizeof(argkv), "\"argv_last\":\"%s\"", marker);

	line = wait_line(rv, vfs, 5000);
	ck_assert_msg(line, "no vfs record of %s from pid %d", path, pid);
	assert_time_near(line, when);
	/* keys and msgpack types of record-schema.md */
	ck_assert_ptr_nonnull(strstr(line, "\"event_type\":\"vfs\""));
	ck_assert_ptr_nonnull(strstr(line, "\"comm\":\"test_e2e\""));
	ck_assert_ptr_nonnull(strstr(line, "\"error_raw\":2"));
	ck_assert_ptr_nonnull(strstr(line, "\"fd\":-1"));
	ck_assert_ptr_nonnull(strstr(line, "\"types\":{\"event_type\":\"str\",\"event_id\":\"uint\","
					   "\"pid\":\"uint\",\"tid\":\"uint\",\"comm\":\"str\","
					   "\"operation\":\"uint\",\"path\":\"str\",\"flags\":\"uint\","
					   "\"mode\":\"uint\",\"fd\":\"int\",\"error_raw\":\"uint\""));
	free(line);

	line = wait_line(rv, exec, 5000);
	ck_assert_msg(line, "no execve record of %s from pid %d", marker, pid);
	assert_time_near(line, when);
	ck_assert_ptr_nonnull(strstr(line, "\"filename\":\"/bin/true\""));
	ck_assert_ptr_nonnull(strstr(line, "\"argc\":2"));
	ck_assert_ptr_nonnull(strstr(line, "\"types\":{\"event_type\":\"str\",\"event_id\":\"uint\","
					   "\"pid\":\"uint\",\"tid\":\"uint\",\"comm\":\"str\","
					   "\"stage\":\"str\",\"ppid\":\"uint\",\"filename\":\"str\",\"argv\":\"str\","
					   "\"argv1\":\"str\",\"argv2\":\"str\",\"argv_last\":\"str\","
					   "\"argc\":\"uint\",\"error_raw\":\"uint\""));
	free(line);
}

static void records_arrive(int unix_socket)
{
	struct receiver rv;
	struct daemon_proc d;
	pid_t pid;
	time_t when;

	receiver_start(&rv, unix_socket, 0, NULL);
	daemon_start(&d, &rv, NULL);
	ck_assert_msg(log_has(&d, "connected to", 10000), "daemon did not connect");
	new_marker(unix_socket ? "unix" : "tcp");
	when = time(NULL);
	pid = act();
	expect_records(&rv, pid, when);
	ck_assert_uint_eq(receiver_stat(&rv, "rejected"), 0);
	daemon_stop(&d);
	receiver_cleanup(&rv);
}

START_TEST(records_over_tcp)
{
	records_arrive(0);
}
END_TEST

START_TEST(records_over_unix_socket)
{
	records_arrive(1);
}
END_TEST

START_TEST(records_gzip_compressed)
{
	static const char *const compressed[] = {"\"mode\":\"compressed\"", NULL};
	struct receiver rv;
	struct daemon_proc d;
	pid_t pid;
	time_t when;
	char *line;

	output_extra = "Compress = gzip\n";
	receiver_start(&rv, 0, 0, NULL);
	daemon_start(&d, &rv, NULL);
	ck_assert_msg(log_has(&d, "connected to", 10000), "daemon did not connect");
	new_marker("gzip");
	when = time(NULL);
	pid = act();
	expect_records(&rv, pid, when);
	/* and they came in CompressedPackedForward frames */
	line = wait_line(&rv, compressed, 1000);
	ck_assert_msg(line, "no compressed frame at the receiver");
	free(line);
	ck_assert_uint_eq(receiver_stat(&rv, "rejected"), 0);
	daemon_stop(&d);
	receiver_cleanup(&rv);
	output_extra = "";
}
END_TEST

/*
 * TLS with a client certificate and the shared key inside it, set by the
 * file's keys: the files are read as root before the drop, the records
 * arrive whole, and the log says what was verified.
 */
START_TEST(records_over_tls_with_a_client_certificate_and_shared_key)
{
	struct tls_certs certs;
	struct receiver rv;
	struct daemon_proc d;
	static char extra[1024];
	const char *args[11];
	pid_t pid;
	time_t when;

	tls_certs_make(&certs);
	args[0] = "--tls-cert", args[1] = certs.server_crt, args[2] = "--tls-key", args[3] = certs.server_key;
	args[4] = "--tls-client-ca", args[5] = certs.ca, args[6] = "--shared-key", args[7] = "e2e-key", args[8] = NULL;
	snprintf(extra, sizeof(extra), "tls = on\ntls.ca_file = %s\ntls.vhost = localhost\ntls.crt_file = %s\n"
		 "tls.key_file = %s\nShared_Key = e2e-key\n", certs.ca, certs.client_crt, certs.client_key);
	output_extra = extra;
	receiver_start(&rv, 0, 0, args);
	daemon_start(&d, &rv, NULL);
	ck_assert_msg(log_has(&d, "certificate verified, shared key verified)", 10000), "daemon did not connect over TLS");
	ck_assert_msg(log_has(&d, " over TLS, frames up to", 100), "the output's line does not say TLS");
	new_marker("tls");
	when = time(NULL);
	pid = act();
	expect_records(&rv, pid, when);
	ck_assert_uint_eq(receiver_stat(&rv, "rejected"), 0);
	daemon_stop(&d);
	ck_assert_uint_eq(receiver_stat(&rv, "tls_ok"), 1);
	ck_assert_uint_eq(receiver_stat(&rv, "auth_ok"), 1);
	receiver_cleanup(&rv);
	tls_certs_cleanup(&certs);
	output_extra = "";
}
END_TEST

START_TEST(receiver_restart_midstream)
{
	struct receiver rv;
	struct daemon_proc d;
	pid_t pid;
	time_t when;
	char *log;

	receiver_start(&rv, 0, 0, NULL);
	daemon_start(&d, &rv, NULL);
	ck_assert_msg(log_has(&d, "connected to", 10000), "daemon did not connect");
	new_marker("before");
	when = time(NULL);
	pid = act();
	expect_records(&rv, pid, when);

	receiver_stop(&rv);
	ck_assert_msg(log_has(&d, "lost", 5000), "daemon did not notice the receiver going");
	/* while it is away: kept in the daemon's buffer */
	new_marker("during");
	when = time(NULL);
	pid = act();
	usleep(300000);
	receiver_restart(&rv, NULL);
	ck_assert_msg(log_has(&d, "connected to 127.0.0.1", 1) || log_has(&d, "again", 10000),
		      "daemon did not reconnect");
	expect_records(&rv, pid, when);
	/* and after it */
	new_marker("after");
	when = time(NULL);
	pid = act();
	expect_records(&rv, pid, when);
	log = receiver_slurp(d.log);
	ck_assert_msg(strstr(log, "dropped") == NULL || strstr(log, "0 records were dropped"), "%s", log);
	free(log);
	daemon_stop(&d);
	receiver_cleanup(&rv);
}
END_TEST

START_TEST(metrics_records_arrive)
{
	static const char *const trace_m[] = {"\"tag\":\"ebpf.metrics\"", "\"trace\":\"vfs\"", "\"lost_kernel\":0", NULL};
	static const char *const out_m[] = {"\"tag\":\"ebpf.metrics\"", "\"output\":\"forward\"",
					    "\"records_dropped\":0", "\"connected\":true", NULL};
	struct receiver rv;
	struct daemon_proc d;
	char *line;

	receiver_start(&rv, 0, 0, NULL);
	daemon_start(&d, &rv, "1");
	ck_assert_msg(log_has(&d, "connected to", 10000), "daemon did not connect");
	line = wait_line(&rv, trace_m, 5000);
	ck_assert_msg(line, "no metrics record of the vfs trace");
	ck_assert_ptr_nonnull(strstr(line, "\"event_type\":\"metrics\""));
	ck_assert_ptr_nonnull(strstr(line, "\"events\":"));
	free(line);
	line = wait_line(&rv, out_m, 5000);
	ck_assert_msg(line, "no metrics record of the output");
	ck_assert_ptr_nonnull(strstr(line, "\"records_acked\":"));
	free(line);
	daemon_stop(&d);
	receiver_cleanup(&rv);
}
END_TEST

/* ---- exact records: whole paths and command lines, valid UTF-8, through both outputs ---- */

static char exact_dir[128];

/* Adds a spec line for exact_check.py: the kind, then each string in hex. */
static void spec_line(FILE *f, const char *kind, const char *const *strs)
{
	fputs(kind, f);
	for (; *strs; strs++) {
		fputc(' ', f);
		for (const unsigned char *c = (const unsigned char *)*strs; *c; c++)
			fprintf(f, "%02x", *c);
	}
	fputc('\n', f);
}

static void run_and_wait(char *const argv[])
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
}

/* The 4,000-byte path: exact_dir, then names of 200 'd' (made), then one of 'f' to make the length. */
static void long_file_path(char *out, size_t len)
{
	size_t n = (size_t)snprintf(out, PATH_MAX, "%s", exact_dir);

	while (len - n > 250) {
		out[n++] = '/';
		memset(out + n, 'd', 200);
		n += 200;
		out[n] = '\0';
		mkdir(out, 0755);
	}
	out[n++] = '/';
	memset(out + n, 'f', len - n);
	out[len] = '\0';
}

/*
 * The cases, acted by this process's children and written to a
 * spec for exact_check.py: a file name that is not UTF-8, a 4,000-byte
 * path, arguments with spaces, quotes, a backslash, bad bytes; 200
 * arguments; one argument over the limits (marked).
 */
static void exact_act(const char *spec_path)
{
	static char many[200][8], big[5001], longp[PATH_MAX];
	char name[PATH_MAX], *many_argv[203];
	char *odd_argv[] = {"/bin/true", "a b", "it's \"q\"", "back\\slash", "tab\there", "\xff\xfe", "\xe2\x82\xac",
			    marker, NULL};
	char *big_argv[] = {"/bin/true", big, marker, NULL};
	const char *strs[210];
	FILE *f = fopen(spec_path, "w");
	int fd;

	ck_assert_ptr_nonnull(f);
	snprintf(name, sizeof(name), "%s/report-\xff\xfe.txt", exact_dir);
	fd = open(name, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	strs[0] = name, strs[1] = NULL;
	spec_line(f, "vfs", strs);
	long_file_path(longp, 4000);
	fd = open(longp, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	strs[0] = longp;
	spec_line(f, "vfs", strs);

	run_and_wait(odd_argv);
	spec_line(f, "exec", (const char *const *)odd_argv);
	many_argv[0] = "/bin/true";
	for (int i = 0; i < 200; i++) {
		snprintf(many[i], sizeof(many[i]), "a-%03d", i);
		many_argv[1 + i] = many[i];
	}
	many_argv[201] = marker;
	many_argv[202] = NULL;
	run_and_wait(many_argv);
	spec_line(f, "exec", (const char *const *)many_argv);
	memset(big, 'x', sizeof(big) - 1);
	run_and_wait(big_argv);
	strs[0] = big, strs[1] = NULL;
	spec_line(f, "execcut", strs);
	fclose(f);
}

/* Removes exact_dir and what exact_act made in it. */
static void exact_cleanup(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", exact_dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(exact_records_through_forward_and_stdout)
{
	static const char *const last[] = {"\"tag\":\"ebpf.execve\"", "\"stage\":\"exit\"", "xxxxxxxxxx", NULL};
	char spec[160], cmd[1024];
	struct receiver rv;
	struct daemon_proc d;
	char *line;
	int rc;

	output_extra = "[OUTPUT]\nName = stdout\n";
	new_marker("exact");
	snprintf(exact_dir, sizeof(exact_dir), "/tmp/%s.d", marker);
	snprintf(spec, sizeof(spec), "/tmp/%s.spec", marker);
	ck_assert_int_eq(mkdir(exact_dir, 0755), 0);
	receiver_start(&rv, 0, 0, NULL);
	daemon_start(&d, &rv, NULL);
	ck_assert_msg(log_has(&d, "connected to", 10000), "daemon did not connect");
	exact_act(spec);
	/* the last exec's exit record has come: the others came before it */
	line = wait_line(&rv, last, 5000);
	ck_assert_msg(line, "no execve exit record of the long argument");
	free(line);
	usleep(200000);
	kill(d.pid, SIGTERM);
	ck_assert_int_eq(waitpid(d.pid, &rc, 0), d.pid);
	d.pid = -1;
	ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "daemon exit status %d", rc);
	/* every str was valid UTF-8, or the strict receiver would have refused its frame */
	ck_assert_uint_eq(receiver_stat(&rv, "rejected"), 0);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/tests/exact_check.py %s %s %s", SRC_DIR, spec, rv.out, d.out);
	rc = system(cmd);
	ck_assert_msg(rc == 0, "exact_check.py found records that are not exact (exit %d): %s", rc, cmd);
	unlink(d.conf);
	unlink(d.log);
	unlink(d.out);
	unlink(spec);
	exact_cleanup();
	receiver_cleanup(&rv);
	output_extra = "";
}
END_TEST

int main(void)
{
	Suite *s = suite_create("e2e");
	TCase *tc = tcase_create("daemon_to_receiver");

	if (geteuid() != 0) {
		fprintf(stderr, "test_e2e: must run as root (the daemon loads BPF programs)\n");
		return EXIT_FAILURE;
	}
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, records_over_tcp);
	tcase_add_test(tc, records_over_unix_socket);
	tcase_add_test(tc, records_gzip_compressed);
	tcase_add_test(tc, records_over_tls_with_a_client_certificate_and_shared_key);
	tcase_add_test(tc, receiver_restart_midstream);
	tcase_add_test(tc, metrics_records_arrive);
	tcase_add_test(tc, exact_records_through_forward_and_stdout);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
