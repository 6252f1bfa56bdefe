/* path.bpf.h: the absolute path of an open file, walked up its dentries and mounts (bpf_d_path is not for tracepoints). */
#ifndef EBPF_FORWARD_PATH_BPF_H
#define EBPF_FORWARD_PATH_BPF_H

#include "common.bpf.h"

/* Steps of the walk: names and mount crossings; a deeper path is cut (its last ones kept). */
#define PATH_DEPTH_MAX 32
/* A name's longest (NAME_MAX), and a mask of that many bits. */
#define PATH_NAME_MASK 255
/*
 * The path is built right to left in the first EV_PATH_MAX bytes; the room
 * after them lets the verifier see that a name of up to PATH_NAME_MASK bytes
 * written at any offset there stays inside.
 */
#define PATH_BUF (EV_PATH_MAX + PATH_NAME_MASK + 1)

struct path_buf {
	char b[PATH_BUF];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct path_buf);
} path_scratch SEC(".maps");

/* The file behind fd in the task's table, or NULL. */
static __always_inline struct file *path_file_of_fd(struct task_struct *task, __u32 fd)
{
	struct fdtable *fdt = task->files->fdt;
	struct file **fds, *file = NULL;

	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	fds = fdt->fd;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return NULL;
	return file;
}

/* struct mount around its struct vfsmount (the kernel's real_mount). */
static __always_inline struct mount *path_real_mount(struct vfsmount *vm)
{
	return (struct mount *)((char *)vm - bpf_core_field_offset(struct mount, mnt));
}

/*
 * Appends the path of file as the task sees it (up to its root, as d_path
 * would: a chrooted or containerised task's own root is "/") at *cursor and
 * points f at it. Each step is either a name, from the dentry to its
 * parent, or a mount crossing, from a mount's root to where it is mounted.
 * The names are read unlocked: a rename racing the walk can give a path
 * that never existed, as with any reader of dentries outside the kernel's
 * seqlock. *cut is set when the path is longer than EV_PATH_MAX - 1 bytes or
 * PATH_DEPTH_MAX steps: the last names that fit are kept then.
 */
static __always_inline void path_of_file(struct task_struct *task, struct file *file, void *base,
					 __u32 *cursor, struct ev_str *f, __u8 *cut)
{
	struct dentry *root_d = task->fs->root.dentry, *d, *parent, *mnt_root;
	struct vfsmount *root_m = task->fs->root.mnt, *vm;
	struct mount *m, *up;
	const unsigned char *name;
	__u32 at = *cursor, pos = EV_PATH_MAX - 1, len, n, zero = 0;
	struct path_buf *pb = bpf_map_lookup_elem(&path_scratch, &zero);
	bool done = false;

	f->off = at;
	f->len = 0;
	if (!pb || !file || at > EV_SCRATCH_SIZE - EV_PATH_MAX)
		return;
	d = BPF_CORE_READ(file, f_path.dentry);
	vm = BPF_CORE_READ(file, f_path.mnt);
	m = path_real_mount(vm);
	mnt_root = BPF_CORE_READ(vm, mnt_root);
	pb->b[pos] = 0;
	for (int i = 0; i < PATH_DEPTH_MAX; i++) {
		if (d == root_d && vm == root_m) {
			done = true;
			break;
		}
		if (d == mnt_root) {
			up = BPF_CORE_READ(m, mnt_parent);
			/* the root of the namespace's mount tree, when the task's root is not above it */
			if (up == m) {
				done = true;
				break;
			}
			d = BPF_CORE_READ(m, mnt_mountpoint);
			m = up;
			vm = &up->mnt;
			mnt_root = BPF_CORE_READ(vm, mnt_root);
			continue;
		}
		parent = BPF_CORE_READ(d, d_parent);
		/* a root that is not a mount's (an internal file system's) */
		if (parent == d) {
			done = true;
			break;
		}
		len = BPF_CORE_READ(d, d_name.len);
		name = BPF_CORE_READ(d, d_name.name);
		if (len + 1 > pos)
			break;
		/* the masks change nothing (len <= NAME_MAX, len < pos < EV_PATH_MAX); they show the verifier the bounds */
		len &= PATH_NAME_MASK;
		pos = (pos - len) & (EV_PATH_MAX - 1);
		if (bpf_probe_read_kernel(pb->b + pos, len, name))
			break;
		pos = (pos - 1) & (EV_PATH_MAX - 1);
		pb->b[pos] = '/';
		d = parent;
	}
	if (!done)
		*cut = 1;
	/* the root itself */
	if (pos == EV_PATH_MAX - 1 && done) {
		pos--;
		pb->b[pos] = '/';
	}
	n = EV_PATH_MAX - pos;
	if (n > EV_PATH_MAX)
		return;
	if (bpf_probe_read_kernel((char *)base + at, n, pb->b + pos))
		return;
	f->len = n - 1;
	*cursor = at + n;
}

#endif
