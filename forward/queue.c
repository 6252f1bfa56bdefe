/* queue.c: a FIFO of frames bounded in bytes, dropping the oldest that is not in a write when full. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"
#include "splice.h"

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
		free(buf);
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

void fwd_chunk_free(struct fwd_chunk *c)
{
	if (!c)
		return;
	if (c->lent_to_closed)
		fwd_splice_forget(c->buf + c->start, c->size);
	free(c->buf);
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
	fwd_chunk_free(c);
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
		fwd_chunk_free(c);
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
	for (struct fwd_chunk *c = q->head; c; c = c->next) {
		c->state = FWD_CHUNK_QUEUED;
		c->lent_to_closed |= c->lent;
		c->lent = false;
	}
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
