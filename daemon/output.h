/* output.h: where packed records go (stdout as JSON lines, or a Forward receiver). */
#ifndef EBPF_FORWARD_OUTPUT_H
#define EBPF_FORWARD_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "evtime.h"

struct output {
	/* Takes one record (a msgpack map); returns 0, or -1 when it could not be taken. */
	int (*write)(struct output *o, const char *tag, size_t taglen, struct evtime t,
		     const char *record, size_t len);
	/* Pushes out what is batched. */
	int (*flush)(struct output *o);
	void (*close)(struct output *o);
};

#endif
