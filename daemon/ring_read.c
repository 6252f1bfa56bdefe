/* ring_read.c: reads a BPF ring buffer from its mapping: records in order, the consumer position published in batches. */
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "ring_read.h"

/*
 * Why not libbpf's reader: it stores the consumer position after every
 * record. Every producer reads that word (to reserve room, and our traces
 * ask the ring's fill on each event), so each store moves its cache line
 * from this CPU to the producer's and back: a transfer per event on both
 * sides. Here it is stored once per PUBLISH_BYTES read, and always before
 * a drain returns, so the ring is never more than that much fuller than it
 * is, and a producer that commits after we stop sees us caught up and
 * wakes us, as with libbpf.
 */
#define PUBLISH_BYTES 16384u

/* The kernel's record header (kernel/bpf/ringbuf.c): a length word with two flags, then a page offset. */
#define HDR_SIZE 8u

int ring_read_open(struct ring_read *r, int map_fd, char *err, size_t errlen)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	long page = sysconf(_SC_PAGESIZE);
	void *cons, *prod;

	memset(r, 0, sizeof(*r));
	r->fd = -1;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len)) {
		snprintf(err, errlen, "ring buffer map: cannot read its info: %s", strerror(errno));
		return -1;
	}
	/* max_entries of a ring buffer is its data size, a power of 2 of whole pages (the kernel checks) */
	if (info.type != BPF_MAP_TYPE_RINGBUF || info.max_entries < (unsigned long)page ||
	    (info.max_entries & (info.max_entries - 1))) {
		snprintf(err, errlen, "map %u is not a ring buffer (type %u, %u bytes)", info.id, info.type,
			 info.max_entries);
		return -1;
	}
	/* page 0: the consumer position, ours to write; page 1: the producer's; then the data, mapped twice */
	cons = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (cons == MAP_FAILED) {
		snprintf(err, errlen, "ring buffer: cannot map its consumer page: %s", strerror(errno));
		return -1;
	}
	r->prod_len = (size_t)page + 2 * (size_t)info.max_entries;
	prod = mmap(NULL, r->prod_len, PROT_READ, MAP_SHARED, map_fd, page);
	if (prod == MAP_FAILED) {
		snprintf(err, errlen, "ring buffer: cannot map its %u data bytes: %s", info.max_entries, strerror(errno));
		munmap(cons, (size_t)page);
		return -1;
	}
	r->fd = map_fd;
	r->size = info.max_entries;
	r->consumer_pos = cons;
	r->producer_pos = prod;
	r->data = (const uint8_t *)prod + page;
	return 0;
}

static void publish(struct ring_read *r, uint64_t pos)
{
	__atomic_store_n(r->consumer_pos, (unsigned long)pos, __ATOMIC_RELEASE);
}

int ring_read_drain(struct ring_read *r, ring_read_fn fn, void *ctx)
{
	/* we are the one writer of it: what we last stored */
	uint64_t cons = __atomic_load_n(r->consumer_pos, __ATOMIC_RELAXED), published = cons;
	uint64_t every = r->size / 4 < PUBLISH_BYTES ? r->size / 4 : PUBLISH_BYTES;
	int n = 0;

	for (;;) {
		uint64_t prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);

		if (cons >= prod) {
			if (cons == published)
				return n;
			/* caught up: say so, then look once more for a record committed before the kernel saw it */
			publish(r, cons);
			published = cons;
			continue;
		}
		while (cons < prod) {
			const uint8_t *hdr = r->data + (cons & (r->size - 1));
			uint32_t len = __atomic_load_n((const uint32_t *)hdr, __ATOMIC_ACQUIRE);
			uint32_t body = len & ~(uint32_t)(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

			/* still being written: it and what follows wait for the next drain */
			if (len & BPF_RINGBUF_BUSY_BIT) {
				publish(r, cons);
				return n;
			}
			if (body > r->size - HDR_SIZE) {
				r->broken_at = cons;
				r->broken_len = len;
				publish(r, cons);
				return RING_READ_BROKEN;
			}
			cons += (body + HDR_SIZE + 7) & ~7ull;
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				int rc = fn(ctx, (void *)(hdr + HDR_SIZE), body);

				n++;
				if (rc < 0) {
					publish(r, cons);
					return rc;
				}
			}
			if (cons - published >= every) {
				publish(r, cons);
				published = cons;
			}
		}
	}
}

void ring_read_close(struct ring_read *r)
{
	long page = sysconf(_SC_PAGESIZE);

	if (r->consumer_pos)
		munmap(r->consumer_pos, (size_t)page);
	if (r->producer_pos)
		munmap((void *)r->producer_pos, r->prod_len);
	r->consumer_pos = NULL;
	r->producer_pos = NULL;
	r->fd = -1;
}
