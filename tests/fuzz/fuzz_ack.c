/*
 * fuzz_ack.c: any bytes as a receiver's replies, parsed as the client does:
 * ack after ack from the start, each within the bytes given and the bound, a
 * prefix of one ack always "need more".
 */
#include <string.h>

#include "fuzz.h"
#include "reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy: a read past the end is an ASan report */
	uint8_t *b = malloc(size ? size : 1);
	size_t at = 0;
	int r;

	FUZZ_CHECK(b, "malloc");
	memcpy(b, data, size);
	while (at < size) {
		const char *id = NULL;
		size_t idlen = 0, left = size - at;

		r = fwd_reply_ack(b + at, left, &id, &idlen);
		FUZZ_CHECK(r >= -1, "returned %d", r);
		if (r <= 0)
			break;
		FUZZ_CHECK((size_t)r <= left && (size_t)r <= FWD_REPLY_MAX, "took %d of %zu", r, left);
		FUZZ_CHECK(id >= (const char *)b + at && id + idlen == (const char *)b + at + r, "id outside the ack");
		FUZZ_CHECK(idlen <= FWD_REPLY_MAX, "id of %zu", idlen);
		/* the same ack cut short is never taken, nor refused */
		for (size_t cut = 0; cut < (size_t)r; cut++)
			FUZZ_CHECK(fwd_reply_ack(b + at, cut, &id, &idlen) == 0, "prefix of %zu of %d", cut, r);
		at += (size_t)r;
	}
	free(b);
	return 0;
}
