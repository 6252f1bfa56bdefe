/* http_server.c: accepts, reads one request into a fixed buffer, answers it, closes; a deadline over it all. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_server.h"
#include "log.h"

#define ROUTES_MAX 8
#define BACKLOG 32

enum conn_state { CONN_FREE, CONN_READING, CONN_WRITING, CONN_DRAINING, CONN_CLOSING };

struct http_conn {
	struct http_server *s;
	enum conn_state state;
	uv_tcp_t tcp;
	uv_timer_t deadline;
	uv_write_t wr;
	uv_shutdown_t sd;
	unsigned handles;          /* open libuv handles: the slot is free at 0 */
	size_t len;                /* bytes of req read */
	char *body;                /* the response's, when malloc'd */
	char head[256];
	char req[HTTP_HEADER_MAX];
};

struct http_server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	bool listening;            /* listener open (not yet closed) */
	uv_tcp_t refuser;          /* takes a connection over the limit, says 503, closes */
	bool refuser_busy;
	bool pending;              /* a connection waits in libuv for a free handle */
	bool closing;
	struct http_route routes[ROUTES_MAX];
	size_t nroutes;
	struct http_server_stats st;
	struct http_conn conns[HTTP_MAX_CONNECTIONS];
};

static const char refusal[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
			      "Content-Length: 21\r\nConnection: close\r\n\r\ntoo many connections\n";

static void accept_one(struct http_server *s);

static void maybe_free(struct http_server *s)
{
	if (!s->closing || s->listening || s->refuser_busy)
		return;
	for (size_t i = 0; i < HTTP_MAX_CONNECTIONS; i++)
		if (s->conns[i].state != CONN_FREE)
			return;
	free(s);
}

/* A handle came free: a connection left waiting takes it. */
static void handle_freed(struct http_server *s)
{
	if (s->closing) {
		maybe_free(s);
		return;
	}
	if (s->pending) {
		s->pending = false;
		accept_one(s);
	}
}

static void on_conn_closed(uv_handle_t *h)
{
	struct http_conn *c = h->data;

	if (--c->handles)
		return;
	free(c->body);
	c->body = NULL;
	c->len = 0;
	c->state = CONN_FREE;
	handle_freed(c->s);
}

static void conn_close(struct http_conn *c)
{
	if (c->state == CONN_CLOSING || c->state == CONN_FREE)
		return;
	c->state = CONN_CLOSING;
	/* a write or shutdown still queued is called back with UV_ECANCELED first */
	uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
	uv_close((uv_handle_t *)&c->deadline, on_conn_closed);
}

static void on_deadline(uv_timer_t *t)
{
	struct http_conn *c = t->data;

	if (c->state == CONN_READING)
		c->s->st.timed_out++;
	conn_close(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct http_conn *c = h->data;

	(void)suggested;
	/* draining what follows the request: read into the buffer from its start and forget it */
	if (c->state == CONN_DRAINING)
		*buf = uv_buf_init(c->req, sizeof(c->req));
	else
		*buf = uv_buf_init(c->req + c->len, (unsigned)(sizeof(c->req) - c->len));
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static void on_drained(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	/* the client closed its side (or failed): the response is theirs */
	if (nread < 0)
		conn_close(st->data);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	if (status < 0)
		conn_close(req->data);
}

static void on_written(uv_write_t *req, int status)
{
	struct http_conn *c = req->data;

	if (c->state != CONN_WRITING)
		return;
	/*
	 * Connection: close. Half-close, then read and drop what the client may
	 * still send until it closes too: closing with unread bytes would reset
	 * the connection and could take the response with it. The deadline ends
	 * a client that never closes.
	 */
	c->state = CONN_DRAINING;
	if (status < 0 || uv_shutdown(&c->sd, (uv_stream_t *)&c->tcp, on_shutdown) ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_drained))
		conn_close(c);
}

/* Sends status with body (owned: freed at close) or only the headers; then the connection closes. */
static void respond(struct http_conn *c, int status, const char *type, char *body, size_t len, bool owned,
		    bool head_only)
{
	uv_buf_t bufs[2];
	int n;

	if (owned)
		c->body = body;
	n = snprintf(c->head, sizeof(c->head),
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n", status,
		     reason(status), type, len, status == 405 ? "Allow: GET, HEAD\r\n" : "");
	bufs[0] = uv_buf_init(c->head, (unsigned)n);
	bufs[1] = uv_buf_init(body, (unsigned)len);
	c->s->st.requests++;
	c->state = CONN_WRITING;
	c->wr.data = c;
	uv_read_stop((uv_stream_t *)&c->tcp);
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, bufs, head_only || !len ? 1 : 2, on_written))
		conn_close(c);
}

static void respond_text(struct http_conn *c, int status, const char *text, bool head_only)
{
	respond(c, status, "text/plain; charset=utf-8", (char *)text, strlen(text), false, head_only);
}

/* The request line of the headers in c->req: routed, answered. */
static void serve(struct http_conn *c)
{
	struct http_server *s = c->s;
	char *line = c->req, *eol = memchr(line, '\n', c->len), *sp1, *sp2, *path;
	bool get, head;
	size_t plen;

	/* "METHOD SP target SP HTTP/1.x", the CR optional */
	*eol = '\0';
	if (eol > line && eol[-1] == '\r')
		eol[-1] = '\0';
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || sp1 == line || strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || strchr(sp2 + 1, ' ')) {
		respond_text(c, 400, "bad request line\n", false);
		return;
	}
	*sp1 = *sp2 = '\0';
	path = sp1 + 1;
	/* the absolute form a proxy sends: http://host:port/path */
	if (strncmp(path, "http://", 7) == 0)
		path = strchr(path + 7, '/');
	if (!path || *path != '/') {
		respond_text(c, 400, "bad request target\n", false);
		return;
	}
	plen = strcspn(path, "?#");
	get = strcmp(line, "GET") == 0;
	head = strcmp(line, "HEAD") == 0;
	for (size_t i = 0; i < s->nroutes; i++) {
		struct http_response r = {0};

		if (strlen(s->routes[i].path) != plen || strncmp(s->routes[i].path, path, plen) != 0)
			continue;
		if (!get && !head) {
			respond_text(c, 405, "only GET and HEAD\n", false);
			return;
		}
		if (s->routes[i].handler(s->routes[i].arg, &r)) {
			free(r.body);
			respond_text(c, 500, "cannot make the response (out of memory?)\n", head);
			return;
		}
		respond(c, r.status, r.content_type, r.body, r.len, true, head);
		return;
	}
	respond_text(c, 404, "not found\n", head);
}

/* The end of the headers: an empty line, CRLF or LF alone; searched from where the last read may have cut it. */
static bool headers_end(const struct http_conn *c, size_t from)
{
	for (size_t i = from; i < c->len; i++)
		if (c->req[i] == '\n' && ((i >= 1 && c->req[i - 1] == '\n') ||
					  (i >= 2 && c->req[i - 1] == '\r' && c->req[i - 2] == '\n')))
			return true;
	return false;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct http_conn *c = st->data;
	size_t before = c->len;

	(void)buf;
	if (c->state != CONN_READING)
		return;
	if (nread < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)nread;
	if (headers_end(c, before))
		serve(c);
	else if (c->len == sizeof(c->req)) {
		c->s->st.too_large++;
		respond_text(c, 431, "request headers are larger than 8192 bytes\n", false);
	}
}

static void on_refuser_closed(uv_handle_t *h)
{
	struct http_server *s = h->data;

	s->refuser_busy = false;
	handle_freed(s);
}

/* The connection libuv holds: into a free slot, else told 503 by the refuser, else it waits for one. */
static void accept_one(struct http_server *s)
{
	struct http_conn *c = NULL;

	for (size_t i = 0; i < HTTP_MAX_CONNECTIONS && !c; i++)
		if (s->conns[i].state == CONN_FREE)
			c = &s->conns[i];
	if (!c && s->refuser_busy) {
		s->pending = true; /* libuv stops accepting until uv_accept is called */
		return;
	}
	if (!c) {
		uv_buf_t b = uv_buf_init((char *)refusal, sizeof(refusal) - 1);

		uv_tcp_init(s->loop, &s->refuser);
		s->refuser.data = s;
		s->refuser_busy = true;
		s->st.refused++;
		/* a fresh socket's buffer takes it at once; whatever it does not take is not waited for */
		if (uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&s->refuser) == 0)
			uv_try_write((uv_stream_t *)&s->refuser, &b, 1);
		uv_close((uv_handle_t *)&s->refuser, on_refuser_closed);
		return;
	}
	c->s = s;
	c->len = 0;
	c->handles = 2;
	c->state = CONN_READING;
	uv_tcp_init(s->loop, &c->tcp);
	uv_timer_init(s->loop, &c->deadline);
	c->tcp.data = c->deadline.data = c->sd.data = c;
	if (uv_accept((uv_stream_t *)&s->listener, (uv_stream_t *)&c->tcp) ||
	    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read)) {
		conn_close(c);
		return;
	}
	uv_timer_start(&c->deadline, on_deadline, HTTP_DEADLINE_MS, 0);
}

static void on_connection(uv_stream_t *l, int status)
{
	struct http_server *s = l->data;

	if (status < 0) {
		/* EMFILE and the like: the next connection may do better */
		log_debug("http: accept: %s", uv_strerror(status));
		return;
	}
	if (!s->closing)
		accept_one(s);
}

static void on_listener_closed(uv_handle_t *h)
{
	struct http_server *s = h->data;

	s->listening = false;
	maybe_free(s);
}

struct http_server *http_server_new(uv_loop_t *loop, const char *addr, uint16_t port, const struct http_route *routes,
				    size_t nroutes, char *err, size_t errlen)
{
	struct http_server *s = calloc(1, sizeof(*s));
	struct sockaddr_storage sa;
	int rc;

	if (!s || nroutes > ROUTES_MAX) {
		snprintf(err, errlen, s ? "http: too many routes" : "out of memory");
		free(s);
		return NULL;
	}
	s->loop = loop;
	memcpy(s->routes, routes, nroutes * sizeof(*routes));
	s->nroutes = nroutes;
	if (uv_ip4_addr(addr, port, (struct sockaddr_in *)&sa) && uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&sa)) {
		snprintf(err, errlen, "HTTP_Listen: %s is not an IPv4 or IPv6 address", addr);
		free(s);
		return NULL;
	}
	uv_tcp_init(loop, &s->listener);
	s->listener.data = s;
	s->listening = true;
	/* libuv may report a bind error (EADDRINUSE) only at listen */
	rc = uv_tcp_bind(&s->listener, (const struct sockaddr *)&sa, 0);
	if (!rc)
		rc = uv_listen((uv_stream_t *)&s->listener, BACKLOG, on_connection);
	if (rc) {
		snprintf(err, errlen, "HTTP server: cannot listen on %s%s%s:%u: %s%s", strchr(addr, ':') ? "[" : "", addr,
			 strchr(addr, ':') ? "]" : "", port, uv_strerror(rc),
			 rc == UV_EACCES && port < 1024 ? " (a port below 1024 needs CAP_NET_BIND_SERVICE)" : "");
		s->closing = true;
		uv_close((uv_handle_t *)&s->listener, on_listener_closed);
		return NULL;
	}
	return s;
}

void http_server_stats(const struct http_server *s, struct http_server_stats *out)
{
	*out = s->st;
}

void http_server_close(struct http_server *s)
{
	if (!s || s->closing)
		return;
	s->closing = true;
	/* a connection libuv still holds for us is closed with the listener */
	uv_close((uv_handle_t *)&s->listener, on_listener_closed);
	for (size_t i = 0; i < HTTP_MAX_CONNECTIONS; i++)
		conn_close(&s->conns[i]);
}
