/*
 * fuzz_records.c: ring records of any size and content through the packer: an
 * error appends nothing, and a record packed is exactly one msgpack map whose
 * first key is "event_type" and whose keys are all strings.
 *
 * The first byte chooses how the rest is used: odd, as the ring record as it
 * is; even, with the header's type taken from the second byte (one past the
 * last type included) and its size set to the record's length, so most inputs
 * get past the size and type checks to the fields and strings.
 */
#include <string.h>

#include <msgpack.h>

#include "events.h"
#include "fuzz.h"
#include "schema.h"

/* A ring record's size is a u16 in its header. */
#define RECORD_MAX 65535

static void check_packed(const struct mpbuf *out)
{
	msgpack_unpacked u;
	size_t off = 0;
	msgpack_unpack_return r;
	const msgpack_object_kv *kv;

	msgpack_unpacked_init(&u);
	r = msgpack_unpack_next(&u, (const char *)out->p, out->len, &off);
	FUZZ_CHECK(r == MSGPACK_UNPACK_SUCCESS, "unpack returned %d", (int)r);
	FUZZ_CHECK(off == out->len, "one map of %zu bytes in %zu", off, out->len);
	FUZZ_CHECK(u.data.type == MSGPACK_OBJECT_MAP, "type %d", (int)u.data.type);
	FUZZ_CHECK(u.data.via.map.size >= 1, "empty map");
	kv = u.data.via.map.ptr;
	FUZZ_CHECK(kv[0].key.type == MSGPACK_OBJECT_STR && kv[0].key.via.str.size == 10 &&
		   memcmp(kv[0].key.via.str.ptr, "event_type", 10) == 0, "first key is not event_type");
	FUZZ_CHECK(kv[0].val.type == MSGPACK_OBJECT_STR && kv[0].val.via.str.size > 0, "event_type's value");
	for (uint32_t i = 0; i < u.data.via.map.size; i++) {
		msgpack_object_type t = kv[i].val.type;

		FUZZ_CHECK(kv[i].key.type == MSGPACK_OBJECT_STR && kv[i].key.via.str.size > 0, "key %u", i);
		/* a record's values are numbers, booleans and strings only */
		FUZZ_CHECK(t == MSGPACK_OBJECT_STR || t == MSGPACK_OBJECT_POSITIVE_INTEGER ||
			   t == MSGPACK_OBJECT_NEGATIVE_INTEGER || t == MSGPACK_OBJECT_BOOLEAN,
			   "key %.*s: value of type %d", (int)kv[i].key.via.str.size, kv[i].key.via.str.ptr, (int)t);
	}
	msgpack_unpacked_destroy(&u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mpbuf out = {0};
	const char *where = NULL;
	enum schema_error e;
	struct ev_hdr h;
	uint8_t *rec;
	size_t n;

	if (size < 2 || size - 2 > RECORD_MAX + 1)
		return 0;
	n = size - 2;
	/* an exact-size copy: a read past the record is an ASan report */
	rec = malloc(n ? n : 1);
	if (!rec)
		return 0;
	memcpy(rec, data + 2, n);
	if (!(data[0] & 1) && n >= sizeof(h)) {
		memcpy(&h, rec, sizeof(h));
		h.type = (uint16_t)(data[1] % (EV_TYPE_COUNT + 1));
		h.size = (uint16_t)n;
		memcpy(rec, &h, sizeof(h));
	}
	e = schema_pack(&out, rec, n, &where);
	FUZZ_CHECK(e >= SCHEMA_OK && e <= SCHEMA_NOMEM, "error %d", (int)e);
	FUZZ_CHECK(strcmp(schema_strerror(e), "?") != 0, "error %d has no message", (int)e);
	if (e == SCHEMA_OK) {
		FUZZ_CHECK(out.len > 0, "nothing packed");
		check_packed(&out);
		/* the same record twice: the plan is kept, the second map is the same bytes */
		{
			size_t first = out.len;

			FUZZ_CHECK(schema_pack(&out, rec, n, &where) == SCHEMA_OK, "second pack failed");
			FUZZ_CHECK(out.len == 2 * first && memcmp(out.p, out.p + first, first) == 0,
				   "second pack differs");
		}
	} else {
		FUZZ_CHECK(out.len == 0, "error %d appended %zu bytes", (int)e, out.len);
		FUZZ_CHECK(!where || e == SCHEMA_BAD_STRING, "where set for error %d", (int)e);
	}
	mpbuf_free(&out);
	free(rec);
	return 0;
}
