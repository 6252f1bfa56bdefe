/* output_stdout.h: records as JSON lines {"date": s.ns, "tag": ..., keys...} on a stream. */
#ifndef EBPF_FORWARD_OUTPUT_STDOUT_H
#define EBPF_FORWARD_OUTPUT_STDOUT_H

#include <stdio.h>

#include "output.h"

/* An output writing to f (not closed by close). NULL if out of memory. */
struct output *output_stdout_new(FILE *f);

#endif
