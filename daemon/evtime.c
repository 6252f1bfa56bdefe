/* evtime.c: boot-time ns (what BPF's bpf_ktime_get_boot_ns gives) to wall-clock time. */
#include <time.h>

#include "evtime.h"

static int64_t ns_of(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

int evclock_sync(struct evclock *c)
{
	struct timespec b1, wall, b2;

	/* The boot clock counts suspend too, as bpf_ktime_get_boot_ns does. */
	if (clock_gettime(CLOCK_BOOTTIME, &b1) || clock_gettime(CLOCK_REALTIME, &wall) ||
	    clock_gettime(CLOCK_BOOTTIME, &b2))
		return -1;
	c->offset_ns = ns_of(&wall) - (ns_of(&b1) + (ns_of(&b2) - ns_of(&b1)) / 2);
	return 0;
}

void evclock_set(struct evclock *c, int64_t offset_ns)
{
	c->offset_ns = offset_ns;
}

struct evtime evtime_from_boot(const struct evclock *c, uint64_t boot_ns)
{
	int64_t wall = (int64_t)boot_ns + c->offset_ns;
	struct evtime t;

	if (wall < 0)
		wall = 0;
	t.sec = (uint32_t)(wall / 1000000000);
	t.nsec = (uint32_t)(wall % 1000000000);
	if (wall / 1000000000 >= 0xFFFFFFFELL) {
		t.sec = 0xFFFFFFFDu;
		t.nsec = 999999999u;
	}
	return t;
}
