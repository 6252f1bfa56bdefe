/* json.h: a msgpack value written as JSON text (for the stdout output). */
#ifndef EBPF_FORWARD_JSON_H
#define EBPF_FORWARD_JSON_H

#include <stdio.h>

#include <msgpack.h>

/* Writes s[0..n) as a JSON string; bytes that are not UTF-8 become U+FFFD. */
void json_write_str(FILE *f, const char *s, size_t n);

/* Writes any msgpack object as JSON (ext values as {"ext": type, "hex": "..."}). */
void json_write_object(FILE *f, const msgpack_object *o);

/* Writes a map's pairs as "k": v, ... without braces, so callers can put keys before them. */
void json_write_map_members(FILE *f, const msgpack_object_map *m);

#endif
