/* http_server.h: a small HTTP/1.1 server on the libuv loop: GET and HEAD of fixed paths, bounded in every way. */
#ifndef EBPF_FORWARD_HTTP_SERVER_H
#define EBPF_FORWARD_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/*
 * The bounds a client cannot push: the request line and headers must fit in
 * HTTP_HEADER_MAX bytes (else 431) and arrive within HTTP_DEADLINE_MS of the
 * connect, which is also how long a connection may live at all; at most
 * HTTP_MAX_CONNECTIONS are served at once (one more is told 503 and closed;
 * beyond, connections wait in the kernel's backlog). Every connection's memory
 * is in the server from the start, but for the response body.
 */
#define HTTP_HEADER_MAX 8192
#define HTTP_MAX_CONNECTIONS 16
#define HTTP_DEADLINE_MS 5000

struct http_response {
	int status;
	const char *content_type;
	char *body;                /* malloc'd; the server frees it */
	size_t len;
};

/* Fills r for a GET of its path (for a HEAD only the headers are sent); returns 0, or -1 for a 500. */
typedef int (*http_handler)(void *arg, struct http_response *r);

struct http_route {
	const char *path;          /* exact, without a query */
	http_handler handler;
	void *arg;
};

/* Counters of what clients did; read them any time. */
struct http_server_stats {
	uint64_t requests;         /* answered, whatever the status */
	uint64_t refused;          /* over HTTP_MAX_CONNECTIONS */
	uint64_t timed_out;        /* closed at the deadline */
	uint64_t too_large;        /* headers over HTTP_HEADER_MAX */
};

struct http_server;

/*
 * Listens on addr (a numeric IPv4 or IPv6 address) at port and serves routes
 * (copied, up to 8). NULL with a message in err when it cannot listen.
 */
struct http_server *http_server_new(uv_loop_t *loop, const char *addr, uint16_t port, const struct http_route *routes,
				    size_t nroutes, char *err, size_t errlen);

void http_server_stats(const struct http_server *s, struct http_server_stats *out);

/* Stops listening and closes every connection; the server frees itself once the loop has closed them. */
void http_server_close(struct http_server *s);

#endif
