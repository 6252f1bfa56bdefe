/* monitor.c: gathers the counters of the traces and outputs at each request and answers with them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "http_server.h"
#include "monitor.h"
#include "pipeline.h"

struct monitor {
	const struct config *cfg;
	const struct pipeline *p;
	struct output *const *outs;
	size_t nouts;
	double start_time;
	struct http_server *http;
};

/* Room for a health line per output: "output 8 (forward): not connected, spool full (...)". */
#define HEALTH_LINE_MAX 160

bool monitor_output_healthy(const struct config *cfg, const struct output_stats *st)
{
	return st->connected != 0 || (cfg->storage_path[0] && st->spooled_bytes < cfg->storage_limit);
}

int monitor_health_text(const struct config *cfg, const struct prom_output *outs, size_t n, char *buf, size_t cap)
{
	size_t o = 0;
	bool ok = true, cut = false;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const struct output_stats *st = &outs[i].st;
		const char *how = st->connected < 0 ? "ok" : st->connected ? "connected"
				  : !cfg->storage_path[0]           ? "NOT connected, no spool: records wait in memory"
				  : outs[i].healthy                 ? "not connected, spooling"
								    : "NOT connected, spool full";
		int len;

		ok = ok && outs[i].healthy;
		if (cut)
			continue;
		len = snprintf(buf + o, cap - o, "output %u (%s): %s\n", outs[i].index, outs[i].name, how);
		/* whole lines only, up to the first that does not fit; the verdict still counts every output */
		cut = len < 0 || (size_t)len >= cap - o;
		if (cut)
			buf[o] = '\0';
		else
			o += (size_t)len;
	}
	return ok ? 200 : 503;
}

/* Every output's counters, and its health, as both endpoints see them. */
static void snapshot_outputs(const struct monitor *m, struct prom_output *outs)
{
	for (size_t i = 0; i < m->nouts; i++) {
		memset(&outs[i], 0, sizeof(outs[i]));
		outs[i].name = m->cfg->outputs[i].output == OUTPUT_FORWARD ? "forward" : "stdout";
		outs[i].index = (unsigned)i + 1;
		m->outs[i]->stats(m->outs[i], &outs[i].st);
		outs[i].healthy = monitor_output_healthy(m->cfg, &outs[i].st);
	}
}

static int serve_metrics(void *arg, struct http_response *r)
{
	struct monitor *m = arg;
	struct trace_stats traces[CONFIG_MAX_TRACES];
	struct prom_output outs[CONFIG_MAX_OUTPUTS];
	struct http_server_stats hs;
	struct prom_snapshot s = {.traces = traces, .outs = outs, .nouts = m->nouts, .http = &hs,
				  .start_time = m->start_time, .version = EBPF_FORWARD_VERSION};
	size_t name_max = strlen(EBPF_FORWARD_VERSION) + 8, cap;
	const struct trace_stats *t;
	long len;

	for (; s.ntraces < CONFIG_MAX_TRACES && (t = pipeline_stats(m->p, s.ntraces)); s.ntraces++) {
		traces[s.ntraces] = *t;
		if (strlen(t->name) > name_max)
			name_max = strlen(t->name);
	}
	snapshot_outputs(m, outs);
	http_server_stats(m->http, &hs);
	cap = prom_bound(s.ntraces, s.nouts, name_max);
	r->body = malloc(cap);
	if (!r->body || (len = prom_render(&s, r->body, cap)) < 0)
		return -1;
	r->status = 200;
	r->content_type = PROM_CONTENT_TYPE;
	r->len = (size_t)len;
	return 0;
}

static int serve_health(void *arg, struct http_response *r)
{
	struct monitor *m = arg;
	struct prom_output outs[CONFIG_MAX_OUTPUTS];
	size_t cap = CONFIG_MAX_OUTPUTS * HEALTH_LINE_MAX;

	snapshot_outputs(m, outs);
	r->body = malloc(cap);
	if (!r->body)
		return -1;
	r->status = monitor_health_text(m->cfg, outs, m->nouts, r->body, cap);
	r->content_type = "text/plain; charset=utf-8";
	r->len = strlen(r->body);
	return 0;
}

struct monitor *monitor_new(uv_loop_t *loop, const struct config *cfg, const struct pipeline *p,
			    struct output *const *outs, size_t nouts, double start_time, char *err, size_t errlen)
{
	struct monitor *m = calloc(1, sizeof(*m));

	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*m = (struct monitor){.cfg = cfg, .p = p, .outs = outs, .nouts = nouts, .start_time = start_time};
	{
		const struct http_route routes[] = {
			{"/metrics", serve_metrics, m},
			{"/api/v1/health", serve_health, m},
		};

		m->http = http_server_new(loop, cfg->http_listen, cfg->http_port, routes, 2, err, errlen);
	}
	if (!m->http) {
		free(m);
		return NULL;
	}
	return m;
}

void monitor_close(struct monitor *m)
{
	if (!m)
		return;
	/* no handler runs once the server is closing: m may go now */
	http_server_close(m->http);
	free(m);
}
