/* output_stdout.c: the stdout output: one JSON object per record, one record per line. */
#include <stdlib.h>

#include <msgpack.h>

#include "json.h"
#include "log.h"
#include "output_stdout.h"

struct output_stdout {
	struct output base;
	FILE *f;
	msgpack_unpacked u;
	uint64_t records;
};

static int stdout_write(struct output *o, unsigned tag_id, const char *tag, size_t taglen,
			struct evtime t, const char *record, size_t len)
{
	struct output_stdout *s = (struct output_stdout *)o;
	size_t off = 0;

	(void)tag_id;
	if (msgpack_unpack_next(&s->u, record, len, &off) != MSGPACK_UNPACK_SUCCESS ||
	    s->u.data.type != MSGPACK_OBJECT_MAP) {
		log_error("stdout output: record is not a msgpack map");
		return -1;
	}
	fprintf(s->f, "{\"date\": %u.%09u, \"tag\": ", t.sec, t.nsec);
	json_write_str(s->f, tag, taglen);
	if (s->u.data.via.map.size)
		fputs(", ", s->f);
	json_write_map_members(s->f, &s->u.data.via.map);
	fputs("}\n", s->f);
	s->records++;
	return 0;
}

static void stdout_start(struct output *o)
{
	(void)o;
}

static int stdout_flush(struct output *o)
{
	struct output_stdout *s = (struct output_stdout *)o;

	return fflush(s->f) == 0 ? 0 : -1;
}

static void stdout_close(struct output *o, unsigned deadline_ms, void (*done)(void *), void *arg)
{
	struct output_stdout *s = (struct output_stdout *)o;

	(void)deadline_ms;
	fflush(s->f);
	if (done)
		done(arg);
}

static void stdout_stats(struct output *o, struct output_stats *st)
{
	struct output_stdout *s = (struct output_stdout *)o;

	*st = (struct output_stats){.records_in = s->records, .records_sent = s->records, .connected = -1};
}

static void stdout_destroy(struct output *o)
{
	struct output_stdout *s = (struct output_stdout *)o;

	fflush(s->f);
	msgpack_unpacked_destroy(&s->u);
	free(s);
}

struct output *output_stdout_new(FILE *f)
{
	struct output_stdout *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->base.write = stdout_write;
	s->base.start = stdout_start;
	s->base.flush = stdout_flush;
	s->base.close = stdout_close;
	s->base.stats = stdout_stats;
	s->base.destroy = stdout_destroy;
	s->f = f;
	msgpack_unpacked_init(&s->u);
	return &s->base;
}
