/* tracefs.h: make sure tracefs is mounted, since libbpf reads tracepoint ids from it. */
#ifndef EBPF_FORWARD_TRACEFS_H
#define EBPF_FORWARD_TRACEFS_H

#include <stddef.h>

/* 0 if it was there, 1 if this call mounted it, -1 with a message in err. */
int tracefs_ensure(char *err, size_t errlen);

#endif
