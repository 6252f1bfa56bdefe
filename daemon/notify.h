/* notify.h: telling systemd (Type=notify) that the daemon is ready, stopping, and alive (the watchdog). */
#ifndef EBPF_FORWARD_NOTIFY_H
#define EBPF_FORWARD_NOTIFY_H

#include <stdint.h>

#include <uv.h>

/*
 * Opens $NOTIFY_SOCKET, if systemd gave one (before the privileges go: the
 * socket stays usable after). Returns 0 without one, 1 with, -1 with the
 * reason in err.
 */
int notify_open(char *err, size_t errlen);

/* Sends one state line ("READY=1", "STOPPING=1", "STATUS=..."); nothing without a socket. */
void notify_send(const char *state);

/*
 * With WatchdogSec= (WATCHDOG_USEC for this pid): sends WATCHDOG=1 from the
 * loop at half the interval, so a loop that stops turning is restarted.
 * Returns the interval in microseconds, 0 when there is no watchdog.
 */
uint64_t notify_watchdog_start(uv_loop_t *loop);

/* Stops the watchdog timer (the loop closes it). */
void notify_watchdog_stop(void);

#endif
