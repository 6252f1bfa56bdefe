/* dns_wire.h: reading DNS messages as bytes: the header, the first question, names (compressed or not), bounded and escaped. */
#ifndef EBPF_FORWARD_DNS_WIRE_H
#define EBPF_FORWARD_DNS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define DNS_WIRE_HDR_LEN 12
/* Longest name on the wire, its length octets and the root's zero included (RFC 1035 3.1). */
#define DNS_WIRE_NAME_MAX 255
/*
 * Longest text of a name, NUL included: 253 label bytes escaped to 4
 * characters each and no dots is the most (1012 + 1).
 */
#define DNS_WIRE_TEXT_MAX 1024
/* Compression pointers followed in one name. */
#define DNS_WIRE_JUMPS_MAX 64

enum dns_wire_error {
	DNS_WIRE_OK = 0,
	DNS_WIRE_TRUNCATED,    /* the message ends inside the header, a name or a question */
	DNS_WIRE_BAD_LABEL,    /* a label type other than a length or a pointer (0x40, 0x80) */
	DNS_WIRE_BAD_POINTER,  /* a pointer forward, or past the end */
	DNS_WIRE_LOOP,         /* a pointer into the name it is part of, or too many */
	DNS_WIRE_TOO_LONG,     /* a name over DNS_WIRE_NAME_MAX bytes */
	DNS_WIRE_NO_QUESTION,  /* qdcount is 0 */
	DNS_WIRE_NO_ROOM,      /* the caller's text buffer is too small */
};

struct dns_wire_header {
	uint16_t id, flags, qdcount, ancount, nscount, arcount;
};

/* The header's rcode (the low 4 bits of the flags) and QR bit. */
#define DNS_WIRE_RCODE(flags) ((flags) & 0xf)
#define DNS_WIRE_QR(flags) (((flags) >> 15) & 1)

int dns_wire_header(const uint8_t *msg, size_t len, struct dns_wire_header *h);

/*
 * Decodes the name at *off into text (cap bytes, NUL-terminated), *text_len
 * its length, and moves *off past the name where it is in the message (past
 * its first pointer). Labels are joined by dots; the root alone is ".".
 * A label byte outside printable ASCII (0x21-0x7e) is written \xNN (lower
 * case hex), and a dot or backslash inside a label is written \. or \\, so
 * the text is plain ASCII and says where labels end. A pointer must point
 * before the part of the name it is read from: that rules out loops, and
 * forward pointers, whatever the bytes.
 */
int dns_wire_name(const uint8_t *msg, size_t len, size_t *off, char *text, size_t cap,
		  size_t *text_len);

struct dns_wire_question {
	char name[DNS_WIRE_TEXT_MAX];
	size_t name_len;
	uint16_t qtype, qclass;
};

/* The first question of the message. */
int dns_wire_question(const uint8_t *msg, size_t len, struct dns_wire_question *q);

/* Numbers a record takes from a message. */
enum dns_wire_num {
	DNS_WIRE_QTYPE,    /* the first question's type */
	DNS_WIRE_RCODE,    /* the header's rcode */
	DNS_WIRE_ANCOUNT,  /* the header's answer count */
};

/* The number which (enum dns_wire_num) of the message; 0 when the message does not have it. */
uint64_t dns_wire_num(const uint8_t *msg, size_t len, unsigned which);

const char *dns_wire_strerror(int e);

#endif
