/* evtime.h: an event's boot-time nanoseconds turned into wall-clock seconds and nanoseconds. */
#ifndef EBPF_FORWARD_EVTIME_H
#define EBPF_FORWARD_EVTIME_H

#include <stdint.h>

struct evtime {
	uint32_t sec;
	uint32_t nsec;
};

/* Wall clock minus boot clock, re-read now and then to follow clock steps. */
struct evclock {
	int64_t offset_ns;
};

/* Reads both clocks; the offset is taken between two boot-clock reads to keep it tight. */
int evclock_sync(struct evclock *c);

/* Sets the offset by hand (tests). */
void evclock_set(struct evclock *c, int64_t offset_ns);

/* boot_ns + offset as seconds and nanoseconds; never a Fluent Bit reserved second (0xFFFFFFFE/F). */
struct evtime evtime_from_boot(const struct evclock *c, uint64_t boot_ns);

#endif
