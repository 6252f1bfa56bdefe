/* test_queue.c: the bounded frame queue: order, byte limit, which frames are dropped and counted. */
#include <check.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "queue.h"
#include "suite_run.h"

static struct fwd_chunk *chunk(size_t size, uint32_t entries, const char *id)
{
	uint8_t *buf = malloc(size);

	ck_assert_ptr_nonnull(buf);
	struct fwd_chunk *c;

	memset(buf, 0xab, size);
	c = fwd_chunk_new(buf, 0, size, entries, id);
	/* the allocator may round up: these tests count in whole frames of the size asked */
	c->held = size;
	return c;
}

START_TEST(fifo_order_and_bytes)
{
	struct fwd_queue q;
	struct fwd_chunk *a = chunk(100, 1, "a"), *b = chunk(200, 2, NULL);

	fwd_queue_init(&q, 1000);
	ck_assert_uint_eq(fwd_queue_push(&q, a, NULL), 0);
	ck_assert_uint_eq(fwd_queue_push(&q, b, NULL), 0);
	ck_assert_uint_eq(q.bytes, 300);
	ck_assert_uint_eq(q.count, 2);
	ck_assert_ptr_eq(fwd_queue_first(&q, FWD_CHUNK_QUEUED), a);
	ck_assert(a->has_id);
	ck_assert_str_eq(a->id, "a");
	ck_assert(!b->has_id);
	fwd_queue_remove(&q, a);
	ck_assert_ptr_eq(fwd_queue_first(&q, FWD_CHUNK_QUEUED), b);
	ck_assert_uint_eq(q.bytes, 200);
	ck_assert_uint_eq(fwd_queue_clear(&q), 2);
	ck_assert_uint_eq(q.count, 0);
	ck_assert_ptr_null(q.head);
	ck_assert_ptr_null(q.tail);
}
END_TEST

START_TEST(full_queue_drops_oldest_and_counts)
{
	struct fwd_queue q;
	struct fwd_chunk *c[5];

	fwd_queue_init(&q, 300);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(fwd_queue_push(&q, c[i] = chunk(100, 10 + (uint32_t)i, NULL), NULL), 0);
	/* the fourth pushes the first (10 entries) out */
	ck_assert_uint_eq(fwd_queue_push(&q, c[3] = chunk(100, 13, NULL), NULL), 10);
	ck_assert_ptr_eq(q.head, c[1]);
	ck_assert_uint_eq(q.dropped_chunks, 1);
	ck_assert_uint_eq(q.dropped_entries, 10);
	/* a large one pushes out as many as needed to fit under the limit, never itself */
	ck_assert_uint_eq(fwd_queue_push(&q, c[4] = chunk(250, 1, NULL), NULL), 11 + 12 + 13);
	ck_assert_ptr_eq(q.head, c[4]);
	ck_assert_uint_eq(q.bytes, 250);
	ck_assert_uint_eq(q.dropped_entries, 10 + 11 + 12 + 13);
	fwd_queue_clear(&q);
}
END_TEST

START_TEST(frames_on_the_wire_are_never_dropped)
{
	struct fwd_queue q;
	struct fwd_chunk *w = chunk(100, 1, "w"), *s = chunk(100, 2, "s"), *n;
	bool taken;

	fwd_queue_init(&q, 300);
	fwd_queue_push(&q, w, NULL);
	fwd_queue_push(&q, s, NULL);
	w->state = FWD_CHUNK_WRITING; /* libuv holds its bytes */
	s->state = FWD_CHUNK_SENT;    /* written, its ack may still come */
	ck_assert_uint_eq(fwd_queue_push(&q, n = chunk(100, 3, NULL), &taken), 0);
	ck_assert(taken);
	/* full: only the queued one may go, never one on the wire */
	ck_assert_uint_eq(fwd_queue_push(&q, chunk(100, 4, NULL), &taken), 3);
	ck_assert(taken);
	ck_assert_ptr_eq(q.head, w);
	ck_assert_ptr_eq(q.head->next, s);
	/* the queued one goes first; then, nothing droppable left, the newcomer itself, counted */
	ck_assert_uint_eq(fwd_queue_push(&q, chunk(150, 5, NULL), &taken), 4 + 5);
	ck_assert(!taken);
	ck_assert_uint_eq(q.count, 2);
	ck_assert_uint_eq(q.bytes, 200);
	ck_assert_uint_eq(q.dropped_entries, 3 + 4 + 5);
	ck_assert(fwd_queue_fits(&q, 100));
	ck_assert(!fwd_queue_fits(&q, 101));
	fwd_queue_requeue(&q);
	ck_assert_int_eq(w->state, FWD_CHUNK_QUEUED);
	fwd_queue_clear(&q);
}
END_TEST

/* A lendable queue keeps freed buffers for its own next frames, of about the size asked. */
START_TEST(a_lendable_queue_keeps_freed_buffers_for_the_next_frames)
{
	struct fwd_queue q, plain;
	struct fwd_chunk *a = chunk(100000, 1, "a");
	uint8_t *abuf = a->buf;
	size_t cap = 0;

	fwd_queue_init(&q, 1 << 20);
	fwd_queue_lendable(&q);
	fwd_queue_push(&q, a, NULL);
	fwd_queue_remove(&q, a);
	ck_assert_uint_eq(q.nkept, 1);
	ck_assert_ptr_null(fwd_queue_reuse(&q, 100001 + 4096, &cap)); /* too small */
	ck_assert_ptr_null(fwd_queue_reuse(&q, 20000, &cap));         /* more than four times what is asked */
	ck_assert(!fwd_queue_reused_since(&q));
	ck_assert_ptr_eq(fwd_queue_reuse(&q, 90000, &cap), abuf);
	ck_assert_uint_ge(cap, 100000);
	ck_assert(fwd_queue_reused_since(&q));
	ck_assert(!fwd_queue_reused_since(&q)); /* asked again: nothing since */
	ck_assert_uint_eq(q.nkept, 0);
	/* at most FWD_QUEUE_KEEP are kept; the rest go back to the heap */
	for (int i = 0; i < FWD_QUEUE_KEEP + 2; i++)
		fwd_queue_let_go(&q, malloc(1000));
	ck_assert_uint_eq(q.nkept, FWD_QUEUE_KEEP);
	/* a bigger one takes a small one's place: frames' buffers are what is asked for again */
	fwd_queue_let_go(&q, malloc(50000));
	ck_assert_uint_eq(q.nkept, FWD_QUEUE_KEEP);
	free(abuf);
	abuf = fwd_queue_reuse(&q, 40000, &cap);
	ck_assert_ptr_nonnull(abuf);
	ck_assert_uint_ge(cap, 50000);
	free(abuf);
	abuf = fwd_queue_reuse(&q, 900, &cap);
	ck_assert_ptr_nonnull(abuf); /* a small one stayed */
	fwd_queue_release_kept(&q);
	ck_assert_uint_eq(q.nkept, 0);
	free(abuf);
	/* a queue that lends nothing keeps nothing */
	fwd_queue_init(&plain, 1 << 20);
	fwd_queue_let_go(&plain, malloc(1000));
	ck_assert_uint_eq(plain.nkept, 0);
	ck_assert_ptr_null(fwd_queue_reuse(&plain, 10, &cap));
}
END_TEST

/* Whole pages of buf[0, n) that are resident, of the 13 after its first whole one (the allocator writes that one). */
static int resident_pages(uint8_t *buf)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *first = (uint8_t *)(((uintptr_t)buf + ps - 1) & ~(ps - 1));
	unsigned char vec[13];
	int resident = 0;

	ck_assert_int_eq(mincore(first + ps, 13 * ps, vec), 0);
	for (int i = 0; i < 13; i++)
		resident += vec[i] & 1;
	return resident;
}

/* Lendable memory leaving the queue for the heap has its pages replaced first: a socket may still read the old. */
START_TEST(lendable_buffers_leave_for_the_heap_with_fresh_pages)
{
	size_t n = 16 * (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *over = malloc(n), *kept = malloc(n), *guard = malloc(64); /* the guard keeps them off the heap's top */
	struct fwd_queue q;

	/* meson sets MALLOC_PERTURB_, and glibc would then write every freed byte: pages back in */
	mallopt(M_PERTURB, 0);
	ck_assert_ptr_nonnull(over);
	ck_assert_ptr_nonnull(kept);
	memset(over, 0xab, n);
	memset(kept, 0xab, n);
	fwd_queue_init(&q, 1 << 20);
	fwd_queue_lendable(&q);
	fwd_queue_let_go(&q, kept);
	for (int i = 1; i < FWD_QUEUE_KEEP; i++)
		fwd_queue_let_go(&q, malloc(2 * n));
	ck_assert_int_eq(resident_pages(kept), 13); /* kept as it is */
	fwd_queue_let_go(&q, over);                  /* one more than is kept, and the smallest: freed */
	ck_assert_msg(resident_pages(over) == 0, "%d of 13 pages of a freed buffer still resident", resident_pages(over));
	fwd_queue_release_kept(&q);
	ck_assert_msg(resident_pages(kept) == 0, "%d of 13 pages of a released buffer still resident",
		      resident_pages(kept));
	free(guard);
}
END_TEST

/* What counts is the memory a frame's buffer holds, not the frame's length: buffers grow by doubling. */
START_TEST(bytes_are_the_buffers)
{
	struct fwd_queue q;
	uint8_t *buf = malloc(4096);
	size_t held = malloc_usable_size(buf);

	fwd_queue_init(&q, 10000);
	fwd_queue_push(&q, fwd_chunk_new(buf, 20, 100, 1, NULL), NULL);
	ck_assert_uint_ge(held, 4096);
	ck_assert_uint_eq(q.bytes, held);
	ck_assert(fwd_queue_fits(&q, 10000 - held));
	ck_assert(!fwd_queue_fits(&q, 10000 - held + 1));
	fwd_queue_clear(&q);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("queue");
	TCase *tc = tcase_create("bounded");

	tcase_add_test(tc, fifo_order_and_bytes);
	tcase_add_test(tc, full_queue_drops_oldest_and_counts);
	tcase_add_test(tc, frames_on_the_wire_are_never_dropped);
	tcase_add_test(tc, bytes_are_the_buffers);
	tcase_add_test(tc, a_lendable_queue_keeps_freed_buffers_for_the_next_frames);
	tcase_add_test(tc, lendable_buffers_leave_for_the_heap_with_fresh_pages);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
