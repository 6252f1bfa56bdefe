/* traces/tcp.c: the tcp trace: listen, accept / accept4 and connect on IPv4 and IPv6 sockets. */
/* events.h first: the skeleton names its structs */
#include "events.h"
#include "tcp.skel.h"
#include "schema_pack.h"
#include "trace_unit.h"

static const struct schema_name syscalls[] = {NAME("listen"), NAME("accept"), NAME("accept4"), NAME("connect")};

/* Our extras, after in_ebpf's keys: the socket's protocol and own address. */
#define TCP_LOCAL \
	F("protocol", SF_PROTO, struct ev_tcp, protocol), \
	FADDR("local_addr", struct ev_tcp, local_family, local_addr), \
	F("local_port", SF_U16, struct ev_tcp, local_port)

/* in_ebpf's raw address words: the network-order bytes read as host integers. */
#define TCP_ADDR_V4(KEY) F(KEY, SF_U32, struct ev_tcp, addr[0])
#define TCP_ADDR_V6(KEY) \
	F(KEY "_0", SF_U32, struct ev_tcp, addr[0]), F(KEY "_1", SF_U32, struct ev_tcp, addr[4]), \
	F(KEY "_2", SF_U32, struct ev_tcp, addr[8]), F(KEY "_3", SF_U32, struct ev_tcp, addr[12])

static const struct schema_field listen_fields[] = {
	F("fd", SF_S32, struct ev_tcp, fd),
	F("backlog", SF_S32, struct ev_tcp, backlog),
	F("error_raw", SF_S32, struct ev_tcp, error_raw),
	TCP_LOCAL,
};

#define ACCEPT_HEAD \
	F("fd", SF_S32, struct ev_tcp, fd), \
	F("new_fd", SF_S32, struct ev_tcp, new_fd), \
	F("peer_port", SF_U16, struct ev_tcp, port), \
	F("peer_version", SF_U16, struct ev_tcp, version)
#define ACCEPT_TAIL \
	F("error_raw", SF_S32, struct ev_tcp, error_raw), \
	FADDR("peer_addr", struct ev_tcp, family, addr), \
	FN("syscall", struct ev_tcp, syscall, syscalls), \
	TCP_LOCAL

static const struct schema_field accept_fields[] = {ACCEPT_HEAD, TCP_ADDR_V4("peer_addr_v4"), ACCEPT_TAIL};
static const struct schema_field accept6_fields[] = {ACCEPT_HEAD, TCP_ADDR_V6("peer_addr_v6"), ACCEPT_TAIL};

#define CONNECT_HEAD \
	F("fd", SF_S32, struct ev_tcp, fd), \
	F("remote_port", SF_U16, struct ev_tcp, port), \
	F("remote_version", SF_U16, struct ev_tcp, version)
#define CONNECT_TAIL \
	F("error_raw", SF_S32, struct ev_tcp, error_raw), \
	FADDR("remote_addr", struct ev_tcp, family, addr), \
	TCP_LOCAL

static const struct schema_field connect_fields[] = {CONNECT_HEAD, TCP_ADDR_V4("remote_addr_v4"), CONNECT_TAIL};
static const struct schema_field connect6_fields[] = {CONNECT_HEAD, TCP_ADDR_V6("remote_addr_v6"), CONNECT_TAIL};

/* One table per family, as in_ebpf's keys differ by family; the event_type is the same. */
SCHEMA_DEFINE(listen_type, EV_LISTEN, "listen", struct ev_tcp, listen_fields);
SCHEMA_DEFINE(accept_type, EV_ACCEPT, "accept", struct ev_tcp, accept_fields);
SCHEMA_DEFINE(accept6_type, EV_ACCEPT6, "accept", struct ev_tcp, accept6_fields);
SCHEMA_DEFINE(connect_type, EV_CONNECT, "connect", struct ev_tcp, connect_fields);
SCHEMA_DEFINE(connect6_type, EV_CONNECT6, "connect", struct ev_tcp, connect6_fields);

const struct trace_unit trace_unit_tcp = {
	.name = "tcp",
	.description = "listen, accept / accept4 and connect on IPv4 and IPv6 sockets, with addresses and result",
	.attach_points = "tracepoint syscalls:sys_exit_listen, syscalls:sys_exit_{accept,accept4} (arguments from the saved "
			 "registers), "
			 "syscalls:sys_{enter,exit}_connect",
	.elf_bytes = tcp_bpf__elf_bytes,
	.types = (const struct schema_type *const[]){&listen_type, &accept_type, &accept6_type, &connect_type,
						     &connect6_type, NULL},
};
