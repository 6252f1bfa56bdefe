/* fuzz_args.c: any bytes as quick-mode arguments, one a line ("tTRACE", "oOUTPUT", "pKEY=VALUE"): 0, or -1 naming one. */
#include <string.h>

#include "config_check.h"

/* More arguments than a configuration can hold (8 outputs, 16 traces, 64 keys): the rest is cut. */
#define ARGS_MAX 128

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	struct config_arg args[ARGS_MAX];
	char err[2048], *text = malloc(size + 1), *line, *save = NULL;
	size_t n = 0;
	int rc;

	if (!text)
		return 0;
	/* a NUL ends the arguments there, as it ends an argv string */
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = strtok_r(text, "\n", &save); line && n < ARGS_MAX; line = strtok_r(NULL, "\n", &save))
		args[n++] = (struct config_arg){line[0], line + 1};
	memset(err, 0x55, sizeof(err));
	rc = config_load_args(&cfg, args, n, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1, "rc %d", rc);
	if (rc) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)), "message not terminated");
		/* "-t exec: ...", or for what spans them "command line: ..." */
		FUZZ_CHECK((err[0] == '-' && strstr(err, ": ")) || strncmp(err, "command line: ", 14) == 0,
			   "message names no argument: \"%s\"", err);
		/* the reason at its end, not cut off by a long value */
		FUZZ_CHECK(err[strlen(err) - 1] != ' ', "message cut or empty: \"%s\"", err);
	} else {
		fuzz_config_check(&cfg);
		FUZZ_CHECK(cfg.args == args && cfg.arg_count == n, "arguments not kept");
	}
	free(text);
	return 0;
}
