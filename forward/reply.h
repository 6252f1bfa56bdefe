/* reply.h: what a Forward receiver sends back, parsed from bytes alone (no connection), so it can be tested and fuzzed. */
#ifndef FWD_REPLY_H
#define FWD_REPLY_H

#include <stddef.h>
#include <stdint.h>

/*
 * Replies are read into this much room: an ack, {"ack": id}, is a few dozen
 * bytes, so a receiver cannot make the client hold more than this. An ack
 * longer than this (its id included) is not an ack.
 */
#define FWD_REPLY_MAX 512

/*
 * One ack at the start of b (n bytes): {"ack": str} as fixmap, fixstr "ack",
 * then a fixstr, str8 or str16. Returns the bytes it takes (> 0) with *id and
 * *idlen set (id points into b), 0 when more bytes are needed, -1 when b does
 * not start like an ack.
 */
int fwd_reply_ack(const uint8_t *b, size_t n, const char **id, size_t *idlen);

#endif
