/* test_splice.c: frames by reference into a socket: bytes whole and in order, pages lent, forgotten, cancelled, refused. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <seccomp.h>
#include <uv.h>

#include "lent.h"
#include "splice.h"
#include "suite_run.h"

#define PAGE 4096
#define MAX_CBS 32

/* One end of a socket pair as a libuv stream, the splicer on it, and the callbacks it made. */
struct rig {
	uv_loop_t loop;
	uv_pipe_t stream;
	int peer;                  /* the other end: the test reads it */
	struct fwd_splice *s;
	uv_write_t req[MAX_CBS];
	int status[MAX_CBS];
	int order[MAX_CBS];
	int ncb;
	bool closed;
};

static void on_cb(uv_write_t *req, int status)
{
	struct rig *r = req->data;
	int i = (int)(req - r->req);

	ck_assert_ptr_eq(req->handle, (uv_stream_t *)&r->stream);
	ck_assert_int_lt(r->ncb, MAX_CBS);
	r->order[r->ncb++] = i;
	r->status[i] = status;
}

static void on_closed(void *arg)
{
	((struct rig *)arg)->closed = true;
}

static void rig_open(struct rig *r, int sndbuf)
{
	int sv[2];
	char err[128] = "";

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (sndbuf)
		ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	ck_assert_int_eq(uv_loop_init(&r->loop), 0);
	ck_assert_int_eq(uv_pipe_init(&r->loop, &r->stream, 0), 0);
	ck_assert_int_eq(uv_pipe_open(&r->stream, sv[0]), 0);
	r->peer = sv[1];
	r->s = fwd_splice_open(&r->loop, (uv_stream_t *)&r->stream, err, sizeof(err));
	ck_assert_msg(r->s != NULL, "fwd_splice_open: %s", err);
	for (int i = 0; i < MAX_CBS; i++)
		r->req[i].data = r;
}

static void rig_write(struct rig *r, int i, const void *p, size_t n)
{
	int before = r->ncb;

	ck_assert_int_eq(fwd_splice_write(r->s, &r->req[i], p, n, on_cb), 0);
	/* as with uv_write: never told from inside the call */
	ck_assert_int_eq(r->ncb, before);
}

/* Runs the loop until n callbacks came (or the loop has nothing left). */
static void rig_until(struct rig *r, int n)
{
	while (r->ncb < n && uv_run(&r->loop, UV_RUN_ONCE))
		;
	ck_assert_int_ge(r->ncb, n);
}

static void rig_free(struct rig *r)
{
	if (r->s)
		fwd_splice_close(r->s, on_closed, r);
	r->s = NULL;
	uv_close((uv_handle_t *)&r->stream, NULL);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	ck_assert(r->closed);
	ck_assert_int_eq(uv_loop_close(&r->loop), 0);
	close(r->peer);
}

static void read_exactly(int fd, uint8_t *out, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = read(fd, out + got, n - got);

		ck_assert_msg(k > 0, "read after %zu of %zu bytes: %s", got, n, k < 0 ? strerror(errno) : "end");
		got += (size_t)k;
	}
}

/* A pattern no two offsets near each other share, so a byte out of place shows. */
static void pattern(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 131 + i / 251 + seed);
}

/* The reader: a child reads n bytes and checks them against the same pattern, exit status 0 when they match. */
static pid_t reader(int fd, const uint8_t *want, size_t n)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		uint8_t *got = malloc(n);
		size_t at = 0;

		while (got && at < n) {
			ssize_t k = read(fd, got + at, n - at);

			if (k <= 0)
				_exit(2);
			at += (size_t)k;
		}
		_exit(got && memcmp(got, want, n) == 0 ? 0 : 1);
	}
	return pid;
}

START_TEST(bytes_arrive_whole_and_in_order)
{
	/* ragged ends and whole pages; one without a whole page; one exactly two pages; one of a byte */
	static const size_t off[] = {123, 5 * PAGE + 17, 8 * PAGE, 12 * PAGE + 5};
	static const size_t len[] = {2 * 1024 * 1024 + 777, 100, 2 * PAGE, 1};
	size_t total = 0, at = 0;
	uint8_t *buf = aligned_alloc(PAGE, 3 * 1024 * 1024), *want;
	struct rig r;
	pid_t pid;
	int st;

	ck_assert_ptr_nonnull(buf);
	pattern(buf, 3 * 1024 * 1024, 7);
	for (int i = 0; i < 4; i++)
		total += len[i];
	want = malloc(total);
	ck_assert_ptr_nonnull(want);
	for (int i = 0; i < 4; i++) {
		memcpy(want + at, buf + off[i], len[i]);
		at += len[i];
	}
	rig_open(&r, 0);
	pid = reader(r.peer, want, total);
	rig_write(&r, 0, buf + off[0], len[0]);
	rig_write(&r, 1, buf + off[1], len[1]);
	rig_write(&r, 2, buf + off[2], len[2]);
	rig_write(&r, 3, buf + off[3], len[3]);
	rig_until(&r, 4);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(r.order[i], i);
		ck_assert_int_eq(r.status[i], 0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the reader got other bytes (status %d)", st);
	rig_free(&r);
	free(want);
	free(buf);
}
END_TEST

/* A frame of 4 pages starting 100 bytes into a page: 3996 bytes copied, 3 pages lent, 100 bytes copied. */
#define LENT_AT 100
#define LENT_LEN (4 * PAGE)

static void write_then_change(bool forget, uint8_t *seen)
{
	uint8_t *buf = aligned_alloc(PAGE, 5 * PAGE);
	struct rig r;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 'A', 5 * PAGE);
	rig_open(&r, 0);
	rig_write(&r, 0, buf + LENT_AT, LENT_LEN);
	rig_until(&r, 1);
	ck_assert_int_eq(r.status[0], 0);
	/* written, not yet read by anyone: the daemon's case of a frame waiting for its ack */
	if (forget)
		fwd_lent_forget(buf + LENT_AT, LENT_LEN);
	memset(buf, 'B', 5 * PAGE);
	read_exactly(r.peer, seen, LENT_LEN);
	rig_free(&r);
	free(buf);
}

START_TEST(whole_pages_are_lent_not_copied)
{
	static uint8_t seen[LENT_LEN];
	size_t head = PAGE - LENT_AT;

	write_then_change(false, seen);
	/* the ragged ends were copied when written; the whole pages are read from the frame itself */
	for (size_t i = 0; i < LENT_LEN; i++) {
		char want = i < head || i >= head + 3 * PAGE ? 'A' : 'B';

		ck_assert_msg(seen[i] == want, "byte %zu: '%c', expected '%c'", i, seen[i], want);
	}
}
END_TEST

START_TEST(forgotten_pages_keep_what_was_sent)
{
	static uint8_t seen[LENT_LEN];

	write_then_change(true, seen);
	/* the process's new bytes went to fresh pages: the socket still reads the old ones */
	for (size_t i = 0; i < LENT_LEN; i++)
		ck_assert_msg(seen[i] == 'A', "byte %zu: '%c' reached the socket after the pages were forgotten", i,
			      seen[i]);
}
END_TEST

START_TEST(close_cancels_what_is_left)
{
	size_t n = 1024 * 1024;
	uint8_t *buf = aligned_alloc(PAGE, n);
	struct rig r;
	int cancelled = 0;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 1, n);
	rig_open(&r, 64 * 1024);
	/* nobody reads: the socket fills within the first frame, the rest wait */
	for (int i = 0; i < 8; i++)
		rig_write(&r, i, buf, n);
	for (int i = 0; i < 20; i++)
		uv_run(&r.loop, UV_RUN_NOWAIT);
	ck_assert_int_eq(r.ncb, 0);
	fwd_splice_close(r.s, on_closed, &r);
	r.s = NULL;
	ck_assert_int_eq(r.ncb, 0); /* later, from the loop */
	rig_free(&r);
	ck_assert_int_eq(r.ncb, 8);
	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(r.order[i], i);
		cancelled += r.status[i] == UV_ECANCELED;
	}
	ck_assert_int_eq(cancelled, 8);
	free(buf);
}
END_TEST

START_TEST(a_closed_peer_is_an_error)
{
	uint8_t *buf = aligned_alloc(PAGE, 4 * PAGE);
	struct rig r;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 1, 4 * PAGE);
	signal(SIGPIPE, SIG_IGN);
	rig_open(&r, 0);
	close(r.peer);
	r.peer = open("/dev/null", O_RDONLY);
	rig_write(&r, 0, buf, 4 * PAGE);
	rig_write(&r, 1, buf, 4 * PAGE);
	rig_until(&r, 1);
	ck_assert_int_eq(r.order[0], 0);
	ck_assert_msg(r.status[0] == UV_EPIPE || r.status[0] == UV_ECONNRESET, "status %s",
		      uv_err_name(r.status[0]));
	/* after the failure the rest waits for the close, which cancels it */
	rig_free(&r);
	ck_assert_int_eq(r.ncb, 2);
	ck_assert_int_eq(r.status[1], UV_ECANCELED);
	free(buf);
}
END_TEST

START_TEST(a_refused_splice_says_not_supported)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* as a seccomp filter (or a kernel without it) would: vmsplice answers EPERM */
		uint8_t *buf = aligned_alloc(PAGE, 4 * PAGE);
		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
		struct rig r;

		if (!buf || !ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(vmsplice), 0) ||
		    seccomp_load(ctx))
			_exit(3);
		memset(buf, 1, 4 * PAGE);
		rig_open(&r, 0);
		rig_write(&r, 0, buf, 4 * PAGE);
		rig_until(&r, 1);
		_exit(r.status[0] == UV_ENOTSUP ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d (1: not UV_ENOTSUP, 3: no filter)", st);
}
END_TEST

START_TEST(no_splicer_without_a_socket)
{
	uv_loop_t loop;
	uv_pipe_t p;
	char err[128] = "";

	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(uv_pipe_init(&loop, &p, 0), 0);
	ck_assert_ptr_null(fwd_splice_open(&loop, (uv_stream_t *)&p, err, sizeof(err)));
	ck_assert_msg(strstr(err, "no pipe for splice") != NULL, "err: %s", err);
	uv_close((uv_handle_t *)&p, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("splice");
	TCase *tc = tcase_create("writer");

	tcase_add_test(tc, bytes_arrive_whole_and_in_order);
	tcase_add_test(tc, whole_pages_are_lent_not_copied);
	tcase_add_test(tc, forgotten_pages_keep_what_was_sent);
	tcase_add_test(tc, close_cancels_what_is_left);
	tcase_add_test(tc, a_closed_peer_is_an_error);
	tcase_add_test(tc, a_refused_splice_says_not_supported);
	tcase_add_test(tc, no_splicer_without_a_socket);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
