/* fields.h: how an event's bytes become a record's keys: the field table types each trace fills in. */
#ifndef EBPF_FORWARD_FIELDS_H
#define EBPF_FORWARD_FIELDS_H

#include <stddef.h>
#include <stdint.h>

enum schema_kind {
	SF_U16,      /* __u16 -> uint */
	SF_U32,      /* __u32 -> uint */
	SF_U64,      /* __u64 -> uint */
	SF_S32,      /* __s32 -> int */
	SF_S64,      /* __s64 -> int */
	SF_BOOL,     /* __u8, 0 or not -> bool */
	SF_STR,      /* struct ev_str -> str, bytes after the fixed part, escaped (strsafe.h) */
	SF_COMM,     /* char[16], NUL-padded -> str without the padding, escaped */
	SF_ARGS,     /* struct ev_str, NUL-terminated arguments -> str, shell-quoted and joined (cmdline.h), escaped */
	SF_NAME,     /* __u32 index into names[] -> str */
	SF_IPADDR,   /* __u16 family at off, 16 address bytes at aux -> readable str */
	SF_PROTO,    /* __u16 IPPROTO_* -> str ("tcp", "udp", or the number) */
	SF_DNS_QNAME, /* struct ev_str, a DNS message -> str, its first question's name ("<unknown>") */
	SF_DNS_NUM,  /* struct ev_str, a DNS message -> uint, the number aux names (dns_wire_num; 0) */
	SF_CONTAINER, /* __u64 cgroup id at off, __u64 boot ns at aux -> str, its container (container_of) */
};

/* A name SF_NAME writes, its length counted by the compiler: the packer copies the slot whole. */
#define SCHEMA_NAME_MAX 31
struct schema_name {
	uint8_t len;
	char s[SCHEMA_NAME_MAX];
};
/* NAME("openat"): a name of at most SCHEMA_NAME_MAX bytes (longer ones fail to compile). */
#define NAME(S) {.len = sizeof(S) - 1 + 0 * sizeof(char[sizeof(S) - 1 <= SCHEMA_NAME_MAX ? 1 : -1]), .s = S}

struct schema_field {
	const char *key;
	enum schema_kind kind;
	uint16_t off;                 /* offset in the event */
	uint16_t aux;                 /* SF_IPADDR: offset of the address bytes; SF_DNS_NUM: which;
				       * SF_CONTAINER: offset of the event's time */
	const struct schema_name *names; /* SF_NAME: value -> name */
	uint32_t nnames;
};

struct mpbuf;

/* What a packer says of a ring record (schema_strerror has the words). */
enum schema_error {
	SCHEMA_OK = 0,
	SCHEMA_SHORT,        /* fewer bytes than an event header */
	SCHEMA_BAD_SIZE,     /* header size disagrees with the ring record size */
	SCHEMA_TOO_LARGE,    /* more than EV_MAX_SIZE bytes */
	SCHEMA_UNKNOWN_TYPE,
	SCHEMA_TOO_SMALL,    /* smaller than the type's fixed part */
	SCHEMA_BAD_STRING,   /* a string points outside the event */
	SCHEMA_NOMEM,
};


/* An event type: its in_ebpf event_type, its minimum size, the keys after the common ones, and its packer. */
struct schema_type {
	uint16_t type;                /* enum ev_type */
	const char *event_type;
	uint16_t fixed_size;          /* sizeof the event struct */
	const struct schema_field *fields;
	size_t nfields;
	/* fields compiled into one function (schema_pack.h): an enum schema_error */
	int (*pack)(struct mpbuf *out, const uint8_t *ev, size_t size, const char **where);
};

#define SCHEMA_LEN(A) (sizeof(A) / sizeof((A)[0]))

/* A field of kind KIND read from MEMBER of the event struct TYPE. */
#define F(KEY, KIND, TYPE, MEMBER) {.key = KEY, .kind = KIND, .off = offsetof(TYPE, MEMBER)}
/* A __u32 MEMBER written as the name NAMES[value] ("unknown" past the end). */
#define FN(KEY, TYPE, MEMBER, NAMES) \
	{.key = KEY, .kind = SF_NAME, .off = offsetof(TYPE, MEMBER), .names = NAMES, \
	 .nnames = SCHEMA_LEN(NAMES)}
/* A readable address from the family at FAMILY and the 16 bytes at ADDR. */
#define FADDR(KEY, TYPE, FAMILY, ADDR) \
	{.key = KEY, .kind = SF_IPADDR, .off = offsetof(TYPE, FAMILY), .aux = offsetof(TYPE, ADDR)}

/* From the DNS message in the ev_str MEMBER: its name (SF_DNS_QNAME), or the number WHICH (SF_DNS_NUM). */
#define FDNS(KEY, KIND, WHICH, TYPE, MEMBER) \
	{.key = KEY, .kind = KIND, .off = offsetof(TYPE, MEMBER), .aux = WHICH}

/* Types are defined with SCHEMA_DEFINE (schema_pack.h), which compiles their packer. */

#endif
