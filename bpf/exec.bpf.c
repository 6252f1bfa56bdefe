/* exec.bpf.c: execve / execveat, one event at entry (the caller's strings) and one at exit (the new image's). */
/* an event with its strings at their longest (events.h; expanded where used) */
#define EV_SCRATCH_SIZE EV_EXEC_MAX_SIZE
#include "common.bpf.h"

/* Arguments counted per exec; argc stops here and argv_last is the last one counted. */
#define EXEC_ARGS_MAX 1024
/* argv pointers read at once at entry (one read of up to 512 bytes, never across a page) */
#define EXEC_PTR_CHUNK 64
#define EXEC_PAGE 4096

/*
 * An exec in flight, from its entry to its end: where the caller's strings
 * were, and the entry event's header while that event is held back.
 *
 * The entry event is not built at entry but where the exec ends, from memory
 * that is present by then: the new image's copies at sched_process_exec, or
 * the old image, which the kernel has touched, at the exit of an exec that
 * failed. BPF cannot fault pages in, and right after fork a child has no
 * page-table entries for file-backed read-only memory such as .rodata, where
 * string literals live (execl("/bin/true", "/bin/true", "x", NULL), or libc's
 * "/bin/sh" in system() and popen()): a read at entry then fails, and the
 * fault costs more than the whole event (2.7 us of a 4.9 us entry on this
 * VM). The strings are then also the ones the kernel used, which another
 * thread can no longer rewrite; the record keeps the entry's header and time.
 *
 * Only this, and not the event, is kept: an event may be 28 KiB, and a map
 * update copies its whole value.
 */
struct exec_slot {
	struct ev_hdr h;   /* the entry's header */
	__u64 src[5];      /* user addresses at entry: filename, argv0, argv1, argv2, argv_last */
	__u32 argc;        /* as counted at entry; the entry event is unsent while the slot is in the map */
	__u32 _pad;
};

/* Where handle_enter builds a slot in the scratch event. */
#define EXEC_SLOT_AT ((EV_SCRATCH_SIZE - sizeof(struct exec_slot)) & ~7ul)
_Static_assert(sizeof(struct ev_exec) + EV_PATH_MAX + 4 * EV_ARG_MAX <= EXEC_SLOT_AT,
	       "an entry event sent at once reaches the slot");
_Static_assert(sizeof(struct ev_exec) + EXEC_PTR_CHUNK * 8 <= EXEC_SLOT_AT, "the pointers reach the slot");

/* The slot by thread id, until sched_process_exec (a success) or the syscall's exit (a failure). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct exec_slot);
} exec_inflight SEC(".maps");

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

/* The event's fixed part, for stage with no strings yet. */
static __always_inline void exec_start(struct ev_exec *e, __u32 stage, __s32 error_raw)
{
	e->stage = stage;
	e->error_raw = error_raw;
	e->path_truncated = 0;
	e->args_truncated = 0;
	e->_pad = 0;
}

/*
 * Counts argv (up to EXEC_ARGS_MAX) and finds argv0, argv1, argv2 and the
 * last: the pointers are read EXEC_PTR_CHUNK at a time into buf (never
 * across a page, where the array may end), not one read each. The count and
 * the pointers go to the slot, so the verifier checks the code after the
 * loop once, not once per possible count.
 */
static __always_inline void exec_count_args(struct exec_slot *s, const char *const *argv, __u64 *buf)
{
	__u64 at = (__u64)argv;

	s->argc = 0;
	s->src[1] = s->src[2] = s->src[3] = s->src[4] = 0;
	if (!argv)
		return;
	/* a chunk is cut only at a page's end: 1024 pointers need at most 16 chunks and 3 cuts */
	for (int c = 0; c < EXEC_ARGS_MAX / EXEC_PTR_CHUNK + 4; c++) {
		__u64 room = EXEC_PAGE - (at & (EXEC_PAGE - 1));
		__u32 n = room >= EXEC_PTR_CHUNK * 8 ? EXEC_PTR_CHUNK : room >= 8 ? room / 8 : 1;
		bool end = false;

		if (n > EXEC_PTR_CHUNK || n == 0)
			return;
		if (bpf_probe_read_user(buf, n * 8, (const void *)at))
			return;
		for (__u32 j = 0; j < EXEC_PTR_CHUNK; j++) {
			__u32 i = s->argc; /* read back: unknown to the verifier, so its states merge */
			__u64 p;

			if (j >= n)
				break;
			p = buf[j];
			if (!p || i >= EXEC_ARGS_MAX) {
				end = true;
				break;
			}
			/* constant offsets: an index the verifier would have to bound */
			if (i == 0)
				s->src[1] = p;
			else if (i == 1)
				s->src[2] = p;
			else if (i == 2)
				s->src[3] = p;
			s->src[4] = p;
			s->argc = i + 1;
		}
		if (end)
			return;
		at += n * 8;
	}
}

/* The strings from the caller's memory at the addresses the entry found, in ABI order. */
static __always_inline void exec_put_caller_strings(struct ev_exec *e, __u32 *size, const struct exec_slot *s)
{
	ev_put_str(e, size, &e->filename, (const void *)s->src[0], EV_PATH_MAX, true, &e->path_truncated);
	ev_put_str(e, size, &e->argv0, (const void *)s->src[1], EV_ARG_MAX, true, &e->args_truncated);
	ev_put_str(e, size, &e->argv1, (const void *)s->src[2], EV_ARG_MAX, true, &e->args_truncated);
	ev_put_str(e, size, &e->argv2, (const void *)s->src[3], EV_ARG_MAX, true, &e->args_truncated);
	ev_put_str(e, size, &e->argv_last, (const void *)s->src[4], EV_ARG_MAX, true, &e->args_truncated);
}

/*
 * The exec's start: the argument count, where its strings are, and the
 * entry's header, kept in a slot until the exec ends (see exec_slot).
 */
static __always_inline int handle_enter(const char *filename, const char *const *argv)
{
	struct task_struct *task = ev_task();
	__u32 tid = task->pid;
	__u32 size;
	struct exec_slot *s;
	struct ev_exec *e;

	if (ev_skip_task(task))
		return 0;
	e = ev_scratch();
	if (!e)
		return 0;
	/*
	 * The slot is built at the scratch's end, which the pointers read at
	 * its data's start never reach.
	 */
	s = (struct exec_slot *)((__u8 *)e + EXEC_SLOT_AT);
	exec_count_args(s, argv, (__u64 *)e->data);
	s->src[0] = (__u64)filename;
	/* last is kept only past 3 arguments: argv_last then shares argv0/1/2 */
	if (s->argc <= 3)
		s->src[4] = 0;
	ev_fill_hdr_task(&s->h, task, EV_EXEC, 0);
	s->_pad = 0;
	if (bpf_map_update_elem(&exec_inflight, &tid, s, BPF_ANY)) {
		/* Nowhere to hold it: send what can be read now rather than nothing. */
		e->h = s->h;
		e->argc = s->argc;
		exec_start(e, EV_EXEC_ENTER, 0);
		size = sizeof(struct ev_exec);
		exec_put_caller_strings(e, &size, s);
		exec_share_last(e);
		e->args.off = size;
		e->args.len = 0;
		ev_output(e, size);
	}
	return 0;
}

/* Sends the event built in e as the held-back entry, with the entry's header. */
static __always_inline void exec_send_entry(struct ev_exec *e, struct exec_slot *s, __u32 size)
{
	exec_share_last(e);
	e->h = s->h;
	e->h.size = size;
	e->stage = EV_EXEC_ENTER;
	e->error_raw = 0;
	ev_output(e, size);
}

/* Sends the event built in e as the exit, with a fresh header (time, event id, and after a success the new comm). */
static __always_inline void exec_send_exit(struct ev_exec *e, __u32 size, __s32 error_raw)
{
	exec_share_last(e);
	ev_fill_hdr_task(&e->h, ev_task(), EV_EXEC, size);
	e->stage = EV_EXEC_EXIT;
	e->error_raw = error_raw;
	ev_output(e, size);
}

/*
 * A failed exec: the old image is still there and the kernel has touched what
 * it read (the filename always; the arguments if it got to copying them), so
 * the strings are read again from the addresses given at entry.
 */
static __always_inline int handle_exit(long ret)
{
	struct task_struct *task = ev_task();
	__u32 tid = task->pid;
	__u32 size = sizeof(struct ev_exec);
	struct exec_slot *s = bpf_map_lookup_elem(&exec_inflight, &tid);
	struct ev_exec *e;

	if (!s)
		return 0;
	e = ev_scratch();
	if (!e)
		goto out;
	e->argc = s->argc;
	exec_start(e, EV_EXEC_EXIT, ret < 0 ? (__s32)-ret : 0);
	if (ret >= 0) {
		/*
		 * A success whose sched_process_exec was not seen (its program
		 * was attached after it ran): the caller's memory is gone, so
		 * no strings, and marked.
		 */
		e->path_truncated = e->args_truncated = 1;
		ev_put_str(e, &size, &e->filename, NULL, EV_PATH_MAX, true, NULL);
		ev_put_str(e, &size, &e->argv0, NULL, EV_ARG_MAX, true, NULL);
		ev_put_str(e, &size, &e->argv1, NULL, EV_ARG_MAX, true, NULL);
		ev_put_str(e, &size, &e->argv2, NULL, EV_ARG_MAX, true, NULL);
		ev_put_str(e, &size, &e->argv_last, NULL, EV_ARG_MAX, true, NULL);
	} else {
		exec_put_caller_strings(e, &size, s);
	}
	e->args.off = size;
	e->args.len = 0;
	exec_send_entry(e, s, size);
	exec_send_exit(e, size, ret < 0 ? (__s32)-ret : 0);
out:
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
 * The caller's argv[1] onwards as the kernel copied them, in one read of
 * the argument area from where the caller's argv[1] landed to its end, at
 * most exec_args_max bytes: each argument with its NUL, the last without
 * when cut (then marked).
 */
static __always_inline void exec_put_args(struct ev_exec *e, __u32 *cursor, __u64 from, __u64 end)
{
	__u32 at = *cursor, n;
	__u64 len;

	e->args.off = at;
	e->args.len = 0;
	if (!ev_set.exec_args_max || !from || end <= from)
		return;
	len = end - from;
	if (len > ev_set.exec_args_max) {
		len = ev_set.exec_args_max;
		e->args_truncated = 1;
	}
	n = len;
	/* changes nothing (exec_args_max <= EV_ARGS_AREA_MAX): shows the verifier the bound */
	if (n > EV_ARGS_AREA_MAX || at > EV_SCRATCH_SIZE - EV_ARGS_AREA_MAX) {
		e->args_truncated = 1;
		return;
	}
	if (bpf_probe_read_user((__u8 *)e + at, n, (const void *)from)) {
		e->args_truncated = 1;
		return;
	}
	e->args.len = n;
	*cursor = at + n;
}

/*
 * The exit event of a successful exec, all from the kernel's copies: the
 * user memory the entry read may have been rewritten by another thread
 * between that read and the kernel's own (the exec then ran other arguments
 * than the entry event shows). Without an interpreter, argc and the
 * arguments are exactly the new image's, as its /proc/PID/cmdline shows
 * them; with one, the entry's argc, argv1 onwards from their shifted places,
 * argv0 empty. im NULL: the new image could not be read; only the filename
 * then, and the arguments marked cut. args is left empty, with *args_from
 * where it starts (the caller's argv[1] in the new image; 0: no args).
 */
static __always_inline __u32 exec_from_new_image(struct ev_exec *e, const struct exec_image *im,
						 __u32 entry_argc, const char *filename, bool interp,
						 __u64 *args_from)
{
	__u32 size = sizeof(struct ev_exec);
	__u32 argc, k;

	*args_from = 0;
	if (!im) {
		e->argc = entry_argc;
		e->args_truncated = 1;
		ev_put_str(e, &size, &e->filename, filename, EV_PATH_MAX, false, &e->path_truncated);
		ev_put_str(e, &size, &e->argv0, NULL, EV_ARG_MAX, true, NULL);
		ev_put_str(e, &size, &e->argv1, NULL, EV_ARG_MAX, true, NULL);
		ev_put_str(e, &size, &e->argv2, NULL, EV_ARG_MAX, true, NULL);
		ev_put_str(e, &size, &e->argv_last, NULL, EV_ARG_MAX, true, NULL);
		e->args.off = size;
		e->args.len = 0;
		return size;
	}
	if (interp) {
		k = exec_shift(entry_argc, im->argc, interp);
		/* fewer than the entry saw: arguments were taken away since */
		e->argc = im->argc < entry_argc ? im->argc : entry_argc;
	} else {
		k = 0;
		e->argc = im->argc < EXEC_ARGS_MAX ? im->argc : EXEC_ARGS_MAX;
	}
	/* through the event, as at entry: one verifier pass for any count */
	argc = e->argc;
	ev_put_str(e, &size, &e->filename, filename, EV_PATH_MAX, false, &e->path_truncated);
	if (k == 0 && argc > 0)
		ev_put_str(e, &size, &e->argv0, (const void *)exec_new_arg(im, 0), EV_ARG_MAX, true,
			   &e->args_truncated);
	else
		ev_put_str(e, &size, &e->argv0, NULL, EV_ARG_MAX, true, NULL);
	ev_put_str(e, &size, &e->argv1, argc > 1 ? (const void *)exec_new_arg(im, 1 + k) : NULL, EV_ARG_MAX,
		   true, &e->args_truncated);
	ev_put_str(e, &size, &e->argv2, argc > 2 ? (const void *)exec_new_arg(im, 2 + k) : NULL, EV_ARG_MAX,
		   true, &e->args_truncated);
	ev_put_str(e, &size, &e->argv_last, argc > 3 ? (const void *)exec_new_arg(im, argc - 1 + k) : NULL,
		   EV_ARG_MAX, true, &e->args_truncated);
	*args_from = argc > 1 ? exec_new_arg(im, 1 + k) : 0;
	e->args.off = size;
	e->args.len = 0;
	return size;
}

/*
 * The new image is in place (the exec can no longer fail): the exit event
 * is built from it and sent now, after the held-back entry event (the same
 * strings, as the kernel copied them, without args, which is appended last
 * for the exit). Its time is this
 * moment's, just before the syscall returns. The slot is done with: the
 * syscall's exit finds none. A BTF tracepoint for the binprm: its filename
 * and interp.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_new_image, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 old_tid = old_pid;
	const char *filename = bprm->filename;
	bool interp = bprm->interp != filename;
	struct exec_image im;
	struct exec_slot *s;
	struct ev_exec *e;
	__u64 from;
	__u32 size;
	bool ok;

	s = bpf_map_lookup_elem(&exec_inflight, &old_tid);
	if (!s)
		return 0;
	e = ev_scratch();
	if (e) {
		exec_start(e, EV_EXEC_EXIT, 0);
		ok = exec_image_of(&im);
		size = exec_from_new_image(e, ok ? &im : NULL, s->argc, filename, interp, &from);
		exec_send_entry(e, s, size);
		if (ok)
			exec_put_args(e, &size, from, im.ae);
		exec_send_exit(e, size, 0);
	}
	bpf_map_delete_elem(&exec_inflight, &old_tid);
	return 0;
}
