/* signal.bpf.c: kill, tkill and tgkill, one event at syscall exit with the entry's signal and target. */
#include "common.bpf.h"

struct sig_args {
	__s32 sig;
	__s32 target;  /* the pid argument as given */
	__u32 syscall; /* enum ev_signal_syscall */
};

/* Signal syscall in flight, by thread id, from enter to exit. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct sig_args);
} sig_inflight SEC(".maps");

/* Signal 0 is kept: a liveness probe is still a signal syscall worth seeing. */
static __always_inline int handle_enter(__s32 sig, __s32 target, __u32 syscall)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sig_args a = {.sig = sig, .target = target, .syscall = syscall};

	if (ev_skip())
		return 0;
	bpf_map_update_elem(&sig_inflight, &tid, &a, BPF_ANY);
	return 0;
}

static __always_inline int handle_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sig_args *a = bpf_map_lookup_elem(&sig_inflight, &tid);
	struct ev_signal *e;

	if (!a)
		return 0;
	e = ev_reserve(sizeof(*e));
	if (!e)
		goto out;
	ev_fill_hdr(&e->h, EV_SIGNAL, sizeof(*e));
	e->sig = a->sig;
	/* tpid is a pid: a kill to a group (0, -pgid) or to all (-1) has none. */
	e->tpid = a->target > 0 ? (__u32)a->target : 0;
	e->error_raw = ret < 0 ? (__s32)-ret : 0;
	e->syscall = a->syscall;
	e->target = a->target;
	e->_pad = 0;
	ev_submit(e);
out:
	bpf_map_delete_elem(&sig_inflight, &tid);
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
