/* signal.bpf.c: kill, tkill and tgkill, one event at syscall exit with the entry's signal and target. */
#include "common.bpf.h"

struct sig_args {
	__s32 sig;
	__s32 target;  /* the pid argument as given */
	__u32 syscall; /* enum ev_signal_syscall */
	__u32 active;  /* 1 from enter to exit */
};

/*
 * Signal syscall in flight, per thread, from enter to exit: task storage (see
 * vfs.bpf.c), never deleted, active marks it in use.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sig_args);
} sig_inflight SEC(".maps");

/* Signal 0 is kept: a liveness probe is still a signal syscall worth seeing. */
static __always_inline int handle_enter(__s32 sig, __s32 target, __u32 syscall)
{
	struct task_struct *task = ev_task();
	struct sig_args *a;

	if (ev_skip_task(task))
		return 0;
	a = bpf_task_storage_get(&sig_inflight, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!a)
		return 0;
	a->sig = sig;
	a->target = target;
	a->syscall = syscall;
	a->active = 1;
	return 0;
}

static __always_inline int handle_exit(long ret)
{
	struct task_struct *task = ev_task();
	struct sig_args *a = bpf_task_storage_get(&sig_inflight, task, NULL, 0);
	struct ev_signal *e;

	if (!a || !a->active)
		return 0;
	a->active = 0;
	e = ev_reserve(sizeof(*e));
	if (!e)
		return 0;
	ev_fill_hdr_task(&e->h, task, EV_SIGNAL, sizeof(*e));
	e->sig = a->sig;
	/* tpid is a pid: a kill to a group (0, -pgid) or to all (-1) has none. */
	e->tpid = a->target > 0 ? (__u32)a->target : 0;
	e->error_raw = ret < 0 ? (__s32)-ret : 0;
	e->syscall = a->syscall;
	e->target = a->target;
	e->_pad = 0;
	ev_submit(e);
	return 0;
}

/* kill(pid, sig): pid may be 0 or negative (a process group, or -1 for all); target keeps it as given. */
SEC("tracepoint/syscalls/sys_enter_kill")
int sig_kill_enter(struct trace_event_raw_sys_enter *ctx)
{
	return handle_enter((__s32)ctx->args[1], (__s32)ctx->args[0], EV_SIG_KILL);
}

SEC("tracepoint/syscalls/sys_exit_kill")
int sig_kill_exit(struct trace_event_raw_sys_exit *ctx)
{
	return handle_exit(ctx->ret);
}

/* tkill(tid, sig) */
SEC("tracepoint/syscalls/sys_enter_tkill")
int sig_tkill_enter(struct trace_event_raw_sys_enter *ctx)
{
	return handle_enter((__s32)ctx->args[1], (__s32)ctx->args[0], EV_SIG_TKILL);
}

SEC("tracepoint/syscalls/sys_exit_tkill")
int sig_tkill_exit(struct trace_event_raw_sys_exit *ctx)
{
	return handle_exit(ctx->ret);
}

/* tgkill(tgid, tid, sig): the target is the thread. */
SEC("tracepoint/syscalls/sys_enter_tgkill")
int sig_tgkill_enter(struct trace_event_raw_sys_enter *ctx)
{
	return handle_enter((__s32)ctx->args[2], (__s32)ctx->args[1], EV_SIG_TGKILL);
}

SEC("tracepoint/syscalls/sys_exit_tgkill")
int sig_tgkill_exit(struct trace_event_raw_sys_exit *ctx)
{
	return handle_exit(ctx->ret);
}
