/* queue.h: the bounded queue of sealed frames between the packer and the connection. */
#ifndef FWD_QUEUE_H
#define FWD_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "pack.h"

enum fwd_chunk_state {
	FWD_CHUNK_QUEUED,   /* not written on the current connection */
	FWD_CHUNK_WRITING,  /* handed to libuv: its bytes must stay put */
	FWD_CHUNK_SENT,     /* written; waiting for its ack */
};

struct fwd_chunk {
	struct fwd_chunk *next;
	uint8_t *buf;          /* owned; the frame is buf[start, start + size) */
	size_t start, size;
	uint32_t entries;
	size_t held;           /* the memory its buffer takes (the allocator's size of it) */
	uint64_t seq;          /* order of sealing, across restarts when there is a spool */
	bool on_disk;          /* its spool file exists: removed once acked */
	enum fwd_chunk_state state;
	bool acked;            /* the ack came while libuv still held the write: freed when it completes */
	bool has_id;
	char id[FWD_CHUNK_ID_LEN + 1];
	uint64_t sent_ms;      /* loop time of the write, for the ack timeout */
	uv_write_t req;
};

/* Freed frame buffers a lendable queue keeps for the next frames (what is in flight under load, and more). */
#define FWD_QUEUE_KEEP 32

/* FIFO, oldest first. Chunks in flight stay at the head, in the order written. */
struct fwd_queue {
	struct fwd_chunk *head, *tail;
	size_t bytes;          /* memory the frames hold (their buffers) */
	size_t count;
	size_t limit;          /* bytes */
	uint64_t dropped_chunks;
	uint64_t dropped_entries;
	bool lendable;         /* its buffers may be lent to sockets (lent.h) */
	struct fwd_kept {
		uint8_t *buf;
		size_t cap;    /* its allocator's size */
	} kept[FWD_QUEUE_KEEP];
	size_t nkept;
	bool reused;           /* a kept buffer was taken since fwd_queue_reused_since last asked */
};

void fwd_queue_init(struct fwd_queue *q, size_t limit);

/* Whether bytes more would fit under the limit as it is, dropping nothing. */
bool fwd_queue_fits(const struct fwd_queue *q, size_t bytes);

/* The memory a chunk holds (a frame's buffer grew by doubling): what counts against the limit. */
size_t fwd_chunk_bytes(const struct fwd_chunk *c);

/*
 * Appends c (owned from now on). While the queue would hold more than its
 * limit, the oldest chunks not on the wire (queued, not written) are dropped
 * and counted: a frame written and waiting for its ack is never dropped. When
 * no such chunk is left, c itself is dropped, counted and freed, unless it is
 * alone (one chunk may exceed the limit). *taken (may be NULL) says whether c
 * was kept. Returns the number of entries dropped by this push.
 */
uint64_t fwd_queue_push(struct fwd_queue *q, struct fwd_chunk *c, bool *taken);

/* Removes c (which must be in q) and frees it. */
void fwd_queue_remove(struct fwd_queue *q, struct fwd_chunk *c);

/* The first chunk in the given state, oldest first, or NULL. */
struct fwd_chunk *fwd_queue_first(const struct fwd_queue *q, enum fwd_chunk_state state);

/* Every chunk back to QUEUED (after a lost connection: they are written again). */
void fwd_queue_requeue(struct fwd_queue *q);

/* Drops and frees every chunk, counting them as dropped; returns entries dropped. */
uint64_t fwd_queue_clear(struct fwd_queue *q);

/* A chunk from a sealed frame buffer (takes buf); NULL on allocation failure (buf freed, as lendable memory). */
struct fwd_chunk *fwd_chunk_new(uint8_t *buf, size_t start, size_t size, uint32_t entries,
				const char *id);

/*
 * From now on the queue's buffers are lendable memory (lent.h): a freed one
 * is kept for the next frame (fwd_queue_reuse), or its pages are forgotten
 * before it goes back to the heap. Never undone.
 */
void fwd_queue_lendable(struct fwd_queue *q);

/*
 * A buffer the queue's owner is done with (a frame not queued): kept, or
 * freed as the queue's buffers are. When FWD_QUEUE_KEEP are kept, the
 * smallest of them and buf goes (small frames' buffers are rarely asked for).
 */
void fwd_queue_let_go(struct fwd_queue *q, uint8_t *buf);

/*
 * A kept buffer of at least want bytes (and not more than four times that,
 * so a small frame does not hold a big one against the limit); *cap is its
 * size. NULL when none.
 */
uint8_t *fwd_queue_reuse(struct fwd_queue *q, size_t want, size_t *cap);

/* The kept buffers go back to the heap, pages forgotten (when the load is over, and at the end). */
void fwd_queue_release_kept(struct fwd_queue *q);

/* Whether a kept buffer was reused since the last call: if not, the load that needed them is over. */
bool fwd_queue_reused_since(struct fwd_queue *q);

#endif
