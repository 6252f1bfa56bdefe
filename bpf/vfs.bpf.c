/* vfs.bpf.c: file opens (openat): one program at syscall exit, with the result and the path. */
#include "common.bpf.h"

/*
 * Only the exit is traced: the arguments are still in the registers the
 * task saved on entering the syscall (openat's are the 2nd to 4th, which no
 * architecture reuses for the return value), so an enter program that stores
 * them for the exit would only add its own cost (~170 ns per open here).
 */
/*
 * The registers are a trusted BTF pointer: on x86 plain loads of the
 * syscall argument registers (di, si, dx, r10) instead of a helper call each.
 */
#if defined(__TARGET_ARCH_x86)
#define ARG2(r) ((r)->si)
#define ARG3(r) ((r)->dx)
#define ARG4(r) ((r)->r10)
#else
#define ARG2(r) PT_REGS_PARM2_CORE_SYSCALL(r)
#define ARG3(r) PT_REGS_PARM3_CORE_SYSCALL(r)
#define ARG4(r) PT_REGS_PARM4_CORE_SYSCALL(r)
#endif

SEC("tracepoint/syscalls/sys_exit_openat")
int vfs_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = ev_task();
	struct pt_regs *regs;
	struct ev_vfs *e;
	__u32 size = sizeof(*e);
	long ret = ctx->ret;
	const char *path;

	if (ev_skip_task(task))
		return 0;
	e = ev_scratch();
	if (!e)
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	path = (const char *)ARG2(regs);
	ev_fill_hdr_task(&e->h, task, EV_VFS, 0);
	e->operation = EV_VFS_OPENAT;
	e->flags = (__u32)ARG3(regs);
	e->mode = (__u32)ARG4(regs);
	e->fd = ret >= 0 ? (__s32)ret : -1;
	e->error_raw = ret < 0 ? (__s32)-ret : 0;
	/* At exit the kernel has faulted the path in, so this read succeeds. */
	ev_put_str(e, &size, &e->path, path, true);
	ev_output(e, size);
	return 0;
}
