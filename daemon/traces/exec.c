/* traces/exec.c: the exec trace: process executions, at entry and exit. */
/* events.h first: the skeleton names its structs */
#include "events.h"
#include "exec.skel.h"
#include "schema_pack.h"
#include "trace_unit.h"

static const struct schema_name stages[] = {NAME("enter"), NAME("exit")};

static const struct schema_field fields[] = {
	FN("stage", struct ev_exec, stage, stages),
	F("ppid", SF_U32, struct ev_exec, h.ppid),
	F("filename", SF_STR, struct ev_exec, filename),
	F("argv", SF_STR, struct ev_exec, argv0),
	F("argv1", SF_STR, struct ev_exec, argv1),
	F("argv2", SF_STR, struct ev_exec, argv2),
	F("argv_last", SF_STR, struct ev_exec, argv_last),
	F("argc", SF_U32, struct ev_exec, argc),
	F("error_raw", SF_S32, struct ev_exec, error_raw),
	F("path_truncated", SF_BOOL, struct ev_exec, path_truncated),
	F("args_truncated", SF_BOOL, struct ev_exec, args_truncated),
	F("args", SF_ARGS, struct ev_exec, args),
};

SCHEMA_DEFINE(execve, EV_EXEC, "execve", struct ev_exec, fields);

const struct trace_unit trace_unit_exec = {
	.name = "exec",
	.description = "process executions (execve, execveat), at entry and exit",
	.attach_points = "tracepoint syscalls:sys_{enter,exit}_execve, syscalls:sys_{enter,exit}_execveat, "
			 "tp_btf sched_process_exec",
	.elf_bytes = exec_bpf__elf_bytes,
	.types = (const struct schema_type *const[]){&execve, NULL},
};
