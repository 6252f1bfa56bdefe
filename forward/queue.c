/* queue.c: a FIFO of frames bounded in bytes, dropping the oldest that is not in a write when full. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "lent.h"
#include "queue.h"

void fwd_queue_init(struct fwd_queue *q, size_t limit)
{
	memset(q, 0, sizeof(*q));
	q->limit = limit;
}

struct fwd_chunk *fwd_chunk_new(uint8_t *buf, size_t start, size_t size, uint32_t entries,
				const char *id)
{
	struct fwd_chunk *c = calloc(1, sizeof(*c));

	if (!c) {
		fwd_lent_free(buf); /* it may have come from a lendable queue: the safe way costs nothing here */
		return NULL;
	}
	c->buf = buf;
	c->held = malloc_usable_size(buf);
	c->start = start;
	c->size = size;
	c->entries = entries;
	c->state = FWD_CHUNK_QUEUED;
	if (id) {
		c->has_id = true;
		strncpy(c->id, id, FWD_CHUNK_ID_LEN);
		c->id[FWD_CHUNK_ID_LEN] = '\0';
	}
	return c;
}

void fwd_queue_lendable(struct fwd_queue *q)
{
	q->lendable = true;
}

void fwd_queue_let_go(struct fwd_queue *q, uint8_t *buf)
{
	struct fwd_kept k;
	size_t small = 0;

	if (!q->lendable || !buf) {
		free(buf);
		return;
	}
	k = (struct fwd_kept){buf, malloc_usable_size(buf)};
	if (q->nkept < FWD_QUEUE_KEEP) {
		q->kept[q->nkept++] = k;
		return;
	}
	for (size_t i = 1; i < q->nkept; i++)
		if (q->kept[i].cap < q->kept[small].cap)
			small = i;
	if (q->kept[small].cap >= k.cap) {
		fwd_lent_free(buf);
		return;
	}
	fwd_lent_free(q->kept[small].buf);
	q->kept[small] = k;
}

uint8_t *fwd_queue_reuse(struct fwd_queue *q, size_t want, size_t *cap)
{
	/* the last kept first: the likeliest to be in the caches */
	for (size_t i = q->nkept; i-- > 0;) {
		struct fwd_kept k = q->kept[i];

		if (k.cap < want || k.cap / 4 > want)
			continue;
		q->reused = true;
		*cap = k.cap;
		q->nkept--;
		memmove(&q->kept[i], &q->kept[i + 1], (q->nkept - i) * sizeof(q->kept[0]));
		return k.buf;
	}
	return NULL;
}

bool fwd_queue_reused_since(struct fwd_queue *q)
{
	bool r = q->reused;

	q->reused = false;
	return r;
}

void fwd_queue_release_kept(struct fwd_queue *q)
{
	while (q->nkept)
		fwd_lent_free(q->kept[--q->nkept].buf);
}

static void chunk_free(struct fwd_queue *q, struct fwd_chunk *c)
{
	fwd_queue_let_go(q, c->buf);
	free(c);
}

static void unlink_chunk(struct fwd_queue *q, struct fwd_chunk *c)
{
	struct fwd_chunk **pp = &q->head, *prev = NULL;

	while (*pp && *pp != c) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = c->next;
	if (q->tail == c)
		q->tail = prev;
	q->bytes -= fwd_chunk_bytes(c);
	q->count--;
	c->next = NULL;
}

void fwd_queue_remove(struct fwd_queue *q, struct fwd_chunk *c)
{
	unlink_chunk(q, c);
	chunk_free(q, c);
}

size_t fwd_chunk_bytes(const struct fwd_chunk *c)
{
	return c->held;
}

bool fwd_queue_fits(const struct fwd_queue *q, size_t bytes)
{
	return q->bytes + bytes <= q->limit;
}

/* The oldest chunk that may be dropped: one not on the wire, whose ack cannot be coming. */
static struct fwd_chunk *victim(struct fwd_queue *q)
{
	for (struct fwd_chunk *c = q->head; c; c = c->next)
		if (c->state == FWD_CHUNK_QUEUED)
			return c;
	return NULL;
}

static void drop(struct fwd_queue *q, uint64_t entries)
{
	q->dropped_chunks++;
	q->dropped_entries += entries;
}

uint64_t fwd_queue_push(struct fwd_queue *q, struct fwd_chunk *c, bool *taken)
{
	size_t need = fwd_chunk_bytes(c);
	uint64_t dropped = 0;
	struct fwd_chunk *v;

	while (q->count && q->bytes + need > q->limit && (v = victim(q))) {
		dropped += v->entries;
		drop(q, v->entries);
		fwd_queue_remove(q, v);
	}
	if (q->count && q->bytes + need > q->limit) {
		dropped += c->entries;
		drop(q, c->entries);
		chunk_free(q, c);
		if (taken)
			*taken = false;
		return dropped;
	}
	c->next = NULL;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->bytes += need;
	q->count++;
	if (taken)
		*taken = true;
	return dropped;
}

struct fwd_chunk *fwd_queue_first(const struct fwd_queue *q, enum fwd_chunk_state state)
{
	for (struct fwd_chunk *c = q->head; c; c = c->next)
		if (c->state == state)
			return c;
	return NULL;
}

void fwd_queue_requeue(struct fwd_queue *q)
{
	for (struct fwd_chunk *c = q->head; c; c = c->next)
		c->state = FWD_CHUNK_QUEUED;
}

uint64_t fwd_queue_clear(struct fwd_queue *q)
{
	uint64_t dropped = 0;

	while (q->head) {
		struct fwd_chunk *c = q->head;

		dropped += c->entries;
		drop(q, c->entries);
		fwd_queue_remove(q, c);
	}
	return dropped;
}
