/* container.h: the container of every record, from its cgroup v2 id: a bounded cache fed by walks of the tree. */
#ifndef EBPF_FORWARD_CONTAINER_H
#define EBPF_FORWARD_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "container_name.h"

/* The value of a record whose cgroup could not be found (gone before it was looked up, or over budget). */
#define CONTAINER_UNKNOWN "<unknown>"

/*
 * Opens the cgroup v2 tree at root (NULL: /sys/fs/cgroup, or
 * /sys/fs/cgroup/unified on a hybrid host, whichever is cgroup v2) and walks it
 * once. The tree stays open, so walks after the privilege drop need no path
 * lookup from the top. Returns 0, or -1 with err set (records then carry
 * CONTAINER_UNKNOWN).
 */
int container_start(const char *root, char *err, size_t errlen);

/* Where the tree is ("" before a successful start). */
const char *container_root(void);

/* Closes the tree and forgets every cgroup. */
void container_stop(void);

/*
 * The container of a task whose event had cgroup_id at ts_ns (CLOCK_BOOTTIME):
 * its 64-hex id, "" when the cgroup is in no container, CONTAINER_UNKNOWN when
 * it cannot be found (or cgroup_id is 0). Never NULL; *len is its length. A cache hit costs a few
 * ns; a miss walks the tree, at most 5% of the time.
 */
const char *container_of(uint64_t cgroup_id, uint64_t ts_ns, size_t *len);

struct container_stats {
	uint64_t misses;         /* lookups the cache did not answer */
	uint64_t walks;          /* walks of the tree, the one at start included */
	uint64_t walk_ns;        /* time they took */
	uint64_t max_walk_ns;    /* the longest */
	uint64_t dirs;           /* cgroups the last walk saw */
	uint64_t gone;           /* records of a cgroup no walk after the event found */
	uint64_t over_budget;    /* records that missed while walks were over their time budget */
	uint64_t evictions;      /* cached cgroups pushed out for room */
};

void container_stats(struct container_stats *out);

#endif
