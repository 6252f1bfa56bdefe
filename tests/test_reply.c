/* test_reply.c: the receiver's ack parsed from bytes: each id encoding, input cut anywhere, bad shapes, the size bound. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "suite_run.h"

/* {"ack": id} with the id as str of the given form (0xa0: fixstr, 0xd9: str8, 0xda: str16). */
static size_t ack_bytes(uint8_t *b, uint8_t form, const char *id, size_t len)
{
	size_t n = 0;

	b[n++] = 0x81;
	b[n++] = 0xa3;
	memcpy(b + n, "ack", 3);
	n += 3;
	if (form == 0xa0) {
		b[n++] = (uint8_t)(0xa0 | len);
	} else if (form == 0xd9) {
		b[n++] = 0xd9;
		b[n++] = (uint8_t)len;
	} else {
		b[n++] = 0xda;
		b[n++] = (uint8_t)(len >> 8);
		b[n++] = (uint8_t)len;
	}
	memcpy(b + n, id, len);
	return n + len;
}

/* Parses exactly one whole ack and checks its id; every shorter prefix needs more bytes. */
static void whole_ack(uint8_t form, size_t len)
{
	char id[1024];
	uint8_t b[1100];
	const char *got = NULL;
	size_t n, glen = 0;

	for (size_t i = 0; i < len; i++)
		id[i] = (char)('a' + i % 26);
	n = ack_bytes(b, form, id, len);
	ck_assert_int_eq(fwd_reply_ack(b, n, &got, &glen), (int)n);
	ck_assert_uint_eq(glen, len);
	ck_assert_ptr_eq(got, (const char *)b + n - len);
	ck_assert(memcmp(got, id, len) == 0);
	for (size_t cut = 1; cut < n; cut++)
		ck_assert_msg(fwd_reply_ack(b, cut, &got, &glen) == 0, "form %#x len %zu cut at %zu", form, len, cut);
}

START_TEST(fixstr_ids)
{
	whole_ack(0xa0, 0);
	whole_ack(0xa0, 1);
	whole_ack(0xa0, 24);
	whole_ack(0xa0, 31);
}
END_TEST

START_TEST(str8_ids)
{
	whole_ack(0xd9, 0);
	whole_ack(0xd9, 24);
	whole_ack(0xd9, 32);
	whole_ack(0xd9, 255);
}
END_TEST

START_TEST(str16_ids)
{
	whole_ack(0xda, 0);
	whole_ack(0xda, 256);
	/* the largest that fits: 8 bytes of map, key and str16 header, then the id */
	whole_ack(0xda, FWD_REPLY_MAX - 8);
}
END_TEST

START_TEST(two_acks_in_a_row)
{
	uint8_t b[128];
	const char *id;
	size_t idlen, n = ack_bytes(b, 0xa0, "first", 5);
	int r;

	n += ack_bytes(b + n, 0xd9, "second", 6);
	r = fwd_reply_ack(b, n, &id, &idlen);
	ck_assert_int_eq(r, 11);
	ck_assert_uint_eq(idlen, 5);
	ck_assert(memcmp(id, "first", 5) == 0);
	ck_assert_int_eq(fwd_reply_ack(b + r, n - (size_t)r, &id, &idlen), 13);
	ck_assert_uint_eq(idlen, 6);
	ck_assert(memcmp(id, "second", 6) == 0);
}
END_TEST

START_TEST(partial_input)
{
	uint8_t b[64] = {0};
	const char *id;
	size_t idlen;

	/* nothing yet, and each byte of the head alone */
	ck_assert_int_eq(fwd_reply_ack(b, 0, &id, &idlen), 0);
	ack_bytes(b, 0xda, "x", 1);
	for (size_t n = 1; n <= 8; n++)
		ck_assert_int_eq(fwd_reply_ack(b, n, &id, &idlen), 0);
	ck_assert_int_eq(fwd_reply_ack(b, 9, &id, &idlen), 9);
}
END_TEST

START_TEST(bad_shapes)
{
	static const struct {
		const char *what;
		uint8_t b[16];
		size_t n;
	} bad[] = {
		{"a map of two", {0x82, 0xa3, 'a', 'c', 'k', 0xa1, 'x'}, 7},
		{"not a map", {0x91, 0xa3, 'a', 'c', 'k'}, 5},
		{"map16 header", {0xde, 0x00, 0x01, 0xa3, 'a', 'c', 'k', 0xa1, 'x'}, 9},
		{"another key", {0x81, 0xa3, 'a', 'c', 'x', 0xa1, 'x'}, 7},
		{"key of 4 bytes", {0x81, 0xa4, 'a', 'c', 'k', 's', 0xa1, 'x'}, 8},
		{"key as str8", {0x81, 0xd9, 3, 'a', 'c', 'k', 0xa1, 'x'}, 8},
		{"upper case key", {0x81, 0xa3, 'A', 'C', 'K', 0xa1, 'x'}, 7},
		{"id as bin8", {0x81, 0xa3, 'a', 'c', 'k', 0xc4, 1, 'x'}, 8},
		{"id as str32", {0x81, 0xa3, 'a', 'c', 'k', 0xdb, 0, 0, 0, 1, 'x'}, 11},
		{"id as an integer", {0x81, 0xa3, 'a', 'c', 'k', 0x01}, 6},
		{"id as nil", {0x81, 0xa3, 'a', 'c', 'k', 0xc0}, 6},
		{"id as a map", {0x81, 0xa3, 'a', 'c', 'k', 0x80}, 6},
		{"wrong first byte alone", {0x80}, 1},
	};
	const char *id;
	size_t idlen;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(fwd_reply_ack(bad[i].b, bad[i].n, &id, &idlen) == -1, "%s", bad[i].what);
}
END_TEST

START_TEST(id_longer_than_the_bound)
{
	static uint8_t b[70000];
	const char *id;
	size_t idlen;

	/* one byte over: refused at once, from its header alone, not waited for */
	ack_bytes(b, 0xda, "", 0);
	b[6] = (uint8_t)((FWD_REPLY_MAX - 7) >> 8);
	b[7] = (uint8_t)(FWD_REPLY_MAX - 7);
	ck_assert_int_eq(fwd_reply_ack(b, 8, &id, &idlen), -1);
	ck_assert_int_eq(fwd_reply_ack(b, FWD_REPLY_MAX + 1, &id, &idlen), -1);
	/* the largest str16 */
	b[6] = 0xff;
	b[7] = 0xff;
	ck_assert_int_eq(fwd_reply_ack(b, sizeof(b), &id, &idlen), -1);
	/* str8 ids are at most 255 bytes: always within the bound */
	b[5] = 0xd9;
	b[6] = 0xff;
	ck_assert_int_eq(fwd_reply_ack(b, 7 + 255, &id, &idlen), 7 + 255);
	ck_assert_uint_eq(idlen, 255);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reply");
	TCase *tc = tcase_create("ack");

	tcase_add_test(tc, fixstr_ids);
	tcase_add_test(tc, str8_ids);
	tcase_add_test(tc, str16_ids);
	tcase_add_test(tc, two_acks_in_a_row);
	tcase_add_test(tc, partial_input);
	tcase_add_test(tc, bad_shapes);
	tcase_add_test(tc, id_longer_than_the_bound);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
