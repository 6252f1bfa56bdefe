/* test_client.c: the forward client against the strict test receiver: delivery, acks, outages, faults. */
#include <check.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "client.h"
#include "pack.h"
#include "receiver_proc.h"
#include "suite_run.h"

#define ENTRIES_PER_FRAME 10

struct rig {
	uv_loop_t loop;
	struct fwd_client *c;
	struct fwd_chunk_ids ids;
	char logs[8192];
	size_t loglen;
	bool closed;
};

static void collect_log(void *ctx, enum fwd_log_level level, const char *msg)
{
	struct rig *r = ctx;
	int n;

	(void)level;
	n = snprintf(r->logs + r->loglen, sizeof(r->logs) - r->loglen, "%s\n", msg);
	if (n > 0 && r->loglen + (size_t)n < sizeof(r->logs))
		r->loglen += (size_t)n;
}

static void rig_open(struct rig *r, const struct receiver *rv, bool ack, size_t limit)
{
	struct fwd_client_config cfg = {
		.host = "127.0.0.1",
		.port = rv->port,
		.unix_path = rv->unix_socket ? rv->path : NULL,
		.require_ack = ack,
		.ack_timeout_ms = 2000,
		.buffer_limit = limit,
		.backoff_min_ms = 50,
		.backoff_max_ms = 400,
		.log = collect_log,
		.log_ctx = r,
	};

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(uv_loop_init(&r->loop), 0);
	ck_assert_int_eq(fwd_chunk_ids_init(&r->ids), 0);
	r->c = fwd_client_new(&r->loop, &cfg);
	ck_assert_ptr_nonnull(r->c);
	fwd_client_start(r->c);
}

/* A frame of ENTRIES_PER_FRAME records {"n": i} with its own chunk id. */
static void send_frame(struct rig *r, bool ack, uint32_t base)
{
	struct fwd_frame f;
	char id[FWD_CHUNK_ID_LEN + 1];
	uint8_t rec[16];
	size_t start, size;
	uint8_t *buf;

	ck_assert_int_eq(fwd_frame_init(&f, "test.client", 11, 256), 0);
	for (uint32_t i = 0; i < ENTRIES_PER_FRAME; i++) {
		uint32_t n = base + i;

		/* {"n": uint32} */
		rec[0] = 0x81;
		rec[1] = 0xa1;
		rec[2] = 'n';
		rec[3] = 0xce;
		rec[4] = (uint8_t)(n >> 24);
		rec[5] = (uint8_t)(n >> 16);
		rec[6] = (uint8_t)(n >> 8);
		rec[7] = (uint8_t)n;
		ck_assert_int_eq(fwd_frame_add(&f, 1700000000u + n, n, rec, 8), 0);
	}
	fwd_chunk_id_next(&r->ids, id);
	ck_assert_int_eq(fwd_frame_seal(&f, ack ? id : NULL), 0);
	buf = fwd_frame_take(&f, &start, &size);
	fwd_client_send(r->c, buf, start, size, ENTRIES_PER_FRAME, ack ? id : NULL);
}

/* A frame of 16 records of about 64 KiB each: too big for one write to take it whole. */
static void send_big_frame(struct rig *r)
{
	static uint8_t rec[65536 + 16];
	struct fwd_frame f;
	char id[FWD_CHUNK_ID_LEN + 1];
	size_t start, size;
	uint8_t *buf;

	/* {"p": str32 of 65536 'x'} */
	rec[0] = 0x81;
	rec[1] = 0xa1;
	rec[2] = 'p';
	rec[3] = 0xdb;
	rec[4] = 0x00;
	rec[5] = 0x01;
	rec[6] = 0x00;
	rec[7] = 0x00;
	memset(rec + 8, 'x', 65536);
	ck_assert_int_eq(fwd_frame_init(&f, "test.big", 8, 1 << 20), 0);
	for (int i = 0; i < 16; i++)
		ck_assert_int_eq(fwd_frame_add(&f, 1700000000u, (uint32_t)i, rec, 8 + 65536), 0);
	fwd_chunk_id_next(&r->ids, id);
	ck_assert_int_eq(fwd_frame_seal(&f, id), 0);
	buf = fwd_frame_take(&f, &start, &size);
	fwd_client_send(r->c, buf, start, size, 16, id);
}

typedef bool (*until_fn)(struct rig *r, void *arg);

static void on_tick(uv_timer_t *t)
{
	(void)t;
}

/* Runs the loop until cond holds or ms pass; returns whether it held. */
static bool run_until(struct rig *r, until_fn cond, void *arg, unsigned ms)
{
	uv_timer_t tick;
	uint64_t end = uv_now(&r->loop) + ms;
	bool ok = false;

	uv_timer_init(&r->loop, &tick);
	uv_timer_start(&tick, on_tick, 10, 10);
	while (uv_now(&r->loop) < end) {
		if (cond(r, arg)) {
			ok = true;
			break;
		}
		uv_run(&r->loop, UV_RUN_ONCE);
	}
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(&r->loop, UV_RUN_NOWAIT);
	return ok;
}

static bool acked_at_least(struct rig *r, void *arg)
{
	struct fwd_client_stats st;

	fwd_client_stats(r->c, &st);
	return st.frames_acked >= *(uint64_t *)arg;
}

static bool sent_at_least(struct rig *r, void *arg)
{
	struct fwd_client_stats st;

	fwd_client_stats(r->c, &st);
	return st.frames_sent >= *(uint64_t *)arg;
}

static bool connects_at_least(struct rig *r, void *arg)
{
	struct fwd_client_stats st;

	fwd_client_stats(r->c, &st);
	return st.connects >= *(uint64_t *)arg;
}

static void on_closed(void *arg)
{
	((struct rig *)arg)->closed = true;
}

static bool is_closed(struct rig *r, void *arg)
{
	(void)arg;
	return r->closed;
}

static void rig_close(struct rig *r, unsigned deadline_ms)
{
	fwd_client_close(r->c, deadline_ms, on_closed, r);
	ck_assert_msg(run_until(r, is_closed, NULL, deadline_ms + 3000), "client did not close");
	uv_run(&r->loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&r->loop), 0);
	fwd_client_free(r->c);
}

static void delivers_with_acks(int unix_socket)
{
	struct receiver rv;
	struct rig r;
	uint64_t frames = 50;
	struct fwd_client_stats st;

	receiver_start(&rv, unix_socket, 0, NULL);
	rig_open(&r, &rv, true, 1 << 20);
	for (uint32_t i = 0; i < frames; i++)
		send_frame(&r, true, i * ENTRIES_PER_FRAME);
	ck_assert_msg(run_until(&r, acked_at_least, &frames, 5000), "not all acked: %s", r.logs);
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.entries_acked, frames * ENTRIES_PER_FRAME);
	ck_assert_uint_eq(st.entries_dropped, 0);
	ck_assert_uint_eq(st.buffered_frames, 0);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), frames * ENTRIES_PER_FRAME);
	ck_assert_uint_eq(receiver_stat(&rv, "rejected"), 0);
	ck_assert_uint_eq(receiver_stat(&rv, "acks"), frames);
	rig_close(&r, 1000);
	receiver_cleanup(&rv);
}

START_TEST(tcp_delivers_with_acks)
{
	delivers_with_acks(0);
}
END_TEST

START_TEST(unix_delivers_with_acks)
{
	delivers_with_acks(1);
}
END_TEST

START_TEST(fast_acks_for_frames_still_in_a_write)
{
	struct receiver rv;
	struct rig r;
	uint64_t frames = 200;
	struct fwd_client_stats st;

	/*
	 * A receiver acks within microseconds, often before
	 * libuv reports the write done: such an ack is the right one, not a
	 * reason to drop the connection and send everything again.
	 */
	receiver_start(&rv, 0, 0, NULL);
	rig_open(&r, &rv, true, 512 << 20);
	/* big frames: the write finishes over several loop turns, the ack can come first */
	for (uint32_t i = 0; i < frames; i++) {
		send_big_frame(&r);
		uv_run(&r.loop, UV_RUN_NOWAIT);
	}
	ck_assert_msg(run_until(&r, acked_at_least, &frames, 30000), "not all acked: %s", r.logs);
	fwd_client_stats(r.c, &st);
	ck_assert_msg(st.connects == 1, "reconnected %llu times: %s", (unsigned long long)st.connects, r.logs);
	ck_assert_uint_eq(st.frames_resent, 0);
	ck_assert_uint_eq(st.buffered_frames, 0);
	ck_assert_ptr_null(strstr(r.logs, "wrong ack"));
	/* exactly once here: nothing was sent twice */
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), frames * 16);
	rig_close(&r, 1000);
	receiver_cleanup(&rv);
}
END_TEST

START_TEST(without_acks_frames_are_freed_once_written)
{
	struct receiver rv;
	struct rig r;
	uint64_t frames = 20;
	struct fwd_client_stats st;

	receiver_start(&rv, 0, 0, NULL);
	rig_open(&r, &rv, false, 1 << 20);
	for (uint32_t i = 0; i < frames; i++)
		send_frame(&r, false, i * ENTRIES_PER_FRAME);
	ck_assert(run_until(&r, sent_at_least, &frames, 5000));
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.buffered_frames, 0);
	ck_assert_uint_eq(st.frames_acked, 0);
	rig_close(&r, 1000);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), frames * ENTRIES_PER_FRAME);
	ck_assert_uint_eq(receiver_stat(&rv, "acks"), 0);
	receiver_cleanup(&rv);
}
END_TEST

START_TEST(receiver_absent_then_present)
{
	struct receiver rv;
	struct rig r;
	uint64_t frames = 10, one = 1;
	struct fwd_client_stats st;

	/* learn a free port, then let it go: nothing listens there */
	receiver_start(&rv, 0, 0, NULL);
	receiver_stop(&rv);
	rig_open(&r, &rv, true, 1 << 20);
	for (uint32_t i = 0; i < frames; i++)
		send_frame(&r, true, i * ENTRIES_PER_FRAME);
	ck_assert(!run_until(&r, connects_at_least, &one, 600));
	fwd_client_stats(r.c, &st);
	ck_assert_uint_ge(st.connect_failures, 2); /* it kept trying */
	ck_assert_uint_eq(st.buffered_frames, frames);
	ck_assert_ptr_nonnull(strstr(r.logs, "cannot connect"));
	receiver_restart(&rv, NULL);
	ck_assert_msg(run_until(&r, acked_at_least, &frames, 5000), "%s", r.logs);
	ck_assert_ptr_nonnull(strstr(r.logs, "connected to"));
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), frames * ENTRIES_PER_FRAME);
	rig_close(&r, 1000);
	receiver_cleanup(&rv);
}
END_TEST

START_TEST(receiver_restart_midstream_loses_nothing)
{
	struct receiver rv;
	struct rig r;
	uint64_t first = 10, all = 20;

	receiver_start(&rv, 0, 0, NULL);
	rig_open(&r, &rv, true, 1 << 20);
	for (uint32_t i = 0; i < first; i++)
		send_frame(&r, true, i * ENTRIES_PER_FRAME);
	ck_assert(run_until(&r, acked_at_least, &first, 5000));
	receiver_stop(&rv);
	/* sent while it is away: kept, and delivered when it is back */
	for (uint32_t i = (uint32_t)first; i < all; i++)
		send_frame(&r, true, i * ENTRIES_PER_FRAME);
	run_until(&r, acked_at_least, &all, 300);
	receiver_restart(&rv, NULL);
	ck_assert_msg(run_until(&r, acked_at_least, &all, 5000), "%s", r.logs);
	ck_assert_ptr_nonnull(strstr(r.logs, "lost"));
	/* the new receiver process got the second half */
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), (all - first) * ENTRIES_PER_FRAME);
	rig_close(&r, 1000);
	receiver_cleanup(&rv);
}
END_TEST

START_TEST(closed_before_ack_is_resent)
{
	static const char *const extra[] = {"--close-after", "3", NULL};
	struct receiver rv;
	struct rig r;
	uint64_t frames = 10;
	struct fwd_client_stats st;

	receiver_start(&rv, 0, 0, extra);
	rig_open(&r, &rv, true, 1 << 20);
	for (uint32_t i = 0; i < frames; i++)
		send_frame(&r, true, i * ENTRIES_PER_FRAME);
	ck_assert_msg(run_until(&r, acked_at_least, &frames, 10000), "%s", r.logs);
	fwd_client_stats(r.c, &st);
	ck_assert_uint_ge(st.connects, 2);
	ck_assert_uint_ge(st.frames_resent, 1);
	/* at least once: everything arrived, some frames twice */
	ck_assert_uint_ge(receiver_stat(&rv, "entries"), frames * ENTRIES_PER_FRAME);
	rig_close(&r, 1000);
	receiver_cleanup(&rv);
}
END_TEST

START_TEST(wrong_ack_is_not_taken)
{
	static const char *const extra[] = {"--wrong-ack", NULL};
	struct receiver rv;
	struct rig r;
	uint64_t two = 2;
	struct fwd_client_stats st;

	receiver_start(&rv, 0, 0, extra);
	rig_open(&r, &rv, true, 1 << 20);
	send_frame(&r, true, 0);
	/* each wrong ack ends the connection; the frame stays and goes again */
	ck_assert(run_until(&r, connects_at_least, &two, 5000));
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.frames_acked, 0);
	ck_assert_uint_eq(st.buffered_frames, 1);
	ck_assert_ptr_nonnull(strstr(r.logs, "acked"));
	rig_close(&r, 200);
	receiver_cleanup(&rv);
}
END_TEST

START_TEST(refused_connections_keep_everything)
{
	static const char *const extra[] = {"--refuse", NULL};
	struct receiver rv;
	struct rig r;
	uint64_t three = 3, frames = 5;
	struct fwd_client_stats st;

	receiver_start(&rv, 0, 0, extra);
	rig_open(&r, &rv, true, 1 << 20);
	for (uint32_t i = 0; i < frames; i++)
		send_frame(&r, true, i * ENTRIES_PER_FRAME);
	/* accepted and closed at once, again and again: nothing is taken as delivered */
	ck_assert(run_until(&r, connects_at_least, &three, 5000));
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.frames_acked, 0);
	ck_assert_uint_eq(st.buffered_frames, frames);
	ck_assert_uint_eq(st.entries_dropped, 0);
	/* a receiver that behaves, on the same port, gets all of it */
	receiver_stop(&rv);
	receiver_restart(&rv, NULL);
	ck_assert_msg(run_until(&r, acked_at_least, &frames, 5000), "%s", r.logs);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), frames * ENTRIES_PER_FRAME);
	rig_close(&r, 200);
	receiver_cleanup(&rv);
}
END_TEST

/* A "receiver" that answers every connection with bytes that are not an ack. */
static pid_t garbage_server(uint16_t *port, const char *reply, size_t len)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(l, 8), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		for (;;) {
			char sink[4096];
			int c = accept(l, NULL, NULL);

			if (c < 0)
				_exit(0);
			if (read(c, sink, sizeof(sink)) > 0 && write(c, reply, len) < 0)
				_exit(1);
			usleep(100000);
			close(c);
		}
	}
	close(l);
	return pid;
}

START_TEST(replies_that_are_not_acks_end_the_connection)
{
	static const struct {
		const char *bytes;
		size_t len;
		const char *says;
	} replies[] = {
		{"\xc1\xc1\xc1", 3, "is not {\"ack\": str}"},
		/* a str32 claiming 4 GiB: refused on its first byte, nothing is allocated */
		{"\xdb\xff\xff\xff\xff", 5, "is not {\"ack\": str}"},
		/* an ack whose id is a str32: not what any receiver sends */
		{"\x81\xa3" "ack" "\xdb\x00\x00\x00\x01" "x", 11, "is not {\"ack\": str}"},
		/* endless bytes that might still become an ack: bounded */
		{"\x81\xa3" "ack" "\xda\xff\xff", 8, "is not {\"ack\": str}"},
	};

	for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		struct receiver fake = {0};
		struct rig r;
		uint64_t two = 2;
		struct fwd_client_stats st;
		pid_t srv = garbage_server(&fake.port, replies[i].bytes, replies[i].len);

		rig_open(&r, &fake, true, 1 << 20);
		send_frame(&r, true, 0);
		ck_assert_msg(run_until(&r, connects_at_least, &two, 5000), "reply %zu: %s", i, r.logs);
		ck_assert_msg(strstr(r.logs, replies[i].says), "reply %zu: %s", i, r.logs);
		fwd_client_stats(r.c, &st);
		ck_assert_uint_eq(st.frames_acked, 0);
		ck_assert_uint_eq(st.buffered_frames, 1); /* kept, to go again */
		rig_close(&r, 100);
		kill(srv, SIGKILL);
		waitpid(srv, NULL, 0);
	}
}
END_TEST

START_TEST(stalled_receiver_fills_buffer_then_oldest_dropped)
{
	static const char *const extra[] = {"--stop-reading-after", "1", NULL};
	struct receiver rv;
	struct rig r;
	struct fwd_client_stats st;
	size_t limit = 1 << 20;

	receiver_start(&rv, 0, 0, extra);
	rig_open(&r, &rv, true, limit);
	/* 20000 frames of about 220 bytes: over 4 MB against a 1 MB limit */
	for (uint32_t i = 0; i < 20000; i++) {
		send_frame(&r, true, i * ENTRIES_PER_FRAME);
		if (i % 100 == 0)
			uv_run(&r.loop, UV_RUN_NOWAIT);
	}
	fwd_client_stats(r.c, &st);
	/* bounded: the queue never holds much more than its limit */
	ck_assert_uint_le(st.buffered_bytes, limit + 4096);
	ck_assert_uint_gt(st.entries_dropped, 0);
	ck_assert_uint_eq(st.entries_dropped % ENTRIES_PER_FRAME, 0);
	rig_close(&r, 200);
	receiver_cleanup(&rv);
}
END_TEST

START_TEST(shutdown_counts_what_was_not_delivered)
{
	struct receiver rv;
	struct rig r;

	receiver_start(&rv, 0, 0, NULL);
	receiver_stop(&rv);
	rig_open(&r, &rv, true, 1 << 20);
	for (uint32_t i = 0; i < 5; i++)
		send_frame(&r, true, i * ENTRIES_PER_FRAME);
	rig_close(&r, 300);
	ck_assert_ptr_nonnull(strstr(r.logs, "50 records not delivered"));
	receiver_cleanup(&rv);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("client");
	TCase *tc = tcase_create("forward");

	signal(SIGPIPE, SIG_IGN);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, tcp_delivers_with_acks);
	tcase_add_test(tc, unix_delivers_with_acks);
	tcase_add_test(tc, fast_acks_for_frames_still_in_a_write);
	tcase_add_test(tc, without_acks_frames_are_freed_once_written);
	tcase_add_test(tc, receiver_absent_then_present);
	tcase_add_test(tc, receiver_restart_midstream_loses_nothing);
	tcase_add_test(tc, closed_before_ack_is_resent);
	tcase_add_test(tc, wrong_ack_is_not_taken);
	tcase_add_test(tc, refused_connections_keep_everything);
	tcase_add_test(tc, replies_that_are_not_acks_end_the_connection);
	tcase_add_test(tc, stalled_receiver_fills_buffer_then_oldest_dropped);
	tcase_add_test(tc, shutdown_counts_what_was_not_delivered);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
