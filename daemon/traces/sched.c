/* traces/sched.c: the sched trace: context switches with the run-queue wait of the task switched in. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* events.h first: the skeleton names its structs */
#include "events.h"
#include "sched.skel.h"
#include "schema_pack.h"
#include "trace_unit.h"

static const struct schema_field fields[] = {
	F("cpu", SF_U32, struct ev_sched, cpu),
	F("prev_pid", SF_U32, struct ev_sched, prev_pid),
	F("prev_prio", SF_S32, struct ev_sched, prev_prio),
	F("prev_state", SF_S32, struct ev_sched, prev_state),
	F("next_pid", SF_U32, struct ev_sched, next_pid),
	F("next_prio", SF_S32, struct ev_sched, next_prio),
	F("runq_latency_ns", SF_U64, struct ev_sched, runq_latency_ns),
	F("wakeup_tracked", SF_BOOL, struct ev_sched, wakeup_tracked),
	F("prev_comm", SF_COMM, struct ev_sched, prev_comm),
};

SCHEMA_DEFINE(sched_type, EV_SCHED, "sched", struct ev_sched, fields);

/*
 * Cgroup= is tested on the task switched in, which is not the current one:
 * the program compares its cgroup's ancestors with the cgroup's id (the
 * directory's inode, as cgroup_id shows it), given here before attaching.
 */
static int set_cgroup_id(struct bpf_object *obj, const char *path, char *err, size_t errlen)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, "sched_cgroup");
	struct stat st;
	__u32 zero = 0;
	__u64 id;

	if (stat(path, &st)) {
		snprintf(err, errlen, "Cgroup %s: %s", path, strerror(errno));
		return -1;
	}
	id = (__u64)st.st_ino;
	if (!m || bpf_map_update_elem(bpf_map__fd(m), &zero, &id, BPF_ANY)) {
		snprintf(err, errlen, "Cgroup %s: cannot give its id to the sched trace", path);
		return -1;
	}
	return 0;
}

/* Cgroup=: its id in the map before the programs run. */
static int prepare(struct bpf_object *obj, const struct trace_opts *o, char *err, size_t errlen)
{
	return o->cgroup_path[0] ? set_cgroup_id(obj, o->cgroup_path, err, errlen) : 0;
}

const struct trace_unit trace_unit_sched = {
	.name = "sched",
	.description = "context switches, with how long the task switched in waited to run (heavy)",
	.attach_points = "tp_btf sched_switch, sched_wakeup, sched_wakeup_new",
	.elf_bytes = sched_bpf__elf_bytes,
	.types = (const struct schema_type *const[]){&sched_type, NULL},
	.heavy = true,
	.prepare = prepare,
};
