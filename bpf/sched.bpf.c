/* sched.bpf.c: context switches, each with how long the task switched in waited on the run queue. */
#include "common.bpf.h"

#define TASK_RUNNING 0
/* Cgroup levels searched for Cgroup= (a pod's cgroup is about 5 deep). */
#define SCHED_CGROUP_DEPTH 32

/*
 * When the task went on the run queue and has not run since; 0: no wait
 * known. Task storage: it dies with the task, so it can neither fill up nor
 * leak, and a switch costs a pointer lookup, not a hash.
 */
struct sched_wait {
	__u64 enq_ns;  /* CLOCK_MONOTONIC */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sched_wait);
} sched_waits SEC(".maps");

/*
 * Cgroup=: the cgroup's id (its directory's inode), written by the daemon
 * before attaching. The common filter asks whether the *current* task is under
 * the cgroup, and at a switch the current task is prev, not next.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sched_cgroup SEC(".maps");

/*
 * Tasks whose switches are never sent, by the one cheap test that cannot
 * change while they live (their tgid): their waits are not worth keeping.
 */
static __always_inline bool sched_untracked(struct task_struct *p)
{
	__u32 tgid = p->tgid;

	return tgid == ev_set.self_tgid || (ev_set.filter_tgid && tgid != ev_set.filter_tgid);
}

/* True unless the task is in the cgroup of Cgroup= or below it (its ancestors include it). */
static __always_inline bool sched_outside_cgroup(struct task_struct *p)
{
	struct cgroup *cg = BPF_CORE_READ(p, cgroups, dfl_cgrp);
	__u64 off = bpf_core_field_offset(struct cgroup, ancestors);
	__u32 zero = 0;
	__u64 *want = bpf_map_lookup_elem(&sched_cgroup, &zero);
	int level;

	if (!want || !*want || !cg)
		return true;
	level = BPF_CORE_READ(cg, level);
	for (int i = 0; i < SCHED_CGROUP_DEPTH && i <= level; i++) {
		struct cgroup *a = NULL;

		if (bpf_probe_read_kernel(&a, sizeof(a), (void *)cg + off + i * sizeof(a)) || !a)
			return true;
		if (BPF_CORE_READ(a, kn, id) == *want)
			return false;
	}
	return true;
}

/*
 * A wakeup puts the task on a run queue. An earlier time still pending is
 * kept: a task preempted while going to sleep stays queued, and a wakeup then
 * only makes it runnable again; it has been waiting since the preemption.
 */
static __always_inline void sched_enqueue(struct task_struct *p)
{
	struct sched_wait *w;

	if (!p->pid || sched_untracked(p))
		return;
	w = bpf_task_storage_get(&sched_waits, p, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (w && !w->enq_ns)
		w->enq_ns = bpf_ktime_get_ns();
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(sched_wakeup, struct task_struct *p)
{
	sched_enqueue(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(sched_wakeup_new, struct task_struct *p)
{
	sched_enqueue(p);
	return 0;
}

/*
 * prev_state is prev's __state as the scheduler read it: TASK_RUNNING (0)
 * when prev was preempted and stays runnable. With preempt set prev also stays
 * queued whatever its state (preempted while about to sleep). A runnable prev
 * starts waiting now; any other leaves the queue, and a time left pending by
 * a wakeup that came while it was still running is dropped.
 */
SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	__u64 now = bpf_ktime_get_ns(), lat = 0;
	struct sched_wait *w;
	struct ev_sched *e;
	__u8 tracked = 0;

	/* The idle task (pid 0) is never on a run queue: neither side is timed. */
	if (prev->pid && !sched_untracked(prev)) {
		if (preempt || prev_state == TASK_RUNNING) {
			w = bpf_task_storage_get(&sched_waits, prev, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
			if (w)
				w->enq_ns = now;
		} else {
			w = bpf_task_storage_get(&sched_waits, prev, NULL, 0);
			if (w)
				w->enq_ns = 0;
		}
	}
	/* Switches to idle are not sent: the CPU going idle is not a task that waited. */
	if (!next->pid || sched_untracked(next))
		return 0;
	w = bpf_task_storage_get(&sched_waits, next, NULL, 0);
	if (w && w->enq_ns) {
		lat = now > w->enq_ns ? now - w->enq_ns : 0;
		tracked = 1;
		w->enq_ns = 0;
	}
	/* Sched_Min_Latency, before any other work: most switches end here when it is set. */
	if (lat < ev_set.sched_min_latency_ns)
		return 0;
	if (ev_skip_task_fields(next))
		return 0;
	if (ev_set.filter_by_cgroup && sched_outside_cgroup(next))
		return 0;
	e = ev_reserve(sizeof(*e));
	if (!e)
		return 0;
	ev_fill_hdr_task(&e->h, next, EV_SCHED, sizeof(*e));
	e->cpu = bpf_get_smp_processor_id();
	e->prev_pid = prev->pid;
	e->prev_prio = prev->prio;
	e->prev_state = (__s32)prev_state;
	e->next_pid = next->pid;
	e->next_prio = next->prio;
	e->runq_latency_ns = lat;
	e->wakeup_tracked = tracked;
	__builtin_memset(e->_pad, 0, sizeof(e->_pad));
	__builtin_memcpy(e->prev_comm, prev->comm, sizeof(e->prev_comm));
	e->prev_comm[EV_COMM_LEN - 1] = 0;
	ev_submit(e);
	return 0;
}
