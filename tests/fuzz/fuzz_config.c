/* fuzz_config.c: any bytes as a configuration file: 0, or -1 with a message that starts with the file's name. */
#include <string.h>

#include "config.h"
#include "fuzz.h"

#define NAME "fuzz.conf"

/* A string member must end inside its array. */
#define TERMINATED(s) (strnlen((s), sizeof(s)) < sizeof(s))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	char err[1024];
	char *text = malloc(size + 1);
	int rc;

	if (!text)
		return 0;
	/* a NUL inside ends the text there, as a C string does; the file reader refuses such a file before */
	memcpy(text, data, size);
	text[size] = '\0';
	memset(err, 0x55, sizeof(err));
	rc = config_load_string(&cfg, text, NAME, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1, "rc %d", rc);
	if (rc) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)), "message not terminated");
		FUZZ_CHECK(strncmp(err, NAME, strlen(NAME)) == 0 && (err[strlen(NAME)] == ':'),
			   "message does not start with the name: \"%s\"", err);
		FUZZ_CHECK(err[strlen(NAME) + 1] != '\0', "empty message");
	} else {
		/* what check() promises, and every string within its array */
		FUZZ_CHECK(cfg.trace_count >= 1 && cfg.trace_count <= CONFIG_MAX_TRACES, "%u traces", cfg.trace_count);
		FUZZ_CHECK(cfg.output_count >= 1 && cfg.output_count <= CONFIG_MAX_OUTPUTS, "%u outputs",
			   cfg.output_count);
		FUZZ_CHECK(TERMINATED(cfg.user) && TERMINATED(cfg.group) && TERMINATED(cfg.storage_path), "service");
		for (unsigned i = 0; i < cfg.trace_count; i++)
			FUZZ_CHECK(TERMINATED(cfg.traces[i]) && cfg.traces[i][0], "trace %u", i);
		for (unsigned i = 0; i < cfg.output_count; i++) {
			const struct config_output *o = &cfg.outputs[i];

			FUZZ_CHECK(TERMINATED(o->match) && TERMINATED(o->tag), "output %u", i);
			FUZZ_CHECK(o->receiver_count >= 1 && o->receiver_count <= CONFIG_MAX_RECEIVERS,
				   "output %u: %u receivers", i, o->receiver_count);
			FUZZ_CHECK(o->frame_size <= o->buffer_limit, "output %u: frame over limit", i);
			for (unsigned r = 0; r < o->receiver_count; r++)
				FUZZ_CHECK(TERMINATED(o->receivers[r].host) && TERMINATED(o->receivers[r].unix_path),
					   "output %u receiver %u", i, r);
		}
	}
	free(text);
	return 0;
}
