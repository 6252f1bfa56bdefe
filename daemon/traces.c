/* traces.c: the trace registry: name -> skeleton open/load/attach, its ring and loss counter. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "events.h"
#include "trace_malloc.h"
#include "traces.h"

#include "exec.skel.h"
#include "vfs.skel.h"
#include "signal.skel.h"
#include "bind.skel.h"
#include "malloc.skel.h"

/* Settings written into a trace's .rodata before load. */
struct trace_settings {
	__u32 self_tgid;
	__u32 filter_tgid;
	__u32 filter_uid;
	bool filter_by_cgroup;
	__u64 filter_mntns;
	char filter_comm[EV_COMM_LEN];
	__u64 wakeup_bytes;
};

/* What differs between traces; everything else is done the same way for all. */
struct trace_ops {
	struct trace_desc desc;
	void *(*open)(const struct trace_settings *s);
	int (*load)(void *skel);
	struct bpf_object *(*object)(void *skel);
	const struct ev_lost_slot *(*lost_slots)(void *skel);
	volatile __u32 *(*sleep_flag)(void *skel);
	void (*detach)(void *skel);
	void (*destroy)(void *skel);
	/* NULL: attach every program by its section name. */
	int (*attach)(void *skel, const struct trace_opts *o, char *err, size_t errlen);
};

struct trace {
	const struct trace_ops *ops;
	void *skel;
	struct bpf_link **links;
	size_t nlinks;
};

/* The per-skeleton glue: the same few lines for each generated skeleton type. */
#define TRACE_GLUE(NAME)                                                              \
	static void *NAME##_open(const struct trace_settings *s)                    \
	{                                                                             \
		struct NAME##_bpf *k = NAME##_bpf__open();                          \
		if (!k)                                                               \
			return NULL;                                                  \
		k->rodata->self_tgid = s->self_tgid;                                  \
		k->rodata->filter_tgid = s->filter_tgid;                              \
		k->rodata->filter_uid = s->filter_uid;                                \
		k->rodata->filter_by_cgroup = s->filter_by_cgroup;                    \
		k->rodata->filter_mntns = s->filter_mntns;                            \
		memcpy((void *)k->rodata->filter_comm, s->filter_comm, EV_COMM_LEN);  \
		k->rodata->wakeup_bytes = s->wakeup_bytes;                            \
		return k;                                                             \
	}                                                                             \
	static volatile __u32 *NAME##_sleep_flag(void *k)                             \
	{                                                                             \
		return &((struct NAME##_bpf *)k)->bss->reader_sleeping;               \
	}                                                                             \
	/* the skeleton's load also maps .bss, where the loss counter lives */     \
	static int NAME##_load(void *k)                                               \
	{                                                                             \
		return NAME##_bpf__load(k);                                           \
	}                                                                             \
	static struct bpf_object *NAME##_object(void *k)                              \
	{                                                                             \
		return ((struct NAME##_bpf *)k)->obj;                                 \
	}                                                                             \
	static const struct ev_lost_slot *NAME##_lost_slots(void *k)                  \
	{                                                                             \
		return ((struct NAME##_bpf *)k)->bss->lost_slots;                     \
	}                                                                             \
	static void NAME##_detach(void *k)                                            \
	{                                                                             \
		NAME##_bpf__detach(k);                                                \
	}                                                                             \
	static void NAME##_destroy(void *k)                                           \
	{                                                                             \
		NAME##_bpf__destroy(k);                                               \
	}

#define TRACE_OPS_OF(NAME) \
	.open = NAME##_open, .load = NAME##_load, .object = NAME##_object, .lost_slots = NAME##_lost_slots, \
	.sleep_flag = NAME##_sleep_flag, \
	.detach = NAME##_detach, .destroy = NAME##_destroy

TRACE_GLUE(exec)
TRACE_GLUE(vfs)
TRACE_GLUE(signal)
TRACE_GLUE(bind)
TRACE_GLUE(malloc)

/* malloc attaches uprobes to the libc found at run time, not to section names. */
static int malloc_attach_hook(void *skel, const struct trace_opts *o, char *err, size_t errlen)
{
	char libc[4096];

	if (o->libc_path[0]) {
		snprintf(libc, sizeof(libc), "%s", o->libc_path);
	} else if (malloc_find_libc(libc, sizeof(libc), err, errlen)) {
		return -1;
	}
	return malloc_attach(skel, libc, err, errlen);
}

static const struct trace_ops registry[] = {
	{.desc = {"exec", "process executions (execve, execveat), at entry and exit",
		  "tracepoint syscalls:sys_{enter,exit}_execve, syscalls:sys_{enter,exit}_execveat, "
		  "sched:sched_process_exec", EV_EXEC},
	 TRACE_OPS_OF(exec)},
	{.desc = {"vfs", "file opens (openat) with path, flags, mode and result",
		  "tracepoint syscalls:sys_exit_openat (arguments from the saved registers)", EV_VFS},
	 TRACE_OPS_OF(vfs)},
	{.desc = {"signal", "signals sent with kill, tkill and tgkill",
		  "tracepoint syscalls:sys_{enter,exit}_{kill,tkill,tgkill}", EV_SIGNAL},
	 TRACE_OPS_OF(signal)},
	{.desc = {"bind", "IPv4 and IPv6 socket binds with address, port, protocol and result",
		  "tracepoint syscalls:sys_{enter,exit}_bind", EV_BIND},
	 TRACE_OPS_OF(bind)},
	{.desc = {"malloc", "libc malloc, free, calloc, realloc, mmap, munmap in every process (heavy)",
		  "uprobe+uretprobe on malloc, free, calloc, realloc, mmap, munmap of the system libc", EV_MALLOC},
	 TRACE_OPS_OF(malloc), .attach = malloc_attach_hook},
};

#define REGISTRY_LEN (sizeof(registry) / sizeof(registry[0]))

const struct trace_desc *trace_find(const char *name)
{
	if (!name)
		return NULL;
	if (strncasecmp(name, "trace_", 6) == 0)
		name += 6;
	for (size_t i = 0; i < REGISTRY_LEN; i++)
		if (strcasecmp(name, registry[i].desc.name) == 0)
			return &registry[i].desc;
	return NULL;
}

const struct trace_desc *const *trace_all(void)
{
	static const struct trace_desc *all[REGISTRY_LEN + 1];

	for (size_t i = 0; i < REGISTRY_LEN; i++)
		all[i] = &registry[i].desc;
	all[REGISTRY_LEN] = NULL;
	return all;
}

static const struct trace_ops *ops_of(const struct trace_desc *desc)
{
	/* desc is the first member of a registry entry */
	return (const struct trace_ops *)desc;
}

static void trace_destroy_links(struct trace *t)
{
	for (size_t i = 0; i < t->nlinks; i++)
		bpf_link__destroy(t->links[i]);
	free(t->links);
	t->links = NULL;
	t->nlinks = 0;
}

/* Attaches each program by its section name, naming the one that fails. */
static int attach_all(struct trace *t, char *err, size_t errlen)
{
	struct bpf_object *obj = t->ops->object(t->skel);
	struct bpf_program *prog;
	size_t n = 0;

	bpf_object__for_each_program(prog, obj)
		n++;
	t->links = calloc(n ? n : 1, sizeof(*t->links));
	if (!t->links) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	bpf_object__for_each_program(prog, obj) {
		struct bpf_link *l = bpf_program__attach(prog);

		if (!l) {
			int e = errno;
			snprintf(err, errlen, "cannot attach %s (%s): %s", bpf_program__name(prog),
				 bpf_program__section_name(prog), strerror(e));
			return -1;
		}
		t->links[t->nlinks++] = l;
	}
	return 0;
}

/* Cgroup=: the directory's fd goes into the trace's cgroup array, before anything attaches. */
static int set_cgroup(struct trace *t, const char *path, char *err, size_t errlen)
{
	struct bpf_map *m = bpf_object__find_map_by_name(t->ops->object(t->skel), "filter_cgroup");
	__u32 zero = 0;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0) {
		snprintf(err, errlen, "Cgroup %s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	rc = m ? bpf_map_update_elem(bpf_map__fd(m), &zero, &fd, BPF_ANY) : -ENOENT;
	close(fd);
	if (rc) {
		snprintf(err, errlen, "Cgroup %s: not a cgroup v2 directory (%s)", path,
			 strerror(rc < 0 ? -rc : errno));
		return -1;
	}
	return 0;
}

struct trace *trace_start(const struct trace_desc *desc, const struct trace_opts *o,
			  char *err, size_t errlen)
{
	struct trace_settings s = {
		.self_tgid = (__u32)getpid(),
		.filter_tgid = o->filter_pid,
		.filter_uid = o->filter_uid >= 0 ? (__u32)o->filter_uid : (__u32)-1,
		.filter_by_cgroup = o->cgroup_path[0],
		.filter_mntns = o->filter_mntns,
		/* a sixteenth of the ring: a burst wakes the reader well before the ring is full */
		.wakeup_bytes = o->poll_ms ? (o->ringbuf_size ? o->ringbuf_size : (16u << 20)) / 16 : 0,
	};
	struct trace *t = calloc(1, sizeof(*t));
	struct bpf_map *ring;
	int rc;

	/* comm as the kernel keeps it: at most 15 bytes, NUL-padded to 16 */
	memcpy(s.filter_comm, o->filter_comm, strnlen(o->filter_comm, EV_COMM_LEN - 1));

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->ops = ops_of(desc);
	t->skel = t->ops->open(&s);
	if (!t->skel) {
		snprintf(err, errlen, "cannot open BPF object: %s", strerror(errno));
		free(t);
		return NULL;
	}
	ring = bpf_object__find_map_by_name(t->ops->object(t->skel), "events");
	if (ring && o->ringbuf_size && bpf_map__set_max_entries(ring, (__u32)o->ringbuf_size)) {
		snprintf(err, errlen, "cannot size ring buffer to %llu bytes",
			 (unsigned long long)o->ringbuf_size);
		goto fail;
	}
	rc = t->ops->load(t->skel);
	if (rc) {
		snprintf(err, errlen, "cannot load BPF programs: %s (the kernel log above has the verifier's reason)",
			 strerror(-rc));
		goto fail;
	}
	if (s.filter_by_cgroup && set_cgroup(t, o->cgroup_path, err, errlen))
		goto fail;
	if (t->ops->attach)
		rc = t->ops->attach(t->skel, o, err, errlen);
	else
		rc = attach_all(t, err, errlen);
	if (rc)
		goto fail;
	return t;
fail:
	trace_stop(t);
	return NULL;
}

bool trace_probe(const struct trace_desc *desc, char *err, size_t errlen)
{
	/* a small ring is enough to load; no events are read */
	struct trace_opts o = {.ringbuf_size = 4096 * 4, .filter_uid = -1};
	struct trace *t = trace_start(desc, &o, err, errlen);

	if (!t)
		return false;
	trace_stop(t);
	return true;
}

int trace_ring_fd(const struct trace *t)
{
	struct bpf_map *ring = bpf_object__find_map_by_name(t->ops->object(t->skel), "events");

	return ring ? bpf_map__fd(ring) : -1;
}

uint64_t trace_lost(const struct trace *t)
{
	const volatile struct ev_lost_slot *slots = t->ops->lost_slots(t->skel);
	uint64_t sum = 0;

	if (!slots)
		return 0;
	for (int i = 0; i < EV_LOST_SLOTS; i++)
		sum += slots[i].n;
	return sum;
}

void trace_reader_sleeping(struct trace *t, bool sleeping)
{
	volatile __u32 *flag = t->ops->sleep_flag(t->skel);

	if (flag)
		__atomic_store_n(flag, sleeping ? 1u : 0u, __ATOMIC_SEQ_CST);
}

const struct trace_desc *trace_desc(const struct trace *t)
{
	return &t->ops->desc;
}

void trace_detach(struct trace *t)
{
	trace_destroy_links(t);
	t->ops->detach(t->skel);
}

void trace_stop(struct trace *t)
{
	if (!t)
		return;
	trace_detach(t);
	t->ops->destroy(t->skel);
	free(t);
}
