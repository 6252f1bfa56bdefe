/* crig.h: the forward client test rig: a client on its own loop, frames of numbered records, waiting on its counters. */
#ifndef EBPF_FORWARD_TEST_CRIG_H
#define EBPF_FORWARD_TEST_CRIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "client.h"
#include "pack.h"
#include "receiver_proc.h"

#define ENTRIES_PER_FRAME 10

struct crig {
	uv_loop_t loop;
	struct fwd_client *c;
	struct fwd_chunk_ids ids;
	char logs[8192];
	size_t loglen;
	bool closed;
};

typedef bool (*crig_until_fn)(struct crig *r, void *arg);

/* The tests' settings for receiver rv (NULL: none yet): short backoffs and timeouts. */
struct fwd_client_config crig_config(const struct receiver *rv, bool ack, size_t limit);

/* Opens the client with cfg (its log goes to r->logs) and, when spool_dir is not NULL, a spool there; starts it. */
void crig_open_with(struct crig *r, struct fwd_client_config *cfg, const char *spool_dir);
void crig_open(struct crig *r, const struct receiver *rv, bool ack, size_t limit);

/* A frame of ENTRIES_PER_FRAME records {"n": base + i}, with a chunk id when ack. */
void crig_send_frame(struct crig *r, bool ack, uint32_t base);

/* A frame of 16 records of about 64 KiB each: too big for one write to take it whole. */
void crig_send_big_frame(struct crig *r);

/* Runs the loop until cond holds or ms pass; returns whether it held. */
bool crig_run_until(struct crig *r, crig_until_fn cond, void *arg, unsigned ms);

/* Conditions: the client's counter at least *(uint64_t *)arg. */
bool crig_acked_at_least(struct crig *r, void *arg);
bool crig_sent_at_least(struct crig *r, void *arg);
bool crig_connects_at_least(struct crig *r, void *arg);

/* Closes the client (delivering within deadline_ms), the loop, and frees it. */
void crig_close(struct crig *r, unsigned deadline_ms);

#endif
