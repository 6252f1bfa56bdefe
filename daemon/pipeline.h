/* pipeline.h: the libuv side: ring buffers readable -> schema -> output, plus housekeeping. */
#ifndef EBPF_FORWARD_PIPELINE_H
#define EBPF_FORWARD_PIPELINE_H

#include <stddef.h>

#include <uv.h>

#include "stats.h"

struct config;
struct output;
struct trace;
struct pipeline;

/*
 * Watches the rings of traces[0..n) on loop and sends each record to every
 * output of outs[0..nouts) (cfg->outputs[i]'s) whose Match takes it. Nothing
 * is owned: the caller stops traces and closes the outputs after pipeline_free.
 */
struct pipeline *pipeline_new(uv_loop_t *loop, const struct config *cfg, struct trace **traces,
			      size_t n, struct output *const *outs, size_t nouts, char *err, size_t errlen);

/* Reads everything in the rings now (at most a budget per ring); returns the records read. */
int pipeline_drain(struct pipeline *p);

/* Shutdown: detach the traces, read what is left, flush the output, close the handles. */
void pipeline_shutdown(struct pipeline *p);

/* Logs every counter, traces and output, as "final: ..." lines (after the output has closed). */
void pipeline_log_totals(struct pipeline *p);

/* Counters of trace i. */
const struct trace_stats *pipeline_stats(const struct pipeline *p, size_t i);

/* Frees after the loop has closed the handles (run the loop once after shutdown). */
void pipeline_free(struct pipeline *p);

#endif
