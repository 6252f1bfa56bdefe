/* common.bpf.h: what every trace shares: its ring, loss counter, filters, event header and strings. */
#ifndef EBPF_FORWARD_COMMON_BPF_H
#define EBPF_FORWARD_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Settings the daemon writes into .rodata before load. */
const volatile __u32 self_tgid = 0;     /* the daemon: never traced */
const volatile __u32 filter_tgid = 0;   /* 0: every process */
const volatile __u32 filter_uid = (__u32)-1; /* -1: every user */
/*
 * Batched wake-ups. 0: the kernel's default, a wake-up whenever the reader has
 * caught up, which on a busy machine means one per event and costs the traced
 * syscall more than the event itself. Otherwise events are written without a
 * wake-up while the daemon reads the rings on a timer, and only the first
 * event after it went to sleep, or a ring filled past this many bytes, wakes it.
 */
const volatile __u64 wakeup_bytes = 0;

/* Set by the daemon (through the mmapped .bss) when it stops its timer and waits. */
__u32 reader_sleeping = 0;

/* The daemon sizes the ring before load (bpf_map__set_max_entries). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/*
 * Events the ring had no room for. A global in .bss rather than a map: the
 * skeleton mmaps it, so the daemon reads it without a bpf() call, which also
 * works after it has dropped its privileges. Slots spread the CPUs over
 * separate cache lines; the daemon sums them.
 */
struct ev_lost_slot lost_slots[EV_LOST_SLOTS] = {};

/* Per-CPU sequence behind event_id. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seq SEC(".maps");

/* Room to build an event with strings before copying its used part to the ring. */
struct ev_scratch {
	__u8 buf[EV_MAX_SIZE];
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

	__sync_fetch_and_add(&lost_slots[slot].n, 1);
}

/* True when the current task must not be traced. */
static __always_inline bool ev_skip(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;

	if (tgid == self_tgid)
		return true;
	if (filter_tgid && tgid != filter_tgid)
		return true;
	if (filter_uid != (__u32)-1 && (__u32)bpf_get_current_uid_gid() != filter_uid)
		return true;
	return false;
}

static __always_inline void ev_fill_hdr(struct ev_hdr *h, __u16 type, __u16 size)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 id = bpf_get_current_pid_tgid();
	__u64 ug = bpf_get_current_uid_gid();
	__u32 zero = 0;
	__u64 *s;

	h->type = type;
	h->size = size;
	h->pid = id >> 32;
	h->tid = (__u32)id;
	h->ppid = BPF_CORE_READ(task, real_parent, tgid);
	h->uid = (__u32)ug;
	h->gid = ug >> 32;
	h->ts_ns = bpf_ktime_get_boot_ns();
	s = bpf_map_lookup_elem(&seq, &zero);
	h->event_id = ((__u64)bpf_get_smp_processor_id() << 48) |
		      ((s ? (*s)++ : 0) & 0xffffffffffffULL);
	h->mntns_id = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	h->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

/* A fixed-size event straight in the ring; NULL (and counted) when it is full. */
static __always_inline void *ev_reserve(__u32 size)
{
	void *e = bpf_ringbuf_reserve(&events, size, 0);

	if (!e)
		ev_count_lost();
	return e;
}

static __always_inline __u64 ev_wakeup_flags(void)
{
	if (!wakeup_bytes)
		return 0;
	if (reader_sleeping) {
		reader_sleeping = 0;
		return BPF_RB_FORCE_WAKEUP;
	}
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void ev_submit(void *e)
{
	bpf_ringbuf_submit(e, ev_wakeup_flags());
}

/* The per-CPU scratch event, for events that carry strings. */
static __always_inline void *ev_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

/*
 * Appends a NUL-terminated string at *cursor in the scratch event and points
 * the field at it. A string that cannot be read is left empty. Returns the
 * read's result: < 0 when the memory could not be read (not paged in, say),
 * 0 for a NULL source or no room left, else the bytes taken with the NUL.
 */
static __always_inline long ev_put_str(void *base, __u32 *cursor, struct ev_str *f,
				       const void *src, bool user)
{
	__u32 at = *cursor;
	long n;

	f->off = at;
	f->len = 0;
	if (!src || at > EV_MAX_SIZE - EV_STR_MAX)
		return 0;
	if (user)
		n = bpf_probe_read_user_str((__u8 *)base + at, EV_STR_MAX, src);
	else
		n = bpf_probe_read_kernel_str((__u8 *)base + at, EV_STR_MAX, src);
	if (n <= 0)
		return n;
	f->len = n - 1;
	*cursor = at + n;
	return n;
}

/* Copies the used part of a scratch event to the ring, counting a loss on failure. */
static __always_inline void ev_output(void *base, __u32 size)
{
	if (size > EV_MAX_SIZE)
		return;
	((struct ev_hdr *)base)->size = size;
	if (bpf_ringbuf_output(&events, base, size, ev_wakeup_flags()))
		ev_count_lost();
}

#endif
