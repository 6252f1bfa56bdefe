/* traces.c: the one loader of every trace: its object from the embedded bytes, settings, load, attach, ring. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "events.h"
#include "self_tgid.h"
#include "traces.h"

struct trace {
	const struct trace_unit *unit;
	struct bpf_object *obj;
	struct bpf_map *ring;
	volatile struct ev_shared *shared;  /* the object's EV_SHARED_SEC, mapped */
	size_t shared_len;
	struct trace_links links;
};

/*
 * The daemon's tgid as the traces compare it: found once per process (a
 * forked one finds its own), getpid() when the kernel could not tell, which
 * is the same number outside a PID namespace.
 */
static uint32_t self_tgid(void)
{
	static pid_t found_for;
	static uint32_t tgid;

	if (found_for != getpid()) {
		found_for = getpid();
		if (self_tgid_find(&tgid))
			tgid = (uint32_t)found_for;
	}
	return tgid;
}

/* The settings every object reads from EV_SETTINGS_SEC, for a ring of ring_bytes. */
static void settings_of(const struct trace_opts *o, __u64 ring_bytes, struct ev_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->self_tgid = self_tgid();
	s->filter_tgid = o->filter_pid;
	s->filter_uid = o->filter_uid >= 0 ? (__u32)o->filter_uid : (__u32)-1;
	s->filter_by_cgroup = o->cgroup_path[0] != '\0';
	s->filter_mntns = o->filter_mntns;
	/* a sixteenth of the ring: a burst wakes the reader well before the ring is full */
	s->wakeup_bytes = o->poll_ms ? ring_bytes / 16 : 0;
	s->ring_bytes = ring_bytes;
	s->sched_min_latency_ns = o->sched_min_latency_ns;
	s->vfs_resolved_path = o->vfs_resolved_path ? 1 : 0;
	s->exec_args_max = o->exec_args_max < EV_ARGS_AREA_MAX ? o->exec_args_max : EV_ARGS_AREA_MAX;
	/* comm as the kernel keeps it: at most 15 bytes, NUL-padded to 16 */
	memcpy(s->filter_comm, o->filter_comm, strnlen(o->filter_comm, EV_COMM_LEN - 1));
}

/* Attaches each program by its section name, naming the one that fails. */
static int attach_all(struct trace *t, char *err, size_t errlen)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, t->obj) {
		struct bpf_link *l = bpf_program__attach(prog);

		if (!l || trace_links_add(&t->links, l)) {
			int e = l ? ENOMEM : errno;

			bpf_link__destroy(l);
			snprintf(err, errlen, "cannot attach %s (%s): %s", bpf_program__name(prog),
				 bpf_program__section_name(prog), strerror(e));
			return -1;
		}
	}
	return 0;
}

/* Cgroup=: the directory's fd goes into the trace's cgroup array, before anything attaches. */
static int set_cgroup(struct trace *t, const char *path, char *err, size_t errlen)
{
	struct bpf_map *m = bpf_object__find_map_by_name(t->obj, "filter_cgroup");
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

/* Maps the loaded object's shared section (loss slots, sleep flag); it stays mapped after the drop. */
static int map_shared(struct trace *t, char *err, size_t errlen)
{
	struct bpf_map *m = bpf_object__find_map_by_name(t->obj, EV_SHARED_SEC);
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	if (!m || bpf_map__value_size(m) != sizeof(struct ev_shared)) {
		snprintf(err, errlen, "the object has no %s section of %zu bytes", EV_SHARED_SEC,
			 sizeof(struct ev_shared));
		return -1;
	}
	t->shared_len = (sizeof(struct ev_shared) + (size_t)page - 1) / (size_t)page * (size_t)page;
	p = mmap(NULL, t->shared_len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(m), 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %s: %s", EV_SHARED_SEC, strerror(errno));
		return -1;
	}
	t->shared = p;
	return 0;
}

struct trace *trace_start(const struct trace_unit *unit, const struct trace_opts *o, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = unit->name);
	struct trace *t = calloc(1, sizeof(*t));
	struct ev_settings s;
	struct bpf_map *settings;
	const void *bytes;
	size_t size;
	int rc;

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->unit = unit;
	bytes = unit->elf_bytes(&size);
	t->obj = bpf_object__open_mem(bytes, size, &open_opts);
	if (!t->obj) {
		snprintf(err, errlen, "cannot open BPF object: %s", strerror(errno));
		free(t);
		return NULL;
	}
	t->ring = bpf_object__find_map_by_name(t->obj, "events");
	if (!t->ring) {
		snprintf(err, errlen, "the object has no ring buffer named events");
		goto fail;
	}
	if (o->ringbuf_size && bpf_map__set_max_entries(t->ring, (__u32)o->ringbuf_size)) {
		snprintf(err, errlen, "cannot size ring buffer to %llu bytes", (unsigned long long)o->ringbuf_size);
		goto fail;
	}
	settings_of(o, bpf_map__max_entries(t->ring), &s);
	settings = bpf_object__find_map_by_name(t->obj, EV_SETTINGS_SEC);
	if (!settings || bpf_map__set_initial_value(settings, &s, sizeof(s))) {
		snprintf(err, errlen, "the object has no %s section of %zu bytes", EV_SETTINGS_SEC, sizeof(s));
		goto fail;
	}
	rc = bpf_object__load(t->obj);
	if (rc) {
		snprintf(err, errlen, "cannot load BPF programs: %s (the kernel log above has the verifier's reason)",
			 strerror(-rc));
		goto fail;
	}
	if (map_shared(t, err, errlen))
		goto fail;
	if (s.filter_by_cgroup && set_cgroup(t, o->cgroup_path, err, errlen))
		goto fail;
	if (unit->prepare && unit->prepare(t->obj, o, err, errlen))
		goto fail;
	rc = unit->attach ? unit->attach(t->obj, o, &t->links, err, errlen) : attach_all(t, err, errlen);
	if (rc)
		goto fail;
	return t;
fail:
	trace_stop(t);
	return NULL;
}

bool trace_probe(const struct trace_unit *unit, char *err, size_t errlen)
{
	/* a small ring is enough to load; no events are read */
	struct trace_opts o = {.ringbuf_size = 4096 * 4, .filter_uid = -1};
	struct trace *t = trace_start(unit, &o, err, errlen);

	if (!t)
		return false;
	trace_stop(t);
	return true;
}

int trace_ring_fd(const struct trace *t)
{
	return bpf_map__fd(t->ring);
}

uint64_t trace_lost(const struct trace *t)
{
	uint64_t sum = 0;

	for (int i = 0; i < EV_LOST_SLOTS; i++)
		sum += t->shared->lost[i].n;
	return sum;
}

void trace_reader_sleeping(struct trace *t, bool sleeping)
{
	__atomic_store_n(&t->shared->reader_sleeping, sleeping ? 1u : 0u, __ATOMIC_SEQ_CST);
}

void trace_reader_caught_up(struct trace *t)
{
	/* a store only when set: the producers read this line on every event past the threshold */
	if (__atomic_load_n(&t->shared->fill_woken, __ATOMIC_RELAXED))
		__atomic_store_n(&t->shared->fill_woken, 0u, __ATOMIC_SEQ_CST);
}

const struct trace_unit *trace_unit(const struct trace *t)
{
	return t->unit;
}

void trace_detach(struct trace *t)
{
	for (size_t i = 0; i < t->links.n; i++)
		bpf_link__destroy(t->links.v[i]);
	t->links.n = 0;
}

void trace_stop(struct trace *t)
{
	if (!t)
		return;
	trace_detach(t);
	free(t->links.v);
	if (t->shared)
		munmap((void *)t->shared, t->shared_len);
	bpf_object__close(t->obj);
	free(t);
}
