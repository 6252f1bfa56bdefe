/* test_http.c: the daemon's HTTP server as curl, promtool and hostile clients meet it (real daemon, real traces). */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "receiver_proc.h"
#include "suite_run.h"

#ifndef DAEMON_PATH
#error "DAEMON_PATH must name the built binary"
#endif
#ifndef CURL_PATH
#define CURL_PATH ""
#endif
#ifndef PROMTOOL_PATH
#define PROMTOOL_PATH ""
#endif

/* The server's bounds (daemon/http_server.h), as a client sees them. */
#define HEADER_MAX 8192
#define MAX_CONNECTIONS 16
#define DEADLINE_MS 5000
/* Connections over the limit in one test: done well within the deadline that frees the held ones. */
#define FLOOD 1000

struct daemon_proc {
	pid_t pid;
	uint16_t port;             /* its HTTP_Port */
	char conf[64];
	char log[80];
};

static struct receiver rv;
static struct daemon_proc d;

static int tcp_connect(void);

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void daemon_start(void)
{
	char text[1024];
	int fd;

	d.port = receiver_free_port();
	snprintf(d.conf, sizeof(d.conf), "/tmp/ebpf-forward-http-XXXXXX");
	fd = mkstemp(d.conf);
	ck_assert_int_ge(fd, 0);
	snprintf(text, sizeof(text),
		 "[SERVICE]\nUser = nobody\nStats_Interval = 0\nHTTP_Server = on\nHTTP_Port = %u\n"
		 "[INPUT]\nTrace = exec\n[OUTPUT]\nName = forward\nPort = %u\nTag = ebpf.*\nFlush_Ms = 50\n",
		 d.port, rv.port);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(d.log, sizeof(d.log), "%s.log", d.conf);
	d.pid = fork();
	ck_assert_int_ge(d.pid, 0);
	if (d.pid == 0) {
		int log = open(d.log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(log, 2);
		execl(DAEMON_PATH, DAEMON_PATH, "-c", d.conf, NULL);
		_exit(127);
	}
	ck_assert_msg(receiver_file_has(d.log, "HTTP server on 127.0.0.1", 15000), "the daemon did not start its HTTP server");
	ck_assert_msg(receiver_file_has(d.log, "connected to", 10000), "the daemon did not connect to the receiver");
}

static void setup(void)
{
	ck_assert_msg(CURL_PATH[0] && access(CURL_PATH, X_OK) == 0, "curl is missing: run scripts/deps.sh");
	receiver_start(&rv, 0, 0, NULL);
	daemon_start();
}

static void teardown(void)
{
	char *log = NULL;
	int status = 0;

	if (d.pid > 0) {
		kill(d.pid, SIGTERM);
		waitpid(d.pid, &status, 0);
		d.pid = 0;
		log = receiver_slurp(d.log);
		unlink(d.conf);
		unlink(d.log);
	}
	if (rv.pid > 0)
		receiver_stop(&rv);
	receiver_cleanup(&rv);
	/* a clean stop: the server closed every connection, and (sanitized) nothing leaked */
	ck_assert_msg(!log || (WIFEXITED(status) && WEXITSTATUS(status) == 0), "daemon exit status %d: %s", status, log);
	free(log);
}

/* curl's answer to METHOD path: the status, the body in *body (malloc'd), the content type in type. */
static int curl(const char *method, const char *path, char **body, char *type, size_t typelen)
{
	char cmd[512], out[64] = "/tmp/ebpf-forward-http-body-XXXXXX", line[256] = "";
	int fd = mkstemp(out), status = 0;
	FILE *p;

	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s -s -m 5 %s -o %s -w '%%{http_code} %%{content_type}' http://127.0.0.1:%u%s",
		 CURL_PATH, strcmp(method, "HEAD") == 0 ? "-I" : strcmp(method, "GET") ? "-X POST" : "", out, d.port,
		 path);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	pclose(p);
	status = atoi(line);
	if (type)
		snprintf(type, typelen, "%s", strchr(line, ' ') ? strchr(line, ' ') + 1 : "");
	if (body)
		*body = receiver_slurp(out);
	unlink(out);
	return status;
}

/* The value of the sample whose line starts with series ("name{labels}"), from a fresh scrape; -1 if missing. */
static long long sample(const char *series)
{
	char *body = NULL, needle[256];
	const char *at;
	long long v = -1;

	ck_assert_int_eq(curl("GET", "/metrics", &body, NULL, 0), 200);
	snprintf(needle, sizeof(needle), "\n%s ", series);
	at = strstr(body, needle);
	if (at)
		v = strtoll(at + strlen(needle), NULL, 10);
	free(body);
	return v;
}

/* Waits (up to ms) for series to exceed than; returns its last value. */
static long long wait_above(const char *series, long long than, unsigned ms)
{
	long long v = -1;

	for (unsigned i = 0; i <= ms / 100; i++) {
		v = sample(series);
		if (v > than)
			break;
		usleep(100000);
	}
	return v;
}

static void run_true(int times)
{
	for (int i = 0; i < times; i++) {
		pid_t pid = fork();
		int status;

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			execl("/bin/true", "/bin/true", NULL);
			_exit(127);
		}
		waitpid(pid, &status, 0);
	}
}

START_TEST(metrics_count_events_and_pass_promtool)
{
	static const char *const exec_events = "ebpf_forward_events_total{trace=\"exec\"}";
	static const char *const records_in = "ebpf_forward_output_records_in_total{output=\"forward\",index=\"1\"}";
	static const char *const acked = "ebpf_forward_output_records_acked_total{output=\"forward\",index=\"1\"}";
	char type[128], cmd[512], file[64] = "/tmp/ebpf-forward-metrics-XXXXXX", *body, *out;
	long long events, in, v;
	int fd, rc;
	FILE *p;

	ck_assert_int_eq(curl("GET", "/metrics", &body, type, sizeof(type)), 200);
	ck_assert_str_eq(type, "text/plain; version=0.0.4; charset=utf-8");
	ck_assert_ptr_nonnull(strstr(body, "# TYPE ebpf_forward_events_total counter\n"));
	ck_assert_ptr_nonnull(strstr(body, "\nebpf_forward_build_info{version=\"" EBPF_FORWARD_VERSION "\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(body, "\nebpf_forward_output_connected{output=\"forward\",index=\"1\"} 1\n"));
	free(body);
	events = sample(exec_events);
	in = sample(records_in);
	ck_assert_int_ge(events, 0);
	ck_assert_int_ge(in, 0);
	/* each /bin/true is an execve enter and exit at least */
	run_true(5);
	v = wait_above(exec_events, events + 9, 5000);
	ck_assert_msg(v >= events + 10, "events_total went from %lld to %lld after 5 execs", events, v);
	v = wait_above(records_in, in + 9, 5000);
	ck_assert_msg(v >= in + 10, "records_in_total went from %lld to %lld", in, v);
	ck_assert_msg(wait_above(acked, 0, 5000) > 0, "no record acked");
	ck_assert_int_ge(sample("ebpf_forward_start_time_seconds"), (long long)time(NULL) - 120);

	/* Prometheus's own check of the format and its naming conventions */
	ck_assert_msg(PROMTOOL_PATH[0] && access(PROMTOOL_PATH, X_OK) == 0,
		      "promtool is missing: run scripts/deps.sh (Debian package prometheus)");
	ck_assert_int_eq(curl("GET", "/metrics", &body, NULL, 0), 200);
	fd = mkstemp(file);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, body, strlen(body)), (ssize_t)strlen(body));
	close(fd);
	free(body);
	snprintf(cmd, sizeof(cmd), "%s check metrics < %s 2>&1", PROMTOOL_PATH, file);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	out = calloc(1, 4096);
	ck_assert_uint_lt(fread(out, 1, 4095, p), 4095);
	rc = pclose(p);
	unlink(file);
	ck_assert_msg(WIFEXITED(rc) && WEXITSTATUS(rc) == 0 && !out[0], "promtool check metrics: %d: %s", rc, out);
	free(out);
}
END_TEST

START_TEST(methods_and_paths)
{
	char type[128], *body;

	/* -I writes the headers where the body would go: they, and nothing after them */
	ck_assert_int_eq(curl("HEAD", "/metrics", &body, type, sizeof(type)), 200);
	ck_assert_str_eq(type, "text/plain; version=0.0.4; charset=utf-8");
	ck_assert_ptr_nonnull(strstr(body, "\r\nContent-Length: "));
	ck_assert_ptr_nonnull(strstr(body, "\r\nConnection: close\r\n"));
	ck_assert_ptr_null(strstr(body, "# HELP"));
	free(body);
	ck_assert_int_eq(curl("GET", "/metrics?x=1", NULL, NULL, 0), 200);
	ck_assert_int_eq(curl("POST", "/metrics", &body, NULL, 0), 405);
	ck_assert_str_eq(body, "only GET and HEAD\n");
	free(body);
	ck_assert_int_eq(curl("GET", "/", NULL, NULL, 0), 404);
	ck_assert_int_eq(curl("GET", "/metricsx", NULL, NULL, 0), 404);
	ck_assert_int_eq(curl("GET", "/api/v1/health/", NULL, NULL, 0), 404);
	/* left open: the daemon stops (teardown) with a connection half-way, and must still exit cleanly */
	tcp_connect();
}
END_TEST

START_TEST(health_follows_the_receiver)
{
	char type[128], *body = NULL;
	int status = 0;

	ck_assert_int_eq(curl("GET", "/api/v1/health", &body, type, sizeof(type)), 200);
	ck_assert_str_eq(body, "output 1 (forward): connected\n");
	ck_assert_str_eq(type, "text/plain; charset=utf-8");
	free(body);
	body = NULL;
	receiver_stop(&rv);
	rv.pid = 0;
	ck_assert_msg(receiver_file_has(d.log, "lost", 5000), "the daemon did not notice the receiver going");
	for (int i = 0; i < 50 && status != 503; i++) {
		free(body);
		body = NULL;
		status = curl("GET", "/api/v1/health", &body, NULL, 0);
		if (status != 503)
			usleep(100000);
	}
	ck_assert_int_eq(status, 503);
	ck_assert_str_eq(body, "output 1 (forward): NOT connected, no spool: records wait in memory\n");
	free(body);
	ck_assert_int_eq(sample("ebpf_forward_output_healthy{output=\"forward\",index=\"1\"}"), 0);
	ck_assert_int_eq(sample("ebpf_forward_output_connected{output=\"forward\",index=\"1\"}"), 0);
}
END_TEST

static int tcp_connect(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(d.port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_msg(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0, "connect: %s", strerror(errno));
	return fd;
}

/* Reads fd until EOF (or a reset) for up to ms; returns the bytes in buf (NUL-terminated), -1 if it stayed open. */
static ssize_t read_to_close(int fd, char *buf, size_t cap, unsigned ms)
{
	double end = now_s() + ms / 1000.0;
	size_t len = 0;

	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int left = (int)((end - now_s()) * 1000);
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -1;
		n = read(fd, buf + len, cap - 1 - len);
		if (n <= 0 || len + (size_t)n == cap - 1) {
			if (n > 0)
				len += (size_t)n;
			buf[len] = '\0';
			return (ssize_t)len;
		}
		len += (size_t)n;
	}
}

START_TEST(oversized_headers_get_431_and_close)
{
	char big[HEADER_MAX + 1024], reply[1024];
	size_t o;
	int fd = tcp_connect();
	ssize_t n;

	o = (size_t)snprintf(big, sizeof(big), "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Filler: ");
	memset(big + o, 'a', sizeof(big) - o);
	/* the server answers once it has its 8 KiB; the rest may meet a closed door */
	n = write(fd, big, sizeof(big));
	ck_assert_int_gt(n, 0);
	n = read_to_close(fd, reply, sizeof(reply), 3000);
	ck_assert_msg(n >= 0, "the connection stayed open after oversized headers");
	ck_assert_msg(strncmp(reply, "HTTP/1.1 431 ", 13) == 0, "reply: %s", reply);
	close(fd);
	ck_assert_int_ge(sample("ebpf_forward_http_oversized_requests_total"), 1);
}
END_TEST

START_TEST(silent_client_dropped_at_deadline_others_served)
{
	char reply[256];
	double t0 = now_s();
	int idle = tcp_connect(), slow = tcp_connect();
	ssize_t n;

	/* slowloris: a request line a byte at a time, never finished */
	ck_assert_int_eq(write(slow, "G", 1), 1);
	/* meanwhile everyone else is served */
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(curl("GET", "/metrics", NULL, NULL, 0), 200);
	ck_assert_int_eq(write(slow, "E", 1), 1);
	n = read_to_close(idle, reply, sizeof(reply), DEADLINE_MS + 3000);
	ck_assert_msg(n == 0, "the silent client was not dropped (%zd)", n);
	ck_assert_msg(now_s() - t0 >= DEADLINE_MS / 1000.0 - 0.5, "dropped after %.1f s, before the deadline",
		      now_s() - t0);
	n = read_to_close(slow, reply, sizeof(reply), 2000);
	ck_assert_msg(n == 0, "the slow client was not dropped (%zd)", n);
	close(idle);
	close(slow);
	ck_assert_int_ge(sample("ebpf_forward_http_timed_out_connections_total"), 2);
}
END_TEST

static long rss_kib(pid_t pid)
{
	char path[64], *status, *at;
	long kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	status = receiver_slurp(path);
	at = strstr(status, "VmRSS:");
	if (at)
		kib = strtol(at + 6, NULL, 10);
	free(status);
	return kib;
}

START_TEST(connections_over_the_limit_refused_without_growth)
{
	int held[MAX_CONNECTIONS];
	char reply[256];
	long before, after;
	int refused = 0;
	double t0;

	/* every slot taken by a client that says nothing */
	for (int i = 0; i < MAX_CONNECTIONS; i++)
		held[i] = tcp_connect();
	usleep(200000);
	before = rss_kib(d.pid);
	ck_assert_int_gt(before, 0);
	/* a flood beyond them: each is told 503 and closed, none waits for a slot */
	t0 = now_s();
	for (int i = 0; i < FLOOD; i++) {
		int fd = tcp_connect();
		ssize_t n = read_to_close(fd, reply, sizeof(reply), 2000);

		refused += n > 0 && strncmp(reply, "HTTP/1.1 503 ", 13) == 0;
		close(fd);
	}
	after = rss_kib(d.pid);
	ck_assert_msg(now_s() - t0 < DEADLINE_MS / 1000.0, "the flood took %.1f s, past the held ones' deadline",
		      now_s() - t0);
	ck_assert_int_eq(refused, FLOOD);
	/* nothing is allocated per refused connection; a little slack for the allocator and the rings' pages */
	ck_assert_msg(after - before < 1024, "RSS grew from %ld to %ld KiB over %d refused connections", before, after, FLOOD);
	for (int i = 0; i < MAX_CONNECTIONS; i++)
		close(held[i]);
	/* the slots come back */
	for (int i = 0; i < 20; i++)
		if (curl("GET", "/metrics", NULL, NULL, 0) == 200)
			break;
	ck_assert_int_eq(curl("GET", "/metrics", NULL, NULL, 0), 200);
	ck_assert_int_ge(sample("ebpf_forward_http_refused_connections_total"), FLOOD);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("daemon_http");

	(void)argc;
	if (geteuid() != 0) {
		fprintf(stderr, "%s: must run as root (the daemon loads BPF programs)\n", argv[0]);
		return EXIT_FAILURE;
	}
	/* each test gets a daemon of its own: one's hostile clients do not meet the next */
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, metrics_count_events_and_pass_promtool);
	tcase_add_test(tc, methods_and_paths);
	tcase_add_test(tc, health_follows_the_receiver);
	tcase_add_test(tc, oversized_headers_get_431_and_close);
	tcase_add_test(tc, silent_client_dropped_at_deadline_others_served);
	tcase_add_test(tc, connections_over_the_limit_refused_without_growth);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
