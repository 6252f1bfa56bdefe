/* pipeline.c: the libuv loop's work: drain the rings when readable, pack, hand to the output. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "events.h"
#include "evtime.h"
#include "heap.h"
#include "log.h"
#include "metrics.h"
#include "output.h"
#include "pipeline.h"
#include "ring_read.h"
#include "schema.h"
#include "traces.h"

#define TAG_MAX (CONFIG_NAME_MAX + 32)
#define HOUSEKEEPING_MS 1000
#define HEAVY_RATE_EVERY_S 10
/*
 * Records one readiness callback may take from a ring. libbpf keeps reading
 * while producers keep writing; without a budget a busy ring would hold the
 * loop (and the other rings, timers and signals) forever.
 */
#define DRAIN_BUDGET 8192
#define BUDGET_SPENT (-ECANCELED)
#define METRICS_TAG EV_TYPE_COUNT

struct pipeline;

/* One ring: its own reader and libuv poll, so rings are served in turn. */
struct ring_reader {
	struct pipeline *p;
	size_t index;            /* trace index */
	struct ring_read ring;   /* not mapped yet: closing it does nothing */
	bool broken;             /* a record's length was impossible: the ring is no longer read */
	uv_poll_t poll;
	unsigned budget;
};

/* An output and what the pipeline keeps for it: its tag per event type, and whether it takes the type. */
struct pipe_out {
	struct output *o;
	const struct config_output *cfg;
	char tag[EV_TYPE_COUNT + 1][TAG_MAX]; /* metrics records use the id after the last type */
	size_t tag_len[EV_TYPE_COUNT + 1];
	bool takes[EV_TYPE_COUNT + 1];        /* its Match against ebpf.<event_type> */
	uint64_t dropped_seen;
};

struct pipeline {
	const struct config *cfg;
	struct trace **traces;
	size_t n;
	struct pipe_out *outs;
	size_t nouts;
	struct ring_reader *readers;
	uv_timer_t housekeeping;
	uv_timer_t poll_timer;       /* reads the rings every Poll_Ms while events flow */
	uv_idle_t catch_up;          /* while a ring is behind: a read on every loop turn, I/O in between */
	unsigned quiet_ticks;
	bool handles_open;
	struct evclock clock;
	struct mpbuf rec;            /* one record at a time, reused */
	struct pipe_out *in_place[EV_TYPE_COUNT]; /* the one output of a type, if it packs in place */
	struct trace_stats *stats;
	uint64_t ticks;
	uint64_t malformed_logged;
	bool read_this_tick;         /* a drain since the last housekeeping read something */
	bool release_due;            /* events flowed since the heap last gave memory back */
};

/* Fluent Bit's Match: '*' stands for any run of characters, everything else for itself. */
static bool tag_matches(const char *pat, const char *tag)
{
	if (!*pat)
		return !*tag;
	if (*pat == '*')
		return tag_matches(pat + 1, tag) || (*tag && tag_matches(pat, tag + 1));
	return *tag == *pat && tag_matches(pat + 1, tag + 1);
}

/* Hands one packed record to every output that takes its event type; false if one refused it. */
static bool deliver(struct pipeline *p, unsigned type, struct evtime t)
{
	bool ok = true;

	for (size_t i = 0; i < p->nouts; i++) {
		struct pipe_out *po = &p->outs[i];

		if (po->takes[type] && po->o->write(po->o, type, po->tag[type], po->tag_len[type], t,
						    (const char *)p->rec.p, p->rec.len))
			ok = false;
	}
	return ok;
}

static void flush_outputs(struct pipeline *p)
{
	for (size_t i = 0; i < p->nouts; i++)
		p->outs[i].o->flush(p->outs[i].o);
}

/* Tag with '*' replaced by the event type, as Fluent Bit expands tags. */
static size_t expand_tag(char *dst, size_t cap, const char *tag, const char *event_type)
{
	const char *star = strchr(tag, '*');
	int n;

	if (!star)
		n = snprintf(dst, cap, "%s", tag);
	else
		n = snprintf(dst, cap, "%.*s%s%s", (int)(star - tag), tag, event_type, star + 1);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static void note_malformed(struct pipeline *p, struct trace_stats *st, const void *data, size_t size,
			   enum schema_error e, const char *where)
{
	uint16_t type = 0;

	if (size >= sizeof(type))
		memcpy(&type, data, sizeof(type));
	st->malformed++;
	/* A broken producer could flood the log: say it the first times, then count. */
	if (p->malformed_logged++ < 10)
		log_error("trace %s: ring record of %zu bytes (event type %u) dropped: %s%s%s", st->name,
			  size, type, schema_strerror(e), where ? ", field " : "", where ? where : "");
}

/* A type's one output packs the record straight into its frame: no copy of it. */
static enum schema_error pack_in_place(struct pipeline *p, struct pipe_out *po, const struct ev_hdr *h,
				       const void *data, size_t size, const char **where, bool *taken)
{
	struct mpbuf *b = po->o->record_begin(po->o, h->type, po->tag[h->type], po->tag_len[h->type],
					      evtime_from_boot(&p->clock, h->ts_ns));
	enum schema_error e;

	*taken = b != NULL;
	if (!b)
		return SCHEMA_OK;
	e = schema_pack(b, data, size, where);
	po->o->record_end(po->o, h->type, e == SCHEMA_OK);
	return e;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct ring_reader *r = ctx;
	struct pipeline *p = r->p;
	struct trace_stats *st = &p->stats[r->index];
	struct pipe_out *po = NULL;
	const char *where;
	enum schema_error e;
	struct ev_hdr h = {0};
	bool taken;

	if (size >= sizeof(h)) {
		memcpy(&h, data, sizeof(h));
		po = h.type < EV_TYPE_COUNT ? p->in_place[h.type] : NULL;
	}
	if (po) {
		e = pack_in_place(p, po, &h, data, size, &where, &taken);
	} else {
		p->rec.len = 0;
		e = schema_pack(&p->rec, data, size, &where);
		/* schema_pack checked the size */
		taken = e || deliver(p, h.type, evtime_from_boot(&p->clock, h.ts_ns));
	}
	if (e)
		note_malformed(p, st, data, size, e, where);
	else if (!taken)
		st->rejected++;
	else
		st->events++;
	/* the record counts as read when we stop here */
	return --r->budget ? 0 : BUDGET_SPENT;
}

/* Reads one ring, at most budget records; returns the records read (0 once the ring is given up). */
static int drain_ring(struct ring_reader *r, unsigned budget)
{
	int n;

	if (r->broken)
		return 0;
	r->budget = budget;
	n = ring_read_drain(&r->ring, on_record, r);
	if (n == BUDGET_SPENT)
		return (int)budget;
	if (n == RING_READ_BROKEN) {
		/* the kernel writes these words: a bad one is a kernel bug, said once, not in a loop */
		r->broken = true;
		log_error("trace %s: its ring buffer has a record length word 0x%08x at position %llu, larger than "
			  "the ring (%llu bytes): no more events are read from this trace",
			  r->p->stats[r->index].name, (unsigned)r->ring.broken_len,
			  (unsigned long long)r->ring.broken_at, (unsigned long long)r->ring.size);
		/* its later events are refused by the full ring and counted lost; the other rings go on */
		return 0;
	}
	trace_reader_caught_up(r->p->traces[r->index]);
	return n < 0 ? 0 : n;
}

/*
 * A ring that filled its budget has more: without a read on the next loop
 * turn it would wait for the next tick, and the rate the daemon can take
 * would be capped at DRAIN_BUDGET per Poll_Ms (8192 per 25 ms: 330,000/s).
 */
static void on_catch_up(uv_idle_t *h);

static void set_behind(struct pipeline *p, bool behind)
{
	if (behind)
		uv_idle_start(&p->catch_up, on_catch_up);
	else
		uv_idle_stop(&p->catch_up);
}

int pipeline_drain(struct pipeline *p)
{
	int total = 0;
	bool behind = false;

	for (size_t i = 0; i < p->n; i++) {
		int n = drain_ring(&p->readers[i], DRAIN_BUDGET);

		behind |= n == DRAIN_BUDGET;
		total += n;
	}
	if (total > 0) {
		p->read_this_tick = true;
		flush_outputs(p);
	}
	set_behind(p, behind);
	return total;
}

static void on_catch_up(uv_idle_t *h)
{
	pipeline_drain(h->data);
}

/* Ticks with nothing read before the timer stops and the next event has to wake us. */
#define QUIET_TICKS 2

static void set_sleeping(struct pipeline *p, bool sleeping)
{
	for (size_t i = 0; i < p->n; i++)
		trace_reader_sleeping(p->traces[i], sleeping);
}

static void on_poll_tick(uv_timer_t *t)
{
	struct pipeline *p = t->data;
	int n = pipeline_drain(p);

	if (n != 0) {
		p->quiet_ticks = 0;
		return;
	}
	if (++p->quiet_ticks < QUIET_TICKS)
		return;
	/*
	 * Going to sleep: from now on the first event wakes us. An event written
	 * between the last read and the flag is read here; one racing the flag
	 * itself waits at most for the next event or the 1 s housekeeping read.
	 */
	set_sleeping(p, true);
	uv_timer_stop(&p->poll_timer);
	p->quiet_ticks = 0;
	pipeline_drain(p);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct ring_reader *r = h->data;
	struct pipeline *p = r->p;

	(void)events;
	if (status < 0) {
		log_error("ring buffer poll: %s", uv_strerror(status));
		return;
	}
	/* a ring left with data stays readable: the loop comes back after other work */
	int n = drain_ring(r, DRAIN_BUDGET);

	if (n > 0) {
		p->read_this_tick = true;
		flush_outputs(p);
	}
	if (n == DRAIN_BUDGET)
		set_behind(p, true);
	/* events are flowing: read on the timer until they stop (the trace cleared its flag) */
	if (p->cfg->trace.poll_ms && !uv_is_active((uv_handle_t *)&p->poll_timer)) {
		p->quiet_ticks = 0;
		uv_timer_start(&p->poll_timer, on_poll_tick, p->cfg->trace.poll_ms, p->cfg->trace.poll_ms);
	}
}

static void pipeline_shutdown_handles(struct pipeline *p);

/* The counters as records, through the outputs like any other record (time: now), under ebpf.metrics. */
static void send_metrics(struct pipeline *p)
{
	struct timespec now;
	struct evtime t;

	clock_gettime(CLOCK_REALTIME, &now);
	t.sec = (uint32_t)now.tv_sec;
	t.nsec = (uint32_t)now.tv_nsec;
	for (size_t i = 0; i < p->n; i++) {
		p->rec.len = 0;
		if (metrics_pack_trace(&p->rec, &p->stats[i]) == 0)
			deliver(p, METRICS_TAG, t);
	}
	for (size_t j = 0; j < p->nouts; j++) {
		struct output_stats os = {0};

		p->outs[j].o->stats(p->outs[j].o, &os);
		p->rec.len = 0;
		if (metrics_pack_output(&p->rec, p->outs[j].cfg->output == OUTPUT_FORWARD ? "forward" : "stdout", &os) == 0)
			deliver(p, METRICS_TAG, t);
	}
}

/* Output losses are reported as soon as they are seen, and totals at every stats interval. */
static void check_output(struct pipeline *p, const char *report)
{
	for (size_t i = 0; i < p->nouts; i++) {
		struct pipe_out *po = &p->outs[i];
		struct output_stats os = {0};
		char name[32] = "output";

		po->o->stats(po->o, &os);
		if (p->nouts > 1)
			snprintf(name, sizeof(name), "output %zu", i + 1);
		if (os.records_dropped > po->dropped_seen)
			log_warn("%s: %" PRIu64 " records dropped (buffer full or undeliverable), %" PRIu64 " in total", name,
				 os.records_dropped - po->dropped_seen, os.records_dropped);
		po->dropped_seen = os.records_dropped;
		if (report)
			log_info("%s: %s: %" PRIu64 " records in, %" PRIu64 " sent, %" PRIu64 " acked, %" PRIu64
				 " dropped, %" PRIu64 " bytes buffered, %" PRIu64 " spooled%s", report, name, os.records_in,
				 os.records_sent, os.records_acked, os.records_dropped, os.buffered_bytes, os.spooled_bytes,
				 os.connected < 0 ? "" : os.connected ? ", connected" : ", NOT connected");
	}
	if (!report)
		return;
	if (p->cfg->metrics_records && strcmp(report, "stats") == 0)
		send_metrics(p);
	stats_log(report, p->stats, (unsigned)p->n, strcmp(report, "final") == 0 ? 0 : p->cfg->stats_interval_s);
}

static void on_housekeeping(uv_timer_t *h)
{
	struct pipeline *p = h->data;

	p->ticks++;
	evclock_sync(&p->clock); /* follow wall-clock steps (NTP, settimeofday) */
	/* the rare event that raced the reader going to sleep is read here at the latest */
	if (!uv_is_active((uv_handle_t *)&p->poll_timer))
		pipeline_drain(p);
	for (size_t i = 0; i < p->n; i++) {
		stats_check_lost(&p->stats[i], trace_lost(p->traces[i]));
		if (trace_unit(p->traces[i])->heavy && p->ticks % HEAVY_RATE_EVERY_S == 0) {
			struct trace_stats *s = &p->stats[i];

			/* A system-wide trace such as malloc is heavy: keep its cost in sight. */
			log_info("trace %s: %.0f events/s over the last %d s", s->name,
				 (double)(s->events - s->rate_mark) / HEAVY_RATE_EVERY_S, HEAVY_RATE_EVERY_S);
			s->rate_mark = s->events;
		}
	}
	check_output(p, p->cfg->stats_interval_s && p->ticks % p->cfg->stats_interval_s == 0 ? "stats" : NULL);
	flush_outputs(p);
	/* a second with nothing read after a busy spell: its frames are acked by now, their pages go back */
	if (p->read_this_tick)
		p->release_due = true;
	else if (p->release_due) {
		heap_release();
		p->release_due = false;
	}
	p->read_this_tick = false;
}

/* Output i's tags and the types its Match takes: worked out once, so the hot path only looks them up. */
static void plan_output(struct pipe_out *po, const struct config_output *oc)
{
	char base[TAG_MAX];

	for (int t = 0; t <= EV_TYPE_COUNT; t++) {
		const struct schema_type *st = t < EV_TYPE_COUNT ? schema_find((uint16_t)t) : NULL;
		const char *event_type = t == METRICS_TAG ? METRICS_EVENT_TYPE : st ? st->event_type : NULL;

		if (!event_type)
			continue;
		snprintf(base, sizeof(base), "ebpf.%s", event_type);
		po->takes[t] = tag_matches(oc->match, base);
		/* metrics under a tag of their own: Tag's '*' expanded, or ".metrics" added */
		if (t == METRICS_TAG && !strchr(oc->tag, '*'))
			po->tag_len[t] = expand_tag(po->tag[t], TAG_MAX, "*.metrics", oc->tag);
		else
			po->tag_len[t] = expand_tag(po->tag[t], TAG_MAX, oc->tag, event_type);
	}
}

/* A type taken by exactly one output, one that can pack in place, is packed into it. */
static void plan_in_place(struct pipeline *p)
{
	for (int t = 0; t < EV_TYPE_COUNT; t++) {
		size_t takers = 0;
		struct pipe_out *one = NULL;

		for (size_t j = 0; j < p->nouts; j++)
			if (p->outs[j].takes[t]) {
				takers++;
				one = &p->outs[j];
			}
		p->in_place[t] = takers == 1 && one->o->record_begin ? one : NULL;
	}
}

struct pipeline *pipeline_new(uv_loop_t *loop, const struct config *cfg, struct trace **traces,
			      size_t n, struct output *const *outs, size_t nouts, char *err, size_t errlen)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	char rerr[256];
	size_t i;
	int rc;

	if (!p || !n || !(p->stats = calloc(n, sizeof(*p->stats))) ||
	    !(p->readers = calloc(n, sizeof(*p->readers))) || !(p->outs = calloc(nouts, sizeof(*p->outs)))) {
		snprintf(err, errlen, n ? "out of memory" : "no trace to read");
		if (p) {
			free(p->stats);
			free(p->readers);
		}
		free(p);
		return NULL;
	}
	p->cfg = cfg;
	p->traces = traces;
	p->n = n;
	p->nouts = nouts;
	for (size_t j = 0; j < nouts; j++) {
		p->outs[j].o = outs[j];
		p->outs[j].cfg = &cfg->outputs[j];
		plan_output(&p->outs[j], &cfg->outputs[j]);
	}
	plan_in_place(p);
	evclock_sync(&p->clock);
	for (i = 0; i < n; i++) {
		struct ring_reader *r = &p->readers[i];
		const struct trace_unit *d = trace_unit(traces[i]);

		p->stats[i].name = d->name;
		r->p = p;
		r->index = i;
		if (ring_read_open(&r->ring, trace_ring_fd(traces[i]), rerr, sizeof(rerr))) {
			snprintf(err, errlen, "trace %s: %s", d->name, rerr);
			goto fail;
		}
		/* the map itself is pollable: readable while the ring holds records (level-triggered) */
		rc = uv_poll_init(loop, &r->poll, r->ring.fd);
		if (rc) {
			ring_read_close(&r->ring);
			snprintf(err, errlen, "trace %s: libuv poll: %s", d->name, uv_strerror(rc));
			goto fail;
		}
		r->poll.data = r;
		uv_poll_start(&r->poll, UV_READABLE, on_readable);
	}
	uv_timer_init(loop, &p->housekeeping);
	uv_timer_init(loop, &p->poll_timer);
	uv_idle_init(loop, &p->catch_up);
	p->handles_open = true;
	p->catch_up.data = p;
	p->housekeeping.data = p;
	p->poll_timer.data = p;
	uv_timer_start(&p->housekeeping, on_housekeeping, HOUSEKEEPING_MS, HOUSEKEEPING_MS);
	/* asleep from the start: the first event wakes us */
	set_sleeping(p, true);
	return p;
fail:
	/* handles already started must be closed by the loop before the memory goes */
	p->n = i;
	pipeline_shutdown_handles(p);
	uv_run(loop, UV_RUN_NOWAIT);
	pipeline_free(p);
	return NULL;
}

/* Stops and closes the libuv handles (the loop finishes closing them); safe to call twice. */
static void pipeline_shutdown_handles(struct pipeline *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (!uv_is_closing((uv_handle_t *)&p->readers[i].poll))
			uv_close((uv_handle_t *)&p->readers[i].poll, NULL);
	if (p->handles_open) {
		uv_close((uv_handle_t *)&p->housekeeping, NULL);
		uv_close((uv_handle_t *)&p->poll_timer, NULL);
		uv_close((uv_handle_t *)&p->catch_up, NULL);
	}
	p->handles_open = false;
}

void pipeline_shutdown(struct pipeline *p)
{
	/* Detach first so the last drain sees everything the kernel will ever write. */
	for (size_t i = 0; i < p->n; i++)
		trace_detach(p->traces[i]);
	for (size_t i = 0; i < p->n; i++)
		while (drain_ring(&p->readers[i], DRAIN_BUDGET) == DRAIN_BUDGET)
			;
	for (size_t i = 0; i < p->n; i++)
		stats_check_lost(&p->stats[i], trace_lost(p->traces[i]));
	flush_outputs(p);
	check_output(p, NULL);
	pipeline_shutdown_handles(p);
}

void pipeline_log_totals(struct pipeline *p)
{
	check_output(p, "final");
}

const struct trace_stats *pipeline_stats(const struct pipeline *p, size_t i)
{
	return i < p->n ? &p->stats[i] : NULL;
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		ring_read_close(&p->readers[i].ring);
	free(p->readers);
	free(p->outs);
	mpbuf_free(&p->rec);
	free(p->stats);
	free(p);
}
