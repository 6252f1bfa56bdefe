/* traces/dns.c: the dns trace: DNS queries and responses over UDP port 53, decoded here from the message bytes. */
/* events.h first: the skeleton names its structs */
#include "events.h"
#include "dns.skel.h"
#include "dns_wire.h"
#include "schema_pack.h"
#include "trace_unit.h"

static const struct schema_name syscalls[] = {NAME("sendto"), NAME("sendmsg"), NAME("sendmmsg"), NAME("write"),
				       NAME("recvfrom"), NAME("recvmsg"), NAME("recvmmsg"), NAME("read")};

static const struct schema_field fields[] = {
	FDNS("query", SF_DNS_QNAME, 0, struct ev_dns, msg),
	FDNS("query_type", SF_DNS_NUM, DNS_WIRE_QTYPE, struct ev_dns, msg),
	F("txid", SF_U16, struct ev_dns, txid),
	F("response", SF_U16, struct ev_dns, response),
	FDNS("rcode", SF_DNS_NUM, DNS_WIRE_RCODE, struct ev_dns, msg),
	F("latency_ns", SF_U64, struct ev_dns, latency_ns),
	F("error_raw", SF_S32, struct ev_dns, error_raw),
	F("matched", SF_BOOL, struct ev_dns, matched),
	FDNS("answers", SF_DNS_NUM, DNS_WIRE_ANCOUNT, struct ev_dns, msg),
	FADDR("server", struct ev_dns, family, addr),
	F("server_port", SF_U16, struct ev_dns, port),
	FN("syscall", struct ev_dns, syscall, syscalls),
	F("fd", SF_S32, struct ev_dns, fd),
	F("msg_len", SF_U32, struct ev_dns, msg_len),
};

SCHEMA_DEFINE(dns, EV_DNS, "dns", struct ev_dns, fields);

const struct trace_unit trace_unit_dns = {
	.name = "dns",
	.description = "DNS queries and responses over UDP port 53, matched, with name, type, rcode and latency",
	.attach_points = "tracepoint syscalls:sys_exit_{connect,close,sendto,sendmsg,sendmmsg,write,"
			 "recvfrom,recvmsg,recvmmsg,read}",
	.elf_bytes = dns_bpf__elf_bytes,
	.types = (const struct schema_type *const[]){&dns, NULL},
};
