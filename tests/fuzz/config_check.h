/* config_check.h: what a configuration that loaded must hold, whatever it was read from (fuzz_config, fuzz_args). */
#ifndef EBPF_FORWARD_FUZZ_CONFIG_CHECK_H
#define EBPF_FORWARD_FUZZ_CONFIG_CHECK_H

#include <string.h>

#include "config.h"
#include "fuzz.h"

/* A string member must end inside its array. */
#define TERMINATED(s) (strnlen((s), sizeof(s)) < sizeof(s))

/* What check() promises, and every string within its array. */
static inline void fuzz_config_check(const struct config *cfg)
{
	FUZZ_CHECK(cfg->trace_count >= 1 && cfg->trace_count <= CONFIG_MAX_TRACES, "%u traces", cfg->trace_count);
	FUZZ_CHECK(cfg->output_count >= 1 && cfg->output_count <= CONFIG_MAX_OUTPUTS, "%u outputs", cfg->output_count);
	FUZZ_CHECK(TERMINATED(cfg->user) && TERMINATED(cfg->group) && TERMINATED(cfg->storage_path), "service");
	for (unsigned i = 0; i < cfg->trace_count; i++)
		FUZZ_CHECK(TERMINATED(cfg->traces[i]) && cfg->traces[i][0], "trace %u", i);
	for (unsigned i = 0; i < cfg->output_count; i++) {
		const struct config_output *o = &cfg->outputs[i];

		FUZZ_CHECK(TERMINATED(o->match) && TERMINATED(o->tag), "output %u", i);
		FUZZ_CHECK(o->receiver_count >= 1 && o->receiver_count <= CONFIG_MAX_RECEIVERS, "output %u: %u receivers", i,
			   o->receiver_count);
		FUZZ_CHECK(o->frame_size <= o->buffer_limit, "output %u: frame over limit", i);
		for (unsigned r = 0; r < o->receiver_count; r++)
			FUZZ_CHECK(TERMINATED(o->receivers[r].host) && TERMINATED(o->receivers[r].unix_path),
				   "output %u receiver %u", i, r);
	}
}

#endif
