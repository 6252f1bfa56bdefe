/* mpbuf.h: msgpack written by hand: the encodings frames and records use, and a growable buffer. */
#ifndef FWD_MPBUF_H
#define FWD_MPBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lent.h"

/*
 * Written by hand rather than with msgpack-c's packer: a record is ~17 small
 * items, and msgpack-c's write callback per item costs ~4x the encoding itself
 * on the daemon's hot path. Decoding still uses msgpack-c.
 *
 * Two layers: mp_put_* write one item at a raw pointer into room the caller
 * has, and return its length; mp_* do the same at the end of an mpbuf whose
 * room was reserved once (mpbuf_reserve) for a whole record or header.
 * Forced inline: on the record path the calls cost more than the encodings.
 */
#define MP_INLINE static inline __attribute__((always_inline))

/* tag, then v in bytes big-endian bytes. */
MP_INLINE size_t mp_put_be(uint8_t *o, uint8_t tag, uint64_t v, int bytes)
{
	o[0] = tag;
	for (int i = 0; i < bytes; i++)
		o[1 + i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	return 1 + (size_t)bytes;
}

MP_INLINE size_t mp_put_map_hdr(uint8_t *o, uint32_t n)
{
	if (n < 16) {
		o[0] = (uint8_t)(0x80 | n);
		return 1;
	}
	return n < 65536 ? mp_put_be(o, 0xde, n, 2) : mp_put_be(o, 0xdf, n, 4);
}

MP_INLINE size_t mp_put_array_hdr(uint8_t *o, uint32_t n)
{
	if (n < 16) {
		o[0] = (uint8_t)(0x90 | n);
		return 1;
	}
	return n < 65536 ? mp_put_be(o, 0xdc, n, 2) : mp_put_be(o, 0xdd, n, 4);
}

MP_INLINE size_t mp_put_str_hdr(uint8_t *o, size_t n)
{
	if (n < 32) {
		o[0] = (uint8_t)(0xa0 | n);
		return 1;
	}
	if (n < 256)
		return mp_put_be(o, 0xd9, n, 1);
	return n < 65536 ? mp_put_be(o, 0xda, n, 2) : mp_put_be(o, 0xdb, n, 4);
}

MP_INLINE size_t mp_put_bin_hdr(uint8_t *o, size_t n)
{
	if (n < 256)
		return mp_put_be(o, 0xc4, n, 1);
	return n < 65536 ? mp_put_be(o, 0xc5, n, 2) : mp_put_be(o, 0xc6, n, 4);
}

MP_INLINE size_t mp_put_uint(uint8_t *o, uint64_t v)
{
	if (v < 128) {
		o[0] = (uint8_t)v;
		return 1;
	}
	if (v < 256)
		return mp_put_be(o, 0xcc, v, 1);
	if (v < 65536)
		return mp_put_be(o, 0xcd, v, 2);
	return v < 4294967296ULL ? mp_put_be(o, 0xce, v, 4) : mp_put_be(o, 0xcf, v, 8);
}

/* Non-negative values take the uint forms, as msgpack-c and the spec's "smallest" rule do. */
MP_INLINE size_t mp_put_int(uint8_t *o, int64_t v)
{
	if (v >= 0)
		return mp_put_uint(o, (uint64_t)v);
	if (v >= -32) {
		o[0] = (uint8_t)(int8_t)v;
		return 1;
	}
	if (v >= -128)
		return mp_put_be(o, 0xd0, (uint64_t)v & 0xff, 1);
	if (v >= -32768)
		return mp_put_be(o, 0xd1, (uint64_t)v & 0xffff, 2);
	return v >= INT32_MIN ? mp_put_be(o, 0xd2, (uint64_t)v & 0xffffffff, 4) : mp_put_be(o, 0xd3, (uint64_t)v, 8);
}

/* A str item: header and bytes. */
MP_INLINE size_t mp_put_str(uint8_t *o, const void *s, size_t n)
{
	size_t h = mp_put_str_hdr(o, n);

	memcpy(o + h, s, n);
	return h + n;
}

struct mpbuf {
	uint8_t *p;
	size_t len;
	size_t cap;
	bool lent;      /* p is lendable memory (lent.h): never given back to the heap as it is */
};

/* Makes room for n more bytes; -1 when out of memory. Callers reserve once per record. */
static inline int mpbuf_reserve(struct mpbuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 1024;
	uint8_t *np;

	if (b->len + n <= b->cap)
		return 0;
	while (cap < b->len + n)
		cap *= 2;
	if (b->lent) {
		/* realloc could hand the old pages to anyone: moved by hand, and the old ones forgotten */
		if (!(np = malloc(cap)))
			return -1;
		memcpy(np, b->p, b->len);
		fwd_lent_free(b->p);
		b->lent = false;
	} else if (!(np = realloc(b->p, cap))) {
		return -1;
	}
	b->p = np;
	b->cap = cap;
	return 0;
}

static inline void mpbuf_free(struct mpbuf *b)
{
	if (b->lent)
		fwd_lent_free(b->p);
	else
		free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->lent = false;
}

/* The writers below assume room was reserved. */

MP_INLINE void mp_raw(struct mpbuf *b, const void *s, size_t n)
{
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

MP_INLINE void mp_map(struct mpbuf *b, uint32_t n)
{
	b->len += mp_put_map_hdr(b->p + b->len, n);
}

MP_INLINE void mp_array(struct mpbuf *b, uint32_t n)
{
	b->len += mp_put_array_hdr(b->p + b->len, n);
}

MP_INLINE void mp_str(struct mpbuf *b, const char *s, size_t n)
{
	b->len += mp_put_str(b->p + b->len, s, n);
}

MP_INLINE void mp_uint(struct mpbuf *b, uint64_t v)
{
	b->len += mp_put_uint(b->p + b->len, v);
}

MP_INLINE void mp_int(struct mpbuf *b, int64_t v)
{
	b->len += mp_put_int(b->p + b->len, v);
}

MP_INLINE void mp_bool(struct mpbuf *b, int v)
{
	b->p[b->len++] = v ? 0xc3 : 0xc2;
}

/* A str key and a uint value: the shape of every counter. */
static inline void mp_kv_uint(struct mpbuf *b, const char *key, uint64_t v)
{
	mp_str(b, key, strlen(key));
	mp_uint(b, v);
}

#endif
