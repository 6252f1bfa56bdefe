/* uprobe.c: which libc the system uses, and a table of uprobes attached to a library by function name. */
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "uprobe.h"

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
int uprobe_find_libc(char *out, size_t len, char *err, size_t errlen)
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

int uprobe_attach(struct bpf_object *obj, const char *path, const struct uprobe_spec *specs, size_t n,
		  struct trace_links *links, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = specs[i].func, .retprobe = specs[i].ret);
		struct bpf_program *prog = bpf_object__find_program_by_name(obj, specs[i].prog);
		struct bpf_link *link;

		if (!prog) {
			snprintf(err, errlen, "the object has no program %s", specs[i].prog);
			return -1;
		}
		/* pid -1: every process that maps this file; offset 0: libbpf finds func_name's. */
		link = bpf_program__attach_uprobe_opts(prog, -1, path, 0, &opts);
		if (!link || trace_links_add(links, link)) {
			int e = link ? ENOMEM : errno;

			bpf_link__destroy(link);
			snprintf(err, errlen, "cannot attach %s to %s in %s: %s",
				 specs[i].ret ? "a uretprobe" : "a uprobe", specs[i].func, path, strerror(e));
			return -1;
		}
	}
	return 0;
}
