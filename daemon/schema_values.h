/* schema_values.h: the out-of-line value writers of the packer (addresses, protocols, args, DNS names, containers). */
#ifndef EBPF_FORWARD_SCHEMA_VALUES_H
#define EBPF_FORWARD_SCHEMA_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "fields.h"

/* Each writes one msgpack value at o and returns its bytes (room: the packer's SCHEMA_FIELD_MAX, or the string's). */
size_t schema_put_ipaddr(uint8_t *o, const uint8_t *ev, unsigned family_off, unsigned addr_off);
size_t schema_put_proto(uint8_t *o, uint16_t proto);
size_t schema_put_args(uint8_t *o, const uint8_t *ev, struct ev_str s);
size_t schema_put_dns_qname(uint8_t *o, const uint8_t *ev, struct ev_str s);
size_t schema_put_container(uint8_t *o, uint64_t cgroup_id, uint64_t ts_ns);

/* A bad record: the field that is (where) and the error. */
enum schema_error schema_bad(const char **where, const char *key, enum schema_error e);

#endif
