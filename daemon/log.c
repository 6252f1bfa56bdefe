/* log.c: leveled log lines on stderr, with the sd-daemon priority prefix the journal understands. */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

static enum config_log_level log_level = LOG_LVL_INFO;

void log_set_level(enum config_log_level level)
{
	log_level = level;
}

void log_msg(enum config_log_level level, const char *fmt, ...)
{
	/* syslog priorities: err 3, warning 4, info 6, debug 7 */
	static const char *const prefix[] = {"<3>error: ", "<4>warning: ", "<6>", "<7>debug: "};
	char line[2048];
	va_list ap;
	int n;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* The <N> prefix is for the journal; on a terminal it is noise. */
	fprintf(stderr, "%s%s\n", isatty(STDERR_FILENO) ? prefix[level] + 3 : prefix[level], line);
}
