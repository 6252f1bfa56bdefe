/* output_forward.h: records batched into PackedForward frames per tag, sent by the forward client. */
#ifndef EBPF_FORWARD_OUTPUT_FORWARD_H
#define EBPF_FORWARD_OUTPUT_FORWARD_H

#include <stddef.h>

#include <uv.h>

#include "output.h"

struct config;

/* An output sending to cfg's Host:Port or Unix_Path; NULL with a message in err. */
struct output *output_forward_new(uv_loop_t *loop, const struct config *cfg, char *err, size_t errlen);

#endif
