/* traces/vfs.c: the vfs trace: file opens (open, openat, openat2, creat) with path, flags, mode and result. */
/* events.h first: the skeleton names its structs */
#include "events.h"
#include "vfs.skel.h"
#include "schema_pack.h"
#include "trace_unit.h"

/* By enum ev_vfs_op: 0 is in_ebpf's openat. */
static const struct schema_name ops[] = {NAME("openat"), NAME("open"), NAME("openat2"), NAME("creat")};

static const struct schema_field fields[] = {
	F("operation", SF_S32, struct ev_vfs, operation),
	F("path", SF_STR, struct ev_vfs, path),
	F("flags", SF_U32, struct ev_vfs, flags),
	F("mode", SF_U32, struct ev_vfs, mode),
	F("fd", SF_S32, struct ev_vfs, fd),
	F("error_raw", SF_S32, struct ev_vfs, error_raw),
	FN("operation_name", struct ev_vfs, operation, ops),
	F("path_truncated", SF_BOOL, struct ev_vfs, path_truncated),
	F("resolve", SF_U64, struct ev_vfs, resolve),
	F("resolved_path", SF_STR, struct ev_vfs, resolved_path),
	F("resolved_truncated", SF_BOOL, struct ev_vfs, resolved_truncated),
};

SCHEMA_DEFINE(vfs, EV_VFS, "vfs", struct ev_vfs, fields);

const struct trace_unit trace_unit_vfs = {
	.name = "vfs",
	.description = "file opens (open, openat, openat2, creat) with path, flags, mode and result",
	.attach_points = "tracepoint syscalls:sys_exit_{open,openat,openat2,creat} (arguments from the saved "
			 "registers; open and creat on x86 only)",
	.elf_bytes = vfs_bpf__elf_bytes,
	.types = (const struct schema_type *const[]){&vfs, NULL},
};
