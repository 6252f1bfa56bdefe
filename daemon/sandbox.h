/* sandbox.h: once privileges are dropped, a seccomp filter denies what the daemon never needs again. */
#ifndef EBPF_FORWARD_SANDBOX_H
#define EBPF_FORWARD_SANDBOX_H

#include <stddef.h>

/*
 * Installs the filter (no_new_privs must be set: privs_drop does). The calls it
 * denies fail with EPERM: loading or attaching BPF, perf events, ptrace and
 * reading other processes, exec, mounts and namespaces, modules, kexec, and
 * changing identity. Returns the number of calls denied, or -1 with a message.
 */
int sandbox_enter(char *err, size_t errlen);

#endif
