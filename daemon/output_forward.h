/* output_forward.h: records batched into PackedForward frames per tag, sent by the forward client. */
#ifndef EBPF_FORWARD_OUTPUT_FORWARD_H
#define EBPF_FORWARD_OUTPUT_FORWARD_H

#include <stddef.h>

#include <uv.h>

#include "output.h"

struct config;
struct config_output;

/*
 * An output sending to the receivers of out (cfg->outputs[index]), in order;
 * with cfg's Storage_Path, it spools in its subdirectory outputN (N = index + 1),
 * opened at start, once privileges are dropped. NULL with a message in err.
 */
struct output *output_forward_new(uv_loop_t *loop, const struct config *cfg, unsigned index, char *err,
				  size_t errlen);

/*
 * As root, before the privileges go: creates the spool's directory of output
 * index (Storage_Path/outputN) and gives it to uid:gid, the account the daemon
 * becomes, which then writes it. Storage_Path itself is left as it is (it must
 * let that account through). 0, or -1 with a message in err; 0 without a spool.
 */
int output_forward_own_spool(const struct config *cfg, unsigned index, unsigned uid, unsigned gid, char *err,
			     size_t errlen);

#endif
