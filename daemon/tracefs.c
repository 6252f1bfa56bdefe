/* tracefs.c: mounts tracefs at /sys/kernel/tracing when a fresh machine has none there. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "tracefs.h"

#define TRACEFS "/sys/kernel/tracing"
/* libbpf prefers the debugfs path when it exists, then tracefs. */
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"

int tracefs_ensure(char *err, size_t errlen)
{
	if (access(DEBUGFS_TRACING "/events", F_OK) == 0 || access(TRACEFS "/events", F_OK) == 0)
		return 0;
	if (mount("tracefs", TRACEFS, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
		snprintf(err, errlen, "tracefs is not mounted and mounting it at " TRACEFS " failed: %s",
			 strerror(errno));
		return -1;
	}
	return 1;
}
