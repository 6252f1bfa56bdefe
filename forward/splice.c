/* splice.c: frames to a plain socket by reference: the whole pages through a pipe, the ragged ends copied. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lent.h"
#include "splice.h"

/* The pipe holds a default frame's pages at once; one of 64 KiB still pays, a smaller one does not. */
#define PIPE_WANT (1 << 20)
#define PIPE_LEAST (64 << 10)

struct write {
	uv_write_t *req;
	uv_write_cb cb;
	const uint8_t *p;
	size_t n, off;        /* bytes of p taken so far: written, or in the pipe */
	size_t lo, hi;        /* the whole pages, p[lo, hi), are lent; the rest is copied */
};

struct fwd_splice {
	uv_poll_t poll;
	uv_stream_t *stream;
	int fd;               /* the socket again (dup), for the poll: libuv's stream has the first */
	int pipe[2];
	size_t in_pipe;       /* bytes lent to the pipe and not yet moved on to the socket */
	struct write w[FWD_SPLICE_MAX_WRITES];
	size_t head, count;
	bool polling, closing;
	void (*closed)(void *);
	void *closed_arg;
};

static void close_fds(struct fwd_splice *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->pipe[0] >= 0)
		close(s->pipe[0]);
	if (s->pipe[1] >= 0)
		close(s->pipe[1]);
	s->fd = s->pipe[0] = s->pipe[1] = -1;
}

static void on_writable(uv_poll_t *h, int status, int events);

struct fwd_splice *fwd_splice_open(uv_loop_t *loop, uv_stream_t *stream, char *err, size_t errlen)
{
	struct fwd_splice *s = calloc(1, sizeof(*s));
	uv_os_fd_t fd;
	int size;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->stream = stream;
	s->fd = s->pipe[0] = s->pipe[1] = -1;
	if (uv_fileno((uv_handle_t *)stream, &fd) != 0 || (s->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0 ||
	    pipe2(s->pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "no pipe for splice: %s", strerror(errno));
		goto fail;
	}
	/* over fs.pipe-max-size, or over the user's pipe pages, the kernel says no: take what it gives */
	fcntl(s->pipe[1], F_SETPIPE_SZ, PIPE_WANT);
	size = fcntl(s->pipe[1], F_GETPIPE_SZ);
	if (size < PIPE_LEAST) {
		snprintf(err, errlen, "a pipe of %d bytes for splice, under %d", size, PIPE_LEAST);
		goto fail;
	}
	if (uv_poll_init(loop, &s->poll, s->fd) != 0) {
		snprintf(err, errlen, "cannot poll the socket for splice");
		goto fail;
	}
	s->poll.data = s;
	return s;
fail:
	close_fds(s);
	free(s);
	return NULL;
}

/* The kernel will not splice here at all (an old kernel, a filter): not worth a retry on the next connection. */
static int refused(int e)
{
	return e == EINVAL || e == ENOSYS || e == EPERM || e == EOPNOTSUPP ? UV_ENOTSUP : uv_translate_sys_error(e);
}

/* One step of the oldest write: 1 when it moved bytes, 0 when the socket is full, or a libuv error. */
static int step(struct fwd_splice *s, struct write *w)
{
	ssize_t n;

	if (s->in_pipe) {
		n = splice(s->pipe[0], NULL, s->fd, NULL, s->in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n < 0)
			return errno == EAGAIN ? 0 : refused(errno);
		s->in_pipe -= (size_t)n;
		return 1;
	}
	if (w->off >= w->lo && w->off < w->hi) {
		/* the pipe is empty here, so it takes as many pages as it holds */
		struct iovec iov = {(void *)(w->p + w->off), w->hi - w->off};

		n = vmsplice(s->pipe[1], &iov, 1, SPLICE_F_NONBLOCK);
		if (n < 0)
			return errno == EAGAIN ? 0 : refused(errno);
		s->in_pipe += (size_t)n;
	} else {
		size_t end = w->off < w->lo ? w->lo : w->n;

		n = write(s->fd, w->p + w->off, end - w->off);
		if (n < 0)
			return errno == EAGAIN ? 0 : uv_translate_sys_error(errno);
	}
	w->off += (size_t)n;
	return 1;
}

/* The oldest write is over: taken off, and its caller told (which may write more, or close s). */
static void finish_oldest(struct fwd_splice *s, int status)
{
	struct write *w = &s->w[s->head];

	s->head = (s->head + 1) % FWD_SPLICE_MAX_WRITES;
	s->count--;
	w->req->handle = s->stream;
	w->cb(w->req, status);
}

static void stop_polling(struct fwd_splice *s)
{
	if (s->polling)
		uv_poll_stop(&s->poll);
	s->polling = false;
}

/* The socket has room: the oldest writes go on until it is full again, each finished one told. */
static void on_writable(uv_poll_t *h, int status, int events)
{
	struct fwd_splice *s = h->data;

	(void)events;
	while (s->count && !s->closing) {
		struct write *w = &s->w[s->head];
		int rc = status < 0 ? status : step(s, w);

		if (rc == 0)
			return;
		if (rc < 0) {
			/* after a failure the socket's stream is undefined: the caller closes it, the rest is cancelled */
			stop_polling(s);
			finish_oldest(s, rc);
			return;
		}
		if (w->off == w->n && !s->in_pipe)
			finish_oldest(s, 0);
	}
	if (!s->closing && !s->count)
		stop_polling(s);
}

int fwd_splice_write(struct fwd_splice *s, uv_write_t *req, const void *p, size_t n, uv_write_cb cb)
{
	struct write *w;

	if (s->closing)
		return UV_EPIPE;
	if (s->count == FWD_SPLICE_MAX_WRITES)
		return UV_ENOBUFS;
	w = &s->w[(s->head + s->count++) % FWD_SPLICE_MAX_WRITES];
	*w = (struct write){.req = req, .cb = cb, .p = p, .n = n};
	fwd_lent_pages(p, n, &w->lo, &w->hi);
	/* never from inside the call, as with uv_write: the poll says the socket has room on the next turn */
	if (!s->polling) {
		if (uv_poll_start(&s->poll, UV_WRITABLE, on_writable) != 0) {
			s->count--; /* not taken: the caller is not told of it later */
			return UV_EIO;
		}
		s->polling = true;
	}
	return 0;
}

static void on_poll_closed(uv_handle_t *h)
{
	struct fwd_splice *s = h->data;

	while (s->count)
		finish_oldest(s, UV_ECANCELED);
	/* the pipe's pages go with it: they were the frames', which are written again from the start */
	close_fds(s);
	if (s->closed)
		s->closed(s->closed_arg);
	free(s);
}

void fwd_splice_close(struct fwd_splice *s, void (*closed)(void *), void *arg)
{
	s->closing = true;
	s->closed = closed;
	s->closed_arg = arg;
	stop_polling(s);
	uv_close((uv_handle_t *)&s->poll, on_poll_closed);
}
