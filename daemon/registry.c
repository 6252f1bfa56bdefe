/* registry.c: the traces of the build's list (trace_list.h), by name, and their record types. */
#include <strings.h>

#include "events.h"
#include "registry.h"
#include "trace_list.h"

#define UNIT_DECL(T) extern const struct trace_unit trace_unit_##T;
TRACE_LIST(UNIT_DECL)

#define UNIT_REF(T) &trace_unit_##T,
static const struct trace_unit *const units[] = {TRACE_LIST(UNIT_REF) NULL};

const struct trace_unit *registry_find(const char *name)
{
	if (!name)
		return NULL;
	if (strncasecmp(name, "trace_", 6) == 0)
		name += 6;
	for (size_t i = 0; units[i]; i++)
		if (strcasecmp(name, units[i]->name) == 0)
			return units[i];
	return NULL;
}

const struct trace_unit *const *registry_all(void)
{
	return units;
}

const struct schema_type *registry_type(uint16_t type)
{
	if (type >= EV_TYPE_COUNT)
		return NULL;
	for (size_t i = 0; units[i]; i++)
		for (const struct schema_type *const *t = units[i]->types; *t; t++)
			if ((*t)->type == type)
				return *t;
	return NULL;
}
