/* monitor.h: the HTTP endpoints of [SERVICE] HTTP_Server: /metrics (Prometheus text) and /api/v1/health. */
#ifndef EBPF_FORWARD_MONITOR_H
#define EBPF_FORWARD_MONITOR_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "output.h"
#include "prom.h"

struct config;
struct pipeline;
struct monitor;

/*
 * Listens on cfg's HTTP_Listen:HTTP_Port and serves the counters of p and
 * outs[0..nouts) (cfg->outputs[i]'s); nothing is owned. start_time: when the
 * daemon started (seconds since the epoch). NULL with a message in err.
 */
struct monitor *monitor_new(uv_loop_t *loop, const struct config *cfg, const struct pipeline *p,
			    struct output *const *outs, size_t nouts, double start_time, char *err, size_t errlen);

/* Stops serving (the loop finishes closing the connections) and frees; NULL is fine. */
void monitor_close(struct monitor *m);

/*
 * Whether an output is well: not a connection (stdout), connected, or with a
 * spool (Storage_Path) that is below Storage_Limit, where its frames go meanwhile.
 */
bool monitor_output_healthy(const struct config *cfg, const struct output_stats *st);

/* /api/v1/health's answer for outs[0..n): 200 or 503, with a line per output in buf (cut to cap). */
int monitor_health_text(const struct config *cfg, const struct prom_output *outs, size_t n, char *buf, size_t cap);

#endif
