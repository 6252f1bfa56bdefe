/* trace_malloc.c: the malloc trace's run-time half: which libc to probe, and its uprobes attached by function name. */
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

/* The skeleton's .bss type (the loss counter slots) is defined in events.h. */
#include "events.h"
#include "malloc.skel.h"
#include "trace_malloc.h"

struct libc_search {
	char name[PATH_MAX];
	bool found;
};

static int libc_visit(struct dl_phdr_info *info, size_t size, void *data)
{
	struct libc_search *s = data;
	const char *base;

	(void)size;
	if (!info->dlpi_name || !info->dlpi_name[0])
		return 0; /* the main program */
	base = strrchr(info->dlpi_name, '/');
	base = base ? base + 1 : info->dlpi_name;
	if (strncmp(base, "libc.so", 7) != 0)
		return 0;
	snprintf(s->name, sizeof(s->name), "%s", info->dlpi_name);
	s->found = true;
	return 1;
}

/*
 * The dynamic loader has already resolved libc for this process through the
 * system's ld.so configuration, so asking it gives the library every other
 * dynamically linked program on the system gets, without hard-coding a
 * multiarch directory at build time.
 */
int malloc_find_libc(char *out, size_t len, char *err, size_t errlen)
{
	struct libc_search s = {.found = false};
	char real[PATH_MAX];

	dl_iterate_phdr(libc_visit, &s);
	if (!s.found) {
		snprintf(err, errlen, "no libc.so is loaded in this process (static build?): "
			 "set Libc_Path to the libc to trace");
		return -1;
	}
	/* A uprobe is attached to an inode: resolve symlinks so logs name the real file. */
	if (!realpath(s.name, real)) {
		snprintf(err, errlen, "cannot resolve the libc path %s: %s", s.name, strerror(errno));
		return -1;
	}
	if (strlen(real) >= len) {
		snprintf(err, errlen, "the libc path %s is longer than %zu bytes", real, len - 1);
		return -1;
	}
	memcpy(out, real, strlen(real) + 1);
	return 0;
}

int malloc_attach(struct malloc_bpf *skel, const char *libc_path, char *err, size_t errlen)
{
	const struct {
		struct bpf_program *prog;
		struct bpf_link **link;
		const char *func;
		bool retprobe;
	} probes[] = {
		{skel->progs.malloc_malloc_enter, &skel->links.malloc_malloc_enter, "malloc", false},
		{skel->progs.malloc_malloc_exit, &skel->links.malloc_malloc_exit, "malloc", true},
		{skel->progs.malloc_free_enter, &skel->links.malloc_free_enter, "free", false},
		{skel->progs.malloc_calloc_enter, &skel->links.malloc_calloc_enter, "calloc", false},
		{skel->progs.malloc_calloc_exit, &skel->links.malloc_calloc_exit, "calloc", true},
		{skel->progs.malloc_realloc_enter, &skel->links.malloc_realloc_enter, "realloc", false},
		{skel->progs.malloc_realloc_exit, &skel->links.malloc_realloc_exit, "realloc", true},
		{skel->progs.malloc_mmap_enter, &skel->links.malloc_mmap_enter, "mmap", false},
		{skel->progs.malloc_mmap_exit, &skel->links.malloc_mmap_exit, "mmap", true},
		{skel->progs.malloc_munmap_enter, &skel->links.malloc_munmap_enter, "munmap", false},
	};
	size_t i;

	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = probes[i].func, .retprobe = probes[i].retprobe);
		struct bpf_link *link;

		/* pid -1: every process that maps this file; offset 0: libbpf finds func_name's. */
		link = bpf_program__attach_uprobe_opts(probes[i].prog, -1, libc_path, 0, &opts);
		if (!link) {
			int e = errno;

			snprintf(err, errlen, "cannot attach %s to %s in %s: %s",
				 probes[i].retprobe ? "a uretprobe" : "a uprobe", probes[i].func, libc_path,
				 strerror(e));
			return -1;
		}
		*probes[i].link = link;
	}
	return 0;
}
