/* capture.h: an output that keeps records in memory, and lookups on them, for the tests. */
#ifndef EBPF_FORWARD_TEST_CAPTURE_H
#define EBPF_FORWARD_TEST_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <msgpack.h>

#include "output.h"

struct captured {
	char tag[128];
	struct evtime time;
	char *bytes;          /* the record as packed; u points into it */
	msgpack_unpacked u;   /* u.data is the record map */
};

struct capture {
	struct output base;
	struct captured *recs;
	size_t n, cap;
	/* count_only: records are counted, not kept, with the longest time between two of them */
	bool count_only;
	uint64_t counted, last_ns, max_gap_ns;
};

void capture_init(struct capture *c);
/* Forgets the records captured so far (a long run keeps only what it counts). */
void capture_clear(struct capture *c);
void capture_free(struct capture *c);

/* The value of key in a record map, or NULL. */
const msgpack_object *rec_get(const msgpack_object *map, const char *key);

/* Field accessors that fail the test when the key is missing or has another msgpack type. */
uint64_t rec_uint(const msgpack_object *map, const char *key);
int64_t rec_int(const msgpack_object *map, const char *key);
/* A NUL-terminated copy (static buffer, overwritten by the next call). */
const char *rec_str(const msgpack_object *map, const char *key);
bool rec_str_is(const msgpack_object *map, const char *key, const char *want);

#endif
