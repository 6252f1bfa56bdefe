/* sandbox.h: once privileges are dropped, a seccomp filter denies what the daemon never needs again. */
#ifndef EBPF_FORWARD_SANDBOX_H
#define EBPF_FORWARD_SANDBOX_H

#include <stddef.h>

/*
 * LeakSanitizer stops the world at exit with ptrace from a task of its own:
 * the sanitizer test build keeps ptrace allowed and the process dumpable, or
 * every leak check would fail. The plain build gives both up.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_KEEP_PTRACE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_KEEP_PTRACE 1
#endif
#endif
#ifndef SANDBOX_KEEP_PTRACE
#define SANDBOX_KEEP_PTRACE 0
#endif

/*
 * Installs the filter (no_new_privs must be set: privs_drop does). The calls it
 * denies fail with EPERM: loading or attaching BPF, perf events, ptrace and
 * reading other processes, exec, mounts and namespaces, modules, kexec, and
 * changing identity. Returns the number of calls denied, or -1 with a message.
 */
int sandbox_enter(char *err, size_t errlen);

#endif
