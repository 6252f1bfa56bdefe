/* recv_quick.c: the strict receiver's fast check of one PackedForward entry, read straight from its bytes. */
#include "recv_quick.h"

#include <string.h>

/*
 * Why: unpacking each entry into msgpack-c's objects and walking them for
 * the checks cost the receiver about 1.4 us an entry on the benchmark's VM,
 * more than the daemon and the generator together, so the benchmark
 * measured the receiver. This walks the bytes once. It answers only "sure
 * it passes"; everything else goes to the full check, so the rules and the
 * error messages stay in one place, and the receiver's JSON mode runs both
 * and stops if they ever disagree.
 */

/* Deeper than this (the entry's array is 1), the full check decides: msgpack-c has its own limit (32). */
#define QUICK_DEPTH 8

size_t recv_utf8_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		return avail >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (avail < 3)
			return 0;
		if (c == 0xe0) lo = 0xa0;
		if (c == 0xed) hi = 0x9f;
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (avail < 4)
			return 0;
		if (c == 0xf0) lo = 0x90;
		if (c == 0xf4) hi = 0x8f;
		return p[1] >= lo && p[1] <= hi && (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

size_t recv_utf8_bad_at(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		uint64_t w;

		/* eight ASCII bytes at a time: most of a record's text is ASCII */
		if (n - i >= 8 && (memcpy(&w, p + i, 8), (w & 0x8080808080808080ull) == 0)) {
			i += 8;
			continue;
		}
		size_t l = p[i] < 0x80 ? 1 : recv_utf8_len(p + i, n - i);
		if (!l)
			return i;
		i += l;
	}
	return n;
}

/* A cursor over the entry's bytes; every read checks what is left. */
struct rd {
	const uint8_t *p, *end;
};

static bool rd_be(struct rd *r, int bytes, uint64_t *v)
{
	if (r->end - r->p < bytes)
		return false;
	*v = 0;
	for (int i = 0; i < bytes; i++)
		*v = *v << 8 | r->p[i];
	r->p += bytes;
	return true;
}

/* Whether n bytes are all ASCII: keys and most values are, and are short, so this is inline. */
static inline bool rd_ascii(const uint8_t *p, uint64_t n)
{
	uint64_t acc = 0, w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		acc |= w;
	}
	for (; n; p++, n--)
		acc |= *p;
	return (acc & 0x8080808080808080ull) == 0;
}

static bool rd_is_str(const struct rd *r)
{
	return r->p < r->end && ((*r->p >= 0xa0 && *r->p <= 0xbf) || (*r->p >= 0xd9 && *r->p <= 0xdb));
}

/* A str that is UTF-8, header and bytes (false for anything else: the caller gives up on the entry). */
static bool rd_str(struct rd *r, const uint8_t **s, uint64_t *n)
{
	uint8_t b;

	if (!rd_is_str(r))
		return false;
	b = *r->p++;
	if (b <= 0xbf)
		*n = b & 0x1f;
	else if (!rd_be(r, 1 << (b - 0xd9), n))
		return false;
	if (*n > (uint64_t)(r->end - r->p))
		return false;
	if (!rd_ascii(r->p, *n) && recv_utf8_bad_at((const char *)r->p, (size_t)*n) != *n)
		return false;
	*s = r->p;
	r->p += *n;
	return true;
}

/* Any one item, its strs checked (nested maps may have keys of any type, as for the full check). */
static bool rd_item(struct rd *r, int depth)
{
	uint64_t skip = 0, kids = 0;
	const uint8_t *s;
	uint8_t b;

	if (r->p >= r->end)
		return false;
	if (rd_is_str(r))
		return rd_str(r, &s, &skip);
	b = *r->p++;
	if (b <= 0x7f || b >= 0xe0)
		return true;
	if (b <= 0x8f) {
		kids = 2u * (b & 0x0f);
	} else if (b <= 0x9f) {
		kids = b & 0x0f;
	} else {
		switch (b) {
		case 0xc0: case 0xc2: case 0xc3: return true;
		case 0xc4: if (!rd_be(r, 1, &skip)) return false; break;
		case 0xc5: if (!rd_be(r, 2, &skip)) return false; break;
		case 0xc6: if (!rd_be(r, 4, &skip)) return false; break;
		case 0xc7: if (!rd_be(r, 1, &skip)) return false; skip++; break;
		case 0xc8: if (!rd_be(r, 2, &skip)) return false; skip++; break;
		case 0xc9: if (!rd_be(r, 4, &skip)) return false; skip++; break;
		case 0xca: skip = 4; break;
		case 0xcb: skip = 8; break;
		case 0xcc: case 0xd0: skip = 1; break;
		case 0xcd: case 0xd1: skip = 2; break;
		case 0xce: case 0xd2: skip = 4; break;
		case 0xcf: case 0xd3: skip = 8; break;
		case 0xd4: skip = 2; break;
		case 0xd5: skip = 3; break;
		case 0xd6: skip = 5; break;
		case 0xd7: skip = 9; break;
		case 0xd8: skip = 17; break;
		case 0xdc: if (!rd_be(r, 2, &kids)) return false; break;
		case 0xdd: if (!rd_be(r, 4, &kids)) return false; break;
		case 0xde: if (!rd_be(r, 2, &kids)) return false; kids *= 2; break;
		case 0xdf: if (!rd_be(r, 4, &kids)) return false; kids *= 2; break;
		default: return false; /* 0xc1 */
		}
	}
	if (skip > (uint64_t)(r->end - r->p))
		return false;
	r->p += skip;
	if (kids && depth >= QUICK_DEPTH)
		return false;
	/* each item takes a byte at least, so a count larger than what is left ends at the end */
	for (uint64_t i = 0; i < kids; i++)
		if (!rd_item(r, depth + 1))
			return false;
	return true;
}

/* A record or metadata: a map with str keys; match is looked for in its str values. */
static bool rd_record(struct rd *r, int depth, const char *match, size_t match_len, bool *matched)
{
	uint64_t n, klen, vlen;
	const uint8_t *k, *v;
	uint8_t b;

	if (r->p >= r->end)
		return false;
	b = *r->p++;
	if (b >= 0x80 && b <= 0x8f)
		n = b & 0x0f;
	else if (b == 0xde || b == 0xdf) {
		if (!rd_be(r, b == 0xde ? 2 : 4, &n))
			return false;
	} else
		return false;
	for (uint64_t i = 0; i < n; i++) {
		if (!rd_str(r, &k, &klen))
			return false;
		if (match_len && !*matched && rd_is_str(r)) {
			if (!rd_str(r, &v, &vlen))
				return false;
			*matched = memmem(v, vlen, match, match_len) != NULL;
		} else if (!rd_item(r, depth + 1)) {
			return false;
		}
	}
	return true;
}

/* A uint, or an EventTime (ext 0 of 8 bytes) whose seconds are not Fluent Bit's group markers. */
static bool rd_time(struct rd *r, struct recv_quick_entry *out)
{
	uint64_t v, len;
	uint8_t b;

	if (r->p >= r->end)
		return false;
	b = *r->p++;
	out->nsec = 0;
	out->event = false;
	if (b <= 0x7f) {
		out->sec = b;
		return true;
	}
	if (b >= 0xcc && b <= 0xcf)
		return rd_be(r, 1 << (b - 0xcc), &out->sec);
	if (b == 0xc7 && !(rd_be(r, 1, &len) && len == 8))
		return false;
	if (b != 0xd7 && b != 0xc7)
		return false;
	if (!rd_be(r, 1, &v) || v != 0 || !rd_be(r, 8, &v))
		return false;
	out->sec = v >> 32;
	out->nsec = (uint32_t)v;
	out->event = true;
	return out->sec < 0xFFFFFFFEu && out->nsec <= 999999999u;
}

bool recv_quick_entry(const uint8_t *p, size_t len, const char *match, size_t match_len,
		      struct recv_quick_entry *out)
{
	struct rd r = {p, p + len};
	bool unused = false;

	out->matched = false;
	if (len < 1 || *r.p++ != 0x92)
		return false;
	if (r.p < r.end && *r.p == 0x92) {
		r.p++;
		if (!rd_time(&r, out) || !rd_record(&r, 2, NULL, 0, &unused))
			return false;
	} else if (!rd_time(&r, out)) {
		return false;
	}
	if (!rd_record(&r, 1, match, match_len, &out->matched))
		return false;
	out->len = (size_t)(r.p - p);
	return true;
}
