/* uprobe.c: which libc (or other library) the system uses, and a table of uprobes attached to a library by function name. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* A uprobe is attached to an inode: resolve symlinks so logs name the real file. */
static int real_path(const char *what, const char *path, char *out, size_t len, char *err, size_t errlen)
{
	char real[PATH_MAX];

	if (!realpath(path, real)) {
		snprintf(err, errlen, "cannot resolve the %s path %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (strlen(real) >= len) {
		snprintf(err, errlen, "the %s path %s is longer than %zu bytes", what, real, len - 1);
		return -1;
	}
	memcpy(out, real, strlen(real) + 1);
	return 0;
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

	dl_iterate_phdr(libc_visit, &s);
	if (!s.found) {
		snprintf(err, errlen, "no libc.so is loaded in this process (static build?): "
			 "set Libc_Path to the libc to trace");
		return -1;
	}
	return real_path("libc", s.name, out, len, err, errlen);
}

/*
 * Loading the soname is asking the loader itself: its answer follows
 * ld.so.cache, the hwcaps subdirectories and the default directories in its
 * own order, whatever the cache's format, so it is the file every program
 * linked against the soname gets. Reading /etc/ld.so.cache here instead would
 * copy those rules (two cache formats, hwcaps priorities, the fallback when the
 * cache is stale) and drift from them. RTLD_NOLOAD cannot be used: it finds
 * only what this process has loaded already. The load happens in a child that
 * only reports the path: libssl and libcrypto are NODELETE (dlclose would leave
 * megabytes mapped here) and run their initializers, none of which then
 * touches the daemon. Called at start-up, before any thread exists, so the
 * child may use the loader.
 */
int uprobe_find_soname(const char *soname, char *out, size_t len, char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t got = 0;
	int fds[2], status;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(err, errlen, "cannot look up %s: pipe: %s", soname, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "cannot look up %s: fork: %s", soname, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		struct link_map *map = NULL;
		void *h = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);

		if (h && !dlinfo(h, RTLD_DI_LINKMAP, &map) && map && map->l_name)
			if (write(fds[1], map->l_name, strlen(map->l_name)) < 0)
				_exit(1);
		_exit(0);
	}
	close(fds[1]);
	while (got < sizeof(path) - 1) {
		ssize_t n = read(fds[0], path + got, sizeof(path) - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errlen, "cannot look up %s: waitpid: %s", soname, strerror(errno));
			return -1;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(err, errlen, "looking up %s: loading it failed (status %#x)", soname, (unsigned)status);
		return -1;
	}
	if (!got)
		return 0;
	path[got] = '\0';
	return real_path(soname, path, out, len, err, errlen) ? -1 : 1;
}

/* Attaches one program; 0, or the errno with a message (ENOENT: the library has no such function). */
static int attach_one(struct bpf_object *obj, const char *path, const struct uprobe_spec *spec,
		      struct trace_links *links, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = spec->func, .retprobe = spec->ret);
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, spec->prog);
	struct bpf_link *link;
	int e;

	if (!prog) {
		snprintf(err, errlen, "the object has no program %s", spec->prog);
		return EINVAL;
	}
	/* pid -1: every process that maps this file; offset 0: libbpf finds func_name's. */
	link = bpf_program__attach_uprobe_opts(prog, -1, path, 0, &opts);
	if (link && !trace_links_add(links, link))
		return 0;
	e = link ? ENOMEM : errno ? errno : EINVAL;
	bpf_link__destroy(link);
	snprintf(err, errlen, "cannot attach %s to %s in %s: %s", spec->ret ? "a uretprobe" : "a uprobe",
		 spec->func, path, strerror(e));
	return e;
}

int uprobe_attach(struct bpf_object *obj, const char *path, const struct uprobe_spec *specs, size_t n,
		  struct trace_links *links, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++)
		if (attach_one(obj, path, &specs[i], links, err, errlen))
			return -1;
	return 0;
}

int uprobe_attach_present(struct bpf_object *obj, const char *path, const struct uprobe_spec *specs,
			  size_t n, struct trace_links *links, char *missing, size_t missinglen,
			  char *err, size_t errlen)
{
	const char *last = NULL;
	int attached = 0;

	missing[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int e = attach_one(obj, path, &specs[i], links, err, errlen);
		size_t used = strlen(missing);

		if (!e) {
			attached++;
			continue;
		}
		if (e != ENOENT)
			return -1;
		/* a function's uprobe and uretprobe are missing together: name it once */
		if (last && !strcmp(last, specs[i].func))
			continue;
		last = specs[i].func;
		snprintf(missing + used, missinglen - used, "%s%s", used ? " " : "", last);
	}
	err[0] = '\0';
	return attached;
}
