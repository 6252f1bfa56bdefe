/* traces/bind.c: the bind trace: IPv4 and IPv6 socket binds. */
/* events.h first: the skeleton names its structs */
#include "events.h"
#include "bind.skel.h"
#include "schema_pack.h"
#include "trace_unit.h"

static const struct schema_field fields[] = {
	F("uid", SF_U32, struct ev_bind, h.uid),
	F("gid", SF_U32, struct ev_bind, h.gid),
	F("error_raw", SF_S32, struct ev_bind, error_raw),
	F("port", SF_U16, struct ev_bind, port),
	F("bound_dev_if", SF_U32, struct ev_bind, bound_dev_if),
	FADDR("addr", struct ev_bind, family, addr),
	F("protocol", SF_PROTO, struct ev_bind, protocol),
	F("bound_port", SF_U16, struct ev_bind, bound_port),
};

SCHEMA_DEFINE(bind_type, EV_BIND, "bind", struct ev_bind, fields);

const struct trace_unit trace_unit_bind = {
	.name = "bind",
	.description = "IPv4 and IPv6 socket binds with address, port, protocol and result",
	.attach_points = "tracepoint syscalls:sys_{enter,exit}_bind",
	.elf_bytes = bind_bpf__elf_bytes,
	.types = (const struct schema_type *const[]){&bind_type, NULL},
};
