/* recv_quick.h: the strict receiver's fast check of one PackedForward entry, read straight from its bytes. */
#ifndef RECV_QUICK_H
#define RECV_QUICK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, surrogates, > U+10FFFF), 0 if invalid. */
size_t recv_utf8_len(const unsigned char *p, size_t avail);

/* Offset of the first byte of s that is not in a valid UTF-8 sequence, or n when there is none. */
size_t recv_utf8_bad_at(const char *s, size_t n);

/* What the fast check saw of an entry it passed. */
struct recv_quick_entry {
	uint64_t sec;       /* the entry's time */
	uint32_t nsec;
	bool event;         /* an EventTime, not an int */
	bool matched;       /* a str value of the record holds the match string */
	size_t len;         /* bytes of the entry */
};

/*
 * Whether the entry at p (len bytes left) is one the full check
 * (msgpack-c's objects) would pass: [time, record] or [[time, metadata],
 * record], time a uint or an EventTime that is not a group marker, record
 * and metadata maps with str keys, every str of them UTF-8. true only when
 * sure: anything unusual (an error, nesting deeper than a few levels, a
 * time of another kind) is false, and the caller asks the full check,
 * which gives the reason. match (match_len bytes, 0 for none) is looked
 * for in the record's str values.
 */
bool recv_quick_entry(const uint8_t *p, size_t len, const char *match, size_t match_len,
		      struct recv_quick_entry *out);

#endif
