/* rig.c: one trace loaded for real, its records captured, and a child process to act in. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "registry.h"
#include "rig.h"
#include "tracefs.h"

/* Starts trace with the settings already in r->cfg. */
void rig_start_cfg(struct rig *r, const char *trace)
{
	char err[1024];

	ck_assert_msg(tracefs_ensure(err, sizeof(err)) >= 0, "%s", err);
	r->t = trace_start(registry_find(trace), &r->cfg.trace, err, sizeof(err));
	ck_assert_msg(r->t, "trace %s: %s", trace, err);
	capture_init(&r->cap);
	ck_assert_int_eq(uv_loop_init(&r->loop), 0);
	r->outs[0] = &r->cap.base;
	r->p = pipeline_new(&r->loop, &r->cfg, &r->t, 1, r->outs, 1, err, sizeof(err));
	ck_assert_msg(r->p, "%s", err);
}

void rig_start_full(struct rig *r, const char *trace, uint64_t ring, pid_t only)
{
	memset(r, 0, sizeof(*r));
	config_defaults(&r->cfg);
	r->cfg.trace.ringbuf_size = ring;
	r->cfg.trace.filter_pid = (uint32_t)only;
	rig_start_cfg(r, trace);
}

void rig_start_sized(struct rig *r, const char *trace, uint64_t ring)
{
	rig_start_full(r, trace, ring, 0);
}

void rig_start(struct rig *r, const char *trace)
{
	rig_start_sized(r, trace, 1 << 22);
}

void rig_stop(struct rig *r)
{
	pipeline_shutdown(r->p);
	uv_run(&r->loop, UV_RUN_NOWAIT);
	ck_assert_int_eq(uv_loop_close(&r->loop), 0);
	pipeline_free(r->p);
	trace_stop(r->t);
	capture_free(&r->cap);
}

/* Drains until a record matches (up to 3 s). */
const msgpack_object *rig_wait(struct rig *r, match_fn match, const void *arg)
{
	size_t seen = 0;

	for (int i = 0; i < 300; i++) {
		pipeline_drain(r->p);
		for (; seen < r->cap.n; seen++)
			if (match(&r->cap.recs[seen].u.data, arg))
				return &r->cap.recs[seen].u.data;
		usleep(10000);
	}
	return NULL;
}

/* Runs fn in a child process and returns its pid once it has exited. */
pid_t rig_child(void (*fn)(const void *arg), const void *arg)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return pid;
}

char rig_unique[128];

void rig_make_unique(const char *what)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(rig_unique, sizeof(rig_unique), "/tmp/ebpf-forward-test-%s-%d-%ld", what, getpid(), ts.tv_nsec);
}


/* Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified in hybrid mode). */
bool rig_cgroup2_mount(char *out, size_t len)
{
	FILE *f = fopen("/proc/mounts", "r");
	char dev[256], dir[256], type[64];
	bool found = false;

	while (f && !found && fscanf(f, "%255s %255s %63s %*[^\n]", dev, dir, type) == 3)
		if (strcmp(type, "cgroup2") == 0) {
			snprintf(out, len, "%s", dir);
			found = true;
		}
	if (f)
		fclose(f);
	return found;
}

void rig_require_root(const char *prog)
{
	if (geteuid() != 0) {
		fprintf(stderr, "%s: must run as root (it loads BPF programs)\n", prog);
		exit(EXIT_FAILURE);
	}
}
