/* schema.h: one field table per event type; one packer walks it into a msgpack record. */
#ifndef EBPF_FORWARD_SCHEMA_H
#define EBPF_FORWARD_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "mpbuf.h"

enum schema_kind {
	SF_U16,      /* __u16 -> uint */
	SF_U32,      /* __u32 -> uint */
	SF_U64,      /* __u64 -> uint */
	SF_S32,      /* __s32 -> int */
	SF_STR,      /* struct ev_str -> str, bytes after the fixed part */
	SF_COMM,     /* char[16], NUL-padded -> str without the padding */
	SF_NAME,     /* __u32 index into names[] -> str */
	SF_IPADDR,   /* __u16 family at off, 16 address bytes at aux -> readable str */
	SF_PROTO,    /* __u16 IPPROTO_* -> str ("tcp", "udp", or the number) */
};

struct schema_field {
	const char *key;
	enum schema_kind kind;
	uint16_t off;                 /* offset in the event */
	uint16_t aux;                 /* SF_IPADDR: offset of the address bytes */
	const char *const *names;     /* SF_NAME: value -> name */
	uint32_t nnames;
};

/* An event type: its in_ebpf event_type, its minimum size, and the keys after the common ones. */
struct schema_type {
	uint16_t type;                /* enum ev_type */
	const char *event_type;
	uint16_t fixed_size;          /* sizeof the event struct */
	const struct schema_field *fields;
	size_t nfields;
};

/* The schema of an event type, or NULL. */
const struct schema_type *schema_find(uint16_t type);

/* The full key list (common, the type's own, then documented extras) of a type, for docs and tests. */
size_t schema_keys(uint16_t type, const char **keys, size_t max);

enum schema_error {
	SCHEMA_OK = 0,
	SCHEMA_SHORT,        /* fewer bytes than an event header */
	SCHEMA_BAD_SIZE,     /* header size disagrees with the ring record size */
	SCHEMA_UNKNOWN_TYPE,
	SCHEMA_TOO_SMALL,    /* smaller than the type's fixed part */
	SCHEMA_BAD_STRING,   /* a string points outside the event */
	SCHEMA_NOMEM,
};

/*
 * Checks a ring record and appends it as a msgpack map to out. On error
 * nothing is appended and the error says why (schema_strerror); where names
 * the offending field when there is one. SCHEMA_NOMEM when out cannot grow.
 */
enum schema_error schema_pack(struct mpbuf *out, const void *data, size_t size, const char **where);

const char *schema_strerror(enum schema_error e);

#endif
