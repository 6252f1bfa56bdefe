/* pack.c: the Forward protocol's bytes, written by hand: they are few, fixed, and on the hot path. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <zlib.h>

#include "pack.h"

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void fwd_pack_eventtime(uint8_t out[FWD_EVENTTIME_SIZE], uint32_t sec, uint32_t nsec)
{
	if (sec >= 0xFFFFFFFEu)
		sec = 0xFFFFFFFDu;
	out[0] = 0xd7;
	out[1] = 0x00;
	be32(out + 2, sec);
	be32(out + 6, nsec);
}

/* msgpack str header for n bytes; returns its length. */
static size_t str_header(uint8_t *p, size_t n)
{
	if (n < 32) {
		p[0] = (uint8_t)(0xa0 | n);
		return 1;
	}
	if (n < 256) {
		p[0] = 0xd9;
		p[1] = (uint8_t)n;
		return 2;
	}
	if (n < 65536) {
		p[0] = 0xda;
		be16(p + 1, (uint16_t)n);
		return 3;
	}
	p[0] = 0xdb;
	be32(p + 1, (uint32_t)n);
	return 5;
}

/* msgpack bin header for n bytes; returns its length. */
static size_t bin_header(uint8_t *p, size_t n)
{
	if (n < 256) {
		p[0] = 0xc4;
		p[1] = (uint8_t)n;
		return 2;
	}
	if (n < 65536) {
		p[0] = 0xc5;
		be16(p + 1, (uint16_t)n);
		return 3;
	}
	p[0] = 0xc6;
	be32(p + 1, (uint32_t)n);
	return 5;
}

/* msgpack uint; returns its length. */
static size_t uint_value(uint8_t *p, uint32_t v)
{
	if (v < 128) {
		p[0] = (uint8_t)v;
		return 1;
	}
	if (v < 256) {
		p[0] = 0xcc;
		p[1] = (uint8_t)v;
		return 2;
	}
	if (v < 65536) {
		p[0] = 0xcd;
		be16(p + 1, (uint16_t)v);
		return 3;
	}
	p[0] = 0xce;
	be32(p + 1, v);
	return 5;
}

static int reserve(struct fwd_frame *f, size_t more)
{
	size_t cap = f->cap;
	uint8_t *nb;

	if (f->len + more <= f->cap)
		return 0;
	while (cap < f->len + more)
		cap = cap ? cap * 2 : 4096;
	nb = realloc(f->buf, cap);
	if (!nb)
		return -1;
	f->buf = nb;
	f->cap = cap;
	return 0;
}

/* Headers in front of the entries: fixarray(3), tag str, and at most a bin32 header. */
#define FRONT_MAX(taglen) (1 + 5 + (taglen) + 5)

int fwd_frame_init(struct fwd_frame *f, const char *tag, size_t taglen, size_t initial_cap)
{
	size_t front = FRONT_MAX(taglen), at;

	memset(f, 0, sizeof(*f));
	if (reserve(f, front + initial_cap))
		return -1;
	/* array and tag go right after the bin header's room; seal slides them to meet it */
	at = 0;
	f->buf[at++] = 0x93;
	at += str_header(f->buf + at, taglen);
	memcpy(f->buf + at, tag, taglen);
	at += taglen;
	/* [0, at) holds array+tag; the bin header goes in [front - binlen, front) at seal */
	f->body = front;
	f->len = front;
	f->start = at; /* remembers the length of array+tag until seal */
	return 0;
}

int fwd_frame_add(struct fwd_frame *f, uint32_t sec, uint32_t nsec, const void *record, size_t len)
{
	if (reserve(f, 1 + FWD_EVENTTIME_SIZE + len))
		return -1;
	f->buf[f->len++] = 0x92;
	fwd_pack_eventtime(f->buf + f->len, sec, nsec);
	f->len += FWD_EVENTTIME_SIZE;
	memcpy(f->buf + f->len, record, len);
	f->len += len;
	f->entries++;
	return 0;
}

size_t fwd_frame_payload(const struct fwd_frame *f)
{
	return f->len - f->body;
}

static int seal(struct fwd_frame *f, const char *chunk, bool gzip)
{
	static const uint8_t size_key[] = {0xa4, 's', 'i', 'z', 'e'};
	static const uint8_t signal_pair[] = {0xad, 'f', 'l', 'u', 'e', 'n', 't', '_', 's',
					      'i', 'g', 'n', 'a', 'l', 0x00};
	static const uint8_t chunk_key[] = {0xa5, 'c', 'h', 'u', 'n', 'k'};
	static const uint8_t gzip_pair[] = {0xaa, 'c', 'o', 'm', 'p', 'r', 'e', 's', 's', 'e', 'd',
					    0xa4, 'g', 'z', 'i', 'p'};
	size_t head_len = f->start, payload = fwd_frame_payload(f), chunk_len = chunk ? strlen(chunk) : 0;
	uint8_t bin[5];
	size_t bl = bin_header(bin, payload);
	size_t at;

	if (reserve(f, 1 + sizeof(size_key) + 5 + sizeof(signal_pair) + sizeof(chunk_key) + 5 + chunk_len +
			       sizeof(gzip_pair)))
		return -1;
	/* options map */
	f->buf[f->len++] = (uint8_t)(0x80 | (2 + (chunk ? 1 : 0) + (gzip ? 1 : 0)));
	memcpy(f->buf + f->len, size_key, sizeof(size_key));
	f->len += sizeof(size_key);
	f->len += uint_value(f->buf + f->len, f->entries);
	memcpy(f->buf + f->len, signal_pair, sizeof(signal_pair));
	f->len += sizeof(signal_pair);
	if (chunk) {
		memcpy(f->buf + f->len, chunk_key, sizeof(chunk_key));
		f->len += sizeof(chunk_key);
		f->len += str_header(f->buf + f->len, chunk_len);
		memcpy(f->buf + f->len, chunk, chunk_len);
		f->len += chunk_len;
	}
	if (gzip) {
		memcpy(f->buf + f->len, gzip_pair, sizeof(gzip_pair));
		f->len += sizeof(gzip_pair);
	}
	/* the bin header right before the entries, array+tag right before it */
	at = f->body - bl;
	memcpy(f->buf + at, bin, bl);
	memmove(f->buf + at - head_len, f->buf, head_len);
	f->start = at - head_len;
	return 0;
}

int fwd_frame_seal(struct fwd_frame *f, const char *chunk)
{
	return seal(f, chunk, false);
}

int fwd_frame_seal_gzip(struct fwd_frame *f, const char *chunk)
{
	size_t payload = fwd_frame_payload(f);
	z_stream z;
	uLong bound;
	uint8_t *nb;
	int rc;

	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip member, which is what in_forward sniffs for */
	if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	bound = deflateBound(&z, (uLong)payload);
	/* same room in front as the plain frame, and room behind for the options */
	nb = malloc(f->body + bound + 128);
	if (!nb) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = f->buf + f->body;
	z.avail_in = (uInt)payload;
	z.next_out = nb + f->body;
	z.avail_out = (uInt)bound;
	rc = deflate(&z, Z_FINISH);
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(nb);
		return -1;
	}
	memcpy(nb, f->buf, f->start); /* array and tag, not yet slid into place */
	free(f->buf);
	f->buf = nb;
	f->cap = f->body + bound + 128;
	f->len = f->body + z.total_out;
	return seal(f, chunk, true);
}

const uint8_t *fwd_frame_data(const struct fwd_frame *f)
{
	return f->buf + f->start;
}

size_t fwd_frame_size(const struct fwd_frame *f)
{
	return f->len - f->start;
}

uint8_t *fwd_frame_take(struct fwd_frame *f, size_t *start, size_t *size)
{
	uint8_t *b = f->buf;

	*start = f->start;
	*size = fwd_frame_size(f);
	memset(f, 0, sizeof(*f));
	return b;
}

void fwd_frame_free(struct fwd_frame *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

int fwd_chunk_ids_init(struct fwd_chunk_ids *ids)
{
	memset(ids, 0, sizeof(*ids));
	return getrandom(ids->prefix, sizeof(ids->prefix), 0) == (ssize_t)sizeof(ids->prefix) ? 0 : -1;
}

void fwd_chunk_id_next(struct fwd_chunk_ids *ids, char out[FWD_CHUNK_ID_LEN + 1])
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint8_t raw[18] = {0};
	uint64_t n = ids->next++;
	size_t o = 0;

	memcpy(raw, ids->prefix, 8);
	for (int i = 0; i < 8; i++)
		raw[8 + i] = (uint8_t)(n >> (56 - 8 * i));
	/* 16 bytes -> 22 characters and "==" padding, as base64 of 16 bytes is */
	for (size_t i = 0; i < 18; i += 3) {
		uint32_t v = ((uint32_t)raw[i] << 16) | ((uint32_t)raw[i + 1] << 8) | raw[i + 2];

		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	out[22] = '=';
	out[23] = '=';
	out[24] = '\0';
}
