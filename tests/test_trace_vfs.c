/* test_trace_vfs.c: vfs's four open syscalls, and the marks on cut strings in vfs and exec records. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "events.h"
#include "rig.h"
#include "suite_run.h"

/* The longest path, and argument, a record carries whole; one byte more is cut. */
#define STR_KEPT (EV_PATH_MAX - 1)
#define ARG_KEPT (EV_ARG_MAX - 1)
/* Room for a path past the kernel's limit (a failed open still reads it). */
#define LONG_MAX_PATH (2 * PATH_MAX)

static bool rec_bool(const msgpack_object *rec, const char *key)
{
	const msgpack_object *v = rec_get(rec, key);

	ck_assert_msg(v && v->type == MSGPACK_OBJECT_BOOLEAN, "no bool %s", key);
	return v->via.boolean;
}

static bool match_path(const msgpack_object *rec, const void *arg)
{
	return rec_str_is(rec, "event_type", "vfs") && rec_str_is(rec, "path", arg);
}

/*
 * A path of exactly len bytes: base, then components of 60 'd' and a last
 * one of 'f', none longer than NAME_MAX. With dirs, the directories up to
 * the last component are made too.
 */
static void long_path(char *out, const char *base, size_t len, bool dirs)
{
	size_t n = (size_t)sprintf(out, "%s", base);

	ck_assert_uint_gt(len, n + 1);
	ck_assert_uint_lt(len, dirs ? PATH_MAX : LONG_MAX_PATH);
	if (dirs)
		ck_assert_int_eq(mkdir(out, 0755), 0);
	while (len - n > 100) {
		out[n++] = '/';
		memset(out + n, 'd', 60);
		n += 60;
		out[n] = '\0';
		if (dirs)
			ck_assert_int_eq(mkdir(out, 0755), 0);
	}
	out[n++] = '/';
	memset(out + n, 'f', len - n);
	out[len] = '\0';
}

/* Removes the file and the directories long_path made under base (path is modified). */
static void long_path_remove(char *path, size_t base_len)
{
	unlink(path);
	while (strlen(path) > base_len) {
		*strrchr(path, '/') = '\0';
		rmdir(path);
	}
}

/* What the record should keep of s: its first STR_KEPT bytes, in buf. */
static const char *kept(char buf[EV_PATH_MAX], const char *s)
{
	size_t n = strnlen(s, STR_KEPT);

	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

/* ---- the four syscalls ---- */

#define NCALLS 5

struct calls {
	char paths[NCALLS][160];
	int pipe_w;
};

struct call_result {
	int fd[NCALLS];
	int err[NCALLS];
};

/* The syscalls themselves, not libc's wrappers (open() is openat in glibc). */
static void child_calls(const void *arg)
{
	const struct calls *c = arg;
	struct open_how create = {.flags = O_CREAT | O_RDWR | O_CLOEXEC, .mode = 0604,
				  .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
	struct open_how nolinks = {.flags = O_RDONLY, .resolve = RESOLVE_NO_SYMLINKS};
	struct call_result r;
	int i = 0;

#define CALL(EXPR) (r.fd[i] = (int)(EXPR), r.err[i] = r.fd[i] < 0 ? errno : 0, i++)
	CALL(syscall(SYS_open, c->paths[0], O_CREAT | O_WRONLY | O_CLOEXEC, 0640));
	CALL(syscall(SYS_creat, c->paths[1], 0600));
	CALL(syscall(SYS_openat2, AT_FDCWD, c->paths[2], &create, sizeof(create)));
	if (symlink(c->paths[2], c->paths[3]))
		_exit(3);
	/* a symlink is refused under RESOLVE_NO_SYMLINKS: ELOOP */
	CALL(syscall(SYS_openat2, AT_FDCWD, c->paths[3], &nolinks, sizeof(nolinks)));
	CALL(syscall(SYS_openat, AT_FDCWD, c->paths[4], O_RDONLY, 0));
#undef CALL
	if (write(c->pipe_w, &r, sizeof(r)) != sizeof(r))
		_exit(3);
}

static const struct {
	const char *name;
	int64_t op;
	uint64_t flags, mode, resolve;
	int err;
} want_calls[NCALLS] = {
	{"open", EV_VFS_OPEN, O_CREAT | O_WRONLY | O_CLOEXEC, 0640, 0, 0},
	{"creat", EV_VFS_CREAT, O_CREAT | O_WRONLY | O_TRUNC, 0600, 0, 0},
	{"openat2", EV_VFS_OPENAT2, O_CREAT | O_RDWR | O_CLOEXEC, 0604, RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, 0},
	{"openat2", EV_VFS_OPENAT2, O_RDONLY, 0, RESOLVE_NO_SYMLINKS, ELOOP},
	{"openat", EV_VFS_OPENAT, O_RDONLY, 0, 0, ENOENT},
};

static void name_calls(struct calls *c, const char *what)
{
	for (int i = 0; i < NCALLS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s%d", what, i);
		rig_make_unique(name);
		snprintf(c->paths[i], sizeof(c->paths[i]), "%s", rig_unique);
	}
}

/* The calls in a child; their results in res. */
static void make_calls(struct calls *c, struct call_result *res, const char *what)
{
	int p[2];

	name_calls(c, what);
	ck_assert_int_eq(pipe(p), 0);
	c->pipe_w = p[1];
	rig_child(child_calls, c);
	ck_assert_int_eq(read(p[0], res, sizeof(*res)), sizeof(*res));
	close(p[0]);
	close(p[1]);
	for (int i = 0; i < NCALLS; i++)
		unlink(c->paths[i]);
}

START_TEST(vfs_open_creat_openat2_openat)
{
	struct call_result res;
	struct calls c;
	struct rig r;

	rig_start(&r, "vfs");
	make_calls(&c, &res, "call");
	for (int i = 0; i < NCALLS; i++) {
		const msgpack_object *rec = rig_wait(&r, match_path, c.paths[i]);

		ck_assert_msg(rec, "no vfs record for %s (%s)", c.paths[i], want_calls[i].name);
		ck_assert_int_eq(res.err[i], want_calls[i].err);
		ck_assert_str_eq(rec_str(rec, "operation_name"), want_calls[i].name);
		ck_assert_int_eq(rec_int(rec, "operation"), want_calls[i].op);
		ck_assert_uint_eq(rec_uint(rec, "flags"), want_calls[i].flags);
		ck_assert_uint_eq(rec_uint(rec, "mode"), want_calls[i].mode);
		ck_assert_uint_eq(rec_uint(rec, "resolve"), want_calls[i].resolve);
		ck_assert_int_eq(rec_int(rec, "fd"), res.fd[i]);
		ck_assert_int_eq(rec_int(rec, "error_raw"), res.err[i]);
		ck_assert(!rec_bool(rec, "path_truncated"));
		ck_assert_str_eq(rec_str(rec, "comm"), "test_trace_vfs");
	}
	/* the successes had fds */
	ck_assert_int_ge(res.fd[0], 0);
	ck_assert_int_ge(res.fd[1], 0);
	ck_assert_int_ge(res.fd[2], 0);
	rig_stop(&r);
}
END_TEST

/* With Pid= set to one child, another child's opens of all four kinds give no record. */
START_TEST(vfs_filtered_process_gives_none)
{
	struct call_result res;
	struct calls theirs, mine;
	const msgpack_object *rec;
	struct rig r;
	int go[2];
	char c = 0;
	pid_t pid;

	name_calls(&mine, "mine");
	ck_assert_int_eq(pipe(go), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(go[1]);
		mine.pipe_w = open("/dev/null", O_WRONLY);
		/* the process of Pid= makes the calls itself, when told */
		if (read(go[0], &c, 1) == 1)
			child_calls(&mine);
		_exit(0);
	}
	close(go[0]);
	rig_start_full(&r, "vfs", 1 << 22, pid);
	make_calls(&theirs, &res, "theirs");
	ck_assert_int_eq(write(go[1], &c, 1), 1);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	/* its last call is there, so the other child's, made before, would be too */
	rec = rig_wait(&r, match_path, mine.paths[NCALLS - 1]);
	ck_assert_msg(rec, "no record from the Pid= process");
	ck_assert_str_eq(rec_str(rec, "comm"), "test_trace_vfs");
	for (size_t i = 0; i < r.cap.n; i++)
		ck_assert_uint_eq(rec_uint(&r.cap.recs[i].u.data, "pid"), (uint64_t)pid);
	for (int i = 0; i < NCALLS; i++)
		ck_assert_msg(rig_wait(&r, match_path, mine.paths[i]), "no record for %s", mine.paths[i]);
	for (int i = 0; i < NCALLS; i++)
		unlink(mine.paths[i]);
	close(go[1]);
	rig_stop(&r);
}
END_TEST

/* ---- cut paths ---- */

static void child_open_path(const void *arg)
{
	syscall(SYS_openat, AT_FDCWD, arg, O_RDONLY, 0);
}

static void child_creat_path(const void *arg)
{
	int fd = (int)syscall(SYS_creat, arg, 0600);

	if (fd >= 0)
		close(fd);
}

/* Failed opens of paths one byte either side of the limit (PATH_MAX), and past it. */
START_TEST(vfs_long_paths_are_marked)
{
	static const struct {
		size_t len;
		bool cut;
	} cases[] = {{STR_KEPT, false}, {STR_KEPT + 1, true}, {STR_KEPT + 600, true}};
	char path[LONG_MAX_PATH], want[EV_PATH_MAX];
	struct rig r;

	rig_start(&r, "vfs");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const msgpack_object *rec;
		pid_t pid;

		rig_make_unique("cut");
		long_path(path, rig_unique, cases[i].len, false);
		pid = rig_child(child_open_path, path);
		rec = rig_wait(&r, match_path, kept(want, path));
		ck_assert_msg(rec, "no vfs record for a path of %zu bytes", cases[i].len);
		ck_assert_uint_eq(rec_uint(rec, "pid"), (uint64_t)pid);
		ck_assert_uint_eq(strlen(rec_str(rec, "path")), cases[i].cut ? STR_KEPT : cases[i].len);
		ck_assert_int_eq(rec_bool(rec, "path_truncated"), cases[i].cut);
		/* the kernel takes up to PATH_MAX - 1 bytes: longer is ENAMETOOLONG */
		ck_assert_int_eq(rec_int(rec, "error_raw"), cases[i].len < PATH_MAX ? ENOENT : ENAMETOOLONG);
	}
	rig_stop(&r);
}
END_TEST

/* A file of a 4,000-byte path in a deep directory chain: the open succeeds, the path arrives whole. */
START_TEST(vfs_long_path_of_a_real_file)
{
	char path[PATH_MAX], base[160];
	const msgpack_object *rec;
	struct rig r;

	rig_start(&r, "vfs");
	rig_make_unique("deep");
	snprintf(base, sizeof(base), "%s", rig_unique);
	long_path(path, base, 4000, true);
	rig_child(child_creat_path, path);
	ck_assert_int_eq(access(path, F_OK), 0);
	rec = rig_wait(&r, match_path, path);
	ck_assert_msg(rec, "no vfs record for the deep file");
	ck_assert_uint_eq(strlen(rec_str(rec, "path")), 4000);
	ck_assert_str_eq(rec_str(rec, "operation_name"), "creat");
	ck_assert_int_ge(rec_int(rec, "fd"), 0);
	ck_assert_int_eq(rec_int(rec, "error_raw"), 0);
	ck_assert(!rec_bool(rec, "path_truncated"));
	long_path_remove(path, strlen(base));
	ck_assert_int_ne(access(base, F_OK), 0);
	rig_stop(&r);
}
END_TEST

/*
 * A file name that is not UTF-8 (Linux takes any bytes but / and NUL), one
 * with a backslash, and one of UTF-8: the record's path is valid UTF-8,
 * each bad byte \xHH and the backslash \\, and un-escaped it is the name.
 */
START_TEST(vfs_names_that_are_not_utf8)
{
	static const struct {
		const char *name, *want;
	} cases[] = {
		{"report-\xff\xfe.txt", "report-\\xff\\xfe.txt"},
		{"back\\slash-\x80", "back\\\\slash-\\x80"},
		{"\xe2\x82\xac-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x98\x80", "\xe2\x82\xac-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x98\x80"},
	};
	char path[PATH_MAX], want[PATH_MAX];
	struct rig r;

	rig_start(&r, "vfs");
	rig_make_unique("names");
	ck_assert_int_eq(mkdir(rig_unique, 0755), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const msgpack_object *rec;

		snprintf(path, sizeof(path), "%s/%s", rig_unique, cases[i].name);
		snprintf(want, sizeof(want), "%s/%s", rig_unique, cases[i].want);
		rig_child(child_creat_path, path);
		ck_assert_int_eq(access(path, F_OK), 0);
		rec = rig_wait(&r, match_path, want);
		ck_assert_msg(rec, "no vfs record with path %s", want);
		ck_assert_int_ge(rec_int(rec, "fd"), 0);
		ck_assert(!rec_bool(rec, "path_truncated"));
		unlink(path);
	}
	rmdir(rig_unique);
	rig_stop(&r);
}
END_TEST

/* ---- exec's marks ---- */

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

/* arg: the argument's length; the argument is built here, on memory the child has written. */
static void child_exec_arg(const void *arg)
{
	size_t len = *(const size_t *)arg;
	char *a = malloc(len + 1);

	memset(a, 'x', len);
	a[len] = '\0';
	execl("/bin/true", "/bin/true", a, (char *)NULL);
	_exit(127);
}

/* Both records of an exec (the exit one repeats the entry's strings). */
static void assert_exec_marks(struct rig *r, pid_t pid, const char *filename, const char *argv1,
			      bool path_cut, bool args_cut)
{
	struct exec_want w = {pid, "enter"};

	for (int i = 0; i < 2; i++, w.stage = "exit") {
		const msgpack_object *rec = rig_wait(r, match_exec, &w);

		ck_assert_msg(rec, "no execve %s record for pid %d", w.stage, pid);
		ck_assert_str_eq(rec_str(rec, "filename"), filename);
		ck_assert_str_eq(rec_str(rec, "argv1"), argv1);
		ck_assert_int_eq(rec_bool(rec, "path_truncated"), path_cut);
		ck_assert_int_eq(rec_bool(rec, "args_truncated"), args_cut);
		ck_assert_int_eq(rec_int(rec, "error_raw"), 0);
	}
}

/* ---- resolved_path ---- */

/* The vfs trace with Vfs_Resolved_Path on. */
static void rig_start_resolved(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	config_defaults(&r->cfg);
	r->cfg.trace.ringbuf_size = 1 << 22;
	r->cfg.trace.vfs_resolved_path = true;
	rig_start_cfg(r, "vfs");
}

/* What the kernel's own d_path says of fd: the oracle. */
static void fd_path(int fd, char *out, size_t len)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, out, len - 1);
	out[n > 0 ? n : 0] = '\0';
}

struct resolved_case {
	char dir[160];       /* made, holds the files */
	char opened[200];    /* the path as the child passes it */
	char oracle[200];    /* the file where the child writes /proc/self/fd's link of what it opened */
	int how;             /* 0: openat(dirfd, relative); 1: a symlink; 2: a bind mount and ".." */
};

static void child_resolved(const void *arg)
{
	const struct resolved_case *c = arg;
	char got[PATH_MAX], sub[256];
	int fd = -1, dfd;
	FILE *f;

	if (c->how == 0) {
		dfd = open(c->dir, O_RDONLY | O_DIRECTORY);
		fd = openat(dfd, c->opened, O_CREAT | O_WRONLY, 0600);
	} else if (c->how == 1) {
		fd = open(c->opened, O_RDONLY);
	} else {
		/* a mount namespace of its own: dir/bound shows dir/real, opened as dir/bound/sub/../file */
		snprintf(sub, sizeof(sub), "%s/bound", c->dir);
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			_exit(4);
		snprintf(got, sizeof(got), "%s/real", c->dir);
		if (mount(got, sub, NULL, MS_BIND, NULL))
			_exit(5);
		fd = open(c->opened, O_RDONLY);
	}
	if (fd < 0)
		_exit(3);
	fd_path(fd, got, sizeof(got));
	f = fopen(c->oracle, "w");
	if (!f)
		_exit(3);
	fputs(got, f);
	fclose(f);
	_exit(0);
}

/* Runs the case and returns the record of the open; the oracle's text in want. */
static const msgpack_object *run_resolved(struct rig *r, const struct resolved_case *c, char *want, size_t len)
{
	pid_t pid = rig_child(child_resolved, c);
	const msgpack_object *rec = rig_wait(r, match_path, c->opened);
	FILE *f = fopen(c->oracle, "r");

	ck_assert_msg(f, "child %d wrote no oracle", pid);
	ck_assert_ptr_nonnull(fgets(want, (int)len, f));
	fclose(f);
	unlink(c->oracle);
	ck_assert_msg(rec, "no vfs record of %s", c->opened);
	ck_assert_int_ge(rec_int(rec, "fd"), 0);
	ck_assert(!rec_bool(rec, "resolved_truncated"));
	return rec;
}

START_TEST(vfs_resolved_path_of_dirfd_symlink_and_bind_mount)
{
	struct resolved_case c = {.how = 0};
	char want[PATH_MAX], real[PATH_MAX], path[PATH_MAX + 256];
	const msgpack_object *rec;
	struct rig r;

	rig_start_resolved(&r);
	rig_make_unique("resolved");
	snprintf(c.dir, sizeof(c.dir), "%s", rig_unique);
	ck_assert_int_eq(mkdir(c.dir, 0755), 0);
	ck_assert_ptr_nonnull(realpath(c.dir, real));
	snprintf(c.oracle, sizeof(c.oracle), "%s.oracle", rig_unique);

	/* openat(dirfd, "relative"): the record's path is relative, resolved_path is not */
	snprintf(c.opened, sizeof(c.opened), "rel-%ld", (long)getpid());
	rec = run_resolved(&r, &c, want, sizeof(want));
	snprintf(path, sizeof(path), "%s/%s", real, c.opened);
	ck_assert_str_eq(want, path);
	ck_assert_str_eq(rec_str(rec, "resolved_path"), path);

	/* a symlink: the target's path */
	snprintf(c.opened, sizeof(c.opened), "%s/link", c.dir);
	ck_assert_int_eq(symlink(path, c.opened), 0);
	c.how = 1;
	rec = run_resolved(&r, &c, want, sizeof(want));
	ck_assert_str_eq(want, path);
	ck_assert_str_eq(rec_str(rec, "resolved_path"), path);
	unlink(c.opened);
	unlink(path);

	/* through a bind mount and "..": the path across the mount, without the ".." */
	snprintf(path, sizeof(path), "%s/real", c.dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/real/sub", c.dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/real/file", c.dir);
	close(open(path, O_CREAT | O_WRONLY, 0600));
	snprintf(path, sizeof(path), "%s/bound", c.dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(c.opened, sizeof(c.opened), "%s/bound/sub/../file", c.dir);
	c.how = 2;
	rec = run_resolved(&r, &c, want, sizeof(want));
	snprintf(path, sizeof(path), "%s/bound/file", real);
	ck_assert_str_eq(want, path);
	ck_assert_str_eq(rec_str(rec, "resolved_path"), path);

	snprintf(path, sizeof(path), "%s/real/file", c.dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/real/sub", c.dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/real", c.dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/bound", c.dir);
	rmdir(path);
	rmdir(c.dir);
	rig_stop(&r);
}
END_TEST

static void child_open_ro(const void *arg)
{
	int fd = open(arg, O_RDONLY);

	if (fd >= 0)
		close(fd);
}

/* Names of the chain past PATH_MAX, and how many: 17 of 250 bytes are 4,267 bytes. */
#define LONG_NAME 250
#define LONG_DEPTH 17

static void long_name(char *out)
{
	memset(out, 'n', LONG_NAME);
	out[LONG_NAME] = '\0';
}

/* In rig_unique: LONG_DEPTH directories of LONG_NAME bytes and a file f at the bottom, opened. */
static void child_open_long_chain(const void *arg)
{
	char name[LONG_NAME + 1];
	int dfd = open(rig_unique, O_DIRECTORY | O_RDONLY), fd;

	(void)arg;
	long_name(name);
	for (int i = 0; i < LONG_DEPTH && dfd >= 0; i++) {
		int next;

		mkdirat(dfd, name, 0755);
		next = openat(dfd, name, O_DIRECTORY | O_RDONLY);
		close(dfd);
		dfd = next;
	}
	fd = openat(dfd, "f", O_CREAT | O_WRONLY, 0600);
	if (fd >= 0)
		close(fd);
	_exit(fd >= 0 ? 0 : 1);
}

/* Removes what child_open_long_chain made, from the bottom. */
static void long_chain_remove(void)
{
	char name[LONG_NAME + 1];
	int fds[LONG_DEPTH + 1];

	long_name(name);
	fds[0] = open(rig_unique, O_DIRECTORY | O_RDONLY);
	for (int i = 1; i <= LONG_DEPTH; i++)
		fds[i] = fds[i - 1] >= 0 ? openat(fds[i - 1], name, O_DIRECTORY | O_RDONLY) : -1;
	if (fds[LONG_DEPTH] >= 0)
		unlinkat(fds[LONG_DEPTH], "f", 0);
	for (int i = LONG_DEPTH; i >= 1; i--) {
		if (fds[i] >= 0)
			close(fds[i]);
		if (fds[i - 1] >= 0)
			unlinkat(fds[i - 1], name, AT_REMOVEDIR);
	}
	if (fds[0] >= 0)
		close(fds[0]);
}

/* Deeper than the walk goes (40 names of 2 bytes), and longer than a path holds: cut, the end kept. */
START_TEST(vfs_resolved_path_deep_or_long_is_cut)
{
	char path[PATH_MAX], real[PATH_MAX];
	const msgpack_object *rec;
	size_t base_len;
	struct rig r;
	const char *got;

	rig_start_resolved(&r);
	rig_make_unique("deep");
	ck_assert_int_eq(mkdir(rig_unique, 0755), 0);
	base_len = strlen(rig_unique);
	snprintf(path, sizeof(path), "%s", rig_unique);
	for (int i = 0; i < 40; i++) {
		strcat(path, "/d");
		ck_assert_int_eq(mkdir(path, 0755), 0);
	}
	strcat(path, "/f");
	close(open(path, O_CREAT | O_WRONLY, 0600));
	ck_assert_ptr_nonnull(realpath(path, real));
	rig_child(child_open_ro, path);
	rec = rig_wait(&r, match_path, path);
	ck_assert_msg(rec, "no vfs record of the deep path");
	ck_assert(rec_bool(rec, "resolved_truncated"));
	got = rec_str(rec, "resolved_path");
	/* the last names: a tail of the real path, "/d/.../d/f" */
	ck_assert_uint_gt(strlen(got), 0);
	ck_assert_str_eq(real + strlen(real) - strlen(got), got);
	ck_assert_str_eq(got + strlen(got) - 2, "/f");
	long_path_remove(path, base_len);
	rmdir(rig_unique);

	/*
	 * Over PATH_MAX in names of 250, under 32 steps: made and opened one
	 * directory fd at a time, the only way to such a path; the file's
	 * resolved path is cut to its last names, the path itself is "f".
	 */
	rig_make_unique("longres");
	ck_assert_int_eq(mkdir(rig_unique, 0755), 0);
	ck_assert_ptr_nonnull(realpath(rig_unique, real));
	rig_child(child_open_long_chain, NULL);
	rec = rig_wait(&r, match_path, "f");
	ck_assert_msg(rec, "no vfs record of the long path");
	ck_assert(rec_bool(rec, "resolved_truncated"));
	got = rec_str(rec, "resolved_path");
	ck_assert_uint_le(strlen(got), STR_KEPT);
	ck_assert_uint_gt(strlen(got), STR_KEPT - LONG_NAME - 1);
	/* a tail of "<real>/n.../n.../f": names of 250 'n', then "/f" */
	ck_assert_str_eq(got + strlen(got) - 2, "/f");
	for (size_t i = 0; i + 2 < strlen(got); i++)
		ck_assert_msg(got[i] == 'n' || got[i] == '/', "byte %zu of resolved_path is %c", i, got[i]);
	long_chain_remove();
	rmdir(rig_unique);
	rig_stop(&r);
}
END_TEST

/* Off by default: the key is there and empty. */
START_TEST(vfs_resolved_path_is_off_by_default)
{
	const msgpack_object *rec;
	struct rig r;

	rig_start(&r, "vfs");
	rig_make_unique("resoff");
	rig_child(child_open_ro, rig_unique);
	rec = rig_wait(&r, match_path, rig_unique);
	ck_assert_msg(rec, "no vfs record");
	ck_assert_str_eq(rec_str(rec, "resolved_path"), "");
	ck_assert(!rec_bool(rec, "resolved_truncated"));
	rig_stop(&r);
}
END_TEST

START_TEST(exec_long_argument_is_marked)
{
	static const size_t lens[] = {ARG_KEPT, EV_ARG_MAX + 44};
	char want[EV_ARG_MAX + 64];
	struct rig r;

	rig_start(&r, "exec");
	for (int i = 0; i < 2; i++) {
		pid_t pid = rig_child(child_exec_arg, &lens[i]);

		memset(want, 'x', ARG_KEPT);
		want[ARG_KEPT] = '\0';
		/* argv_last is argv1 here: the same string, cut the same way */
		assert_exec_marks(&r, pid, "/bin/true", want, false, i == 1);
	}
	rig_stop(&r);
}
END_TEST

static void child_exec_path(const void *arg)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", (const char *)arg);
	execl(path, "long-true", "short", (char *)NULL);
	_exit(127);
}

/* A symlink to /bin/true at the end of a deep directory chain, 4,000 bytes: whole, in both records. */
START_TEST(exec_long_filename_is_whole)
{
	char path[PATH_MAX], base[160];
	struct rig r;
	pid_t pid;

	rig_start(&r, "exec");
	rig_make_unique("deepexec");
	snprintf(base, sizeof(base), "%s", rig_unique);
	long_path(path, base, 4000, true);
	ck_assert_int_eq(symlink("/bin/true", path), 0);
	pid = rig_child(child_exec_path, path);
	assert_exec_marks(&r, pid, path, "short", false, false);
	long_path_remove(path, strlen(base));
	rig_stop(&r);
}
END_TEST

/* A path past PATH_MAX: the exec fails (ENAMETOOLONG), both records keep 4,095 bytes, marked. */
static void child_exec_too_long(const void *arg)
{
	char *path = malloc(PATH_MAX + 100);
	char *argv[] = {"too-long", NULL};

	(void)arg;
	memset(path, 'p', PATH_MAX + 99);
	path[0] = '/';
	path[PATH_MAX + 99] = '\0';
	execv(path, argv);
	_exit(errno == ENAMETOOLONG ? 0 : 1);
}

START_TEST(exec_too_long_filename_is_marked)
{
	char want[EV_PATH_MAX];
	struct exec_want w = {0, "enter"};
	struct rig r;

	memset(want, 'p', STR_KEPT);
	want[0] = '/';
	want[STR_KEPT] = '\0';
	rig_start(&r, "exec");
	w.pid = rig_child(child_exec_too_long, NULL);
	for (int i = 0; i < 2; i++, w.stage = "exit") {
		const msgpack_object *rec = rig_wait(&r, match_exec, &w);

		ck_assert_msg(rec, "no execve %s record for pid %d", w.stage, w.pid);
		ck_assert_str_eq(rec_str(rec, "filename"), want);
		ck_assert(rec_bool(rec, "path_truncated"));
		ck_assert(!rec_bool(rec, "args_truncated"));
		ck_assert_int_eq(rec_int(rec, "error_raw"), i ? ENAMETOOLONG : 0);
	}
	rig_stop(&r);
}
END_TEST

/*
 * The same marks on strings read after the entry (see exec.bpf.c): literals
 * whose page-table entries the child drops before execl cannot be read at
 * entry; the filename then comes from the kernel's copy at
 * sched_process_exec, the argument from the new image. A literal path is a
 * fixed one: /tmp/ebpf-forward-test-longlit/, five components of 50 'L', and
 * a symlink "true".
 */
#define LIT50 "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL"
#define LIT_DIR "/tmp/ebpf-forward-test-longlit"
#define LIT_PATH LIT_DIR "/" LIT50 "/" LIT50 "/" LIT50 "/" LIT50 "/" LIT50 "/true"
#define LIT_ARG LIT50 LIT50 LIT50 LIT50 LIT50 LIT50 "-arg"

static void unmap_ptes(const char *s)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);

	/* a literal may straddle two pages */
	madvise((void *)((uintptr_t)s & ~(page - 1)), page, MADV_DONTNEED);
	madvise((void *)((uintptr_t)(s + strlen(s)) & ~(page - 1)), page, MADV_DONTNEED);
}

static void child_exec_long_literals(const void *arg)
{
	(void)arg;
	unmap_ptes(LIT_PATH);
	unmap_ptes("lit-zero");
	unmap_ptes(LIT_ARG);
	execl(LIT_PATH, "lit-zero", LIT_ARG, (char *)NULL);
	_exit(127);
}

/* Longer than 255 bytes (the old limit), read only after the entry: whole. */
START_TEST(exec_unfaulted_long_literals)
{
	char path[PATH_MAX];
	struct rig r;
	pid_t pid;

	ck_assert_uint_gt(strlen(LIT_PATH), 256);
	ck_assert_uint_gt(strlen(LIT_ARG), 256);
	/* the directories, unless an interrupted run left them */
	for (const char *sl = strchr(LIT_PATH + strlen(LIT_DIR), '/'); sl; sl = strchr(sl + 1, '/')) {
		snprintf(path, sizeof(path), "%.*s", (int)(sl - LIT_PATH), LIT_PATH);
		ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s", path);
	}
	unlink(LIT_PATH);
	ck_assert_int_eq(symlink("/bin/true", LIT_PATH), 0);
	rig_start(&r, "exec");
	pid = rig_child(child_exec_long_literals, NULL);
	assert_exec_marks(&r, pid, LIT_PATH, LIT_ARG, false, false);
	snprintf(path, sizeof(path), "%s", LIT_PATH);
	long_path_remove(path, strlen(LIT_DIR));
	ck_assert_int_ne(access(LIT_DIR, F_OK), 0);
	rig_stop(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("trace_vfs");
	TCase *tc = tcase_create("vfs");

	rig_require_root("test_trace_vfs");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, vfs_open_creat_openat2_openat);
	tcase_add_test(tc, vfs_filtered_process_gives_none);
	tcase_add_test(tc, vfs_long_paths_are_marked);
	tcase_add_test(tc, vfs_long_path_of_a_real_file);
	tcase_add_test(tc, vfs_names_that_are_not_utf8);
	tcase_add_test(tc, vfs_resolved_path_of_dirfd_symlink_and_bind_mount);
	tcase_add_test(tc, vfs_resolved_path_deep_or_long_is_cut);
	tcase_add_test(tc, vfs_resolved_path_is_off_by_default);
	tcase_add_test(tc, exec_long_argument_is_marked);
	tcase_add_test(tc, exec_long_filename_is_whole);
	tcase_add_test(tc, exec_too_long_filename_is_marked);
	tcase_add_test(tc, exec_unfaulted_long_literals);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
