/* test_schema.c: the packer against hand-computed msgpack bytes, and its checks on bad ring data. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include <msgpack.h>

#include "schema.h"
#include "strsafe.h"
#include "suite_run.h"

/* A vfs event as the kernel would write it: fixed part, then the path. */
static size_t make_vfs(uint8_t *buf, const char *path)
{
	struct ev_vfs e;
	size_t plen = strlen(path);

	memset(&e, 0, sizeof(e));
	e.h.type = EV_VFS;
	e.h.size = (uint16_t)(sizeof(e) + plen + 1);
	e.h.pid = 1234;
	e.h.tid = 1235;
	e.h.ppid = 1;
	e.h.uid = 1000;
	e.h.gid = 1000;
	e.h.ts_ns = 5000000000ULL;
	e.h.event_id = (1ULL << 48) | 7;
	e.h.mntns_id = 4026531841ULL;
	e.h.cgroup_id = 1;
	memcpy(e.h.comm, "cat", 3);
	e.operation = EV_VFS_OPENAT;
	e.flags = 0x80000;
	e.mode = 0;
	e.fd = 3;
	e.error_raw = 0;
	e.path.off = sizeof(e);
	e.path.len = (uint16_t)plen;
	/* no resolved_path: empty, at the end */
	e.resolved_path.off = e.h.size;
	memcpy(buf, &e, sizeof(e));
	memcpy(buf + sizeof(e), path, plen + 1);
	return e.h.size;
}

static struct mpbuf out;
/* the packed record's bytes and length, for the asserts */
#define sb_data ((const char *)out.p)
#define sb_size (out.len)

static void setup(void)
{
	memset(&out, 0, sizeof(out));
}

static void teardown(void)
{
	mpbuf_free(&out);
}

START_TEST(vfs_exact_bytes)
{
	/* Computed by hand from the msgpack spec: map16 of 22 pairs, fixstr keys. */
	static const char expect[] =
		"\xde\x00\x16"
		"\xaa" "event_type" "\xa3" "vfs"
		"\xa8" "event_id" "\xcf\x00\x01\x00\x00\x00\x00\x00\x07"
		"\xa3" "pid" "\xcd\x04\xd2"
		"\xa3" "tid" "\xcd\x04\xd3"
		"\xa4" "comm" "\xa3" "cat"
		"\xa9" "operation" "\x00"
		"\xa4" "path" "\xaa" "/etc/hosts"
		"\xa5" "flags" "\xce\x00\x08\x00\x00"
		"\xa4" "mode" "\x00"
		"\xa2" "fd" "\x03"
		"\xa9" "error_raw" "\x00"
		"\xae" "operation_name" "\xa6" "openat"
		"\xae" "path_truncated" "\xc2" /* false */
		"\xa7" "resolve" "\x00"
		"\xad" "resolved_path" "\xa0" /* "" */
		"\xb2" "resolved_truncated" "\xc2" /* false */
		"\xa4" "ppid" "\x01"
		"\xa3" "uid" "\xcd\x03\xe8"
		"\xa3" "gid" "\xcd\x03\xe8"
		"\xa8" "mntns_id" "\xce\xf0\x00\x00\x01"
		"\xa9" "cgroup_id" "\x01"
		/* no cgroup tree opened (container_start): not looked up, and said so */
		"\xac" "container_id" "\xa9" "<unknown>";
	uint8_t buf[512];
	size_t n = make_vfs(buf, "/etc/hosts");
	const char *where;

	ck_assert_int_eq(schema_pack(&out, buf, n, &where), SCHEMA_OK);
	ck_assert_uint_eq(sb_size, sizeof(expect) - 1);
	ck_assert_mem_eq(sb_data, expect, sizeof(expect) - 1);
}
END_TEST

/* A name is its table's slot, and "unknown" past the table; only its own bytes count (the next key follows). */
START_TEST(names_by_value_and_past_the_table)
{
	static const struct {
		uint32_t op;
		const char *bytes; /* no NUL among them: strlen is their length */
	} cases[] = {
		{EV_VFS_OPENAT2, "\xae" "operation_name" "\xa7" "openat2" "\xae" "path_truncated"},
		{EV_VFS_CREAT, "\xae" "operation_name" "\xa5" "creat" "\xae" "path_truncated"},
		{99, "\xae" "operation_name" "\xa7" "unknown" "\xae" "path_truncated"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[512];
		size_t n = make_vfs(buf, "/etc/hosts");
		struct ev_vfs e;
		const char *where;

		memcpy(&e, buf, sizeof(e));
		e.operation = (int32_t)cases[i].op;
		memcpy(buf, &e, sizeof(e));
		out.len = 0;
		ck_assert_int_eq(schema_pack(&out, buf, n, &where), SCHEMA_OK);
		ck_assert_msg(memmem(sb_data, sb_size, cases[i].bytes, strlen(cases[i].bytes)) != NULL, "operation %u: name not as expected",
			      cases[i].op);
	}
}
END_TEST

START_TEST(signal_exact_bytes)
{
	/* A signal event: a smaller map (fixmap), a name lookup, uint16 and fixint values. */
	static const char expect[] =
		"\xde\x00\x10" /* map16: 16 pairs */
		"\xaa" "event_type" "\xa6" "signal"
		"\xa8" "event_id" "\x05"
		"\xa3" "pid" "\x0a"
		"\xa3" "tid" "\x0b"
		"\xa4" "comm" "\xa4" "kill"
		"\xa6" "signal" "\x0a"
		"\xa4" "tpid" "\xcd\x01\x2c"
		"\xa9" "error_raw" "\x03"
		"\xa7" "syscall" "\xa6" "tgkill"
		"\xa6" "target" "\xd0\x9c"
		"\xa4" "ppid" "\x01"
		"\xa3" "uid" "\x00"
		"\xa3" "gid" "\x00"
		"\xa8" "mntns_id" "\x00"
		"\xa9" "cgroup_id" "\x00"
		"\xac" "container_id" "\xa9" "<unknown>";
	struct ev_signal e;
	const char *where;

	memset(&e, 0, sizeof(e));
	e.h.type = EV_SIGNAL;
	e.h.size = sizeof(e);
	e.h.pid = 10;
	e.h.tid = 11;
	e.h.ppid = 1;
	e.h.event_id = 5;
	/* comm exactly 16 bytes would have no NUL; "kill" is padded */
	memcpy(e.h.comm, "kill", 4);
	e.sig = 10;
	e.tpid = 300;
	e.error_raw = 3;
	e.syscall = EV_SIG_TGKILL;
	e.target = -100; /* below the negative fixint range (-32): int8 d0 9c */
	ck_assert_int_eq(schema_pack(&out, &e, sizeof(e), &where), SCHEMA_OK);
	ck_assert_uint_eq(sb_size, sizeof(expect) - 1);
	ck_assert_mem_eq(sb_data, expect, sizeof(expect) - 1);
}
END_TEST

START_TEST(comm_of_16_without_nul)
{
	struct ev_signal e;
	const char *where;
	msgpack_unpacked u;
	size_t off = 0;

	memset(&e, 0, sizeof(e));
	e.h.type = EV_SIGNAL;
	e.h.size = sizeof(e);
	memcpy(e.h.comm, "0123456789abcdef", 16);
	ck_assert_int_eq(schema_pack(&out, &e, sizeof(e), &where), SCHEMA_OK);
	msgpack_unpacked_init(&u);
	ck_assert_int_eq(msgpack_unpack_next(&u, sb_data, sb_size, &off), MSGPACK_UNPACK_SUCCESS);
	ck_assert_uint_eq(off, sb_size);
	/* pair 4 is comm */
	ck_assert_str_eq(u.data.via.map.ptr[4].key.via.str.ptr[0] == 'c' ? "comm" : "?", "comm");
	ck_assert_uint_eq(u.data.via.map.ptr[4].val.via.str.size, 16);
	ck_assert_mem_eq(u.data.via.map.ptr[4].val.via.str.ptr, "0123456789abcdef", 16);
	msgpack_unpacked_destroy(&u);
}
END_TEST

START_TEST(bind_address_and_protocol)
{
	struct ev_bind e;
	const char *keys[40];
	const char *where;
	msgpack_unpacked u;
	size_t off = 0, nkeys;

	memset(&e, 0, sizeof(e));
	e.h.type = EV_BIND;
	e.h.size = sizeof(e);
	e.family = 10; /* AF_INET6 */
	e.addr[15] = 1; /* ::1 */
	e.port = 8080;
	e.protocol = 17;
	ck_assert_int_eq(schema_pack(&out, &e, sizeof(e), &where), SCHEMA_OK);
	msgpack_unpacked_init(&u);
	ck_assert_int_eq(msgpack_unpack_next(&u, sb_data, sb_size, &off), MSGPACK_UNPACK_SUCCESS);
	nkeys = schema_keys(EV_BIND, keys, 40);
	ck_assert_uint_eq(nkeys, u.data.via.map.size);
	for (size_t i = 0; i < nkeys; i++) {
		const msgpack_object *v = &u.data.via.map.ptr[i].val;

		ck_assert_int_eq(memcmp(u.data.via.map.ptr[i].key.via.str.ptr, keys[i], strlen(keys[i])), 0);
		if (strcmp(keys[i], "addr") == 0)
			ck_assert_int_eq(strncmp(v->via.str.ptr, "::1", v->via.str.size), 0);
		if (strcmp(keys[i], "protocol") == 0)
			ck_assert_int_eq(strncmp(v->via.str.ptr, "udp", v->via.str.size), 0);
		if (strcmp(keys[i], "port") == 0)
			ck_assert_uint_eq(v->via.u64, 8080);
	}
	/* in_ebpf repeats pid and comm in bind records; we must not */
	for (size_t i = 0; i < nkeys; i++)
		for (size_t j = i + 1; j < nkeys; j++)
			ck_assert_str_ne(keys[i], keys[j]);
	msgpack_unpacked_destroy(&u);
}
END_TEST

START_TEST(rejects_bad_ring_data)
{
	uint8_t buf[512];
	size_t n = make_vfs(buf, "/etc/hosts");
	struct ev_vfs *e = (struct ev_vfs *)buf;
	const char *where;

	ck_assert_int_eq(schema_pack(&out, buf, 10, &where), SCHEMA_SHORT);
	ck_assert_int_eq(schema_pack(&out, buf, n + 8, &where), SCHEMA_BAD_SIZE);
	e->h.type = 999;
	ck_assert_int_eq(schema_pack(&out, buf, n, &where), SCHEMA_UNKNOWN_TYPE);
	e->h.type = EV_VFS;
	e->path.len = 400;
	ck_assert_int_eq(schema_pack(&out, buf, n, &where), SCHEMA_BAD_STRING);
	ck_assert_str_eq(where, "path");
	e->path.len = 10;
	e->path.off = 4; /* inside the header */
	ck_assert_int_eq(schema_pack(&out, buf, n, &where), SCHEMA_BAD_STRING);
	/* a vfs header claiming to be smaller than a vfs event */
	e->h.size = sizeof(struct ev_hdr) + 4;
	ck_assert_int_eq(schema_pack(&out, buf, e->h.size, &where), SCHEMA_TOO_SMALL);
	/* nothing was packed by any failure */
	ck_assert_uint_eq(sb_size, 0);
}
END_TEST

/*
 * Strings may share bytes (argv_last can be argv's own): a 2048-byte exec
 * record whose five strings all cover the same 1,900 bytes packs five copies,
 * far more than the record's size. Under ASan this wrote past the reserved room.
 */
START_TEST(overlapping_strings_fit)
{
	static uint8_t buf[EV_MAX_SIZE];
	struct ev_exec e;
	const char *where;
	msgpack_unpacked u;
	size_t off = 0, len = 1900;
	const msgpack_object *m;
	int strs = 0;

	memset(&e, 0, sizeof(e));
	e.h.type = EV_EXEC;
	e.h.size = EV_MAX_SIZE;
	e.filename = e.argv0 = e.argv1 = e.argv2 = e.argv_last = (struct ev_str){sizeof(e), (uint16_t)len};
	e.args = (struct ev_str){sizeof(e), 0};
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, &e, sizeof(e));
	ck_assert_int_eq(schema_pack(&out, buf, sizeof(buf), &where), SCHEMA_OK);
	ck_assert_uint_le(sb_size, out.cap);
	ck_assert_uint_gt(sb_size, 5 * len);
	msgpack_unpacked_init(&u);
	ck_assert_int_eq(msgpack_unpack_next(&u, sb_data, sb_size, &off), MSGPACK_UNPACK_SUCCESS);
	ck_assert_uint_eq(off, sb_size);
	m = &u.data;
	for (uint32_t i = 0; i < m->via.map.size; i++)
		if (m->via.map.ptr[i].val.type == MSGPACK_OBJECT_STR && m->via.map.ptr[i].val.via.str.size == len)
			strs++;
	ck_assert_int_eq(strs, 5);
	msgpack_unpacked_destroy(&u);
}
END_TEST

/* The packed str under key in the record just packed: its bytes (header included) and length. */
static const uint8_t *packed_value(const char *key, size_t *len)
{
	uint8_t k[40];
	size_t kl = strlen(key);
	const uint8_t *at;

	k[0] = (uint8_t)(0xa0 | kl);
	memcpy(k + 1, key, kl);
	at = memmem(out.p, out.len, k, kl + 1);
	ck_assert_msg(at, "no key %s", key);
	at += kl + 1;
	*len = out.len - (size_t)(at - out.p);
	return at;
}

/*
 * Every kind of byte the escape treats, in a path: a backslash, bytes that
 * are not UTF-8 (a lone 0xff, an overlong '/', a surrogate, past U+10FFFF,
 * a sequence cut by the end), valid ones (euro, CJK, emoji) and a control
 * character, which pass. Byte for byte, header included.
 */
START_TEST(strings_escaped_byte_for_byte)
{
	static const char path[] = "a\\b\xff\xe2\x82\xac\xe6\x97\xa5\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80"
				   "\xf0\x9f\x98\x80\x01\xe2\x82";
	static const char want[] = "a\\\\b\\xff\xe2\x82\xac\xe6\x97\xa5\\xc0\\xaf\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80"
				   "\xf0\x9f\x98\x80\x01\\xe2\\x82";
	uint8_t buf[512];
	size_t n = make_vfs(buf, path), len;
	const uint8_t *v;
	const char *where;

	/* and a comm that is not UTF-8: the kernel takes any bytes */
	memcpy(buf + offsetof(struct ev_hdr, comm), "x\xfey", 4);
	ck_assert_int_eq(schema_pack(&out, buf, n, &where), SCHEMA_OK);
	v = packed_value("path", &len);
	ck_assert_uint_eq(v[0], 0xd9); /* str8: 55 bytes */
	ck_assert_uint_eq(v[1], sizeof(want) - 1);
	ck_assert_uint_ge(len, 2 + sizeof(want) - 1);
	ck_assert_mem_eq(v + 2, want, sizeof(want) - 1);
	v = packed_value("comm", &len);
	ck_assert_uint_ge(len, 7);
	ck_assert_mem_eq(v, "\xa6" "x\\xfey", 7);
}
END_TEST

/* The escape's word-at-a-time scan, with the byte that needs it at every offset of strings up to 40 bytes. */
START_TEST(escape_at_every_offset)
{
	uint8_t s[48], o[256], want[256];

	for (size_t n = 1; n <= 40; n++)
		for (size_t at = 0; at < n; at++) {
			memset(s, 'a', n);
			s[at] = '\\';
			ck_assert_uint_eq(strsafe_len(s, n), n + 1);
			ck_assert_uint_eq(strsafe_write(o, s, n), n + 1);
			memset(want, 'a', n + 1);
			want[at] = want[at + 1] = '\\';
			ck_assert_mem_eq(o, want, n + 1);
			s[at] = 0xff;
			ck_assert_uint_eq(strsafe_len(s, n), n + 3);
			ck_assert_uint_eq(strsafe_write(o, s, n), n + 3);
			memset(want, 'a', n + 3);
			memcpy(want + at, "\\xff", 4);
			ck_assert_mem_eq(o, want, n + 3);
			/* as a str: its header is the escaped length's (one byte more past 31) */
			ck_assert_uint_eq(strsafe_put(o, s, n), (n + 3 < 32 ? 1 : 2) + n + 3);
			ck_assert_uint_eq(o[0], n + 3 < 32 ? 0xa0 | (n + 3) : 0xd9);
			ck_assert_mem_eq(o + (n + 3 < 32 ? 1 : 2), want, n + 3);
			/* valid UTF-8 at the same place: as it is, header and all */
			if (at + 2 <= n) {
				s[at] = 0xc3, s[at + 1] = 0xa9;
				ck_assert_uint_eq(strsafe_len(s, n), n);
				ck_assert_uint_eq(strsafe_put(o, s, n), (n < 32 ? 1 : 2) + n);
				ck_assert_mem_eq(o + (n < 32 ? 1 : 2), s, n);
			}
		}
	ck_assert_uint_eq(strsafe_put(o, (const uint8_t *)"", 0), 1);
	ck_assert_uint_eq(o[0], 0xa0);
	/* 254 bytes that escape to 257: str8's header becomes str16's, the text moved up */
	{
		static uint8_t big[254], bo[STRSAFE_MAX(254)];

		memset(big, 'b', sizeof(big));
		big[253] = 0xfe;
		ck_assert_uint_eq(strsafe_put(bo, big, sizeof(big)), 3 + 257);
		ck_assert_mem_eq(bo, "\xda\x01\x01", 3);
		ck_assert_uint_eq(bo[3], 'b');
		ck_assert_mem_eq(bo + 3 + 253, "\\xfe", 4);
	}
}
END_TEST

/* A 16-byte comm field: as strsafe_put of its bytes up to the first NUL, at every length, with an escape anywhere. */
START_TEST(comm_field_at_every_length)
{
	static const uint8_t odd[] = {'\\', 0xff, 0xc3, 0x80};
	uint8_t s[16], o[STRSAFE_MAX(16) + 16], want[STRSAFE_MAX(16)];

	for (size_t n = 0; n <= 16; n++)
		for (size_t at = 0; at <= n; at++)
			for (size_t k = 0; k < sizeof(odd); k++) {
				size_t wl;

				/* what follows the NUL must not matter: not even bytes that would need escapes */
				memset(s, 0xfe, sizeof(s));
				memset(s, 'c', n);
				if (n < 16)
					s[n] = 0;
				if (at < n)
					s[at] = odd[k];
				wl = strsafe_put(want, s, n);
				memset(o, 0x55, sizeof(o));
				ck_assert_uint_eq(strsafe_put_nul16(o, s), wl);
				ck_assert_mem_eq(o, want, wl);
			}
}
END_TEST

/* An exec event with args (NUL-terminated arguments, as the kernel copied them). */
static size_t make_exec_args(uint8_t *buf, const char *args, size_t alen)
{
	struct ev_exec e;

	memset(&e, 0, sizeof(e));
	e.h.type = EV_EXEC;
	e.h.size = (uint16_t)(sizeof(e) + alen);
	e.stage = EV_EXEC_EXIT;
	e.filename = e.argv0 = e.argv1 = e.argv2 = e.argv_last = (struct ev_str){sizeof(e), 0};
	e.args = (struct ev_str){sizeof(e), (uint16_t)alen};
	memcpy(buf, &e, sizeof(e));
	memcpy(buf + sizeof(e), args, alen);
	return e.h.size;
}

static void assert_args(const char *args, size_t alen, const char *want)
{
	static uint8_t buf[EV_MAX_SIZE];
	size_t n = make_exec_args(buf, args, alen), len, wl = strlen(want);
	msgpack_unpacked u;
	const uint8_t *v;
	const char *where;
	size_t off = 0;

	out.len = 0;
	ck_assert_int_eq(schema_pack(&out, buf, n, &where), SCHEMA_OK);
	v = packed_value("args", &len);
	msgpack_unpacked_init(&u);
	ck_assert_int_eq(msgpack_unpack_next(&u, (const char *)v, len, &off), MSGPACK_UNPACK_SUCCESS);
	ck_assert_int_eq(u.data.type, MSGPACK_OBJECT_STR);
	/* (an empty str's ptr may be NULL: no memcmp on it) */
	ck_assert_msg(u.data.via.str.size == wl && (!wl || memcmp(u.data.via.str.ptr, want, wl) == 0), "args %.*s, not %s",
		      (int)u.data.via.str.size, u.data.via.str.ptr, want);
	msgpack_unpacked_destroy(&u);
}

/* args: shell words joined by spaces (quoted when needed, ' as '"'"'), then escaped like any string. */
START_TEST(args_quoted_joined_and_escaped)
{
	static const char args[] = "a b\0it's \"q\"\0back\\slash\0\0\xff\xfe\0\xe2\x82\xac\0plain-1.0=x,y:z@%+/_\0";

	assert_args(args, sizeof(args) - 1,
		    "'a b' 'it'\"'\"'s \"q\"' 'back\\\\slash' '' '\\xff\\xfe' '\xe2\x82\xac' plain-1.0=x,y:z@%+/_");
	/* cut at Exec_Args_Max: the last argument has no NUL */
	assert_args("abc\0de", 6, "abc de");
	assert_args("abc\0", 4, "abc");
	assert_args("\0", 1, "''");
	assert_args("", 0, "");
	assert_args("$(rm -rf /)\0`x`\0a;b\0*\0~\0", 24, "'$(rm -rf /)' '`x`' 'a;b' '*' '~'");
}
END_TEST

/*
 * The worst case the packer reserves for: every string of an EV_MAX_SIZE
 * record on the same bytes that each become four (\xHH), args on quotes that
 * each become five. Under ASan a short reservation writes past the buffer.
 */
START_TEST(worst_case_escapes_fit)
{
	static uint8_t buf[EV_MAX_SIZE];
	struct ev_exec e;
	size_t len = EV_MAX_SIZE - sizeof(e);
	const char *where;

	memset(&e, 0, sizeof(e));
	e.h.type = EV_EXEC;
	e.h.size = EV_MAX_SIZE;
	e.filename = e.argv0 = e.argv1 = e.argv2 = e.argv_last = (struct ev_str){sizeof(e), (uint16_t)len};
	e.args = (struct ev_str){sizeof(e), (uint16_t)len};
	memset(buf, 0xff, sizeof(buf));
	memcpy(buf, &e, sizeof(e));
	ck_assert_int_eq(schema_pack(&out, buf, sizeof(buf), &where), SCHEMA_OK);
	ck_assert_uint_gt(out.len, 5 * 4 * len);
	memset(buf + sizeof(e), '\'', len);
	out.len = 0;
	ck_assert_int_eq(schema_pack(&out, buf, sizeof(buf), &where), SCHEMA_OK);
	ck_assert_uint_le(out.len, out.cap);
}
END_TEST

/* A ring record over EV_MAX_SIZE is refused whatever its header says. */
START_TEST(rejects_records_over_the_bound)
{
	static uint8_t buf[EV_MAX_SIZE + 8];
	const char *where;

	memset(buf, 0, sizeof(buf));
	((struct ev_hdr *)buf)->type = EV_VFS;
	ck_assert_int_eq(schema_pack(&out, buf, EV_MAX_SIZE + 1, &where), SCHEMA_TOO_LARGE);
	ck_assert_uint_eq(out.len, 0);
}
END_TEST

START_TEST(every_type_has_in_ebpf_keys_first)
{
	static const struct {
		uint16_t type;
		const char *keys[12];
	} want[] = {
		{EV_EXEC, {"stage", "ppid", "filename", "argv", "argv1", "argv2", "argv_last", "argc", "error_raw"}},
		{EV_SIGNAL, {"signal", "tpid"}},
		{EV_MALLOC, {"operation", "address", "size"}},
		{EV_BIND, {"uid", "gid", "error_raw", "port", "bound_dev_if"}},
		{EV_VFS, {"operation", "path", "flags", "mode", "fd", "error_raw"}},
	};
	const char *common[] = {"event_type", "event_id", "pid", "tid", "comm"};
	const char *keys[40];

	for (size_t t = 0; t < sizeof(want) / sizeof(want[0]); t++) {
		size_t n = schema_keys(want[t].type, keys, 40), k = 0;

		for (size_t i = 0; i < 5; i++)
			ck_assert_str_eq(keys[k++], common[i]);
		for (size_t i = 0; want[t].keys[i]; i++)
			ck_assert_str_eq(keys[k++], want[t].keys[i]);
		ck_assert_uint_ge(n, k);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("schema");
	TCase *tc = tcase_create("pack");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, vfs_exact_bytes);
	tcase_add_test(tc, signal_exact_bytes);
	tcase_add_test(tc, names_by_value_and_past_the_table);
	tcase_add_test(tc, comm_of_16_without_nul);
	tcase_add_test(tc, bind_address_and_protocol);
	tcase_add_test(tc, rejects_bad_ring_data);
	tcase_add_test(tc, overlapping_strings_fit);
	tcase_add_test(tc, every_type_has_in_ebpf_keys_first);
	tcase_add_test(tc, strings_escaped_byte_for_byte);
	tcase_add_test(tc, escape_at_every_offset);
	tcase_add_test(tc, comm_field_at_every_length);
	tcase_add_test(tc, args_quoted_joined_and_escaped);
	tcase_add_test(tc, worst_case_escapes_fit);
	tcase_add_test(tc, rejects_records_over_the_bound);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
