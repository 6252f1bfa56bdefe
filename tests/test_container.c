/* test_container.c: cgroup names to container ids, and the cache and walk behind container_id, on a real tree. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>

#include "container.h"
#include "events.h"
#include "schema.h"
#include "suite_run.h"

#define ID1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
/* 63 and 65 digits, and one not lowercase hex */
#define ID63 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"
#define ID65 ID1 "0"
#define IDUP "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"
#define POD "pod5e3f9b0a-0c4d-4a1e-9d3a-2f6a1b7c8d9e"

static bool name_is(const char *name, const char *want)
{
	char out[CONTAINER_ID_LEN];

	if (!container_name_id(name, strlen(name), out))
		return want == NULL;
	return want && memcmp(out, want, CONTAINER_ID_LEN) == 0;
}

START_TEST(names_of_every_runtime)
{
	static const struct {
		const char *name;
		const char *id; /* NULL: not a container */
	} cases[] = {
		{"cri-containerd-" ID1 ".scope", ID1}, /* containerd, systemd driver */
		{ID1, ID1},                            /* containerd, cgroupfs: .../pod<uid>/ID; Docker: /docker/ID */
		{"crio-" ID1 ".scope", ID1},           /* CRI-O, systemd */
		{"crio-" ID1, ID1},                    /* CRI-O, cgroupfs */
		{"docker-" ID1 ".scope", ID1},         /* Docker, systemd */
		{"libpod-" ID1 ".scope", ID1},         /* podman, systemd */
		{"libpod-" ID1, ID1},                  /* podman, cgroupfs */
		/* next to a container, not one */
		{"crio-conmon-" ID1 ".scope", NULL},
		{"crio-conmon-" ID1, NULL},
		{"libpod-conmon-" ID1 ".scope", NULL},
		{"kubepods-burstable-" POD ".slice", NULL},
		{POD, NULL},
		{"kubepods.slice", NULL},
		{"system.slice", NULL},
		{"containerd.service", NULL},
		{"init.scope", NULL},
		{"", NULL},
		/* malformed: lengths, digits, ends */
		{"cri-containerd-" ID63 ".scope", NULL},
		{"cri-containerd-" ID65 ".scope", NULL},
		{ID63, NULL},
		{ID65, NULL},
		{IDUP, NULL},
		{"docker-" IDUP ".scope", NULL},
		{"cri-containerd-" ID1 ".slice", NULL},
		{"cri-containerd-" ID1, NULL},
		{"docker-" ID1 ".scope.old", NULL},
		{"xdocker-" ID1 ".scope", NULL},
		{"cri-containerd-" ID1 "scope", NULL},
		{"crio-", NULL},
		{"cri-containerd-.scope", NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(name_is(cases[i].name, cases[i].id), "%s: expected %s", cases[i].name,
			      cases[i].id ? cases[i].id : "no container");
}
END_TEST

static bool path_is(const char *path, const char *want)
{
	char out[CONTAINER_ID_LEN];

	if (!container_name_of_path(path, out))
		return want == NULL;
	return want && memcmp(out, want, CONTAINER_ID_LEN) == 0;
}

START_TEST(paths_nearest_container_wins)
{
	static const struct {
		const char *path;
		const char *id;
	} cases[] = {
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" POD ".slice/cri-containerd-" ID1
		 ".scope", ID1},
		/* a sub-cgroup of the container's (systemd in a container, crun's "container") */
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-" POD ".slice/cri-containerd-" ID1
		 ".scope/init.scope", ID1},
		{"/kubepods.slice/kubepods-" POD ".slice/crio-" ID1 ".scope/container", ID1},
		{"/kubepods/burstable/" POD "/" ID1, ID1},
		{"/kubepods/burstable/" POD "/" ID1 "/", ID1},
		{"/docker/" ID1, ID1},
		{"/system.slice/docker-" ID1 ".scope", ID1},
		{"/machine.slice/libpod-" ID1 ".scope/container", ID1},
		/* a container inside a container (Docker in Docker): the inner one */
		{"/docker/" ID1 "/docker/" ID2, ID2},
		{"/system.slice/docker-" ID1 ".scope/docker/" ID2 "/sub", ID2},
		/* conmon beside the container, the pod, the runtime: no container */
		{"/kubepods.slice/kubepods-" POD ".slice/crio-conmon-" ID1 ".scope", NULL},
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" POD ".slice", NULL},
		{"/system.slice/containerd.service", NULL},
		{"/user.slice/user-1000.slice/session-3.scope", NULL},
		{"/", NULL},
		{"", NULL},
		{"//", NULL},
		{"/docker/" ID63, NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(path_is(cases[i].path, cases[i].id), "%s: expected %s", cases[i].path,
			      cases[i].id ? cases[i].id : "no container");
}
END_TEST

/* A tree of plain directories shaped like a node's cgroups: their inode numbers stand for cgroup ids. */
static char tree[256];

static uint64_t mk(const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", tree, rel);
	ck_assert_msg(mkdir(p, 0755) == 0, "mkdir %s", p);
	ck_assert_int_eq(stat(p, &st), 0);
	return st.st_ino;
}

static void rm_tree(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tree);
	ck_assert_int_eq(system(cmd), 0);
}

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static bool of_is(uint64_t id, uint64_t ts, const char *want)
{
	size_t n;
	const char *v = container_of(id, ts, &n);

	return n == strlen(want) && memcmp(v, want, n) == 0;
}

static void tree_setup(void)
{
	snprintf(tree, sizeof(tree), "/tmp/ebpf-forward-test-container-%d", getpid());
	ck_assert_int_eq(mkdir(tree, 0755), 0);
}

static void tree_teardown(void)
{
	container_stop();
	rm_tree();
}

START_TEST(walk_finds_containers_and_the_rest)
{
	struct container_stats st;
	uint64_t kp, pod, scope, nested, conmon, svc, fs_ctr, root;
	char err[256];
	struct stat rs;

	kp = mk("kubepods.slice");
	pod = mk("kubepods.slice/kubepods-" POD ".slice");
	scope = mk("kubepods.slice/kubepods-" POD ".slice/cri-containerd-" ID1 ".scope");
	nested = mk("kubepods.slice/kubepods-" POD ".slice/cri-containerd-" ID1 ".scope/init.scope");
	conmon = mk("kubepods.slice/kubepods-" POD ".slice/crio-conmon-" ID2 ".scope");
	mk("kubepods");
	mk("kubepods/" POD);
	fs_ctr = mk("kubepods/" POD "/" ID2);
	mk("system.slice");
	svc = mk("system.slice/containerd.service");
	ck_assert_int_eq(stat(tree, &rs), 0);
	root = rs.st_ino;

	ck_assert_msg(container_start(tree, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(container_root(), tree);
	ck_assert(of_is(scope, 1, ID1));
	ck_assert(of_is(nested, 1, ID1));
	ck_assert(of_is(fs_ctr, 1, ID2));
	ck_assert(of_is(kp, 1, ""));
	ck_assert(of_is(pod, 1, ""));
	ck_assert(of_is(conmon, 1, ""));
	ck_assert(of_is(svc, 1, ""));
	ck_assert(of_is(root, 1, ""));
	container_stats(&st);
	/* all from the walk at start: one walk, no miss */
	ck_assert_uint_eq(st.walks, 1);
	ck_assert_uint_eq(st.misses, 0);
	ck_assert_uint_eq(st.dirs, 10);
}
END_TEST

START_TEST(a_new_cgroup_is_found_by_a_walk_on_its_miss)
{
	struct container_stats st;
	uint64_t later, ts;
	char err[256];

	mk("system.slice");
	ck_assert_msg(container_start(tree, err, sizeof(err)) == 0, "%s", err);
	/* made after the walk at start, as a container started after the daemon */
	later = mk("system.slice/docker-" ID2 ".scope");
	ts = boot_ns();
	ck_assert(of_is(later, ts, ID2));
	container_stats(&st);
	ck_assert_uint_eq(st.walks, 2);
	ck_assert_uint_eq(st.misses, 1);
	/* and cached: no more walks */
	ck_assert(of_is(later, ts, ID2));
	container_stats(&st);
	ck_assert_uint_eq(st.walks, 2);
	ck_assert_uint_eq(st.misses, 1);
}
END_TEST

START_TEST(a_cgroup_gone_is_unknown_and_remembered)
{
	struct container_stats st;
	uint64_t gone, ts;
	char err[256], p[PATH_MAX];

	gone = mk("short-lived-" ID1);
	ts = boot_ns();
	snprintf(p, sizeof(p), "%s/short-lived-" ID1, tree);
	/* removed before the daemon started looking: the walk at start comes after the event */
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_msg(container_start(tree, err, sizeof(err)) == 0, "%s", err);
	ck_assert(of_is(gone, ts, CONTAINER_UNKNOWN));
	container_stats(&st);
	/* the walk at start began after the event and saw everything: no second walk needed */
	ck_assert_uint_eq(st.walks, 1);
	ck_assert_uint_eq(st.gone, 1);
	ck_assert(of_is(gone, ts, CONTAINER_UNKNOWN));
	container_stats(&st);
	ck_assert_uint_eq(st.misses, 1);
	/* an event later than the last walk cannot be judged by it: a walk, which does not find it either */
	ck_assert(of_is(gone + 1000000, boot_ns(), CONTAINER_UNKNOWN));
	container_stats(&st);
	ck_assert_uint_eq(st.walks, 2);
	ck_assert_uint_eq(st.gone, 2);
}
END_TEST

START_TEST(not_started_is_unknown)
{
	container_stop();
	ck_assert(of_is(1, 1, CONTAINER_UNKNOWN));
	ck_assert_str_eq(container_root(), "");
}
END_TEST

START_TEST(a_missing_root_is_an_error)
{
	char err[256], p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/nowhere", tree);
	ck_assert_int_eq(container_start(p, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "nowhere") && strstr(err, "cannot open"), "%s", err);
	ck_assert(of_is(1, 1, CONTAINER_UNKNOWN));
}
END_TEST

/*
 * Misses that each need a walk (events later than every walk, cgroups no walk
 * finds) stop walking once walks took their share: 50 ms, plus a twentieth of
 * the time since; the records then say <unknown>.
 */
START_TEST(walks_keep_to_their_budget)
{
	struct container_stats st;
	uint64_t t0, elapsed, i;
	char err[256];

	for (int d = 0; d < 40; d++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "d%d", d);
		mk(rel);
	}
	t0 = boot_ns();
	ck_assert_msg(container_start(tree, err, sizeof(err)) == 0, "%s", err);
	for (i = 0; i < 1000000; i++) {
		ck_assert(of_is(UINT64_C(1) << 40 | i, UINT64_MAX, CONTAINER_UNKNOWN));
		container_stats(&st);
		if (st.over_budget)
			break;
	}
	elapsed = boot_ns() - t0;
	ck_assert_msg(st.over_budget == 1, "never over budget in %llu misses", (unsigned long long)i);
	/* the share, plus the one walk that took the credit below zero */
	ck_assert_msg(st.walk_ns <= 50000000ULL + elapsed / 20 + st.max_walk_ns,
		      "walks took %llu ns in %llu ns", (unsigned long long)st.walk_ns, (unsigned long long)elapsed);
	ck_assert_uint_gt(st.walks, 10);
}
END_TEST

/*
 * More cgroups than the cache holds: some are pushed out, and a walk for one
 * answers it even if the walk pushes it out again; once walks are over budget
 * the answer is <unknown>, never another container's or "".
 */
START_TEST(a_tree_larger_than_the_cache)
{
	static uint64_t inos[5000];
	struct container_stats st;
	char err[256], rel[128];
	uint64_t misses = 0;
	bool answered_a_miss = false;

	for (int d = 0; d < 5000; d++) {
		snprintf(rel, sizeof(rel), "%064x", d);
		inos[d] = mk(rel);
	}
	ck_assert_msg(container_start(tree, err, sizeof(err)) == 0, "%s", err);
	container_stats(&st);
	ck_assert_uint_eq(st.dirs, 5000);
	ck_assert_uint_gt(st.evictions, 0);
	for (int d = 0; d < 5000; d++) {
		char want[CONTAINER_ID_LEN + 1];
		size_t n;
		const char *v = container_of(inos[d], 1, &n);

		snprintf(want, sizeof(want), "%064x", d);
		container_stats(&st);
		if (n == CONTAINER_ID_LEN && memcmp(v, want, n) == 0) {
			answered_a_miss |= st.misses > misses;
			misses = st.misses;
			continue;
		}
		/* not its id: then <unknown>, and only because walks were over their budget */
		ck_assert_msg(n == strlen(CONTAINER_UNKNOWN) && memcmp(v, CONTAINER_UNKNOWN, n) == 0,
			      "directory %d: %.*s", d, (int)n, v);
		ck_assert_uint_gt(st.over_budget, 0);
		misses = st.misses;
	}
	ck_assert_msg(misses > 0, "nothing was pushed out of the cache");
	/* with the start's walk well inside the 50 ms burst, the first miss had a walk of its own */
	if (st.max_walk_ns < 25000000)
		ck_assert(answered_a_miss);
}
END_TEST

/* The record: container_id after cgroup_id, from the packer's one row. */
START_TEST(the_record_carries_it)
{
	static const uint16_t types[] = {EV_EXEC, EV_SIGNAL, EV_VFS, EV_BIND, EV_SCHED, EV_DNS};
	struct mpbuf out = {0};
	msgpack_unpacked u;
	struct ev_signal e;
	const char *where, *keys[40];
	uint64_t scope;
	char err[256];
	size_t off = 0, n;
	const msgpack_object *last;

	mk("system.slice");
	scope = mk("system.slice/docker-" ID1 ".scope");
	ck_assert_msg(container_start(tree, err, sizeof(err)) == 0, "%s", err);
	memset(&e, 0, sizeof(e));
	e.h.type = EV_SIGNAL;
	e.h.size = sizeof(e);
	e.h.cgroup_id = scope;
	e.h.ts_ns = 1;
	ck_assert_int_eq(schema_pack(&out, &e, sizeof(e), &where), SCHEMA_OK);
	msgpack_unpacked_init(&u);
	ck_assert_int_eq(msgpack_unpack_next(&u, (const char *)out.p, out.len, &off), MSGPACK_UNPACK_SUCCESS);
	last = &u.data.via.map.ptr[u.data.via.map.size - 1].key;
	ck_assert(last->via.str.size == 12 && memcmp(last->via.str.ptr, "container_id", 12) == 0);
	last = &u.data.via.map.ptr[u.data.via.map.size - 1].val;
	ck_assert_int_eq(last->type, MSGPACK_OBJECT_STR);
	ck_assert(last->via.str.size == 64 && memcmp(last->via.str.ptr, ID1, 64) == 0);
	msgpack_unpacked_destroy(&u);
	mpbuf_free(&out);
	/* every event type has it, last */
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		n = schema_keys(types[t], keys, 40);
		ck_assert_uint_gt(n, 0);
		ck_assert_str_eq(keys[n - 1], "container_id");
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("container");
	TCase *names = tcase_create("names");
	TCase *cache = tcase_create("cache");

	tcase_add_test(names, names_of_every_runtime);
	tcase_add_test(names, paths_nearest_container_wins);
	tcase_add_checked_fixture(cache, tree_setup, tree_teardown);
	tcase_add_test(cache, walk_finds_containers_and_the_rest);
	tcase_add_test(cache, a_new_cgroup_is_found_by_a_walk_on_its_miss);
	tcase_add_test(cache, a_cgroup_gone_is_unknown_and_remembered);
	tcase_add_test(cache, not_started_is_unknown);
	tcase_add_test(cache, a_missing_root_is_an_error);
	tcase_add_test(cache, walks_keep_to_their_budget);
	tcase_add_test(cache, a_tree_larger_than_the_cache);
	tcase_add_test(cache, the_record_carries_it);
	suite_add_tcase(s, names);
	suite_add_tcase(s, cache);
	return suite_run(s);
}
