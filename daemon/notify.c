/* notify.c: the sd_notify datagram by hand: one AF_UNIX message per state, no libsystemd needed. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

static int notify_fd = -1;
static uv_timer_t watchdog;
static bool watchdog_on;

int notify_open(char *err, size_t errlen)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len;

	if (!path || !*path)
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "NOTIFY_SOCKET %s: not a socket path", path);
		return -1;
	}
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* an abstract socket */
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd < 0 || connect(notify_fd, (struct sockaddr *)&sa,
				     (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len))) {
		snprintf(err, errlen, "NOTIFY_SOCKET %s: %s", path, strerror(errno));
		if (notify_fd >= 0)
			close(notify_fd);
		notify_fd = -1;
		return -1;
	}
	return 1;
}

void notify_send(const char *state)
{
	if (notify_fd >= 0)
		send(notify_fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void on_watchdog(uv_timer_t *t)
{
	(void)t;
	notify_send("WATCHDOG=1");
}

uint64_t notify_watchdog_start(uv_loop_t *loop)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	uint64_t us = usec ? strtoull(usec, NULL, 10) : 0;

	/* the watchdog is this process's only when systemd says so (WATCHDOG_PID, if set, is ours) */
	if (notify_fd < 0 || !us || (pid && strtol(pid, NULL, 10) != getpid()))
		return 0;
	uv_timer_init(loop, &watchdog);
	uv_timer_start(&watchdog, on_watchdog, us / 2000, us / 2000 ? us / 2000 : 1);
	watchdog_on = true;
	return us;
}

void notify_watchdog_stop(void)
{
	if (watchdog_on)
		uv_close((uv_handle_t *)&watchdog, NULL);
	watchdog_on = false;
}
