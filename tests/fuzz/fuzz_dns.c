/*
 * fuzz_dns.c: any bytes as a DNS message: the first question, and a name at
 * each of the first offsets, into text buffers of exactly the size given (the
 * full one, and one as small as the first byte says), so every write is
 * bounds-checked by ASan. A name decoded is printable ASCII of its length,
 * and its end is inside the message.
 */
#include <string.h>

#include "dns_wire.h"
#include "fuzz.h"

static void check_text(const char *text, size_t cap, size_t len)
{
	FUZZ_CHECK(len > 0 && len < cap && text[len] == '\0' && strlen(text) == len, "text of %zu in %zu", len, cap);
	for (size_t i = 0; i < len; i++)
		FUZZ_CHECK(text[i] >= 0x21 && text[i] <= 0x7e, "byte %#x at %zu", (unsigned)(uint8_t)text[i], i);
}

static void name_at(const uint8_t *msg, size_t len, size_t start, size_t cap)
{
	char *text = malloc(cap ? cap : 1);
	size_t off = start, tlen = 0;
	int e;

	FUZZ_CHECK(text, "malloc");
	e = dns_wire_name(msg, len, &off, text, cap, &tlen);
	FUZZ_CHECK(e >= DNS_WIRE_OK && e <= DNS_WIRE_NO_ROOM, "error %d", e);
	FUZZ_CHECK(strcmp(dns_wire_strerror(e), "?") != 0, "error %d has no message", e);
	if (e == DNS_WIRE_OK) {
		check_text(text, cap, tlen);
		FUZZ_CHECK(tlen < DNS_WIRE_TEXT_MAX, "text of %zu", tlen);
		FUZZ_CHECK(off > start && off <= len, "end %zu from %zu in %zu", off, start, len);
	} else {
		FUZZ_CHECK(off == start, "moved on error %d", e);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *msg = malloc(size ? size : 1);
	struct dns_wire_question q;
	struct dns_wire_header h;
	int e;

	FUZZ_CHECK(msg, "malloc");
	memcpy(msg, data, size);
	e = dns_wire_header(msg, size, &h);
	FUZZ_CHECK(e == (size < DNS_WIRE_HDR_LEN ? DNS_WIRE_TRUNCATED : DNS_WIRE_OK), "header %d", e);
	e = dns_wire_question(msg, size, &q);
	if (e == DNS_WIRE_OK) {
		check_text(q.name, sizeof(q.name), q.name_len);
		FUZZ_CHECK(dns_wire_num(msg, size, DNS_WIRE_QTYPE) == q.qtype, "qtype");
	} else {
		FUZZ_CHECK(dns_wire_num(msg, size, DNS_WIRE_QTYPE) == 0, "qtype of a bad question");
	}
	(void)dns_wire_num(msg, size, DNS_WIRE_RCODE);
	(void)dns_wire_num(msg, size, DNS_WIRE_ANCOUNT);
	(void)dns_wire_num(msg, size, 99);
	for (size_t off = 0; off < size && off < 64; off++)
		name_at(msg, size, off, DNS_WIRE_TEXT_MAX);
	if (size)
		name_at(msg, size, DNS_WIRE_HDR_LEN < size ? DNS_WIRE_HDR_LEN : 0, msg[0]);
	free(msg);
	return 0;
}
