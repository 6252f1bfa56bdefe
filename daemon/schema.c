/* schema.c: event types by id (from the registry), their key lists, and the entry to each type's packer (schema_pack.h). */
#include <stddef.h>
#include <string.h>

#include "events.h"
#include "registry.h"
#include "schema.h"
#include "schema_pack.h"

/* A type's keys in record order, head + own + tail, listed once (schema_keys); the packers are compiled. */
#define MAX_KEYS 32
struct record_plan {
	const struct schema_type *type;      /* NULL until looked up */
	const struct schema_field *f[MAX_KEYS];
	uint32_t n;
};

static struct record_plan plans[EV_TYPE_COUNT];

static int has_key(const struct schema_type *t, const char *key)
{
	for (size_t i = 0; i < t->nfields; i++)
		if (strcmp(t->fields[i].key, key) == 0)
			return 1;
	return 0;
}

static void plan_add(struct record_plan *p, const struct schema_field *f)
{
	if (p->n < MAX_KEYS)
		p->f[p->n++] = f;
}

static const struct record_plan *plan_of(const struct schema_type *t)
{
	struct record_plan *p = &plans[t->type];

	if (p->n)
		return p;
	for (size_t i = 0; i < SCHEMA_LEN(schema_head); i++)
		plan_add(p, &schema_head[i]);
	for (size_t i = 0; i < t->nfields; i++)
		plan_add(p, &t->fields[i]);
	for (size_t i = 0; i < SCHEMA_LEN(schema_tail); i++)
		if (!has_key(t, schema_tail[i].key))
			plan_add(p, &schema_tail[i]);
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

enum schema_error schema_pack(struct mpbuf *out, const void *data, size_t size, const char **where)
{
	const struct schema_type *t;
	struct ev_hdr h;

	*where = NULL;
	if (size < sizeof(h))
		return SCHEMA_SHORT;
	/* No trace writes more: a larger record is broken, whatever it says. */
	if (size > EV_MAX_SIZE)
		return SCHEMA_TOO_LARGE;
	memcpy(&h, data, sizeof(h));
	/* The ring hands over exactly the bytes the trace wrote. */
	if (h.size != size)
		return SCHEMA_BAD_SIZE;
	t = schema_find(h.type);
	if (!t)
		return SCHEMA_UNKNOWN_TYPE;
	/* the type's own packer (SCHEMA_DEFINE): its checks, one reservation, straight-line stores */
	return (enum schema_error)t->pack(out, data, size, where);
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
