/* rig.h: the kernel tests' rig: one trace loaded for real, its records captured, a child to act in. */
#ifndef EBPF_FORWARD_TEST_RIG_H
#define EBPF_FORWARD_TEST_RIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#include "capture.h"
#include "config.h"
#include "pipeline.h"
#include "traces.h"

struct rig {
	struct config cfg;
	struct trace *t;
	uv_loop_t loop;
	struct pipeline *p;
	struct capture cap;
	struct output *outs[1];
};

typedef bool (*match_fn)(const msgpack_object *rec, const void *arg);

/* Starts trace with the settings already in r->cfg (fill it with config_defaults first). */
void rig_start_cfg(struct rig *r, const char *trace);
/* Defaults, a ring of ring bytes, and only process only (0: all). */
void rig_start_full(struct rig *r, const char *trace, uint64_t ring, pid_t only);
void rig_start_sized(struct rig *r, const char *trace, uint64_t ring);
/* Defaults and a 4 MiB ring. */
void rig_start(struct rig *r, const char *trace);
void rig_stop(struct rig *r);

/* Drains until a record matches (up to 3 s); NULL if none did. */
const msgpack_object *rig_wait(struct rig *r, match_fn match, const void *arg);

/* Runs fn in a child process and returns its pid once it has exited. */
pid_t rig_child(void (*fn)(const void *arg), const void *arg);

/* A path under /tmp no other test run uses, in rig_unique. */
extern char rig_unique[128];
void rig_make_unique(const char *what);

/* Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified in hybrid mode); false if nowhere. */
bool rig_cgroup2_mount(char *out, size_t len);

/* Kernel suites load BPF programs: exits with a message unless run as root. */
void rig_require_root(const char *prog);

#endif
