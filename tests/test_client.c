/* test_client.c: the forward client against the strict test receiver: delivery, acks, outages, faults. */
#include <check.h>
#include <netdb.h>
#include <sched.h>
#include <sys/mount.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>
#include <uv.h>

#include "client.h"
#include "crig.h"
#include "pack.h"
#include "receiver_proc.h"
#include "spool.h"
#include "suite_run.h"

static void delivers_with_acks(int unix_socket)
{
	struct receiver rv;
	struct crig r;
	uint64_t frames = 50;
	struct fwd_client_stats st;

	receiver_start(&rv, unix_socket, 0, NULL);
	crig_open(&r, &rv, true, 1 << 20);
	for (uint32_t i = 0; i < frames; i++)
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &frames, 5000), "not all acked: %s", r.logs);
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.entries_acked, frames * ENTRIES_PER_FRAME);
	/* a plain connection with acks: every frame by reference */
	ck_assert_uint_eq(st.frames_lent, frames);
	ck_assert_uint_eq(st.entries_dropped, 0);
	ck_assert_uint_eq(st.buffered_frames, 0);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), frames * ENTRIES_PER_FRAME);
	ck_assert_uint_eq(receiver_stat(&rv, "rejected"), 0);
	ck_assert_uint_eq(receiver_stat(&rv, "acks"), frames);
	crig_close(&r, 1000);
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
	struct crig r;
	uint64_t frames = 200;
	struct fwd_client_stats st;

	/*
	 * A receiver acks within microseconds, often before
	 * libuv reports the write done: such an ack is the right one, not a
	 * reason to drop the connection and send everything again.
	 */
	receiver_start(&rv, 0, 0, NULL);
	crig_open(&r, &rv, true, 512 << 20);
	/* big frames: the write finishes over several loop turns, the ack can come first */
	for (uint32_t i = 0; i < frames; i++) {
		crig_send_big_frame(&r);
		uv_run(&r.loop, UV_RUN_NOWAIT);
	}
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &frames, 30000), "not all acked: %s", r.logs);
	fwd_client_stats(r.c, &st);
	ck_assert_msg(st.connects == 1, "reconnected %llu times: %s", (unsigned long long)st.connects, r.logs);
	ck_assert_uint_eq(st.frames_resent, 0);
	ck_assert_uint_eq(st.frames_lent, frames);
	ck_assert_uint_eq(st.buffered_frames, 0);
	ck_assert_ptr_null(strstr(r.logs, "wrong ack"));
	/* exactly once here: nothing was sent twice */
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), frames * 16);
	crig_close(&r, 1000);
	receiver_cleanup(&rv);
}
END_TEST

START_TEST(a_kernel_that_will_not_splice_gets_copies)
{
	struct receiver rv;
	struct crig r;
	uint64_t frames = 5;
	struct fwd_client_stats st;
	scmp_filter_ctx ctx;

	receiver_start(&rv, 1, 0, NULL);
	/* this test's own process only (Check forks one per test): vmsplice refused, as some sandboxes do */
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(vmsplice), 0), 0);
	ck_assert_int_eq(seccomp_load(ctx), 0);
	seccomp_release(ctx);
	crig_open(&r, &rv, true, 512 << 20);
	/* big frames have whole pages to lend: the first one meets the refusal */
	for (uint32_t i = 0; i < frames; i++)
		crig_send_big_frame(&r);
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &frames, 10000), "not all acked: %s", r.logs);
	fwd_client_stats(r.c, &st);
	ck_assert_msg(strstr(r.logs, "the kernel does not splice to this socket; frames are copied into it from the "
			  "next connection on"), "no warning in: %s", r.logs);
	ck_assert_uint_eq(st.connects, 2);
	/* lent on the first connection only; the second copied every one, once */
	ck_assert_uint_ge(st.frames_lent, 1);
	ck_assert_uint_le(st.frames_lent, frames);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), frames * 16);
	crig_close(&r, 1000);
	receiver_cleanup(&rv);
}
END_TEST

static bool never(struct crig *r, void *arg)
{
	(void)r;
	(void)arg;
	return false;
}

/* Acked frames' buffers are kept for the next frames while they come, and go back once a second passes without. */
START_TEST(acked_buffers_go_round_then_back)
{
	struct receiver rv;
	struct crig r;
	uint64_t frames = 4;
	size_t cap = 0;
	uint8_t *buf;

	receiver_start(&rv, 1, 0, NULL);
	crig_open(&r, &rv, true, 512 << 20);
	for (uint32_t i = 0; i < frames; i++)
		crig_send_big_frame(&r);
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &frames, 10000), "not all acked: %s", r.logs);
	buf = fwd_client_reuse(r.c, 1 << 20, &cap);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_ge(cap, 1 << 20);
	/* the next frame in it, as the output does */
	{
		struct fwd_frame f;
		char id[FWD_CHUNK_ID_LEN + 1];
		size_t start, size;
		static const uint8_t rec[] = {0x81, 0xa1, 'a', 0x01};

		fwd_frame_init_in(&f, "test", 4, buf, cap);
		ck_assert_int_eq(fwd_frame_add(&f, 1700000000u, 0, rec, sizeof(rec)), 0);
		fwd_chunk_id_next(&r.ids, id);
		ck_assert_int_eq(fwd_frame_seal(&f, id), 0);
		buf = fwd_frame_take(&f, &start, &size);
		fwd_client_send(r.c, buf, start, size, 1, id);
	}
	frames++;
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &frames, 10000), "not all acked: %s", r.logs);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), 4 * 16 + 1);
	/* two ticks without a frame taking one: none is kept */
	crig_run_until(&r, never, NULL, 2200);
	ck_assert_ptr_null(fwd_client_reuse(r.c, 1 << 20, &cap));
	crig_close(&r, 1000);
	receiver_cleanup(&rv);
}
END_TEST

START_TEST(without_acks_frames_are_freed_once_written)
{
	struct receiver rv;
	struct crig r;
	uint64_t frames = 20;
	struct fwd_client_stats st;

	receiver_start(&rv, 0, 0, NULL);
	crig_open(&r, &rv, false, 1 << 20);
	for (uint32_t i = 0; i < frames; i++)
		crig_send_frame(&r, false, i * ENTRIES_PER_FRAME);
	ck_assert(crig_run_until(&r, crig_sent_at_least, &frames, 5000));
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.buffered_frames, 0);
	ck_assert_uint_eq(st.frames_acked, 0);
	/* freed once written, so never lent: the socket would still read them; nor kept */
	ck_assert_uint_eq(st.frames_lent, 0);
	ck_assert_ptr_null(fwd_client_reuse(r.c, 1, &(size_t){0}));
	crig_close(&r, 1000);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), frames * ENTRIES_PER_FRAME);
	ck_assert_uint_eq(receiver_stat(&rv, "acks"), 0);
	receiver_cleanup(&rv);
}
END_TEST

START_TEST(receiver_absent_then_present)
{
	struct receiver rv;
	struct crig r;
	uint64_t frames = 10, one = 1;
	struct fwd_client_stats st;

	/* learn a free port, then let it go: nothing listens there */
	receiver_start(&rv, 0, 0, NULL);
	receiver_stop(&rv);
	crig_open(&r, &rv, true, 1 << 20);
	for (uint32_t i = 0; i < frames; i++)
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
	ck_assert(!crig_run_until(&r, crig_connects_at_least, &one, 600));
	fwd_client_stats(r.c, &st);
	ck_assert_uint_ge(st.connect_failures, 2); /* it kept trying */
	ck_assert_uint_eq(st.buffered_frames, frames);
	ck_assert_ptr_nonnull(strstr(r.logs, "cannot connect"));
	receiver_restart(&rv, NULL);
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &frames, 5000), "%s", r.logs);
	ck_assert_ptr_nonnull(strstr(r.logs, "connected to"));
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), frames * ENTRIES_PER_FRAME);
	crig_close(&r, 1000);
	receiver_cleanup(&rv);
}
END_TEST

START_TEST(receiver_restart_midstream_loses_nothing)
{
	struct receiver rv;
	struct crig r;
	uint64_t first = 10, all = 20;

	receiver_start(&rv, 0, 0, NULL);
	crig_open(&r, &rv, true, 1 << 20);
	for (uint32_t i = 0; i < first; i++)
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
	ck_assert(crig_run_until(&r, crig_acked_at_least, &first, 5000));
	receiver_stop(&rv);
	/* sent while it is away: kept, and delivered when it is back */
	for (uint32_t i = (uint32_t)first; i < all; i++)
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
	crig_run_until(&r, crig_acked_at_least, &all, 300);
	receiver_restart(&rv, NULL);
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &all, 5000), "%s", r.logs);
	ck_assert_ptr_nonnull(strstr(r.logs, "lost"));
	/* the new receiver process got the second half */
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), (all - first) * ENTRIES_PER_FRAME);
	crig_close(&r, 1000);
	receiver_cleanup(&rv);
}
END_TEST

START_TEST(closed_before_ack_is_resent)
{
	static const char *const extra[] = {"--close-after", "3", NULL};
	struct receiver rv;
	struct crig r;
	uint64_t frames = 10;
	struct fwd_client_stats st;

	receiver_start(&rv, 0, 0, extra);
	crig_open(&r, &rv, true, 1 << 20);
	for (uint32_t i = 0; i < frames; i++)
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &frames, 10000), "%s", r.logs);
	fwd_client_stats(r.c, &st);
	ck_assert_uint_ge(st.connects, 2);
	ck_assert_uint_ge(st.frames_resent, 1);
	/* at least once: everything arrived, some frames twice */
	ck_assert_uint_ge(receiver_stat(&rv, "entries"), frames * ENTRIES_PER_FRAME);
	crig_close(&r, 1000);
	receiver_cleanup(&rv);
}
END_TEST

START_TEST(wrong_ack_is_not_taken)
{
	static const char *const extra[] = {"--wrong-ack", NULL};
	struct receiver rv;
	struct crig r;
	uint64_t two = 2;
	struct fwd_client_stats st;

	receiver_start(&rv, 0, 0, extra);
	crig_open(&r, &rv, true, 1 << 20);
	crig_send_frame(&r, true, 0);
	/* each wrong ack ends the connection; the frame stays and goes again */
	ck_assert(crig_run_until(&r, crig_connects_at_least, &two, 5000));
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.frames_acked, 0);
	ck_assert_uint_eq(st.buffered_frames, 1);
	ck_assert_ptr_nonnull(strstr(r.logs, "acked"));
	crig_close(&r, 200);
	receiver_cleanup(&rv);
}
END_TEST

START_TEST(refused_connections_keep_everything)
{
	static const char *const extra[] = {"--refuse", NULL};
	struct receiver rv;
	struct crig r;
	uint64_t three = 3, frames = 5;
	struct fwd_client_stats st;

	receiver_start(&rv, 0, 0, extra);
	crig_open(&r, &rv, true, 1 << 20);
	for (uint32_t i = 0; i < frames; i++)
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
	/* accepted and closed at once, again and again: nothing is taken as delivered */
	ck_assert(crig_run_until(&r, crig_connects_at_least, &three, 5000));
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.frames_acked, 0);
	ck_assert_uint_eq(st.buffered_frames, frames);
	ck_assert_uint_eq(st.entries_dropped, 0);
	/* a receiver that behaves, on the same port, gets all of it */
	receiver_stop(&rv);
	receiver_restart(&rv, NULL);
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &frames, 5000), "%s", r.logs);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), frames * ENTRIES_PER_FRAME);
	crig_close(&r, 200);
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
		struct crig r;
		uint64_t two = 2;
		struct fwd_client_stats st;
		pid_t srv = garbage_server(&fake.port, replies[i].bytes, replies[i].len);

		crig_open(&r, &fake, true, 1 << 20);
		crig_send_frame(&r, true, 0);
		ck_assert_msg(crig_run_until(&r, crig_connects_at_least, &two, 5000), "reply %zu: %s", i, r.logs);
		ck_assert_msg(strstr(r.logs, replies[i].says), "reply %zu: %s", i, r.logs);
		fwd_client_stats(r.c, &st);
		ck_assert_uint_eq(st.frames_acked, 0);
		ck_assert_uint_eq(st.buffered_frames, 1); /* kept, to go again */
		crig_close(&r, 100);
		kill(srv, SIGKILL);
		waitpid(srv, NULL, 0);
	}
}
END_TEST

START_TEST(stalled_receiver_fills_buffer_then_oldest_dropped)
{
	static const char *const extra[] = {"--stop-reading-after", "1", NULL};
	struct receiver rv;
	struct crig r;
	struct fwd_client_stats st;
	size_t limit = 1 << 20;

	receiver_start(&rv, 0, 0, extra);
	crig_open(&r, &rv, true, limit);
	/* 20000 frames of about 220 bytes: over 4 MB against a 1 MB limit */
	for (uint32_t i = 0; i < 20000; i++) {
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
		if (i % 100 == 0)
			uv_run(&r.loop, UV_RUN_NOWAIT);
	}
	fwd_client_stats(r.c, &st);
	/* bounded: the queue never holds much more than its limit */
	ck_assert_uint_le(st.buffered_bytes, limit + 4096);
	ck_assert_uint_gt(st.entries_dropped, 0);
	ck_assert_uint_eq(st.entries_dropped % ENTRIES_PER_FRAME, 0);
	crig_close(&r, 200);
	receiver_cleanup(&rv);
}
END_TEST

START_TEST(shutdown_counts_what_was_not_delivered)
{
	struct receiver rv;
	struct crig r;

	receiver_start(&rv, 0, 0, NULL);
	receiver_stop(&rv);
	crig_open(&r, &rv, true, 1 << 20);
	for (uint32_t i = 0; i < 5; i++)
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
	crig_close(&r, 300);
	ck_assert_ptr_nonnull(strstr(r.logs, "50 records not delivered"));
	receiver_cleanup(&rv);
}
END_TEST

/* Every n the receiver wrote (records {"n": i}) into seen[0..max); returns how many lines it read. */
static size_t read_seen(const struct receiver *rv, uint8_t *seen, size_t max)
{
	FILE *f = fopen(rv->out, "r");
	char line[4096];
	size_t lines = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		const char *at = strstr(line, "\"n\":");
		unsigned long n;

		if (!at)
			continue;
		n = strtoul(at + 4, NULL, 10);
		if (n < max)
			seen[n] = 1;
		lines++;
	}
	fclose(f);
	return lines;
}

static size_t count_seen(const uint8_t *seen, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < max; i++)
		n += seen[i];
	return n;
}

struct pacer {
	struct crig *r;
	uv_timer_t t;
	uint32_t sent, total, per_tick;
};

static void on_pace(uv_timer_t *t)
{
	struct pacer *p = t->data;

	for (uint32_t i = 0; i < p->per_tick && p->sent < p->total; i++, p->sent++)
		crig_send_frame(p->r, true, p->sent * ENTRIES_PER_FRAME);
	if (p->sent == p->total)
		uv_timer_stop(t);
}

/* Sends total frames, per_tick every 10 ms, while the loop runs. */
static void pace_start(struct pacer *p, struct crig *r, uint32_t total, uint32_t per_tick)
{
	p->r = r;
	p->sent = 0;
	p->total = total;
	p->per_tick = per_tick;
	uv_timer_init(&r->loop, &p->t);
	p->t.data = p;
	uv_timer_start(&p->t, on_pace, 10, 10);
}

static void pace_stop(struct pacer *p)
{
	uv_close((uv_handle_t *)&p->t, NULL);
}

static bool pace_done(struct crig *r, void *arg)
{
	(void)r;
	return ((struct pacer *)arg)->sent == ((struct pacer *)arg)->total;
}

/*
 * A receiver that acks each frame a second late, and a buffer that holds less
 * than a second of frames: no frame on the wire is dropped for room, so no ack
 * looks wrong, nothing is resent, and there is one connection all along.
 */
START_TEST(late_acks_with_a_small_buffer)
{
	static const char *const extra[] = {"--ack-delay", "1000", NULL};
	struct receiver rv;
	struct crig r;
	struct pacer p;
	struct fwd_client_stats st;
	uint64_t all;
	static uint8_t seen[100000];

	receiver_start(&rv, 0, 0, extra);
	crig_open(&r, &rv, true, 32 << 10);
	pace_start(&p, &r, 600, 1); /* 100 frames a second for 6 s */
	ck_assert(crig_run_until(&r, pace_done, &p, 20000));
	fwd_client_stats(r.c, &st);
	all = st.frames_acked + (st.entries_dropped / ENTRIES_PER_FRAME) + st.buffered_frames;
	ck_assert_uint_eq(all, 600);
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &(uint64_t){600 - st.entries_dropped / ENTRIES_PER_FRAME}, 5000),
		      "%s", r.logs);
	fwd_client_stats(r.c, &st);
	ck_assert_msg(st.connects == 1, "%llu connections: %s", (unsigned long long)st.connects, r.logs);
	ck_assert_uint_eq(st.frames_resent, 0);
	ck_assert_ptr_null(strstr(r.logs, "wrong ack"));
	/* the buffer was too small: newcomers were dropped, and counted */
	ck_assert_uint_gt(st.entries_dropped, 0);
	pace_stop(&p);
	crig_close(&r, 3000);
	receiver_stop(&rv);
	/* no duplicate: every line the receiver wrote is a different record */
	memset(seen, 0, sizeof(seen));
	ck_assert_uint_eq(read_seen(&rv, seen, sizeof(seen)), count_seen(seen, sizeof(seen)));
	ck_assert_uint_eq(count_seen(seen, sizeof(seen)), 600 * ENTRIES_PER_FRAME - st.entries_dropped);
	receiver_cleanup(&rv);
}
END_TEST

static bool on_endpoint(struct crig *r, void *arg)
{
	struct fwd_client_stats st;

	fwd_client_stats(r->c, &st);
	return st.endpoint == *(int *)arg;
}

/* Two receivers: the first is killed mid-stream, all goes to the second, and back to the first when it returns. */
START_TEST(second_receiver_takes_over_and_first_comes_back)
{
	struct receiver a, b;
	struct crig r;
	struct pacer p;
	struct fwd_endpoint eps[2];
	struct fwd_client_config cfg;
	struct fwd_client_stats st;
	static uint8_t seen[100000];
	int zero = 0, one = 1;
	uint64_t a_before;

	receiver_start(&a, 0, 0, NULL);
	receiver_start(&b, 1, 0, NULL);
	eps[0] = (struct fwd_endpoint){.host = "127.0.0.1", .port = a.port};
	eps[1] = (struct fwd_endpoint){.unix_path = b.path};
	cfg = crig_config(NULL, true, 8 << 20);
	cfg.endpoints = eps;
	cfg.nendpoints = 2;
	cfg.primary_retry_ms = 300;
	crig_open_with(&r, &cfg, NULL);
	pace_start(&p, &r, 1500, 1);
	ck_assert(crig_run_until(&r, on_endpoint, &zero, 3000));
	ck_assert(crig_run_until(&r, crig_acked_at_least, &(uint64_t){100}, 5000));
	receiver_stop(&a);
	ck_assert_msg(crig_run_until(&r, on_endpoint, &one, 5000), "never went to the second: %s", r.logs);
	ck_assert(crig_run_until(&r, crig_acked_at_least, &(uint64_t){700}, 10000));
	receiver_restart(&a, NULL);
	a_before = 0;
	ck_assert_msg(crig_run_until(&r, on_endpoint, &zero, 5000), "never came back to the first: %s", r.logs);
	ck_assert(crig_run_until(&r, pace_done, &p, 20000));
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &(uint64_t){1500}, 10000), "%s", r.logs);
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.entries_dropped, 0);
	ck_assert_ptr_nonnull(strstr(r.logs, "is back"));
	pace_stop(&p);
	crig_close(&r, 1000);
	receiver_stop(&a);
	receiver_stop(&b);
	/* every record arrived somewhere; the first had some after its return */
	memset(seen, 0, sizeof(seen));
	read_seen(&a, seen, sizeof(seen));
	ck_assert_uint_gt(receiver_stat(&b, "entries"), 0);
	ck_assert_uint_gt(receiver_stat(&a, "entries"), a_before);
	read_seen(&b, seen, sizeof(seen));
	ck_assert_uint_eq(count_seen(seen, sizeof(seen)), 1500 * ENTRIES_PER_FRAME);
	receiver_cleanup(&a);
	receiver_cleanup(&b);
}
END_TEST

/* No receiver: frames go to the spool, stay there across a restart of the client, and arrive once one is there. */
START_TEST(spooled_frames_survive_a_restart)
{
	char dir[] = "/tmp/test_client_spool.XXXXXX", cmd[128];
	struct receiver rv;
	struct crig r;
	struct fwd_client_config cfg;
	struct fwd_client_stats st;
	struct fwd_spool_config sc;
	struct fwd_spool *sp;
	char err[512];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	receiver_start(&rv, 0, 0, NULL);
	receiver_stop(&rv); /* its port is known and nothing listens there */
	cfg = crig_config(&rv, true, 1 << 20);
	crig_open_with(&r, &cfg, dir);
	for (uint32_t i = 0; i < 50; i++)
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.frames_spooled, 50);
	ck_assert_uint_eq(st.buffered_frames, 0);
	crig_close(&r, 300);
	ck_assert_ptr_null(strstr(r.logs, "not delivered"));
	sc = (struct fwd_spool_config){.dir = dir, .limit = 1 << 30};
	sp = fwd_spool_open(&sc, err, sizeof(err));
	ck_assert_uint_eq(fwd_spool_count(sp), 50);
	fwd_spool_close(sp);
	/* the next run: the receiver is back */
	receiver_restart(&rv, NULL);
	cfg = crig_config(&rv, true, 1 << 20);
	crig_open_with(&r, &cfg, dir);
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &(uint64_t){50}, 10000), "%s", r.logs);
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.spool_frames, 0);
	crig_close(&r, 300);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), 50 * ENTRIES_PER_FRAME);
	receiver_stop(&rv);
	receiver_cleanup(&rv);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/*
 * Connected and idle, a frame larger than the whole buffer goes to the spool;
 * it must go on from there at once, though no write or ack is pending to
 * wake the client (it once waited for one forever).
 */
START_TEST(frame_spooled_while_idle_is_sent)
{
	char dir[] = "/tmp/test_client_spool.XXXXXX", cmd[128];
	struct receiver rv;
	struct crig r;
	struct fwd_client_config cfg;
	struct fwd_client_stats st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	receiver_start(&rv, 0, 0, NULL);
	cfg = crig_config(&rv, true, 64 << 10);
	crig_open_with(&r, &cfg, dir);
	ck_assert(crig_run_until(&r, crig_connects_at_least, &(uint64_t){1}, 5000));
	crig_send_frame(&r, true, 0);
	ck_assert(crig_run_until(&r, crig_acked_at_least, &(uint64_t){1}, 5000));
	crig_send_big_frame(&r); /* about 1 MiB: more than the 64 KiB buffer holds */
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.frames_spooled, 1);
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &(uint64_t){2}, 5000), "the spooled frame stayed: %s",
		      r.logs);
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.spool_frames, 0);
	ck_assert_uint_eq(st.entries_dropped, 0);
	crig_close(&r, 300);
	receiver_stop(&rv);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), ENTRIES_PER_FRAME + 16);
	receiver_cleanup(&rv);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A receiver that accepts and closes at once: the backoff grows, since nothing is ever acked. */
START_TEST(backoff_grows_until_an_ack)
{
	static const char *const extra[] = {"--refuse", NULL};
	struct receiver rv;
	struct crig r;
	struct fwd_client_stats st;

	receiver_start(&rv, 0, 0, extra);
	crig_open(&r, &rv, true, 1 << 20);
	crig_send_frame(&r, true, 0);
	ck_assert(!crig_run_until(&r, crig_connects_at_least, &(uint64_t){1000}, 3000));
	fwd_client_stats(r.c, &st);
	/* 50 ms doubling to 400 ms (jittered down to half): about a dozen in 3 s, not one per 50 ms */
	ck_assert_msg(st.connects >= 4 && st.connects <= 20, "%llu connections in 3 s",
		      (unsigned long long)st.connects);
	crig_close(&r, 100);
	receiver_cleanup(&rv);
}
END_TEST

/* A name with two addresses, the first one dead: the second is tried before the attempt counts as failed. */
START_TEST(every_address_of_a_name_is_tried)
{
	char hosts[] = "/tmp/test_client_hosts.XXXXXX";
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res;
	struct receiver rv;
	struct crig r;
	struct fwd_client_config cfg;
	struct fwd_client_stats st;
	char second[INET_ADDRSTRLEN];
	int fd;

	/* a private /etc/hosts: this test process only (Check forks each test) */
	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	fd = mkstemp(hosts);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(write(fd, "127.0.0.2 fwd-two-addresses\n127.0.0.1 fwd-two-addresses\n", 56), 0);
	close(fd);
	ck_assert_int_eq(mount(hosts, "/etc/hosts", NULL, MS_BIND, NULL), 0);
	ck_assert_int_eq(getaddrinfo("fwd-two-addresses", "1", &hints, &res), 0);
	ck_assert_msg(res->ai_next, "the name has one address only");
	/* the resolver sorts the addresses: the receiver takes the one that comes second */
	inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_next->ai_addr)->sin_addr, second, sizeof(second));
	freeaddrinfo(res);

	receiver_start_at(&rv, second, NULL); /* nothing answers at the first address */
	cfg = crig_config(&rv, true, 1 << 20);
	cfg.host = "fwd-two-addresses";
	cfg.backoff_min_ms = 5000; /* a failed attempt would show as a 5 s wait */
	crig_open_with(&r, &cfg, NULL);
	crig_send_frame(&r, true, 0);
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &(uint64_t){1}, 3000), "%s", r.logs);
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.connect_failures, 0);
	crig_close(&r, 100);
	receiver_stop(&rv);
	receiver_cleanup(&rv);
	umount("/etc/hosts");
	unlink(hosts);
}
END_TEST

/* Closing during a long backoff tries at once instead of waiting it out. */
START_TEST(close_during_backoff_tries_at_once)
{
	struct receiver rv;
	struct crig r;
	struct fwd_client_config cfg;

	receiver_start(&rv, 0, 0, NULL);
	receiver_stop(&rv);
	cfg = crig_config(&rv, true, 1 << 20);
	cfg.backoff_min_ms = 20000;
	crig_open_with(&r, &cfg, NULL);
	for (uint32_t i = 0; i < 5; i++)
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
	ck_assert(crig_run_until(&r, crig_connects_at_least, &(uint64_t){1}, 300) == false);
	receiver_restart(&rv, NULL);
	crig_close(&r, 3000);
	ck_assert_msg(strstr(r.logs, "not delivered") == NULL, "%s", r.logs);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), 5 * ENTRIES_PER_FRAME);
	receiver_stop(&rv);
	receiver_cleanup(&rv);
}
END_TEST

/* ---- the shared-key handshake ---- */

static struct fwd_client_config auth_config(const struct receiver *rv, const char *key, const char *user,
					    const char *password)
{
	struct fwd_client_config cfg = crig_config(rv, true, 1 << 20);

	cfg.shared_key = key;
	cfg.self_hostname = "ebpf-test";
	cfg.username = user;
	cfg.password = password;
	return cfg;
}

static bool handshake_failures_at_least(struct crig *r, void *arg)
{
	struct fwd_client_stats st;

	fwd_client_stats(r->c, &st);
	return st.handshake_failures >= *(uint64_t *)arg;
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The right key: HELO, PING, PONG verified, then every frame delivered and acked. */
static void handshake_delivers(int unix_socket, const char *const extra[], const char *user, const char *password)
{
	struct receiver rv;
	struct crig r;
	struct fwd_client_config cfg;
	struct fwd_client_stats st;
	uint64_t frames = 20;

	receiver_start(&rv, unix_socket, 0, extra);
	cfg = auth_config(&rv, "s3cret", user, password);
	crig_open_with(&r, &cfg, NULL);
	for (uint32_t i = 0; i < frames; i++)
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &frames, 5000), "not all acked: %s", r.logs);
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.handshake_failures, 0);
	ck_assert_uint_eq(st.connects, 1);
	ck_assert_ptr_nonnull(strstr(r.logs, "(shared key verified)"));
	ck_assert_ptr_nonnull(strstr(r.logs, "answered the handshake as \"fwd-receiver\""));
	ck_assert_uint_eq(receiver_stat(&rv, "auth_ok"), 1);
	ck_assert_uint_eq(receiver_stat(&rv, "auth_failed"), 0);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), frames * ENTRIES_PER_FRAME);
	ck_assert_uint_eq(receiver_stat(&rv, "acks"), frames);
	crig_close(&r, 1000);
	receiver_cleanup(&rv);
}

START_TEST(handshake_right_key_delivers_tcp)
{
	static const char *const extra[] = {"--shared-key", "s3cret", NULL};

	handshake_delivers(0, extra, NULL, NULL);
}
END_TEST

START_TEST(handshake_right_key_delivers_unix)
{
	static const char *const extra[] = {"--shared-key", "s3cret", NULL};

	handshake_delivers(1, extra, NULL, NULL);
}
END_TEST

/* Fluentd's form of the HELO: nonce and auth salt as bin, keepalive. */
START_TEST(handshake_helo_with_bin_values_delivers)
{
	static const char *const extra[] = {"--shared-key", "s3cret", "--helo-bin", NULL};

	handshake_delivers(0, extra, NULL, NULL);
}
END_TEST

START_TEST(handshake_user_auth_right_password_delivers)
{
	static const char *const extra[] = {"--shared-key", "s3cret", "--username", "alice", "--password", "wonderland",
					    NULL};

	handshake_delivers(0, extra, "alice", "wonderland");
}
END_TEST

/*
 * A failing handshake, whatever the cause: nothing reaches the receiver
 * (which would take frames from anyone after its PONG), the frames stay, the
 * warning names the receiver and the reason once, and the attempts back off.
 */
static void handshake_refused(const char *const extra[], const char *key, const char *user, const char *password,
			      const char *says, unsigned run_ms)
{
	struct receiver rv;
	struct crig r;
	struct fwd_client_config cfg;
	struct fwd_client_stats st;
	char warning[200];

	receiver_start(&rv, 0, 0, extra);
	cfg = auth_config(&rv, key, user, password);
	crig_open_with(&r, &cfg, NULL);
	for (uint32_t i = 0; i < 5; i++)
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
	ck_assert_msg(crig_run_until(&r, handshake_failures_at_least, &(uint64_t){1}, run_ms), "%s", r.logs);
	/* more attempts meanwhile (one that waits out the ack timeout takes about that long); none may connect */
	crig_run_until(&r, crig_connects_at_least, &(uint64_t){1}, run_ms > 3000 ? 2 * run_ms : 3000);
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.connects, 0);
	ck_assert_uint_eq(st.frames_sent, 0);
	ck_assert_uint_eq(st.frames_acked, 0);
	ck_assert_uint_eq(st.buffered_frames, 5);
	ck_assert_uint_eq(st.entries_dropped, 0);
	/* 50 ms doubling to 400 ms (jittered down to half): a few in 3 s, not one per 50 ms */
	ck_assert_msg(st.handshake_failures >= 2 && st.handshake_failures <= 20, "%llu failures: %s",
		      (unsigned long long)st.handshake_failures, r.logs);
	snprintf(warning, sizeof(warning), "forward: handshake with tcp:127.0.0.1:%u failed: %s", rv.port, says);
	ck_assert_msg(strstr(r.logs, warning), "no \"%s\" in: %s", warning, r.logs);
	ck_assert_msg(count_of(r.logs, "nothing was sent to it") == 1, "warned more than once: %s", r.logs);
	ck_assert_uint_eq(receiver_stat(&rv, "frames"), 0);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), 0);
	/* (with --wrong-pong the receiver itself took the PING: it counts auth_ok, and would take frames) */
	crig_close(&r, 100);
	receiver_cleanup(&rv);
}

/* Fluent Bit closes without a PONG when the key is wrong. */
START_TEST(handshake_wrong_key_sends_nothing)
{
	static const char *const extra[] = {"--shared-key", "s3cret", NULL};

	handshake_refused(extra, "not-the-key", NULL, NULL,
			  "closed by the receiver after our PING, without a PONG (a Shared_Key that does not match?)", 3000);
}
END_TEST

/* Fluentd answers a PONG that says why. */
START_TEST(handshake_wrong_key_refused_with_a_reason)
{
	static const char *const extra[] = {"--shared-key", "s3cret", "--pong-on-mismatch", NULL};

	handshake_refused(extra, "not-the-key", NULL, NULL, "receiver refused: shared key mismatch", 3000);
}
END_TEST

START_TEST(handshake_user_auth_wrong_password_sends_nothing)
{
	static const char *const extra[] = {"--shared-key", "s3cret", "--username", "alice", "--password", "wonderland",
					    NULL};

	handshake_refused(extra, "s3cret", "alice", "looking-glass", "receiver refused: username/password mismatch", 3000);
}
END_TEST

START_TEST(handshake_user_auth_without_a_username_sends_nothing)
{
	static const char *const extra[] = {"--shared-key", "s3cret", "--username", "alice", "--password", "wonderland",
					    NULL};

	handshake_refused(extra, "s3cret", NULL, NULL, "receiver refused: username/password mismatch", 3000);
}
END_TEST

/* A PONG that says yes, but with a digest only a receiver without the key would send: no frame goes. */
START_TEST(handshake_wrong_pong_digest_sends_nothing)
{
	static const char *const extra[] = {"--shared-key", "s3cret", "--wrong-pong", NULL};

	handshake_refused(extra, "s3cret", NULL, NULL, "receiver's PONG digest does not match the shared key", 3000);
}
END_TEST

START_TEST(handshake_refused_auth_gives_the_reason)
{
	static const char *const extra[] = {"--shared-key", "s3cret", "--refuse-auth", NULL};

	handshake_refused(extra, "s3cret", NULL, NULL, "receiver refused: refused by fwd_receiver --refuse-auth", 3000);
}
END_TEST

/* A PONG naming our own hostname could be our PING sent back: refused. */
START_TEST(handshake_pong_with_our_own_hostname_is_refused)
{
	static const char *const extra[] = {"--shared-key", "s3cret", "--self-hostname", "ebpf-test", NULL};

	handshake_refused(extra, "s3cret", NULL, NULL, "receiver's PONG names our own Self_Hostname \"ebpf-test\"", 3000);
}
END_TEST

/* A receiver that sends no HELO (it has no shared key): a failure once the ack timeout (2 s here) passes. */
START_TEST(handshake_without_a_helo_times_out)
{
	handshake_refused(NULL, "s3cret", NULL, NULL, "no HELO within 2000 ms (is a shared key set on the receiver?)",
			  5000);
}
END_TEST

/* The receiver gets the right key later (restarted on the same port): the frames kept go then. */
START_TEST(handshake_recovers_when_the_key_is_right)
{
	static const char *const wrong[] = {"--shared-key", "another", NULL};
	static const char *const right[] = {"--shared-key", "s3cret", NULL};
	struct receiver rv;
	struct crig r;
	struct fwd_client_config cfg;
	uint64_t frames = 5;

	receiver_start(&rv, 0, 0, wrong);
	cfg = auth_config(&rv, "s3cret", NULL, NULL);
	crig_open_with(&r, &cfg, NULL);
	for (uint32_t i = 0; i < frames; i++)
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
	ck_assert(crig_run_until(&r, handshake_failures_at_least, &(uint64_t){2}, 3000));
	receiver_stop(&rv);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), 0);
	receiver_restart(&rv, right);
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &frames, 5000), "%s", r.logs);
	ck_assert_ptr_nonnull(strstr(r.logs, "(shared key verified) again after"));
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), frames * ENTRIES_PER_FRAME);
	crig_close(&r, 200);
	receiver_cleanup(&rv);
}
END_TEST

/* The first receiver does not know the key: the second, which does, gets everything. */
START_TEST(handshake_failure_moves_to_the_next_receiver)
{
	static const char *const wrong[] = {"--shared-key", "another", NULL};
	static const char *const right[] = {"--shared-key", "s3cret", NULL};
	struct receiver a, b;
	struct crig r;
	struct fwd_endpoint eps[2];
	struct fwd_client_config cfg;
	uint64_t frames = 5;

	receiver_start(&a, 0, 0, wrong);
	receiver_start(&b, 0, 0, right);
	eps[0] = (struct fwd_endpoint){.host = "127.0.0.1", .port = a.port};
	eps[1] = (struct fwd_endpoint){.host = "127.0.0.1", .port = b.port};
	cfg = auth_config(NULL, "s3cret", NULL, NULL);
	cfg.endpoints = eps;
	cfg.nendpoints = 2;
	crig_open_with(&r, &cfg, NULL);
	for (uint32_t i = 0; i < frames; i++)
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &frames, 5000), "%s", r.logs);
	ck_assert_ptr_nonnull(strstr(r.logs, "trying the next receiver"));
	ck_assert_uint_eq(receiver_stat(&a, "entries"), 0);
	ck_assert_uint_eq(receiver_stat(&b, "entries"), frames * ENTRIES_PER_FRAME);
	crig_close(&r, 200);
	receiver_stop(&a);
	receiver_stop(&b);
	receiver_cleanup(&a);
	receiver_cleanup(&b);
}
END_TEST

/* Unix_Peer_User: the listener's uid (SO_PEERCRED) must be the one asked for, or nothing is sent. */
START_TEST(unix_socket_of_someone_else_gets_nothing)
{
	struct receiver rv;
	struct crig r;
	struct fwd_client_config cfg;
	struct fwd_client_stats st;

	receiver_start(&rv, 1, 0, NULL); /* the test's receiver runs as root */
	cfg = crig_config(&rv, true, 1 << 20);
	cfg.unix_peer_check = true;
	cfg.unix_peer_uid = 65534;
	crig_open_with(&r, &cfg, NULL);
	for (uint32_t i = 0; i < 3; i++)
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
	ck_assert(!crig_run_until(&r, crig_connects_at_least, &(uint64_t){1}, 1500));
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.frames_sent, 0);
	ck_assert_uint_ge(st.handshake_failures, 1);
	ck_assert_msg(strstr(r.logs, "the socket's listener is uid 0"), "%s", r.logs);
	ck_assert_msg(strstr(r.logs, "not uid 65534 (Unix_Peer_User)"), "%s", r.logs);
	ck_assert_uint_eq(receiver_stat(&rv, "frames"), 0);
	crig_close(&r, 100);
	/* and root's own socket, when root is the one asked for, takes everything */
	cfg = crig_config(&rv, true, 1 << 20);
	cfg.unix_peer_check = true;
	cfg.unix_peer_uid = 0;
	crig_open_with(&r, &cfg, NULL);
	for (uint32_t i = 0; i < 3; i++)
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &(uint64_t){3}, 5000), "%s", r.logs);
	crig_close(&r, 300);
	receiver_stop(&rv);
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
	tcase_add_test(tc, a_kernel_that_will_not_splice_gets_copies);
	tcase_add_test(tc, acked_buffers_go_round_then_back);
	tcase_add_test(tc, receiver_absent_then_present);
	tcase_add_test(tc, receiver_restart_midstream_loses_nothing);
	tcase_add_test(tc, closed_before_ack_is_resent);
	tcase_add_test(tc, wrong_ack_is_not_taken);
	tcase_add_test(tc, refused_connections_keep_everything);
	tcase_add_test(tc, replies_that_are_not_acks_end_the_connection);
	tcase_add_test(tc, stalled_receiver_fills_buffer_then_oldest_dropped);
	tcase_add_test(tc, shutdown_counts_what_was_not_delivered);
	tcase_add_test(tc, late_acks_with_a_small_buffer);
	tcase_add_test(tc, second_receiver_takes_over_and_first_comes_back);
	tcase_add_test(tc, spooled_frames_survive_a_restart);
	tcase_add_test(tc, frame_spooled_while_idle_is_sent);
	tcase_add_test(tc, backoff_grows_until_an_ack);
	tcase_add_test(tc, every_address_of_a_name_is_tried);
	tcase_add_test(tc, close_during_backoff_tries_at_once);
	tcase_add_test(tc, unix_socket_of_someone_else_gets_nothing);
	suite_add_tcase(s, tc);
	tc = tcase_create("handshake");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, handshake_right_key_delivers_tcp);
	tcase_add_test(tc, handshake_right_key_delivers_unix);
	tcase_add_test(tc, handshake_helo_with_bin_values_delivers);
	tcase_add_test(tc, handshake_user_auth_right_password_delivers);
	tcase_add_test(tc, handshake_wrong_key_sends_nothing);
	tcase_add_test(tc, handshake_wrong_key_refused_with_a_reason);
	tcase_add_test(tc, handshake_user_auth_wrong_password_sends_nothing);
	tcase_add_test(tc, handshake_user_auth_without_a_username_sends_nothing);
	tcase_add_test(tc, handshake_wrong_pong_digest_sends_nothing);
	tcase_add_test(tc, handshake_refused_auth_gives_the_reason);
	tcase_add_test(tc, handshake_pong_with_our_own_hostname_is_refused);
	tcase_add_test(tc, handshake_without_a_helo_times_out);
	tcase_add_test(tc, handshake_recovers_when_the_key_is_right);
	tcase_add_test(tc, handshake_failure_moves_to_the_next_receiver);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
