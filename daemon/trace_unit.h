/* trace_unit.h: what user space knows of one trace; each daemon/traces/<name>.c defines one. */
#ifndef EBPF_FORWARD_TRACE_UNIT_H
#define EBPF_FORWARD_TRACE_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "fields.h"
#include "trace_opts.h"

struct bpf_object;
struct bpf_link;

/* The links a trace holds; the loader destroys them on detach. */
struct trace_links {
	struct bpf_link **v;
	size_t n, cap;
};

/* Keeps link; -1 when out of memory (the caller then destroys it). */
static inline int trace_links_add(struct trace_links *l, struct bpf_link *link)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct bpf_link **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = link;
	return 0;
}

struct trace_unit {
	const char *name;            /* canonical, e.g. "exec": the word in the build's list */
	const char *description;     /* one line */
	const char *attach_points;   /* human-readable list, e.g. "tracepoint syscalls:sys_exit_openat" */
	/* The compiled object, as its skeleton embeds it (NAME_bpf__elf_bytes). */
	const void *(*elf_bytes)(size_t *size);
	/* The records it emits, NULL-terminated. */
	const struct schema_type *const *types;
	/* System-wide and costly (malloc): its rate is logged now and then. */
	bool heavy;
	/* After load, before attaching: what the programs need from user space first (a map value); may be NULL. */
	int (*prepare)(struct bpf_object *obj, const struct trace_opts *o, char *err, size_t errlen);
	/*
	 * NULL: the loader attaches every program by its section name. Else this
	 * attaches them (uprobes on a library found at run time), keeping each
	 * link in links, also those made before a failure; -1 with a message.
	 */
	int (*attach)(struct bpf_object *obj, const struct trace_opts *o, struct trace_links *links,
		      char *err, size_t errlen);
	/* NULL, or writes into out what attach would probe here (libraries found at run time). */
	void (*targets)(const struct trace_opts *o, char *out, size_t len);
};

#endif
