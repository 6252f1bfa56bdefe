/* stats.c: the counters' log lines; every loss is reported where it is first seen. */
#include <inttypes.h>
#include <stdio.h>

#include "log.h"
#include "stats.h"

void stats_log(const char *prefix, struct trace_stats *s, unsigned n, double elapsed_s)
{
	for (unsigned i = 0; i < n; i++) {
		char rate[32] = "";

		/* totals only (no rate) when elapsed_s is 0: the final lines */
		if (elapsed_s > 0)
			snprintf(rate, sizeof(rate), " (%.1f/s)", (double)(s[i].events - s[i].prev_events) / elapsed_s);
		log_info("%s: trace %s: %" PRIu64 " events%s, %" PRIu64
			 " lost in kernel ring, %" PRIu64 " malformed, %" PRIu64 " rejected by output",
			 prefix, s[i].name, s[i].events, rate, s[i].lost, s[i].malformed, s[i].rejected);
		s[i].prev_events = s[i].events;
	}
}

void stats_check_lost(struct trace_stats *s, uint64_t lost_now)
{
	if (lost_now > s->lost)
		log_warn("trace %s: ring buffer full, %" PRIu64 " events lost (%" PRIu64
			 " in total); raise Ringbuf_Size", s->name, lost_now - s->lost, lost_now);
	s->lost = lost_now;
}
