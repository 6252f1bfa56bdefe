/* reply.c: a receiver's ack, from bytes: bounded, and never reads past what it was given. */
#include <string.h>

#include "reply.h"

int fwd_reply_ack(const uint8_t *b, size_t n, const char **id, size_t *idlen)
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
	if (off + len > FWD_REPLY_MAX)
		return -1;
	if (n < off + len)
		return 0;
	*id = (const char *)b + off;
	*idlen = len;
	return (int)(off + len);
}
