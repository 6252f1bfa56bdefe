/* test_pack.c: Forward frames against bytes computed by hand from the Forward and msgpack specs. */
#include <check.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zlib.h>

#include "pack.h"
#include "suite_run.h"

START_TEST(eventtime_bytes)
{
	uint8_t b[FWD_EVENTTIME_SIZE];
	static const uint8_t want[] = {0xd7, 0x00, 0x65, 0x53, 0xf1, 0x00, 0x3b, 0x9a, 0xc9, 0xff};
	static const uint8_t capped[] = {0xd7, 0x00, 0xff, 0xff, 0xff, 0xfd, 0x00, 0x00, 0x00, 0x01};

	fwd_pack_eventtime(b, 1700000000u, 999999999u);
	ck_assert_mem_eq(b, want, sizeof(want));
	/* 0xFFFFFFFF and 0xFFFFFFFE are Fluent Bit's markers: never sent */
	fwd_pack_eventtime(b, 0xFFFFFFFFu, 1);
	ck_assert_mem_eq(b, capped, sizeof(capped));
}
END_TEST

/* Two entries: {"a": 1} at 1700000000.000000005 and {"b": "x"} at 1700000001.999999999. */
static void two_entries(struct fwd_frame *f)
{
	static const uint8_t r1[] = {0x81, 0xa1, 'a', 0x01};
	static const uint8_t r2[] = {0x81, 0xa1, 'b', 0xa1, 'x'};

	ck_assert_int_eq(fwd_frame_init(f, "ebpf", 4, 16), 0);
	ck_assert_int_eq(fwd_frame_add(f, 1700000000u, 5u, r1, sizeof(r1)), 0);
	ck_assert_int_eq(fwd_frame_add(f, 1700000001u, 999999999u, r2, sizeof(r2)), 0);
}

static const uint8_t entries[] = {
	/* [EventTime(1700000000, 5), {"a": 1}] */
	0x92, 0xd7, 0x00, 0x65, 0x53, 0xf1, 0x00, 0x00, 0x00, 0x00, 0x05, 0x81, 0xa1, 'a', 0x01,
	/* [EventTime(1700000001, 999999999), {"b": "x"}] */
	0x92, 0xd7, 0x00, 0x65, 0x53, 0xf1, 0x01, 0x3b, 0x9a, 0xc9, 0xff, 0x81, 0xa1, 'b', 0xa1, 'x',
};

START_TEST(packed_forward_two_entries)
{
	/* ["ebpf", bin8(31 bytes of entries), {"size": 2, "fluent_signal": 0}] */
	static const uint8_t head[] = {0x93, 0xa4, 'e', 'b', 'p', 'f', 0xc4, 0x1f};
	static const uint8_t opts[] = {0x82, 0xa4, 's', 'i', 'z', 'e', 0x02, 0xad, 'f', 'l', 'u', 'e',
				       'n', 't', '_', 's', 'i', 'g', 'n', 'a', 'l', 0x00};
	uint8_t want[sizeof(head) + sizeof(entries) + sizeof(opts)];
	struct fwd_frame f;

	memcpy(want, head, sizeof(head));
	memcpy(want + sizeof(head), entries, sizeof(entries));
	memcpy(want + sizeof(head) + sizeof(entries), opts, sizeof(opts));
	two_entries(&f);
	ck_assert_uint_eq(fwd_frame_payload(&f), sizeof(entries));
	ck_assert_int_eq(fwd_frame_seal(&f, NULL), 0);
	ck_assert_uint_eq(fwd_frame_size(&f), sizeof(want));
	ck_assert_mem_eq(fwd_frame_data(&f), want, sizeof(want));
	fwd_frame_free(&f);
}
END_TEST

/*
 * A frame in lendable memory (a buffer the client kept) has the same bytes;
 * when it outgrows the buffer it moves out, and the old buffer's pages are
 * forgotten on the way back to the heap (lent.h), not handed on as they are.
 */
START_TEST(a_frame_in_lendable_memory_grows_out_with_its_old_pages_forgotten)
{
	static const uint8_t r1[] = {0x81, 0xa1, 'a', 0x01};
	size_t ps = (size_t)sysconf(_SC_PAGESIZE), n = 16 * ps;
	uint8_t *buf = malloc(n), *guard = malloc(64), *big = malloc(2 * n);
	uint8_t *first = (uint8_t *)(((uintptr_t)buf + ps - 1) & ~(ps - 1));
	unsigned char vec[13];
	int resident = 0;
	struct fwd_frame f;

	/* meson sets MALLOC_PERTURB_, and glibc would then write every freed byte: pages back in */
	mallopt(M_PERTURB, 0);
	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(big);
	memset(buf, 0xab, n);
	fwd_frame_init_in(&f, "ebpf", 4, buf, n);
	ck_assert_int_eq(fwd_frame_add(&f, 1700000000u, 5u, r1, sizeof(r1)), 0);
	ck_assert_ptr_eq(f.b.p, buf);
	ck_assert(f.b.lent);
	/* a record twice the buffer: the frame moves */
	big[0] = 0xc6; /* bin32 header, then its bytes: one msgpack item */
	big[1] = 0; big[2] = (uint8_t)((2 * n - 5) >> 16); big[3] = (uint8_t)((2 * n - 5) >> 8); big[4] = (uint8_t)(2 * n - 5);
	memset(big + 5, 'z', 2 * n - 5);
	ck_assert_int_eq(fwd_frame_add(&f, 1700000001u, 0, big, 2 * n), 0);
	ck_assert_ptr_ne(f.b.p, buf);
	ck_assert(!f.b.lent);
	ck_assert_mem_eq(f.b.p + f.body, entries, 15); /* the first entry came along */
	ck_assert_int_eq(mincore(first + ps, 13 * ps, vec), 0);
	for (int i = 0; i < 13; i++)
		resident += vec[i] & 1;
	ck_assert_msg(resident == 0, "%d of 13 pages of the buffer left behind are still resident", resident);
	ck_assert_uint_eq(fwd_frame_payload(&f), 15 + 11 + 2 * n);
	ck_assert_int_eq(fwd_frame_seal(&f, NULL), 0);
	fwd_frame_free(&f);
	free(big);
	free(guard);
}
END_TEST

/* The same two entries, the first packed in place, and an entry taken back between them. */
START_TEST(entries_packed_in_place_and_taken_back)
{
	static const uint8_t r1[] = {0x81, 0xa1, 'a', 0x01};
	static const uint8_t r2[] = {0x81, 0xa1, 'b', 0xa1, 'x'};
	struct fwd_frame f, g;
	struct mpbuf *b;
	size_t mark;

	two_entries(&g);
	ck_assert_int_eq(fwd_frame_seal(&g, NULL), 0);
	ck_assert_int_eq(fwd_frame_init(&f, "ebpf", 4, 16), 0);
	b = fwd_frame_begin(&f, 1700000000u, 5u, &mark);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(mpbuf_reserve(b, sizeof(r1)), 0);
	memcpy(b->p + b->len, r1, sizeof(r1));
	b->len += sizeof(r1);
	fwd_frame_end(&f);
	/* a packer that failed halfway: its time and bytes go, and it is not counted */
	b = fwd_frame_begin(&f, 1800000000u, 7u, &mark);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(mpbuf_reserve(b, 3), 0);
	memcpy(b->p + b->len, "\x83\xa1z", 3);
	b->len += 3;
	fwd_frame_cancel(&f, mark);
	ck_assert_int_eq(fwd_frame_add(&f, 1700000001u, 999999999u, r2, sizeof(r2)), 0);
	ck_assert_uint_eq(fwd_frame_payload(&f), sizeof(entries));
	ck_assert_int_eq(fwd_frame_seal(&f, NULL), 0);
	ck_assert_uint_eq(fwd_frame_size(&f), fwd_frame_size(&g));
	ck_assert_mem_eq(fwd_frame_data(&f), fwd_frame_data(&g), fwd_frame_size(&g));
	fwd_frame_free(&f);
	fwd_frame_free(&g);
}
END_TEST

START_TEST(packed_forward_with_chunk)
{
	static const char chunk[] = "AAECAwQFBgcAAAAAAAAAAA==";
	static const uint8_t tail[] = {0x83, 0xa4, 's', 'i', 'z', 'e', 0x02, 0xad, 'f', 'l', 'u', 'e',
				       'n', 't', '_', 's', 'i', 'g', 'n', 'a', 'l', 0x00,
				       0xa5, 'c', 'h', 'u', 'n', 'k', 0xb8};
	struct fwd_frame f;
	const uint8_t *d;
	size_t n;

	two_entries(&f);
	ck_assert_int_eq(fwd_frame_seal(&f, chunk), 0);
	d = fwd_frame_data(&f);
	n = fwd_frame_size(&f);
	ck_assert_uint_eq(n, 8 + sizeof(entries) + sizeof(tail) + 24);
	ck_assert_mem_eq(d + 8, entries, sizeof(entries));
	ck_assert_mem_eq(d + 8 + sizeof(entries), tail, sizeof(tail));
	ck_assert_mem_eq(d + n - 24, chunk, 24);
	fwd_frame_free(&f);
}
END_TEST

START_TEST(gzip_frame_holds_the_same_entries)
{
	/* ["ebpf", bin(gzip of the entries), {"size": 2, "fluent_signal": 0, "compressed": "gzip"}] */
	static const uint8_t opts[] = {0x83, 0xa4, 's', 'i', 'z', 'e', 0x02, 0xad, 'f', 'l', 'u', 'e',
				       'n', 't', '_', 's', 'i', 'g', 'n', 'a', 'l', 0x00,
				       0xaa, 'c', 'o', 'm', 'p', 'r', 'e', 's', 's', 'e', 'd',
				       0xa4, 'g', 'z', 'i', 'p'};
	struct fwd_frame f;
	const uint8_t *d;
	uint8_t out[256];
	size_t n, glen;
	z_stream z;

	two_entries(&f);
	ck_assert_int_eq(fwd_frame_seal_gzip(&f, NULL), 0);
	d = fwd_frame_data(&f);
	n = fwd_frame_size(&f);
	ck_assert_mem_eq(d, "\x93\xa4" "ebpf" "\xc4", 7);
	glen = d[7];
	ck_assert_uint_eq(n, 8 + glen + sizeof(opts));
	/* a gzip member (1f 8b), which in_forward sniffs for */
	ck_assert_uint_eq(d[8], 0x1f);
	ck_assert_uint_eq(d[9], 0x8b);
	ck_assert_mem_eq(d + 8 + glen, opts, sizeof(opts));
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)(d + 8);
	z.avail_in = (uInt)glen;
	z.next_out = out;
	z.avail_out = sizeof(out);
	ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
	ck_assert_uint_eq(z.total_out, sizeof(entries));
	ck_assert_mem_eq(out, entries, sizeof(entries));
	inflateEnd(&z);
	fwd_frame_free(&f);
}
END_TEST

START_TEST(large_payload_uses_bin32_and_long_tag_str8)
{
	char tag[40];
	uint8_t rec[300];
	struct fwd_frame f;
	const uint8_t *d;
	size_t start, size;
	uint8_t *owned;

	memset(tag, 't', sizeof(tag));
	memset(rec, 0, sizeof(rec));
	rec[0] = 0xc5; /* not a map, but the frame does not look inside */
	ck_assert_int_eq(fwd_frame_init(&f, tag, sizeof(tag), 0), 0);
	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(fwd_frame_add(&f, 1, 2, rec, sizeof(rec)), 0);
	ck_assert_int_eq(fwd_frame_seal(&f, NULL), 0);
	d = fwd_frame_data(&f);
	ck_assert_uint_eq(d[0], 0x93);
	ck_assert_uint_eq(d[1], 0xd9); /* str8: tag of 40 bytes */
	ck_assert_uint_eq(d[2], 40);
	ck_assert_uint_eq(d[43], 0xc6); /* bin32: 300 * 311 = 93300 bytes */
	ck_assert_uint_eq(((uint32_t)d[44] << 24) | ((uint32_t)d[45] << 16) | ((uint32_t)d[46] << 8) | d[47],
			  300u * 311u);
	/* options say size 300: uint16 */
	ck_assert_uint_eq(d[48 + 93300 + 6], 0xcd);
	owned = fwd_frame_take(&f, &start, &size);
	ck_assert_ptr_eq(owned + start, d);
	free(owned);
}
END_TEST

START_TEST(chunk_ids_are_unique_base64)
{
	struct fwd_chunk_ids ids;
	char a[FWD_CHUNK_ID_LEN + 1], b[FWD_CHUNK_ID_LEN + 1];

	ck_assert_int_eq(fwd_chunk_ids_init(&ids), 0);
	fwd_chunk_id_next(&ids, a);
	fwd_chunk_id_next(&ids, b);
	ck_assert_uint_eq(strlen(a), 24);
	ck_assert_str_ne(a, b);
	ck_assert_str_eq(a + 22, "==");
	for (int i = 0; i < 22; i++)
		ck_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", a[i]));
	/* same prefix, counter differs in the last bytes */
	ck_assert_int_eq(memcmp(a, b, 10), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pack");
	TCase *tc = tcase_create("frames");

	tcase_add_test(tc, eventtime_bytes);
	tcase_add_test(tc, packed_forward_two_entries);
	tcase_add_test(tc, a_frame_in_lendable_memory_grows_out_with_its_old_pages_forgotten);
	tcase_add_test(tc, entries_packed_in_place_and_taken_back);
	tcase_add_test(tc, packed_forward_with_chunk);
	tcase_add_test(tc, gzip_frame_holds_the_same_entries);
	tcase_add_test(tc, large_payload_uses_bin32_and_long_tag_str8);
	tcase_add_test(tc, chunk_ids_are_unique_base64);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
