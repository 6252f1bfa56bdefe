/* self_tgid.h: the daemon's process id as BPF programs see it, for the traces' self-exclusion. */
#ifndef EBPF_FORWARD_SELF_TGID_H
#define EBPF_FORWARD_SELF_TGID_H

#include <stdint.h>

/*
 * The calling process's tgid in the initial PID namespace (what task->tgid
 * holds), which differs from getpid() when the daemon runs in a PID namespace
 * (a container without hostPID). Loads a one-shot BPF program and makes one
 * marked prctl call. Returns 0, or a negative errno when it could not tell.
 */
int self_tgid_find(uint32_t *tgid);

#endif
