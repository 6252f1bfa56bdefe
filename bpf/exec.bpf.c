/* exec.bpf.c: execve / execveat, one event at entry and one at exit carrying the entry's filename and arguments. */
#include "common.bpf.h"

/* Arguments counted per exec; argc stops here and argv_last is the last one counted. */
#define EXEC_ARGS_MAX 1024

/*
 * The entry event by thread id, until the exit. A successful exec has replaced
 * the user memory the filename and argv were read from, so the exit event is
 * the saved entry event with its stage, result and header brought up to date.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct ev_scratch);
} exec_inflight SEC(".maps");

/*
 * Builds the entry event in the scratch buffer, sends it, and keeps it for the
 * exit. Strings are read in ABI order; an argv_last that is argv0/1/2 shares
 * that string instead of carrying a second copy.
 */
static __always_inline int handle_enter(const char *filename, const char *const *argv)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 size = sizeof(struct ev_exec);
	const char *a0 = NULL, *a1 = NULL, *a2 = NULL, *last = NULL;
	const char *p;
	struct ev_exec *e;
	__u32 argc;
	int i;

	if (ev_skip())
		return 0;
	e = ev_scratch();
	if (!e)
		return 0;
	/*
	 * The count goes through the event, not a register: read back it is
	 * unknown to the verifier, which then checks the code after the loop
	 * once instead of once per possible count.
	 */
	e->argc = 0;
	for (i = 0; argv && i < EXEC_ARGS_MAX; i++) {
		if (bpf_probe_read_user(&p, sizeof(p), &argv[i]) || !p)
			break;
		e->argc = i + 1;
	}
	argc = e->argc;
	if (argc > 0 && bpf_probe_read_user(&a0, sizeof(a0), &argv[0]))
		a0 = NULL;
	if (argc > 1 && bpf_probe_read_user(&a1, sizeof(a1), &argv[1]))
		a1 = NULL;
	if (argc > 2 && bpf_probe_read_user(&a2, sizeof(a2), &argv[2]))
		a2 = NULL;
	if (argc > 3 && bpf_probe_read_user(&last, sizeof(last), &argv[argc - 1]))
		last = NULL;
	ev_fill_hdr(&e->h, EV_EXEC, 0);
	e->stage = EV_EXEC_ENTER;
	e->error_raw = 0;
	e->_pad = 0;
	ev_put_str(e, &size, &e->filename, filename, true);
	ev_put_str(e, &size, &e->argv0, a0, true);
	ev_put_str(e, &size, &e->argv1, a1, true);
	ev_put_str(e, &size, &e->argv2, a2, true);
	if (argc == 1)
		e->argv_last = e->argv0;
	else if (argc == 2)
		e->argv_last = e->argv1;
	else if (argc == 3)
		e->argv_last = e->argv2;
	else
		ev_put_str(e, &size, &e->argv_last, last, true);
	ev_output(e, size);
	/* ev_output wrote size into the header: the exit reads it back from there. */
	bpf_map_update_elem(&exec_inflight, &tid, e, BPF_ANY);
	return 0;
}

static __always_inline int handle_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct ev_exec *e = bpf_map_lookup_elem(&exec_inflight, &tid);
	__u16 size;

	if (!e)
		return 0;
	size = e->h.size;
	/* Fresh header: time, event id, and after a success the new comm. */
	ev_fill_hdr(&e->h, EV_EXEC, size);
	e->stage = EV_EXEC_EXIT;
	e->error_raw = ret < 0 ? (__s32)-ret : 0;
	ev_output(e, size);
	bpf_map_delete_elem(&exec_inflight, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_execve")
int exec_enter(struct trace_event_raw_sys_enter *ctx)
{
	return handle_enter((const char *)ctx->args[0], (const char *const *)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_execve")
int exec_exit(struct trace_event_raw_sys_exit *ctx)
{
	return handle_exit(ctx->ret);
}

/* execveat(dirfd, pathname, argv, envp, flags): the filename is pathname as given. */
SEC("tracepoint/syscalls/sys_enter_execveat")
int exec_at_enter(struct trace_event_raw_sys_enter *ctx)
{
	return handle_enter((const char *)ctx->args[1], (const char *const *)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int exec_at_exit(struct trace_event_raw_sys_exit *ctx)
{
	return handle_exit(ctx->ret);
}

/*
 * When a thread other than the leader execs, it takes over the leader's pid
 * before the syscall returns, so its exit would look for the wrong key: move
 * the saved entry event to the new thread id.
 */
SEC("tracepoint/sched/sched_process_exec")
int exec_rekey(struct trace_event_raw_sched_process_exec *ctx)
{
	__u32 old_tid = ctx->old_pid, tid = ctx->pid;
	struct ev_scratch *e;

	if (old_tid == tid)
		return 0;
	e = bpf_map_lookup_elem(&exec_inflight, &old_tid);
	if (!e)
		return 0;
	bpf_map_update_elem(&exec_inflight, &tid, e, BPF_ANY);
	bpf_map_delete_elem(&exec_inflight, &old_tid);
	return 0;
}
