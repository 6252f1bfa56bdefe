/* self.bpf.c: the daemon's own tgid as the kernel counts it, caught once from a marked prctl of its own. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "self.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* A random number the daemon passes with the call: no other process makes the same one. */
const volatile __u64 self_cookie = 0;

/* The caller's tgid in the initial PID namespace, which the traces compare with task->tgid. */
__u32 self_tgid = 0;

SEC("tracepoint/syscalls/sys_enter_prctl")
int self_mark(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->args[0] != SELF_PRCTL_OPTION || (__u64)ctx->args[1] != self_cookie || !self_cookie)
		return 0;
	/* getpid() inside a PID namespace is the namespace's number; this is the global one. */
	self_tgid = (__u32)(bpf_get_current_pid_tgid() >> 32);
	return 0;
}
