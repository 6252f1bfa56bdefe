/* client.c: the Forward connection: receivers in order, frames in order, acks, backoff, a spool. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include "auth.h"
#include "client.h"
#include "queue.h"
#include "reply.h"
#include "splice.h"
#include "spool.h"
#include "tls.h"

/* Frames handed to libuv at once, and frames written but not yet acked. */
#define MAX_WRITING 8
#define MAX_UNACKED 64
_Static_assert(MAX_WRITING <= FWD_SPLICE_MAX_WRITES, "every frame handed out fits the splice writer");
#define TICK_MS 1000
/* Replies are read into this much room (reply.h). */
#define ACK_BUF FWD_REPLY_MAX

/*
 * CS_TLS: connected over TCP with tls, the TLS handshake under way.
 * CS_HANDSHAKE: HELO and PONG not yet read (with a shared key only).
 * No frame is written in either.
 */
enum conn_state { CS_IDLE, CS_RESOLVING, CS_CONNECTING, CS_TLS, CS_HANDSHAKE, CS_CONNECTED, CS_CLOSING };
enum hs_phase { HS_HELO, HS_PONG };

struct endpoint {
	char host[256];
	char port[8];
	char unix_path[108];
	char peer[300];      /* "tcp:host:port" or "unix:/path", for messages */
};

/* A connection attempt to the first receiver while frames go to a later one. */
struct probe {
	union {
		uv_handle_t handle;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} h;
	uv_connect_t req;
	uv_getaddrinfo_t gai;
	bool busy;           /* resolving or connecting */
	bool resolving;
	bool has_handle;     /* h is initialised and not yet closed */
};

struct fwd_client {
	uv_loop_t *loop;
	struct fwd_client_config cfg;
	struct endpoint ep[FWD_MAX_ENDPOINTS];
	size_t nep;
	size_t cur;                 /* the receiver in use, or being tried */
	struct fwd_queue q;
	struct fwd_spool *spool;
	uint64_t next_seq;

	union {
		uv_handle_t handle;
		uv_stream_t stream;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} conn;
	uv_connect_t connect_req;
	uv_getaddrinfo_t gai;
	struct addrinfo *ai, *ai_next; /* a name's addresses, and the next one to try */
	uv_timer_t retry, tick, deadline;
	struct probe probe;
	enum conn_state state;
	unsigned backoff_ms;
	unsigned attempts;          /* failed attempts in the current outage */
	bool down;                  /* an outage is under way (logged once) */
	bool returning;             /* the first receiver is back: finish here, then go to it */
	uint64_t last_probe_ms;
	uint64_t dropped_at_down;   /* entries dropped when the outage began */
	uint8_t ackbuf[ACK_BUF];    /* reply bytes not yet parsed */
	size_t acklen;

	/* the handshake of the connection under way */
	struct fwd_auth_creds creds; /* the client's own copies */
	enum hs_phase hs_phase;
	struct fwd_helo helo;
	uint8_t salt[FWD_AUTH_SALT_LEN];
	uint8_t hsbuf[FWD_AUTH_MAX_MSG]; /* the HELO or PONG so far: a longer one is refused */
	size_t hslen;
	uint8_t ping[FWD_AUTH_PING_MAX];
	uv_write_t ping_req;
	uint64_t hs_started_ms;
	bool hs_warned;             /* a handshake failure was logged in this outage */
	size_t writing;
	size_t unacked;
	/* frames by reference on a plain connection with acks (splice.h); off once the kernel refused it */
	struct fwd_splice *spl;
	bool splice_off;

	/* TLS (TCP receivers, with cfg.tls): the connection's session, and room for the receiver's encrypted bytes */
	struct fwd_tls *tls;
	char tls_vhost[256];
	uint8_t tlsbuf[17 * 1024]; /* a whole TLS record (16 KiB and its overhead) */

	bool closing;
	bool finished;
	int open_handles;
	void (*done)(void *);
	void *done_arg;

	struct fwd_client_stats st;
};

static void logf_(struct fwd_client *c, enum fwd_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void logf_(struct fwd_client *c, enum fwd_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!c->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->cfg.log(c->cfg.log_ctx, level, msg);
}

static void start_connect(struct fwd_client *c);
static void finish(struct fwd_client *c);
static void pump(struct fwd_client *c);
static void maybe_finish(struct fwd_client *c);
static void on_tick(uv_timer_t *t);
static void handshake_read(struct fwd_client *c, size_t nread);
static void handshake_failed(struct fwd_client *c, const char *reason);
static void became_connected(struct fwd_client *c);

static void endpoint_set(struct endpoint *e, const struct fwd_endpoint *in)
{
	snprintf(e->host, sizeof(e->host), "%s", in->host && in->host[0] ? in->host : "127.0.0.1");
	snprintf(e->port, sizeof(e->port), "%u", in->port ? in->port : 24224u);
	if (in->unix_path && in->unix_path[0]) {
		snprintf(e->unix_path, sizeof(e->unix_path), "%s", in->unix_path);
		snprintf(e->peer, sizeof(e->peer), "unix:%s", e->unix_path);
	} else {
		snprintf(e->peer, sizeof(e->peer), "tcp:%s:%s", e->host, e->port);
	}
}

static void wipe_free(const char *s)
{
	if (s) {
		OPENSSL_cleanse((char *)s, strlen(s));
		free((char *)s);
	}
}

static void free_creds(struct fwd_auth_creds *cr)
{
	wipe_free(cr->shared_key);
	wipe_free(cr->self_hostname);
	wipe_free(cr->username);
	wipe_free(cr->password);
	memset(cr, 0, sizeof(*cr));
}

/* Copies of the handshake's strings; none at all without a shared key. */
static int copy_creds(struct fwd_auth_creds *cr, const struct fwd_client_config *cfg)
{
	const char *in[4] = {cfg->shared_key, cfg->self_hostname, cfg->username, cfg->password};
	const char **out[4] = {&cr->shared_key, &cr->self_hostname, &cr->username, &cr->password};

	memset(cr, 0, sizeof(*cr));
	if (!cfg->shared_key || !cfg->shared_key[0])
		return 0;
	for (int i = 0; i < 4; i++)
		if (in[i] && in[i][0] && !(*out[i] = strdup(in[i]))) {
			free_creds(cr);
			return -1;
		}
	return 0;
}

struct fwd_client *fwd_client_new(uv_loop_t *loop, const struct fwd_client_config *cfg)
{
	struct fwd_client *c = calloc(1, sizeof(*c));
	struct fwd_endpoint one = {cfg->host, cfg->port, cfg->unix_path};

	if (!c)
		return NULL;
	if (copy_creds(&c->creds, cfg) != 0) {
		free(c);
		return NULL;
	}
	c->loop = loop;
	c->cfg = *cfg;
	/* the secrets live in c->creds only */
	c->cfg.shared_key = c->cfg.self_hostname = c->cfg.username = c->cfg.password = NULL;
	c->nep = cfg->nendpoints ? cfg->nendpoints : 1;
	if (c->nep > FWD_MAX_ENDPOINTS)
		c->nep = FWD_MAX_ENDPOINTS;
	for (size_t i = 0; i < c->nep; i++)
		endpoint_set(&c->ep[i], cfg->nendpoints ? &cfg->endpoints[i] : &one);
	c->cfg.endpoints = NULL;
	if (cfg->tls_vhost)
		snprintf(c->tls_vhost, sizeof(c->tls_vhost), "%s", cfg->tls_vhost);
	c->cfg.tls_vhost = NULL;
	c->cfg.host = c->cfg.unix_path = NULL;
	if (!c->cfg.ack_timeout_ms)
		c->cfg.ack_timeout_ms = 30000;
	if (!c->cfg.backoff_min_ms)
		c->cfg.backoff_min_ms = 500;
	if (!c->cfg.backoff_max_ms)
		c->cfg.backoff_max_ms = 30000;
	if (!c->cfg.stall_ms)
		c->cfg.stall_ms = 1000;
	if (!c->cfg.primary_retry_ms)
		c->cfg.primary_retry_ms = 10000;
	c->backoff_ms = c->cfg.backoff_min_ms;
	c->next_seq = 1;
	fwd_queue_init(&c->q, cfg->buffer_limit ? cfg->buffer_limit : (64u << 20));
	/* frames that wait for their ack may be lent to the socket: their memory goes round among them */
	if (cfg->require_ack)
		fwd_queue_lendable(&c->q);
	uv_timer_init(loop, &c->retry);
	uv_timer_init(loop, &c->tick);
	uv_timer_init(loop, &c->deadline);
	c->retry.data = c->tick.data = c->deadline.data = c;
	c->open_handles = 3;
	c->st.endpoint = -1;
	return c;
}

void fwd_client_set_spool(struct fwd_client *c, struct fwd_spool *spool)
{
	c->spool = spool;
	/* frames of an earlier run keep their place: new ones are numbered after them */
	c->next_seq = fwd_spool_next_seq(spool);
	if (fwd_spool_count(spool))
		logf_(c, FWD_LOG_INFO, "forward: %zu frames (%llu bytes) in the spool from an earlier run, to send first",
		      fwd_spool_count(spool), (unsigned long long)fwd_spool_bytes(spool));
}

const char *fwd_client_peer(const struct fwd_client *c)
{
	return c->ep[0].peer;
}

void fwd_client_stats(const struct fwd_client *c, struct fwd_client_stats *out)
{
	*out = c->st;
	out->entries_dropped = c->q.dropped_entries + c->st.entries_spool_dropped;
	out->frames_dropped = c->q.dropped_chunks;
	out->buffered_bytes = c->q.bytes;
	out->buffered_frames = c->q.count;
	out->spool_bytes = c->spool ? fwd_spool_bytes(c->spool) : 0;
	out->spool_frames = c->spool ? fwd_spool_count(c->spool) : 0;
	out->connected = c->state == CS_CONNECTED;
	out->endpoint = c->state == CS_CONNECTED ? (int)c->cur : -1;
}

static const char *peer(const struct fwd_client *c)
{
	return c->ep[c->cur].peer;
}

static uint64_t dropped(const struct fwd_client *c)
{
	return c->q.dropped_entries + c->st.entries_spool_dropped;
}

/* ---- connection life ---- */

static unsigned jittered(unsigned ms)
{
	uint32_t r = 0;

	/* [ms/2, ms]: clients that lost the same receiver do not come back in step */
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint32_t)uv_hrtime();
	return ms / 2 + (unsigned)(r % (ms / 2 + 1));
}

static void on_retry(uv_timer_t *t)
{
	start_connect(t->data);
}

/* Every receiver failed this round: wait, then begin again with the first. */
static void schedule_retry(struct fwd_client *c)
{
	unsigned delay = jittered(c->backoff_ms);

	c->cur = 0;
	if (c->closing && c->q.count == 0)
		return;
	if (c->closing && c->spool) {
		/* no receiver now: what is left waits in the spool, the shutdown need not */
		finish(c);
		maybe_finish(c);
		return;
	}
	c->backoff_ms = c->backoff_ms * 2 > c->cfg.backoff_max_ms ? c->cfg.backoff_max_ms : c->backoff_ms * 2;
	logf_(c, FWD_LOG_DEBUG, "forward: reconnecting to %s in %u ms", peer(c), delay);
	uv_timer_start(&c->retry, on_retry, delay, 0);
}

/* The attempt at the current receiver failed: the next one at once, or a new round after the backoff. */
static void next_receiver(struct fwd_client *c)
{
	if (c->cur + 1 < c->nep && !c->finished) {
		c->cur++;
		logf_(c, FWD_LOG_DEBUG, "forward: trying the next receiver, %s", peer(c));
		start_connect(c);
		return;
	}
	schedule_retry(c);
}

static void free_addresses(struct fwd_client *c)
{
	if (c->ai)
		uv_freeaddrinfo(c->ai);
	c->ai = c->ai_next = NULL;
}

static void connect_address(struct fwd_client *c);

static void on_conn_closed(uv_handle_t *h)
{
	struct fwd_client *c = h->data;
	bool was_connected = c->st.endpoint >= 0, returning = c->returning;

	c->state = CS_IDLE;
	c->open_handles--;
	c->st.endpoint = -1;
	c->returning = false;
	/* what was written but not acked goes again on the next connection */
	fwd_queue_requeue(&c->q);
	c->unacked = 0;
	c->acklen = 0;
	c->hslen = 0;
	fwd_tls_free(c->tls);
	c->tls = NULL;
	if (c->closing && (c->finished || c->q.count == 0)) {
		free_addresses(c);
		maybe_finish(c);
	} else if (c->ai_next && !was_connected) {
		connect_address(c); /* the name's next address */
	} else {
		free_addresses(c);
		if (returning) {
			c->cur = 0;
			start_connect(c);
		} else if (was_connected) {
			schedule_retry(c);
		} else {
			next_receiver(c);
		}
	}
}

static void on_splice_closed(void *arg)
{
	struct fwd_client *c = arg;

	c->open_handles--;
	maybe_finish(c);
}

static void close_conn(struct fwd_client *c)
{
	if (c->state == CS_CONNECTING || c->state == CS_TLS || c->state == CS_HANDSHAKE || c->state == CS_CONNECTED) {
		c->state = CS_CLOSING;
		if (c->spl) {
			fwd_splice_close(c->spl, on_splice_closed, c);
			c->spl = NULL;
		}
		uv_close(&c->conn.handle, on_conn_closed);
	}
}

/* The link failed (reason says how): keep everything, log once per outage, reconnect. */
static void conn_lost(struct fwd_client *c, const char *reason)
{
	if (!c->down) {
		c->down = true;
		c->dropped_at_down = dropped(c);
		logf_(c, FWD_LOG_WARN, "forward: connection to %s lost: %s; keeping up to %zu bytes of records%s and reconnecting",
		      peer(c), reason, c->q.limit, c->spool ? " in memory and the rest in the spool" : "");
	} else {
		logf_(c, FWD_LOG_DEBUG, "forward: %s: %s", peer(c), reason);
	}
	close_conn(c);
}

static void connect_failed(struct fwd_client *c, const char *what, int status)
{
	c->st.connect_failures++;
	c->attempts++;
	if (!c->down) {
		c->down = true;
		c->dropped_at_down = dropped(c);
		logf_(c, FWD_LOG_WARN, "forward: cannot connect to %s: %s: %s; %s", peer(c), what,
		      uv_strerror(status), c->cur + 1 < c->nep ? "trying the next receiver" : "retrying with backoff");
	} else if (c->attempts % 10 == 0) {
		logf_(c, FWD_LOG_WARN, "forward: %s still unreachable after %u attempts (%s); %zu bytes buffered, %llu records dropped so far",
		      peer(c), c->attempts, uv_strerror(status), c->q.bytes,
		      (unsigned long long)(dropped(c) - c->dropped_at_down));
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct fwd_client *c = h->data;

	(void)suggested;
	if (c->tls) {
		/* encrypted bytes: on_read decrypts them into hsbuf or ackbuf */
		buf->base = (char *)c->tlsbuf;
		buf->len = sizeof(c->tlsbuf);
		return;
	}
	if (c->state == CS_HANDSHAKE) {
		buf->base = (char *)c->hsbuf + c->hslen;
		buf->len = sizeof(c->hsbuf) - c->hslen;
		return;
	}
	/* straight after what is already there; a full buffer reads nothing, and on_read rejects it */
	buf->base = (char *)c->ackbuf + c->acklen;
	buf->len = sizeof(c->ackbuf) - c->acklen;
}

/* The oldest frame on the wire not yet acked: written, or still in libuv's hands. */
static struct fwd_chunk *oldest_unacked(struct fwd_client *c)
{
	for (struct fwd_chunk *ch = c->q.head; ch; ch = ch->next)
		if ((ch->state == FWD_CHUNK_SENT || ch->state == FWD_CHUNK_WRITING) && !ch->acked)
			return ch;
	return NULL;
}

/* Delivered: its spool file, if it has one, goes too. */
static void delivered(struct fwd_client *c, struct fwd_chunk *ch)
{
	if (ch->on_disk)
		fwd_spool_remove(c->spool, ch->seq);
	fwd_queue_remove(&c->q, ch);
}

/* An ack: it must name the oldest frame not yet acked. */
static int handle_ack(struct fwd_client *c, const char *id, size_t idlen)
{
	struct fwd_chunk *head = oldest_unacked(c);

	if (!head || idlen != strlen(head->id) || memcmp(id, head->id, idlen) != 0) {
		logf_(c, FWD_LOG_WARN, "forward: %s acked \"%.*s\" but the oldest unacked frame is \"%s\"",
		      peer(c), (int)(idlen > 64 ? 64 : idlen), id, head ? head->id : "(none)");
		conn_lost(c, "wrong ack");
		return -1;
	}
	c->st.frames_acked++;
	c->st.entries_acked += head->entries;
	/* the receiver takes frames: only now is the outage over and the backoff back at its start */
	c->backoff_ms = c->cfg.backoff_min_ms;
	if (head->state == FWD_CHUNK_WRITING) {
		/*
		 * A fast receiver answers before libuv reports the write done (the
		 * bytes left in uv_write itself): the frame is delivered, but its
		 * buffer is libuv's until on_write.
		 */
		head->acked = true;
		return 0;
	}
	c->unacked--;
	delivered(c, head);
	return 0;
}

/* Plaintext came: nread bytes at hsbuf + hslen in the handshake, else at ackbuf + acklen. */
static void got_plain(struct fwd_client *c, size_t nread)
{
	const char *id;
	size_t idlen, at = 0;
	int n;

	if (c->state == CS_HANDSHAKE) {
		handshake_read(c, nread);
		return;
	}
	if (!c->cfg.require_ack) {
		conn_lost(c, "receiver sent data though no ack was asked");
		return;
	}
	c->acklen += nread;
	while (at < c->acklen && (n = fwd_reply_ack(c->ackbuf + at, c->acklen - at, &id, &idlen)) != 0) {
		if (n < 0) {
			conn_lost(c, "receiver's reply is not {\"ack\": str}");
			return;
		}
		if (handle_ack(c, id, idlen))
			return;
		at += (size_t)n;
	}
	memmove(c->ackbuf, c->ackbuf + at, c->acklen - at);
	c->acklen -= at;
	if (c->acklen == sizeof(c->ackbuf)) {
		conn_lost(c, "receiver's reply is too long for an ack");
		return;
	}
	if (c->state == CS_CONNECTED) {
		pump(c);
		maybe_finish(c);
	}
}

/* The link failed before frames could go (a failed attempt, counted as a handshake failure), or after. */
static void link_failed(struct fwd_client *c, const char *why)
{
	if (c->state == CS_TLS || c->state == CS_HANDSHAKE)
		handshake_failed(c, why);
	else if (c->state == CS_CONNECTED)
		conn_lost(c, why);
}

/* The link is there (connected, and with TLS its session up): the shared-key handshake if any, then frames. */
static void link_up(struct fwd_client *c)
{
	if (c->creds.shared_key) {
		/* the receiver speaks first: its HELO, within the ack timeout */
		c->state = CS_HANDSHAKE;
		c->hs_phase = HS_HELO;
		c->hslen = 0;
		c->hs_started_ms = uv_now(c->loop);
		return;
	}
	became_connected(c);
}

/* ---- TLS: the session between the socket and the code above ---- */

/* Bytes on their way to the socket, encrypted: a frame's or the PING's (user told when written), or TLS's own. */
struct wire {
	uv_write_t req;
	uv_write_t *user;
	uv_write_cb cb;
	uint8_t data[];
};

static void on_wire_written(uv_write_t *req, int status)
{
	struct wire *w = (struct wire *)req;
	struct fwd_client *c = req->handle->data;

	if (w->user) {
		/* the caller's callback sees its own request, as if it had been written as it was */
		w->user->handle = req->handle;
		w->cb(w->user, status);
	} else if (status < 0 && status != UV_ECANCELED) {
		link_failed(c, uv_strerror(status));
	}
	free(w);
}

/* Everything the session has to send, in one write; 0 or a libuv error. */
static int tls_send(struct fwd_client *c, uv_write_t *user, uv_write_cb cb)
{
	size_t n = fwd_tls_pending(c->tls);
	struct wire *w;
	uv_buf_t b;
	int rc;

	if (!n && !user)
		return 0;
	if (!(w = malloc(sizeof(*w) + n)))
		return UV_ENOMEM;
	w->user = user;
	w->cb = cb;
	n = fwd_tls_take(c->tls, w->data, n);
	b = uv_buf_init((char *)w->data, (unsigned)n);
	if ((rc = uv_write(&w->req, &c->conn.stream, &b, 1, on_wire_written)) != 0)
		free(w);
	return rc;
}

/* Writes a frame or the PING, as uv_write would (req and cb), through the session when there is one. */
static int conn_write(struct fwd_client *c, uv_write_t *req, const void *p, size_t n, uv_write_cb cb)
{
	char err[320];
	uv_buf_t b;

	if (c->spl)
		return fwd_splice_write(c->spl, req, p, n, cb);
	if (!c->tls) {
		b = uv_buf_init((char *)p, (unsigned)n);
		return uv_write(req, &c->conn.stream, &b, 1, cb);
	}
	if (fwd_tls_write(c->tls, p, n, err, sizeof(err)) != 0) {
		logf_(c, FWD_LOG_WARN, "forward: %s: %s", peer(c), err);
		return UV_EPROTO;
	}
	return tls_send(c, req, cb);
}

/* TLS's own bytes (handshake, alerts) after it read; false when the link is gone. */
static bool tls_flush(struct fwd_client *c)
{
	int rc = tls_send(c, NULL, NULL);

	if (rc == 0)
		return true;
	link_failed(c, uv_strerror(rc));
	return false;
}

/* The receiver's certificate is accepted: the shared-key handshake, if any, then frames. */
static void tls_established(struct fwd_client *c)
{
	char how[128];

	fwd_tls_describe(c->tls, how, sizeof(how));
	logf_(c, FWD_LOG_DEBUG, "forward: %s: TLS session up (%s)", peer(c), how);
	link_up(c);
}

/* Where decrypted bytes go next, and the room there. */
static size_t plain_room(struct fwd_client *c, uint8_t **at)
{
	if (c->state == CS_HANDSHAKE) {
		*at = c->hsbuf + c->hslen;
		return sizeof(c->hsbuf) - c->hslen;
	}
	*at = c->ackbuf + c->acklen;
	return sizeof(c->ackbuf) - c->acklen;
}

/* Encrypted bytes came (in tlsbuf): the TLS handshake goes on, or the plaintext goes where clear bytes would. */
static void tls_read(struct fwd_client *c, size_t nread)
{
	char err[320];
	uint8_t *at;
	size_t room;
	ssize_t n;

	if (fwd_tls_feed(c->tls, c->tlsbuf, nread) != 0) {
		link_failed(c, "out of memory for TLS");
		return;
	}
	if (c->state == CS_TLS) {
		int r = fwd_tls_handshake(c->tls, err, sizeof(err));

		if (!tls_flush(c))
			return;
		if (r < 0)
			handshake_failed(c, err);
		if (r <= 0)
			return;
		tls_established(c);
	}
	/* the state is checked each time round: a reply may have ended the connection */
	while (c->state == CS_HANDSHAKE || c->state == CS_CONNECTED) {
		if (!(room = plain_room(c, &at))) {
			link_failed(c, "receiver's reply is too long");
			return;
		}
		n = fwd_tls_read(c->tls, at, room, err, sizeof(err));
		if (!tls_flush(c))
			return;
		if (n < 0)
			link_failed(c, err);
		if (n <= 0)
			return;
		got_plain(c, (size_t)n);
	}
}

/* Connected over TCP with tls: the session starts with our ClientHello. */
static void start_tls(struct fwd_client *c)
{
	const char *name = c->tls_vhost[0] ? c->tls_vhost : c->ep[c->cur].host;
	char err[320];
	int r;

	c->state = CS_TLS;
	c->hs_started_ms = uv_now(c->loop);
	if (!(c->tls = fwd_tls_new(c->cfg.tls, name, err, sizeof(err)))) {
		handshake_failed(c, err);
		return;
	}
	r = fwd_tls_handshake(c->tls, err, sizeof(err));
	if (tls_flush(c) && r < 0)
		handshake_failed(c, err);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct fwd_client *c = s->data;

	(void)buf; /* tlsbuf with TLS; else c->ackbuf + c->acklen, or c->hsbuf + c->hslen in the handshake */
	if (nread < 0 && c->state == CS_TLS) {
		handshake_failed(c, nread != UV_EOF ? uv_strerror((int)nread) :
				 "closed by the receiver in the TLS handshake (does it speak TLS? does it want a client certificate?)");
		return;
	}
	if (nread < 0 && c->state == CS_HANDSHAKE) {
		if (nread != UV_EOF)
			handshake_failed(c, uv_strerror((int)nread));
		else if (c->hs_phase == HS_HELO)
			handshake_failed(c, c->hslen ? "closed by the receiver in the middle of its HELO" :
					 "closed by the receiver before its HELO");
		else
			/* Fluent Bit's in_forward does this when the digest of our PING is wrong */
			handshake_failed(c, "closed by the receiver after our PING, without a PONG "
					 "(a Shared_Key that does not match?)");
		return;
	}
	if (nread < 0) {
		conn_lost(c, nread == UV_EOF ? "closed by the receiver" : uv_strerror((int)nread));
		return;
	}
	if (nread == 0)
		return;
	if (c->tls)
		tls_read(c, (size_t)nread);
	else
		got_plain(c, (size_t)nread);
}

/* Acks later than stall_ms: the receiver is not taking frames now, so new ones go to the spool. */
static bool stalled(struct fwd_client *c)
{
	struct fwd_chunk *head = oldest_unacked(c);

	return head && head->state == FWD_CHUNK_SENT && uv_now(c->loop) - head->sent_ms > c->cfg.stall_ms;
}

/* TCP: keepalive and TCP_USER_TIMEOUT, so a receiver that vanished is noticed within the ack timeout. */
static void tune_tcp(struct fwd_client *c)
{
	unsigned idle = c->cfg.ack_timeout_ms / 3000 ? c->cfg.ack_timeout_ms / 3000 : 1;
	int intvl = (int)idle, cnt = 2;
	unsigned user_timeout = c->cfg.ack_timeout_ms;
	uv_os_fd_t fd;

	uv_tcp_nodelay(&c->conn.tcp, 1);
	uv_tcp_keepalive(&c->conn.tcp, 1, idle);
	if (uv_fileno(&c->conn.handle, &fd) == 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
		setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
	}
}

/*
 * Unix socket: a send buffer of a few frames. A stream socket's default
 * (net.core.wmem_default, 208 KiB) takes a 1 MiB frame in five writes, each
 * a wake-up of both sides; the kernel caps the request at net.core.wmem_max.
 */
#define UNIX_SNDBUF (4 << 20)

static void tune_unix(struct fwd_client *c)
{
	int size = UNIX_SNDBUF;

	uv_send_buffer_size(&c->conn.handle, &size);
}

/*
 * Frames from now on by reference (splice.h): only where each stays put
 * until its ack, so not without acks. TLS encrypts into its own buffers.
 */
static void start_splice(struct fwd_client *c)
{
	char err[128];

	if ((c->spl = fwd_splice_open(c->loop, &c->conn.stream, err, sizeof(err))) != NULL) {
		c->open_handles++;
		return;
	}
	c->splice_off = true;
	logf_(c, FWD_LOG_INFO, "forward: %s: frames are copied into the socket (%s)", peer(c), err);
}

/* Connected, and with a shared key the handshake done: frames may go. */
static void became_connected(struct fwd_client *c)
{
	char hs[200] = "", how[128];

	if (c->tls) {
		fwd_tls_describe(c->tls, how, sizeof(how));
		snprintf(hs, sizeof(hs), " (%s, %s%s)", how,
			 fwd_tls_verifies(c->cfg.tls) ? "certificate verified" : "certificate NOT verified: tls.verify off",
			 c->creds.shared_key ? ", shared key verified" : "");
	} else if (c->creds.shared_key) {
		snprintf(hs, sizeof(hs), " (shared key verified)");
	}

	if (!c->tls && c->cfg.require_ack && !c->splice_off)
		start_splice(c);
	c->state = CS_CONNECTED;
	c->st.connects++;
	c->st.endpoint = (int)c->cur;
	c->last_probe_ms = uv_now(c->loop);
	if (c->down)
		logf_(c, FWD_LOG_INFO, "forward: connected to %s%s again after %u failed attempts; %llu records were dropped meanwhile, %zu frames to send%s",
		      peer(c), hs, c->attempts, (unsigned long long)(dropped(c) - c->dropped_at_down), c->q.count +
		      (c->spool ? fwd_spool_pending(c->spool) : 0), c->spool ? " (memory and spool)" : "");
	else
		logf_(c, FWD_LOG_INFO, "forward: connected to %s%s", peer(c), hs);
	c->down = false;
	c->hs_warned = false;
	c->attempts = 0;
	pump(c);
	maybe_finish(c);
}

/*
 * The handshake failed (reason says how): nothing was sent on this
 * connection. Closed, counted, said once per outage, and the attempt goes on
 * like a failed connect: the next receiver, or a round after the backoff.
 */
static void handshake_failed(struct fwd_client *c, const char *reason)
{
	c->st.handshake_failures++;
	c->attempts++;
	if (!c->down) {
		c->down = true;
		c->dropped_at_down = dropped(c);
	}
	if (!c->hs_warned) {
		c->hs_warned = true;
		logf_(c, FWD_LOG_WARN, "forward: handshake with %s failed: %s; nothing was sent to it, %s", peer(c), reason,
		      c->cur + 1 < c->nep ? "trying the next receiver" : "retrying with backoff");
	} else if (c->attempts % 10 == 0) {
		logf_(c, FWD_LOG_WARN, "forward: handshake with %s still failing after %u attempts (%s); %zu bytes buffered, %llu records dropped so far",
		      peer(c), c->attempts, reason, c->q.bytes, (unsigned long long)(dropped(c) - c->dropped_at_down));
	} else {
		logf_(c, FWD_LOG_DEBUG, "forward: handshake with %s failed: %s", peer(c), reason);
	}
	close_conn(c);
}

static void on_ping_written(uv_write_t *req, int status)
{
	struct fwd_client *c = req->data;

	if (status < 0 && status != UV_ECANCELED && c->state == CS_HANDSHAKE) {
		char why[160];

		snprintf(why, sizeof(why), "cannot send the PING: %s", uv_strerror(status));
		handshake_failed(c, why);
	}
}

/* Bytes of the handshake came (into c->hsbuf): the HELO, answered with the PING, then the PONG. */
static void handshake_read(struct fwd_client *c, size_t nread)
{
	char err[320], server[FWD_AUTH_MAX_NAME + 1];
	int n;

	c->hslen += nread;
	if (c->hs_phase == HS_HELO) {
		n = fwd_auth_parse_helo(c->hsbuf, c->hslen, &c->helo, err, sizeof(err));
		if (n == 0)
			return; /* more to come: the parser refuses one that cannot fit in hsbuf */
		if (n < 0) {
			handshake_failed(c, err);
			return;
		}
		if ((size_t)n != c->hslen) {
			handshake_failed(c, "the receiver sent more than its HELO before our PING");
			return;
		}
		if (fwd_auth_salt(c->salt) != 0) {
			handshake_failed(c, "no random bytes for the salt (libcrypto's RAND_bytes failed)");
			return;
		}
		n = fwd_auth_build_ping(&c->helo, c->salt, &c->creds, c->ping, sizeof(c->ping), err, sizeof(err));
		if (n < 0) {
			handshake_failed(c, err);
			return;
		}
		c->hslen = 0;
		c->hs_phase = HS_PONG;
		c->hs_started_ms = uv_now(c->loop);
		c->ping_req.data = c;
		if ((n = conn_write(c, &c->ping_req, c->ping, (size_t)n, on_ping_written)) != 0) {
			snprintf(err, sizeof(err), "cannot send the PING: %s", uv_strerror(n));
			handshake_failed(c, err);
		}
		return;
	}
	n = fwd_auth_check_pong(c->hsbuf, c->hslen, &c->helo, c->salt, &c->creds, server, err, sizeof(err));
	if (n == 0)
		return;
	if (n < 0) {
		handshake_failed(c, err);
		return;
	}
	if ((size_t)n != c->hslen) {
		handshake_failed(c, "the receiver sent more than its PONG before any frame");
		return;
	}
	c->hslen = 0;
	logf_(c, FWD_LOG_DEBUG, "forward: %s answered the handshake as \"%s\"", peer(c), server);
	became_connected(c);
}

/*
 * Unix_Peer_User: who listens on the socket, by the kernel's word (SO_PEERCRED,
 * the listener's credentials at listen()), before anything is sent: a socket
 * someone else put at the path while Fluent Bit was down gets nothing.
 */
static bool peer_is_expected(struct fwd_client *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;
	char why[160];

	if (uv_fileno(&c->conn.handle, &fd) || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		snprintf(why, sizeof(why), "cannot tell who listens on the socket (SO_PEERCRED)");
	else if (cred.uid != c->cfg.unix_peer_uid)
		snprintf(why, sizeof(why), "the socket's listener is uid %u (pid %d), not uid %u (Unix_Peer_User)",
			 (unsigned)cred.uid, (int)cred.pid, (unsigned)c->cfg.unix_peer_uid);
	else
		return true;
	handshake_failed(c, why);
	return false;
}

static void on_connect(uv_connect_t *req, int status)
{
	struct fwd_client *c = req->data;

	if (status < 0) {
		/* a close during the connect has already begun closing the handle */
		if (status == UV_ECANCELED || uv_is_closing(&c->conn.handle))
			return;
		if (!c->ai_next)
			connect_failed(c, "connect", status);
		c->state = CS_CLOSING;
		uv_close(&c->conn.handle, on_conn_closed);
		return;
	}
	free_addresses(c);
	if (!c->ep[c->cur].unix_path[0])
		tune_tcp(c);
	else if (c->cfg.unix_peer_check && !peer_is_expected(c))
		return;
	else
		tune_unix(c);
	uv_read_start(&c->conn.stream, on_alloc, on_read);
	if (c->cfg.tls && !c->ep[c->cur].unix_path[0]) {
		start_tls(c);
		return;
	}
	link_up(c);
}

/* Connects to the next address of the resolved name (c->ai_next). */
static void connect_address(struct fwd_client *c)
{
	struct addrinfo *a = c->ai_next;
	int rc;

	c->ai_next = a->ai_next;
	uv_tcp_init(c->loop, &c->conn.tcp);
	c->conn.handle.data = c;
	c->open_handles++;
	c->state = CS_CONNECTING;
	c->connect_req.data = c;
	rc = uv_tcp_connect(&c->connect_req, &c->conn.tcp, a->ai_addr, on_connect);
	if (rc) {
		if (!c->ai_next)
			connect_failed(c, "connect", rc);
		c->state = CS_CLOSING;
		uv_close(&c->conn.handle, on_conn_closed);
	}
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct fwd_client *c = req->data;

	c->open_handles--; /* the request counted as one until now */
	if (status == UV_ECANCELED || c->finished) {
		uv_freeaddrinfo(res);
		c->state = CS_IDLE;
		maybe_finish(c);
		return;
	}
	if (status < 0 || !res) {
		c->state = CS_IDLE;
		connect_failed(c, "resolving the host", status < 0 ? status : UV_EAI_NONAME);
		uv_freeaddrinfo(res);
		next_receiver(c);
		return;
	}
	/* every address the name has, in the resolver's order, before the attempt counts as failed */
	c->ai = c->ai_next = res;
	connect_address(c);
}

static void start_connect(struct fwd_client *c)
{
	const struct endpoint *e = &c->ep[c->cur];
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	int rc;

	if (c->state != CS_IDLE || c->finished)
		return;
	uv_timer_stop(&c->retry);
	if (e->unix_path[0]) {
		uv_pipe_init(c->loop, &c->conn.pipe, 0);
		c->conn.handle.data = c;
		c->open_handles++;
		c->state = CS_CONNECTING;
		c->connect_req.data = c;
		uv_pipe_connect(&c->connect_req, &c->conn.pipe, e->unix_path, on_connect);
		return;
	}
	c->gai.data = c;
	c->state = CS_RESOLVING;
	c->open_handles++;
	rc = uv_getaddrinfo(c->loop, &c->gai, on_resolved, e->host, e->port, &hints);
	if (rc) {
		c->open_handles--;
		c->state = CS_IDLE;
		connect_failed(c, "resolving the host", rc);
		next_receiver(c);
	}
}

/* ---- going back to the first receiver ---- */

static void on_probe_closed(uv_handle_t *h)
{
	struct fwd_client *c = h->data;

	c->probe.busy = false;
	c->open_handles--;
	maybe_finish(c);
}

static void probe_close(struct fwd_client *c)
{
	if (c->probe.has_handle) {
		c->probe.has_handle = false;
		uv_close(&c->probe.h.handle, on_probe_closed);
	}
}

static void probe_handle(struct fwd_client *c)
{
	c->probe.h.handle.data = c;
	c->probe.has_handle = true;
	c->open_handles++;
	c->probe.req.data = c;
}

static void on_probe_connect(uv_connect_t *req, int status)
{
	struct fwd_client *c = req->data;

	probe_close(c);
	if (status < 0 || c->closing || c->state != CS_CONNECTED || c->cur == 0)
		return;
	logf_(c, FWD_LOG_INFO, "forward: %s is back: finishing the frames on the wire to %s, then going to it",
	      c->ep[0].peer, peer(c));
	c->returning = true;
	maybe_finish(c); /* with nothing on the wire, the switch happens at once */
}

static void on_probe_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct fwd_client *c = req->data;

	c->open_handles--;
	c->probe.resolving = false;
	if (status < 0 || !res || c->finished) {
		uv_freeaddrinfo(res);
		c->probe.busy = false;
		maybe_finish(c);
		return;
	}
	uv_tcp_init(c->loop, &c->probe.h.tcp);
	probe_handle(c);
	if (uv_tcp_connect(&c->probe.req, &c->probe.h.tcp, res->ai_addr, on_probe_connect))
		probe_close(c);
	uv_freeaddrinfo(res);
}

/* While on a later receiver: is the first one back? */
static void probe_first(struct fwd_client *c)
{
	const struct endpoint *e = &c->ep[0];
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};

	c->probe.busy = true;
	c->last_probe_ms = uv_now(c->loop);
	if (e->unix_path[0]) {
		uv_pipe_init(c->loop, &c->probe.h.pipe, 0);
		probe_handle(c);
		uv_pipe_connect(&c->probe.req, &c->probe.h.pipe, e->unix_path, on_probe_connect);
		return;
	}
	c->probe.gai.data = c;
	c->open_handles++;
	c->probe.resolving = true;
	if (uv_getaddrinfo(c->loop, &c->probe.gai, on_probe_resolved, e->host, e->port, &hints)) {
		c->open_handles--;
		c->probe.busy = c->probe.resolving = false;
	}
}

/* Once a second: acks in time, the first receiver back, the spool synced. */
static void on_tick(uv_timer_t *t)
{
	struct fwd_client *c = t->data;
	struct fwd_chunk *head = oldest_unacked(c);

	if (c->spool)
		fwd_spool_sync(c->spool);
	/* a second in which no frame took a kept buffer: the load that needed them is over, they go back */
	if (!fwd_queue_reused_since(&c->q))
		fwd_queue_release_kept(&c->q);
	if ((c->state == CS_HANDSHAKE || c->state == CS_TLS) && uv_now(c->loop) - c->hs_started_ms > c->cfg.ack_timeout_ms) {
		char why[160];

		if (c->state == CS_TLS)
			snprintf(why, sizeof(why), "no TLS handshake within %u ms (does the receiver speak TLS?)",
				 c->cfg.ack_timeout_ms);
		else
			snprintf(why, sizeof(why), "no %s within %u ms%s", c->hs_phase == HS_HELO ? "HELO" : "PONG",
				 c->cfg.ack_timeout_ms, c->hs_phase == HS_HELO ? " (is a shared key set on the receiver?)" : "");
		handshake_failed(c, why);
		return;
	}
	if (c->state != CS_CONNECTED)
		return;
	/* a frame still in a write has no sent time yet: the write timing out is the kernel's business */
	if (head && head->state == FWD_CHUNK_SENT && uv_now(c->loop) - head->sent_ms > c->cfg.ack_timeout_ms) {
		conn_lost(c, "no ack in time");
		return;
	}
	if (c->cur > 0 && !c->returning && !c->probe.busy && !c->closing &&
	    uv_now(c->loop) - c->last_probe_ms >= c->cfg.primary_retry_ms)
		probe_first(c);
}

void fwd_client_start(struct fwd_client *c)
{
	uv_timer_start(&c->tick, on_tick, TICK_MS, TICK_MS);
	start_connect(c);
}

/* ---- writing ---- */

static void on_write(uv_write_t *req, int status)
{
	struct fwd_chunk *ch = req->data;
	struct fwd_client *c = req->handle->data;

	c->writing--;
	if (ch->acked) {
		/* acked while libuv held it: delivered, whatever the write status says */
		c->st.frames_sent++;
		c->st.entries_sent += ch->entries;
		delivered(c, ch);
		if (status >= 0)
			pump(c);
		maybe_finish(c);
		return;
	}
	if (status < 0) {
		/* cancelled by a close, or the write failed: it goes again later */
		ch->state = FWD_CHUNK_QUEUED;
		if (status == UV_ENOTSUP && !c->splice_off) {
			c->splice_off = true;
			logf_(c, FWD_LOG_WARN, "forward: %s: the kernel does not splice to this socket; frames are copied "
			      "into it from the next connection on", peer(c));
		}
		if (status != UV_ECANCELED)
			conn_lost(c, uv_strerror(status));
		maybe_finish(c);
		return;
	}
	c->st.frames_sent++;
	c->st.entries_sent += ch->entries;
	if (c->cfg.require_ack && ch->has_id) {
		ch->state = FWD_CHUNK_SENT;
		ch->sent_ms = uv_now(c->loop);
		c->unacked++;
	} else {
		/* no ack asked: written is as far as delivery can be known; the outage is over */
		c->backoff_ms = c->cfg.backoff_min_ms;
		delivered(c, ch);
	}
	pump(c);
	maybe_finish(c);
}

/* The oldest spooled frame into memory, when it fits there; NULL when there is none to take. */
static struct fwd_chunk *from_spool(struct fwd_client *c)
{
	struct fwd_spool_frame f;
	struct fwd_chunk *ch;
	uint64_t bytes;
	bool taken;

	if (!c->spool || !fwd_spool_pending(c->spool))
		return NULL;
	bytes = fwd_spool_next_bytes(c->spool);
	if (c->q.count && !fwd_queue_fits(&c->q, (size_t)bytes))
		return NULL;
	if (fwd_spool_next(c->spool, &f) != 1)
		return NULL;
	ch = fwd_chunk_new(f.buf, 0, f.size, f.entries, f.has_id ? f.id : NULL);
	if (!ch)
		return NULL; /* the file stays: it goes on the next start */
	ch->seq = f.seq;
	ch->on_disk = true;
	fwd_queue_push(&c->q, ch, &taken);
	return taken ? ch : NULL;
}

static void pump(struct fwd_client *c)
{
	struct fwd_chunk *ch;

	while (c->state == CS_CONNECTED && !c->returning && c->writing < MAX_WRITING && c->unacked < MAX_UNACKED &&
	       ((ch = fwd_queue_first(&c->q, FWD_CHUNK_QUEUED)) || (ch = from_spool(c)))) {
		int rc;

		ch->req.data = ch;
		rc = conn_write(c, &ch->req, ch->buf + ch->start, ch->size, on_write);
		if (rc) {
			conn_lost(c, uv_strerror(rc));
			return;
		}
		if (ch->sent_ms)
			c->st.frames_resent++;
		if (c->spl)
			c->st.frames_lent++;
		ch->state = FWD_CHUNK_WRITING;
		c->writing++;
	}
}

/* Puts a frame in the spool; on failure it is lost, and counted and said. */
static void spool_frame(struct fwd_client *c, uint64_t seq, const uint8_t *frame, size_t size, uint32_t entries,
			const char *id)
{
	char err[512];

	if (fwd_spool_put(c->spool, seq, frame, size, entries, id, err, sizeof(err)) == 0) {
		c->st.frames_spooled++;
		c->st.entries_spooled += entries;
		return;
	}
	/* the first loss of an outage is said at once; the count goes on in the stats and the metrics */
	if (c->st.entries_spool_dropped == 0 || c->st.entries_spool_dropped % 100000 < entries)
		logf_(c, FWD_LOG_ERROR, "forward: %s; %u records dropped (%llu in all)", err, entries,
		      (unsigned long long)(c->st.entries_spool_dropped + entries));
	c->st.entries_spool_dropped += entries;
}

/* Where a new frame goes: the spool while no receiver takes frames, or while older frames wait there. */
static bool to_spool(struct fwd_client *c, size_t bytes)
{
	if (!c->spool)
		return false;
	return fwd_spool_pending(c->spool) > 0 || c->state != CS_CONNECTED || c->returning || stalled(c) ||
	       !fwd_queue_fits(&c->q, bytes);
}

uint8_t *fwd_client_reuse(struct fwd_client *c, size_t want, size_t *cap)
{
	return fwd_queue_reuse(&c->q, want, cap);
}

int64_t fwd_client_send(struct fwd_client *c, uint8_t *buf, size_t start, size_t size,
			uint32_t entries, const char *chunk_id)
{
	const char *id = c->cfg.require_ack ? chunk_id : NULL;
	uint64_t before = dropped(c), seq = c->next_seq++;
	struct fwd_chunk *ch;

	if (c->closing && !c->spool) {
		fwd_queue_let_go(&c->q, buf);
		c->q.dropped_entries += entries;
		c->q.dropped_chunks++;
		return -1;
	}
	if (c->closing || to_spool(c, start + size)) {
		spool_frame(c, seq, buf + start, size, entries, id);
		fwd_queue_let_go(&c->q, buf);
		/* connected and idle (the frame was only too big for the buffer), nothing else would wake the pump */
		if (!c->closing)
			pump(c);
		return (int64_t)(dropped(c) - before);
	}
	ch = fwd_chunk_new(buf, start, size, entries, id);
	if (!ch) {
		c->q.dropped_entries += entries;
		c->q.dropped_chunks++;
		return -1;
	}
	ch->seq = seq;
	fwd_queue_push(&c->q, ch, NULL);
	pump(c);
	return (int64_t)(dropped(c) - before);
}

/* ---- closing ---- */

static void on_timer_closed(uv_handle_t *h)
{
	struct fwd_client *c = h->data;

	c->open_handles--;
	maybe_finish(c);
}

/* Closes everything; once the last handle is gone, keeps or counts what is left and calls done. */
static void finish(struct fwd_client *c)
{
	if (c->finished)
		return;
	c->finished = true;
	uv_close((uv_handle_t *)&c->retry, on_timer_closed);
	uv_close((uv_handle_t *)&c->tick, on_timer_closed);
	uv_close((uv_handle_t *)&c->deadline, on_timer_closed);
	if (c->state == CS_RESOLVING)
		uv_cancel((uv_req_t *)&c->gai);
	if (c->probe.resolving)
		uv_cancel((uv_req_t *)&c->probe.gai);
	probe_close(c);
	close_conn(c);
}

/* At the end, frames not delivered go to the spool (those from it are there already). */
static uint64_t keep_or_count(struct fwd_client *c)
{
	uint64_t kept = 0, spooled_before = c->st.entries_spooled;

	if (c->spool) {
		while (c->q.head) {
			struct fwd_chunk *ch = c->q.head;

			if (ch->on_disk)
				kept += ch->entries;
			else
				spool_frame(c, ch->seq, ch->buf + ch->start, ch->size, ch->entries,
					    ch->has_id ? ch->id : NULL);
			fwd_queue_remove(&c->q, ch);
		}
		kept += c->st.entries_spooled - spooled_before;
		fwd_spool_sync(c->spool);
		if (fwd_spool_count(c->spool))
			logf_(c, FWD_LOG_INFO, "forward: %zu frames (%llu bytes) in the spool for the next start%s",
			      fwd_spool_count(c->spool), (unsigned long long)fwd_spool_bytes(c->spool),
			      kept ? ", this run's undelivered ones among them" : "");
	}
	return fwd_queue_clear(&c->q);
}

static void maybe_finish(struct fwd_client *c)
{
	if (c->returning && c->writing == 0 && c->unacked == 0 && c->state == CS_CONNECTED) {
		logf_(c, FWD_LOG_INFO, "forward: leaving %s for %s", peer(c), c->ep[0].peer);
		close_conn(c);
		return;
	}
	if (!c->closing)
		return;
	if (!c->finished && c->q.count == 0 && c->writing == 0)
		finish(c);
	if (c->finished && c->open_handles == 0 && c->done) {
		void (*done)(void *) = c->done;
		uint64_t left = keep_or_count(c);

		if (left)
			logf_(c, FWD_LOG_ERROR, "forward: %llu records not delivered to %s at shutdown",
			      (unsigned long long)left, peer(c));
		c->done = NULL;
		done(c->done_arg);
	}
}

static void on_deadline(uv_timer_t *t)
{
	struct fwd_client *c = t->data;

	logf_(c, FWD_LOG_WARN, "forward: shutdown deadline reached with %zu frames undelivered to %s%s",
	      c->q.count, peer(c), c->spool ? " (they go to the spool)" : "");
	finish(c);
}

void fwd_client_close(struct fwd_client *c, unsigned deadline_ms, void (*done)(void *), void *arg)
{
	c->closing = true;
	c->done = done;
	c->done_arg = arg;
	uv_timer_start(&c->deadline, on_deadline, deadline_ms, 0);
	/* in a backoff: try at once, the shutdown will not wait for the timer */
	if (c->state == CS_IDLE && c->q.count) {
		uv_timer_stop(&c->retry);
		start_connect(c);
	}
	maybe_finish(c);
}

void fwd_client_free(struct fwd_client *c)
{
	if (!c)
		return;
	fwd_queue_clear(&c->q);
	fwd_queue_release_kept(&c->q);
	fwd_spool_close(c->spool);
	free_creds(&c->creds);
	OPENSSL_cleanse(c->ping, sizeof(c->ping));
	free(c);
}
