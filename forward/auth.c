/* auth.c: the shared-key handshake: a bounded msgpack reader for HELO and PONG, the PING, SHA-512 from libcrypto. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "auth.h"
#include "mpbuf.h"

/* ---- a small bounded reader: it never allocates, and trusts no length it reads ---- */

enum { RD_BAD = -1, RD_SHORT = 0, RD_OK = 1 };

struct rd {
	const uint8_t *p;
	size_t n, at;
	const char *msg;     /* "HELO" or "PONG", for reasons */
	char *err;
	size_t errlen;
};

static int rd_fail(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int rd_fail(struct rd *r, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->errlen, "%s malformed: %s", r->msg, what);
	return RD_BAD;
}

/* A peer's bytes in a message: short, printable. */
static const char *printable(const uint8_t *s, size_t n, char *o, size_t olen)
{
	size_t i, k = 0;

	for (i = 0; i < n && k + 4 < olen && k < 80; i++)
		o[k++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	if (i < n && k + 4 <= olen) {
		memcpy(o + k, "...", 3);
		k += 3;
	}
	o[k] = '\0';
	return o;
}

static const char *type_of(uint8_t b)
{
	if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3))
		return "an int";
	if (b <= 0x8f || b == 0xde || b == 0xdf)
		return "a map";
	if (b <= 0x9f || b == 0xdc || b == 0xdd)
		return "an array";
	if (b <= 0xbf || (b >= 0xd9 && b <= 0xdb))
		return "a str";
	switch (b) {
	case 0xc0: return "nil";
	case 0xc1: return "the byte 0xc1 (never used in msgpack)";
	case 0xc2: case 0xc3: return "a bool";
	case 0xc4: case 0xc5: case 0xc6: return "a bin";
	case 0xca: case 0xcb: return "a float";
	default: return "an ext";
	}
}

static uint64_t be(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

/* The first byte of the next item, or RD_SHORT. */
static int rd_peek(struct rd *r, uint8_t *b)
{
	if (r->at >= r->n)
		return RD_SHORT;
	*b = r->p[r->at];
	return RD_OK;
}

/* A header of hl bytes whose last len_bytes hold a count or a length. */
static int rd_head(struct rd *r, int hl, int len_bytes, uint64_t *v)
{
	if (r->n - r->at < (size_t)hl)
		return RD_SHORT;
	*v = len_bytes ? be(r->p + r->at + hl - len_bytes, len_bytes) : 0;
	r->at += (size_t)hl;
	return RD_OK;
}

/* An array header: its element count. */
static int rd_array(struct rd *r, const char *what, uint64_t *count)
{
	uint8_t b;
	int rc = rd_peek(r, &b);

	if (rc != RD_OK)
		return rc;
	if ((b & 0xf0) == 0x90) {
		*count = b & 0x0f;
		r->at++;
		return RD_OK;
	}
	if (b == 0xdc)
		return rd_head(r, 3, 2, count);
	if (b == 0xdd)
		return rd_head(r, 5, 4, count);
	return rd_fail(r, "%s is %s, not an array", what, type_of(b));
}

static int rd_map(struct rd *r, const char *what, uint64_t *count)
{
	uint8_t b;
	int rc = rd_peek(r, &b);

	if (rc != RD_OK)
		return rc;
	if ((b & 0xf0) == 0x80) {
		*count = b & 0x0f;
		r->at++;
		return RD_OK;
	}
	if (b == 0xde)
		return rd_head(r, 3, 2, count);
	if (b == 0xdf)
		return rd_head(r, 5, 4, count);
	return rd_fail(r, "%s is %s, not a map", what, type_of(b));
}

static int rd_bool(struct rd *r, const char *what, bool *v)
{
	uint8_t b;
	int rc = rd_peek(r, &b);

	if (rc != RD_OK)
		return rc;
	if (b != 0xc2 && b != 0xc3)
		return rd_fail(r, "%s is %s, not a bool", what, type_of(b));
	*v = b == 0xc3;
	r->at++;
	return RD_OK;
}

/*
 * A str (or, with bin_ok, a bin) of at most max bytes: its bytes stay where
 * they are. A longer one is refused from its header alone, before its bytes
 * come; so is one that would end past FWD_AUTH_MAX_MSG.
 */
static int rd_bytes(struct rd *r, const char *what, bool bin_ok, size_t max, const uint8_t **s, size_t *len)
{
	size_t start = r->at;
	uint64_t v;
	uint8_t b;
	int rc = rd_peek(r, &b);

	if (rc != RD_OK)
		return rc;
	if ((b & 0xe0) == 0xa0) {
		v = b & 0x1f;
		r->at++;
	} else if (b == 0xd9 || (bin_ok && b == 0xc4)) {
		rc = rd_head(r, 2, 1, &v);
	} else if (b == 0xda || (bin_ok && b == 0xc5)) {
		rc = rd_head(r, 3, 2, &v);
	} else if (b == 0xdb || (bin_ok && b == 0xc6)) {
		rc = rd_head(r, 5, 4, &v);
	} else {
		return rd_fail(r, "%s is %s, not a str%s", what, type_of(b), bin_ok ? " or a bin" : "");
	}
	if (rc != RD_OK)
		return rc;
	if (v > max) {
		r->at = start;
		return rd_fail(r, "%s is %llu bytes long, more than %zu", what, (unsigned long long)v, max);
	}
	if (r->at + v > FWD_AUTH_MAX_MSG) {
		r->at = start;
		return rd_fail(r, "%s would end past the %d-byte limit of the message", what, FWD_AUTH_MAX_MSG);
	}
	if (r->n - r->at < v) {
		r->at = start; /* read again, whole, once more bytes are in */
		return RD_SHORT;
	}
	*s = r->p + r->at;
	*len = (size_t)v;
	r->at += (size_t)v;
	return RD_OK;
}

/* Header length of the item starting with b (0 for 0xc1), and what follows it: bytes to skip, items it opens. */
static int item_head(const uint8_t *h, size_t avail, uint64_t *skip, uint64_t *kids)
{
	uint8_t b = h[0];
	int hl = 1;

	*skip = *kids = 0;
	if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
		return 1;
	if (b <= 0x8f) {
		*kids = 2u * (b & 0x0f);
		return 1;
	}
	if (b <= 0x9f) {
		*kids = b & 0x0f;
		return 1;
	}
	if (b <= 0xbf) {
		*skip = b & 0x1f;
		return 1;
	}
	switch (b) {
	case 0xc4: case 0xd9: case 0xc7: hl = 2; break;
	case 0xc5: case 0xda: case 0xc8: case 0xdc: case 0xde: hl = 3; break;
	case 0xc6: case 0xdb: case 0xc9: case 0xdd: case 0xdf: hl = 5; break;
	case 0xc1: return 0;
	default: break;
	}
	if (avail < (size_t)hl)
		return -1; /* more bytes needed */
	switch (b) {
	case 0xc4: case 0xd9: case 0xc5: case 0xda: case 0xc6: case 0xdb:
		*skip = be(h + 1, hl - 1);
		break;
	case 0xc7: case 0xc8: case 0xc9: *skip = be(h + 1, hl - 1) + 1; break;
	case 0xdc: case 0xdd: *kids = be(h + 1, hl - 1); break;
	case 0xde: case 0xdf: *kids = 2 * be(h + 1, hl - 1); break;
	case 0xca: case 0xcc: case 0xd0: case 0xd4: *skip = b == 0xca ? 4 : b == 0xd4 ? 2 : 1; break;
	case 0xcd: case 0xd1: *skip = 2; break;
	case 0xd5: *skip = 3; break;
	case 0xce: case 0xd2: *skip = 4; break;
	case 0xd6: *skip = 5; break;
	case 0xcb: case 0xcf: case 0xd3: *skip = 8; break;
	case 0xd7: *skip = 9; break;
	case 0xd8: *skip = 17; break;
	default: break;
	}
	return hl;
}

/* Skips one item of any type (an option we do not know): each item takes a byte at least, so this ends. */
static int rd_skip(struct rd *r, const char *what)
{
	size_t at = r->at;
	uint64_t pending = 1;

	while (pending) {
		uint64_t skip, kids;
		int hl;

		if (at >= r->n)
			return RD_SHORT;
		hl = item_head(r->p + at, r->n - at, &skip, &kids);
		if (hl == 0)
			return rd_fail(r, "%s holds the byte 0xc1, never used in msgpack", what);
		if (hl < 0)
			return RD_SHORT;
		at += (size_t)hl;
		pending = pending - 1 + kids;
		/* what it declares cannot fit: refused now, not after a kilobyte of waiting */
		if (skip > FWD_AUTH_MAX_MSG || pending > FWD_AUTH_MAX_MSG || at + skip + pending > FWD_AUTH_MAX_MSG)
			return rd_fail(r, "%s declares more than the %d bytes a message may have", what, FWD_AUTH_MAX_MSG);
		if (r->n - at < skip)
			return RD_SHORT;
		at += (size_t)skip;
	}
	r->at = at;
	return RD_OK;
}

/* One of the two kinds of result a parse can end on, with the message-size bound applied to "more needed". */
static int rd_end(struct rd *r, int rc)
{
	if (rc == RD_SHORT) {
		if (r->n >= FWD_AUTH_MAX_MSG)
			return rd_fail(r, "longer than %d bytes", FWD_AUTH_MAX_MSG);
		snprintf(r->err, r->errlen, "%s truncated: %zu bytes so far", r->msg, r->n);
		return 0;
	}
	if (rc == RD_BAD)
		return -1;
	return (int)r->at;
}

#define TRY(x)                                                                                                         \
	do {                                                                                                           \
		int rc_ = (x);                                                                                         \
		if (rc_ != RD_OK)                                                                                      \
			return rd_end(&r, rc_);                                                                        \
	} while (0)

static bool is_lit(const uint8_t *s, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

/* ---- digests ---- */

int fwd_auth_sha512_hex(const void *const parts[], const size_t lens[], size_t n, char out[FWD_AUTH_HEX_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) == 1;

	for (size_t i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, parts[i], lens[i]) == 1;
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == FWD_AUTH_HEX_LEN / 2;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[FWD_AUTH_HEX_LEN] = '\0';
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

int fwd_auth_salt(uint8_t salt[FWD_AUTH_SALT_LEN])
{
	return RAND_bytes(salt, FWD_AUTH_SALT_LEN) == 1 ? 0 : -1;
}

bool fwd_auth_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

/* hex(sha512(salt + hostname + nonce + key)): the PING's digest, and the PONG's with the server's hostname. */
static int key_digest(const uint8_t salt[FWD_AUTH_SALT_LEN], const void *host, size_t hostlen,
		      const struct fwd_helo *h, const char *key, char out[FWD_AUTH_HEX_LEN + 1])
{
	const void *parts[] = {salt, host, h->nonce, key};
	const size_t lens[] = {FWD_AUTH_SALT_LEN, hostlen, h->nonce_len, strlen(key)};

	return fwd_auth_sha512_hex(parts, lens, 4, out);
}

/* ---- HELO ---- */

int fwd_auth_parse_helo(const uint8_t *b, size_t n, struct fwd_helo *h, char *err, size_t errlen)
{
	struct rd r = {.p = b, .n = n, .msg = "HELO", .err = err, .errlen = errlen};
	bool seen_nonce = false, seen_auth = false, seen_keepalive = false;
	uint64_t count;
	const uint8_t *s;
	size_t len;

	memset(h, 0, sizeof(*h));
	h->keepalive = true;
	TRY(rd_array(&r, "the message", &count));
	if (count != 2)
		return rd_end(&r, rd_fail(&r, "an array of %llu elements, not [\"HELO\", options]",
					  (unsigned long long)count));
	TRY(rd_bytes(&r, "its first element", false, 16, &s, &len));
	if (!is_lit(s, len, "HELO")) {
		char q[96];

		return rd_end(&r, rd_fail(&r, "its first element is \"%s\", not \"HELO\"", printable(s, len, q, sizeof(q))));
	}
	TRY(rd_map(&r, "its options", &count));
	if (count > FWD_AUTH_MAX_MAP)
		return rd_end(&r, rd_fail(&r, "its options have %llu keys, more than %d", (unsigned long long)count,
					  FWD_AUTH_MAX_MAP));
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *k;
		size_t klen;

		TRY(rd_bytes(&r, "an option's key", false, 64, &k, &klen));
		if (is_lit(k, klen, "nonce") || is_lit(k, klen, "auth")) {
			bool nonce = klen == 5;

			if (nonce ? seen_nonce : seen_auth)
				return rd_end(&r, rd_fail(&r, "%s is there twice", nonce ? "nonce" : "auth"));
			TRY(rd_bytes(&r, nonce ? "nonce" : "auth", true, FWD_AUTH_MAX_FIELD, &s, &len));
			memcpy(nonce ? h->nonce : h->auth, s, len);
			*(nonce ? &h->nonce_len : &h->auth_len) = len;
			*(nonce ? &seen_nonce : &seen_auth) = true;
		} else if (is_lit(k, klen, "keepalive")) {
			if (seen_keepalive)
				return rd_end(&r, rd_fail(&r, "keepalive is there twice"));
			TRY(rd_bool(&r, "keepalive", &h->keepalive));
			seen_keepalive = true;
		} else {
			TRY(rd_skip(&r, "an unknown option"));
		}
	}
	if (!seen_nonce)
		return rd_end(&r, rd_fail(&r, "it has no nonce"));
	if (h->nonce_len == 0)
		return rd_end(&r, rd_fail(&r, "its nonce is empty"));
	return rd_end(&r, RD_OK);
}

/* ---- PING ---- */

int fwd_auth_build_ping(const struct fwd_helo *h, const uint8_t salt[FWD_AUTH_SALT_LEN],
			const struct fwd_auth_creds *cr, uint8_t *out, size_t cap, char *err, size_t errlen)
{
	const char *host = cr->self_hostname && cr->self_hostname[0] ? cr->self_hostname : "localhost";
	bool user = h->auth_len > 0 && cr->username && cr->username[0];
	const char *name = user ? cr->username : "";
	size_t hostlen = strlen(host), namelen = strlen(name), at = 0;
	char kd[FWD_AUTH_HEX_LEN + 1], pd[FWD_AUTH_HEX_LEN + 1];

	if (!cr->shared_key || !cr->shared_key[0]) {
		snprintf(err, errlen, "no shared key to answer the HELO with");
		return -1;
	}
	if (hostlen > FWD_AUTH_MAX_NAME || namelen > FWD_AUTH_MAX_NAME) {
		snprintf(err, errlen, "%s is %zu bytes long, more than %d", hostlen > FWD_AUTH_MAX_NAME ? "Self_Hostname" :
			 "Username", hostlen > FWD_AUTH_MAX_NAME ? hostlen : namelen, FWD_AUTH_MAX_NAME);
		return -1;
	}
	/* the array header, 6 headers (3 bytes at most each), 16 + 2 * 128 bytes of salt and digests */
	if (cap < 1 + 6 * 3 + 4 + hostlen + FWD_AUTH_SALT_LEN + 2 * FWD_AUTH_HEX_LEN + namelen) {
		snprintf(err, errlen, "no room for the PING");
		return -1;
	}
	if (key_digest(salt, host, hostlen, h, cr->shared_key, kd) != 0) {
		snprintf(err, errlen, "SHA-512 from libcrypto failed");
		return -1;
	}
	if (user) {
		const char *pw = cr->password ? cr->password : "";
		const void *parts[] = {h->auth, name, pw};
		const size_t lens[] = {h->auth_len, namelen, strlen(pw)};

		if (fwd_auth_sha512_hex(parts, lens, 3, pd) != 0) {
			snprintf(err, errlen, "SHA-512 from libcrypto failed");
			return -1;
		}
	}
	at += mp_put_array_hdr(out + at, 6);
	at += mp_put_str(out + at, "PING", 4);
	at += mp_put_str(out + at, host, hostlen);
	at += mp_put_str(out + at, salt, FWD_AUTH_SALT_LEN);
	at += mp_put_str(out + at, kd, FWD_AUTH_HEX_LEN);
	at += mp_put_str(out + at, name, namelen);
	at += mp_put_str(out + at, pd, user ? FWD_AUTH_HEX_LEN : 0);
	OPENSSL_cleanse(pd, sizeof(pd));
	return (int)at;
}

/* ---- PONG ---- */

int fwd_auth_check_pong(const uint8_t *b, size_t n, const struct fwd_helo *h, const uint8_t salt[FWD_AUTH_SALT_LEN],
			const struct fwd_auth_creds *cr, char *server_host, char *err, size_t errlen)
{
	const char *self = cr->self_hostname && cr->self_hostname[0] ? cr->self_hostname : "localhost";
	struct rd r = {.p = b, .n = n, .msg = "PONG", .err = err, .errlen = errlen};
	const uint8_t *s, *reason, *host, *digest;
	size_t len, reason_len, host_len, digest_len;
	char want[FWD_AUTH_HEX_LEN + 1], q[96];
	uint64_t count;
	bool ok;
	int used;

	TRY(rd_array(&r, "the message", &count));
	if (count != 5)
		return rd_end(&r, rd_fail(&r, "an array of %llu elements, not [\"PONG\", auth_ok, reason, hostname, digest]",
					  (unsigned long long)count));
	TRY(rd_bytes(&r, "its first element", false, 16, &s, &len));
	if (!is_lit(s, len, "PONG"))
		return rd_end(&r, rd_fail(&r, "its first element is \"%s\", not \"PONG\"", printable(s, len, q, sizeof(q))));
	TRY(rd_bool(&r, "auth_ok", &ok));
	TRY(rd_bytes(&r, "the reason", false, FWD_AUTH_MAX_NAME, &reason, &reason_len));
	TRY(rd_bytes(&r, "the server's hostname", false, FWD_AUTH_MAX_NAME, &host, &host_len));
	TRY(rd_bytes(&r, "the digest", false, FWD_AUTH_HEX_LEN, &digest, &digest_len));
	used = rd_end(&r, RD_OK);
	if (server_host) {
		memcpy(server_host, host, host_len);
		server_host[host_len] = '\0';
	}
	if (!ok) {
		/* Fluent Bit says "username/password mismatch"; Fluentd says why, too */
		if (reason_len)
			snprintf(err, errlen, "receiver refused: %s", printable(reason, reason_len, q, sizeof(q)));
		else
			snprintf(err, errlen, "receiver refused (it gave no reason)");
		return -1;
	}
	if (is_lit(host, host_len, self)) {
		snprintf(err, errlen, "receiver's PONG names our own Self_Hostname \"%s\" (our PING sent back, or the "
			 "same name on both sides)", printable(host, host_len, q, sizeof(q)));
		return -1;
	}
	if (!cr->shared_key || key_digest(salt, host, host_len, h, cr->shared_key, want) != 0) {
		snprintf(err, errlen, "SHA-512 from libcrypto failed");
		return -1;
	}
	/* compared whole and in constant time: a wrong length fails the same way, without a shortcut */
	if (digest_len != FWD_AUTH_HEX_LEN || !fwd_auth_equal(digest, want, FWD_AUTH_HEX_LEN)) {
		snprintf(err, errlen, "receiver's PONG digest does not match the shared key");
		return -1;
	}
	return used;
}
