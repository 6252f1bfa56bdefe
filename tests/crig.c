/* crig.c: the forward client test rig (crig.h). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "crig.h"
#include "spool.h"


static void collect_log(void *ctx, enum fwd_log_level level, const char *msg)
{
	struct crig *r = ctx;
	int n;

	(void)level;
	n = snprintf(r->logs + r->loglen, sizeof(r->logs) - r->loglen, "%s\n", msg);
	if (n > 0 && r->loglen + (size_t)n < sizeof(r->logs))
		r->loglen += (size_t)n;
}

/* The tests' settings: short backoffs and timeouts. */
struct fwd_client_config crig_config(const struct receiver *rv, bool ack, size_t limit)
{
	struct fwd_client_config cfg = {
		.host = "127.0.0.1",
		.port = rv ? rv->port : 0,
		.unix_path = rv && rv->unix_socket ? rv->path : NULL,
		.require_ack = ack,
		.ack_timeout_ms = 2000,
		.buffer_limit = limit,
		.backoff_min_ms = 50,
		.backoff_max_ms = 400,
	};

	return cfg;
}

/* Opens the client with cfg and, when spool_dir is not NULL, a spool there; starts it. */
void crig_open_with(struct crig *r, struct fwd_client_config *cfg, const char *spool_dir)
{
	memset(r, 0, sizeof(*r));
	cfg->log = collect_log;
	cfg->log_ctx = r;
	ck_assert_int_eq(uv_loop_init(&r->loop), 0);
	ck_assert_int_eq(fwd_chunk_ids_init(&r->ids), 0);
	r->c = fwd_client_new(&r->loop, cfg);
	ck_assert_ptr_nonnull(r->c);
	if (spool_dir) {
		struct fwd_spool_config sc = {.dir = spool_dir, .limit = 64 << 20};
		char err[512];
		struct fwd_spool *sp = fwd_spool_open(&sc, err, sizeof(err));

		ck_assert_msg(sp, "%s", err);
		fwd_client_set_spool(r->c, sp);
	}
	fwd_client_start(r->c);
}

void crig_open(struct crig *r, const struct receiver *rv, bool ack, size_t limit)
{
	struct fwd_client_config cfg = crig_config(rv, ack, limit);

	crig_open_with(r, &cfg, NULL);
}


void crig_send_frame(struct crig *r, bool ack, uint32_t base)
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
void crig_send_big_frame(struct crig *r)
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


static void on_tick(uv_timer_t *t)
{
	(void)t;
}

/* Runs the loop until cond holds or ms pass; returns whether it held. */
bool crig_run_until(struct crig *r, crig_until_fn cond, void *arg, unsigned ms)
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

bool crig_acked_at_least(struct crig *r, void *arg)
{
	struct fwd_client_stats st;

	fwd_client_stats(r->c, &st);
	return st.frames_acked >= *(uint64_t *)arg;
}

bool crig_sent_at_least(struct crig *r, void *arg)
{
	struct fwd_client_stats st;

	fwd_client_stats(r->c, &st);
	return st.frames_sent >= *(uint64_t *)arg;
}

bool crig_connects_at_least(struct crig *r, void *arg)
{
	struct fwd_client_stats st;

	fwd_client_stats(r->c, &st);
	return st.connects >= *(uint64_t *)arg;
}

static void on_closed(void *arg)
{
	((struct crig *)arg)->closed = true;
}

static bool is_closed(struct crig *r, void *arg)
{
	(void)arg;
	return r->closed;
}

void crig_close(struct crig *r, unsigned deadline_ms)
{
	fwd_client_close(r->c, deadline_ms, on_closed, r);
	ck_assert_msg(crig_run_until(r, is_closed, NULL, deadline_ms + 3000), "client did not close");
	uv_run(&r->loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&r->loop), 0);
	fwd_client_free(r->c);
}

