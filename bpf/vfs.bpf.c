/* vfs.bpf.c: file opens (openat), path read at syscall exit with the result. */
#include "common.bpf.h"

struct open_args {
	const char *path;
	__u32 flags;
	__u32 mode;
};

/* openat in flight, by thread id, from enter to exit. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct open_args);
} inflight SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_openat")
int vfs_openat_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct open_args a;

	if (ev_skip())
		return 0;
	a.path = (const char *)ctx->args[1];
	a.flags = (__u32)ctx->args[2];
	a.mode = (__u32)ctx->args[3];
	bpf_map_update_elem(&inflight, &tid, &a, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int vfs_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct open_args *a = bpf_map_lookup_elem(&inflight, &tid);
	struct ev_vfs *e;
	__u32 size = sizeof(*e);
	long ret = ctx->ret;

	if (!a)
		return 0;
	e = ev_scratch();
	if (!e)
		goto out;
	ev_fill_hdr(&e->h, EV_VFS, 0);
	e->operation = EV_VFS_OPENAT;
	e->flags = a->flags;
	e->mode = a->mode;
	e->fd = ret >= 0 ? (__s32)ret : -1;
	e->error_raw = ret < 0 ? (__s32)-ret : 0;
	/* At exit the kernel has faulted the path in, so this read succeeds. */
	ev_put_str(e, &size, &e->path, a->path, true);
	ev_output(e, size);
out:
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}
