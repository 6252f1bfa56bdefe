/* exec.bpf.c: execve / execveat, one event at entry (the caller's strings) and one at exit (the new image's). */
#include "common.bpf.h"

/* Arguments counted per exec; argc stops here and argv_last is the last one counted. */
#define EXEC_ARGS_MAX 1024

/* The strings of an exec event, as bits of exec_slot.missing. */
#define EXEC_MISS_FILENAME (1u << 0)
#define EXEC_MISS_ARGV0 (1u << 1)
#define EXEC_MISS_ARGV1 (1u << 2)
#define EXEC_MISS_ARGV2 (1u << 3)
#define EXEC_MISS_LAST (1u << 4)
#define EXEC_MISS_ARGS (EXEC_MISS_ARGV0 | EXEC_MISS_ARGV1 | EXEC_MISS_ARGV2 | EXEC_MISS_LAST)

/*
 * An exec in flight: its entry event and what the exit or the new image may
 * still have to add to it.
 *
 * BPF cannot fault pages in, and right after fork a child has no page-table
 * entries for file-backed read-only memory such as .rodata, where string
 * literals live (execl("/bin/true", "/bin/true", "x", NULL), or libc's
 * "/bin/sh" in system() and popen()). Strings whose read failed at entry are
 * marked missing, and the entry event is held back until they can be read from
 * memory that is present by then: the new image's copies at
 * sched_process_exec, or the old image, which the kernel has touched, at the
 * exit of an exec that failed.
 */
struct exec_slot {
	__u8 ev[EV_MAX_SIZE];  /* struct ev_exec and its strings; h.size is the used part */
	__u64 src[5];          /* user addresses at entry: filename, argv0, argv1, argv2, argv_last */
	__u32 missing;         /* EXEC_MISS_* of failed reads; the entry event is unsent while nonzero */
	__u32 _pad;
};

/*
 * The entry event by thread id, until the exit. The exit event is the saved
 * event with its stage, result and header brought up to date: after a
 * success its strings are the new image's (exec_take_new_image), after a
 * failure the entry's.
 *
 * A hash, not task storage like the other traces' in-flight maps: the slot is
 * 2 KiB and an exec is mostly a fresh child's first, so task storage would
 * allocate and zero a new slot per exec, which measured slower than the
 * preallocated hash (about +2.5 us per exec, +5 us at 4 KiB).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct exec_slot);
} exec_inflight SEC(".maps");

/* Room to build a slot before it goes into exec_inflight. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_slot);
} exec_scratch SEC(".maps");

/* An argv_last that is argv0/1/2 shares that string instead of carrying a second copy. */
static __always_inline void exec_share_last(struct ev_exec *e)
{
	if (e->argc == 1)
		e->argv_last = e->argv0;
	else if (e->argc == 2)
		e->argv_last = e->argv1;
	else if (e->argc == 3)
		e->argv_last = e->argv2;
}

/*
 * Builds the entry event, sends it, and keeps it for the exit. Strings are
 * read in ABI order; one that cannot be read holds the event back (see
 * exec_slot) and is appended later, after the others: strings stay packed.
 */
static __always_inline int handle_enter(const char *filename, const char *const *argv)
{
	struct task_struct *task = ev_task();
	__u32 tid = task->pid;
	__u32 size = sizeof(struct ev_exec);
	const char *a0 = NULL, *a1 = NULL, *a2 = NULL, *last = NULL;
	const char *p;
	struct exec_slot *s;
	struct ev_exec *e;
	__u32 argc, zero = 0;
	int i;

	if (ev_skip_task(task))
		return 0;
	s = bpf_map_lookup_elem(&exec_scratch, &zero);
	if (!s)
		return 0;
	e = (struct ev_exec *)s->ev;
	/*
	 * missing is kept in the slot rather than a register, like argc below:
	 * the verifier then does not tell apart each combination of failures.
	 */
	s->missing = 0;
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
	if (argc > 0 && bpf_probe_read_user(&a0, sizeof(a0), &argv[0])) {
		a0 = NULL;
		s->missing |= EXEC_MISS_ARGV0;
	}
	if (argc > 1 && bpf_probe_read_user(&a1, sizeof(a1), &argv[1])) {
		a1 = NULL;
		s->missing |= EXEC_MISS_ARGV1;
	}
	if (argc > 2 && bpf_probe_read_user(&a2, sizeof(a2), &argv[2])) {
		a2 = NULL;
		s->missing |= EXEC_MISS_ARGV2;
	}
	if (argc > 3 && bpf_probe_read_user(&last, sizeof(last), &argv[argc - 1])) {
		last = NULL;
		s->missing |= EXEC_MISS_LAST;
	}
	ev_fill_hdr_task(&e->h, task, EV_EXEC, 0);
	e->stage = EV_EXEC_ENTER;
	e->error_raw = 0;
	e->path_truncated = 0;
	e->args_truncated = 0;
	e->_pad = 0;
	if (ev_put_str(e, &size, &e->filename, filename, true, &e->path_truncated) < 0)
		s->missing |= EXEC_MISS_FILENAME;
	/*
	 * execl(path, path, ...) passes one literal twice: when the filename's
	 * page was not there, argv0's is not either, and a failed read costs a
	 * fault (about 1 us). Left empty and missing, as the read would leave it.
	 */
	if ((s->missing & EXEC_MISS_FILENAME) && a0 == filename) {
		e->argv0.off = size;
		e->argv0.len = 0;
		s->missing |= EXEC_MISS_ARGV0;
	} else if (ev_put_str(e, &size, &e->argv0, a0, true, &e->args_truncated) < 0) {
		s->missing |= EXEC_MISS_ARGV0;
	}
	if (ev_put_str(e, &size, &e->argv1, a1, true, &e->args_truncated) < 0)
		s->missing |= EXEC_MISS_ARGV1;
	if (ev_put_str(e, &size, &e->argv2, a2, true, &e->args_truncated) < 0)
		s->missing |= EXEC_MISS_ARGV2;
	/* last is NULL up to 3 arguments: argv_last then shares argv0/1/2 below. */
	if (ev_put_str(e, &size, &e->argv_last, last, true, &e->args_truncated) < 0)
		s->missing |= EXEC_MISS_LAST;
	exec_share_last(e);
	/* The header's size is where the exit (and any later string) reads it back. */
	e->h.size = size;
	s->src[0] = (__u64)filename;
	s->src[1] = (__u64)a0;
	s->src[2] = (__u64)a1;
	s->src[3] = (__u64)a2;
	s->src[4] = (__u64)last;
	if (!s->missing) {
		ev_output(e, size);
		bpf_map_update_elem(&exec_inflight, &tid, s, BPF_ANY);
	} else if (bpf_map_update_elem(&exec_inflight, &tid, s, BPF_ANY)) {
		/* Nowhere to hold it: send what was read rather than nothing. */
		ev_output(e, size);
	}
	return 0;
}

/* Sends the held-back entry event, with its entry header, once its strings are filled. */
static __always_inline void exec_send_enter(struct exec_slot *s, __u32 size)
{
	struct ev_exec *e = (struct ev_exec *)s->ev;

	exec_share_last(e);
	e->h.size = size;
	ev_output(e, size);
	s->missing = 0;
}

/*
 * A failed exec: the old image is still there and the kernel has touched what
 * it read (the filename always; the arguments if it got to copying them), so
 * the missing strings are read again from the addresses given at entry.
 */
static __always_inline void exec_fill_from_old_image(struct exec_slot *s)
{
	struct ev_exec *e = (struct ev_exec *)s->ev;
	__u32 missing = s->missing;
	__u32 size = e->h.size;

	if (missing & EXEC_MISS_FILENAME)
		ev_put_str(e, &size, &e->filename, (const void *)s->src[0], true, &e->path_truncated);
	if (missing & EXEC_MISS_ARGV0)
		ev_put_str(e, &size, &e->argv0, (const void *)s->src[1], true, &e->args_truncated);
	if (missing & EXEC_MISS_ARGV1)
		ev_put_str(e, &size, &e->argv1, (const void *)s->src[2], true, &e->args_truncated);
	if (missing & EXEC_MISS_ARGV2)
		ev_put_str(e, &size, &e->argv2, (const void *)s->src[3], true, &e->args_truncated);
	if (missing & EXEC_MISS_LAST)
		ev_put_str(e, &size, &e->argv_last, (const void *)s->src[4], true, &e->args_truncated);
	exec_send_enter(s, size);
}

static __always_inline int handle_exit(long ret)
{
	struct task_struct *task = ev_task();
	__u32 tid = task->pid;
	struct exec_slot *s = bpf_map_lookup_elem(&exec_inflight, &tid);
	struct ev_exec *e;
	__u16 size;

	if (!s)
		return 0;
	e = (struct ev_exec *)s->ev;
	if (s->missing) {
		/*
		 * A success has sent the entry at sched_process_exec; one still
		 * held here (sched_process_exec came before its program was
		 * attached) must not read the old addresses in the new image.
		 */
		if (ret < 0)
			exec_fill_from_old_image(s);
		else
			exec_send_enter(s, e->h.size);
	}
	size = e->h.size;
	/* Fresh header: time, event id, and after a success the new comm. */
	ev_fill_hdr_task(&e->h, task, EV_EXEC, size);
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

/* Where the new image's arguments are: its stack's argv array and the area the kernel copied the strings to. */
struct exec_image {
	__u64 sp;     /* start_stack: argc, then argv[0], ... */
	__u64 as;     /* [arg_start, arg_end): the strings */
	__u64 ae;
	__u32 width;  /* of a pointer: 8, or 4 in a compat process */
	__u32 argc;
};

/*
 * Reads where the new image's arguments are. The new process has not run
 * yet and its mm is its own (other threads are gone), so what is there is
 * what the kernel wrote. False when it cannot be read.
 */
static __always_inline bool exec_image_of(struct exec_image *im)
{
	struct task_struct *task = ev_task();
	__u64 v = 0;

	im->sp = task->mm->start_stack;
	im->as = task->mm->arg_start;
	im->ae = task->mm->arg_end;
	im->argc = 0;
	/* argc is a long (8 bytes, or 4 in a compat process); its low half on little-endian. */
	if (bpf_probe_read_user(&im->argc, sizeof(im->argc), (const void *)im->sp))
		return false;
	/* argv[0] is arg_start: that tells the pointer width. */
	if (bpf_probe_read_user(&v, sizeof(v), (const void *)(im->sp + 8)))
		return false;
	if (v == im->as) {
		im->width = 8;
		return true;
	}
	if (bpf_probe_read_user(&v, sizeof(v), (const void *)(im->sp + 4)) || (__u32)v != (__u32)im->as)
		return false;
	im->width = 4;
	return true;
}

/*
 * Address of argument idx of the new image, from the argv array the ELF loader
 * wrote on its stack; 0 unless it points into the argument area where the
 * kernel copied the strings.
 */
static __always_inline __u64 exec_new_arg(const struct exec_image *im, __u32 idx)
{
	__u64 v = 0;

	if (bpf_probe_read_user(&v, sizeof(v), (const void *)(im->sp + (__u64)(idx + 1) * im->width)))
		return 0;
	if (im->width == 4)
		v &= 0xffffffffULL;
	return v >= im->as && v < im->ae ? v : 0;
}

/*
 * How far argv1 onwards moved in the new image. When the file was a script
 * (or a binfmt_misc format), the kernel replaced argv0 by the interpreter, its
 * argument and the script's path, which bprm->interp no longer being
 * bprm->filename tells: argv1 onwards keep their order at the end, shifted by
 * the difference of the counts, and the original argv0 is gone. An entry argc
 * cut at EXEC_ARGS_MAX tells nothing of a shift: 0 then.
 */
static __always_inline __u32 exec_shift(__u32 argc, __u32 nargc, bool interp)
{
	if (!interp || nargc < argc || argc >= EXEC_ARGS_MAX)
		return 0;
	return nargc - argc;
}

/*
 * The exec succeeded: fills the missing strings of the held-back entry event
 * from the new image, and sends it. The filename is bprm->filename, the
 * kernel's copy (for execveat with a directory fd, its "/dev/fd/N/..." form).
 */
static __always_inline void exec_fill_from_new_image(struct exec_slot *s, const struct exec_image *im,
						     const char *filename, bool interp)
{
	struct ev_exec *e = (struct ev_exec *)s->ev;
	__u32 missing = s->missing;
	__u32 size = e->h.size;
	__u32 argc = e->argc, k;

	if (missing & EXEC_MISS_FILENAME)
		ev_put_str(e, &size, &e->filename, filename, false, &e->path_truncated);
	if (!(missing & EXEC_MISS_ARGS) || !argc || !im)
		goto send;
	k = exec_shift(argc, im->argc, interp);
	if (im->argc < argc)
		goto send;
	if ((missing & EXEC_MISS_ARGV0) && k == 0)
		ev_put_str(e, &size, &e->argv0, (const void *)exec_new_arg(im, 0), true, &e->args_truncated);
	if (missing & EXEC_MISS_ARGV1)
		ev_put_str(e, &size, &e->argv1, (const void *)exec_new_arg(im, 1 + k), true, &e->args_truncated);
	if (missing & EXEC_MISS_ARGV2)
		ev_put_str(e, &size, &e->argv2, (const void *)exec_new_arg(im, 2 + k), true, &e->args_truncated);
	if (missing & EXEC_MISS_LAST)
		ev_put_str(e, &size, &e->argv_last, (const void *)exec_new_arg(im, argc - 1 + k), true,
			   &e->args_truncated);
send:
	exec_send_enter(s, size);
}

/*
 * The exit event's strings, all from the kernel's copies: the user memory
 * they were read from at entry may have been rewritten by another thread
 * between that read and the kernel's own (the exec then ran other arguments
 * than the entry event shows). Without an interpreter, argc and the
 * arguments are exactly the new image's, as its /proc/PID/cmdline shows
 * them; with one, the entry's argc, argv1 onwards from their shifted places,
 * argv0 empty.
 */
static __always_inline void exec_take_new_image(struct exec_slot *s, const struct exec_image *im,
						const char *filename, bool interp)
{
	struct ev_exec *e = (struct ev_exec *)s->ev;
	__u32 size = sizeof(struct ev_exec);
	__u32 argc, k;

	if (interp) {
		k = exec_shift(e->argc, im->argc, interp);
		/* fewer than the entry saw: arguments were taken away since */
		if (im->argc < e->argc)
			e->argc = im->argc;
	} else {
		k = 0;
		e->argc = im->argc < EXEC_ARGS_MAX ? im->argc : EXEC_ARGS_MAX;
	}
	/* through the event, as at entry: one verifier pass for any count */
	argc = e->argc;
	e->path_truncated = 0;
	e->args_truncated = 0;
	ev_put_str(e, &size, &e->filename, filename, false, &e->path_truncated);
	if (k == 0 && argc > 0)
		ev_put_str(e, &size, &e->argv0, (const void *)exec_new_arg(im, 0), true, &e->args_truncated);
	else
		ev_put_str(e, &size, &e->argv0, NULL, true, NULL);
	ev_put_str(e, &size, &e->argv1, argc > 1 ? (const void *)exec_new_arg(im, 1 + k) : NULL, true,
		   &e->args_truncated);
	ev_put_str(e, &size, &e->argv2, argc > 2 ? (const void *)exec_new_arg(im, 2 + k) : NULL, true,
		   &e->args_truncated);
	ev_put_str(e, &size, &e->argv_last, argc > 3 ? (const void *)exec_new_arg(im, argc - 1 + k) : NULL,
		   true, &e->args_truncated);
	exec_share_last(e);
	e->h.size = size;
}

/*
 * The new image is in place (the exec can no longer fail). Sends a held-back
 * entry event with the strings filled in, and gives the saved event the new
 * image's strings for the exit. And when a thread other than the leader execs,
 * it takes over the leader's pid before the syscall returns, so its exit
 * would look for the wrong key: move the saved event to the new thread id.
 * A BTF tracepoint for the binprm: its filename and interp.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_new_image, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 old_tid = old_pid, tid = p->pid;
	const char *filename = bprm->filename;
	bool interp = bprm->interp != filename;
	struct exec_image im;
	struct exec_slot *s;
	bool ok;

	s = bpf_map_lookup_elem(&exec_inflight, &old_tid);
	if (!s)
		return 0;
	ok = exec_image_of(&im);
	if (s->missing)
		exec_fill_from_new_image(s, ok ? &im : NULL, filename, interp);
	if (ok)
		exec_take_new_image(s, &im, filename, interp);
	if (old_tid == tid)
		return 0;
	bpf_map_update_elem(&exec_inflight, &tid, s, BPF_ANY);
	bpf_map_delete_elem(&exec_inflight, &old_tid);
	return 0;
}
