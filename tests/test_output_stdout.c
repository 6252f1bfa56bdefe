/* test_output_stdout.c: the JSON line the stdout output writes for a record. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "output_stdout.h"
#include "suite_run.h"

static char *line_for(const msgpack_sbuffer *rec, const char *tag, struct evtime t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct output *o = output_stdout_new(f);

	ck_assert_int_eq(o->write(o, 0, tag, strlen(tag), t, rec->data, rec->size), 0);
	o->destroy(o);
	fclose(f);
	return buf;
}

START_TEST(json_line)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct evtime t = {1700000000u, 5u};
	char *line;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 4);
	msgpack_pack_str_with_body(&pk, "path", 4);
	msgpack_pack_str_with_body(&pk, "/tmp/a \"q\"\n\x01\xff", 13);
	msgpack_pack_str_with_body(&pk, "fd", 2);
	msgpack_pack_int32(&pk, -1);
	msgpack_pack_str_with_body(&pk, "size", 4);
	msgpack_pack_uint64(&pk, 18446744073709551615ULL);
	msgpack_pack_str_with_body(&pk, "ok", 2);
	msgpack_pack_true(&pk);
	line = line_for(&sb, "ebpf.vfs", t);
	ck_assert_str_eq(line, "{\"date\": 1700000000.000000005, \"tag\": \"ebpf.vfs\", "
			       "\"path\": \"/tmp/a \\\"q\\\"\\n\\u0001\\ufffd\", \"fd\": -1, "
			       "\"size\": 18446744073709551615, \"ok\": true}\n");
	free(line);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(valid_utf8_passes_through)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct evtime t = {1, 0};
	char *line;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 1);
	msgpack_pack_str_with_body(&pk, "p", 1);
	/* é, € and an emoji, then an overlong '/' that must not pass */
	msgpack_pack_str_with_body(&pk, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xc0\xaf", 11);
	line = line_for(&sb, "t", t);
	ck_assert_str_eq(line, "{\"date\": 1.000000000, \"tag\": \"t\", "
			       "\"p\": \"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\\ufffd\\ufffd\"}\n");
	free(line);
	msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(rejects_non_map)
{
	struct evtime t = {1, 0};
	FILE *f = fopen("/dev/null", "w");
	struct output *o = output_stdout_new(f);

	ck_assert_int_eq(o->write(o, 0, "t", 1, t, "\x93\x01\x02\x03", 4), -1);
	ck_assert_int_eq(o->write(o, 0, "t", 1, t, "\xde\x00", 2), -1);
	o->destroy(o);
	fclose(f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("output_stdout");
	TCase *tc = tcase_create("json");

	tcase_add_test(tc, json_line);
	tcase_add_test(tc, valid_utf8_passes_through);
	tcase_add_test(tc, rejects_non_map);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
