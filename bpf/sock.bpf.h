/* sock.bpf.h: the socket behind a file descriptor of the current task, for the socket traces. */
#ifndef EBPF_FORWARD_SOCK_BPF_H
#define EBPF_FORWARD_SOCK_BPF_H

#include "common.bpf.h"

/* vmlinux.h carries types, not macros. */
#define AF_UNSPEC 0
#define AF_INET 2
#define AF_INET6 10
#define SOCKFS_MAGIC 0x534F434B

/*
 * The socket behind fd in the task's file table, or NULL when fd is out of
 * range, not open, or not a socket (a call on it fails with EBADF or ENOTSOCK).
 */
static __always_inline struct sock *sock_from_fd(struct task_struct *task, __u32 fd)
{
	struct fdtable *fdt = task->files->fdt;
	struct file **fds, *file = NULL;
	struct socket *sock;

	/* Direct loads where the offset is constant (see ev_task); fds[fd] is not. */
	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	fds = fdt->fd;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	/* private_data is a struct socket only for sockfs files. */
	if (BPF_CORE_READ(file, f_inode, i_sb, s_magic) != SOCKFS_MAGIC)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

#endif
