/* traces.h: the one loader of every trace: open its object, write its settings, load, attach, read its ring. */
#ifndef EBPF_FORWARD_TRACES_H
#define EBPF_FORWARD_TRACES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace_opts.h"
#include "trace_unit.h"

/* A trace opened, loaded and attached. */
struct trace;

/*
 * Opens, loads and attaches the trace of unit with the given settings (ring
 * size, filters, libraries). On error returns NULL and writes a message into err.
 */
struct trace *trace_start(const struct trace_unit *unit, const struct trace_opts *o, char *err, size_t errlen);

/* Whether unit can load and attach here (for --list-traces); why not into err. */
bool trace_probe(const struct trace_unit *unit, char *err, size_t errlen);

/* The trace's ring buffer map fd, to add to a ring_buffer manager. */
int trace_ring_fd(const struct trace *t);

/* Events the kernel could not put in this trace's ring (sum over CPUs). */
uint64_t trace_lost(const struct trace *t);

const struct trace_unit *trace_unit(const struct trace *t);

/*
 * With batched wake-ups: tells the trace whether the reader waits for a
 * wake-up (true: the next event wakes it) or reads on its timer (false).
 */
void trace_reader_sleeping(struct trace *t, bool sleeping);
/* The reader has read the ring empty: the next event past the wake-up threshold wakes it again. */
void trace_reader_caught_up(struct trace *t);

/* Stops new events (links destroyed) but keeps the ring readable. */
void trace_detach(struct trace *t);

/* Detaches and frees. */
void trace_stop(struct trace *t);

#endif
