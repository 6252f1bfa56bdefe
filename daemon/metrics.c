/* metrics.c: packs the per-trace and output counters as records of their own. */
#include "metrics.h"

/* Counters are few and short: this covers every key and value with room to spare. */
#define METRICS_MAX 512

static void head(struct mpbuf *b, uint32_t pairs)
{
	mp_map(b, pairs);
	mp_str(b, "event_type", 10);
	mp_str(b, METRICS_EVENT_TYPE, sizeof(METRICS_EVENT_TYPE) - 1);
}

int metrics_pack_trace(struct mpbuf *b, const struct trace_stats *s)
{
	if (mpbuf_reserve(b, METRICS_MAX))
		return -1;
	head(b, 6);
	mp_str(b, "trace", 5);
	mp_str(b, s->name, strlen(s->name));
	mp_kv_uint(b, "events", s->events);
	mp_kv_uint(b, "lost_kernel", s->lost);
	mp_kv_uint(b, "malformed", s->malformed);
	mp_kv_uint(b, "rejected", s->rejected);
	return 0;
}

int metrics_pack_output(struct mpbuf *b, const char *name, const struct output_stats *s)
{
	if (mpbuf_reserve(b, METRICS_MAX))
		return -1;
	head(b, s->connected >= 0 ? 10 : 9);
	mp_str(b, "output", 6);
	mp_str(b, name, strlen(name));
	mp_kv_uint(b, "records_in", s->records_in);
	mp_kv_uint(b, "records_sent", s->records_sent);
	mp_kv_uint(b, "records_acked", s->records_acked);
	mp_kv_uint(b, "records_dropped", s->records_dropped);
	mp_kv_uint(b, "buffered_bytes", s->buffered_bytes);
	mp_kv_uint(b, "spooled_bytes", s->spooled_bytes);
	mp_kv_uint(b, "handshake_failures", s->handshake_failures);
	if (s->connected >= 0) {
		mp_str(b, "connected", 9);
		mp_bool(b, s->connected);
	}
	return 0;
}
