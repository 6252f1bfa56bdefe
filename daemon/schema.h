/* schema.h: packs a ring record with its event type's packer, and lists a type's keys. */
#ifndef EBPF_FORWARD_SCHEMA_H
#define EBPF_FORWARD_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "fields.h"
#include "mpbuf.h"

/* The schema of an event type, or NULL. */
const struct schema_type *schema_find(uint16_t type);

/* The full key list (common, the type's own, then documented extras) of a type, for docs and tests. */
size_t schema_keys(uint16_t type, const char **keys, size_t max);


/*
 * Checks a ring record and appends it as a msgpack map to out. On error
 * nothing is appended and the error says why (schema_strerror); where names
 * the offending field when there is one. SCHEMA_NOMEM when out cannot grow.
 */
enum schema_error schema_pack(struct mpbuf *out, const void *data, size_t size, const char **where);

const char *schema_strerror(enum schema_error e);

#endif
