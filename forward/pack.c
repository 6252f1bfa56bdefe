/* pack.c: the Forward protocol's bytes, written by hand: they are few, fixed, and on the hot path. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <zlib.h>

#include "mpbuf.h"
#include "pack.h"

void fwd_pack_eventtime(uint8_t out[FWD_EVENTTIME_SIZE], uint32_t sec, uint32_t nsec)
{
	if (sec >= 0xFFFFFFFEu)
		sec = 0xFFFFFFFDu;
	/* fixext8 (d7), type 0, then the 8 bytes: seconds and nanoseconds */
	out[0] = 0xd7;
	mp_put_be(out + 1, 0x00, ((uint64_t)sec << 32) | nsec, 8);
}

/* Headers in front of the entries: fixarray(3), tag str, and at most a bin32 header. */
#define FRONT_MAX(taglen) (1 + 5 + (taglen) + 5)

size_t fwd_frame_room(size_t taglen, size_t initial_cap)
{
	return FRONT_MAX(taglen) + initial_cap;
}

/* The frame's headers, in f->b's room (at least fwd_frame_room). */
static void frame_start(struct fwd_frame *f, const char *tag, size_t taglen)
{
	size_t front = FRONT_MAX(taglen), at;

	/* array and tag go right after the bin header's room; seal slides them to meet it */
	at = 0;
	at += mp_put_array_hdr(f->b.p + at, 3);
	at += mp_put_str(f->b.p + at, tag, taglen);
	/* [0, at) holds array+tag; the bin header goes in [front - binlen, front) at seal */
	f->body = front;
	f->b.len = front;
	f->start = at; /* remembers the length of array+tag until seal */
}

int fwd_frame_init(struct fwd_frame *f, const char *tag, size_t taglen, size_t initial_cap)
{
	memset(f, 0, sizeof(*f));
	if (mpbuf_reserve(&f->b, fwd_frame_room(taglen, initial_cap)))
		return -1;
	frame_start(f, tag, taglen);
	return 0;
}

void fwd_frame_init_in(struct fwd_frame *f, const char *tag, size_t taglen, uint8_t *buf, size_t cap)
{
	memset(f, 0, sizeof(*f));
	f->b = (struct mpbuf){.p = buf, .cap = cap, .lent = true};
	frame_start(f, tag, taglen);
}

struct mpbuf *fwd_frame_begin(struct fwd_frame *f, uint32_t sec, uint32_t nsec, size_t *mark)
{
	if (mpbuf_reserve(&f->b, 1 + FWD_EVENTTIME_SIZE))
		return NULL;
	*mark = f->b.len;
	mp_array(&f->b, 2);
	fwd_pack_eventtime(f->b.p + f->b.len, sec, nsec);
	f->b.len += FWD_EVENTTIME_SIZE;
	return &f->b;
}

void fwd_frame_end(struct fwd_frame *f)
{
	f->entries++;
}

void fwd_frame_cancel(struct fwd_frame *f, size_t mark)
{
	f->b.len = mark;
}

int fwd_frame_add(struct fwd_frame *f, uint32_t sec, uint32_t nsec, const void *record, size_t len)
{
	size_t mark;
	struct mpbuf *b = fwd_frame_begin(f, sec, nsec, &mark);

	if (!b)
		return -1;
	if (mpbuf_reserve(b, len)) {
		fwd_frame_cancel(f, mark);
		return -1;
	}
	memcpy(b->p + b->len, record, len);
	b->len += len;
	fwd_frame_end(f);
	return 0;
}

size_t fwd_frame_payload(const struct fwd_frame *f)
{
	return f->b.len - f->body;
}

static int seal(struct fwd_frame *f, const char *chunk, bool gzip)
{
	size_t head_len = f->start, payload = fwd_frame_payload(f), chunk_len = chunk ? strlen(chunk) : 0;
	uint8_t bin[5];
	size_t bl = mp_put_bin_hdr(bin, payload);
	size_t at;

	/* the options map: its keys and values, and a str header for the chunk id */
	if (mpbuf_reserve(&f->b, 64 + 5 + chunk_len))
		return -1;
	mp_map(&f->b, 2 + (chunk ? 1 : 0) + (gzip ? 1 : 0));
	mp_str(&f->b, "size", 4);
	mp_uint(&f->b, f->entries);
	mp_str(&f->b, "fluent_signal", 13);
	mp_uint(&f->b, 0); /* logs */
	if (chunk) {
		mp_str(&f->b, "chunk", 5);
		mp_str(&f->b, chunk, chunk_len);
	}
	if (gzip) {
		mp_str(&f->b, "compressed", 10);
		mp_str(&f->b, "gzip", 4);
	}
	/* the bin header right before the entries, array+tag right before it */
	at = f->body - bl;
	memcpy(f->b.p + at, bin, bl);
	memmove(f->b.p + at - head_len, f->b.p, head_len);
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
	z.next_in = f->b.p + f->body;
	z.avail_in = (uInt)payload;
	z.next_out = nb + f->body;
	z.avail_out = (uInt)bound;
	rc = deflate(&z, Z_FINISH);
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(nb);
		return -1;
	}
	memcpy(nb, f->b.p, f->start); /* array and tag, not yet slid into place */
	mpbuf_free(&f->b);
	f->b.p = nb;
	f->b.cap = f->body + bound + 128;
	f->b.len = f->body + z.total_out;
	return seal(f, chunk, true);
}

const uint8_t *fwd_frame_data(const struct fwd_frame *f)
{
	return f->b.p + f->start;
}

size_t fwd_frame_size(const struct fwd_frame *f)
{
	return f->b.len - f->start;
}

uint8_t *fwd_frame_take(struct fwd_frame *f, size_t *start, size_t *size)
{
	uint8_t *b = f->b.p;

	*start = f->start;
	*size = fwd_frame_size(f);
	memset(f, 0, sizeof(*f));
	return b;
}

void fwd_frame_free(struct fwd_frame *f)
{
	mpbuf_free(&f->b);
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
