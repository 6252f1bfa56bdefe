/* ring_read.h: a BPF ring buffer read from its own mapping, the consumer position published in batches. */
#ifndef EBPF_FORWARD_RING_READ_H
#define EBPF_FORWARD_RING_READ_H

#include <stddef.h>
#include <stdint.h>

struct ring_read {
	int fd;                               /* the ring's map: poll it for readable */
	uint64_t size;                        /* data bytes, a power of 2 */
	unsigned long *consumer_pos;          /* the page we write */
	const unsigned long *producer_pos;    /* the kernel's page, then the data twice */
	const uint8_t *data;
	size_t prod_len;
	uint64_t broken_at;                   /* RING_READ_BROKEN: the record's position, and its length word */
	uint32_t broken_len;
};

/*
 * A record's handler: returns 0 to go on, or a negative number to stop
 * after this record (it counts as read), which ring_read_drain returns.
 */
typedef int (*ring_read_fn)(void *ctx, void *data, size_t size);

/* Maps the ring buffer map map_fd (as root: before the privileges go); -1 with err set if not. */
int ring_read_open(struct ring_read *r, int map_fd, char *err, size_t errlen);

/*
 * Hands each committed record to fn, in order, until none is left or fn
 * stops; returns the records handed over, fn's negative number, or
 * RING_READ_BROKEN when a record's length cannot be (nothing after it is
 * read; the ring is left as it is).
 */
#define RING_READ_BROKEN (-1000000)
int ring_read_drain(struct ring_read *r, ring_read_fn fn, void *ctx);

/* Unmaps; safe on a ring never opened or already closed. */
void ring_read_close(struct ring_read *r);

#endif
