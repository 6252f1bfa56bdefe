/* trace_opts.h: what starting a trace needs; the config fills it, the loader reads it. */
#ifndef EBPF_FORWARD_TRACE_OPTS_H
#define EBPF_FORWARD_TRACE_OPTS_H

#include <stdbool.h>
#include <stdint.h>

/* Longest path a setting holds (cgroup directory, library), NUL included. */
#define TRACE_PATH_MAX 4096
/* Libraries OpenSSL_Path may add to the ones found at run time. */
#define TRACE_OPENSSL_PATHS 8

/* What starting a trace needs: its ring, the kernel filters, batching, the libraries to probe. */
struct trace_opts {
	uint64_t ringbuf_size;             /* bytes per ring, a power of two; 0: the object's own */
	unsigned poll_ms;                  /* 0: a wake-up per event; else wake-ups are batched */
	uint32_t filter_pid;               /* only this process (0 = all) */
	int64_t filter_uid;                /* only this user (-1 = all) */
	char cgroup_path[TRACE_PATH_MAX];  /* only tasks in this cgroup v2 directory or below ("" = all) */
	char filter_comm[16];              /* only tasks with this command name ("" = all) */
	uint64_t filter_mntns;             /* only this mount namespace (0 = all) */
	char libc_path[TRACE_PATH_MAX];    /* the libc to probe ("" = the one found at run time) */
	uint64_t sched_min_latency_ns;     /* sched: only switches that waited at least this long */
	bool vfs_resolved_path;            /* vfs: add the opened file's path, walked in the kernel */
	uint32_t exec_args_max;            /* exec: bytes of the argument area the exit record carries (0: none) */
	/* openssl: libssl copies to probe besides the system's (a container's, a vendored one) */
	char openssl_paths[TRACE_OPENSSL_PATHS][TRACE_PATH_MAX];
	unsigned openssl_path_count;
};

#endif
