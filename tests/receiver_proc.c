/* receiver_proc.c: start, query and stop the test receiver from a Check test. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "receiver_proc.h"

#ifndef RECEIVER_PATH
#error "RECEIVER_PATH must name the built fwd_receiver"
#endif

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
	if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static void spawn(struct receiver *r, const char *const extra[])
{
	char ready[160], listen[160];
	const char *argv[40];
	int n = 0;

	snprintf(ready, sizeof(ready), "%s/ready", r->dir);
	unlink(ready);
	argv[n++] = RECEIVER_PATH;
	if (r->unix_socket) {
		argv[n++] = "--unix";
		argv[n++] = r->path;
	} else {
		snprintf(listen, sizeof(listen), "%s:%u", r->host[0] ? r->host : "127.0.0.1", r->port);
		argv[n++] = "--tcp";
		argv[n++] = listen;
	}
	argv[n++] = "--ready";
	argv[n++] = ready;
	argv[n++] = "--out";
	argv[n++] = r->out;
	argv[n++] = "--stats";
	argv[n++] = r->stats;
	for (int i = 0; extra && extra[i] && n < 38; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	r->pid = fork();
	ck_assert_int_ge(r->pid, 0);
	if (r->pid == 0) {
		execv(RECEIVER_PATH, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		char *text = read_file(ready);

		if (text) {
			if (!r->unix_socket)
				r->port = (uint16_t)strtoul(text, NULL, 10);
			else
				/* the daemon connects as an unprivileged user */
				chmod(r->path, 0666);
			free(text);
			return;
		}
		usleep(10000);
	}
	ck_abort_msg("fwd_receiver did not come up");
}

void receiver_start(struct receiver *r, int unix_socket, uint16_t port, const char *const extra[])
{
	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "/tmp/ebpf-forward-recv-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(r->dir));
	chmod(r->dir, 0755);
	r->unix_socket = unix_socket;
	r->port = port;
	snprintf(r->path, sizeof(r->path), "%s/fwd.sock", r->dir);
	snprintf(r->out, sizeof(r->out), "%s/out.jsonl", r->dir);
	snprintf(r->stats, sizeof(r->stats), "%s/stats.json", r->dir);
	spawn(r, extra);
}

void receiver_start_at(struct receiver *r, const char *host, const char *const extra[])
{
	memset(r, 0, sizeof(*r));
	snprintf(r->host, sizeof(r->host), "%s", host);
	snprintf(r->dir, sizeof(r->dir), "/tmp/ebpf-forward-recv-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(r->dir));
	chmod(r->dir, 0755);
	snprintf(r->path, sizeof(r->path), "%s/fwd.sock", r->dir);
	snprintf(r->out, sizeof(r->out), "%s/out.jsonl", r->dir);
	snprintf(r->stats, sizeof(r->stats), "%s/stats.json", r->dir);
	spawn(r, extra);
}

void receiver_restart(struct receiver *r, const char *const extra[])
{
	spawn(r, extra);
}

uint64_t receiver_stat(struct receiver *r, const char *key)
{
	char needle[64];
	struct stat before, now;
	int had = stat(r->stats, &before) == 0;
	char *text, *at;
	uint64_t v;

	if (r->pid > 0) {
		kill(r->pid, SIGUSR1);
		/* the stats file is replaced by rename: wait for the new one */
		for (int i = 0; i < 200; i++) {
			if (stat(r->stats, &now) == 0 &&
			    (!had || now.st_ino != before.st_ino || now.st_mtim.tv_nsec != before.st_mtim.tv_nsec))
				break;
			usleep(5000);
		}
	}
	text = read_file(r->stats);
	ck_assert_msg(text, "no statistics from fwd_receiver");
	snprintf(needle, sizeof(needle), "\"%s\":", key);
	at = strstr(text, needle);
	ck_assert_msg(at, "no %s in %s", key, text);
	v = strtoull(at + strlen(needle), NULL, 10);
	free(text);
	return v;
}

void receiver_stop(struct receiver *r)
{
	int status;

	if (r->pid <= 0)
		return;
	kill(r->pid, SIGTERM);
	ck_assert_int_eq(waitpid(r->pid, &status, 0), r->pid);
	r->pid = 0;
}

void receiver_cleanup(struct receiver *r)
{
	char ready[160];

	receiver_stop(r);
	snprintf(ready, sizeof(ready), "%s/ready", r->dir);
	unlink(ready);
	unlink(r->out);
	unlink(r->stats);
	unlink(r->path);
	rmdir(r->dir);
}

char *receiver_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t cap = 1 << 16, len = 0, n;
	char *buf;

	if (!f)
		return calloc(1, 1);
	buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			buf = realloc(buf, cap *= 2);
			ck_assert_ptr_nonnull(buf);
		}
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

bool receiver_file_has(const char *path, const char *text, unsigned ms)
{
	for (unsigned i = 0; i <= ms / 20; i++) {
		char *log = receiver_slurp(path);
		bool found = strstr(log, text) != NULL;

		free(log);
		if (found)
			return true;
		usleep(20000);
	}
	return false;
}

uint16_t receiver_free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}
