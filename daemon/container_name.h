/* container_name.h: which cgroup directory names are a container's, and the container id they carry. */
#ifndef EBPF_FORWARD_CONTAINER_NAME_H
#define EBPF_FORWARD_CONTAINER_NAME_H

#include <stdbool.h>
#include <stddef.h>

/* A container id as the runtimes write it: 64 lowercase hex digits (no NUL counted). */
#define CONTAINER_ID_LEN 64

/*
 * True when the cgroup directory name (len bytes, not NUL-terminated) is a
 * container's, as containerd, CRI-O, Docker or podman name it; the id then
 * goes to out (CONTAINER_ID_LEN bytes, no NUL).
 */
bool container_name_id(const char *name, size_t len, char out[CONTAINER_ID_LEN]);

/*
 * The container of a cgroup path ("/kubepods.slice/.../cri-containerd-ID.scope/sub"):
 * the nearest component, from the end, that names one, as a task in a
 * sub-cgroup of a container's cgroup is that container's. True and the id in
 * out, or false when no component names a container.
 */
bool container_name_of_path(const char *path, char out[CONTAINER_ID_LEN]);

#endif
