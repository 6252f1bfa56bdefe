/* test_auth.c: the handshake's pieces with exact bytes: digests, the PING, HELO and PONG parsing and their refusals. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "mpbuf.h"
#include "suite_run.h"

/*
 * The vectors: nonce = bytes 00..0f, auth salt = 10..1f, our salt = a0..af,
 * Self_Hostname "ebpf-host", Shared_Key "s3cret", user "alice" / "wonderland",
 * the receiver "fluent-bit". The digests were computed apart from this code:
 *
 *   python3 -c 'import hashlib; n=bytes(range(16)); a=bytes(range(16,32)); s=bytes(range(0xa0,0xb0));
 *     print(hashlib.sha512(s+b"ebpf-host"+n+b"s3cret").hexdigest());
 *     print(hashlib.sha512(a+b"alice"+b"wonderland").hexdigest());
 *     print(hashlib.sha512(s+b"fluent-bit"+n+b"s3cret").hexdigest())'
 *
 * and the first again with
 *   printf '\xa0...\xafebpf-host\x00...\x0fs3cret' | openssl dgst -sha512
 */
#define PING_DIGEST                                                                                                    \
	"9b56ac3f1a6f3c2dfd83c9ebd4aa6f62a0299bc063bec0e9a9a81d235221fffaa3f7957b02afb9952bd032e9ee87c13a5306aa6866e5709ecaf75bb147f12dbc"
#define PASSWORD_DIGEST                                                                                                \
	"1daaa509348956e57b66eac22905c8523d4cae77ae602b745834b30762d493440eaacaf99aba596782a998527ac292460787abde8b7f028b7b83f4cb9f9af932"
#define PONG_DIGEST                                                                                                    \
	"32f540bafde3c7858d903e1061e17ad78f793a4b90ac94936d14e1299832716f8284fecccc58d3d2b7e4d636bc7d6534526bd76a1992f66e922034614534129d"

static uint8_t nonce[16], auth_salt[16], salt[16];

static void vectors(void)
{
	for (int i = 0; i < 16; i++) {
		nonce[i] = (uint8_t)i;
		auth_salt[i] = (uint8_t)(0x10 + i);
		salt[i] = (uint8_t)(0xa0 + i);
	}
}

static struct fwd_helo helo_of(bool with_auth)
{
	struct fwd_helo h = {.keepalive = true};

	vectors();
	memcpy(h.nonce, nonce, 16);
	h.nonce_len = 16;
	if (with_auth) {
		memcpy(h.auth, auth_salt, 16);
		h.auth_len = 16;
	}
	return h;
}

static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

START_TEST(sha512_of_the_parts_is_the_independent_digest)
{
	const char *host = "ebpf-host", *key = "s3cret";
	const void *parts[4];
	size_t lens[4] = {16, 9, 16, 6};
	char hex[FWD_AUTH_HEX_LEN + 1];

	vectors();
	parts[0] = salt;
	parts[1] = host;
	parts[2] = nonce;
	parts[3] = key;
	ck_assert_int_eq(fwd_auth_sha512_hex(parts, lens, 4, hex), 0);
	ck_assert_str_eq(hex, PING_DIGEST);
}
END_TEST

START_TEST(ping_with_user_auth_has_these_exact_bytes)
{
	struct fwd_helo h = helo_of(true);
	struct fwd_auth_creds cr = {"s3cret", "ebpf-host", "alice", "wonderland"};
	uint8_t out[FWD_AUTH_PING_MAX], want[512];
	size_t w = 0;
	char err[256];
	int n = fwd_auth_build_ping(&h, salt, &cr, out, sizeof(out), err, sizeof(err));

	/* [ "PING", "ebpf-host", str16 salt, str8 128 hex, "alice", str8 128 hex ], as msgpack-c packs it */
	want[w++] = 0x96;
	memcpy(want + w, "\xa4PING\xa9" "ebpf-host\xb0", 16);
	w += 16;
	memcpy(want + w, salt, 16);
	w += 16;
	memcpy(want + w, "\xd9\x80" PING_DIGEST "\xa5" "alice\xd9\x80" PASSWORD_DIGEST, 2 + 128 + 6 + 2 + 128);
	w += 2 + 128 + 6 + 2 + 128;
	ck_assert_msg(n > 0, "%s", err);
	ck_assert_uint_eq((size_t)n, w);
	ck_assert_uint_eq(w, 299);
	ck_assert_mem_eq(out, want, w);
}
END_TEST

START_TEST(ping_without_user_auth_ends_in_two_empty_strs)
{
	struct fwd_auth_creds no_user = {"s3cret", "ebpf-host", NULL, NULL};
	struct fwd_auth_creds user = {"s3cret", "ebpf-host", "alice", "wonderland"};
	uint8_t out[FWD_AUTH_PING_MAX];
	char err[256];

	/* the receiver asks (auth salt), but no Username is set */
	struct fwd_helo h = helo_of(true);
	int n = fwd_auth_build_ping(&h, salt, &no_user, out, sizeof(out), err, sizeof(err));

	ck_assert_int_eq(n, 1 + 5 + 10 + 17 + 130 + 2);
	ck_assert_mem_eq(out + 33, "\xd9\x80" PING_DIGEST "\xa0\xa0", 132);
	/* a Username, but the receiver asks for none (an empty auth salt, as Fluentd sends) */
	h = helo_of(false);
	n = fwd_auth_build_ping(&h, salt, &user, out, sizeof(out), err, sizeof(err));
	ck_assert_int_eq(n, 1 + 5 + 10 + 17 + 130 + 2);
	ck_assert_mem_eq(out + n - 2, "\xa0\xa0", 2);
}
END_TEST

START_TEST(ping_default_hostname_and_limits)
{
	struct fwd_helo h = helo_of(false);
	char longname[300], err[256];
	struct fwd_auth_creds cr = {"s3cret", NULL, NULL, NULL};
	uint8_t out[FWD_AUTH_PING_MAX];
	int n = fwd_auth_build_ping(&h, salt, &cr, out, sizeof(out), err, sizeof(err));

	/* no Self_Hostname: "localhost", Fluent Bit's default */
	ck_assert_int_gt(n, 0);
	ck_assert_mem_eq(out + 6, "\xa9localhost", 10);
	memset(longname, 'h', 256);
	longname[256] = '\0';
	cr.self_hostname = longname;
	ck_assert_int_eq(fwd_auth_build_ping(&h, salt, &cr, out, sizeof(out), err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "Self_Hostname is 256 bytes long"));
	cr.self_hostname = "ebpf-host";
	cr.shared_key = "";
	ck_assert_int_eq(fwd_auth_build_ping(&h, salt, &cr, out, sizeof(out), err, sizeof(err)), -1);
	cr.shared_key = "s3cret";
	ck_assert_int_eq(fwd_auth_build_ping(&h, salt, &cr, out, 100, err, sizeof(err)), -1);
}
END_TEST

/* Fluent Bit in_forward's HELO: msgpack.packb([b"HELO", {b"nonce": n, b"auth": a}], use_bin_type=False) */
static const char fluent_bit_helo[] =
	"92a448454c4f82a56e6f6e6365b0000102030405060708090a0b0c0d0e0fa461757468b0101112131415161718191a1b1c1d1e1f";

START_TEST(helo_of_fluent_bit_parses_and_every_prefix_needs_more)
{
	uint8_t b[128];
	size_t n = unhex(fluent_bit_helo, b);
	struct fwd_helo h;
	char err[256];

	vectors();
	ck_assert_int_eq(fwd_auth_parse_helo(b, n, &h, err, sizeof(err)), (int)n);
	ck_assert_uint_eq(h.nonce_len, 16);
	ck_assert_mem_eq(h.nonce, nonce, 16);
	ck_assert_uint_eq(h.auth_len, 16);
	ck_assert_mem_eq(h.auth, auth_salt, 16);
	ck_assert(h.keepalive);
	for (size_t i = 0; i < n; i++) {
		err[0] = '\0';
		ck_assert_msg(fwd_auth_parse_helo(b, i, &h, err, sizeof(err)) == 0, "prefix %zu", i);
		ck_assert_msg(strstr(err, "HELO truncated"), "prefix %zu: %s", i, err);
	}
}
END_TEST

START_TEST(helo_with_bin_values_and_keepalive_as_fluentd_may_send)
{
	/* ["HELO", {"nonce": bin 4, "auth": bin 0, "keepalive": false, "x": [1, {"y": nil}]}], then a stray byte */
	static const uint8_t b[] = {0x92, 0xa4, 'H', 'E', 'L', 'O', 0x84, 0xa5, 'n', 'o', 'n', 'c', 'e', 0xc4, 4, 1, 2, 3,
				    4, 0xa4, 'a', 'u', 't', 'h', 0xc4, 0, 0xa9, 'k', 'e', 'e', 'p', 'a', 'l', 'i', 'v',
				    'e', 0xc2, 0xa1, 'x', 0x92, 0x01, 0x81, 0xa1, 'y', 0xc0, 0xff};
	struct fwd_helo h;
	char err[256];

	ck_assert_int_eq(fwd_auth_parse_helo(b, sizeof(b), &h, err, sizeof(err)), (int)sizeof(b) - 1);
	ck_assert_uint_eq(h.nonce_len, 4);
	ck_assert_mem_eq(h.nonce, "\x01\x02\x03\x04", 4);
	ck_assert_uint_eq(h.auth_len, 0);
	ck_assert(!h.keepalive);
}
END_TEST

struct bad {
	const char *bytes;
	size_t len;
	const char *says;
};

#define BAD(lit, says) {lit, sizeof(lit) - 1, says}

START_TEST(helo_bad_shapes_are_refused_with_their_reason)
{
	static const struct bad cases[] = {
		BAD("\x81\xa4HELO\xc0", "HELO malformed: the message is a map, not an array"),
		BAD("\xc1", "the message is the byte 0xc1"),
		BAD("\x91\xa4HELO", "an array of 1 elements, not [\"HELO\", options]"),
		BAD("\x93\xa4HELO\x80\x80", "an array of 3 elements"),
		BAD("\xdd\xff\xff\xff\xff", "an array of 4294967295 elements"),
		BAD("\x92\xa4PING\x80", "its first element is \"PING\", not \"HELO\""),
		BAD("\x92\x01\x80", "its first element is an int, not a str"),
		BAD("\x92\xa4HELO\x90", "its options is an array, not a map"),
		BAD("\x92\xa4HELO\x80", "it has no nonce"),
		BAD("\x92\xa4HELO\x81\xa5nonce\xa0", "its nonce is empty"),
		BAD("\x92\xa4HELO\x81\xa5nonce\x01", "nonce is an int, not a str or a bin"),
		BAD("\x92\xa4HELO\x81\xa5nonce\xc0", "nonce is nil, not a str or a bin"),
		/* refused from the header alone: the 300 bytes never need to come */
		BAD("\x92\xa4HELO\x81\xa5nonce\xda\x01\x2c", "nonce is 300 bytes long, more than 256"),
		BAD("\x92\xa4HELO\x81\xa5nonce\xc6\xff\xff\xff\xff", "nonce is 4294967295 bytes long, more than 256"),
		BAD("\x92\xa4HELO\x82\xa5nonce\xa1x\xa4" "auth\xdb\x00\x01\x00\x00", "auth is 65536 bytes long"),
		BAD("\x92\xa4HELO\x82\xa5nonce\xa1x\xa5nonce\xa1y", "nonce is there twice"),
		BAD("\x92\xa4HELO\x82\xa5nonce\xa1x\xa9keepalive\x01", "keepalive is an int, not a bool"),
		BAD("\x92\xa4HELO\xde\x00\x64", "its options have 100 keys, more than 16"),
		BAD("\x92\xa4HELO\x81\x01\xa1x", "an option's key is an int, not a str"),
		/* an unknown option that declares more than a message may hold: refused before it comes */
		BAD("\x92\xa4HELO\x82\xa5nonce\xa1x\xa3" "foo\xdd\xff\xff\xff\xff", "an unknown option declares more than the 1024 bytes"),
		BAD("\x92\xa4HELO\x82\xa5nonce\xa1x\xa3" "foo\xc6\x00\x00\x10\x00", "an unknown option declares more than"),
		BAD("\x92\xa4HELO\x82\xa5nonce\xa1x\xa3" "foo\x91\xc1", "an unknown option holds the byte 0xc1"),
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fwd_helo h;
		char err[256] = "";
		int rc = fwd_auth_parse_helo((const uint8_t *)cases[i].bytes, cases[i].len, &h, err, sizeof(err));

		ck_assert_msg(rc == -1, "case %zu: %d (%s)", i, rc, err);
		ck_assert_msg(strstr(err, cases[i].says), "case %zu: \"%s\" does not say \"%s\"", i, err, cases[i].says);
	}
}
END_TEST

/* A HELO that never ends within 1 KiB, though no item in it declares much: refused once 1 KiB has come. */
START_TEST(helo_longer_than_the_limit_is_refused)
{
	uint8_t b[4096];
	size_t at = 15;
	struct fwd_helo h;
	char err[256];

	memcpy(b, "\x92\xa4HELO\x8f\xa5nonce\xa1x", 15);
	/* 14 unknown options "k": [[nil x 15] x 15], 243 bytes each */
	for (int k = 0; k < 14; k++) {
		memcpy(b + at, "\xa1k\x9f", 3);
		at += 3;
		for (int i = 0; i < 15; i++) {
			b[at++] = 0x9f;
			memset(b + at, 0xc0, 15);
			at += 15;
		}
	}
	ck_assert_uint_gt(at, FWD_AUTH_MAX_MSG);
	ck_assert_int_eq(fwd_auth_parse_helo(b, 900, &h, err, sizeof(err)), 0);
	/* refused as soon as what is pending cannot end within the limit, at the latest with the 1024th byte */
	ck_assert_int_eq(fwd_auth_parse_helo(b, FWD_AUTH_MAX_MSG, &h, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "longer than 1024 bytes") || strstr(err, "declares more than the 1024 bytes"), "%s", err);
	/* with its items all there, the message as a whole is what is too long */
	memcpy(b, "\x92\xa4HELO\x84\xa5nonce\xa1x\xa1k\xda\x01\xf4", 20);
	memset(b + 20, 'y', 500);
	memcpy(b + 520, "\xa1z\xda\x01\xf2", 5);
	memset(b + 525, 'y', 498);
	ck_assert_int_eq(fwd_auth_parse_helo(b, 1023, &h, err, sizeof(err)), 0);
	memcpy(b + 1023, "\xa1w\xc0", 3);
	ck_assert_int_eq(fwd_auth_parse_helo(b, 1026, &h, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "HELO malformed: an option's key would end past the 1024-byte limit of the message");
	/* an empty key fits in the 1024th byte; its value cannot */
	b[1023] = 0xa0;
	ck_assert_int_eq(fwd_auth_parse_helo(b, FWD_AUTH_MAX_MSG, &h, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "HELO malformed: longer than 1024 bytes");
}
END_TEST

/* ["PONG", ok, reason, host, digest] as msgpack-c packs it. */
static size_t pong(uint8_t *o, int ok, const char *reason, const char *host, const char *digest)
{
	size_t at = 0;

	at += mp_put_array_hdr(o + at, 5);
	at += mp_put_str(o + at, "PONG", 4);
	o[at++] = ok ? 0xc3 : 0xc2;
	at += mp_put_str(o + at, reason, strlen(reason));
	at += mp_put_str(o + at, host, strlen(host));
	at += mp_put_str(o + at, digest, strlen(digest));
	return at;
}

/* The head of Python's msgpack.packb([b"PONG", True, b"", b"fluent-bit", digest], use_bin_type=False): str16 */
static const char python_pong_head[] = "95a4504f4e47c3a0aa666c75656e742d626974da0080";

static const struct fwd_auth_creds creds = {"s3cret", "ebpf-host", "alice", "wonderland"};

START_TEST(pong_with_the_right_digest_is_taken)
{
	struct fwd_helo h = helo_of(true);
	uint8_t b[512];
	char host[FWD_AUTH_MAX_NAME + 1], err[256];
	size_t n = unhex(python_pong_head, b);

	memcpy(b + n, PONG_DIGEST, 128);
	n += 128;
	ck_assert_uint_eq(n, 1 + 5 + 1 + 1 + 11 + 3 + 128);
	ck_assert_int_eq(fwd_auth_check_pong(b, n, &h, salt, &creds, host, err, sizeof(err)), (int)n);
	ck_assert_str_eq(host, "fluent-bit");
	for (size_t i = 0; i < n; i++) {
		err[0] = '\0';
		ck_assert_msg(fwd_auth_check_pong(b, i, &h, salt, &creds, NULL, err, sizeof(err)) == 0, "prefix %zu", i);
		ck_assert_msg(strstr(err, "PONG truncated"), "prefix %zu: %s", i, err);
	}
	/* msgpack-c's str8 form of the same */
	n = pong(b, 1, "", "fluent-bit", PONG_DIGEST);
	ck_assert_int_eq(fwd_auth_check_pong(b, n, &h, salt, &creds, host, err, sizeof(err)), (int)n);
}
END_TEST

START_TEST(pong_that_does_not_know_the_key_is_refused)
{
	struct fwd_helo h = helo_of(true);
	char digest[] = PONG_DIGEST, err[256];
	uint8_t b[512], other_salt[16];
	size_t n;

	/* one hex digit off */
	digest[77] = digest[77] == '0' ? '1' : '0';
	n = pong(b, 1, "", "fluent-bit", digest);
	ck_assert_int_eq(fwd_auth_check_pong(b, n, &h, salt, &creds, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "receiver's PONG digest does not match the shared key");
	/* the right digest for another key, another salt, another hostname, or in capitals: all refused */
	n = pong(b, 1, "", "fluent-bit", PONG_DIGEST);
	{
		struct fwd_auth_creds other = creds;

		other.shared_key = "s3cret!";
		ck_assert_int_eq(fwd_auth_check_pong(b, n, &h, salt, &other, NULL, err, sizeof(err)), -1);
	}
	ck_assert_str_eq(err, "receiver's PONG digest does not match the shared key");
	memcpy(other_salt, salt, 16);
	other_salt[0] ^= 1;
	ck_assert_int_eq(fwd_auth_check_pong(b, n, &h, other_salt, &creds, NULL, err, sizeof(err)), -1);
	n = pong(b, 1, "", "fluent-bix", PONG_DIGEST);
	ck_assert_int_eq(fwd_auth_check_pong(b, n, &h, salt, &creds, NULL, err, sizeof(err)), -1);
	for (char *p = digest; *p; p++)
		*p = *p >= 'a' ? (char)(*p - 32) : *p;
	n = pong(b, 1, "", "fluent-bit", digest);
	ck_assert_int_eq(fwd_auth_check_pong(b, n, &h, salt, &creds, NULL, err, sizeof(err)), -1);
	/*
	 * Our own PING sent back: its digest is right for our hostname, so a
	 * PONG naming our Self_Hostname is refused (a receiver without the key
	 * could pass otherwise).
	 */
	n = pong(b, 1, "", "ebpf-host", PING_DIGEST);
	ck_assert_int_eq(fwd_auth_check_pong(b, n, &h, salt, &creds, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "names our own Self_Hostname \"ebpf-host\""));
	/* an empty digest, a short one */
	n = pong(b, 1, "", "fluent-bit", "");
	ck_assert_int_eq(fwd_auth_check_pong(b, n, &h, salt, &creds, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "receiver's PONG digest does not match the shared key");
	n = pong(b, 1, "", "fluent-bit", PONG_DIGEST + 1);
	ck_assert_int_eq(fwd_auth_check_pong(b, n, &h, salt, &creds, NULL, err, sizeof(err)), -1);
}
END_TEST

START_TEST(pong_refusal_gives_the_receivers_reason)
{
	struct fwd_helo h = helo_of(true);
	uint8_t b[512];
	char err[256];
	/* what Fluent Bit's in_forward sends on a wrong password */
	size_t n = pong(b, 0, "username/password mismatch", "", "");

	ck_assert_int_eq(fwd_auth_check_pong(b, n, &h, salt, &creds, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "receiver refused: username/password mismatch");
	n = pong(b, 0, "", "", "");
	ck_assert_int_eq(fwd_auth_check_pong(b, n, &h, salt, &creds, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "receiver refused (it gave no reason)");
	/* its reason is quoted printable: no control bytes reach a log line */
	n = pong(b, 0, "bad\n\x1b[31m", "", "");
	ck_assert_int_eq(fwd_auth_check_pong(b, n, &h, salt, &creds, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "receiver refused: bad??[31m");
	/* a refusal with the right digest is still a refusal */
	n = pong(b, 0, "no", "fluent-bit", PONG_DIGEST);
	ck_assert_int_eq(fwd_auth_check_pong(b, n, &h, salt, &creds, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "receiver refused: no");
}
END_TEST

START_TEST(pong_bad_shapes_are_refused_with_their_reason)
{
	static const struct bad cases[] = {
		BAD("\x94\xa4PONG\xc3\xa0\xa0", "PONG malformed: an array of 4 elements"),
		BAD("\x96\xa4PONG\xc3\xa0\xa0\xa0\xa0", "an array of 6 elements"),
		BAD("\x82", "the message is a map, not an array"),
		BAD("\x95\xa4PANG\xc3\xa0\xa0\xa0", "its first element is \"PANG\", not \"PONG\""),
		BAD("\x95\xa4PONG\xa4true\xa0\xa0\xa0", "auth_ok is a str, not a bool"),
		BAD("\x95\xa4PONG\xc3\x00\xa0\xa0", "the reason is an int, not a str"),
		BAD("\x95\xa4PONG\xc3\xa0\xc4\x01x\xa0", "the server's hostname is a bin, not a str"),
		BAD("\x95\xa4PONG\xc3\xa0\xa0\xd9\x81", "the digest is 129 bytes long, more than 128"),
		BAD("\x95\xa4PONG\xc2\xda\x01\x2c", "the reason is 300 bytes long, more than 255"),
		BAD("\x95\xa4PONG\xc3\xa0\xdb\xff\xff\xff\xff", "the server's hostname is 4294967295 bytes long"),
		BAD("\x95\xa4PONG\xc3\xa0\xa0\xcb", "the digest is a float, not a str"),
	};
	struct fwd_helo h = helo_of(true);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		int rc = fwd_auth_check_pong((const uint8_t *)cases[i].bytes, cases[i].len, &h, salt, &creds, NULL, err,
					     sizeof(err));

		ck_assert_msg(rc == -1, "case %zu: %d (%s)", i, rc, err);
		ck_assert_msg(strstr(err, cases[i].says), "case %zu: \"%s\" does not say \"%s\"", i, err, cases[i].says);
	}
}
END_TEST

START_TEST(equal_and_salt)
{
	uint8_t a[16], b[16];

	ck_assert(fwd_auth_equal("abc", "abc", 3));
	ck_assert(!fwd_auth_equal("abc", "abd", 3));
	ck_assert_int_eq(fwd_auth_salt(a), 0);
	ck_assert_int_eq(fwd_auth_salt(b), 0);
	ck_assert(memcmp(a, b, 16) != 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("auth");
	TCase *tc = tcase_create("handshake");

	tcase_add_test(tc, sha512_of_the_parts_is_the_independent_digest);
	tcase_add_test(tc, ping_with_user_auth_has_these_exact_bytes);
	tcase_add_test(tc, ping_without_user_auth_ends_in_two_empty_strs);
	tcase_add_test(tc, ping_default_hostname_and_limits);
	tcase_add_test(tc, helo_of_fluent_bit_parses_and_every_prefix_needs_more);
	tcase_add_test(tc, helo_with_bin_values_and_keepalive_as_fluentd_may_send);
	tcase_add_test(tc, helo_bad_shapes_are_refused_with_their_reason);
	tcase_add_test(tc, helo_longer_than_the_limit_is_refused);
	tcase_add_test(tc, pong_with_the_right_digest_is_taken);
	tcase_add_test(tc, pong_that_does_not_know_the_key_is_refused);
	tcase_add_test(tc, pong_refusal_gives_the_receivers_reason);
	tcase_add_test(tc, pong_bad_shapes_are_refused_with_their_reason);
	tcase_add_test(tc, equal_and_salt);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
