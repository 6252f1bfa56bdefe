/* traces/vfs.c: the vfs trace: file opens with path, flags, mode and result. */
/* events.h first: the skeleton names its structs */
#include "events.h"
#include "vfs.skel.h"
#include "trace_unit.h"

static const char *const ops[] = {"openat"};

static const struct schema_field fields[] = {
	F("operation", SF_S32, struct ev_vfs, operation),
	F("path", SF_STR, struct ev_vfs, path),
	F("flags", SF_U32, struct ev_vfs, flags),
	F("mode", SF_U32, struct ev_vfs, mode),
	F("fd", SF_S32, struct ev_vfs, fd),
	F("error_raw", SF_S32, struct ev_vfs, error_raw),
	FN("operation_name", struct ev_vfs, operation, ops),
};

static const struct schema_type vfs = SCHEMA_TYPE(EV_VFS, "vfs", struct ev_vfs, fields);

const struct trace_unit trace_unit_vfs = {
	.name = "vfs",
	.description = "file opens (openat) with path, flags, mode and result",
	.attach_points = "tracepoint syscalls:sys_exit_openat (arguments from the saved registers)",
	.elf_bytes = vfs_bpf__elf_bytes,
	.types = (const struct schema_type *const[]){&vfs, NULL},
};
