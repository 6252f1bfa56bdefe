/* schema_pack.h: the one packer, inlined per event type from its field table, so each record is straight-line code. */
#ifndef EBPF_FORWARD_SCHEMA_PACK_H
#define EBPF_FORWARD_SCHEMA_PACK_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cmdline.h"
#include "container.h"
#include "dns_wire.h"
#include "events.h"
#include "fields.h"
#include "mpbuf.h"
#include "schema_values.h"
#include "strsafe.h"

/*
 * Why inline: walking a table at run time costs a load and an indirect jump
 * per key, about half of the packer's time. SCHEMA_DEFINE instead compiles
 * one packer per event type from its table: the loops below are unrolled,
 * each field's kind, offset and key are constants, and what is left is the
 * stores. The tables stay the one description of a record (schema_keys
 * reads the same ones); only the compiler sees them twice.
 */

/* Keys of every record, first, as in_ebpf writes them (event_type comes from the type). */
static const struct schema_field schema_head[] = {
	F("event_id", SF_U64, struct ev_hdr, event_id),
	F("pid", SF_U32, struct ev_hdr, pid),
	F("tid", SF_U32, struct ev_hdr, tid),
	F("comm", SF_COMM, struct ev_hdr, comm),
};

/* Documented extras after a type's own keys, unless the type already has the key. */
static const struct schema_field schema_tail[] = {
	F("ppid", SF_U32, struct ev_hdr, ppid),
	F("uid", SF_U32, struct ev_hdr, uid),
	F("gid", SF_U32, struct ev_hdr, gid),
	F("mntns_id", SF_U64, struct ev_hdr, mntns_id),
	F("cgroup_id", SF_U64, struct ev_hdr, cgroup_id),
	/* the container of the task, from its cgroup at the event's time */
	{.key = "container_id", .kind = SF_CONTAINER, .off = offsetof(struct ev_hdr, cgroup_id),
	 .aux = offsetof(struct ev_hdr, ts_ns)},
};

/* The most one field adds besides its string bytes: key, header, a number, an address, a container id, a comm. */
#define SCHEMA_MAX2(a, b) ((a) > (b) ? (a) : (b))
#define SCHEMA_FIELD_MAX (32 + 9 + SCHEMA_MAX2(SCHEMA_MAX2(INET6_ADDRSTRLEN, CONTAINER_ID_LEN), \
						STRSAFE_MAX(EV_COMM_LEN)))

_Static_assert(EV_COMM_LEN == 16, "comm is packed as a 16-byte field (strsafe_put_nul16)");

/* Fields are read with memcpy: a ring record is 8-byte aligned, but keep no assumption. */
static inline uint16_t schema_ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, sizeof(v)); return v; }
static inline uint32_t schema_ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, sizeof(v)); return v; }
static inline uint64_t schema_ld64(const uint8_t *p) { uint64_t v; memcpy(&v, p, sizeof(v)); return v; }
static inline struct ev_str schema_ldstr(const uint8_t *p) { struct ev_str v; memcpy(&v, p, sizeof(v)); return v; }

#define SCHEMA_INLINE static inline __attribute__((always_inline))

/* A key: keys are short literals (under 32 bytes), so this is a few constant stores. */
SCHEMA_INLINE size_t schema_put_key(uint8_t *o, const char *key)
{
	size_t n = strlen(key);

	o[0] = (uint8_t)(0xa0 | n);
	memcpy(o + 1, key, n);
	return n + 1;
}

SCHEMA_INLINE bool schema_is_string(enum schema_kind k)
{
	return k == SF_STR || k == SF_ARGS || k == SF_DNS_QNAME || k == SF_DNS_NUM;
}

/* The string bytes a field may write beyond SCHEMA_FIELD_MAX (escapes make text longer than its bytes). */
SCHEMA_INLINE size_t schema_str_room(enum schema_kind k, struct ev_str s)
{
	return k == SF_STR ? STRSAFE_MAX(s.len) : k == SF_ARGS ? STRSAFE_MAX(CMDLINE_MAX(s.len)) :
	       k == SF_DNS_QNAME ? DNS_WIRE_TEXT_MAX : 0;
}

SCHEMA_INLINE size_t schema_put_value(uint8_t *o, const uint8_t *ev, const struct schema_field *f)
{
	const uint8_t *at = ev + f->off;

	switch (f->kind) {
	case SF_U16: return mp_put_uint(o, schema_ld16(at));
	case SF_U32: return mp_put_uint(o, schema_ld32(at));
	case SF_U64: return mp_put_uint(o, schema_ld64(at));
	case SF_S32: return mp_put_int(o, (int32_t)schema_ld32(at));
	case SF_S64: return mp_put_int(o, (int64_t)schema_ld64(at));
	case SF_BOOL: *o = *at ? 0xc3 : 0xc2; return 1;
	case SF_STR: {
		struct ev_str s = schema_ldstr(at);
		return strsafe_put(o, ev + s.off, s.len);
	}
	case SF_ARGS: return schema_put_args(o, ev, schema_ldstr(at));
	case SF_COMM: return strsafe_put_nul16(o, at);
	case SF_NAME: {
		static const struct schema_name unknown = NAME("unknown");
		uint32_t v = schema_ld32(at);
		const struct schema_name *name = v < f->nnames ? &f->names[v] : &unknown;

		/* a fixed-size copy of the whole slot (a few wide stores); only len bytes count */
		o[0] = (uint8_t)(0xa0 | name->len);
		memcpy(o + 1, name->s, SCHEMA_NAME_MAX);
		return 1 + (size_t)name->len;
	}
	case SF_IPADDR: return schema_put_ipaddr(o, ev, f->off, f->aux);
	case SF_PROTO: return schema_put_proto(o, schema_ld16(at));
	case SF_DNS_QNAME: return schema_put_dns_qname(o, ev, schema_ldstr(at));
	case SF_DNS_NUM: {
		struct ev_str s = schema_ldstr(at);
		return mp_put_uint(o, dns_wire_num(ev + s.off, s.len, f->aux));
	}
	case SF_CONTAINER: return schema_put_container(o, schema_ld64(at), schema_ld64(ev + f->aux));
	}
	return 0;
}

/* Whether a type's own table has key (then the tail's key of that name is not added). */
SCHEMA_INLINE bool schema_has_key(const struct schema_field *fs, size_t n, const char *key)
{
#pragma GCC unroll 64
	for (size_t i = 0; i < n; i++)
		if (strcmp(fs[i].key, key) == 0)
			return true;
	return false;
}

/*
 * One event type's packer: checks every string against the record, reserves
 * room once, then writes {"event_type": name, head..., own..., tail...}.
 * Appends to out; on error appends nothing.
 */
SCHEMA_INLINE int schema_pack_type(struct mpbuf *out, const uint8_t *ev, size_t size,
						 const char **where, const char *event_type, size_t fixed_size,
						 const struct schema_field *fs, size_t n)
{
	size_t room = 3 + 11 + 1 + strlen(event_type), pairs = 1 + SCHEMA_LEN(schema_head) + n;
	uint8_t *o, *start;

	if (size < fixed_size)
		return SCHEMA_TOO_SMALL;
#pragma GCC unroll 64
	for (size_t i = 0; i < n; i++)
		if (schema_is_string(fs[i].kind)) {
			struct ev_str s = schema_ldstr(ev + fs[i].off);

			if (s.off < fixed_size || (size_t)s.off + s.len > size)
				return schema_bad(where, fs[i].key, SCHEMA_BAD_STRING);
			room += schema_str_room(fs[i].kind, s);
		}
#pragma GCC unroll 16
	for (size_t i = 0; i < SCHEMA_LEN(schema_tail); i++)
		pairs += !schema_has_key(fs, n, schema_tail[i].key);
	room += pairs * SCHEMA_FIELD_MAX;
	if (mpbuf_reserve(out, room))
		return SCHEMA_NOMEM;

	/* a local cursor: the compiler keeps it in a register across the stores */
	start = o = out->p + out->len;
	/* pairs < 65536; a fixmap when under 16 */
	if (pairs < 16) {
		*o++ = (uint8_t)(0x80 | pairs);
	} else {
		*o++ = 0xde;
		*o++ = (uint8_t)(pairs >> 8);
		*o++ = (uint8_t)pairs;
	}
	o += schema_put_key(o, "event_type");
	o += schema_put_key(o, event_type);
#pragma GCC unroll 16
	for (size_t i = 0; i < SCHEMA_LEN(schema_head); i++) {
		o += schema_put_key(o, schema_head[i].key);
		o += schema_put_value(o, ev, &schema_head[i]);
	}
#pragma GCC unroll 64
	for (size_t i = 0; i < n; i++) {
		o += schema_put_key(o, fs[i].key);
		o += schema_put_value(o, ev, &fs[i]);
	}
#pragma GCC unroll 16
	for (size_t i = 0; i < SCHEMA_LEN(schema_tail); i++)
		if (!schema_has_key(fs, n, schema_tail[i].key)) {
			o += schema_put_key(o, schema_tail[i].key);
			o += schema_put_value(o, ev, &schema_tail[i]);
		}
	out->len += (size_t)(o - start);
	return SCHEMA_OK;
}

/*
 * Defines the event type VAR (enum ev_type T, in_ebpf's NAME for it, its
 * STRUCT and its field table FIELDS) with its packer.
 */
#define SCHEMA_DEFINE(VAR, T, NAME, STRUCT, FIELDS)                                                    \
	static int VAR##_pack(struct mpbuf *out, const uint8_t *ev, size_t size, const char **where)   \
	{                                                                                              \
		return schema_pack_type(out, ev, size, where, NAME, sizeof(STRUCT), FIELDS,           \
					SCHEMA_LEN(FIELDS));                                           \
	}                                                                                              \
	static const struct schema_type VAR = {.type = T, .event_type = NAME, .fixed_size = sizeof(STRUCT), \
					       .fields = FIELDS, .nfields = SCHEMA_LEN(FIELDS),         \
					       .pack = VAR##_pack}

#endif
