/* output.h: where packed records go (stdout as JSON lines, or a Forward receiver). */
#ifndef EBPF_FORWARD_OUTPUT_H
#define EBPF_FORWARD_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evtime.h"
#include "mpbuf.h"

/* Tags are few and fixed at start-up: each has a small id (the event type) besides its text. */
#define OUTPUT_MAX_TAGS 32

struct output_stats {
	uint64_t records_in;       /* taken by write */
	uint64_t records_sent;     /* written to the receiver (or the stream) */
	uint64_t records_acked;    /* acknowledged by the receiver */
	uint64_t records_dropped;  /* lost in the output: buffer full, or undelivered at shutdown */
	uint64_t buffered_bytes;
	uint64_t spooled_bytes;    /* in the spool, on disk */
	uint64_t handshake_failures; /* receivers that failed the shared-key handshake */
	int connected;             /* -1: not a connection */
};

struct output {
	/* Begins delivering (connecting); called once privileges are dropped. */
	void (*start)(struct output *o);
	/* Takes one record (a msgpack map); returns 0, or -1 when it could not be taken. */
	int (*write)(struct output *o, unsigned tag_id, const char *tag, size_t taglen,
		     struct evtime t, const char *record, size_t len);
	/*
	 * Optional, the same in place: the buffer to append one record to, NULL
	 * when it cannot take one; record_end then takes it (ok) or takes it
	 * back (!ok: the packer failed and appended nothing). For a type only
	 * this output takes, it saves copying every record.
	 */
	struct mpbuf *(*record_begin)(struct output *o, unsigned tag_id, const char *tag, size_t taglen,
				      struct evtime t);
	void (*record_end)(struct output *o, unsigned tag_id, bool ok);
	/* The readers have drained the rings: a hint that a batch ended. */
	int (*flush)(struct output *o);
	/* Delivers what it holds, then stops; done(arg) runs when it has (maybe later, on the loop). */
	void (*close)(struct output *o, unsigned deadline_ms, void (*done)(void *), void *arg);
	void (*stats)(struct output *o, struct output_stats *st);
	/* Frees; after close's done. */
	void (*destroy)(struct output *o);
};

#endif
