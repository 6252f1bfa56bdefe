/* prom.c: renders a snapshot of the counters as Prometheus text, one table row per metric family. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "prom.h"

enum prom_scope { SCOPE_TRACE, SCOPE_OUTPUT, SCOPE_HTTP };
/* How a row's value is read: a uint64_t at offset, or one of the two that are not. */
enum prom_value { VALUE_U64, VALUE_CONNECTED, VALUE_HEALTHY };

struct prom_family {
	const char *name, *type, *help;
	enum prom_scope scope;
	enum prom_value value;
	size_t offset; /* in struct trace_stats or struct output_stats */
};

#define TRACE_U64(f) SCOPE_TRACE, VALUE_U64, offsetof(struct trace_stats, f)
#define OUTPUT_U64(f) SCOPE_OUTPUT, VALUE_U64, offsetof(struct output_stats, f)
#define HTTP_U64(f) SCOPE_HTTP, VALUE_U64, offsetof(struct http_server_stats, f)

/* The names follow Prometheus's conventions: a unit suffix, counters in _total; the README lists them. */
static const struct prom_family families[] = {
	{"ebpf_forward_events_total", "counter", "Events read from the trace's ring buffer and handed to the outputs.",
	 TRACE_U64(events)},
	{"ebpf_forward_events_lost_total", "counter",
	 "Events the kernel could not write because the trace's ring buffer was full (read once a second).",
	 TRACE_U64(lost)},
	{"ebpf_forward_malformed_records_total", "counter", "Ring records that failed the schema check and were dropped.",
	 TRACE_U64(malformed)},
	{"ebpf_forward_rejected_records_total", "counter", "Records an output did not take.", TRACE_U64(rejected)},
	{"ebpf_forward_output_records_in_total", "counter", "Records the output took.", OUTPUT_U64(records_in)},
	{"ebpf_forward_output_records_sent_total", "counter", "Records written to the receiver or the stream.",
	 OUTPUT_U64(records_sent)},
	{"ebpf_forward_output_records_acked_total", "counter", "Records the receiver acknowledged.",
	 OUTPUT_U64(records_acked)},
	{"ebpf_forward_output_records_dropped_total", "counter",
	 "Records lost in the output: buffer and spool full, or undelivered at shutdown.", OUTPUT_U64(records_dropped)},
	{"ebpf_forward_output_buffered_bytes", "gauge", "Bytes of frames held in memory.", OUTPUT_U64(buffered_bytes)},
	{"ebpf_forward_output_spooled_bytes", "gauge", "Bytes of frames in the spool on disk.", OUTPUT_U64(spooled_bytes)},
	{"ebpf_forward_output_connected", "gauge", "1 while a receiver is connected (forward outputs only).",
	 SCOPE_OUTPUT, VALUE_CONNECTED, 0},
	{"ebpf_forward_output_handshake_failures_total", "counter", "Receivers that failed the shared-key handshake.",
	 OUTPUT_U64(handshake_failures)},
	{"ebpf_forward_output_healthy", "gauge",
	 "1 while the output is connected, spooling within Storage_Limit, or not a connection (as /api/v1/health).",
	 SCOPE_OUTPUT, VALUE_HEALTHY, 0},
	{"ebpf_forward_http_requests_total", "counter", "Requests this HTTP server answered, whatever the status.",
	 HTTP_U64(requests)},
	{"ebpf_forward_http_refused_connections_total", "counter",
	 "Connections refused (503) because the server already had its most.", HTTP_U64(refused)},
	{"ebpf_forward_http_timed_out_connections_total", "counter",
	 "Connections closed because the request had not arrived by the deadline.", HTTP_U64(timed_out)},
	{"ebpf_forward_http_oversized_requests_total", "counter", "Requests refused (431) for headers over the bound.",
	 HTTP_U64(too_large)},
};

#define FAMILIES (sizeof(families) / sizeof(families[0]))
/* A family's two header lines, and a sample line without its label values: far more than the longest takes. */
#define HEADER_MAX 320
#define SAMPLE_MAX 160
/* build_info and start_time, with their headers and the version label. */
#define PROCESS_MAX 1024

size_t prom_bound(size_t ntraces, size_t nouts, size_t name_max)
{
	/* an escaped label value takes at most two bytes per byte */
	return PROCESS_MAX + FAMILIES * HEADER_MAX + FAMILIES * (ntraces + nouts) * (SAMPLE_MAX + 2 * name_max);
}

struct writer {
	char *p;
	size_t len, cap;
	bool full;
};

__attribute__((format(printf, 2, 3))) static void put(struct writer *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->p + w->len, w->cap - w->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= w->cap - w->len)
		w->full = true;
	else
		w->len += (size_t)n;
}

/* A label value as the format wants it: backslash, double quote and line feed escaped. */
static void put_label(struct writer *w, const char *v)
{
	for (; *v && !w->full; v++) {
		if (*v == '\\')
			put(w, "\\\\");
		else if (*v == '"')
			put(w, "\\\"");
		else if (*v == '\n')
			put(w, "\\n");
		else
			put(w, "%c", *v);
	}
}

static void put_header(struct writer *w, const char *name, const char *type, const char *help)
{
	put(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Whether output o has a sample in family f (connected: only a connection has one). */
static bool has_sample(const struct prom_family *f, const struct prom_output *o)
{
	return f->value != VALUE_CONNECTED || o->st.connected >= 0;
}

static uint64_t output_value(const struct prom_family *f, const struct prom_output *o)
{
	uint64_t v;

	if (f->value == VALUE_CONNECTED)
		return o->st.connected > 0;
	if (f->value == VALUE_HEALTHY)
		return o->healthy;
	memcpy(&v, (const char *)&o->st + f->offset, sizeof(v));
	return v;
}

static void put_family(struct writer *w, const struct prom_family *f, const struct prom_snapshot *s)
{
	size_t samples = 0;

	if (f->scope == SCOPE_TRACE)
		samples = s->ntraces;
	else if (f->scope == SCOPE_HTTP)
		samples = s->http != NULL;
	else
		for (size_t i = 0; i < s->nouts; i++)
			samples += has_sample(f, &s->outs[i]);
	/* a family without a sample says nothing: left out */
	if (!samples)
		return;
	put_header(w, f->name, f->type, f->help);
	for (size_t i = 0; f->scope == SCOPE_TRACE && i < s->ntraces; i++) {
		uint64_t v;

		memcpy(&v, (const char *)&s->traces[i] + f->offset, sizeof(v));
		put(w, "%s{trace=\"", f->name);
		put_label(w, s->traces[i].name);
		put(w, "\"} %" PRIu64 "\n", v);
	}
	if (f->scope == SCOPE_HTTP) {
		uint64_t v;

		memcpy(&v, (const char *)s->http + f->offset, sizeof(v));
		put(w, "%s %" PRIu64 "\n", f->name, v);
	}
	for (size_t i = 0; f->scope == SCOPE_OUTPUT && i < s->nouts; i++) {
		const struct prom_output *o = &s->outs[i];

		if (!has_sample(f, o))
			continue;
		put(w, "%s{output=\"", f->name);
		put_label(w, o->name);
		put(w, "\",index=\"%u\"} %" PRIu64 "\n", o->index, output_value(f, o));
	}
}

long prom_render(const struct prom_snapshot *s, char *buf, size_t cap)
{
	struct writer w = {.p = buf, .cap = cap};

	if (!cap)
		return -1;
	put_header(&w, "ebpf_forward_build_info", "gauge", "Always 1; the version label says which ebpf-forward runs.");
	put(&w, "ebpf_forward_build_info{version=\"");
	put_label(&w, s->version);
	put(&w, "\"} 1\n");
	put_header(&w, "ebpf_forward_start_time_seconds", "gauge", "When the daemon started, in seconds since the epoch.");
	put(&w, "ebpf_forward_start_time_seconds %.3f\n", s->start_time);
	for (size_t i = 0; i < FAMILIES; i++)
		put_family(&w, &families[i], s);
	return w.full ? -1 : (long)w.len;
}
