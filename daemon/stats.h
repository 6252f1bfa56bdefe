/* stats.h: per-trace counters: events read, lost in the kernel ring, malformed. */
#ifndef EBPF_FORWARD_STATS_H
#define EBPF_FORWARD_STATS_H

#include <stdint.h>

struct trace_stats {
	const char *name;
	uint64_t events;      /* records read from the ring and handed on */
	uint64_t lost;        /* the kernel's count of events the ring had no room for */
	uint64_t malformed;   /* ring records that failed the schema check */
	uint64_t rejected;    /* records the output did not take */
	/* at the previous report, for rates and "new since" */
	uint64_t prev_events;
	uint64_t rate_mark;   /* events at the last rate log line (malloc) */
};

/* Logs "PREFIX: trace ..." per trace with totals and, when elapsed_s > 0, rates over it; remembers them. */
void stats_log(const char *prefix, struct trace_stats *s, unsigned n, double elapsed_s);

/* Logs a warning when the kernel lost count grew since the last call. */
void stats_check_lost(struct trace_stats *s, uint64_t lost_now);

#endif
