/* test_dns_wire.c: DNS message decoding on hand-made bytes (names, pointers, bad input) and the dns record the packer makes of them. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "dns_wire.h"
#include "events.h"
#include "schema.h"
#include "suite_run.h"

/* A message: a header (id 0x1234, flags, one question) and then the bytes given. */
struct msg {
	uint8_t b[1024];
	size_t n;
};

static void msg_init(struct msg *m, uint16_t flags, uint16_t qd, uint16_t an)
{
	memset(m, 0, sizeof(*m));
	m->b[0] = 0x12;
	m->b[1] = 0x34;
	m->b[2] = (uint8_t)(flags >> 8);
	m->b[3] = (uint8_t)flags;
	m->b[5] = (uint8_t)qd;
	m->b[7] = (uint8_t)an;
	m->n = DNS_WIRE_HDR_LEN;
}

static void msg_put(struct msg *m, const void *p, size_t n)
{
	ck_assert_uint_le(m->n + n, sizeof(m->b));
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

/* A dotted name as labels (no escapes), ending with the root. */
static void msg_name(struct msg *m, const char *dotted)
{
	const char *p = dotted;

	while (*p) {
		size_t l = strcspn(p, ".");
		uint8_t len = (uint8_t)l;

		msg_put(m, &len, 1);
		msg_put(m, p, l);
		p += l + (p[l] == '.');
	}
	msg_put(m, "", 1);
}

static void msg_u16(struct msg *m, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	msg_put(m, b, 2);
}

/* Decodes the name at off; returns the error, text in out. */
static int name_at(const struct msg *m, size_t *off, char *out, size_t cap)
{
	size_t len = 0;

	return dns_wire_name(m->b, m->n, off, out, cap, &len);
}

static char text[DNS_WIRE_TEXT_MAX];

START_TEST(plain_name_and_question)
{
	struct msg m;
	struct dns_wire_question q;
	size_t off = DNS_WIRE_HDR_LEN;

	msg_init(&m, 0x0100, 1, 0);
	msg_name(&m, "www.example.com");
	msg_u16(&m, 28);
	msg_u16(&m, 1);
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_OK);
	ck_assert_str_eq(text, "www.example.com");
	ck_assert_uint_eq(off, DNS_WIRE_HDR_LEN + 17);
	ck_assert_int_eq(dns_wire_question(m.b, m.n, &q), DNS_WIRE_OK);
	ck_assert_str_eq(q.name, "www.example.com");
	ck_assert_uint_eq(q.name_len, 15);
	ck_assert_uint_eq(q.qtype, 28);
	ck_assert_uint_eq(q.qclass, 1);
	ck_assert_uint_eq(dns_wire_num(m.b, m.n, DNS_WIRE_QTYPE), 28);
}
END_TEST

START_TEST(root_name)
{
	struct msg m;
	size_t off = DNS_WIRE_HDR_LEN;

	msg_init(&m, 0, 1, 0);
	msg_put(&m, "", 1);
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_OK);
	ck_assert_str_eq(text, ".");
	ck_assert_uint_eq(off, DNS_WIRE_HDR_LEN + 1);
}
END_TEST

START_TEST(label_of_63_and_64)
{
	struct msg m;
	char want[64];
	uint8_t l63 = 63, l64 = 64;
	size_t off = DNS_WIRE_HDR_LEN;

	memset(want, 'a', 63);
	want[63] = '\0';
	msg_init(&m, 0, 1, 0);
	msg_put(&m, &l63, 1);
	msg_put(&m, want, 63);
	msg_put(&m, "", 1);
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_OK);
	ck_assert_str_eq(text, want);
	/* 64 has the 0x40 bit: an extended label type, not a length */
	msg_init(&m, 0, 1, 0);
	msg_put(&m, &l64, 1);
	msg_put(&m, want, 63);
	msg_put(&m, "a", 2);
	off = DNS_WIRE_HDR_LEN;
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_BAD_LABEL);
}
END_TEST

/* A name of exactly wire bytes: labels of 63 and one to make up the rest. */
static void long_name(struct msg *m, size_t wire)
{
	uint8_t lab[64];
	size_t left = wire - 1; /* the root */

	memset(lab + 1, 'x', 63);
	while (left) {
		size_t l = left > 64 ? 63 : left - 1;

		if (left - (l + 1) == 1) /* a label needs 2 bytes at least: shorten this one */
			l--;
		lab[0] = (uint8_t)l;
		msg_put(m, lab, l + 1);
		left -= l + 1;
	}
	msg_put(m, "", 1);
}

START_TEST(name_of_255_bytes_and_256)
{
	struct msg m;
	size_t off = DNS_WIRE_HDR_LEN, len = 0;

	msg_init(&m, 0, 1, 0);
	long_name(&m, 255);
	ck_assert_uint_eq(m.n, DNS_WIRE_HDR_LEN + 255);
	ck_assert_int_eq(dns_wire_name(m.b, m.n, &off, text, sizeof(text), &len), DNS_WIRE_OK);
	ck_assert_uint_eq(off, DNS_WIRE_HDR_LEN + 255);
	ck_assert_uint_eq(len, strlen(text));
	msg_init(&m, 0, 1, 0);
	long_name(&m, 256);
	ck_assert_uint_eq(m.n, DNS_WIRE_HDR_LEN + 256);
	off = DNS_WIRE_HDR_LEN;
	ck_assert_int_eq(dns_wire_name(m.b, m.n, &off, text, sizeof(text), &len), DNS_WIRE_TOO_LONG);
}
END_TEST

START_TEST(every_byte_escaped_fits_the_text)
{
	struct msg m;
	uint8_t lab[64];
	size_t off = DNS_WIRE_HDR_LEN, len = 0;

	/* 250 label bytes of 0xff in 4 labels (3 of 63, one of 61: wire 255), each written \xff */
	msg_init(&m, 0, 1, 0);
	memset(lab + 1, 0xff, 63);
	lab[0] = 63;
	for (int i = 0; i < 3; i++)
		msg_put(&m, lab, 64);
	lab[0] = 61;
	msg_put(&m, lab, 62);
	msg_put(&m, "", 1);
	ck_assert_int_eq(dns_wire_name(m.b, m.n, &off, text, sizeof(text), &len), DNS_WIRE_OK);
	ck_assert_uint_eq(len, 250 * 4 + 3);
	ck_assert_uint_lt(len, DNS_WIRE_TEXT_MAX);
	/* a buffer one short says so, never writes past it */
	off = DNS_WIRE_HDR_LEN;
	ck_assert_int_eq(dns_wire_name(m.b, m.n, &off, text, len, &len), DNS_WIRE_NO_ROOM);
}
END_TEST

START_TEST(odd_bytes_are_escaped)
{
	static const uint8_t name[] = {3, 'a', '.', 'b', 2, '\\', ' ', 3, 0xff, 0x00, 0x7f, 1, 'Z', 0};
	struct msg m;
	size_t off = DNS_WIRE_HDR_LEN;

	msg_init(&m, 0, 1, 0);
	msg_put(&m, name, sizeof(name));
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_OK);
	ck_assert_str_eq(text, "a\\.b.\\\\\\x20.\\xff\\x00\\x7f.Z");
}
END_TEST

START_TEST(compression_pointers)
{
	struct msg m;
	size_t off, q = DNS_WIRE_HDR_LEN;
	uint8_t ptr_q[2] = {0xc0, DNS_WIRE_HDR_LEN};
	/* "example.com" of the question starts after "www" (4 bytes) */
	uint8_t ptr_ex[2] = {0xc0, DNS_WIRE_HDR_LEN + 4};
	size_t mail, chain;

	msg_init(&m, 0x8180, 1, 2);
	msg_name(&m, "www.example.com");
	msg_u16(&m, 1);
	msg_u16(&m, 1);
	/* an answer named by a pointer to the question */
	off = m.n;
	msg_put(&m, ptr_q, 2);
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_OK);
	ck_assert_str_eq(text, "www.example.com");
	ck_assert_uint_eq(off, m.n); /* past the pointer, not where it led */
	/* a label and then a pointer into the middle of a name */
	mail = m.n;
	msg_put(&m, "\x04mail", 5);
	msg_put(&m, ptr_ex, 2);
	off = mail;
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_OK);
	ck_assert_str_eq(text, "mail.example.com");
	/* pointer to a name that itself ends in a pointer */
	chain = m.n;
	msg_put(&m, "\x04smtp", 5);
	msg_put(&m, (uint8_t[]){0xc0, (uint8_t)mail}, 2);
	off = chain;
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_OK);
	ck_assert_str_eq(text, "smtp.mail.example.com");
	ck_assert_int_eq(name_at(&m, &q, text, sizeof(text)), DNS_WIRE_OK);
	ck_assert_uint_eq(dns_wire_num(m.b, m.n, DNS_WIRE_RCODE), 0);
	ck_assert_uint_eq(dns_wire_num(m.b, m.n, DNS_WIRE_ANCOUNT), 2);
}
END_TEST

START_TEST(pointer_loops)
{
	struct msg m;
	size_t off, self, a, b;

	/* a pointer to itself */
	msg_init(&m, 0x8180, 1, 1);
	self = m.n;
	msg_put(&m, (uint8_t[]){0xc0, (uint8_t)self}, 2);
	off = self;
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_LOOP);
	/* a label, then a pointer back to that label: the name would never end */
	msg_init(&m, 0x8180, 1, 1);
	a = m.n;
	msg_put(&m, "\x03""abc", 4);
	msg_put(&m, (uint8_t[]){0xc0, (uint8_t)a}, 2);
	off = a;
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_LOOP);
	/* two names pointing at each other: one of the two pointers is a forward one */
	msg_init(&m, 0x8180, 1, 1);
	a = m.n;
	b = a + 4;
	msg_put(&m, "\x01x", 2);
	msg_put(&m, (uint8_t[]){0xc0, (uint8_t)b}, 2);
	msg_put(&m, "\x01y", 2);
	msg_put(&m, (uint8_t[]){0xc0, (uint8_t)a}, 2);
	off = a;
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_BAD_POINTER);
	off = b;
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_BAD_POINTER);
	/* a jump from the second part back into it: the loop is caught there */
	msg_init(&m, 0x8180, 1, 1);
	a = m.n;
	msg_put(&m, "\x01p", 2);
	msg_put(&m, (uint8_t[]){0xc0, (uint8_t)(a + 2)}, 2); /* at a+2: points to itself */
	b = m.n;
	msg_put(&m, (uint8_t[]){0xc0, (uint8_t)a}, 2);
	off = b;
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_LOOP);
}
END_TEST

START_TEST(too_many_pointers)
{
	struct msg m;
	size_t off;

	/* a root, then 70 pointers each to the one before: every jump backwards, too many of them */
	msg_init(&m, 0x8180, 1, 1);
	msg_put(&m, "", 1);
	for (int i = 0; i < 70; i++) {
		size_t to = i ? m.n - 2 : DNS_WIRE_HDR_LEN;

		msg_put(&m, (uint8_t[]){(uint8_t)(0xc0 | to >> 8), (uint8_t)to}, 2);
	}
	off = m.n - 2;
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_LOOP);
	/* 64 of them are still followed */
	off = DNS_WIRE_HDR_LEN + 1 + 2 * 63;
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_OK);
	ck_assert_str_eq(text, ".");
}
END_TEST

START_TEST(pointer_past_the_end)
{
	struct msg m;
	size_t off;

	msg_init(&m, 0x8180, 1, 1);
	off = m.n;
	msg_put(&m, (uint8_t[]){0xff, 0xff}, 2);
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_BAD_POINTER);
	msg_init(&m, 0x8180, 1, 1);
	off = m.n;
	msg_put(&m, (uint8_t[]){0xc0, 200}, 2);
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_BAD_POINTER);
}
END_TEST

START_TEST(truncated_messages)
{
	struct msg m, full;
	struct dns_wire_question q;
	size_t off;

	msg_init(&full, 0x0100, 1, 0);
	msg_name(&full, "abc.de");
	msg_u16(&full, 1);
	msg_u16(&full, 1);
	ck_assert_int_eq(dns_wire_question(full.b, full.n, &q), DNS_WIRE_OK);
	/* every cut short of the whole question fails, none reads past the length */
	for (size_t n = 0; n < full.n; n++) {
		uint8_t *cut = malloc(n ? n : 1);

		memcpy(cut, full.b, n);
		ck_assert_int_eq(dns_wire_question(cut, n, &q), DNS_WIRE_TRUNCATED);
		ck_assert_uint_eq(dns_wire_num(cut, n, DNS_WIRE_QTYPE), 0);
		free(cut);
	}
	ck_assert_uint_eq(dns_wire_num(full.b, 11, DNS_WIRE_RCODE), 0);
	/* a pointer's second byte missing */
	msg_init(&m, 0, 1, 0);
	off = m.n;
	msg_put(&m, (uint8_t[]){0xc0}, 1);
	ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_TRUNCATED);
	/* no question at all */
	msg_init(&m, 0x8183, 0, 0);
	ck_assert_int_eq(dns_wire_question(m.b, m.n, &q), DNS_WIRE_NO_QUESTION);
	ck_assert_uint_eq(dns_wire_num(m.b, m.n, DNS_WIRE_RCODE), 3);
}
END_TEST

START_TEST(bad_label_types)
{
	struct msg m;
	size_t off;

	for (int t = 0x40; t <= 0x80; t += 0x40) {
		msg_init(&m, 0, 1, 0);
		off = m.n;
		msg_put(&m, (uint8_t[]){(uint8_t)(t | 1), 'a', 0}, 3);
		ck_assert_int_eq(name_at(&m, &off, text, sizeof(text)), DNS_WIRE_BAD_LABEL);
	}
	ck_assert_str_eq(dns_wire_strerror(DNS_WIRE_BAD_LABEL), "bad label type");
}
END_TEST

/* ---- the record ---- */

/* A dns event carrying msg; returns its size. */
static size_t make_dns(uint8_t *buf, const void *msg, size_t n)
{
	struct ev_dns e;

	memset(&e, 0, sizeof(e));
	e.h.type = EV_DNS;
	e.h.size = (uint16_t)(sizeof(e) + n);
	e.h.pid = 42;
	memcpy(e.h.comm, "dig", 3);
	e.response = 1;
	e.txid = 0x1234;
	e.latency_ns = 1500;
	e.matched = 1;
	e.family = 2;
	e.port = 53;
	memcpy(e.addr, "\x7f\x00\x00\x01", 4);
	e.syscall = EV_DNS_RECVFROM;
	e.msg_len = (uint32_t)n;
	e.msg.off = sizeof(e);
	e.msg.len = (uint16_t)n;
	memcpy(buf, &e, sizeof(e));
	memcpy(buf + sizeof(e), msg, n);
	return e.h.size;
}

static const msgpack_object *get(const msgpack_object *map, const char *key)
{
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[i];

		if (kv->key.via.str.size == strlen(key) && !memcmp(kv->key.via.str.ptr, key, strlen(key)))
			return &kv->val;
	}
	ck_abort_msg("no key %s", key);
	return NULL;
}

static void pack_and_check(const void *msg, size_t n, const char *query, uint64_t qtype, uint64_t rcode,
			   uint64_t answers)
{
	uint8_t buf[2048];
	struct mpbuf out;
	const char *where;
	msgpack_unpacked u;
	const msgpack_object *v;
	size_t size = make_dns(buf, msg, n);

	memset(&out, 0, sizeof(out));
	ck_assert_int_eq(schema_pack(&out, buf, size, &where), SCHEMA_OK);
	msgpack_unpacked_init(&u);
	ck_assert_int_eq(msgpack_unpack_next(&u, (const char *)out.p, out.len, NULL), MSGPACK_UNPACK_SUCCESS);
	v = get(&u.data, "query");
	ck_assert_int_eq(v->type, MSGPACK_OBJECT_STR);
	ck_assert_uint_eq(v->via.str.size, strlen(query));
	ck_assert(memcmp(v->via.str.ptr, query, v->via.str.size) == 0);
	ck_assert_uint_eq(get(&u.data, "query_type")->via.u64, qtype);
	ck_assert_uint_eq(get(&u.data, "rcode")->via.u64, rcode);
	ck_assert_uint_eq(get(&u.data, "answers")->via.u64, answers);
	ck_assert_uint_eq(get(&u.data, "txid")->via.u64, 0x1234);
	v = get(&u.data, "server");
	ck_assert(v->via.str.size == 9 && memcmp(v->via.str.ptr, "127.0.0.1", 9) == 0);
	v = get(&u.data, "syscall");
	ck_assert(v->via.str.size == 8 && memcmp(v->via.str.ptr, "recvfrom", 8) == 0);
	ck_assert_int_eq(get(&u.data, "matched")->type, MSGPACK_OBJECT_BOOLEAN);
	msgpack_unpacked_destroy(&u);
	mpbuf_free(&out);
}

START_TEST(record_keys_in_order)
{
	static const char *const want[] = {
		"event_type", "event_id", "pid", "tid", "comm",
		"query", "query_type", "txid", "response", "rcode", "latency_ns", "error_raw",
		"matched", "answers", "server", "server_port", "syscall", "fd", "msg_len",
		"ppid", "uid", "gid", "mntns_id", "cgroup_id", "container_id"};
	const char *keys[32];
	size_t n = schema_keys(EV_DNS, keys, 32);

	ck_assert_uint_eq(n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(keys[i], want[i]);
}
END_TEST

START_TEST(record_of_a_response)
{
	struct msg m;

	msg_init(&m, 0x8183, 1, 1);
	msg_name(&m, "nx.test");
	msg_u16(&m, 1);
	msg_u16(&m, 1);
	msg_put(&m, (uint8_t[]){0xc0, 12}, 2);
	pack_and_check(m.b, m.n, "nx.test", 1, 3, 1);
}
END_TEST

START_TEST(record_of_bad_bytes_is_unknown)
{
	struct msg m;
	uint8_t big[EV_DNS_MSG_MAX];

	/* nothing, a short message, a bad label, a loop: still a record, with <unknown> */
	pack_and_check("", 0, "<unknown>", 0, 0, 0);
	pack_and_check("\x12\x34\x81", 3, "<unknown>", 0, 0, 0);
	msg_init(&m, 0x8182, 1, 0);
	msg_put(&m, (uint8_t[]){0x41, 'a', 0}, 3);
	pack_and_check(m.b, m.n, "<unknown>", 0, 2, 0);
	msg_init(&m, 0x8180, 1, 0);
	msg_put(&m, (uint8_t[]){0xc0, 12}, 2);
	pack_and_check(m.b, m.n, "<unknown>", 0, 0, 0);
	/* escapes longer than the message still fit the reservation */
	msg_init(&m, 0x0100, 1, 0);
	memcpy(big, m.b, m.n);
	memset(big + m.n, 0, sizeof(big) - m.n);
	for (int i = 0; i < 4; i++) {
		big[m.n + i * 64] = 63;
		memset(big + m.n + i * 64 + 1, i == 3 ? 0 : 0x80, 63);
	}
	big[m.n + 3 * 64] = 61;
	{
		char want[1100], *w = want;

		for (int i = 0; i < 3; i++) {
			for (int j = 0; j < 63; j++)
				w += sprintf(w, "\\x80");
			*w++ = '.';
		}
		for (int j = 0; j < 61; j++)
			w += sprintf(w, "\\x00");
		pack_and_check(big, sizeof(big), want, 0, 0, 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dns_wire");
	TCase *tc = tcase_create("names");
	TCase *rec = tcase_create("record");

	tcase_add_test(tc, plain_name_and_question);
	tcase_add_test(tc, root_name);
	tcase_add_test(tc, label_of_63_and_64);
	tcase_add_test(tc, name_of_255_bytes_and_256);
	tcase_add_test(tc, every_byte_escaped_fits_the_text);
	tcase_add_test(tc, odd_bytes_are_escaped);
	tcase_add_test(tc, compression_pointers);
	tcase_add_test(tc, pointer_loops);
	tcase_add_test(tc, too_many_pointers);
	tcase_add_test(tc, pointer_past_the_end);
	tcase_add_test(tc, truncated_messages);
	tcase_add_test(tc, bad_label_types);
	suite_add_tcase(s, tc);
	tcase_add_test(rec, record_keys_in_order);
	tcase_add_test(rec, record_of_a_response);
	tcase_add_test(rec, record_of_bad_bytes_is_unknown);
	suite_add_tcase(s, rec);
	return suite_run(s);
}
