/* traces/signal.c: the signal trace: signals sent with kill, tkill and tgkill. */
/* events.h first: the skeleton names its structs */
#include "events.h"
#include "signal.skel.h"
#include "schema_pack.h"
#include "trace_unit.h"

static const struct schema_name syscalls[] = {NAME("kill"), NAME("tkill"), NAME("tgkill")};

static const struct schema_field fields[] = {
	F("signal", SF_S32, struct ev_signal, sig),
	F("tpid", SF_U32, struct ev_signal, tpid),
	F("error_raw", SF_S32, struct ev_signal, error_raw),
	FN("syscall", struct ev_signal, syscall, syscalls),
	F("target", SF_S32, struct ev_signal, target),
};

SCHEMA_DEFINE(signal_type, EV_SIGNAL, "signal", struct ev_signal, fields);

const struct trace_unit trace_unit_signal = {
	.name = "signal",
	.description = "signals sent with kill, tkill and tgkill",
	.attach_points = "tracepoint syscalls:sys_{enter,exit}_{kill,tkill,tgkill}",
	.elf_bytes = signal_bpf__elf_bytes,
	.types = (const struct schema_type *const[]){&signal_type, NULL},
};
