/* uprobe.h: uprobes on a shared library found at run time, attached from a table of programs. */
#ifndef EBPF_FORWARD_UPROBE_H
#define EBPF_FORWARD_UPROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "trace_unit.h"

/* One program of the object and the library function it probes. */
struct uprobe_spec {
	const char *prog;   /* the BPF program's name */
	const char *func;   /* the symbol in the library */
	bool ret;           /* a uretprobe (at return) rather than at entry */
};

/*
 * Writes into out the resolved path of the libc.so.6 this process has loaded,
 * which is the one the system's ld.so configuration selects. Returns 0, or -1
 * with a message in err.
 */
int uprobe_find_libc(char *out, size_t len, char *err, size_t errlen);

/*
 * Writes into out the resolved path of the library the system's loader gives
 * a program asking for soname (e.g. "libssl.so.3"), asking it in a child
 * process (call it before starting threads). Returns 1, 0 when the loader
 * gives no such library, or -1 with a message in err.
 */
int uprobe_find_soname(const char *soname, char *out, size_t len, char *err, size_t errlen);

/*
 * Attaches each program of specs[0..n) to its function in the library at path,
 * for all processes, keeping the links in links (also those made before a
 * failure). Returns 0, or -1 with a message naming the function and the path.
 */
int uprobe_attach(struct bpf_object *obj, const char *path, const struct uprobe_spec *specs, size_t n,
		  struct trace_links *links, char *err, size_t errlen);

/*
 * As uprobe_attach, but a function the library does not have (an older
 * version, a stripped or custom build) is left out rather than an error: its
 * name is added to missing, space-separated ("" when none is missing; cut at
 * missinglen). Returns how many programs it attached, or -1 with a message.
 */
int uprobe_attach_present(struct bpf_object *obj, const char *path, const struct uprobe_spec *specs,
			  size_t n, struct trace_links *links, char *missing, size_t missinglen,
			  char *err, size_t errlen);

#endif
