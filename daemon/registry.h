/* registry.h: the traces of the build's list, by name, and their record types by event type. */
#ifndef EBPF_FORWARD_REGISTRY_H
#define EBPF_FORWARD_REGISTRY_H

#include <stdint.h>

#include "trace_unit.h"

/* The trace "exec", "trace_exec", "EXEC", ...; NULL if unknown. */
const struct trace_unit *registry_find(const char *name);

/* Every trace, in the build's order, NULL-terminated. */
const struct trace_unit *const *registry_all(void);

/* The record type of an event type (enum ev_type), whichever trace emits it; NULL if none. */
const struct schema_type *registry_type(uint16_t type);

#endif
