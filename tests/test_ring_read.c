/* test_ring_read.c: the ring reader against rings laid out as the kernel lays them out, and against a real ring map. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "ring_read.h"
#include "suite_run.h"

/* A ring in our own memory: the kernel's layout (kernel/bpf/ringbuf.c), its data twice in a row. */
struct fake {
	struct ring_read r;
	unsigned long cons, prod;
	uint8_t *data;
};

static void fake_init(struct fake *f, uint64_t size)
{
	memset(f, 0, sizeof(*f));
	f->data = calloc(2, size);
	ck_assert_ptr_nonnull(f->data);
	f->r.size = size;
	f->r.consumer_pos = &f->cons;
	f->r.producer_pos = &f->prod;
	f->r.data = f->data;
	f->r.fd = -1;
}

static void fake_free(struct fake *f)
{
	free(f->data);
}

/* Writes bytes at ring position pos into both copies, as the double mapping shows them. */
static void fake_write(struct fake *f, uint64_t pos, const void *src, size_t n)
{
	const uint8_t *s = src;

	for (size_t i = 0; i < n; i++) {
		uint64_t at = (pos + i) & (f->r.size - 1);

		f->data[at] = s[i];
		f->data[at + f->r.size] = s[i];
	}
}

/* Commits a record of n payload bytes (filled with fill) with extra flag bits in its length; returns its position. */
static uint64_t fake_put(struct fake *f, size_t n, uint8_t fill, uint32_t flags)
{
	uint64_t pos = f->prod;
	uint32_t hdr[2] = {(uint32_t)n | flags, 0};
	uint8_t body[4096];

	ck_assert_uint_le(n, sizeof(body));
	memset(body, fill, n);
	fake_write(f, pos, hdr, sizeof(hdr));
	fake_write(f, pos + 8, body, n);
	f->prod = pos + ((8 + n + 7) & ~(size_t)7);
	return pos;
}

struct seen {
	size_t n;
	size_t size[2048];
	uint8_t first[2048];
	unsigned long cons_at_call[2048];
	struct fake *f;
	int stop_at;      /* return -7 on this call (1-based), 0: never */
};

static int on_rec(void *ctx, void *data, size_t size)
{
	struct seen *s = ctx;

	ck_assert_uint_lt(s->n, 2048);
	s->size[s->n] = size;
	s->first[s->n] = size ? *(uint8_t *)data : 0;
	/* the bytes are all the same: the record is whole (also across the ring's end) */
	for (size_t i = 0; i < size; i++)
		ck_assert_uint_eq(((uint8_t *)data)[i], s->first[s->n]);
	s->cons_at_call[s->n] = s->f ? s->f->cons : 0;
	s->n++;
	return s->stop_at && (int)s->n == s->stop_at ? -7 : 0;
}

START_TEST(in_order_discarded_left_out)
{
	struct fake f;
	struct seen s = {0};

	fake_init(&f, 4096);
	fake_put(&f, 10, 'a', 0);
	fake_put(&f, 20, 'b', BPF_RINGBUF_DISCARD_BIT);
	fake_put(&f, 3, 'c', 0);
	ck_assert_int_eq(ring_read_drain(&f.r, on_rec, &s), 2);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_uint_eq(s.size[0], 10);
	ck_assert_uint_eq(s.first[0], 'a');
	ck_assert_uint_eq(s.size[1], 3);
	ck_assert_uint_eq(s.first[1], 'c');
	/* all read and said so: 8+10 -> 24, 8+20 -> 32, 8+3 -> 16 */
	ck_assert_uint_eq(f.cons, 72);
	ck_assert_uint_eq(f.cons, f.prod);
	/* nothing new: nothing read, nothing stored */
	ck_assert_int_eq(ring_read_drain(&f.r, on_rec, &s), 0);
	ck_assert_uint_eq(s.n, 2);
	fake_free(&f);
}
END_TEST

START_TEST(stops_at_a_record_still_written)
{
	struct fake f;
	struct seen s = {0};
	uint64_t busy;
	uint32_t done;

	fake_init(&f, 4096);
	fake_put(&f, 16, 'a', 0);
	busy = fake_put(&f, 16, 'b', BPF_RINGBUF_BUSY_BIT);
	fake_put(&f, 16, 'c', 0);
	ck_assert_int_eq(ring_read_drain(&f.r, on_rec, &s), 1);
	ck_assert_uint_eq(f.cons, busy);
	/* the producer commits it: the next drain takes it and what follows */
	done = 16;
	fake_write(&f, busy, &done, sizeof(done));
	ck_assert_int_eq(ring_read_drain(&f.r, on_rec, &s), 2);
	ck_assert_uint_eq(s.first[1], 'b');
	ck_assert_uint_eq(s.first[2], 'c');
	ck_assert_uint_eq(f.cons, f.prod);
	fake_free(&f);
}
END_TEST

START_TEST(record_across_the_end_is_whole)
{
	struct fake f;
	struct seen s = {0};

	fake_init(&f, 4096);
	/* start near the end: consumer and producer both at 4000 */
	f.cons = f.prod = 4000;
	fake_put(&f, 300, 'w', 0);
	fake_put(&f, 5, 'x', 0);
	ck_assert_int_eq(ring_read_drain(&f.r, on_rec, &s), 2);
	ck_assert_uint_eq(s.size[0], 300);
	ck_assert_uint_eq(s.first[0], 'w');
	ck_assert_uint_eq(s.first[1], 'x');
	ck_assert_uint_eq(f.cons, f.prod);
	fake_free(&f);
}
END_TEST

START_TEST(position_published_in_batches)
{
	struct fake f;
	struct seen s = {0};
	size_t distinct = 1;

	fake_init(&f, 1 << 20);
	s.f = &f;
	/* 1500 records of 100 + 8 -> 112 bytes: 168,000 bytes */
	for (int i = 0; i < 1500; i++)
		fake_put(&f, 100, (uint8_t)('a' + i % 26), 0);
	ck_assert_int_eq(ring_read_drain(&f.r, on_rec, &s), 1500);
	for (size_t i = 0; i < s.n; i++) {
		uint64_t pos = (uint64_t)i * 112;

		/* never ahead of what was handed over, never more than a batch and a record behind */
		ck_assert_uint_le(s.cons_at_call[i], pos);
		ck_assert_uint_le(pos - s.cons_at_call[i], 16384 + 112);
		if (i && s.cons_at_call[i] != s.cons_at_call[i - 1])
			distinct++;
	}
	/* about one store per 16 KiB, not one per record */
	ck_assert_uint_le(distinct, 168000 / 16384 + 2);
	ck_assert_uint_ge(distinct, 168000 / (16384 + 112));
	ck_assert_uint_eq(f.cons, f.prod);
	fake_free(&f);
}
END_TEST

START_TEST(handler_stop_keeps_the_record_read)
{
	struct fake f;
	struct seen s = {.stop_at = 2};

	fake_init(&f, 4096);
	fake_put(&f, 8, 'a', 0);
	fake_put(&f, 8, 'b', 0);
	fake_put(&f, 8, 'c', 0);
	ck_assert_int_eq(ring_read_drain(&f.r, on_rec, &s), -7);
	ck_assert_uint_eq(f.cons, 32);
	s.stop_at = 0;
	ck_assert_int_eq(ring_read_drain(&f.r, on_rec, &s), 1);
	ck_assert_uint_eq(s.first[2], 'c');
	fake_free(&f);
}
END_TEST

START_TEST(impossible_length_is_reported_not_followed)
{
	struct fake f;
	struct seen s = {0};
	uint64_t bad;

	fake_init(&f, 4096);
	fake_put(&f, 8, 'a', 0);
	bad = f.prod;
	/* a length word larger than the ring; nothing after it can be trusted */
	{
		uint32_t hdr[2] = {4096, 0};

		fake_write(&f, bad, hdr, sizeof(hdr));
		f.prod += 64;
	}
	ck_assert_int_eq(ring_read_drain(&f.r, on_rec, &s), RING_READ_BROKEN);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_uint_eq(f.r.broken_at, bad);
	ck_assert_uint_eq(f.r.broken_len, 4096);
	ck_assert_uint_eq(f.cons, bad);
	fake_free(&f);
}
END_TEST

/* The real thing: a ring map the kernel made, and a map that is not a ring (needs root, as the daemon). */
START_TEST(maps_a_real_ring_and_refuses_other_maps)
{
	struct ring_read r;
	struct seen s = {0};
	char err[256] = "";
	int ring, array;

	if (geteuid() != 0)
		return; /* CI runs as root; the kernel suites say so louder */
	ring = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "test_ring", 0, 0, 65536, NULL);
	ck_assert_int_ge(ring, 0);
	ck_assert_int_eq(ring_read_open(&r, ring, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.size, 65536);
	ck_assert_int_eq(r.fd, ring);
	ck_assert_uint_eq(*r.producer_pos, 0);
	ck_assert_int_eq(ring_read_drain(&r, on_rec, &s), 0);
	ring_read_close(&r);
	ring_read_close(&r);
	close(ring);

	array = bpf_map_create(BPF_MAP_TYPE_ARRAY, "test_array", 4, 8, 1, NULL);
	ck_assert_int_ge(array, 0);
	ck_assert_int_eq(ring_read_open(&r, array, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a ring buffer"));
	ring_read_close(&r);
	close(array);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ring_read");
	TCase *tc = tcase_create("read");

	tcase_add_test(tc, in_order_discarded_left_out);
	tcase_add_test(tc, stops_at_a_record_still_written);
	tcase_add_test(tc, record_across_the_end_is_whole);
	tcase_add_test(tc, position_published_in_batches);
	tcase_add_test(tc, handler_stop_keeps_the_record_read);
	tcase_add_test(tc, impossible_length_is_reported_not_followed);
	tcase_add_test(tc, maps_a_real_ring_and_refuses_other_maps);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
