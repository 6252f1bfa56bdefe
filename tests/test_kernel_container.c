/* test_kernel_container.c: container_id of real events, from cgroups the test makes under container-like names. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "container.h"
#include "rig.h"
#include "suite_run.h"

#define ID1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* The cgroups, under the cgroup v2 mount: a slice, two containers (one nested), and conmon beside them. */
static char slice[512], scope[640], nested[720], later[640], conmon[640];

static void make_dirs(void)
{
	char mnt[256];

	ck_assert_msg(rig_cgroup2_mount(mnt, sizeof(mnt)), "no cgroup2 mount");
	snprintf(slice, sizeof(slice), "%s/ebpf-forward-test-%d.slice", mnt, getpid());
	snprintf(scope, sizeof(scope), "%s/cri-containerd-" ID1 ".scope", slice);
	snprintf(nested, sizeof(nested), "%s/init.scope", scope);
	snprintf(later, sizeof(later), "%s/crio-" ID2 ".scope", slice);
	snprintf(conmon, sizeof(conmon), "%s/crio-conmon-" ID2 ".scope", slice);
	ck_assert_int_eq(mkdir(slice, 0755), 0);
	ck_assert_int_eq(mkdir(scope, 0755), 0);
	ck_assert_int_eq(mkdir(nested, 0755), 0);
	ck_assert_int_eq(mkdir(conmon, 0755), 0);
}

static void remove_dirs(void)
{
	/* the children have exited and been reaped: the cgroups are empty */
	rmdir(nested);
	rmdir(scope);
	rmdir(later);
	rmdir(conmon);
	ck_assert_int_eq(rmdir(slice), 0);
}

/* arg: cgroup dir (NULL: stay where the test is), path to open */
static void child_open_in(const void *arg)
{
	const char *const *a = arg;
	char procs[800];
	int fd;

	if (a[0]) {
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", a[0]);
		fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, "0", 1) != 1) /* 0: the writer itself */
			_exit(3);
		close(fd);
	}
	open(a[1], O_RDONLY);
}

static bool match_path(const msgpack_object *rec, const void *arg)
{
	return rec_str_is(rec, "event_type", "vfs") && rec_str_is(rec, "path", arg);
}

/* The container_id of the open of a fresh path by a child in cgroup dir. */
static const char *opened_in(struct rig *r, const char *dir, uint64_t *cgroup_id)
{
	static char got[128];
	const char *args[2] = {dir, NULL};
	const msgpack_object *rec;
	char path[160];
	pid_t pid;

	rig_make_unique("cid");
	snprintf(path, sizeof(path), "%s", rig_unique);
	args[1] = path;
	pid = rig_child(child_open_in, args);
	rec = rig_wait(r, match_path, path);
	ck_assert_msg(rec, "no record of the open in %s", dir ? dir : "the test's cgroup");
	ck_assert_uint_eq(rec_uint(rec, "pid"), (uint64_t)pid);
	*cgroup_id = rec_uint(rec, "cgroup_id");
	snprintf(got, sizeof(got), "%s", rec_str(rec, "container_id"));
	return got;
}

static uint64_t ino_of(const char *dir)
{
	struct stat st;

	ck_assert_int_eq(stat(dir, &st), 0);
	return st.st_ino;
}

START_TEST(records_name_their_container)
{
	struct container_stats st;
	uint64_t id, walks;
	char err[256];
	struct rig r;

	make_dirs();
	rig_start(&r, "vfs");
	ck_assert_msg(container_start(NULL, err, sizeof(err)) == 0, "%s", err);
	container_stats(&st);
	walks = st.walks;

	ck_assert_str_eq(opened_in(&r, scope, &id), ID1);
	ck_assert_uint_eq(id, ino_of(scope));
	/* a sub-cgroup of the container's is the container's */
	ck_assert_str_eq(opened_in(&r, nested, &id), ID1);
	ck_assert_uint_eq(id, ino_of(nested));
	/* CRI-O's conmon sits beside the container and is none */
	ck_assert_str_eq(opened_in(&r, conmon, &id), "");
	/* outside any container */
	ck_assert_str_eq(opened_in(&r, NULL, &id), "");
	container_stats(&st);
	/* all known from the walk at start */
	ck_assert_uint_eq(st.walks, walks);

	/* a container made after the daemon started: its first event makes a walk and is answered */
	ck_assert_int_eq(mkdir(later, 0755), 0);
	ck_assert_str_eq(opened_in(&r, later, &id), ID2);
	ck_assert_uint_eq(id, ino_of(later));
	container_stats(&st);
	ck_assert_uint_eq(st.walks, walks + 1);
	ck_assert_uint_eq(st.gone + st.over_budget, 0);

	rig_stop(&r);
	container_stop();
	remove_dirs();
}
END_TEST

/* The exec trace too (every record type has the key): the first exec in a new container. */
static void child_exec_in(const void *arg)
{
	const char *const *a = arg; /* cgroup dir, marker argument */
	char procs[800];
	int fd;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", a[0]);
	fd = open(procs, O_WRONLY);
	if (fd < 0 || write(fd, "0", 1) != 1)
		_exit(3);
	close(fd);
	execl("/bin/true", "/bin/true", a[1], (char *)NULL);
	_exit(4);
}

static bool match_exec(const msgpack_object *rec, const void *arg)
{
	return rec_str_is(rec, "event_type", "execve") && rec_str_is(rec, "stage", "exit") &&
	       rec_str_is(rec, "argv1", arg);
}

START_TEST(first_exec_in_a_new_container)
{
	const msgpack_object *rec;
	const char *args[2];
	char err[256], mark[160];
	struct rig r;

	make_dirs();
	rig_start(&r, "exec");
	ck_assert_msg(container_start(NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(mkdir(later, 0755), 0);
	rig_make_unique("exec");
	snprintf(mark, sizeof(mark), "%s", rig_unique);
	args[0] = later;
	args[1] = mark;
	rig_child(child_exec_in, args);
	rec = rig_wait(&r, match_exec, mark);
	ck_assert_msg(rec, "no exec record");
	ck_assert_uint_eq(rec_uint(rec, "cgroup_id"), ino_of(later));
	ck_assert(rec_str_is(rec, "container_id", ID2));
	rig_stop(&r);
	container_stop();
	remove_dirs();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kernel_container");
	TCase *tc = tcase_create("container_id");

	rig_require_root("test_kernel_container");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, records_name_their_container);
	tcase_add_test(tc, first_exec_in_a_new_container);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
