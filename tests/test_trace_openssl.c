/* test_trace_openssl.c: the openssl trace loaded for real: TLS over loopback with the system's libssl, from Python and from C. */
#include <arpa/inet.h>
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "events.h"
#include "registry.h"
#include "rig.h"
#include "suite_run.h"
#include "traces.h"
#include "uprobe.h"

#define PYTHON "/usr/bin/python3"

/*
 * The TLS peer in Python's ssl module (which links the system's libssl.so.3
 * and calls SSL_read_ex / SSL_write_ex). "server DIR N" serves N connections
 * with DIR's certificate: reads a message, answers "pong:" + it, shuts down;
 * it prints its port first. "client PORT" does a handshake, writes
 * PY_PING, reads the answer, and shuts down (unwrap: SSL_shutdown returns 0
 * first, having sent its close_notify, then 1 once the server's came back).
 * Its sockets block, so each call is one call into libssl (with a timeout
 * Python makes them non-blocking and retries on -1); an alarm ends a peer
 * left waiting by a failed test.
 */
static const char peer_py[] =
	"import signal, socket, ssl, sys\n"
	"signal.alarm(60)\n"
	"if sys.argv[1] == 'server':\n"
	"    d, n = sys.argv[2], int(sys.argv[3])\n"
	"    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
	"    ctx.load_cert_chain(d + '/cert.pem', d + '/key.pem')\n"
	"    s = socket.socket()\n"
	"    s.bind(('127.0.0.1', 0))\n"
	"    s.listen(4)\n"
	"    print(s.getsockname()[1], flush=True)\n"
	"    for _ in range(n):\n"
	"        c, _ = s.accept()\n"
	"        t = ctx.wrap_socket(c, server_side=True)\n"
	"        t.sendall(b'pong:' + t.recv(100))\n"
	"        t.unwrap()\n"
	"        t.close()\n"
	"else:\n"
	"    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)\n"
	"    ctx.check_hostname = False\n"
	"    ctx.verify_mode = ssl.CERT_NONE\n"
	"    s = socket.create_connection(('127.0.0.1', int(sys.argv[2])))\n"
	"    t = ctx.wrap_socket(s, do_handshake_on_connect=False)\n"
	"    t.do_handshake()\n"
	"    t.sendall(b'ping-python')\n"
	"    got = t.recv(100)\n"
	"    t.unwrap()\n"
	"    sys.exit(0 if got == b'pong:ping-python' else 3)\n";

#define PY_PING_LEN 11   /* "ping-python" */
#define C_PING "ping-c"
#define C_PONG_LEN 11    /* "pong:ping-c" */

static char dir[256];  /* the certificate's temporary directory */

/* A self-signed certificate made by the openssl CLI, in a directory of the test's own. */
static void make_cert(void)
{
	char cmd[1024];

	rig_make_unique("tls");
	snprintf(dir, sizeof(dir), "%s", rig_unique);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
		 "-subj /CN=localhost -keyout %s/key.pem -out %s/cert.pem 2>/dev/null", dir, dir);
	ck_assert_msg(system(cmd) == 0, "openssl req failed: is the openssl CLI installed?");
}

static void remove_dir(void)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

struct server {
	pid_t pid;
	int port;
};

/* Starts the Python server for n connections and reads its port. */
static void server_start(struct server *s, int n)
{
	char count[16];
	int fds[2];
	FILE *f;

	snprintf(count, sizeof(count), "%d", n);
	ck_assert_int_eq(pipe(fds), 0);
	s->pid = fork();
	ck_assert_int_ge(s->pid, 0);
	if (s->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl(PYTHON, "python3", "-c", peer_py, "server", dir, count, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_msg(fscanf(f, "%d", &s->port) == 1, "the TLS server did not start");
	fclose(f);
}

static void server_wait(struct server *s)
{
	int status;

	ck_assert_int_eq(waitpid(s->pid, &status, 0), s->pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the TLS server failed (status %#x)",
		      status);
}

/* Waits for a child and asserts that it did all it had to. */
static void child_ok(pid_t pid, const char *what)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s failed (status %#x)", what, status);
}

/* ---- the C client: SSL_read and SSL_write, through a libssl it loads itself ---- */

struct ssl_api {
	const void *(*client_method)(void);
	void *(*ctx_new)(const void *method);
	void *(*ssl_new)(void *ctx);
	int (*set_fd)(void *ssl, int fd);
	int (*connect)(void *ssl);
	int (*write)(void *ssl, const void *buf, int num);
	int (*read)(void *ssl, void *buf, int num);
	int (*shutdown)(void *ssl);
};

/* True when every libssl this process maps is lib (by its path in /proc/self/maps). */
static bool maps_only(const char *lib)
{
	char line[1024];
	bool seen = false, other = false;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "libssl"))
			continue;
		if (strstr(line, lib))
			seen = true;
		else
			other = true;
	}
	fclose(f);
	return seen && !other;
}

/*
 * In a child: connects to port with the libssl at lib (dlopen, so the test
 * needs no libssl at build time), writes C_PING with SSL_write, reads the
 * answer with SSL_read, shuts down. Exits 0 when all of it worked.
 */
static void c_client(const char *lib, int port, bool only_lib)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL), *ctx, *ssl;
	struct ssl_api a;
	char buf[64];
	int fd;

	if (!h)
		_exit(10);
	*(void **)&a.client_method = dlsym(h, "TLS_client_method");
	*(void **)&a.ctx_new = dlsym(h, "SSL_CTX_new");
	*(void **)&a.ssl_new = dlsym(h, "SSL_new");
	*(void **)&a.set_fd = dlsym(h, "SSL_set_fd");
	*(void **)&a.connect = dlsym(h, "SSL_connect");
	*(void **)&a.write = dlsym(h, "SSL_write");
	*(void **)&a.read = dlsym(h, "SSL_read");
	*(void **)&a.shutdown = dlsym(h, "SSL_shutdown");
	if (!a.client_method || !a.ctx_new || !a.ssl_new || !a.set_fd || !a.connect || !a.write || !a.read ||
	    !a.shutdown)
		_exit(11);
	if (only_lib && !maps_only(lib))
		_exit(12);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		_exit(13);
	/* a client context verifies nothing by default: the self-signed certificate passes */
	ctx = a.ctx_new(a.client_method());
	ssl = ctx ? a.ssl_new(ctx) : NULL;
	if (!ssl || a.set_fd(ssl, fd) != 1 || a.connect(ssl) != 1)
		_exit(14);
	if (a.write(ssl, C_PING, (int)strlen(C_PING)) != (int)strlen(C_PING))
		_exit(15);
	if (a.read(ssl, buf, sizeof(buf)) != C_PONG_LEN)
		_exit(16);
	a.shutdown(ssl);
	_exit(0);
}

static pid_t c_client_spawn(const char *lib, int port, bool only_lib)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		c_client(lib, port, only_lib);
	return pid;
}

/* The system's libssl.so.3, as the trace finds it. */
static void system_libssl(char *out, size_t len)
{
	char err[512];

	ck_assert_msg(uprobe_find_soname("libssl.so.3", out, len, err, sizeof(err)) == 1,
		      "no libssl.so.3 on this system: %s", err);
}

/* ---- matching records ---- */

struct tls_want {
	pid_t pid;
	const char *event_type;
	const char *function;  /* NULL: any */
};

static bool match_tls(const msgpack_object *rec, const void *arg)
{
	const struct tls_want *w = arg;

	return rec_str_is(rec, "event_type", w->event_type) && rec_uint(rec, "pid") == (uint64_t)w->pid &&
	       (!w->function || rec_str_is(rec, "function", w->function));
}

static const msgpack_object *wait_tls(struct rig *r, pid_t pid, const char *event_type, const char *function)
{
	struct tls_want w = {pid, event_type, function};
	const msgpack_object *rec = rig_wait(r, match_tls, &w);

	ck_assert_msg(rec, "no %s record (%s) for pid %d", event_type, function ? function : "any", pid);
	return rec;
}

/* in_ebpf's keys right after the common ones, then our function key, then the common extras. */
static void assert_keys(const msgpack_object *rec, const char *trace)
{
	static const char *const order[] = {"event_type", "event_id", "pid", "tid", "comm", "trace",
					    "ssl_ptr", "latency_ns", "ret", "function", "ppid"};

	ck_assert_uint_ge(rec->via.map.size, SCHEMA_LEN(order));
	for (size_t i = 0; i < SCHEMA_LEN(order); i++) {
		const msgpack_object *k = &rec->via.map.ptr[i].key;

		ck_assert_msg(k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(order[i]) &&
				      !memcmp(k->via.str.ptr, order[i], k->via.str.size),
			      "key %zu is not %s", i, order[i]);
	}
	ck_assert_str_eq(rec_str(rec, "trace"), trace);
	rec_uint(rec, "ssl_ptr");
	rec_int(rec, "latency_ns");
	rec_int(rec, "ret");
	rec_str(rec, "function");
}

/* The records of one client's connection: each stage, with one ssl_ptr; returns it. */
static uint64_t assert_connection(struct rig *r, pid_t pid, const char *comm, const char *read_fn,
				  const char *write_fn, int64_t wrote, int64_t got)
{
	const msgpack_object *rec;
	uint64_t ssl;

	rec = wait_tls(r, pid, "tls_handshake", "SSL_do_handshake");
	assert_keys(rec, "openssl_tls_handshake");
	ck_assert_int_eq(rec_int(rec, "ret"), 1);
	ck_assert_int_gt(rec_int(rec, "latency_ns"), 0);
	ck_assert_uint_eq(rec_uint(rec, "tid"), (uint64_t)pid);
	ck_assert_str_eq(rec_str(rec, "comm"), comm);
	ssl = rec_uint(rec, "ssl_ptr");
	ck_assert_uint_ne(ssl, 0);

	rec = wait_tls(r, pid, "tls_write", write_fn);
	assert_keys(rec, "openssl_tls_write");
	ck_assert_int_eq(rec_int(rec, "ret"), wrote);
	ck_assert_int_gt(rec_int(rec, "latency_ns"), 0);
	ck_assert_uint_eq(rec_uint(rec, "ssl_ptr"), ssl);
	ck_assert_str_eq(rec_str(rec, "comm"), comm);

	rec = wait_tls(r, pid, "tls_read", read_fn);
	assert_keys(rec, "openssl_tls_read");
	ck_assert_int_eq(rec_int(rec, "ret"), got);
	ck_assert_int_gt(rec_int(rec, "latency_ns"), 0);
	ck_assert_uint_eq(rec_uint(rec, "ssl_ptr"), ssl);

	/* the first shutdown has sent close_notify and not yet seen the peer's: 0 */
	rec = wait_tls(r, pid, "tls_shutdown", "SSL_shutdown");
	assert_keys(rec, "openssl_tls_shutdown");
	ck_assert_int_eq(rec_int(rec, "ret"), 0);
	ck_assert_uint_eq(rec_uint(rec, "ssl_ptr"), ssl);
	ck_assert_str_eq(rec_str(rec, "comm"), comm);
	return ssl;
}

/* ---- tests ---- */

START_TEST(python_client_each_stage)
{
	struct server srv;
	struct rig r;
	char port[16];
	pid_t pid;

	make_cert();
	rig_start(&r, "openssl");
	server_start(&srv, 1);
	snprintf(port, sizeof(port), "%d", srv.port);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl(PYTHON, "python3", "-c", peer_py, "client", port, (char *)NULL);
		_exit(127);
	}
	child_ok(pid, "the Python TLS client");
	server_wait(&srv);
	/* OpenSSL 3's Python goes through the _ex forms; ret is their byte count */
	assert_connection(&r, pid, "python3", "SSL_read_ex", "SSL_write_ex", PY_PING_LEN,
			  (int64_t)strlen("pong:ping-python"));
	/* the server's side of the same exchange, in its own process */
	ck_assert_int_eq(rec_int(wait_tls(&r, srv.pid, "tls_read", "SSL_read_ex"), "ret"), PY_PING_LEN);
	rig_stop(&r);
	remove_dir();
}
END_TEST

START_TEST(c_client_plain_read_and_write)
{
	char lib[TRACE_PATH_MAX];
	struct server srv;
	struct rig r;
	pid_t pid;

	make_cert();
	system_libssl(lib, sizeof(lib));
	rig_start(&r, "openssl");
	server_start(&srv, 1);
	pid = c_client_spawn(lib, srv.port, false);
	child_ok(pid, "the C TLS client");
	server_wait(&srv);
	/* SSL_connect runs SSL_do_handshake; comm is the forked test's (15 bytes) */
	assert_connection(&r, pid, "test_trace_open", "SSL_read", "SSL_write", (int64_t)strlen(C_PING),
			  C_PONG_LEN);
	rig_stop(&r);
	remove_dir();
}
END_TEST

/* A file copy is another inode: only an OpenSSL_Path entry puts uprobes on it. */
static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	ssize_t n;

	ck_assert_int_ge(in, 0);
	ck_assert_int_ge(out, 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	ck_assert_int_eq(close(out), 0);
}

START_TEST(openssl_path_copy_is_probed)
{
	char sys[TRACE_PATH_MAX], copy[TRACE_PATH_MAX], found[4096];
	const struct trace_unit *unit = registry_find("openssl");
	struct server srv;
	struct rig r;
	pid_t pid;

	make_cert();
	system_libssl(sys, sizeof(sys));
	snprintf(copy, sizeof(copy), "%s/libssl.so.3", dir);
	copy_file(sys, copy);

	/* without the entry, the copy's calls are not seen */
	rig_start(&r, "openssl");
	server_start(&srv, 1);
	pid = c_client_spawn(copy, srv.port, true);
	child_ok(pid, "the C TLS client on the copy (does it map only the copy?)");
	server_wait(&srv);
	{
		struct tls_want w = {pid, "tls_write", NULL};

		ck_assert_msg(!rig_wait(&r, match_tls, &w), "the copy was probed without an OpenSSL_Path");
	}
	rig_stop(&r);

	memset(&r, 0, sizeof(r));
	config_defaults(&r.cfg);
	r.cfg.trace.ringbuf_size = 1 << 22;
	snprintf(r.cfg.trace.openssl_paths[0], sizeof(r.cfg.trace.openssl_paths[0]), "%s", copy);
	r.cfg.trace.openssl_path_count = 1;
	/* what --list-traces says, with the entry: the system's library and the copy */
	ck_assert_ptr_nonnull(unit->targets);
	unit->targets(&r.cfg.trace, found, sizeof(found));
	ck_assert_msg(strstr(found, sys) && strstr(found, copy), "found: %s", found);
	rig_start_cfg(&r, "openssl");
	server_start(&srv, 1);
	pid = c_client_spawn(copy, srv.port, true);
	child_ok(pid, "the C TLS client on the copy");
	server_wait(&srv);
	assert_connection(&r, pid, "test_trace_open", "SSL_read", "SSL_write", (int64_t)strlen(C_PING),
			  C_PONG_LEN);
	rig_stop(&r);
	remove_dir();
}
END_TEST

START_TEST(openssl_path_missing_is_an_error)
{
	struct trace_opts o = {.ringbuf_size = 1 << 16, .filter_uid = -1, .openssl_path_count = 1};
	char err[1024] = "";
	struct trace *t;

	snprintf(o.openssl_paths[0], sizeof(o.openssl_paths[0]), "/nonexistent/ebpf-forward/libssl.so.3");
	t = trace_start(registry_find("openssl"), &o, err, sizeof(err));
	ck_assert_ptr_null(t);
	ck_assert_msg(strstr(err, "/nonexistent/ebpf-forward/libssl.so.3") && strstr(err, "No such file"),
		      "err: %s", err);
}
END_TEST

START_TEST(library_without_ssl_functions_is_an_error)
{
	struct trace_opts o = {.ringbuf_size = 1 << 16, .filter_uid = -1, .openssl_path_count = 1};
	char err[1024] = "";
	struct trace *t;

	ck_assert_int_eq(uprobe_find_soname("libz.so.1", o.openssl_paths[0], sizeof(o.openssl_paths[0]), err,
					    sizeof(err)), 1);
	t = trace_start(registry_find("openssl"), &o, err, sizeof(err));
	ck_assert_ptr_null(t);
	ck_assert_msg(strstr(err, o.openssl_paths[0]) && strstr(err, "not a libssl"), "err: %s", err);
}
END_TEST

/* A custom build with only SSL_read and SSL_write: those are probed, the rest named in a warning. */
static const char partial_c[] =
	"int SSL_read(void *s, void *b, int n) { (void)s; (void)b; return n; }\n"
	"int SSL_write(void *s, const void *b, int n) { (void)s; (void)b; return n - 1; }\n";

typedef int (*ssl_io_fn)(void *, void *, int);

static void child_partial(const void *arg)
{
	void *h = dlopen(arg, RTLD_NOW | RTLD_LOCAL);
	ssl_io_fn rd, wr;
	char buf[16];

	if (!h)
		_exit(10);
	*(void **)&rd = dlsym(h, "SSL_read");
	*(void **)&wr = dlsym(h, "SSL_write");
	if (!rd || !wr)
		_exit(11);
	if (rd((void *)0x5151, buf, 7) != 7 || wr((void *)0x5151, buf, 9) != 8)
		_exit(12);
	_exit(0);
}

START_TEST(library_lacking_some_functions_attaches_the_rest)
{
	char src[TRACE_PATH_MAX], lib[TRACE_PATH_MAX], cmd[3 * TRACE_PATH_MAX], log_path[TRACE_PATH_MAX];
	char log[8192];
	const msgpack_object *rec;
	struct rig r;
	int saved, fd;
	ssize_t n;
	FILE *f;
	pid_t pid;

	make_cert();
	snprintf(src, sizeof(src), "%s/partial.c", dir);
	snprintf(lib, sizeof(lib), "%s/libssl-partial.so", dir);
	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	f = fopen(src, "w");
	ck_assert_ptr_nonnull(f);
	fputs(partial_c, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cc -shared -fPIC -O0 -o %s %s", lib, src);
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);

	memset(&r, 0, sizeof(r));
	config_defaults(&r.cfg);
	r.cfg.trace.ringbuf_size = 1 << 22;
	snprintf(r.cfg.trace.openssl_paths[0], sizeof(r.cfg.trace.openssl_paths[0]), "%s", lib);
	r.cfg.trace.openssl_path_count = 1;
	/* the warning goes to the log, stderr: catch it in a file */
	fflush(stderr);
	saved = dup(2);
	fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, 2);
	close(fd);
	rig_start_cfg(&r, "openssl");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fd = open(log_path, O_RDONLY);
	n = read(fd, log, sizeof(log) - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	log[n] = '\0';
	fputs(log, stderr);
	ck_assert_msg(strstr(log, lib) && strstr(log, "has no SSL_do_handshake SSL_read_ex SSL_write_ex SSL_shutdown"),
		      "no warning naming what %s lacks in: %s", lib, log);

	pid = rig_child(child_partial, lib);
	rec = wait_tls(&r, pid, "tls_read", "SSL_read");
	ck_assert_int_eq(rec_int(rec, "ret"), 7);
	ck_assert_uint_eq(rec_uint(rec, "ssl_ptr"), 0x5151);
	rec = wait_tls(&r, pid, "tls_write", "SSL_write");
	ck_assert_int_eq(rec_int(rec, "ret"), 8);
	rig_stop(&r);
	remove_dir();
}
END_TEST

START_TEST(pid_filter_keeps_only_that_client)
{
	char lib[TRACE_PATH_MAX];
	struct server srv;
	struct rig r;
	pid_t gated, other;
	int go[2];
	char c = 0;

	make_cert();
	system_libssl(lib, sizeof(lib));
	server_start(&srv, 2);
	ck_assert_int_eq(pipe(go), 0);
	gated = fork();
	ck_assert_int_ge(gated, 0);
	if (gated == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		c_client(lib, srv.port, false);
	}
	close(go[0]);
	rig_start_full(&r, "openssl", 1 << 22, gated);
	ck_assert_int_eq(write(go[1], &c, 1), 1);
	close(go[1]);
	child_ok(gated, "the C TLS client (Pid=)");
	other = c_client_spawn(lib, srv.port, false);
	child_ok(other, "the second C TLS client");
	server_wait(&srv);
	assert_connection(&r, gated, "test_trace_open", "SSL_read", "SSL_write", (int64_t)strlen(C_PING),
			  C_PONG_LEN);
	{
		struct tls_want w = {other, "tls_handshake", NULL};

		ck_assert_msg(!rig_wait(&r, match_tls, &w), "a client filtered out by Pid= was traced");
	}
	for (size_t i = 0; i < r.cap.n; i++)
		ck_assert_uint_eq(rec_uint(&r.cap.recs[i].u.data, "pid"), (uint64_t)gated);
	rig_stop(&r);
	remove_dir();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("trace_openssl");
	TCase *tc = tcase_create("openssl");

	rig_require_root("test_trace_openssl");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, python_client_each_stage);
	tcase_add_test(tc, c_client_plain_read_and_write);
	tcase_add_test(tc, openssl_path_copy_is_probed);
	tcase_add_test(tc, openssl_path_missing_is_an_error);
	tcase_add_test(tc, library_without_ssl_functions_is_an_error);
	tcase_add_test(tc, library_lacking_some_functions_attaches_the_rest);
	tcase_add_test(tc, pid_filter_keeps_only_that_client);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
