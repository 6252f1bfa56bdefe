/* schema.c: the one packer: an event's field table (its trace's, from the registry) walked into a record. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cmdline.h"
#include "container.h"
#include "dns_wire.h"
#include "events.h"
#include "registry.h"
#include "schema.h"
#include "strsafe.h"

/* Keys of every record, first, as in_ebpf writes them (event_type comes from the type). */
static const struct schema_field head[] = {
	F("event_id", SF_U64, struct ev_hdr, event_id),
	F("pid", SF_U32, struct ev_hdr, pid),
	F("tid", SF_U32, struct ev_hdr, tid),
	F("comm", SF_COMM, struct ev_hdr, comm),
};

/* Documented extras after a type's own keys, unless the type already has the key. */
static const struct schema_field tail[] = {
	F("ppid", SF_U32, struct ev_hdr, ppid),
	F("uid", SF_U32, struct ev_hdr, uid),
	F("gid", SF_U32, struct ev_hdr, gid),
	F("mntns_id", SF_U64, struct ev_hdr, mntns_id),
	F("cgroup_id", SF_U64, struct ev_hdr, cgroup_id),
	/* the container of the task, from its cgroup at the event's time */
	{.key = "container_id", .kind = SF_CONTAINER, .off = offsetof(struct ev_hdr, cgroup_id),
	 .aux = offsetof(struct ev_hdr, ts_ns)},
};

/* A type's whole record, head + own + tail, composed once, with each key already encoded. */
#define MAX_KEYS 32
/* Keys are fixstr (under 32 bytes): each is copied as a whole 32-byte slot, a fixed-size copy
 * the compiler inlines, instead of a call to memcpy per key; only klen bytes count. */
#define KEY_ENC_MAX 32
struct record_plan {
	const struct schema_type *type;      /* NULL until looked up */
	const struct schema_field *f[MAX_KEYS];
	uint8_t key[MAX_KEYS][KEY_ENC_MAX]; /* fixstr header and bytes */
	uint8_t klen[MAX_KEYS];
	uint32_t n;
	uint8_t head[64];                    /* map header, "event_type" and its value */
	uint8_t head_len;
};

static struct record_plan plans[EV_TYPE_COUNT];

static int has_key(const struct schema_type *t, const char *key)
{
	for (size_t i = 0; i < t->nfields; i++)
		if (strcmp(t->fields[i].key, key) == 0)
			return 1;
	return 0;
}

/* Encodes a short str (keys, event types are under 32 bytes) into dst; returns its length. */
static uint8_t encode_fixstr(uint8_t *dst, const char *s)
{
	size_t n = strlen(s);

	dst[0] = (uint8_t)(0xa0 | n);
	memcpy(dst + 1, s, n);
	return (uint8_t)(n + 1);
}

static void plan_add(struct record_plan *p, const struct schema_field *f)
{
	if (p->n < MAX_KEYS && strlen(f->key) < KEY_ENC_MAX) {
		p->klen[p->n] = encode_fixstr(p->key[p->n], f->key);
		p->f[p->n++] = f;
	}
}

static const struct record_plan *plan_of(const struct schema_type *t)
{
	struct record_plan *p = &plans[t->type];

	uint32_t pairs;

	if (p->n)
		return p;
	for (size_t i = 0; i < SCHEMA_LEN(head); i++)
		plan_add(p, &head[i]);
	for (size_t i = 0; i < t->nfields; i++)
		plan_add(p, &t->fields[i]);
	for (size_t i = 0; i < SCHEMA_LEN(tail); i++)
		if (!has_key(t, tail[i].key))
			plan_add(p, &tail[i]);
	pairs = p->n + 1;
	p->head_len = 0;
	p->head[p->head_len++] = pairs < 16 ? (uint8_t)(0x80 | pairs) : 0xde;
	if (pairs >= 16) {
		p->head[p->head_len++] = (uint8_t)(pairs >> 8);
		p->head[p->head_len++] = (uint8_t)pairs;
	}
	p->head_len += encode_fixstr(p->head + p->head_len, "event_type");
	p->head_len += encode_fixstr(p->head + p->head_len, t->event_type);
	return p;
}

const struct schema_type *schema_find(uint16_t type)
{
	/* the plan keeps the type found once, so the hot path does not walk the registry */
	if (type >= EV_TYPE_COUNT)
		return NULL;
	if (!plans[type].type)
		plans[type].type = registry_type(type);
	return plans[type].type;
}

size_t schema_keys(uint16_t type, const char **keys, size_t max)
{
	const struct schema_type *t = schema_find(type);
	const struct record_plan *p;
	size_t n = 0;

	if (!t)
		return 0;
	p = plan_of(t);
	if (n < max)
		keys[n] = "event_type";
	n++;
	for (uint32_t i = 0; i < p->n; i++, n++)
		if (n < max)
			keys[n] = p->f[i]->key;
	return n;
}

/* Fields are read with memcpy: a ring record is 8-byte aligned, but keep no assumption. */
static inline uint16_t ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, sizeof(v)); return v; }
static inline uint32_t ld32(const uint8_t *p) { uint32_t v; memcpy(&v, p, sizeof(v)); return v; }
static inline uint64_t ld64(const uint8_t *p) { uint64_t v; memcpy(&v, p, sizeof(v)); return v; }
static inline struct ev_str ldstr(const uint8_t *p) { struct ev_str v; memcpy(&v, p, sizeof(v)); return v; }

static size_t put_ipaddr(uint8_t *o, const uint8_t *ev, const struct schema_field *f)
{
	char buf[INET6_ADDRSTRLEN];
	uint16_t family = ld16(ev + f->off);
	int af = family == AF_INET6 ? AF_INET6 : AF_INET;

	if ((family != AF_INET && family != AF_INET6) || !inet_ntop(af, ev + f->aux, buf, sizeof(buf)))
		buf[0] = '\0';
	return mp_put_str(o, buf, strlen(buf));
}

static size_t put_proto(uint8_t *o, uint16_t proto)
{
	char buf[8];

	switch (proto) {
	case IPPROTO_TCP: return mp_put_str(o, "tcp", 3);
	case IPPROTO_UDP: return mp_put_str(o, "udp", 3);
	case IPPROTO_SCTP: return mp_put_str(o, "sctp", 4);
	case IPPROTO_ICMP: return mp_put_str(o, "icmp", 4);
	case IPPROTO_ICMPV6: return mp_put_str(o, "icmpv6", 6);
	case IPPROTO_RAW: return mp_put_str(o, "raw", 3);
	default: return mp_put_str(o, buf, (size_t)snprintf(buf, sizeof(buf), "%u", proto));
	}
}

/*
 * The args key: the arguments joined (cmdline_join) into a buffer of the
 * packer's own, then escaped like any string. The packer runs on one
 * thread, the pipeline's.
 */
static size_t put_args(uint8_t *o, const uint8_t *ev, struct ev_str s)
{
	static uint8_t line[CMDLINE_MAX(EV_MAX_SIZE)];

	return strsafe_put(o, line, cmdline_join(line, ev + s.off, s.len));
}

static size_t put_dns_qname(uint8_t *o, const uint8_t *ev, struct ev_str s)
{
	struct dns_wire_question q;

	if (dns_wire_question(ev + s.off, s.len, &q))
		return mp_put_str(o, "<unknown>", 9);
	return mp_put_str(o, q.name, q.name_len);
}

/*
 * Validates what the packer will read so a bad record never half-packs, and
 * adds up the string bytes it will copy: strings may overlap (argv_last can
 * be argv's bytes), so their sum, not the record's size, bounds the output.
 */
static enum schema_error check(const struct schema_type *t, const uint8_t *ev, size_t size,
			       const char **where, size_t *str_bytes)
{
	*str_bytes = 0;
	if (size < t->fixed_size)
		return SCHEMA_TOO_SMALL;
	for (size_t i = 0; i < t->nfields; i++) {
		const struct schema_field *f = &t->fields[i];

		if (f->kind == SF_STR || f->kind == SF_ARGS || f->kind == SF_DNS_QNAME || f->kind == SF_DNS_NUM) {
			struct ev_str s = ldstr(ev + f->off);

			if (s.off < t->fixed_size || (size_t)s.off + s.len > size) {
				*where = f->key;
				return SCHEMA_BAD_STRING;
			}
			/* escapes make text longer than its bytes: \xHH for one byte; quotes too for args */
			if (f->kind == SF_STR)
				*str_bytes += STRSAFE_MAX(s.len);
			else if (f->kind == SF_ARGS)
				*str_bytes += STRSAFE_MAX(CMDLINE_MAX(s.len));
			else if (f->kind == SF_DNS_QNAME)
				*str_bytes += DNS_WIRE_TEXT_MAX;
		}
	}
	return SCHEMA_OK;
}

/* The most one field can add besides its string bytes: key, header, a number, an address, a container id, an escaped comm. */
#define MAX2(a, b) ((a) > (b) ? (a) : (b))
#define FIELD_VALUE_MAX MAX2(MAX2(INET6_ADDRSTRLEN, CONTAINER_ID_LEN), STRSAFE_MAX(EV_COMM_LEN))
#define FIELD_MAX (KEY_ENC_MAX + 9 + FIELD_VALUE_MAX)

enum schema_error schema_pack(struct mpbuf *out, const void *data, size_t size, const char **where)
{
	const uint8_t *ev = data;
	const struct schema_type *t;
	const struct record_plan *p;
	struct ev_hdr h;
	enum schema_error e;
	size_t str_bytes;
	uint8_t *o;

	*where = NULL;
	if (size < sizeof(h))
		return SCHEMA_SHORT;
	/* No trace writes more: a larger record is broken, whatever it says. */
	if (size > EV_MAX_SIZE)
		return SCHEMA_TOO_LARGE;
	memcpy(&h, ev, sizeof(h));
	/* The ring hands over exactly the bytes the trace wrote. */
	if (h.size != size)
		return SCHEMA_BAD_SIZE;
	t = schema_find(h.type);
	if (!t)
		return SCHEMA_UNKNOWN_TYPE;
	e = check(t, ev, size, where, &str_bytes);
	if (e)
		return e;
	p = plan_of(t);
	/* one reservation for the whole record */
	if (mpbuf_reserve(out, sizeof(p->head) + p->n * FIELD_MAX + str_bytes))
		return SCHEMA_NOMEM;

	/* a local cursor: the compiler keeps it in a register across the byte stores */
	o = out->p + out->len;
	memcpy(o, p->head, p->head_len);
	o += p->head_len;
	for (uint32_t i = 0; i < p->n; i++) {
		const struct schema_field *f = p->f[i];
		const uint8_t *at = ev + f->off;

		memcpy(o, p->key[i], KEY_ENC_MAX); /* room: FIELD_MAX per field */
		o += p->klen[i];
		switch (f->kind) {
		case SF_U16: o += mp_put_uint(o, ld16(at)); break;
		case SF_U32: o += mp_put_uint(o, ld32(at)); break;
		case SF_U64: o += mp_put_uint(o, ld64(at)); break;
		case SF_S32: o += mp_put_int(o, (int32_t)ld32(at)); break;
		case SF_S64: o += mp_put_int(o, (int64_t)ld64(at)); break;
		case SF_BOOL: *o++ = *at ? 0xc3 : 0xc2; break;
		case SF_STR: {
			struct ev_str s = ldstr(at);
			o += strsafe_put(o, ev + s.off, s.len);
			break;
		}
		case SF_ARGS: o += put_args(o, ev, ldstr(at)); break;
		case SF_COMM: o += strsafe_put(o, at, strnlen((const char *)at, EV_COMM_LEN)); break;
		case SF_NAME: {
			uint32_t v = ld32(at);
			if (v < f->nnames)
				o += mp_put_str(o, f->names[v], strlen(f->names[v]));
			else
				o += mp_put_str(o, "unknown", 7);
			break;
		}
		case SF_IPADDR: o += put_ipaddr(o, ev, f); break;
		case SF_PROTO: o += put_proto(o, ld16(at)); break;
		case SF_DNS_QNAME: o += put_dns_qname(o, ev, ldstr(at)); break;
		case SF_DNS_NUM: {
			struct ev_str s = ldstr(at);
			o += mp_put_uint(o, dns_wire_num(ev + s.off, s.len, f->aux));
			break;
		}
		case SF_CONTAINER: {
			size_t n;
			const char *id = container_of(ld64(at), ld64(ev + f->aux), &n);

			o += mp_put_str(o, id, n);
			break;
		}
		}
	}
	out->len = (size_t)(o - out->p);
	return SCHEMA_OK;
}

const char *schema_strerror(enum schema_error e)
{
	switch (e) {
	case SCHEMA_OK: return "ok";
	case SCHEMA_SHORT: return "shorter than an event header";
	case SCHEMA_BAD_SIZE: return "header size does not match the ring record size";
	case SCHEMA_TOO_LARGE: return "larger than any event (EV_MAX_SIZE)";
	case SCHEMA_UNKNOWN_TYPE: return "unknown event type";
	case SCHEMA_TOO_SMALL: return "smaller than its event type";
	case SCHEMA_BAD_STRING: return "string outside the event";
	case SCHEMA_NOMEM: return "out of memory";
	}
	return "?";
}
