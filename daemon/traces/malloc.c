/* traces/malloc.c: the malloc trace: libc's allocator calls in every process, through uprobes. */
#include <stdio.h>

/* events.h first: the skeleton names its structs */
#include "events.h"
#include "malloc.skel.h"
#include "schema_pack.h"
#include "trace_unit.h"
#include "uprobe.h"

static const struct schema_name ops[] = {NAME("malloc"), NAME("free"), NAME("calloc"), NAME("realloc"), NAME("realloc_free"), NAME("mmap"), NAME("munmap")};

static const struct schema_field fields[] = {
	F("operation", SF_S32, struct ev_malloc, operation),
	F("address", SF_U64, struct ev_malloc, address),
	F("size", SF_U64, struct ev_malloc, size),
	FN("operation_name", struct ev_malloc, operation, ops),
};

SCHEMA_DEFINE(malloc_type, EV_MALLOC, "malloc", struct ev_malloc, fields);

static const struct uprobe_spec probes[] = {
	{"malloc_malloc_enter", "malloc", false},
	{"malloc_malloc_exit", "malloc", true},
	{"malloc_free_enter", "free", false},
	{"malloc_calloc_enter", "calloc", false},
	{"malloc_calloc_exit", "calloc", true},
	{"malloc_realloc_enter", "realloc", false},
	{"malloc_realloc_exit", "realloc", true},
	{"malloc_mmap_enter", "mmap", false},
	{"malloc_mmap_exit", "mmap", true},
	{"malloc_munmap_enter", "munmap", false},
};

/* The uprobes go on the libc of Libc_Path, else on the one the system's loader picks. */
static int attach(struct bpf_object *obj, const struct trace_opts *o, struct trace_links *links,
		  char *err, size_t errlen)
{
	char libc[TRACE_PATH_MAX];

	if (o->libc_path[0])
		snprintf(libc, sizeof(libc), "%s", o->libc_path);
	else if (uprobe_find_libc(libc, sizeof(libc), err, errlen))
		return -1;
	return uprobe_attach(obj, libc, probes, SCHEMA_LEN(probes), links, err, errlen);
}

const struct trace_unit trace_unit_malloc = {
	.name = "malloc",
	.description = "libc malloc, free, calloc, realloc, mmap, munmap in every process (heavy)",
	.attach_points = "uprobe+uretprobe on malloc, free, calloc, realloc, mmap, munmap of the system libc",
	.elf_bytes = malloc_bpf__elf_bytes,
	.types = (const struct schema_type *const[]){&malloc_type, NULL},
	.heavy = true,
	.attach = attach,
};
