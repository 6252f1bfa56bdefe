/* splice.h: frames handed to a plain socket by reference (vmsplice, then splice), not copied into it. */
#ifndef FWD_SPLICE_H
#define FWD_SPLICE_H

#include <stddef.h>

#include <uv.h>

/*
 * Why: copying each frame into the socket was a fifth of the daemon's CPU
 * under load. vmsplice lends the frame's pages to a pipe and splice moves
 * them into the socket, where the receiver's read copies them out: the
 * daemon's copy is gone. The pages are the daemon's own memory, so the
 * bytes must not change until the receiver has read them: only frames that
 * stay put until their ack (Require_Ack_Response on) may go this way, and
 * only from memory that holds nothing but the same client's frames (lent.h).
 */

/* Writes in flight at once (the client hands out fewer). */
#define FWD_SPLICE_MAX_WRITES 16

struct fwd_splice;

/*
 * A writer for the stream's socket, beside libuv's own (which keeps reading).
 * NULL when it cannot be had (no pipe, or a pipe too small to be worth it):
 * err says why, and the caller writes with uv_write as before.
 */
struct fwd_splice *fwd_splice_open(uv_loop_t *loop, uv_stream_t *stream, char *err, size_t errlen);

/*
 * Like uv_write: p[0, n) is written after the writes before it, and cb(req,
 * status) is called from the loop once it all is (req->handle is the stream).
 * status is a libuv error on failure; UV_ENOTSUP means the kernel refused to
 * splice to this socket (write with uv_write from the next connection on).
 * The bytes must not change until the receiver has read them.
 */
int fwd_splice_write(struct fwd_splice *s, uv_write_t *req, const void *p, size_t n, uv_write_cb cb);

/* Stops writing at once; later, from the loop, cancels what is left (cb with UV_ECANCELED) and calls closed. */
void fwd_splice_close(struct fwd_splice *s, void (*closed)(void *), void *arg);

#endif
