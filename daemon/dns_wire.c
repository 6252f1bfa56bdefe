/* dns_wire.c: DNS message bytes to a header, a first question and escaped names, every read bounds-checked. */
#include <string.h>

#include "dns_wire.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int dns_wire_header(const uint8_t *msg, size_t len, struct dns_wire_header *h)
{
	if (len < DNS_WIRE_HDR_LEN)
		return DNS_WIRE_TRUNCATED;
	h->id = be16(msg);
	h->flags = be16(msg + 2);
	h->qdcount = be16(msg + 4);
	h->ancount = be16(msg + 6);
	h->nscount = be16(msg + 8);
	h->arcount = be16(msg + 10);
	return DNS_WIRE_OK;
}

/* Appends one label byte, escaped; -1 when it does not fit (with the NUL). */
static int put_byte(char *text, size_t cap, size_t *t, uint8_t b)
{
	static const char hex[] = "0123456789abcdef";
	size_t need = (b == '.' || b == '\\') ? 2 : (b < 0x21 || b > 0x7e) ? 4 : 1;

	if (*t + need >= cap)
		return -1;
	if (need == 2) {
		text[(*t)++] = '\\';
	} else if (need == 4) {
		text[(*t)++] = '\\';
		text[(*t)++] = 'x';
		text[(*t)++] = hex[b >> 4];
		b = (uint8_t)hex[b & 0xf];
	}
	text[(*t)++] = (char)b;
	return 0;
}

int dns_wire_name(const uint8_t *msg, size_t len, size_t *off, char *text, size_t cap,
		  size_t *text_len)
{
	size_t pos = *off, seg = *off; /* seg: where the part being read starts */
	size_t wire = 0, t = 0, end = 0;
	unsigned jumps = 0;

	if (cap < 2)
		return DNS_WIRE_NO_ROOM;
	for (;;) {
		uint8_t c;

		if (pos >= len)
			return DNS_WIRE_TRUNCATED;
		c = msg[pos];
		if (c == 0) {
			if (wire + 1 > DNS_WIRE_NAME_MAX)
				return DNS_WIRE_TOO_LONG;
			if (!end)
				end = pos + 1;
			break;
		}
		if ((c & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len)
				return DNS_WIRE_TRUNCATED;
			target = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
			if (target > pos || target >= len)
				return DNS_WIRE_BAD_POINTER;
			/* into the part it is read from: it would read itself again */
			if (target >= seg)
				return DNS_WIRE_LOOP;
			if (++jumps > DNS_WIRE_JUMPS_MAX)
				return DNS_WIRE_LOOP;
			if (!end)
				end = pos + 2;
			pos = seg = target;
			continue;
		}
		if (c & 0xc0)
			return DNS_WIRE_BAD_LABEL;
		/* this label, and at least the root after it */
		wire += 1u + c;
		if (wire + 1 > DNS_WIRE_NAME_MAX)
			return DNS_WIRE_TOO_LONG;
		if (pos + 1 + c > len)
			return DNS_WIRE_TRUNCATED;
		if (t) {
			if (t + 1 >= cap)
				return DNS_WIRE_NO_ROOM;
			text[t++] = '.';
		}
		for (size_t i = 0; i < c; i++)
			if (put_byte(text, cap, &t, msg[pos + 1 + i]))
				return DNS_WIRE_NO_ROOM;
		pos += 1u + c;
	}
	if (t == 0)
		text[t++] = '.';
	text[t] = '\0';
	*text_len = t;
	*off = end;
	return DNS_WIRE_OK;
}

int dns_wire_question(const uint8_t *msg, size_t len, struct dns_wire_question *q)
{
	struct dns_wire_header h;
	size_t off = DNS_WIRE_HDR_LEN;
	int e = dns_wire_header(msg, len, &h);

	if (e)
		return e;
	if (!h.qdcount)
		return DNS_WIRE_NO_QUESTION;
	e = dns_wire_name(msg, len, &off, q->name, sizeof(q->name), &q->name_len);
	if (e)
		return e;
	if (off + 4 > len)
		return DNS_WIRE_TRUNCATED;
	q->qtype = be16(msg + off);
	q->qclass = be16(msg + off + 2);
	return DNS_WIRE_OK;
}

uint64_t dns_wire_num(const uint8_t *msg, size_t len, unsigned which)
{
	struct dns_wire_header h;
	struct dns_wire_question q;

	if (dns_wire_header(msg, len, &h))
		return 0;
	switch (which) {
	case DNS_WIRE_QTYPE: return dns_wire_question(msg, len, &q) ? 0 : q.qtype;
	case DNS_WIRE_RCODE: return DNS_WIRE_RCODE(h.flags);
	case DNS_WIRE_ANCOUNT: return h.ancount;
	}
	return 0;
}

const char *dns_wire_strerror(int e)
{
	switch (e) {
	case DNS_WIRE_OK: return "ok";
	case DNS_WIRE_TRUNCATED: return "truncated";
	case DNS_WIRE_BAD_LABEL: return "bad label type";
	case DNS_WIRE_BAD_POINTER: return "compression pointer forward or past the end";
	case DNS_WIRE_LOOP: return "compression pointer loop";
	case DNS_WIRE_TOO_LONG: return "name longer than 255 bytes";
	case DNS_WIRE_NO_QUESTION: return "no question";
	case DNS_WIRE_NO_ROOM: return "no room for the name";
	}
	return "?";
}
