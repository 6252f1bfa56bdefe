/* lent.h: frame memory whose pages may be lent to a socket (splice.h): replaced before it holds anything else. */
#ifndef FWD_LENT_H
#define FWD_LENT_H

#include <stddef.h>

/*
 * A page lent to a socket stays the socket's until its receiver reads it,
 * and a receiver that acks a frame without reading it (MSG_PEEK) could
 * read it later. If the daemon reused the memory for anything but frames to
 * the same client, that receiver would read it: other outputs' records,
 * keys. So lendable memory only goes round between a client's frames (its
 * queue keeps the freed ones for the next), and whatever else lets go of it
 * calls fwd_lent_free, which gives the process fresh pages first.
 */

/* The whole pages of p[0, n) as offsets [lo, hi) (what can be lent); lo == hi == n when there are none. */
void fwd_lent_pages(const void *p, size_t n, size_t *lo, size_t *hi);

/* The whole pages of p[0, n) replaced by fresh zeroed ones in this process; sockets keep the old ones. */
void fwd_lent_forget(void *p, size_t n);

/* Frees a lendable block from malloc (NULL is fine), its pages forgotten first. */
void fwd_lent_free(void *p);

#endif
