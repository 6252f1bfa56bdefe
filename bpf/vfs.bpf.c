/* vfs.bpf.c: file opens (open, openat, openat2, creat): each at its syscall's exit, with result and path. */
/* a path and a resolved path of up to PATH_MAX each (events.h; expanded where used) */
#define EV_SCRATCH_SIZE EV_VFS_MAX_SIZE
#include "common.bpf.h"
#include "path.bpf.h"

/*
 * Only the exits are traced: the arguments are still in the registers the
 * task saved on entering the syscall, so an enter program that stores them
 * for the exit would only add its own cost (~170 ns per open here). openat
 * and openat2 need the 2nd to 4th, which no architecture reuses for the
 * return value; open and creat the 1st too (see below).
 */
/*
 * The registers are a trusted BTF pointer: on x86 plain loads of the
 * syscall argument registers (di, si, dx, r10) instead of a helper call each.
 */
#if defined(__TARGET_ARCH_x86)
#define ARG1(r) ((r)->di)
#define ARG2(r) ((r)->si)
#define ARG3(r) ((r)->dx)
#define ARG4(r) ((r)->r10)
#else
#define ARG2(r) PT_REGS_PARM2_CORE_SYSCALL(r)
#define ARG3(r) PT_REGS_PARM3_CORE_SYSCALL(r)
#define ARG4(r) PT_REGS_PARM4_CORE_SYSCALL(r)
#endif

/* The scratch event with all but the arguments; NULL when the task is not traced. */
static __always_inline struct ev_vfs *vfs_start(struct task_struct *task, __u32 op, long ret, __u64 *fill)
{
	struct ev_vfs *e;

	if (ev_skip_task(task))
		return NULL;
	/* the fixed part and the path's NUL: the least a vfs record takes */
	e = ev_scratch_for(sizeof(*e) + 1, fill);
	if (!e)
		return NULL;
	ev_fill_hdr_task(&e->h, task, EV_VFS, 0);
	e->operation = op;
	e->fd = ret >= 0 ? (__s32)ret : -1;
	e->error_raw = ret < 0 ? (__s32)-ret : 0;
	e->resolve = 0;
	e->path_truncated = 0;
	e->resolved_truncated = 0;
	e->_pad[0] = e->_pad[1] = 0;
	return e;
}

/*
 * Adds the path and, with Vfs_Resolved_Path, the opened file's own path, and
 * sends the event. path is the caller's, read after the kernel's read: another
 * thread may have changed it since; resolved_path is walked from the file the
 * fd now holds, which also makes a path relative to a directory fd absolute.
 */
static __always_inline void vfs_send(struct task_struct *task, struct ev_vfs *e, const char *path, __u64 fill)
{
	__u32 size = sizeof(*e);

	/* At exit the kernel has faulted the path in, so this read succeeds. */
	ev_put_str(e, &size, &e->path, path, EV_PATH_MAX, true, &e->path_truncated);
	if (ev_set.vfs_resolved_path && e->fd >= 0)
		path_of_file(task, path_file_of_fd(task, (__u32)e->fd), e, &size, &e->resolved_path,
			     &e->resolved_truncated);
	else
		ev_put_str(e, &size, &e->resolved_path, NULL, EV_PATH_MAX, false, NULL);
	ev_output_at(e, size, fill);
}

/* openat(dfd, filename, flags, mode) */
SEC("tracepoint/syscalls/sys_exit_openat")
int vfs_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = ev_task();
	__u64 fill;
	struct ev_vfs *e = vfs_start(task, EV_VFS_OPENAT, ctx->ret, &fill);
	struct pt_regs *regs;

	if (!e)
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	e->flags = (__u32)ARG3(regs);
	e->mode = (__u32)ARG4(regs);
	vfs_send(task, e, (const char *)ARG2(regs), fill);
	return 0;
}

/*
 * openat2(dfd, filename, how, usize): flags, mode and resolve from struct
 * open_how, which the kernel has read (and so faulted in) unless usize was
 * too small for it, when it fails with EINVAL before: zeros then.
 */
SEC("tracepoint/syscalls/sys_exit_openat2")
int vfs_openat2_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = ev_task();
	__u64 fill;
	struct ev_vfs *e = vfs_start(task, EV_VFS_OPENAT2, ctx->ret, &fill);
	struct open_how how = {};
	struct pt_regs *regs;

	if (!e)
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (ARG4(regs) >= sizeof(how))
		bpf_probe_read_user(&how, sizeof(how), (const void *)ARG3(regs));
	e->flags = (__u32)how.flags;
	e->mode = (__u32)how.mode;
	e->resolve = how.resolve;
	vfs_send(task, e, (const char *)ARG2(regs), fill);
	return 0;
}

/*
 * open and creat take the path first. Only the older syscall ABIs have them
 * (arm64, riscv, loongarch do not), and x86's saved di still holds the 1st
 * argument at exit (the result is in ax); elsewhere these two are left out.
 */
#if defined(__TARGET_ARCH_x86)
/*
 * creat's flags as the kernel sets them: O_CREAT | O_WRONLY | O_TRUNC (x86's
 * values), without the O_LARGEFILE it adds on 64-bit, like open's flags,
 * which are the caller's.
 */
#define VFS_CREAT_FLAGS (0100 | 01 | 01000)

/* open(filename, flags, mode) */
SEC("tracepoint/syscalls/sys_exit_open")
int vfs_open_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = ev_task();
	__u64 fill;
	struct ev_vfs *e = vfs_start(task, EV_VFS_OPEN, ctx->ret, &fill);
	struct pt_regs *regs;

	if (!e)
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	e->flags = (__u32)ARG2(regs);
	e->mode = (__u32)ARG3(regs);
	vfs_send(task, e, (const char *)ARG1(regs), fill);
	return 0;
}

/* creat(pathname, mode) */
SEC("tracepoint/syscalls/sys_exit_creat")
int vfs_creat_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = ev_task();
	__u64 fill;
	struct ev_vfs *e = vfs_start(task, EV_VFS_CREAT, ctx->ret, &fill);
	struct pt_regs *regs;

	if (!e)
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	e->flags = VFS_CREAT_FLAGS;
	e->mode = (__u32)ARG2(regs);
	vfs_send(task, e, (const char *)ARG1(regs), fill);
	return 0;
}
#endif
