/* prom.h: the daemon's counters as Prometheus text exposition (format 0.0.4), from a snapshot. */
#ifndef EBPF_FORWARD_PROM_H
#define EBPF_FORWARD_PROM_H

#include <stdbool.h>
#include <stddef.h>

#include "http_server.h"
#include "output.h"
#include "stats.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* One output as the renderer sees it: its counters and how the health check judged it. */
struct prom_output {
	const char *name;          /* "forward", "stdout": the metrics records' "output" */
	unsigned index;            /* from 1, as the log's "output N" and the spool's outputN */
	struct output_stats st;
	bool healthy;
};

/* Everything one scrape shows; nothing is owned. */
struct prom_snapshot {
	const struct trace_stats *traces;
	size_t ntraces;
	const struct prom_output *outs;
	size_t nouts;
	const struct http_server_stats *http; /* the server's own; NULL: left out */
	double start_time;         /* seconds since the epoch */
	const char *version;
};

/* Bytes prom_render needs at most for a snapshot with these counts and names of at most name_max bytes. */
size_t prom_bound(size_t ntraces, size_t nouts, size_t name_max);

/* Writes the exposition text into buf; returns its length, or -1 if cap was too small. */
long prom_render(const struct prom_snapshot *s, char *buf, size_t cap);

#endif
