/* common.bpf.h: what every trace shares: its ring, loss counter, filters, event header and strings. */
#ifndef EBPF_FORWARD_COMMON_BPF_H
#define EBPF_FORWARD_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Settings the daemon writes before load (struct ev_settings in events.h). */
const volatile struct ev_settings ev_set SEC(EV_SETTINGS_SEC) = {.filter_uid = (__u32)-1};

/*
 * The loss counter and the reader's sleep flag, in a section the skeleton
 * or the daemon mmaps, so the daemon reads them without a bpf() call, which
 * also works after it has dropped its privileges. Loss slots spread the CPUs
 * over separate cache lines; the daemon sums them.
 */
struct ev_shared ev_shared SEC(EV_SHARED_SEC);

/* The cgroup of Cgroup=, set by the daemon after load (a cgroup v2 directory fd). */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} filter_cgroup SEC(".maps");

/* The daemon sizes the ring before load (bpf_map__set_max_entries). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Per-CPU sequence behind event_id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seq SEC(".maps");

/*
 * Room to build an event with strings before copying its used part to the
 * ring: a trace whose events are larger defines EV_SCRATCH_SIZE (at most
 * EV_MAX_SIZE) before including this file.
 */
#ifndef EV_SCRATCH_SIZE
#define EV_SCRATCH_SIZE 2048
#endif
_Static_assert(EV_SCRATCH_SIZE <= EV_MAX_SIZE, "EV_SCRATCH_SIZE is over EV_MAX_SIZE");

struct ev_scratch {
	__u8 buf[EV_SCRATCH_SIZE];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ev_scratch);
} scratch SEC(".maps");

static __always_inline void ev_count_lost(void)
{
	__u32 slot = bpf_get_smp_processor_id() & (EV_LOST_SLOTS - 1);

	__sync_fetch_and_add(&ev_shared.lost[slot].n, 1);
}

/*
 * The current task, as the trusted BTF pointer. Its fields are read with plain
 * loads (task->tgid, task->real_parent->tgid, ...): the verifier turns them
 * into faulting loads, where a NULL or bad pointer on the way reads as 0 like a
 * failed bpf_probe_read_kernel, and CO-RE still relocates the offsets through
 * vmlinux.h. A load costs a few instructions where a BPF_CORE_READ step is a
 * bpf_probe_read_kernel call and bpf_get_current_comm, _uid_gid and
 * _cgroup_id each do more work than the load they stand for.
 */
static __always_inline struct task_struct *ev_task(void)
{
	return bpf_get_current_task_btf();
}

/*
 * The filters on the task's own fields (self, Pid, Uid, Mount_Ns, Comm): true
 * when it must not be traced. Valid for any task, also one that is not the
 * current one (sched: the task switched in); Cgroup is not among them.
 */
static __always_inline bool ev_skip_task_fields(struct task_struct *task)
{
	__u32 tgid = task->tgid;

	if (tgid == ev_set.self_tgid)
		return true;
	if (ev_set.filter_tgid && tgid != ev_set.filter_tgid)
		return true;
	/* cred->uid is what bpf_get_current_uid_gid() returns (current_cred(), init_user_ns). */
	if (ev_set.filter_uid != (__u32)-1 && task->cred->uid.val != ev_set.filter_uid)
		return true;
	if (ev_set.filter_mntns && task->nsproxy->mnt_ns->ns.inum != ev_set.filter_mntns)
		return true;
	if (ev_set.filter_comm[0]) {
		/* the whole 16 bytes: both are NUL-padded */
		for (int i = 0; i < EV_COMM_LEN; i++)
			if (task->comm[i] != ev_set.filter_comm[i])
				return true;
	}
	return false;
}

/* True when the task (the current one) must not be traced. */
static __always_inline bool ev_skip_task(struct task_struct *task)
{
	if (ev_skip_task_fields(task))
		return true;
	/* 1: under it; 0: not; < 0: no cgroup set (then nothing passes, as asked) */
	if (ev_set.filter_by_cgroup && bpf_current_task_under_cgroup(&filter_cgroup, 0) != 1)
		return true;
	return false;
}

/* True when the current task must not be traced. */
static __always_inline bool ev_skip(void)
{
	return ev_skip_task(ev_task());
}

/*
 * The header from the task (the current one). Each field is what the helper
 * it replaces returns: pid/tid are task->tgid/pid (bpf_get_current_pid_tgid),
 * uid/gid the subjective cred's in the initial namespace, which maps ids to
 * themselves (bpf_get_current_uid_gid), cgroup_id the default hierarchy's
 * kernfs id (bpf_get_current_cgroup_id), comm the task's (the kernel keeps it
 * NUL-terminated and NUL-padded, as bpf_get_current_comm would copy it).
 */
static __always_inline void ev_fill_hdr_task(struct ev_hdr *h, struct task_struct *task,
					     __u16 type, __u16 size)
{
	const struct cred *cred = task->cred;
	__u32 zero = 0;
	__u64 *s;

	h->type = type;
	h->size = size;
	h->pid = task->tgid;
	h->tid = task->pid;
	h->ppid = task->real_parent->tgid;
	h->uid = cred->uid.val;
	h->gid = cred->gid.val;
	h->ts_ns = bpf_ktime_get_boot_ns();
	s = bpf_map_lookup_elem(&seq, &zero);
	h->event_id = ((__u64)bpf_get_smp_processor_id() << 48) |
		      ((s ? (*s)++ : 0) & 0xffffffffffffULL);
	/* nsproxy is NULL once an exiting task has dropped its namespaces: 0 then. */
	h->mntns_id = task->nsproxy->mnt_ns->ns.inum;
	h->cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	__builtin_memcpy(h->comm, task->comm, sizeof(h->comm));
	/* Terminated whatever a concurrent rename left: the helper's guarantee. */
	h->comm[EV_COMM_LEN - 1] = 0;
}

static __always_inline void ev_fill_hdr(struct ev_hdr *h, __u16 type, __u16 size)
{
	ev_fill_hdr_task(h, ev_task(), type, size);
}

/* A fixed-size event straight in the ring; NULL (and counted) when it is full. */
static __always_inline void *ev_reserve(__u32 size)
{
	void *e = bpf_ringbuf_reserve(&events, size, 0);

	if (!e)
		ev_count_lost();
	return e;
}

/* The room a record of size bytes takes in the ring: its 8-byte header, rounded up to 8. */
#define EV_RB_LEN(size) ((((__u64)(size)) + 8 + 7) & ~7ull)

/*
 * Batched wake-ups: the first event after the reader went to sleep wakes it;
 * while it reads on its timer, the first event that finds the ring past
 * wakeup_bytes does, once until the reader has caught up (and cleared
 * fill_woken). Not the event that crosses the threshold: two CPUs writing at
 * once may each see the other's record already in the fill, and neither the
 * crossing, and a small ring then filled up before the next tick. Every event
 * past the threshold forcing one cost each of them about 4 us on a VM while a
 * lagging reader caught up, which made it lag more. counted: the record is
 * already in the ring's count (reserved), so the fill before it is that much
 * less.
 */
#define EV_FILL_QUERY ((__u64)-1)

/* before: the ring's fill without this record, if the caller has it, else EV_FILL_QUERY */
static __always_inline __u64 ev_wakeup_flags(__u32 size, bool counted, __u64 before)
{
	__u64 len = EV_RB_LEN(size);

	if (!ev_set.wakeup_bytes)
		return 0;
	if (ev_shared.reader_sleeping) {
		ev_shared.reader_sleeping = 0;
		return BPF_RB_FORCE_WAKEUP;
	}
	if (before == EV_FILL_QUERY) {
		before = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
		if (counted)
			before = before > len ? before - len : 0;
	}
	if (before + len < ev_set.wakeup_bytes || ev_shared.fill_woken)
		return BPF_RB_NO_WAKEUP;
	ev_shared.fill_woken = 1;
	return BPF_RB_FORCE_WAKEUP;
}

static __always_inline void ev_submit(void *e)
{
	bpf_ringbuf_submit(e, ev_wakeup_flags(((struct ev_hdr *)e)->size, true, EV_FILL_QUERY));
}

/* The per-CPU scratch event, for events that carry strings. */
static __always_inline void *ev_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

/*
 * The scratch event for an event of at least min bytes, or NULL, the event
 * lost and counted, when the ring cannot take even that much now: the check
 * bpf_ringbuf_output would make after the event was built, made before. On a
 * ring the reader cannot keep up with, most events are refused, and building
 * each (its time, its path) only to have it refused cost the traced task
 * about 200 ns of the 250 an event costs on this VM. Like the output's own
 * check, a snapshot: room the reader frees just after is not seen. Only for
 * an event that stands alone: one whose entry keeps state for a later event
 * (exec, dns) must not lose that state this way.
 */
static __always_inline void *ev_scratch_for(__u32 min, __u64 *fill)
{
	*fill = EV_FILL_QUERY;
	if (!ev_set.ring_bytes)
		return ev_scratch();
	*fill = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	if (*fill + EV_RB_LEN(min) > ev_set.ring_bytes - 1) {
		ev_count_lost();
		return NULL;
	}
	return ev_scratch();
}

/*
 * True when a string read into a full buffer of max bytes went on: the read
 * puts its NUL where the source's byte max - 1 was, so that byte tells. One
 * that cannot be read may go on too: marked rather than passed over.
 */
static __always_inline bool ev_str_goes_on(const void *src, __u32 max, bool user)
{
	const __u8 *at = (const __u8 *)src + max - 1;
	__u8 c = 0;
	long rc;

	if (user)
		rc = bpf_probe_read_user(&c, 1, at);
	else
		rc = bpf_probe_read_kernel(&c, 1, at);
	return rc || c;
}

/*
 * Appends a NUL-terminated string of up to max bytes (NUL included; a
 * constant: EV_PATH_MAX, EV_ARG_MAX) at *cursor in the scratch event and
 * points the field at it. The read stops at the NUL, so a short string costs
 * what it is, whatever max. A string that cannot be read is left empty. One
 * cut short (longer than max, or no room left for it) sets *cut to 1, which
 * may be NULL. Returns the read's result: < 0 when the memory could not be
 * read (not paged in, say), 0 for a NULL source or no room left, else the
 * bytes taken with the NUL.
 */
static __always_inline long ev_put_str(void *base, __u32 *cursor, struct ev_str *f,
				       const void *src, __u32 max, bool user, __u8 *cut)
{
	__u32 at = *cursor;
	long n;

	f->off = at;
	f->len = 0;
	if (!src)
		return 0;
	if (at > EV_SCRATCH_SIZE - max) {
		if (cut)
			*cut = 1;
		return 0;
	}
	if (user)
		n = bpf_probe_read_user_str((__u8 *)base + at, max, src);
	else
		n = bpf_probe_read_kernel_str((__u8 *)base + at, max, src);
	if (n <= 0)
		return n;
	if (n == max && cut && ev_str_goes_on(src, max, user))
		*cut = 1;
	f->len = n - 1;
	*cursor = at + n;
	return n;
}

/*
 * Copies the used part of a scratch event to the ring, counting a loss on
 * failure. fill: the ring's fill ev_scratch_for saw (a wake-up decided on it
 * is at most an event late: the next one sees the fill), or EV_FILL_QUERY.
 */
static __always_inline void ev_output_at(void *base, __u32 size, __u64 fill)
{
	if (size > EV_SCRATCH_SIZE)
		return;
	((struct ev_hdr *)base)->size = size;
	if (bpf_ringbuf_output(&events, base, size, ev_wakeup_flags(size, false, fill)))
		ev_count_lost();
}

static __always_inline void ev_output(void *base, __u32 size)
{
	ev_output_at(base, size, EV_FILL_QUERY);
}

#endif
