/* malloc.bpf.c: libc malloc, free, calloc, realloc, mmap and munmap, by uprobes the daemon attaches to the libc it finds. */
#include "common.bpf.h"

#define MAP_FAILED ((__u64)-1)

/*
 * A call in flight from its uprobe to its uretprobe, one slot per operation,
 * because libc calls its own entry points: realloc(NULL, n) enters malloc, and
 * a large malloc enters mmap, while the outer call is in flight.
 */
struct call_args {
	__u64 address;
	__u64 size;
};

struct calls_in_flight {
	struct call_args op[EV_MALLOC_OP_COUNT]; /* by enum ev_malloc_op */
	__u32 active;                            /* bit (1 << op): op[op] is in flight */
	__u32 _pad;
};

/*
 * Per thread: task storage (see vfs.bpf.c) rather than a hash keyed by
 * {tid, op}: no hashing or bucket lock on each call, never deleted.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct calls_in_flight);
} malloc_inflight SEC(".maps");

static __always_inline void emit(__u32 op, __u64 address, __u64 size)
{
	struct ev_malloc *e = ev_reserve(sizeof(*e));

	if (!e)
		return;
	ev_fill_hdr(&e->h, EV_MALLOC, sizeof(*e));
	e->operation = op;
	e->_pad = 0;
	e->address = address;
	e->size = size;
	ev_submit(e);
}

static __always_inline int call_enter(__u32 op, __u64 address, __u64 size)
{
	struct task_struct *task = ev_task();
	struct calls_in_flight *c;

	if (ev_skip_task(task))
		return 0;
	c = bpf_task_storage_get(&malloc_inflight, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!c)
		return 0;
	c->op[op].address = address;
	c->op[op].size = size;
	c->active |= 1u << op;
	return 0;
}

/* The entry's arguments, taken out of the slot; false when the entry was not seen. */
static __always_inline bool call_exit(__u32 op, struct call_args *a)
{
	struct calls_in_flight *c = bpf_task_storage_get(&malloc_inflight, ev_task(), NULL, 0);

	if (!c || !(c->active & (1u << op)))
		return false;
	*a = c->op[op];
	c->active &= ~(1u << op);
	return true;
}

/* A NULL result is still sent (address 0): a failed allocation is worth seeing. */
SEC("uprobe")
int BPF_KPROBE(malloc_malloc_enter, size_t size)
{
	return call_enter(EV_MALLOC_MALLOC, 0, size);
}

SEC("uretprobe")
int BPF_KRETPROBE(malloc_malloc_exit, void *ret)
{
	struct call_args a;

	if (call_exit(EV_MALLOC_MALLOC, &a))
		emit(EV_MALLOC_MALLOC, (__u64)ret, a.size);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(malloc_free_enter, void *ptr)
{
	if (!ptr || ev_skip())
		return 0;
	emit(EV_MALLOC_FREE, (__u64)ptr, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(malloc_calloc_enter, size_t nmemb, size_t size)
{
	/* An overflowing product makes calloc fail; the size sent is then the wrapped one. */
	return call_enter(EV_MALLOC_CALLOC, 0, (__u64)nmemb * size);
}

SEC("uretprobe")
int BPF_KRETPROBE(malloc_calloc_exit, void *ret)
{
	struct call_args a;

	if (call_exit(EV_MALLOC_CALLOC, &a))
		emit(EV_MALLOC_CALLOC, (__u64)ret, a.size);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(malloc_realloc_enter, void *ptr, size_t size)
{
	return call_enter(EV_MALLOC_REALLOC, (__u64)ptr, size);
}

/*
 * The old block is gone when realloc moved it, or when realloc(p, 0) freed it
 * and returned NULL; a NULL result for a non-zero size is a failure that
 * leaves the old block alone.
 */
SEC("uretprobe")
int BPF_KRETPROBE(malloc_realloc_exit, void *ret)
{
	struct call_args a;
	__u64 addr = (__u64)ret;

	if (!call_exit(EV_MALLOC_REALLOC, &a))
		return 0;
	emit(EV_MALLOC_REALLOC, addr, a.size);
	if (a.address && a.address != addr && (addr || !a.size))
		emit(EV_MALLOC_REALLOC_FREE, a.address, 0);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(malloc_mmap_enter, void *addr, size_t length)
{
	return call_enter(EV_MALLOC_MMAP, 0, length);
}

SEC("uretprobe")
int BPF_KRETPROBE(malloc_mmap_exit, void *ret)
{
	struct call_args a;

	if (call_exit(EV_MALLOC_MMAP, &a) && (__u64)ret != MAP_FAILED)
		emit(EV_MALLOC_MMAP, (__u64)ret, a.size);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(malloc_munmap_enter, void *addr, size_t length)
{
	if (ev_skip())
		return 0;
	emit(EV_MALLOC_MUNMAP, (__u64)addr, length);
	return 0;
}
