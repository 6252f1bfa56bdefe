/* trace_malloc.h: finding the libc the system uses and attaching the malloc trace's uprobes to it. */
#ifndef EBPF_FORWARD_TRACE_MALLOC_H
#define EBPF_FORWARD_TRACE_MALLOC_H

#include <stddef.h>

struct malloc_bpf;

/*
 * Writes into out the resolved path of the libc.so.6 this process has loaded,
 * which is the one the system's ld.so configuration selects. Returns 0, or -1
 * with a message in err.
 */
int malloc_find_libc(char *out, size_t len, char *err, size_t errlen);

/*
 * Attaches every program of the loaded skeleton to its function in libc_path,
 * for all processes. The links are kept in skel->links, so malloc_bpf__destroy
 * detaches them, also after a failure half way. Returns 0, or -1 with a
 * message naming the function and the path in err.
 */
int malloc_attach(struct malloc_bpf *skel, const char *libc_path, char *err, size_t errlen);

#endif
