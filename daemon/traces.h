/* traces.h: the trace registry: name -> skeleton open/load/attach, its ring and loss counter. */
#ifndef EBPF_FORWARD_TRACES_H
#define EBPF_FORWARD_TRACES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest path a setting holds (cgroup directory, library), NUL included. */
#define TRACE_PATH_MAX 4096

/* What starting a trace needs: its ring, the kernel filters, batching, the libraries to probe. */
struct trace_opts {
	uint64_t ringbuf_size;             /* bytes per ring, a power of two; 0: the object's own */
	unsigned poll_ms;                  /* 0: a wake-up per event; else wake-ups are batched */
	uint32_t filter_pid;               /* only this process (0 = all) */
	int64_t filter_uid;                /* only this user (-1 = all) */
	char cgroup_path[TRACE_PATH_MAX];  /* only tasks in this cgroup v2 directory or below ("" = all) */
	char filter_comm[16];              /* only tasks with this command name ("" = all) */
	uint64_t filter_mntns;             /* only this mount namespace (0 = all) */
	char libc_path[TRACE_PATH_MAX];    /* the libc to probe ("" = the one found at run time) */
};

/* What a trace is, independent of any loaded instance. */
struct trace_desc {
	const char *name;         /* canonical, e.g. "exec" */
	const char *description;  /* one line */
	const char *attach_points;/* human-readable list, e.g. "tracepoint syscalls:sys_enter_openat, ..." */
	uint16_t event_type;      /* enum ev_type of the events it emits */
};

/* A trace opened, loaded and attached. */
struct trace;

/* The registry entry for "exec", "trace_exec", "EXEC", ...; NULL if unknown. */
const struct trace_desc *trace_find(const char *name);

/* All registry entries, NULL-terminated. */
const struct trace_desc *const *trace_all(void);

/*
 * Opens, loads and attaches one trace with the given settings (ring size,
 * filters, libraries). On error returns NULL and writes a message into err.
 */
struct trace *trace_start(const struct trace_desc *desc, const struct trace_opts *o,
			  char *err, size_t errlen);

/* Whether desc can load and attach here (for --list-traces); why not into err. */
bool trace_probe(const struct trace_desc *desc, char *err, size_t errlen);

/* The trace's ring buffer map fd, to add to a ring_buffer manager. */
int trace_ring_fd(const struct trace *t);

/* Events the kernel could not put in this trace's ring (sum over CPUs). */
uint64_t trace_lost(const struct trace *t);

const struct trace_desc *trace_desc(const struct trace *t);

/*
 * With batched wake-ups: tells the trace whether the reader waits for a
 * wake-up (true: the next event wakes it) or reads on its timer (false).
 */
void trace_reader_sleeping(struct trace *t, bool sleeping);

/* Stops new events (links destroyed) but keeps the ring readable. */
void trace_detach(struct trace *t);

/* Detaches and frees. */
void trace_stop(struct trace *t);

#endif
