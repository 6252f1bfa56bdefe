/* mpbuf.h: a growable byte buffer and the few msgpack encodings the record packer writes. */
#ifndef EBPF_FORWARD_MPBUF_H
#define EBPF_FORWARD_MPBUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Written by hand rather than with msgpack-c's packer: a record is ~17 small
 * items, and msgpack-c's write callback per item costs ~4x the encoding itself
 * on the daemon's hot path. Decoding still uses msgpack-c.
 */
struct mpbuf {
	uint8_t *p;
	size_t len;
	size_t cap;
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
	np = realloc(b->p, cap);
	if (!np)
		return -1;
	b->p = np;
	b->cap = cap;
	return 0;
}

static inline void mpbuf_free(struct mpbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* The writers below assume room was reserved. */

static inline void mp_raw(struct mpbuf *b, const void *s, size_t n)
{
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static inline void mp_be(struct mpbuf *b, uint8_t tag, uint64_t v, int bytes)
{
	uint8_t *o = b->p + b->len;

	o[0] = tag;
	for (int i = 0; i < bytes; i++)
		o[1 + i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	b->len += 1 + (size_t)bytes;
}

static inline void mp_map(struct mpbuf *b, uint32_t n)
{
	if (n < 16)
		b->p[b->len++] = (uint8_t)(0x80 | n);
	else if (n < 65536)
		mp_be(b, 0xde, n, 2);
	else
		mp_be(b, 0xdf, n, 4);
}

static inline void mp_str(struct mpbuf *b, const char *s, size_t n)
{
	if (n < 32)
		b->p[b->len++] = (uint8_t)(0xa0 | n);
	else if (n < 256)
		mp_be(b, 0xd9, n, 1);
	else if (n < 65536)
		mp_be(b, 0xda, n, 2);
	else
		mp_be(b, 0xdb, n, 4);
	mp_raw(b, s, n);
}

static inline void mp_uint(struct mpbuf *b, uint64_t v)
{
	if (v < 128)
		b->p[b->len++] = (uint8_t)v;
	else if (v < 256)
		mp_be(b, 0xcc, v, 1);
	else if (v < 65536)
		mp_be(b, 0xcd, v, 2);
	else if (v < 4294967296ULL)
		mp_be(b, 0xce, v, 4);
	else
		mp_be(b, 0xcf, v, 8);
}

static inline void mp_bool(struct mpbuf *b, int v)
{
	b->p[b->len++] = v ? 0xc3 : 0xc2;
}

/* A str key and a uint value: the shape of every counter. */
static inline void mp_kv_uint(struct mpbuf *b, const char *key, uint64_t v)
{
	mp_str(b, key, strlen(key));
	mp_uint(b, v);
}

/* Non-negative values take the uint forms, as msgpack-c and the spec's "smallest" rule do. */
static inline void mp_int(struct mpbuf *b, int64_t v)
{
	if (v >= 0)
		mp_uint(b, (uint64_t)v);
	else if (v >= -32)
		b->p[b->len++] = (uint8_t)(int8_t)v;
	else if (v >= -128)
		mp_be(b, 0xd0, (uint64_t)v & 0xff, 1);
	else if (v >= -32768)
		mp_be(b, 0xd1, (uint64_t)v & 0xffff, 2);
	else if (v >= INT32_MIN)
		mp_be(b, 0xd2, (uint64_t)v & 0xffffffff, 4);
	else
		mp_be(b, 0xd3, (uint64_t)v, 8);
}

#endif
