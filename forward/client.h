/* client.h: a Forward protocol sender on libuv: TCP or Unix socket, reconnects, bounded queue, acks. */
#ifndef FWD_CLIENT_H
#define FWD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

enum fwd_log_level { FWD_LOG_ERROR = 0, FWD_LOG_WARN, FWD_LOG_INFO, FWD_LOG_DEBUG };

/* Where the client's messages go; the library writes no log of its own. */
typedef void (*fwd_log_fn)(void *ctx, enum fwd_log_level level, const char *msg);

struct fwd_client_config {
	const char *host;          /* TCP: name or address (default 127.0.0.1) */
	uint16_t port;             /* TCP port (default 24224) */
	const char *unix_path;     /* non-NULL: a Unix stream socket instead of TCP */
	bool require_ack;          /* frames carry a chunk id and are kept until acked */
	unsigned ack_timeout_ms;   /* no ack this long after a write: reconnect and resend (default 30000) */
	size_t buffer_limit;       /* bytes of frames held; oldest dropped beyond */
	unsigned backoff_min_ms;   /* first reconnect delay (default 500) */
	unsigned backoff_max_ms;   /* cap (default 30000) */
	fwd_log_fn log;
	void *log_ctx;
};

struct fwd_client_stats {
	uint64_t frames_sent;       /* written to the socket */
	uint64_t entries_sent;
	uint64_t frames_acked;
	uint64_t entries_acked;
	uint64_t entries_dropped;   /* queue overflow, or undelivered at close */
	uint64_t frames_dropped;
	uint64_t frames_resent;     /* written again after a lost connection */
	uint64_t connects;          /* successful connections */
	uint64_t connect_failures;
	size_t buffered_bytes;
	size_t buffered_frames;
	bool connected;
};

struct fwd_client;

struct fwd_client *fwd_client_new(uv_loop_t *loop, const struct fwd_client_config *cfg);

/* Starts connecting (and reconnecting whenever the link is lost). */
void fwd_client_start(struct fwd_client *c);

/*
 * Queues a sealed frame: buf[start, start + size) holding entries entries,
 * carrying chunk id (NULL when acks are off). Takes buf, which is freed with
 * free(). Returns entries dropped from the queue to make room (0 normally),
 * or -1 if closing or out of memory (buf freed, entries counted as dropped).
 */
int64_t fwd_client_send(struct fwd_client *c, uint8_t *buf, size_t start, size_t size,
			uint32_t entries, const char *chunk_id);

void fwd_client_stats(const struct fwd_client *c, struct fwd_client_stats *out);

/*
 * Delivers what is queued, then closes; gives up after deadline_ms and counts
 * what is left as dropped. done(arg) runs once every handle is closed; then
 * fwd_client_free may be called.
 */
void fwd_client_close(struct fwd_client *c, unsigned deadline_ms, void (*done)(void *), void *arg);

void fwd_client_free(struct fwd_client *c);

/* Description of the peer, "unix:/path" or "tcp:host:port". */
const char *fwd_client_peer(const struct fwd_client *c);

#endif
