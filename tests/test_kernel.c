/* test_kernel.c: each trace loaded for real; a child process acts and the test asserts its record. */
#include <arpa/inet.h>
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "rig.h"
#include "config.h"
#include "events.h"
#include "heap.h"
#include "pipeline.h"
#include "privs.h"
#include "tracefs.h"
#include "registry.h"
#include "resident.h"
#include "traces.h"
#include "suite_run.h"

/* ---- exec ---- */

static void child_exec(const void *arg)
{
	char *const argv[] = {"/bin/true", "arg-one", "arg-two", (char *)arg, NULL};

	execv("/bin/true", argv);
	_exit(127);
}

static void child_exec_missing(const void *arg)
{
	char *const argv[] = {(char *)arg, NULL};

	execv(arg, argv);
	_exit(0);
}

struct exec_want {
	pid_t pid;
	const char *stage;
};

static bool match_exec(const msgpack_object *rec, const void *arg)
{
	const struct exec_want *w = arg;

	return rec_str_is(rec, "event_type", "execve") && rec_uint(rec, "pid") == (uint64_t)w->pid &&
	       rec_str_is(rec, "stage", w->stage);
}

START_TEST(exec_records_args)
{
	struct rig r;
	const msgpack_object *rec;
	struct exec_want w = {0, "enter"};

	rig_start(&r, "trace_exec");
	rig_make_unique("exec");
	w.pid = rig_child(child_exec, rig_unique);
	rec = rig_wait(&r, match_exec, &w);
	ck_assert_msg(rec, "no execve enter record for pid %d", w.pid);
	ck_assert_str_eq(rec_str(rec, "filename"), "/bin/true");
	ck_assert_str_eq(rec_str(rec, "argv"), "/bin/true");
	ck_assert_str_eq(rec_str(rec, "argv1"), "arg-one");
	ck_assert_str_eq(rec_str(rec, "argv2"), "arg-two");
	ck_assert_str_eq(rec_str(rec, "argv_last"), rig_unique);
	ck_assert_uint_eq(rec_uint(rec, "argc"), 4);
	ck_assert_uint_eq(rec_uint(rec, "ppid"), (uint64_t)getpid());
	ck_assert_uint_eq(rec_uint(rec, "tid"), (uint64_t)w.pid);
	ck_assert_int_eq(rec_int(rec, "error_raw"), 0);
	/* the comm is the forked test's, before the exec */
	ck_assert_str_eq(rec_str(rec, "comm"), "test_kernel");

	w.stage = "exit";
	rec = rig_wait(&r, match_exec, &w);
	ck_assert_msg(rec, "no execve exit record for pid %d", w.pid);
	ck_assert_int_eq(rec_int(rec, "error_raw"), 0);
	ck_assert_str_eq(rec_str(rec, "filename"), "/bin/true");
	ck_assert_str_eq(rec_str(rec, "argv_last"), rig_unique);
	/* after a successful exec the comm is the new program's */
	ck_assert_str_eq(rec_str(rec, "comm"), "true");
	rig_stop(&r);
}
END_TEST

START_TEST(exec_failure_has_errno)
{
	struct rig r;
	const msgpack_object *rec;
	struct exec_want w = {0, "exit"};

	rig_start(&r, "exec");
	rig_make_unique("missing");
	w.pid = rig_child(child_exec_missing, rig_unique);
	rec = rig_wait(&r, match_exec, &w);
	ck_assert_msg(rec, "no execve exit record for pid %d", w.pid);
	ck_assert_int_eq(rec_int(rec, "error_raw"), ENOENT);
	ck_assert_str_eq(rec_str(rec, "filename"), rig_unique);
	rig_stop(&r);
}
END_TEST

/*
 * Right after fork a child may have no page-table entries for file-backed,
 * read-only memory such as .rodata, where string literals live (fork copies
 * them only for mappings with anonymous pages), so at sys_enter_execve the
 * trace cannot read them: BPF does not fault pages in. Whether the test's own
 * .rodata was mapped in the parent (and copied) depends on the layout, so the
 * children drop the literals' page-table entries first (MADV_DONTNEED: no
 * access, the page stays in the page cache) and then pass them to execl. Only
 * the rig_unique argument is on the stack, which fork did copy.
 */
static void unmap_ptes(const void *p)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

	madvise((void *)((uintptr_t)p & ~(page - 1)), page, MADV_DONTNEED);
}

static void child_exec_literals(const void *arg)
{
	char last[sizeof(rig_unique)];

	memcpy(last, arg, sizeof(last));
	unmap_ptes("/bin/true");
	unmap_ptes("lit-arg");
	execl("/bin/true", "/bin/true", "lit-arg", last, NULL);
	_exit(127);
}

/* Five arguments: argv_last is a literal of its own, not shared with argv2. */
static void child_exec_literal_last(const void *arg)
{
	char mid[sizeof(rig_unique)];

	memcpy(mid, arg, sizeof(mid));
	unmap_ptes("/bin/true");
	unmap_ptes("lit-one");
	unmap_ptes("lit-four");
	unmap_ptes("lit-last-arg");
	execl("/bin/true", "/bin/true", "lit-one", mid, "lit-four", "lit-last-arg", NULL);
	_exit(127);
}

/* The path is a literal too: getname() faults its page in, the exec fails. */
static void child_exec_missing_literal(const void *arg)
{
	char last[sizeof(rig_unique)];

	memcpy(last, arg, sizeof(last));
	unmap_ptes("/nonexistent/ebpf-forward-test");
	execl("/nonexistent/ebpf-forward-test", "/nonexistent/ebpf-forward-test", last, NULL);
	_exit(0);
}

/* arg is a script's path: the kernel runs its interpreter with the path as an argument. */
static void child_exec_script_literals(const void *arg)
{
	char path[sizeof(rig_unique)];

	memcpy(path, arg, sizeof(path));
	unmap_ptes("lit-script-zero");
	unmap_ptes("lit-script-one");
	execl(path, "lit-script-zero", "lit-script-one", NULL);
	_exit(127);
}

static void assert_literal_exec(const msgpack_object *rec, const char *last)
{
	ck_assert_str_eq(rec_str(rec, "filename"), "/bin/true");
	ck_assert_str_eq(rec_str(rec, "argv"), "/bin/true");
	ck_assert_str_eq(rec_str(rec, "argv1"), "lit-arg");
	ck_assert_str_eq(rec_str(rec, "argv2"), last);
	ck_assert_str_eq(rec_str(rec, "argv_last"), last);
	ck_assert_uint_eq(rec_uint(rec, "argc"), 3);
	ck_assert_int_eq(rec_int(rec, "error_raw"), 0);
}

START_TEST(exec_unfaulted_literals)
{
	struct rig r;
	const msgpack_object *rec;
	struct exec_want w = {0, "enter"};

	rig_start(&r, "exec");
	rig_make_unique("literals");
	w.pid = rig_child(child_exec_literals, rig_unique);
	rec = rig_wait(&r, match_exec, &w);
	ck_assert_msg(rec, "no execve enter record for pid %d", w.pid);
	assert_literal_exec(rec, rig_unique);
	/* the enter record keeps the header from before the exec */
	ck_assert_str_eq(rec_str(rec, "comm"), "test_kernel");
	ck_assert_uint_eq(rec_uint(rec, "tid"), (uint64_t)w.pid);

	w.stage = "exit";
	rec = rig_wait(&r, match_exec, &w);
	ck_assert_msg(rec, "no execve exit record for pid %d", w.pid);
	assert_literal_exec(rec, rig_unique);
	ck_assert_str_eq(rec_str(rec, "comm"), "true");
	rig_stop(&r);
}
END_TEST

START_TEST(exec_unfaulted_last_literal)
{
	struct rig r;
	const msgpack_object *rec;
	struct exec_want w = {0, "enter"};

	rig_start(&r, "exec");
	rig_make_unique("lastlit");
	w.pid = rig_child(child_exec_literal_last, rig_unique);
	for (int i = 0; i < 2; i++, w.stage = "exit") {
		rec = rig_wait(&r, match_exec, &w);
		ck_assert_msg(rec, "no execve %s record for pid %d", w.stage, w.pid);
		ck_assert_str_eq(rec_str(rec, "filename"), "/bin/true");
		ck_assert_str_eq(rec_str(rec, "argv"), "/bin/true");
		ck_assert_str_eq(rec_str(rec, "argv1"), "lit-one");
		ck_assert_str_eq(rec_str(rec, "argv2"), rig_unique);
		ck_assert_str_eq(rec_str(rec, "argv_last"), "lit-last-arg");
		ck_assert_uint_eq(rec_uint(rec, "argc"), 5);
		ck_assert_int_eq(rec_int(rec, "error_raw"), 0);
	}
	rig_stop(&r);
}
END_TEST

START_TEST(exec_unfaulted_script)
{
	struct rig r;
	const msgpack_object *rec;
	struct exec_want w = {0, "enter"};
	FILE *f;

	rig_start(&r, "exec");
	rig_make_unique("script");
	f = fopen(rig_unique, "w");
	ck_assert_ptr_nonnull(f);
	fputs("#!/bin/sh\nexit 0\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(rig_unique, 0755), 0);
	w.pid = rig_child(child_exec_script_literals, rig_unique);
	for (int i = 0; i < 2; i++, w.stage = "exit") {
		rec = rig_wait(&r, match_exec, &w);
		ck_assert_msg(rec, "no execve %s record for pid %d", w.stage, w.pid);
		ck_assert_str_eq(rec_str(rec, "filename"), rig_unique);
		/*
		 * The new image's arguments are "/bin/sh", the path, then
		 * argv1 onwards: argv1 is found past the interpreter's, while
		 * the kernel has dropped the original argv0.
		 */
		ck_assert_str_eq(rec_str(rec, "argv"), "");
		ck_assert_str_eq(rec_str(rec, "argv1"), "lit-script-one");
		ck_assert_str_eq(rec_str(rec, "argv_last"), "lit-script-one");
		ck_assert_uint_eq(rec_uint(rec, "argc"), 2);
		ck_assert_int_eq(rec_int(rec, "error_raw"), 0);
	}
	unlink(rig_unique);
	rig_stop(&r);
}
END_TEST

START_TEST(exec_unfaulted_literal_failure)
{
	struct rig r;
	const msgpack_object *rec;
	struct exec_want w = {0, "enter"};

	rig_start(&r, "exec");
	rig_make_unique("missinglit");
	w.pid = rig_child(child_exec_missing_literal, rig_unique);
	for (int i = 0; i < 2; i++, w.stage = "exit") {
		rec = rig_wait(&r, match_exec, &w);
		ck_assert_msg(rec, "no execve %s record for pid %d", w.stage, w.pid);
		ck_assert_str_eq(rec_str(rec, "filename"), "/nonexistent/ebpf-forward-test");
		/* the same literal, on the page the kernel faulted in for the filename */
		ck_assert_str_eq(rec_str(rec, "argv"), "/nonexistent/ebpf-forward-test");
		ck_assert_str_eq(rec_str(rec, "argv_last"), rig_unique);
		ck_assert_uint_eq(rec_uint(rec, "argc"), 2);
		ck_assert_int_eq(rec_int(rec, "error_raw"), i ? ENOENT : 0);
		ck_assert_str_eq(rec_str(rec, "comm"), "test_kernel");
	}
	rig_stop(&r);
}
END_TEST

/* ---- exec under a thread rewriting its arguments ---- */

/*
 * Runs of the race: with the strings taken at entry, about one run in
 * five showed other bytes than the new image got (the flipper does not always
 * run between the two reads).
 */
#define EXEC_RACE_RUNS 20

/* The argument a second thread keeps rewriting while the first execs: all a's, all b's, or torn. */
static char race_arg[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static volatile int exec_race_started;

static void *exec_flipper(void *arg)
{
	(void)arg;
	exec_race_started = 1;
	for (unsigned i = 0;; i++)
		for (size_t j = 0; j < sizeof(race_arg) - 1; j++)
			((volatile char *)race_arg)[j] = (i & 1) ? 'b' : 'a';
	return NULL;
}

/* The new program, a shell, writes its own /proc/PID/cmdline to arg: what the kernel gave it. */
static void child_exec_race(const void *arg)
{
	char script[sizeof(rig_unique) + 64];
	char *argv[] = {"/bin/sh", "-c", script, race_arg, NULL};
	pthread_t th;

	snprintf(script, sizeof(script), "cat /proc/$$/cmdline > %s", (const char *)arg);
	if (pthread_create(&th, NULL, exec_flipper, NULL))
		_exit(2);
	while (!exec_race_started)
		;
	execv("/bin/sh", argv);
	_exit(127);
}

START_TEST(exec_records_have_what_the_new_image_got)
{
	static const char *const stages[] = {"enter", "exit"};
	char out[sizeof(rig_unique) + 8];
	struct rig r;
	struct exec_want w = {0, "exit"};

	rig_start(&r, "exec");
	rig_make_unique("execrace");
	for (int run = 0; run < EXEC_RACE_RUNS; run++) {
		const char *want[4];
		char got[1024] = {0};
		size_t n, at = 0;
		int fd;

		snprintf(out, sizeof(out), "%s-%d", rig_unique, run);
		w.pid = rig_child(child_exec_race, out);
		fd = open(out, O_RDONLY);
		ck_assert_int_ge(fd, 0);
		n = (size_t)read(fd, got, sizeof(got) - 1);
		close(fd);
		unlink(out);
		/* cmdline: the four arguments, each NUL-terminated */
		for (int i = 0; i < 4; i++) {
			ck_assert_uint_lt(at, n);
			want[i] = got + at;
			at += strlen(got + at) + 1;
		}
		ck_assert_uint_eq(at, n);
		/* the enter record too: it is built from the kernel's copies where the exec ends */
		for (int k = 0; k < 2; k++) {
			const msgpack_object *rec;

			w.stage = stages[k];
			rec = rig_wait(&r, match_exec, &w);
			ck_assert_msg(rec, "no execve %s record for pid %d", w.stage, w.pid);
			ck_assert_uint_eq(rec_uint(rec, "argc"), 4);
			ck_assert_str_eq(rec_str(rec, "filename"), "/bin/sh");
			ck_assert_str_eq(rec_str(rec, "argv"), want[0]);
			ck_assert_str_eq(rec_str(rec, "argv1"), want[1]);
			ck_assert_str_eq(rec_str(rec, "argv2"), want[2]);
			ck_assert_str_eq(rec_str(rec, "argv_last"), want[3]);
			ck_assert_int_eq(rec_int(rec, "error_raw"), 0);
		}
	}
	rig_stop(&r);
}
END_TEST

/* ---- exec's args: the whole command line ---- */

/* Arguments with spaces, quotes, a backslash, an empty one, bytes that are not UTF-8, and UTF-8. */
static void child_exec_odd_args(const void *arg)
{
	char *const argv[] = {"/bin/true", "a b", "it's \"q\"", "back\\slash", "", "\xff\xfe", "\xe2\x82\xac",
			      (char *)arg, NULL};

	execv("/bin/true", argv);
	_exit(127);
}

/* The exit record: args is every argument after argv[0], shell-quoted, joined, escaped; the entry's is empty. */
START_TEST(exec_args_are_exact)
{
	char want[512];
	struct rig r;
	const msgpack_object *rec;
	struct exec_want w = {0, "enter"};

	rig_start(&r, "exec");
	rig_make_unique("args");
	w.pid = rig_child(child_exec_odd_args, rig_unique);
	rec = rig_wait(&r, match_exec, &w);
	ck_assert_msg(rec, "no execve enter record for pid %d", w.pid);
	ck_assert_str_eq(rec_str(rec, "args"), "");
	ck_assert_str_eq(rec_str(rec, "argv1"), "a b");
	ck_assert_str_eq(rec_str(rec, "argv2"), "it's \"q\"");
	w.stage = "exit";
	rec = rig_wait(&r, match_exec, &w);
	ck_assert_msg(rec, "no execve exit record for pid %d", w.pid);
	ck_assert_uint_eq(rec_uint(rec, "argc"), 8);
	snprintf(want, sizeof(want), "'a b' 'it'\"'\"'s \"q\"' 'back\\\\slash' '' '\\xff\\xfe' '\xe2\x82\xac' %s",
		 rig_unique);
	ck_assert_str_eq(rec_str(rec, "args"), want);
	ck_assert_str_eq(rec_str(rec, "argv_last"), rig_unique);
	ck_assert(!rec_get(rec, "args_truncated")->via.boolean);
	rig_stop(&r);
}
END_TEST

#define MANY_ARGS 200

/* /bin/true and 200 arguments a-000 ... a-199. */
static void child_exec_many(const void *arg)
{
	static char bufs[MANY_ARGS][8];
	char *argv[MANY_ARGS + 2];

	(void)arg;
	argv[0] = "/bin/true";
	for (int i = 0; i < MANY_ARGS; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "a-%03d", i);
		argv[1 + i] = bufs[i];
	}
	argv[MANY_ARGS + 1] = NULL;
	execv("/bin/true", argv);
	_exit(127);
}

static void many_args_line(char *out)
{
	size_t n = 0;

	for (int i = 0; i < MANY_ARGS; i++)
		n += (size_t)sprintf(out + n, "%sa-%03d", i ? " " : "", i);
}

/* 200 arguments: all of them in args, argc and argv_last counted at entry and exit alike. */
START_TEST(exec_200_args)
{
	char want[MANY_ARGS * 8];
	struct rig r;
	const msgpack_object *rec;
	struct exec_want w = {0, "enter"};

	many_args_line(want);
	rig_start(&r, "exec");
	w.pid = rig_child(child_exec_many, NULL);
	for (int i = 0; i < 2; i++, w.stage = "exit") {
		rec = rig_wait(&r, match_exec, &w);
		ck_assert_msg(rec, "no execve %s record for pid %d", w.stage, w.pid);
		ck_assert_uint_eq(rec_uint(rec, "argc"), MANY_ARGS + 1);
		ck_assert_str_eq(rec_str(rec, "argv1"), "a-000");
		ck_assert_str_eq(rec_str(rec, "argv2"), "a-001");
		ck_assert_str_eq(rec_str(rec, "argv_last"), "a-199");
		ck_assert_str_eq(rec_str(rec, "args"), i ? want : "");
		ck_assert(!rec_get(rec, "args_truncated")->via.boolean);
	}
	rig_stop(&r);
}
END_TEST

/* Exec_Args_Max = 64: args is the first 64 bytes of the area (a-000 ... a-009 and "a-01"), marked; 0: none. */
START_TEST(exec_args_cut_at_the_bound)
{
	struct rig r;
	const msgpack_object *rec;
	struct exec_want w = {0, "exit"};
	char want[MANY_ARGS * 8];

	memset(&r, 0, sizeof(r));
	config_defaults(&r.cfg);
	r.cfg.trace.exec_args_max = 64;
	rig_start_cfg(&r, "exec");
	w.pid = rig_child(child_exec_many, NULL);
	rec = rig_wait(&r, match_exec, &w);
	ck_assert_msg(rec, "no execve exit record for pid %d", w.pid);
	/* 64 bytes: ten arguments of 6 with their NULs, then "a-01" of the eleventh: as many once joined */
	many_args_line(want);
	want[64] = '\0';
	ck_assert_str_eq(rec_str(rec, "args"), want);
	ck_assert(rec_get(rec, "args_truncated")->via.boolean);
	ck_assert_str_eq(rec_str(rec, "argv_last"), "a-199");
	rig_stop(&r);

	memset(&r, 0, sizeof(r));
	config_defaults(&r.cfg);
	r.cfg.trace.exec_args_max = 0;
	rig_start_cfg(&r, "exec");
	w.pid = rig_child(child_exec_many, NULL);
	rec = rig_wait(&r, match_exec, &w);
	ck_assert_msg(rec, "no execve exit record for pid %d", w.pid);
	ck_assert_str_eq(rec_str(rec, "args"), "");
	ck_assert(!rec_get(rec, "args_truncated")->via.boolean);
	ck_assert_str_eq(rec_str(rec, "argv_last"), "a-199");
	rig_stop(&r);
}
END_TEST

/* ---- vfs ---- */

static void child_open(const void *arg)
{
	int fd = open(arg, O_CREAT | O_WRONLY | O_CLOEXEC, 0640);

	if (fd >= 0)
		close(fd);
	unlink(arg);
}

static void child_open_missing(const void *arg)
{
	open(arg, O_RDONLY);
}

static bool match_path(const msgpack_object *rec, const void *arg)
{
	return rec_str_is(rec, "event_type", "vfs") && rec_str_is(rec, "path", arg);
}

START_TEST(vfs_open_records_path_and_fd)
{
	struct rig r;
	const msgpack_object *rec;
	pid_t pid;

	rig_start(&r, "vfs");
	rig_make_unique("open");
	pid = rig_child(child_open, rig_unique);
	rec = rig_wait(&r, match_path, rig_unique);
	ck_assert_msg(rec, "no vfs record for %s", rig_unique);
	ck_assert_uint_eq(rec_uint(rec, "pid"), (uint64_t)pid);
	ck_assert_str_eq(rec_str(rec, "comm"), "test_kernel");
	ck_assert_int_eq(rec_int(rec, "operation"), 0);
	ck_assert_uint_eq(rec_uint(rec, "flags"), O_CREAT | O_WRONLY | O_CLOEXEC);
	ck_assert_uint_eq(rec_uint(rec, "mode"), 0640);
	ck_assert_int_ge(rec_int(rec, "fd"), 0);
	ck_assert_int_eq(rec_int(rec, "error_raw"), 0);
	ck_assert_uint_eq(rec_uint(rec, "uid"), getuid());
	ck_assert_uint_gt(rec_uint(rec, "mntns_id"), 0);
	ck_assert_uint_gt(rec_uint(rec, "cgroup_id"), 0);
	rig_stop(&r);
}
END_TEST

START_TEST(vfs_failed_open_has_errno)
{
	struct rig r;
	const msgpack_object *rec;
	pid_t pid;

	rig_start(&r, "vfs");
	rig_make_unique("nofile");
	pid = rig_child(child_open_missing, rig_unique);
	rec = rig_wait(&r, match_path, rig_unique);
	ck_assert_msg(rec, "no vfs record for %s", rig_unique);
	ck_assert_uint_eq(rec_uint(rec, "pid"), (uint64_t)pid);
	ck_assert_int_eq(rec_int(rec, "fd"), -1);
	ck_assert_int_eq(rec_int(rec, "error_raw"), ENOENT);
	rig_stop(&r);
}
END_TEST

static void on_test_tick(uv_timer_t *t)
{
	(void)t;
}

/* Like rig_wait, but only the loop reads the rings, as in the daemon (wake-ups, Poll_Ms timer). */
static const msgpack_object *rig_wait_loop(struct rig *r, match_fn match, const void *arg, unsigned ms)
{
	uv_timer_t tick;
	const msgpack_object *found = NULL;
	uint64_t end = uv_now(&r->loop) + ms;
	size_t seen = 0;

	uv_timer_init(&r->loop, &tick);
	uv_timer_start(&tick, on_test_tick, 5, 5);
	while (!found && uv_now(&r->loop) < end) {
		uv_run(&r->loop, UV_RUN_ONCE);
		for (; seen < r->cap.n && !found; seen++)
			if (match(&r->cap.recs[seen].u.data, arg))
				found = &r->cap.recs[seen].u.data;
	}
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(&r->loop, UV_RUN_NOWAIT);
	return found;
}

/*
 * A child that opens first when a byte comes on go[1], then second times
 * times when the next one does; go[1] is the caller's to write and close.
 */
static pid_t fork_opener_in_two_steps(int go[2], const char *first, const char *second, int times)
{
	pid_t pid;
	char c;

	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) == 1)
			child_open_missing(first);
		if (read(go[0], &c, 1) == 1)
			for (int i = 0; i < times; i++)
				child_open_missing(second);
		_exit(0);
	}
	close(go[0]);
	return pid;
}

START_TEST(batched_reading_sleeps_and_wakes)
{
	struct rig r;
	char first[128], second[128], c = 0;
	int go[2];
	pid_t pid;

	/*
	 * One child opens two paths, each when told to, and the trace sees only
	 * it (Pid=): the quiet time in between is really quiet, so the reader
	 * goes to sleep and only a wake-up can bring the second event in time.
	 */
	rig_make_unique("wake1");
	snprintf(first, sizeof(first), "%s", rig_unique);
	rig_make_unique("wake2");
	snprintf(second, sizeof(second), "%s", rig_unique);
	pid = fork_opener_in_two_steps(go, first, second, 1);
	rig_start_full(&r, "vfs", 1 << 22, pid);
	ck_assert_uint_eq(r.cfg.trace.poll_ms, 25); /* the default: batched */
	ck_assert_int_eq(write(go[1], &c, 1), 1);
	ck_assert_msg(rig_wait_loop(&r, match_path, first, 900), "first event did not wake the reader");
	/* the loop runs quiet long enough for the reader to go back to sleep (two empty ticks) */
	ck_assert_ptr_null(rig_wait_loop(&r, match_path, "/nothing/opens/this", 150));
	ck_assert_int_eq(write(go[1], &c, 1), 1);
	/* under the 1 s housekeeping read, which is still ~700 ms away: it was a wake-up */
	ck_assert_msg(rig_wait_loop(&r, match_path, second, 300), "event after sleeping did not wake the reader");
	close(go[1]);
	waitpid(pid, NULL, 0);
	rig_stop(&r);
}
END_TEST

/* Counts records of one path, with the loop's time at the first and the last; true at the count wanted. */
struct path_count {
	const char *path;
	unsigned want;
	unsigned seen;
	uv_loop_t *loop;
	uint64_t first_ms, last_ms;
};

static bool match_path_count(const msgpack_object *rec, const void *arg)
{
	struct path_count *pc = (struct path_count *)arg; /* rig_wait_loop passes it through */

	if (!match_path(rec, pc->path))
		return false;
	if (!pc->seen++)
		pc->first_ms = uv_now(pc->loop);
	pc->last_ms = uv_now(pc->loop);
	return pc->seen >= pc->want;
}

START_TEST(ring_behind_is_read_on_every_loop_turn)
{
	enum { OPENS = 2 * 8192 + 1000 }; /* three reads of the pipeline's budget */
	struct rig r;
	struct path_count pc = {.want = OPENS}, first = {.want = 1};
	char c = 0, first_path[128];
	int go[2], st;
	pid_t pid;

	/*
	 * The reader awake on its Poll_Ms timer, as under load, and a burst three
	 * read budgets deep that stays under the wake-up threshold (1/16 of a
	 * 256 MiB ring), so only the reader's own reads take it: as when it has
	 * been woken once and is still behind. A
	 * reader that leaves the rest of a spent budget for its next read (the
	 * 1 s tick, or the 1 s housekeeping read) has its third read a whole
	 * second after its first; one that reads again on the next loop turn
	 * takes what three reads take. (The 25 ms tick capped the daemon at
	 * 330,000 records/s, and a sustained load overflowed the ring.)
	 */
	rig_make_unique("awake");
	snprintf(first_path, sizeof(first_path), "%s", rig_unique);
	first.path = first_path;
	rig_make_unique("behind");
	pc.path = rig_unique;
	pid = fork_opener_in_two_steps(go, first_path, rig_unique, OPENS);
	memset(&r, 0, sizeof(r));
	config_defaults(&r.cfg);
	r.cfg.trace.ringbuf_size = 256u << 20;
	r.cfg.trace.filter_pid = (uint32_t)pid;
	r.cfg.trace.poll_ms = 1000;
	rig_start_cfg(&r, "vfs");
	first.loop = pc.loop = &r.loop;
	/* one event wakes the reader, which then reads on its timer */
	ck_assert_int_eq(write(go[1], &c, 1), 1);
	ck_assert_msg(rig_wait_loop(&r, match_path_count, &first, 900), "the first event did not wake the reader");
	ck_assert_int_eq(write(go[1], &c, 1), 1);
	close(go[1]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_uint_eq(trace_lost(r.t), 0);
	ck_assert_msg(rig_wait_loop(&r, match_path_count, &pc, 3500), "%u of %u records read within 3.5 s",
		      pc.seen, OPENS);
	fprintf(stderr, "kernel: a burst of %u records read in %llu ms from the first to the last\n", OPENS,
		(unsigned long long)(pc.last_ms - pc.first_ms));
	/* well under the second a tick would add (the three reads took 244 ms in the ASan build here, 71 in the plain one) */
	ck_assert_msg(pc.last_ms - pc.first_ms < 800,
		      "the burst took %llu ms from its first record to its last: the rest of a budget waited for a tick",
		      (unsigned long long)(pc.last_ms - pc.first_ms));
	rig_stop(&r);
}
END_TEST

/* For a wait that only runs the loop. */
static bool match_none(const msgpack_object *rec, const void *arg)
{
	(void)rec;
	(void)arg;
	return false;
}

START_TEST(heap_given_back_after_a_busy_spell)
{
	enum { BLOCKS = 8, BLOCK = 1152 * 1024 }; /* eight default-sized frames */
	struct rig r;
	struct path_count pc = {.want = 200};
	char *b[BLOCKS];
	long held, after;
	int go[2], st;
	char c = 0;
	pid_t pid;

	/*
	 * Under load the daemon keeps freed frame memory for the next frames
	 * (heap_keep_freed); the pipeline's housekeeping gives it back once a
	 * second has passed with nothing read. Frames freed here stand for the
	 * acked ones of a burst; the burst's records are read for real.
	 */
	ck_assert_int_eq(heap_keep_freed(), 0);
	rig_make_unique("heap");
	pc.path = rig_unique;
	pid = fork_opener_in_two_steps(go, rig_unique, rig_unique, 199);
	memset(&r, 0, sizeof(r));
	config_defaults(&r.cfg);
	r.cfg.trace.filter_pid = (uint32_t)pid;
	rig_start_cfg(&r, "vfs");
	pc.loop = &r.loop;
	ck_assert_int_eq(write(go[1], &c, 1), 1);
	ck_assert_int_eq(write(go[1], &c, 1), 1);
	close(go[1]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(rig_wait_loop(&r, match_path_count, &pc, 3000), "%u of %u records read", pc.seen, pc.want);
	for (int i = 0; i < BLOCKS; i++) {
		b[i] = malloc(BLOCK);
		ck_assert_ptr_nonnull(b[i]);
		memset(b[i], 1, BLOCK);
	}
	for (int i = 0; i < BLOCKS; i++)
		free(b[i]);
	held = resident_bytes();
	/* a tick that read (the release is due), then a quiet one (it happens): at most 2 s and a bit */
	ck_assert_ptr_null(rig_wait_loop(&r, match_none, NULL, 2600));
	after = resident_bytes();
	fprintf(stderr, "kernel: resident %ld KiB with the freed frames, %ld KiB after a quiet second\n", held / 1024,
		after / 1024);
	if (HEAP_POLICY) /* under another allocator the policy does nothing */
		ck_assert_msg(held - after >= (BLOCKS - 2) * BLOCK,
			      "resident %ld bytes before the quiet second, %ld after", held, after);
	rig_stop(&r);
}
END_TEST

/* Opens path until seconds have passed since go said so, on one CPU, under the name efwd-2cpu. */
static void child_burst_on_cpu(int go, int cpu, const char *path, double seconds)
{
	struct timespec t0, t;
	cpu_set_t set;
	char c;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) || prctl(PR_SET_NAME, "efwd-2cpu"))
		_exit(2);
	if (read(go, &c, 1) != 1)
		_exit(3);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 256; i++)
			child_open_missing(path);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	_exit(0);
}

START_TEST(ring_filled_from_two_cpus_wakes_the_reader)
{
	struct rig r;
	struct path_count first = {.want = 1};
	char c = 0, first_path[128];
	int go[2], one[2], st, exited = 0;
	pid_t kids[2];
	uv_timer_t tick;

	/*
	 * The reader awake on a 1 s Poll_Ms, a 1 MiB ring (its wake-up threshold
	 * at 64 KiB), and a process on each CPU opening flat out for 2.5 s. The
	 * fill passes the threshold hundreds of times a second; each time, the
	 * reader must be woken, or it waits up to the next tick (and the ring
	 * overflows meanwhile). When the event that crossed the threshold had to
	 * wake it, the two CPUs' events could each see the other's record already
	 * in the fill, neither woke it, and reads stopped for most of a second.
	 */
	ck_assert_int_ge(sysconf(_SC_NPROCESSORS_ONLN), 2);
	rig_make_unique("wake2cpu1");
	snprintf(first_path, sizeof(first_path), "%s", rig_unique);
	rig_make_unique("wake2cpu");
	/* go: both start the burst; one: the first child's single event before it */
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(one), 0);
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		ck_assert_int_ge(kids[k], 0);
		if (kids[k] == 0) {
			close(go[1]);
			close(one[1]);
			if (k == 0) {
				prctl(PR_SET_NAME, "efwd-2cpu");
				if (read(one[0], &c, 1) != 1)
					_exit(3);
				child_open_missing(first_path);
			}
			child_burst_on_cpu(go[0], k, rig_unique, 2.5);
		}
	}
	close(go[0]);
	close(one[0]);
	memset(&r, 0, sizeof(r));
	config_defaults(&r.cfg);
	r.cfg.trace.ringbuf_size = 1u << 20;
	r.cfg.trace.poll_ms = 1000;
	snprintf(r.cfg.trace.filter_comm, sizeof(r.cfg.trace.filter_comm), "efwd-2cpu");
	rig_start_cfg(&r, "vfs");
	first.path = first_path;
	first.loop = &r.loop;
	ck_assert_int_eq(write(one[1], &c, 1), 1);
	close(one[1]);
	ck_assert_msg(rig_wait_loop(&r, match_path_count, &first, 900), "the first event did not wake the reader");
	capture_clear(&r.cap);
	ck_assert_int_eq(write(go[1], "gg", 2), 2);
	close(go[1]);
	r.cap.count_only = true;
	uv_timer_init(&r.loop, &tick);
	uv_timer_start(&tick, on_test_tick, 5, 5);
	while (exited < 2) {
		uv_run(&r.loop, UV_RUN_ONCE);
		for (int k = 0; k < 2; k++)
			if (kids[k] && waitpid(kids[k], &st, WNOHANG) == kids[k]) {
				ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "burst child %d failed", k);
				kids[k] = 0;
				exited++;
			}
	}
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(&r.loop, UV_RUN_NOWAIT);
	fprintf(stderr, "kernel: two CPUs' burst: %llu records read, %llu lost, longest time between two %llu ms\n",
		(unsigned long long)r.cap.counted, (unsigned long long)trace_lost(r.t),
		(unsigned long long)(r.cap.max_gap_ns / 1000000));
	ck_assert_uint_gt(r.cap.counted, 0);
	/* a few ms when every wake-up comes; about the 1 s tick when one is missed */
	ck_assert_msg(r.cap.max_gap_ns < 400000000,
		      "no record read for %llu ms while two CPUs filled the ring: a wake-up was missed",
		      (unsigned long long)(r.cap.max_gap_ns / 1000000));
	rig_stop(&r);
}
END_TEST

START_TEST(daemon_itself_is_not_traced)
{
	struct rig r;
	pid_t pid;
	int fd;

	rig_start(&r, "vfs");
	rig_make_unique("self");
	/* the test process plays the daemon: its own opens must not come back */
	fd = open(rig_unique, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	pid = rig_child(child_open, rig_unique); /* a child's open of the same path does */
	ck_assert_ptr_nonnull(rig_wait(&r, match_path, rig_unique));
	for (size_t i = 0; i < r.cap.n; i++)
		ck_assert_uint_ne(rec_uint(&r.cap.recs[i].u.data, "pid"), (uint64_t)getpid());
	(void)pid;
	unlink(rig_unique);
	rig_stop(&r);
}
END_TEST

/*
 * The daemon's part played by pid 1 of a new PID namespace, where getpid()
 * is 1 and the kernel's task->tgid is not: its own open must not come back,
 * another process's must. Exit codes say which check failed.
 */
static int pidns_daemon(const char *self_path, const char *other_path)
{
	struct rig r;
	bool own = false;
	int fd;

	if (getpid() != 1)
		return 10;
	rig_start(&r, "vfs");
	fd = open(self_path, O_CREAT | O_WRONLY, 0600);
	if (fd < 0)
		return 11;
	close(fd);
	rig_child(child_open, other_path);
	if (!rig_wait(&r, match_path, other_path))
		return 12;
	for (size_t i = 0; i < r.cap.n; i++)
		own |= rec_str_is(&r.cap.recs[i].u.data, "path", self_path);
	unlink(self_path);
	rig_stop(&r);
	return own ? 13 : 0;
}

START_TEST(daemon_in_pid_namespace_is_not_traced)
{
	char self_path[sizeof(rig_unique) + 8], other_path[sizeof(rig_unique) + 8];
	pid_t outer, inner;
	int st = 0;

	rig_make_unique("pidns");
	snprintf(self_path, sizeof(self_path), "%s-self", rig_unique);
	snprintf(other_path, sizeof(other_path), "%s-other", rig_unique);
	outer = fork();
	ck_assert_int_ge(outer, 0);
	if (outer == 0) {
		/* unshare puts the next child, not the caller, in the new namespace */
		if (unshare(CLONE_NEWPID))
			_exit(20);
		inner = fork();
		if (inner < 0)
			_exit(21);
		if (inner == 0)
			_exit(pidns_daemon(self_path, other_path));
		if (waitpid(inner, &st, 0) != inner)
			_exit(22);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 23);
	}
	ck_assert_int_eq(waitpid(outer, &st, 0), outer);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "in a PID namespace: exit %d (12: other's open not seen, 13: own open traced)",
		      WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}
END_TEST

START_TEST(full_ring_losses_are_counted)
{
	struct rig r;
	uint64_t lost, got = 0;
	int fd;

	/* one page of ring: a burst with nobody reading must overflow it */
	rig_start_sized(&r, "vfs", 4096);
	rig_make_unique("burst");
	if (fork() == 0) {
		for (int i = 0; i < 2000; i++) {
			fd = open(rig_unique, O_RDONLY);
			if (fd >= 0)
				close(fd);
		}
		_exit(0);
	}
	wait(NULL);
	lost = trace_lost(r.t);
	ck_assert_uint_gt(lost, 0);
	pipeline_drain(r.p);
	for (size_t i = 0; i < r.cap.n; i++)
		got += match_path(&r.cap.recs[i].u.data, rig_unique);
	/* every open was either read or counted lost (other processes may add to both) */
	ck_assert_uint_ge(got + lost, 2000);
	ck_assert_uint_lt(got, 2000);
	rig_stop(&r);
}
END_TEST


/*
 * The kernel refuses a vfs event before building it when the ring cannot take
 * even the smallest one (ev_scratch_for): nothing that would fit may be
 * refused, and every refused one is counted. A one-page ring, nobody reading,
 * 500 opens of one path by a child of our own comm: exactly as many records
 * as the page holds arrive, and the rest are counted lost.
 */
START_TEST(full_ring_takes_all_that_fit)
{
	enum { OPENS = 500 };
	struct rig r;
	uint64_t lost, got = 0, len, fit;
	pid_t kid;
	int st;

	memset(&r, 0, sizeof(r));
	config_defaults(&r.cfg);
	r.cfg.trace.ringbuf_size = 4096;
	snprintf(r.cfg.trace.filter_comm, sizeof(r.cfg.trace.filter_comm), "efwd-fill");
	rig_start_cfg(&r, "vfs");
	rig_make_unique("fill");
	kid = fork();
	ck_assert_int_ge(kid, 0);
	if (kid == 0) {
		prctl(PR_SET_NAME, "efwd-fill");
		for (int i = 0; i < OPENS; i++) {
			int fd = open(rig_unique, O_RDONLY);

			if (fd >= 0)
				close(fd);
		}
		_exit(0);
	}
	ck_assert_int_eq(waitpid(kid, &st, 0), kid);
	lost = trace_lost(r.t);
	pipeline_drain(r.p);
	for (size_t i = 0; i < r.cap.n; i++)
		got += match_path(&r.cap.recs[i].u.data, rig_unique);
	/* a record: its 8-byte header, the event, the path and its NUL, rounded up to 8; they fit while the fill is under the page */
	len = (sizeof(struct ev_vfs) + strlen(rig_unique) + 1 + 8 + 7) & ~7ull;
	fit = (4096 - 1) / len;
	fprintf(stderr, "kernel: one-page ring: %llu read (%llu fit), %llu lost\n", (unsigned long long)got,
		(unsigned long long)fit, (unsigned long long)lost);
	ck_assert_uint_eq(got, fit);
	ck_assert_uint_eq(got + lost, OPENS);
	rig_stop(&r);
}
END_TEST

static void child_open_in_cgroup(const void *arg)
{
	const char *const *a = arg; /* cgroup dir, path */
	char procs[512];
	int fd;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", a[0]);
	fd = open(procs, O_WRONLY);
	if (fd < 0 || write(fd, "0", 1) != 1) /* 0: the writer itself */
		_exit(3);
	close(fd);
	child_open_missing(a[1]);
}

START_TEST(cgroup_filter_keeps_only_that_cgroup)
{
	char mnt[256], dir[512], inside[160], outside[160];
	const char *args[2] = {dir, inside};
	const msgpack_object *rec;
	struct stat st;
	struct rig r;
	pid_t pid;

	ck_assert_msg(rig_cgroup2_mount(mnt, sizeof(mnt)), "no cgroup2 mount");
	snprintf(dir, sizeof(dir), "%s/ebpf-forward-test-%d", mnt, getpid());
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(stat(dir, &st), 0);
	rig_make_unique("incg");
	snprintf(inside, sizeof(inside), "%s", rig_unique);
	rig_make_unique("outcg");
	snprintf(outside, sizeof(outside), "%s", rig_unique);

	memset(&r, 0, sizeof(r));
	config_defaults(&r.cfg);
	snprintf(r.cfg.trace.cgroup_path, sizeof(r.cfg.trace.cgroup_path), "%s", dir);
	rig_start_cfg(&r, "vfs");
	rig_child(child_open_missing, outside);
	pid = rig_child(child_open_in_cgroup, args);
	rec = rig_wait(&r, match_path, inside);
	ck_assert_msg(rec, "no record from the task in the cgroup");
	ck_assert_uint_eq(rec_uint(rec, "pid"), (uint64_t)pid);
	/* the record's cgroup_id is that directory's */
	ck_assert_uint_eq(rec_uint(rec, "cgroup_id"), (uint64_t)st.st_ino);
	/* nothing from outside it: every record is from the cgroup */
	for (size_t i = 0; i < r.cap.n; i++)
		ck_assert_uint_eq(rec_uint(&r.cap.recs[i].u.data, "cgroup_id"), (uint64_t)st.st_ino);
	rig_stop(&r);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static void child_open_as(const void *arg)
{
	const char *const *a = arg; /* comm, path */

	prctl(PR_SET_NAME, a[0], 0, 0, 0);
	child_open_missing(a[1]);
}

START_TEST(comm_filter_keeps_only_that_name)
{
	char other[160];
	const char *mine[2] = {"fwd-comm-test", NULL}, *theirs[2] = {"fwd-comm-other", other};
	const msgpack_object *rec;
	struct rig r;

	memset(&r, 0, sizeof(r));
	config_defaults(&r.cfg);
	snprintf(r.cfg.trace.filter_comm, sizeof(r.cfg.trace.filter_comm), "%s", "fwd-comm-test");
	rig_start_cfg(&r, "vfs");
	rig_make_unique("othercomm");
	snprintf(other, sizeof(other), "%s", rig_unique);
	rig_child(child_open_as, theirs);
	rig_make_unique("comm");
	mine[1] = rig_unique;
	rig_child(child_open_as, mine);
	rec = rig_wait(&r, match_path, rig_unique);
	ck_assert_msg(rec, "no record from the named task");
	for (size_t i = 0; i < r.cap.n; i++)
		ck_assert_str_eq(rec_str(&r.cap.recs[i].u.data, "comm"), "fwd-comm-test");
	rig_stop(&r);
}
END_TEST

START_TEST(mount_ns_filter_keeps_only_that_namespace)
{
	const msgpack_object *rec;
	char c = 0, inside[160], outside[160];
	int up[2], go[2];
	uint64_t ns = 0;
	struct rig r;
	pid_t pid;

	/* a child in a mount namespace of its own tells us its inode, then opens when told */
	rig_make_unique("inns");
	snprintf(inside, sizeof(inside), "%s", rig_unique);
	rig_make_unique("outns");
	snprintf(outside, sizeof(outside), "%s", rig_unique);
	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct stat st;

		if (unshare(CLONE_NEWNS) || stat("/proc/self/ns/mnt", &st))
			_exit(3);
		ns = st.st_ino;
		if (write(up[1], &ns, sizeof(ns)) != sizeof(ns) || read(go[0], &c, 1) != 1)
			_exit(4);
		child_open_missing(inside);
		_exit(0);
	}
	ck_assert_int_eq(read(up[0], &ns, sizeof(ns)), (ssize_t)sizeof(ns));
	memset(&r, 0, sizeof(r));
	config_defaults(&r.cfg);
	r.cfg.trace.filter_mntns = ns;
	rig_start_cfg(&r, "vfs");
	rig_child(child_open_missing, outside); /* the test's namespace: filtered out */
	ck_assert_int_eq(write(go[1], &c, 1), 1);
	waitpid(pid, NULL, 0);
	rec = rig_wait(&r, match_path, inside);
	ck_assert_msg(rec, "no record from the namespace");
	ck_assert_uint_eq(rec_uint(rec, "pid"), (uint64_t)pid);
	for (size_t i = 0; i < r.cap.n; i++)
		ck_assert_uint_eq(rec_uint(&r.cap.recs[i].u.data, "mntns_id"), ns);
	rig_stop(&r);
}
END_TEST

static bool match_metrics(const msgpack_object *rec, const void *arg)
{
	(void)arg;
	return rec_str_is(rec, "event_type", "metrics") && rec_get(rec, "trace");
}

START_TEST(metrics_records_have_a_tag_of_their_own)
{
	struct rig r;
	const msgpack_object *rec;
	size_t i;

	/* Tag without '*' (the default "ebpf"): metrics go under "ebpf.metrics" */
	memset(&r, 0, sizeof(r));
	config_defaults(&r.cfg);
	r.cfg.stats_interval_s = 1;
	rig_start_cfg(&r, "signal");
	rec = rig_wait_loop(&r, match_metrics, NULL, 2500);
	ck_assert_msg(rec, "no metrics record within a stats interval");
	ck_assert_str_eq(rec_str(rec, "trace"), "signal");
	ck_assert_uint_eq(rec_uint(rec, "lost_kernel"), 0);
	for (i = 0; i < r.cap.n && &r.cap.recs[i].u.data != rec; i++)
		;
	ck_assert_str_eq(r.cap.recs[i].tag, "ebpf.metrics");
	rig_stop(&r);
}
END_TEST

START_TEST(cgroup_that_is_not_there_is_an_error)
{
	struct config cfg;
	char err[512];

	config_defaults(&cfg);
	snprintf(cfg.trace.cgroup_path, sizeof(cfg.trace.cgroup_path), "/sys/fs/cgroup/no-such-cgroup-%d", getpid());
	ck_assert_ptr_null(trace_start(registry_find("vfs"), &cfg.trace, err, sizeof(err)));
	ck_assert_msg(strstr(err, "no-such-cgroup") && strstr(err, "cannot open"), "%s", err);
	/* a directory that is not a cgroup v2 one */
	snprintf(cfg.trace.cgroup_path, sizeof(cfg.trace.cgroup_path), "/tmp");
	ck_assert_ptr_null(trace_start(registry_find("vfs"), &cfg.trace, err, sizeof(err)));
	ck_assert_msg(strstr(err, "not a cgroup v2 directory"), "%s", err);
}
END_TEST

/* ---- signal ---- */

static void child_kill_self(const void *arg)
{
	(void)arg;
	signal(SIGUSR1, SIG_IGN);
	kill(getpid(), SIGUSR1);
}

static void child_kill_nobody(const void *arg)
{
	kill(*(const pid_t *)arg, SIGUSR2);
}

static void child_kill_group(const void *arg)
{
	(void)arg;
	kill(-getpgrp(), 0);
}

struct sig_want {
	pid_t pid;
	int sig;
};

static bool match_signal(const msgpack_object *rec, const void *arg)
{
	const struct sig_want *w = arg;

	return rec_str_is(rec, "event_type", "signal") && rec_uint(rec, "pid") == (uint64_t)w->pid &&
	       rec_int(rec, "signal") == w->sig;
}

START_TEST(signal_kill_records_target)
{
	struct rig r;
	const msgpack_object *rec;
	struct sig_want w = {0, SIGUSR1};

	rig_start(&r, "signal");
	w.pid = rig_child(child_kill_self, NULL);
	rec = rig_wait(&r, match_signal, &w);
	ck_assert_msg(rec, "no signal record for pid %d", w.pid);
	ck_assert_uint_eq(rec_uint(rec, "tpid"), (uint64_t)w.pid);
	ck_assert_int_eq(rec_int(rec, "error_raw"), 0);
	ck_assert_str_eq(rec_str(rec, "syscall"), "kill");
	rig_stop(&r);
}
END_TEST

START_TEST(signal_to_group_has_negative_target)
{
	struct rig r;
	const msgpack_object *rec;
	struct sig_want w = {0, 0};

	rig_start(&r, "signal");
	w.pid = rig_child(child_kill_group, NULL);
	rec = rig_wait(&r, match_signal, &w);
	ck_assert_msg(rec, "no signal record for pid %d", w.pid);
	/* the child is in the test's process group */
	ck_assert_int_eq(rec_int(rec, "target"), -(int64_t)getpgrp());
	ck_assert_uint_eq(rec_uint(rec, "tpid"), 0);
	ck_assert_int_eq(rec_int(rec, "error_raw"), 0);
	ck_assert_str_eq(rec_str(rec, "syscall"), "kill");
	rig_stop(&r);
}
END_TEST

START_TEST(signal_to_missing_pid_has_errno)
{
	struct rig r;
	const msgpack_object *rec;
	struct sig_want w = {0, SIGUSR2};
	pid_t gone = rig_child(child_kill_self, NULL); /* reaped: its pid is free now */

	rig_start(&r, "signal");
	w.pid = rig_child(child_kill_nobody, &gone);
	rec = rig_wait(&r, match_signal, &w);
	ck_assert_msg(rec, "no signal record for pid %d", w.pid);
	ck_assert_uint_eq(rec_uint(rec, "tpid"), (uint64_t)gone);
	ck_assert_int_eq(rec_int(rec, "error_raw"), ESRCH);
	rig_stop(&r);
}
END_TEST

/* ---- bind ---- */

static uint16_t test_port;

/* A port the kernel just handed out, so the test does not collide with a listener. */
static uint16_t free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
	close(s);
	return ntohs(a.sin_port);
}

static void child_bind(const void *arg)
{
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(test_port)};
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(test_port)};
	struct sockaddr_in any = {.sin_family = AF_INET};
	int t1 = socket(AF_INET, SOCK_STREAM, 0);
	int t2 = socket(AF_INET, SOCK_STREAM, 0);
	int u6 = socket(AF_INET6, SOCK_DGRAM, 0);
	int u4 = socket(AF_INET, SOCK_DGRAM, 0);

	(void)arg;
	inet_pton(AF_INET, "127.0.0.1", &a4.sin_addr);
	a6.sin6_addr = in6addr_loopback;
	if (bind(t1, (struct sockaddr *)&a4, sizeof(a4)))
		_exit(1);
	bind(t2, (struct sockaddr *)&a4, sizeof(a4)); /* EADDRINUSE */
	bind(u6, (struct sockaddr *)&a6, sizeof(a6));
	/* port 0: the kernel picks one; bound_port says which */
	any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(u4, (struct sockaddr *)&any, sizeof(any));
	_exit(0);
}

struct bind_want {
	pid_t pid;
	const char *proto;
	int error;
	const char *addr;   /* NULL: any */
};

static bool match_bind(const msgpack_object *rec, const void *arg)
{
	const struct bind_want *w = arg;

	return rec_str_is(rec, "event_type", "bind") && rec_uint(rec, "pid") == (uint64_t)w->pid &&
	       rec_str_is(rec, "protocol", w->proto) && rec_int(rec, "error_raw") == w->error &&
	       (!w->addr || rec_str_is(rec, "addr", w->addr));
}

START_TEST(bind_tcp_udp_and_failure)
{
	struct rig r;
	const msgpack_object *rec;
	struct bind_want w = {0, "tcp", 0, NULL};

	test_port = free_port();
	rig_start(&r, "bind");
	w.pid = rig_child(child_bind, NULL);
	rec = rig_wait(&r, match_bind, &w);
	ck_assert_msg(rec, "no successful tcp bind record for pid %d", w.pid);
	ck_assert_uint_eq(rec_uint(rec, "port"), test_port);
	ck_assert_uint_eq(rec_uint(rec, "bound_port"), test_port);
	ck_assert_str_eq(rec_str(rec, "addr"), "127.0.0.1");
	ck_assert_uint_eq(rec_uint(rec, "bound_dev_if"), 0);
	ck_assert_uint_eq(rec_uint(rec, "uid"), getuid());
	ck_assert_uint_eq(rec_uint(rec, "gid"), getgid());
	w.error = EADDRINUSE;
	rec = rig_wait(&r, match_bind, &w);
	ck_assert_msg(rec, "no failed tcp bind record for pid %d", w.pid);
	ck_assert_uint_eq(rec_uint(rec, "port"), test_port);
	ck_assert_uint_eq(rec_uint(rec, "bound_port"), 0);
	w.proto = "udp";
	w.error = 0;
	rec = rig_wait(&r, match_bind, &w);
	ck_assert_msg(rec, "no udp bind record for pid %d", w.pid);
	ck_assert_str_eq(rec_str(rec, "addr"), "::1");
	ck_assert_uint_eq(rec_uint(rec, "port"), test_port);
	w.addr = "127.0.0.1";
	rec = rig_wait(&r, match_bind, &w);
	ck_assert_msg(rec, "no udp port-0 bind record for pid %d", w.pid);
	ck_assert_uint_eq(rec_uint(rec, "port"), 0);
	ck_assert_uint_ne(rec_uint(rec, "bound_port"), 0);
	rig_stop(&r);
}
END_TEST

/* 0.0.0.0 and 127.0.0.1 come from the socket; a bind that fails keeps the address asked for. */
static void child_bind_addrs(const void *arg)
{
	struct sockaddr_in any = {.sin_family = AF_INET};
	struct sockaddr_in lo = {.sin_family = AF_INET};
	struct sockaddr_in far = {.sin_family = AF_INET};
	int s1 = socket(AF_INET, SOCK_DGRAM, 0), s2 = socket(AF_INET, SOCK_DGRAM, 0);
	int s3 = socket(AF_INET, SOCK_DGRAM, 0);

	(void)arg;
	any.sin_addr.s_addr = htonl(INADDR_ANY);
	lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	inet_pton(AF_INET, "192.0.2.7", &far.sin_addr); /* TEST-NET-1: not ours, EADDRNOTAVAIL */
	bind(s1, (struct sockaddr *)&any, sizeof(any));
	bind(s2, (struct sockaddr *)&lo, sizeof(lo));
	bind(s3, (struct sockaddr *)&far, sizeof(far));
	_exit(0);
}

START_TEST(bind_addr_is_the_sockets)
{
	static const struct {
		const char *addr;
		int error;
	} want[] = {{"0.0.0.0", 0}, {"127.0.0.1", 0}, {"192.0.2.7", EADDRNOTAVAIL}};
	struct rig r;
	const msgpack_object *rec;
	struct bind_want w = {0, "udp", 0, NULL};

	rig_start(&r, "bind");
	w.pid = rig_child(child_bind_addrs, NULL);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		w.addr = want[i].addr;
		w.error = want[i].error;
		rec = rig_wait(&r, match_bind, &w);
		ck_assert_msg(rec, "no bind record of %s (error %d) for pid %d", w.addr, w.error, w.pid);
		ck_assert_uint_eq(rec_uint(rec, "port"), 0);
		if (want[i].error)
			ck_assert_uint_eq(rec_uint(rec, "bound_port"), 0);
		else
			ck_assert_uint_ne(rec_uint(rec, "bound_port"), 0);
	}
	rig_stop(&r);
}
END_TEST

#define BIND_RACE_SOCKETS 40

/* The sockaddr a second thread keeps flipping between 127.0.0.1 and 127.0.0.2 while binds read it. */
static struct sockaddr_in race_sa = {.sin_family = AF_INET};
static volatile int race_stop, race_started;

/* Each value held a few hundred ns, about as long as bind takes from entry to exit. */
static void *bind_flipper(void *arg)
{
	uint32_t addr[2] = {htonl(0x7f000001), htonl(0x7f000002)};

	(void)arg;
	race_started = 1;
	for (unsigned i = 0; !race_stop; i++) {
		__atomic_store_n(&race_sa.sin_addr.s_addr, addr[i & 1], __ATOMIC_RELAXED);
		for (volatile int spin = 0; spin < 200; spin++)
			;
	}
	return NULL;
}

/*
 * Binds to port 0 under the flipping thread; writes "bound_port address" of each as the socket has
 * them. The test finds a socket's record by its port, and two sockets bound to 127.0.0.1 and
 * 127.0.0.2 may get the same port (the kernel only keeps an address's ports apart): such ports are
 * left out, since either record could be either socket's.
 */
static void child_bind_race(const void *arg)
{
	FILE *f = fopen(arg, "w");
	pthread_t th;
	int fds[BIND_RACE_SOCKETS];
	struct sockaddr_in got[BIND_RACE_SOCKETS];

	if (!f || pthread_create(&th, NULL, bind_flipper, NULL))
		_exit(2);
	while (!race_started)
		;
	for (int i = 0; i < BIND_RACE_SOCKETS; i++) {
		socklen_t len = sizeof(got[i]);

		fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
		if (bind(fds[i], (struct sockaddr *)&race_sa, sizeof(race_sa)) ||
		    getsockname(fds[i], (struct sockaddr *)&got[i], &len))
			got[i].sin_port = 0;
	}
	race_stop = 1;
	pthread_join(th, NULL);
	for (int i = 0; i < BIND_RACE_SOCKETS; i++) {
		char text[INET_ADDRSTRLEN];
		int same = 0;

		for (int j = 0; j < BIND_RACE_SOCKETS; j++)
			same += got[j].sin_port == got[i].sin_port;
		if (!got[i].sin_port || same > 1)
			continue;
		inet_ntop(AF_INET, &got[i].sin_addr, text, sizeof(text));
		fprintf(f, "%u %s\n", ntohs(got[i].sin_port), text);
	}
	fclose(f);
	_exit(0);
}

struct bound_want {
	pid_t pid;
	unsigned port;
};

static bool match_bound_port(const msgpack_object *rec, const void *arg)
{
	const struct bound_want *w = arg;

	return rec_str_is(rec, "event_type", "bind") && rec_uint(rec, "pid") == (uint64_t)w->pid &&
	       rec_uint(rec, "bound_port") == w->port;
}

START_TEST(bind_addr_survives_a_rewriting_thread)
{
	struct rig r;
	struct bound_want w;
	char addr[INET_ADDRSTRLEN + 1];
	unsigned n = 0;
	FILE *f;

	rig_start(&r, "bind");
	rig_make_unique("bindrace");
	w.pid = rig_child(child_bind_race, rig_unique);
	f = fopen(rig_unique, "r");
	ck_assert_ptr_nonnull(f);
	while (fscanf(f, "%u %16s", &w.port, addr) == 2) {
		const msgpack_object *rec = rig_wait(&r, match_bound_port, &w);

		ck_assert_msg(rec, "no bind record with bound_port %u for pid %d", w.port, w.pid);
		/* what getsockname says, whatever the sockaddr held when the syscall returned */
		ck_assert_str_eq(rec_str(rec, "addr"), addr);
		n++;
	}
	fclose(f);
	unlink(rig_unique);
	/* a shared port is rare (a few in a hundred runs have one pair): most sockets are checked */
	ck_assert_uint_ge(n, BIND_RACE_SOCKETS - 6);
	rig_stop(&r);
}
END_TEST

/* ---- malloc ---- */

#define MALLOC_SIZE 123457u

/* Through a volatile global, so the compiler cannot drop an allocation it sees unused. */
static void *volatile sink;

/*
 * libc's own functions, looked up in libc: under AddressSanitizer plain
 * malloc is ASan's allocator and never reaches the uprobes on libc.
 */
static void child_malloc(const void *arg)
{
	void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
	void *(*libc_malloc)(size_t) = libc ? (void *(*)(size_t))dlsym(libc, "malloc") : NULL;
	void *(*libc_calloc)(size_t, size_t) = libc ? (void *(*)(size_t, size_t))dlsym(libc, "calloc") : NULL;
	void (*libc_free)(void *) = libc ? (void (*)(void *))dlsym(libc, "free") : NULL;
	void *p, *q;

	(void)arg;
	if (!libc_malloc || !libc_calloc || !libc_free)
		_exit(2);
	sink = libc_malloc(MALLOC_SIZE);
	p = sink;
	sink = libc_calloc(7, 1001);
	q = sink;
	libc_free(p);
	libc_free(q);
}

struct malloc_want {
	pid_t pid;
	int op;
	uint64_t size;   /* 0: any */
	uint64_t addr;   /* 0: any */
};

static bool match_malloc(const msgpack_object *rec, const void *arg)
{
	const struct malloc_want *w = arg;

	return rec_str_is(rec, "event_type", "malloc") && rec_uint(rec, "pid") == (uint64_t)w->pid &&
	       rec_int(rec, "operation") == w->op && (!w->size || rec_uint(rec, "size") == w->size) &&
	       (!w->addr || rec_uint(rec, "address") == w->addr);
}

START_TEST(malloc_and_free_in_child)
{
	struct rig r;
	const msgpack_object *rec;
	struct malloc_want w = {0, EV_MALLOC_MALLOC, MALLOC_SIZE, 0};
	int go[2], status;
	char c = 0;

	/*
	 * malloc is traced in every process: the child waits until the trace is
	 * filtered to its pid (Pid=), which keeps the test's reading small.
	 */
	ck_assert_int_eq(pipe(go), 0);
	w.pid = fork();
	ck_assert_int_ge(w.pid, 0);
	if (w.pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		child_malloc(NULL);
		_exit(0);
	}
	close(go[0]);
	rig_start_full(&r, "malloc", 1 << 22, w.pid);
	ck_assert_int_eq(write(go[1], &c, 1), 1);
	close(go[1]);
	ck_assert_int_eq(waitpid(w.pid, &status, 0), w.pid);

	rec = rig_wait(&r, match_malloc, &w);
	ck_assert_msg(rec, "no malloc record of %u bytes for pid %d", MALLOC_SIZE, w.pid);
	ck_assert_uint_ne(rec_uint(rec, "address"), 0);
	ck_assert_uint_eq(rec_uint(rec, "tid"), (uint64_t)w.pid);
	ck_assert_str_eq(rec_str(rec, "comm"), "test_kernel");
	w.addr = rec_uint(rec, "address");
	w.op = EV_MALLOC_FREE;
	w.size = 0;
	rec = rig_wait(&r, match_malloc, &w);
	ck_assert_msg(rec, "no free record for the malloc'd address");
	ck_assert_str_eq(rec_str(rec, "comm"), "test_kernel");
	w.op = EV_MALLOC_CALLOC;
	w.size = 7 * 1001;
	w.addr = 0;
	ck_assert_msg(rig_wait(&r, match_malloc, &w), "no calloc record");
	/* the Pid filter let nothing else through */
	for (size_t i = 0; i < r.cap.n; i++)
		ck_assert_uint_eq(rec_uint(&r.cap.recs[i].u.data, "pid"), (uint64_t)w.pid);
	rig_stop(&r);
}
END_TEST

/* ---- privileges ---- */

START_TEST(rings_work_after_dropping_privileges)
{
	struct rig r;
	char err[512];
	pid_t pid;
	const msgpack_object *rec;

	/* Check runs each test in its own process, so dropping here touches nothing else. */
	rig_start(&r, "vfs");
	ck_assert_msg(privs_drop("nobody", true, NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert(privs_none_left());
	ck_assert_uint_ne(getuid(), 0);
	ck_assert_uint_ne(geteuid(), 0);
	rig_make_unique("nopriv");
	pid = rig_child(child_open_missing, rig_unique);
	rec = rig_wait(&r, match_path, rig_unique);
	ck_assert_msg(rec, "no record after dropping privileges");
	ck_assert_uint_eq(rec_uint(rec, "pid"), (uint64_t)pid);
	/* the loss counter is still readable */
	ck_assert_uint_eq(trace_lost(r.t), 0);
	rig_stop(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kernel");
	TCase *tc = tcase_create("traces");

	rig_require_root("test_kernel");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, exec_records_args);
	tcase_add_test(tc, exec_failure_has_errno);
	tcase_add_test(tc, exec_unfaulted_literals);
	tcase_add_test(tc, exec_unfaulted_last_literal);
	tcase_add_test(tc, exec_unfaulted_script);
	tcase_add_test(tc, exec_unfaulted_literal_failure);
	tcase_add_test(tc, exec_records_have_what_the_new_image_got);
	tcase_add_test(tc, exec_args_are_exact);
	tcase_add_test(tc, exec_200_args);
	tcase_add_test(tc, exec_args_cut_at_the_bound);
	tcase_add_test(tc, vfs_open_records_path_and_fd);
	tcase_add_test(tc, vfs_failed_open_has_errno);
	tcase_add_test(tc, daemon_itself_is_not_traced);
	tcase_add_test(tc, daemon_in_pid_namespace_is_not_traced);
	tcase_add_test(tc, batched_reading_sleeps_and_wakes);
	tcase_add_test(tc, ring_behind_is_read_on_every_loop_turn);
	tcase_add_test(tc, heap_given_back_after_a_busy_spell);
	tcase_add_test(tc, ring_filled_from_two_cpus_wakes_the_reader);
	tcase_add_test(tc, cgroup_filter_keeps_only_that_cgroup);
	tcase_add_test(tc, cgroup_that_is_not_there_is_an_error);
	tcase_add_test(tc, metrics_records_have_a_tag_of_their_own);
	tcase_add_test(tc, comm_filter_keeps_only_that_name);
	tcase_add_test(tc, mount_ns_filter_keeps_only_that_namespace);
	tcase_add_test(tc, full_ring_losses_are_counted);
	tcase_add_test(tc, full_ring_takes_all_that_fit);
	tcase_add_test(tc, signal_kill_records_target);
	tcase_add_test(tc, signal_to_group_has_negative_target);
	tcase_add_test(tc, signal_to_missing_pid_has_errno);
	tcase_add_test(tc, bind_tcp_udp_and_failure);
	tcase_add_test(tc, bind_addr_is_the_sockets);
	tcase_add_test(tc, bind_addr_survives_a_rewriting_thread);
	tcase_add_test(tc, malloc_and_free_in_child);
	tcase_add_test(tc, rings_work_after_dropping_privileges);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
