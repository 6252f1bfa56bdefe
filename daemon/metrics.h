/* metrics.h: the daemon's own counters as records (event_type "metrics"), so losses reach the pipeline. */
#ifndef EBPF_FORWARD_METRICS_H
#define EBPF_FORWARD_METRICS_H

#include "mpbuf.h"
#include "output.h"
#include "stats.h"

/* The event_type and tag id of metrics records (after every event type's id). */
#define METRICS_EVENT_TYPE "metrics"

/* {"event_type": "metrics", "trace": name, "events", "lost_kernel", "malformed", "rejected"}; -1 if out of memory. */
int metrics_pack_trace(struct mpbuf *b, const struct trace_stats *s);

/* {"event_type": "metrics", "output": name, "records_in", ..., "buffered_bytes", "spooled_bytes", "handshake_failures", "connected"}; -1 if out of memory. */
int metrics_pack_output(struct mpbuf *b, const char *name, const struct output_stats *s);

#endif
