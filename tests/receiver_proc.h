/* receiver_proc.h: runs the test receiver (fwd_receiver) as a child process and reads its counters. */
#ifndef EBPF_FORWARD_TEST_RECEIVER_PROC_H
#define EBPF_FORWARD_TEST_RECEIVER_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct receiver {
	pid_t pid;
	char host[64];            /* TCP address it listens on (default 127.0.0.1) */
	int unix_socket;          /* listening on a Unix socket, not TCP */
	uint16_t port;            /* TCP port it listens on */
	char path[108];           /* Unix socket path */
	char dir[64];             /* its files: ready, stats, out */
	char out[128];            /* JSON lines of accepted entries */
	char stats[128];
};

/*
 * Starts fwd_receiver on TCP 127.0.0.1 (port: 0 = any free one) or on a Unix
 * socket in a fresh directory, with extra arguments (NULL-terminated), and
 * waits until it listens. Fails the test when it does not come up.
 */
void receiver_start(struct receiver *r, int unix_socket, uint16_t port, const char *const extra[]);

/* The same on TCP at host (an address), port 0. */
void receiver_start_at(struct receiver *r, const char *host, const char *const extra[]);

/* Same, reusing r's port or socket path (a receiver coming back). */
void receiver_restart(struct receiver *r, const char *const extra[]);

/* A counter from its statistics ("entries", "frames", "rejected", "acks", ...). */
uint64_t receiver_stat(struct receiver *r, const char *key);

/* SIGTERM, and waits for it; its files stay for reading. */
void receiver_stop(struct receiver *r);

/* Removes its files. */
void receiver_cleanup(struct receiver *r);

/* A whole file (a receiver's out file, a daemon's log) as a NUL-terminated malloc'd string; "" if missing. */
char *receiver_slurp(const char *path);

/* Waits up to ms for the file at path (a daemon's log) to hold text. */
bool receiver_file_has(const char *path, const char *text, unsigned ms);

/* A TCP port on 127.0.0.1 nothing listens on now (the kernel's pick for an ephemeral bind). */
uint16_t receiver_free_port(void);

#endif
