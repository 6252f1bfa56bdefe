/* pack.h: Forward protocol encoding: EventTime, [time, record] entries, PackedForward frames. */
#ifndef FWD_PACK_H
#define FWD_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpbuf.h"

/* fixext8 of type 0: d7 00, seconds and nanoseconds big-endian. */
#define FWD_EVENTTIME_SIZE 10
/* A chunk id: base64 of 16 bytes, as Fluent Bit's out_forward makes them. */
#define FWD_CHUNK_ID_LEN 24

/* Writes an EventTime; seconds 0xFFFFFFFE/F are Fluent Bit's markers and are lowered to 0xFFFFFFFD. */
void fwd_pack_eventtime(uint8_t out[FWD_EVENTTIME_SIZE], uint32_t sec, uint32_t nsec);

/*
 * A PackedForward frame under construction: [tag, bin(entries), options].
 * Room for the array, tag and bin headers is kept in front of the entries, so
 * sealing writes the headers in place and never copies the entries.
 */
struct fwd_frame {
	struct mpbuf b;   /* the frame's bytes */
	size_t body;      /* where the entries start */
	size_t start;     /* after seal: where the frame starts */
	uint32_t entries;
};

/* Starts an empty frame for tag; -1 on allocation failure. */
int fwd_frame_init(struct fwd_frame *f, const char *tag, size_t taglen, size_t initial_cap);

/* The bytes fwd_frame_init takes for tag and initial_cap bytes of entries. */
size_t fwd_frame_room(size_t taglen, size_t initial_cap);

/*
 * The same in buf (cap bytes, at least fwd_frame_room), lendable memory from
 * the client (fwd_client_reuse): the frame owns it, and growing or freeing
 * the frame forgets its pages (lent.h).
 */
void fwd_frame_init_in(struct fwd_frame *f, const char *tag, size_t taglen, uint8_t *buf, size_t cap);

/* Appends [EventTime, record]; record must be one msgpack map. -1 on allocation failure. */
int fwd_frame_add(struct fwd_frame *f, uint32_t sec, uint32_t nsec, const void *record, size_t len);

/*
 * The same in place, for a record packed straight into the frame: begin
 * writes [EventTime and returns the frame's buffer for the record to be
 * appended to (one msgpack map), NULL on allocation failure; then end counts
 * the entry, or cancel takes it back to mark.
 */
struct mpbuf *fwd_frame_begin(struct fwd_frame *f, uint32_t sec, uint32_t nsec, size_t *mark);
void fwd_frame_end(struct fwd_frame *f);
void fwd_frame_cancel(struct fwd_frame *f, size_t mark);

/* Bytes of entries so far. */
size_t fwd_frame_payload(const struct fwd_frame *f);

/*
 * Writes the headers and the options map {"size": n, "fluent_signal": 0
 * [, "chunk": id]}. chunk may be NULL (no ack asked). -1 on allocation failure.
 */
int fwd_frame_seal(struct fwd_frame *f, const char *chunk);

/*
 * The same as CompressedPackedForward: the entries gzip'ed (one member, fast
 * level) and "compressed": "gzip" added to the options. -1 on failure, the
 * frame then left as it was (unsealed).
 */
int fwd_frame_seal_gzip(struct fwd_frame *f, const char *chunk);

/* The sealed frame's bytes. */
const uint8_t *fwd_frame_data(const struct fwd_frame *f);
size_t fwd_frame_size(const struct fwd_frame *f);

/* Gives up the buffer (to a queue that frees it with free()); the frame is left empty. */
uint8_t *fwd_frame_take(struct fwd_frame *f, size_t *start, size_t *size);

void fwd_frame_free(struct fwd_frame *f);

/* Chunk ids: a random prefix drawn once and a counter, base64, unique per frame. */
struct fwd_chunk_ids {
	uint8_t prefix[8];
	uint64_t next;
};

int fwd_chunk_ids_init(struct fwd_chunk_ids *ids);
/* Writes FWD_CHUNK_ID_LEN characters and a NUL. */
void fwd_chunk_id_next(struct fwd_chunk_ids *ids, char out[FWD_CHUNK_ID_LEN + 1]);

#endif
