/* client.h: a Forward protocol sender on libuv: receivers over TCP or Unix sockets, failover, acks, a spool. */
#ifndef FWD_CLIENT_H
#define FWD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct fwd_tls_ctx; /* tls.h */

enum fwd_log_level { FWD_LOG_ERROR = 0, FWD_LOG_WARN, FWD_LOG_INFO, FWD_LOG_DEBUG };

/* Where the client's messages go; the library writes no log of its own. */
typedef void (*fwd_log_fn)(void *ctx, enum fwd_log_level level, const char *msg);

/* One receiver: a TCP host and port, or a Unix socket. */
struct fwd_endpoint {
	const char *host;          /* TCP: name or address (default 127.0.0.1); every address of a name is tried */
	uint16_t port;             /* TCP port (default 24224) */
	const char *unix_path;     /* non-NULL: a Unix stream socket instead of TCP */
};

#define FWD_MAX_ENDPOINTS 8

struct fwd_client_config {
	/* the receivers in order of preference; when nendpoints is 0, the one of host, port, unix_path */
	const struct fwd_endpoint *endpoints;
	size_t nendpoints;
	const char *host;
	uint16_t port;
	const char *unix_path;
	bool require_ack;          /* frames carry a chunk id and are kept until acked */
	/*
	 * No ack this long after a write: reconnect and resend (default 30000).
	 * TCP keepalive and TCP_USER_TIMEOUT are set from it too, so a receiver
	 * that vanished without a word is found out within about this long.
	 */
	unsigned ack_timeout_ms;
	size_t buffer_limit;       /* memory frames may hold (default 64 MiB) */
	unsigned backoff_min_ms;   /* first reconnect delay (default 500); it resets only once a frame is acked */
	unsigned backoff_max_ms;   /* cap (default 30000) */
	unsigned stall_ms;         /* acks later than this count as not coming: frames go to the spool (default 1000) */
	unsigned primary_retry_ms; /* on a later receiver, how often the first is tried again (default 10000) */
	/*
	 * The shared-key handshake (Fluent Bit's out_forward names): with a
	 * shared_key, every connection first reads the receiver's HELO, answers
	 * with a PING and checks its PONG, digest and all; only then are frames
	 * written. NULL or "" for shared_key: no handshake. The client keeps
	 * copies of these strings (wiped at free).
	 */
	const char *shared_key;
	const char *self_hostname; /* NULL or "": "localhost", as Fluent Bit */
	const char *username;      /* sent, with password's digest, when the HELO asks for user auth */
	const char *password;
	/*
	 * TLS for the TCP receivers (Unix sockets stay clear: the kernel carries
	 * them); NULL: none. The caller's, kept until after fwd_client_free. The
	 * certificate must name tls_vhost, or each receiver's host when NULL.
	 */
	struct fwd_tls_ctx *tls;
	const char *tls_vhost;
	/* Unix sockets: when set, the listener must be this uid (SO_PEERCRED), or nothing is sent to it */
	bool unix_peer_check;
	uint32_t unix_peer_uid;
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
	uint64_t frames_lent;       /* handed to the splice writer (splice.h): their whole pages lent, not copied */
	uint64_t connects;          /* successful connections (with a shared key: handshakes) */
	uint64_t connect_failures;
	uint64_t handshake_failures; /* connected, but HELO, PING or PONG went wrong (nothing was sent) */
	uint64_t frames_spooled;    /* written to the spool */
	uint64_t entries_spooled;
	uint64_t entries_spool_dropped; /* could not be spooled (full, or the write failed) */
	size_t buffered_bytes;
	size_t buffered_frames;
	uint64_t spool_bytes;
	size_t spool_frames;
	bool connected;
	int endpoint;               /* index of the receiver connected to, -1 when none */
};

struct fwd_client;
struct fwd_spool;

struct fwd_client *fwd_client_new(uv_loop_t *loop, const struct fwd_client_config *cfg);

/*
 * Gives the client a spool (before start; it is the client's from now on).
 * While no receiver takes frames (none connected, acks not coming, or memory
 * full), frames go to the spool as they come, and frames still unacked at
 * close are put there too; spooled frames are sent again, oldest first, when a
 * receiver takes them, and removed from the spool once acked.
 */
void fwd_client_set_spool(struct fwd_client *c, struct fwd_spool *spool);

/* Starts connecting (and reconnecting whenever the link is lost). */
void fwd_client_start(struct fwd_client *c);

/*
 * Room for the next frame: a buffer of at least want bytes that held an
 * earlier frame of this client, *cap its size; NULL when none is kept (then
 * malloc one). It is lendable memory (lent.h): give it to fwd_frame_init_in.
 */
uint8_t *fwd_client_reuse(struct fwd_client *c, size_t want, size_t *cap);

/*
 * Queues a sealed frame: buf[start, start + size) holding entries entries,
 * carrying chunk id (NULL when acks are off). Takes buf (from malloc, or
 * from fwd_client_reuse). Returns entries dropped from the queue to make room (0 normally),
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

/* Description of the first receiver, "unix:/path" or "tcp:host:port". */
const char *fwd_client_peer(const struct fwd_client *c);

#endif
