/* fuzz_config.c: any bytes as a configuration file: 0, or -1 with a message that starts with the file's name. */
#include <string.h>

#include "config_check.h"

#define NAME "fuzz.conf"

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
	} else
		fuzz_config_check(&cfg);
	free(text);
	return 0;
}
