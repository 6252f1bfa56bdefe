/* client.c: the Forward connection: connect, write frames in order, match acks, reconnect with backoff. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "client.h"
#include "queue.h"

/* Frames handed to libuv at once, and frames written but not yet acked. */
#define MAX_WRITING 8
#define MAX_UNACKED 64
#define ACK_CHECK_MS 1000
/*
 * Replies are read into this much room: an ack, {"ack": id}, is a few dozen
 * bytes, so a receiver cannot make the client hold more than this.
 */
#define ACK_BUF 512

enum conn_state { CS_IDLE, CS_RESOLVING, CS_CONNECTING, CS_CONNECTED, CS_CLOSING };

struct fwd_client {
	uv_loop_t *loop;
	struct fwd_client_config cfg;
	char host[256];
	char port[8];
	char unix_path[108];
	char peer[300];
	struct fwd_queue q;

	union {
		uv_handle_t handle;
		uv_stream_t stream;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} conn;
	uv_connect_t connect_req;
	uv_getaddrinfo_t gai;
	uv_timer_t retry, ack_timer, deadline;
	enum conn_state state;
	unsigned backoff_ms;
	unsigned attempts;          /* failed attempts in the current outage */
	bool down;                  /* an outage is under way (logged once) */
	uint64_t dropped_at_down;   /* entries dropped when the outage began */
	uint8_t ackbuf[ACK_BUF];    /* reply bytes not yet parsed */
	size_t acklen;
	size_t writing;
	size_t unacked;

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
static void pump(struct fwd_client *c);
static void maybe_finish(struct fwd_client *c);

struct fwd_client *fwd_client_new(uv_loop_t *loop, const struct fwd_client_config *cfg)
{
	struct fwd_client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->loop = loop;
	c->cfg = *cfg;
	snprintf(c->host, sizeof(c->host), "%s", cfg->host && cfg->host[0] ? cfg->host : "127.0.0.1");
	snprintf(c->port, sizeof(c->port), "%u", cfg->port ? cfg->port : 24224u);
	if (cfg->unix_path && cfg->unix_path[0]) {
		snprintf(c->unix_path, sizeof(c->unix_path), "%s", cfg->unix_path);
		snprintf(c->peer, sizeof(c->peer), "unix:%s", c->unix_path);
	} else {
		snprintf(c->peer, sizeof(c->peer), "tcp:%s:%s", c->host, c->port);
	}
	c->cfg.host = c->host;
	c->cfg.unix_path = c->unix_path[0] ? c->unix_path : NULL;
	if (!c->cfg.ack_timeout_ms)
		c->cfg.ack_timeout_ms = 30000;
	if (!c->cfg.backoff_min_ms)
		c->cfg.backoff_min_ms = 500;
	if (!c->cfg.backoff_max_ms)
		c->cfg.backoff_max_ms = 30000;
	c->backoff_ms = c->cfg.backoff_min_ms;
	fwd_queue_init(&c->q, cfg->buffer_limit ? cfg->buffer_limit : (64u << 20));
	uv_timer_init(loop, &c->retry);
	uv_timer_init(loop, &c->ack_timer);
	uv_timer_init(loop, &c->deadline);
	c->retry.data = c->ack_timer.data = c->deadline.data = c;
	c->open_handles = 3;
	return c;
}

const char *fwd_client_peer(const struct fwd_client *c)
{
	return c->peer;
}

void fwd_client_stats(const struct fwd_client *c, struct fwd_client_stats *out)
{
	*out = c->st;
	out->entries_dropped = c->q.dropped_entries;
	out->frames_dropped = c->q.dropped_chunks;
	out->buffered_bytes = c->q.bytes;
	out->buffered_frames = c->q.count;
	out->connected = c->state == CS_CONNECTED;
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

static void schedule_retry(struct fwd_client *c)
{
	unsigned delay = jittered(c->backoff_ms);

	if (c->closing && c->q.count == 0)
		return;
	c->backoff_ms = c->backoff_ms * 2 > c->cfg.backoff_max_ms ? c->cfg.backoff_max_ms : c->backoff_ms * 2;
	logf_(c, FWD_LOG_DEBUG, "forward: reconnecting to %s in %u ms", c->peer, delay);
	uv_timer_start(&c->retry, on_retry, delay, 0);
}

static void on_conn_closed(uv_handle_t *h)
{
	struct fwd_client *c = h->data;

	c->state = CS_IDLE;
	c->open_handles--;
	/* what was written but not acked goes again on the next connection */
	fwd_queue_requeue(&c->q);
	c->unacked = 0;
	c->acklen = 0;
	if (c->closing && (c->finished || c->q.count == 0))
		maybe_finish(c);
	else
		schedule_retry(c);
}

static void close_conn(struct fwd_client *c)
{
	if (c->state == CS_CONNECTING || c->state == CS_CONNECTED) {
		c->state = CS_CLOSING;
		uv_close(&c->conn.handle, on_conn_closed);
	}
}

/* The link failed (reason says how): keep everything, log once per outage, reconnect. */
static void conn_lost(struct fwd_client *c, const char *reason)
{
	if (!c->down) {
		c->down = true;
		c->dropped_at_down = c->q.dropped_entries;
		logf_(c, FWD_LOG_WARN, "forward: connection to %s lost: %s; keeping up to %zu bytes of records and reconnecting",
		      c->peer, reason, c->q.limit);
	} else {
		logf_(c, FWD_LOG_DEBUG, "forward: %s: %s", c->peer, reason);
	}
	uv_timer_stop(&c->ack_timer);
	close_conn(c);
}

static void connect_failed(struct fwd_client *c, const char *what, int status)
{
	c->st.connect_failures++;
	c->attempts++;
	if (!c->down) {
		c->down = true;
		c->dropped_at_down = c->q.dropped_entries;
		logf_(c, FWD_LOG_WARN, "forward: cannot connect to %s: %s: %s; retrying with backoff", c->peer,
		      what, uv_strerror(status));
	} else if (c->attempts % 10 == 0) {
		logf_(c, FWD_LOG_WARN, "forward: %s still unreachable after %u attempts (%s); %zu bytes buffered, %llu records dropped so far",
		      c->peer, c->attempts, uv_strerror(status), c->q.bytes,
		      (unsigned long long)(c->q.dropped_entries - c->dropped_at_down));
	}
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct fwd_client *c = h->data;

	(void)suggested;
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

/*
 * One ack at the start of b: {"ack": str} as fixmap, fixstr "ack", then a
 * fixstr, str8 or str16. Returns the bytes it takes (> 0), 0 when more are
 * needed, -1 when b does not start like an ack.
 */
static int parse_ack(const uint8_t *b, size_t n, const char **id, size_t *idlen)
{
	static const uint8_t head[] = {0x81, 0xa3, 'a', 'c', 'k'};
	size_t len, off;

	if (memcmp(b, head, n < sizeof(head) ? n : sizeof(head)) != 0)
		return -1;
	if (n <= sizeof(head))
		return 0;
	if ((b[5] & 0xe0) == 0xa0) {
		len = b[5] & 0x1f;
		off = 6;
	} else if (b[5] == 0xd9) {
		if (n < 7)
			return 0;
		len = b[6];
		off = 7;
	} else if (b[5] == 0xda) {
		if (n < 8)
			return 0;
		len = (size_t)b[6] << 8 | b[7];
		off = 8;
	} else {
		return -1;
	}
	if (off + len > ACK_BUF)
		return -1;
	if (n < off + len)
		return 0;
	*id = (const char *)b + off;
	*idlen = len;
	return (int)(off + len);
}

/* An ack: it must name the oldest frame not yet acked. */
static int handle_ack(struct fwd_client *c, const char *id, size_t idlen)
{
	struct fwd_chunk *head = oldest_unacked(c);

	if (!head || idlen != strlen(head->id) || memcmp(id, head->id, idlen) != 0) {
		logf_(c, FWD_LOG_WARN, "forward: %s acked \"%.*s\" but the oldest unacked frame is \"%s\"",
		      c->peer, (int)(idlen > 64 ? 64 : idlen), id, head ? head->id : "(none)");
		conn_lost(c, "wrong ack");
		return -1;
	}
	c->st.frames_acked++;
	c->st.entries_acked += head->entries;
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
	fwd_queue_remove(&c->q, head);
	return 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct fwd_client *c = s->data;
	const char *id;
	size_t idlen, at = 0;
	int n;

	(void)buf; /* it is c->ackbuf + c->acklen */
	if (nread < 0) {
		conn_lost(c, nread == UV_EOF ? "closed by the receiver" : uv_strerror((int)nread));
		return;
	}
	if (nread == 0)
		return;
	if (!c->cfg.require_ack) {
		conn_lost(c, "receiver sent data though no ack was asked");
		return;
	}
	c->acklen += (size_t)nread;
	while (at < c->acklen && (n = parse_ack(c->ackbuf + at, c->acklen - at, &id, &idlen)) != 0) {
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

static void on_ack_check(uv_timer_t *t)
{
	struct fwd_client *c = t->data;
	struct fwd_chunk *head = oldest_unacked(c);

	/* a frame still in a write has no sent time yet: the write timing out is the kernel's business */
	if (head && head->state != FWD_CHUNK_SENT)
		return;

	if (head && uv_now(c->loop) - head->sent_ms > c->cfg.ack_timeout_ms)
		conn_lost(c, "no ack in time");
}

static void on_connect(uv_connect_t *req, int status)
{
	struct fwd_client *c = req->data;

	if (status < 0) {
		/* a close during the connect has already begun closing the handle */
		if (status == UV_ECANCELED || uv_is_closing(&c->conn.handle))
			return;
		connect_failed(c, "connect", status);
		c->state = CS_CLOSING;
		uv_close(&c->conn.handle, on_conn_closed);
		return;
	}
	if (!c->unix_path[0])
		uv_tcp_nodelay(&c->conn.tcp, 1);
	c->state = CS_CONNECTED;
	c->st.connects++;
	if (c->down)
		logf_(c, FWD_LOG_INFO, "forward: connected to %s again after %u failed attempts; %llu records were dropped meanwhile, %zu frames to send",
		      c->peer, c->attempts, (unsigned long long)(c->q.dropped_entries - c->dropped_at_down),
		      c->q.count);
	else
		logf_(c, FWD_LOG_INFO, "forward: connected to %s", c->peer);
	c->down = false;
	c->attempts = 0;
	c->backoff_ms = c->cfg.backoff_min_ms;
	uv_read_start(&c->conn.stream, on_alloc, on_read);
	if (c->cfg.require_ack)
		uv_timer_start(&c->ack_timer, on_ack_check, ACK_CHECK_MS, ACK_CHECK_MS);
	pump(c);
	maybe_finish(c);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct fwd_client *c = req->data;
	int rc;

	c->open_handles--; /* the request counted as one until now */
	if (status == UV_ECANCELED || c->finished) {
		uv_freeaddrinfo(res);
		c->state = CS_IDLE;
		maybe_finish(c);
		return;
	}
	if (status < 0) {
		c->state = CS_IDLE;
		connect_failed(c, "resolving the host", status);
		uv_freeaddrinfo(res);
		schedule_retry(c);
		return;
	}
	uv_tcp_init(c->loop, &c->conn.tcp);
	c->conn.handle.data = c;
	c->open_handles++;
	c->state = CS_CONNECTING;
	c->connect_req.data = c;
	rc = uv_tcp_connect(&c->connect_req, &c->conn.tcp, res->ai_addr, on_connect);
	uv_freeaddrinfo(res);
	if (rc) {
		connect_failed(c, "connect", rc);
		c->state = CS_CLOSING;
		uv_close(&c->conn.handle, on_conn_closed);
	}
}

static void start_connect(struct fwd_client *c)
{
	if (c->state != CS_IDLE || c->finished)
		return;
	if (c->unix_path[0]) {
		uv_pipe_init(c->loop, &c->conn.pipe, 0);
		c->conn.handle.data = c;
		c->open_handles++;
		c->state = CS_CONNECTING;
		c->connect_req.data = c;
		uv_pipe_connect(&c->connect_req, &c->conn.pipe, c->unix_path, on_connect);
		return;
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	int rc;

	c->gai.data = c;
	c->state = CS_RESOLVING;
	c->open_handles++;
	rc = uv_getaddrinfo(c->loop, &c->gai, on_resolved, c->host, c->port, &hints);
	if (rc) {
		c->open_handles--;
		c->state = CS_IDLE;
		connect_failed(c, "resolving the host", rc);
		schedule_retry(c);
	}
}

void fwd_client_start(struct fwd_client *c)
{
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
		fwd_queue_remove(&c->q, ch);
		if (status >= 0)
			pump(c);
		maybe_finish(c);
		return;
	}
	if (status < 0) {
		/* cancelled by a close, or the write failed: it goes again later */
		ch->state = FWD_CHUNK_QUEUED;
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
		fwd_queue_remove(&c->q, ch);
	}
	pump(c);
	maybe_finish(c);
}

static void pump(struct fwd_client *c)
{
	struct fwd_chunk *ch;

	while (c->state == CS_CONNECTED && c->writing < MAX_WRITING && c->unacked < MAX_UNACKED &&
	       (ch = fwd_queue_first(&c->q, FWD_CHUNK_QUEUED))) {
		uv_buf_t b = uv_buf_init((char *)ch->buf + ch->start, (unsigned)ch->size);
		int rc;

		ch->req.data = ch;
		rc = uv_write(&ch->req, &c->conn.stream, &b, 1, on_write);
		if (rc) {
			conn_lost(c, uv_strerror(rc));
			return;
		}
		if (ch->sent_ms)
			c->st.frames_resent++;
		ch->state = FWD_CHUNK_WRITING;
		c->writing++;
	}
}

int64_t fwd_client_send(struct fwd_client *c, uint8_t *buf, size_t start, size_t size,
			uint32_t entries, const char *chunk_id)
{
	struct fwd_chunk *ch;
	uint64_t before = c->q.dropped_entries;

	if (c->closing) {
		free(buf);
		c->q.dropped_entries += entries;
		c->q.dropped_chunks++;
		return -1;
	}
	ch = fwd_chunk_new(buf, start, size, entries, c->cfg.require_ack ? chunk_id : NULL);
	if (!ch) {
		c->q.dropped_entries += entries;
		c->q.dropped_chunks++;
		return -1;
	}
	fwd_queue_push(&c->q, ch);
	pump(c);
	return (int64_t)(c->q.dropped_entries - before);
}

/* ---- closing ---- */

static void on_timer_closed(uv_handle_t *h)
{
	struct fwd_client *c = h->data;

	c->open_handles--;
	maybe_finish(c);
}

/* Closes everything; once the last handle is gone, counts what is left and calls done. */
static void finish(struct fwd_client *c)
{
	if (c->finished)
		return;
	c->finished = true;
	uv_close((uv_handle_t *)&c->retry, on_timer_closed);
	uv_close((uv_handle_t *)&c->ack_timer, on_timer_closed);
	uv_close((uv_handle_t *)&c->deadline, on_timer_closed);
	if (c->state == CS_RESOLVING)
		uv_cancel((uv_req_t *)&c->gai);
	close_conn(c);
}

static void maybe_finish(struct fwd_client *c)
{
	if (!c->closing)
		return;
	if (!c->finished && c->q.count == 0 && c->writing == 0)
		finish(c);
	if (c->finished && c->open_handles == 0 && c->done) {
		void (*done)(void *) = c->done;
		uint64_t left = fwd_queue_clear(&c->q);

		if (left)
			logf_(c, FWD_LOG_ERROR, "forward: %llu records not delivered to %s at shutdown",
			      (unsigned long long)left, c->peer);
		c->done = NULL;
		done(c->done_arg);
	}
}

static void on_deadline(uv_timer_t *t)
{
	struct fwd_client *c = t->data;

	logf_(c, FWD_LOG_WARN, "forward: shutdown deadline reached with %zu frames undelivered to %s",
	      c->q.count, c->peer);
	finish(c);
}

void fwd_client_close(struct fwd_client *c, unsigned deadline_ms, void (*done)(void *), void *arg)
{
	c->closing = true;
	c->done = done;
	c->done_arg = arg;
	uv_timer_start(&c->deadline, on_deadline, deadline_ms, 0);
	if (c->state == CS_IDLE && c->q.count && !uv_is_active((uv_handle_t *)&c->retry))
		start_connect(c);
	maybe_finish(c);
}

void fwd_client_free(struct fwd_client *c)
{
	if (!c)
		return;
	fwd_queue_clear(&c->q);
	free(c);
}
