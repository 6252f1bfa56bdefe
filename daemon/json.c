/* json.c: msgpack objects to JSON text, with strict escaping and UTF-8 repair. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "json.h"

/* Length of a valid UTF-8 sequence at s (n bytes left), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and code points past U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void json_write_str(FILE *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		size_t l;

		switch (c) {
		case '"': fputs("\\\"", f); i++; continue;
		case '\\': fputs("\\\\", f); i++; continue;
		case '\n': fputs("\\n", f); i++; continue;
		case '\r': fputs("\\r", f); i++; continue;
		case '\t': fputs("\\t", f); i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
			continue;
		}
		l = utf8_len(s + i, n - i);
		if (!l) {
			fputs("\\ufffd", f);
			i++;
			continue;
		}
		fwrite(s + i, 1, l, f);
		i += l;
	}
	fputc('"', f);
}

void json_write_map_members(FILE *f, const msgpack_object_map *m)
{
	for (uint32_t i = 0; i < m->size; i++) {
		const msgpack_object *k = &m->ptr[i].key;

		if (i)
			fputs(", ", f);
		if (k->type == MSGPACK_OBJECT_STR)
			json_write_str(f, k->via.str.ptr, k->via.str.size);
		else {
			/* JSON keys are strings: write a non-string key as its JSON text, quoted. */
			char *buf = NULL;
			size_t len = 0;
			FILE *mem = open_memstream(&buf, &len);

			if (mem) {
				json_write_object(mem, k);
				fclose(mem);
				json_write_str(f, buf, len);
			}
			free(buf);
		}
		fputs(": ", f);
		json_write_object(f, &m->ptr[i].val);
	}
}

void json_write_object(FILE *f, const msgpack_object *o)
{
	switch (o->type) {
	case MSGPACK_OBJECT_NIL: fputs("null", f); break;
	case MSGPACK_OBJECT_BOOLEAN: fputs(o->via.boolean ? "true" : "false", f); break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER: fprintf(f, "%" PRIu64, o->via.u64); break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: fprintf(f, "%" PRId64, o->via.i64); break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		if (isfinite(o->via.f64))
			fprintf(f, "%.17g", o->via.f64);
		else
			fputs("null", f);
		break;
	case MSGPACK_OBJECT_STR: json_write_str(f, o->via.str.ptr, o->via.str.size); break;
	case MSGPACK_OBJECT_BIN: json_write_str(f, o->via.bin.ptr, o->via.bin.size); break;
	case MSGPACK_OBJECT_ARRAY:
		fputc('[', f);
		for (uint32_t i = 0; i < o->via.array.size; i++) {
			if (i)
				fputs(", ", f);
			json_write_object(f, &o->via.array.ptr[i]);
		}
		fputc(']', f);
		break;
	case MSGPACK_OBJECT_MAP:
		fputc('{', f);
		json_write_map_members(f, &o->via.map);
		fputc('}', f);
		break;
	case MSGPACK_OBJECT_EXT:
		fprintf(f, "{\"ext\": %d, \"hex\": \"", o->via.ext.type);
		for (uint32_t i = 0; i < o->via.ext.size; i++)
			fprintf(f, "%02x", (unsigned char)o->via.ext.ptr[i]);
		fputs("\"}", f);
		break;
	}
}
