/* schema_values.c: the record values too rare or too long to inline in each type's packer (schema_pack.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cmdline.h"
#include "container.h"
#include "dns_wire.h"
#include "schema_values.h"
#include "strsafe.h"

static uint16_t ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

size_t schema_put_ipaddr(uint8_t *o, const uint8_t *ev, unsigned family_off, unsigned addr_off)
{
	char buf[INET6_ADDRSTRLEN];
	uint16_t family = ld16(ev + family_off);
	int af = family == AF_INET6 ? AF_INET6 : AF_INET;

	if ((family != AF_INET && family != AF_INET6) || !inet_ntop(af, ev + addr_off, buf, sizeof(buf)))
		buf[0] = '\0';
	return mp_put_str(o, buf, strlen(buf));
}

size_t schema_put_proto(uint8_t *o, uint16_t proto)
{
	char buf[8];

	switch (proto) {
	case IPPROTO_TCP: return mp_put_str(o, "tcp", 3);
	case IPPROTO_UDP: return mp_put_str(o, "udp", 3);
	case IPPROTO_SCTP: return mp_put_str(o, "sctp", 4);
	case IPPROTO_ICMP: return mp_put_str(o, "icmp", 4);
	case IPPROTO_ICMPV6: return mp_put_str(o, "icmpv6", 6);
	case IPPROTO_RAW: return mp_put_str(o, "raw", 3);
	default: return mp_put_str(o, buf, (size_t)snprintf(buf, sizeof(buf), "%u", proto));
	}
}

/*
 * The args key: the arguments joined (cmdline_join) into a buffer of the
 * packer's own, then escaped like any string. The packer runs on one
 * thread, the pipeline's.
 */
size_t schema_put_args(uint8_t *o, const uint8_t *ev, struct ev_str s)
{
	static uint8_t line[CMDLINE_MAX(EV_MAX_SIZE)];

	return strsafe_put(o, line, cmdline_join(line, ev + s.off, s.len));
}

size_t schema_put_dns_qname(uint8_t *o, const uint8_t *ev, struct ev_str s)
{
	struct dns_wire_question q;

	if (dns_wire_question(ev + s.off, s.len, &q))
		return mp_put_str(o, "<unknown>", 9);
	return mp_put_str(o, q.name, q.name_len);
}

size_t schema_put_container(uint8_t *o, uint64_t cgroup_id, uint64_t ts_ns)
{
	size_t n;
	const char *id = container_of(cgroup_id, ts_ns, &n);

	return mp_put_str(o, id, n);
}

enum schema_error schema_bad(const char **where, const char *key, enum schema_error e)
{
	*where = key;
	return e;
}
