/* test_trace_sched.c: the sched trace loaded for real: children sleep or spin and the test asserts their switches. */
#include <check.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "config.h"
#include "rig.h"
#include "suite_run.h"

#define MS 1000000ull

/* ---- children ---- */

/* A child held at a pipe until the trace is started, so the trace can be filtered to its pid. */
struct kid {
	pid_t pid;
	int go;          /* write end: one byte starts it */
};

struct kid_spec {
	const char *name;                 /* its comm */
	int cpu;                          /* pinned there; -1: not pinned */
	int nice;
	const char *cgroup;               /* moves itself there first; NULL: stays */
	void (*fn)(const void *arg);
	const void *arg;
};

static void kid_start(struct kid *k, const struct kid_spec *s)
{
	int p[2];
	char c;

	ck_assert_int_eq(pipe(p), 0);
	k->pid = fork();
	ck_assert_int_ge(k->pid, 0);
	if (k->pid == 0) {
		close(p[1]);
		prctl(PR_SET_NAME, s->name);
		if (s->cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(s->cpu, &set);
			if (sched_setaffinity(0, sizeof(set), &set))
				_exit(2);
		}
		if (s->nice && setpriority(PRIO_PROCESS, 0, s->nice))
			_exit(2);
		if (s->cgroup) {
			char procs[600];
			int fd;

			snprintf(procs, sizeof(procs), "%s/cgroup.procs", s->cgroup);
			fd = open(procs, O_WRONLY);
			if (fd < 0 || write(fd, "0", 1) != 1) /* 0: the writer itself */
				_exit(3);
			close(fd);
		}
		if (read(p[0], &c, 1) != 1)
			_exit(1);
		s->fn(s->arg);
		_exit(0);
	}
	close(p[0]);
	k->go = p[1];
}

static void kid_go(struct kid *k)
{
	char c = 0;

	ck_assert_int_eq(write(k->go, &c, 1), 1);
	close(k->go);
}

static void kid_wait(struct kid *k)
{
	int status;

	ck_assert_int_eq(waitpid(k->pid, &status, 0), k->pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed: %d", k->pid, status);
}

/* Sleeps 2 ms, 20 times: each return is a wakeup. */
static void sleeper(const void *arg)
{
	(void)arg;
	for (int i = 0; i < 20; i++)
		usleep(2000);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Spins for *arg ns without a system call: it leaves the CPU only when preempted. */
static void spinner(const void *arg)
{
	uint64_t until = now_ns() + *(const uint64_t *)arg;

	while (now_ns() < until)
		;
}

/* The last CPU this process may use: the spinners share it. */
static int spin_cpu(void)
{
	cpu_set_t set;
	int cpu = -1;

	ck_assert_int_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			cpu = i;
	ck_assert_int_ge(cpu, 0);
	return cpu;
}

/* ---- records ---- */

static void start_sched(struct rig *r, pid_t only, uint64_t min_latency_ns, const char *cgroup)
{
	memset(r, 0, sizeof(*r));
	config_defaults(&r->cfg);
	r->cfg.trace.ringbuf_size = 1 << 22;
	r->cfg.trace.filter_pid = (uint32_t)only;
	r->cfg.trace.sched_min_latency_ns = min_latency_ns;
	if (cgroup)
		snprintf(r->cfg.trace.cgroup_path, sizeof(r->cfg.trace.cgroup_path), "%s", cgroup);
	rig_start_cfg(r, "trace_sched");
}

/*
 * Reads the ring until it stays empty: the children have exited, their
 * records are all in it. Without Pid= it never stays empty: 1 s at most.
 */
static void drain_all(struct rig *r)
{
	for (int quiet = 0, i = 0; quiet < 3 && i < 50; i++) {
		int n = pipeline_drain(r->p);

		ck_assert_int_ge(n, 0);
		quiet = n ? 0 : quiet + 1;
		usleep(20000);
	}
}

static bool rec_bool(const msgpack_object *map, const char *key)
{
	const msgpack_object *v = rec_get(map, key);

	ck_assert_msg(v, "record has no key %s", key);
	ck_assert_msg(v->type == MSGPACK_OBJECT_BOOLEAN, "key %s is not a bool", key);
	return v->via.boolean;
}

static bool is_int(const msgpack_object *v)
{
	return v->type == MSGPACK_OBJECT_POSITIVE_INTEGER || v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER;
}

/* Every key, in order, with its msgpack type: in_ebpf's, then ours. */
static void assert_sched_keys(const msgpack_object *rec)
{
	static const struct {
		const char *key;
		char type; /* s str, u uint, i int, b bool */
	} want[] = {
		{"event_type", 's'}, {"event_id", 'u'}, {"pid", 'u'}, {"tid", 'u'}, {"comm", 's'},
		{"cpu", 'u'}, {"prev_pid", 'u'}, {"prev_prio", 'i'}, {"prev_state", 'i'},
		{"next_pid", 'u'}, {"next_prio", 'i'}, {"runq_latency_ns", 'u'}, {"wakeup_tracked", 'b'},
		{"prev_comm", 's'}, {"ppid", 'u'}, {"uid", 'u'}, {"gid", 'u'}, {"mntns_id", 'u'},
		{"cgroup_id", 'u'}, {"container_id", 's'},
	};
	size_t n = sizeof(want) / sizeof(want[0]);

	ck_assert_uint_eq(rec->via.map.size, n);
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *k = &rec->via.map.ptr[i].key, *v = &rec->via.map.ptr[i].val;
		bool ok;

		ck_assert_msg(k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(want[i].key) &&
				      memcmp(k->via.str.ptr, want[i].key, k->via.str.size) == 0,
			      "key %zu is not %s", i, want[i].key);
		switch (want[i].type) {
		case 's': ok = v->type == MSGPACK_OBJECT_STR; break;
		case 'u': ok = v->type == MSGPACK_OBJECT_POSITIVE_INTEGER; break;
		case 'i': ok = is_int(v); break;
		default: ok = v->type == MSGPACK_OBJECT_BOOLEAN; break;
		}
		ck_assert_msg(ok, "key %s has msgpack type %d", want[i].key, v->type);
	}
	ck_assert(rec_str_is(rec, "event_type", "sched"));
}

/* The records with pid (all of them when the trace is filtered to it). */
static size_t count_pid(const struct rig *r, pid_t pid)
{
	size_t n = 0;

	for (size_t i = 0; i < r->cap.n; i++)
		n += rec_uint(&r->cap.recs[i].u.data, "pid") == (uint64_t)pid;
	return n;
}

/* A switch to the child: its header is the child's, and it is next. */
static void assert_switch_to(const msgpack_object *rec, pid_t pid, const char *comm)
{
	assert_sched_keys(rec);
	ck_assert_uint_eq(rec_uint(rec, "pid"), (uint64_t)pid);
	ck_assert_uint_eq(rec_uint(rec, "tid"), (uint64_t)pid);
	ck_assert_uint_eq(rec_uint(rec, "next_pid"), (uint64_t)pid);
	ck_assert_str_eq(rec_str(rec, "comm"), comm);
	ck_assert_uint_eq(rec_uint(rec, "ppid"), (uint64_t)getpid());
	ck_assert_uint_ne(rec_uint(rec, "prev_pid"), (uint64_t)pid);
	ck_assert_int_ge(rec_int(rec, "next_prio"), 100); /* a normal task: 100-139 */
}

/* ---- tests ---- */

START_TEST(woken_sleeper_is_timed)
{
	struct kid_spec ss = {"sched-sleeper", -1, 0, NULL, sleeper, NULL};
	struct kid_spec os = {"sched-other", -1, 0, NULL, sleeper, NULL};
	struct kid k, other;
	struct rig r;

	kid_start(&k, &ss);
	kid_start(&other, &os);
	start_sched(&r, k.pid, 0, NULL);
	kid_go(&k);
	kid_go(&other);
	kid_wait(&k);
	kid_wait(&other);
	drain_all(&r);
	/* a switch-in after each of the 20 sleeps, and after the pipe read */
	ck_assert_uint_ge(r.cap.n, 20);
	for (size_t i = 0; i < r.cap.n; i++) {
		const msgpack_object *rec = &r.cap.recs[i].u.data;

		assert_switch_to(rec, k.pid, "sched-sleeper");
		/* every wait began with a wakeup the trace saw */
		ck_assert(rec_bool(rec, "wakeup_tracked"));
		ck_assert_uint_gt(rec_uint(rec, "runq_latency_ns"), 0);
	}
	/* Pid=: the other sleeper gave none */
	ck_assert_uint_eq(count_pid(&r, other.pid), 0);
	rig_stop(&r);
}
END_TEST

START_TEST(preempted_spinner_is_timed)
{
	uint64_t spin = 400 * MS;
	int cpu = spin_cpu();
	struct kid_spec as = {"sched-spin-a", cpu, 0, NULL, spinner, &spin};
	struct kid_spec bs = {"sched-spin-b", cpu, 0, NULL, spinner, &spin};
	size_t by_b = 0;
	struct kid a, b;
	struct rig r;

	kid_start(&a, &as);
	kid_start(&b, &bs);
	start_sched(&r, a.pid, 0, NULL);
	kid_go(&a);
	kid_go(&b);
	kid_wait(&a);
	kid_wait(&b);
	drain_all(&r);
	/*
	 * A never sleeps once it spins: only its first switch-in follows a
	 * wakeup, every other one follows a preemption, and is timed all the
	 * same. Sharing one CPU for 400 ms they take turns every few ms.
	 */
	ck_assert_uint_ge(r.cap.n, 10);
	for (size_t i = 0; i < r.cap.n; i++) {
		const msgpack_object *rec = &r.cap.recs[i].u.data;

		assert_switch_to(rec, a.pid, "sched-spin-a");
		ck_assert_uint_eq(rec_uint(rec, "cpu"), (uint64_t)cpu);
		ck_assert(rec_bool(rec, "wakeup_tracked"));
		ck_assert_uint_gt(rec_uint(rec, "runq_latency_ns"), 0);
		by_b += rec_str_is(rec, "prev_comm", "sched-spin-b");
	}
	/* they preempt each other: B is the task switched out for A, and B itself gives none (Pid=) */
	ck_assert_uint_ge(by_b, 5);
	ck_assert_uint_eq(count_pid(&r, b.pid), 0);
	rig_stop(&r);
}
END_TEST

/* Runs a sleeper under the threshold; returns how many switches to it were sent, each checked against it. */
static size_t sleeper_records(uint64_t min_latency_ns)
{
	struct kid_spec ss = {"sched-sleeper", -1, 0, NULL, sleeper, NULL};
	struct kid k;
	struct rig r;
	size_t n;

	kid_start(&k, &ss);
	start_sched(&r, k.pid, min_latency_ns, NULL);
	kid_go(&k);
	kid_wait(&k);
	drain_all(&r);
	for (size_t i = 0; i < r.cap.n; i++)
		ck_assert_uint_ge(rec_uint(&r.cap.recs[i].u.data, "runq_latency_ns"), min_latency_ns);
	n = r.cap.n;
	rig_stop(&r);
	return n;
}

START_TEST(min_latency_drops_quick_wakeups)
{
	size_t all = sleeper_records(0), slow = sleeper_records(50 * MS);

	/* a woken sleeper runs within a few ms, even on a busy machine */
	ck_assert_uint_ge(all, 20);
	ck_assert_uint_eq(slow, 0);
}
END_TEST

START_TEST(min_latency_keeps_long_waits)
{
	uint64_t spin = 2000 * MS, min = 50 * MS;
	int cpu = spin_cpu();
	/*
	 * At nice 19 against nice 0 on one CPU, A gets about 1.5% of it: it runs
	 * a slice (a few ms) and then waits 250-450 ms (measured here), well over
	 * the threshold: 2 s give it several turns.
	 */
	struct kid_spec as = {"sched-spin-a", cpu, 19, NULL, spinner, &spin};
	struct kid_spec bs = {"sched-spin-b", cpu, 0, NULL, spinner, &spin};
	struct kid a, b;
	struct rig r;

	kid_start(&a, &as);
	kid_start(&b, &bs);
	start_sched(&r, a.pid, min, NULL);
	kid_go(&a);
	kid_go(&b);
	kid_wait(&a);
	kid_wait(&b);
	drain_all(&r);
	ck_assert_uint_ge(r.cap.n, 2);
	for (size_t i = 0; i < r.cap.n; i++) {
		const msgpack_object *rec = &r.cap.recs[i].u.data;

		assert_switch_to(rec, a.pid, "sched-spin-a");
		ck_assert_uint_ge(rec_uint(rec, "runq_latency_ns"), min);
		ck_assert(rec_bool(rec, "wakeup_tracked"));
		ck_assert_uint_eq(rec_uint(rec, "cpu"), (uint64_t)cpu);
		ck_assert_int_eq(rec_int(rec, "next_prio"), 139); /* nice 19 */
	}
	rig_stop(&r);
}
END_TEST

START_TEST(daemon_itself_is_not_traced)
{
	struct kid_spec ss = {"sched-sleeper", -1, 0, NULL, sleeper, NULL};
	struct kid k;
	struct rig r;

	/* no Pid=: every switch on the machine, but none to the test, which plays the daemon */
	kid_start(&k, &ss);
	start_sched(&r, 0, 0, NULL);
	kid_go(&k);
	for (int i = 0; i < 20; i++)
		usleep(2000);
	kid_wait(&k);
	drain_all(&r);
	ck_assert_uint_ge(count_pid(&r, k.pid), 20);
	ck_assert_uint_eq(count_pid(&r, getpid()), 0);
	for (size_t i = 0; i < r.cap.n; i++)
		ck_assert_uint_ne(rec_uint(&r.cap.recs[i].u.data, "next_pid"), 0); /* nor to idle */
	rig_stop(&r);
}
END_TEST


START_TEST(cgroup_filter_is_the_switched_in_tasks)
{
	char mnt[256], dir[400], sub[500];
	struct stat st_dir, st_sub;
	struct kid_spec ss = {"sched-sleeper", -1, 0, sub, sleeper, NULL};
	struct kid_spec os = {"sched-other", -1, 0, NULL, sleeper, NULL};
	struct kid k, other;
	struct rig r;

	/*
	 * At a switch the current task is prev: the filter must ask about next,
	 * here in a cgroup below the one given.
	 */
	ck_assert_msg(rig_cgroup2_mount(mnt, sizeof(mnt)), "no cgroup2 mount");
	snprintf(dir, sizeof(dir), "%s/ebpf-forward-sched-%d", mnt, getpid());
	snprintf(sub, sizeof(sub), "%s/below", dir);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	ck_assert_int_eq(stat(dir, &st_dir), 0);
	ck_assert_int_eq(stat(sub, &st_sub), 0);
	kid_start(&k, &ss);
	kid_start(&other, &os);
	start_sched(&r, 0, 0, dir);
	kid_go(&k);
	kid_go(&other);
	kid_wait(&k);
	kid_wait(&other);
	drain_all(&r);
	ck_assert_uint_ge(count_pid(&r, k.pid), 20);
	ck_assert_uint_eq(count_pid(&r, other.pid), 0);
	for (size_t i = 0; i < r.cap.n; i++) {
		uint64_t id = rec_uint(&r.cap.recs[i].u.data, "cgroup_id");

		ck_assert_msg(id == (uint64_t)st_sub.st_ino || id == (uint64_t)st_dir.st_ino,
			      "record from cgroup %llu", (unsigned long long)id);
	}
	rig_stop(&r);
	ck_assert_int_eq(rmdir(sub), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("trace_sched");
	TCase *tc = tcase_create("sched");

	rig_require_root("test_trace_sched");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, woken_sleeper_is_timed);
	tcase_add_test(tc, preempted_spinner_is_timed);
	tcase_add_test(tc, min_latency_drops_quick_wakeups);
	tcase_add_test(tc, min_latency_keeps_long_waits);
	tcase_add_test(tc, daemon_itself_is_not_traced);
	tcase_add_test(tc, cgroup_filter_is_the_switched_in_tasks);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
