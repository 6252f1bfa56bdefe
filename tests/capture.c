/* capture.c: the in-memory output of the tests: every record unpacked and kept. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"

static int capture_write(struct output *o, unsigned tag_id, const char *tag, size_t taglen,
			 struct evtime t, const char *record, size_t len)
{
	struct capture *c = (struct capture *)o;
	struct captured *r;
	size_t off = 0;

	(void)tag_id;
	if (c->count_only) {
		struct timespec ts;
		uint64_t now;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		if (c->counted++ && now - c->last_ns > c->max_gap_ns)
			c->max_gap_ns = now - c->last_ns;
		c->last_ns = now;
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct captured *nr = realloc(c->recs, cap * sizeof(*nr));

		if (!nr)
			return -1;
		c->recs = nr;
		c->cap = cap;
	}
	r = &c->recs[c->n];
	snprintf(r->tag, sizeof(r->tag), "%.*s", (int)taglen, tag);
	r->time = t;
	/* msgpack-c's unpacked strings point into the input: keep our own copy of it */
	r->bytes = malloc(len ? len : 1);
	if (!r->bytes)
		return -1;
	memcpy(r->bytes, record, len);
	msgpack_unpacked_init(&r->u);
	if (msgpack_unpack_next(&r->u, r->bytes, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len ||
	    r->u.data.type != MSGPACK_OBJECT_MAP) {
		msgpack_unpacked_destroy(&r->u);
		free(r->bytes);
		return -1;
	}
	c->n++;
	return 0;
}

static void capture_start(struct output *o)
{
	(void)o;
}

static int capture_flush(struct output *o)
{
	(void)o;
	return 0;
}

static void capture_close(struct output *o, unsigned deadline_ms, void (*done)(void *), void *arg)
{
	(void)o;
	(void)deadline_ms;
	if (done)
		done(arg);
}

static void capture_stats(struct output *o, struct output_stats *st)
{
	struct capture *c = (struct capture *)o;

	*st = (struct output_stats){.records_in = c->n, .records_sent = c->n, .connected = -1};
}

static void capture_destroy(struct output *o)
{
	(void)o;
}

void capture_init(struct capture *c)
{
	memset(c, 0, sizeof(*c));
	c->base.write = capture_write;
	c->base.start = capture_start;
	c->base.flush = capture_flush;
	c->base.close = capture_close;
	c->base.stats = capture_stats;
	c->base.destroy = capture_destroy;
}

void capture_clear(struct capture *c)
{
	for (size_t i = 0; i < c->n; i++) {
		msgpack_unpacked_destroy(&c->recs[i].u);
		free(c->recs[i].bytes);
	}
	c->n = 0;
}

void capture_free(struct capture *c)
{
	capture_clear(c);
	free(c->recs);
	memset(c, 0, sizeof(*c));
}

const msgpack_object *rec_get(const msgpack_object *map, const char *key)
{
	size_t kl = strlen(key);

	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == kl &&
		    memcmp(k->via.str.ptr, key, kl) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

uint64_t rec_uint(const msgpack_object *map, const char *key)
{
	const msgpack_object *v = rec_get(map, key);

	ck_assert_msg(v, "record has no key %s", key);
	ck_assert_msg(v->type == MSGPACK_OBJECT_POSITIVE_INTEGER, "key %s is not a uint", key);
	return v->via.u64;
}

int64_t rec_int(const msgpack_object *map, const char *key)
{
	const msgpack_object *v = rec_get(map, key);

	ck_assert_msg(v, "record has no key %s", key);
	ck_assert_msg(v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
			      v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER,
		      "key %s is not an integer", key);
	return v->via.i64;
}

const char *rec_str(const msgpack_object *map, const char *key)
{
	static char buf[1 << 18]; /* the longest str a record has: an escaped args */
	const msgpack_object *v = rec_get(map, key);

	ck_assert_msg(v, "record has no key %s", key);
	ck_assert_msg(v->type == MSGPACK_OBJECT_STR, "key %s is not a str", key);
	snprintf(buf, sizeof(buf), "%.*s", (int)v->via.str.size, v->via.str.ptr);
	return buf;
}

bool rec_str_is(const msgpack_object *map, const char *key, const char *want)
{
	const msgpack_object *v = rec_get(map, key);

	return v && v->type == MSGPACK_OBJECT_STR && v->via.str.size == strlen(want) &&
	       memcmp(v->via.str.ptr, want, v->via.str.size) == 0;
}
