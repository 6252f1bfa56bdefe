/* container.c: cgroup id -> container id: a set-associative cache, filled by bounded walks of the cgroup v2 tree. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "container.h"
#include "log.h"

/*
 * Why a walk and not /proc/PID/cgroup: a record's process may be gone when it
 * is read (an exec's whole life can fit in the 25 ms the ring is read at); in a
 * pod the daemon has a cgroup namespace of its own, where /proc/PID/cgroup gives
 * paths relative to it; and its lines name the task's cgroup now, not at the
 * event. A cgroup v2 directory's inode number is the id the kernel gives BPF
 * (kernfs: the inode number is the node's 64-bit id, which is never reused),
 * readdir hands it over without a stat, the tree is readable by anyone, and a
 * cgroup v2 directory cannot be renamed: a walk that starts after an event and
 * does not meet its cgroup proves the cgroup was removed.
 */

/* 1024 sets of 4: 4,096 cgroups, about 300 KiB; a node's few hundred fit with room. */
#define SET_BITS 10
#define SETS (1u << SET_BITS)
#define WAYS 4
/* A walk stops past this many directories or this deep: its cost has a bound. */
#define WALK_MAX_DIRS 65536
#define WALK_MAX_DEPTH 32
/* Walks may take a twentieth of the time (5% of a CPU), with a burst of 50 ms. */
#define BUDGET_SHARE 20
#define BUDGET_MAX_NS 50000000LL
/* Records that got CONTAINER_UNKNOWN are logged at most this often. */
#define REPORT_NS 60000000000ULL

/* A way's state, in len: not in a container, an id, or unknown for good. */
#define LEN_NONE 0
#define LEN_UNKNOWN 255

struct cset {
	uint64_t id[WAYS];   /* 0: free (kernfs ids start at 1) */
	uint8_t len[WAYS];   /* LEN_NONE, CONTAINER_ID_LEN or LEN_UNKNOWN */
	uint8_t next;        /* the way the next insert into a full set replaces */
	char cid[WAYS][CONTAINER_ID_LEN];
};

static struct {
	int root_fd;                 /* -1: not started */
	char root[PATH_MAX];
	struct cset sets[SETS];
	uint64_t walk_start_ns;      /* the last walk's start */
	bool walk_whole;             /* it saw every directory (no bound hit, no error) */
	uint64_t evicted_at_walk;    /* evictions when it started: any since means it may be forgotten */
	int64_t credit_ns;           /* walk time still allowed */
	uint64_t credit_at_ns;
	uint64_t report_at_ns;
	uint64_t reported;           /* gone + over_budget at the last report */
	struct container_stats st;
} c = {.root_fd = -1};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct cset *set_of(uint64_t id)
{
	/* ids come in sequence: a multiplicative hash spreads neighbours over the sets */
	return &c.sets[(id * 0x9e3779b97f4a7c15ULL) >> (64 - SET_BITS)];
}

/* cid: the 64-hex id, NULL for no container (len LEN_NONE) or a cgroup known to be gone (LEN_UNKNOWN). */
static void put(uint64_t id, const char *cid, uint8_t len)
{
	struct cset *s = set_of(id);
	int w = -1;

	for (int i = 0; i < WAYS && w < 0; i++)
		if (s->id[i] == id)
			w = i;
	for (int i = 0; i < WAYS && w < 0; i++)
		if (!s->id[i])
			w = i;
	if (w < 0) {
		w = s->next;
		s->next = (uint8_t)((s->next + 1) % WAYS);
		c.st.evictions++;
	}
	s->id[w] = id;
	s->len[w] = cid ? CONTAINER_ID_LEN : len;
	if (cid)
		memcpy(s->cid[w], cid, CONTAINER_ID_LEN);
}

struct walk {
	uint64_t dirs;
	bool cut;
	uint64_t want;               /* the id the walk is for: its answer is kept even if evicted */
	bool found;
	bool in_container;
	char cid[CONTAINER_ID_LEN];
};

/* Puts every directory below fd (which it closes) with its container: its own name's, else inherited's. */
static void walk_dir(struct walk *w, int fd, const char *inherited, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;

	if (!d) {
		close(fd);
		w->cut = true;
		return;
	}
	while ((errno = 0, de = readdir(d))) {
		const char *name = de->d_name, *mine = inherited;
		char id[CONTAINER_ID_LEN];
		uint64_t ino = de->d_ino;
		int sub;

		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISDIR(st.st_mode))
				continue;
			ino = st.st_ino;
		} else if (de->d_type != DT_DIR) {
			continue;
		}
		if (w->dirs >= WALK_MAX_DIRS) {
			w->cut = true;
			break;
		}
		w->dirs++;
		if (container_name_id(name, strlen(name), id))
			mine = id;
		put(ino, mine, LEN_NONE);
		if (ino == w->want) {
			w->found = true;
			w->in_container = mine != NULL;
			if (mine)
				memcpy(w->cid, mine, CONTAINER_ID_LEN);
		}
		if (depth + 1 >= WALK_MAX_DEPTH) {
			w->cut = true;
			continue;
		}
		sub = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			/* removed since readdir saw it: nothing below it to miss */
			if (errno != ENOENT)
				w->cut = true;
			continue;
		}
		walk_dir(w, sub, mine, depth + 1);
		errno = 0;
	}
	if (errno)
		w->cut = true;
	closedir(d);
}

/* Walks the whole tree; want (0: none) is put last, so a tree larger than the cache still answers it. */
static void walk(uint64_t want)
{
	struct walk w = {.want = want};
	uint64_t start = now_ns(), took;
	int fd = openat(c.root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;

	c.walk_start_ns = start;
	c.evicted_at_walk = c.st.evictions;
	if (fd < 0 || fstat(fd, &st)) {
		w.cut = true;
		if (fd >= 0)
			close(fd);
	} else {
		/* the root cgroup is no container's */
		put(st.st_ino, NULL, LEN_NONE);
		w.found = st.st_ino == want;
		walk_dir(&w, fd, NULL, 0);
	}
	if (w.found)
		put(want, w.in_container ? w.cid : NULL, LEN_NONE);
	took = now_ns() - start;
	c.walk_whole = !w.cut;
	c.credit_ns -= (int64_t)took;
	c.st.walks++;
	c.st.walk_ns += took;
	if (took > c.st.max_walk_ns)
		c.st.max_walk_ns = took;
	c.st.dirs = w.dirs;
	log_debug("container_id: walked %llu cgroups under %s in %llu us%s", (unsigned long long)w.dirs, c.root,
		  (unsigned long long)(took / 1000), w.cut ? " (not all of them: a bound or an error)" : "");
}

/* True when a walk may run now: the credit refills at a twentieth of the time that passes. */
static bool budget_allows(uint64_t now)
{
	c.credit_ns += (int64_t)((now - c.credit_at_ns) / BUDGET_SHARE);
	c.credit_at_ns = now;
	if (c.credit_ns > BUDGET_MAX_NS)
		c.credit_ns = BUDGET_MAX_NS;
	return c.credit_ns > 0;
}

static const char *unknown(size_t *len, uint64_t now)
{
	uint64_t n = c.st.gone + c.st.over_budget;

	/* said, not hidden: the first time, then at most once a REPORT_NS */
	if (!c.report_at_ns || now - c.report_at_ns >= REPORT_NS) {
		log_warn("container_id: %llu record(s) got \"" CONTAINER_UNKNOWN "\" since the last report "
			 "(%llu in all: %llu of cgroups no walk after the event found, %llu while walks were "
			 "over their 5%% time budget)",
			 (unsigned long long)(n - c.reported), (unsigned long long)n,
			 (unsigned long long)c.st.gone, (unsigned long long)c.st.over_budget);
		c.report_at_ns = now;
		c.reported = n;
	}
	*len = sizeof(CONTAINER_UNKNOWN) - 1;
	return CONTAINER_UNKNOWN;
}

/* The cached answer for id, or NULL. */
static inline const char *lookup(uint64_t id, size_t *len)
{
	struct cset *s = set_of(id);

	for (int i = 0; i < WAYS; i++)
		if (s->id[i] == id) {
			switch (s->len[i]) {
			case LEN_NONE: *len = 0; return "";
			case LEN_UNKNOWN: *len = sizeof(CONTAINER_UNKNOWN) - 1; return CONTAINER_UNKNOWN;
			default: *len = CONTAINER_ID_LEN; return s->cid[i];
			}
		}
	return NULL;
}

/* Whether the last walk, had it met a cgroup, would still have it in the cache. */
static bool walk_remembered(void)
{
	return c.walk_whole && c.st.evictions == c.evicted_at_walk;
}

static const char *miss(uint64_t id, uint64_t ts_ns, size_t *len)
{
	const char *v;
	uint64_t now;

	c.st.misses++;
	if (c.root_fd < 0) {
		*len = sizeof(CONTAINER_UNKNOWN) - 1;
		return CONTAINER_UNKNOWN;
	}
	now = now_ns();
	/* a whole walk that started after the event and kept everything did not meet the cgroup: gone */
	if (!(c.walk_start_ns > ts_ns && walk_remembered())) {
		if (!budget_allows(now)) {
			c.st.over_budget++;
			return unknown(len, now);
		}
		walk(id);
		v = lookup(id, len);
		if (v)
			return v;
		if (!walk_remembered()) {
			/* a bound was hit or something evicted: no proof that it is gone, so not cached */
			c.st.gone++;
			return unknown(len, now);
		}
	}
	put(id, NULL, LEN_UNKNOWN);
	c.st.gone++;
	return unknown(len, now);
}

const char *container_of(uint64_t cgroup_id, uint64_t ts_ns, size_t *len)
{
	const char *v;

	/* 0 is no cgroup (a free way has id 0): what a faulting read in the kernel gives */
	if (!cgroup_id) {
		*len = sizeof(CONTAINER_UNKNOWN) - 1;
		return CONTAINER_UNKNOWN;
	}
	v = lookup(cgroup_id, len);

	return v ? v : miss(cgroup_id, ts_ns, len);
}

/* The cgroup v2 mount: a v2 host's, or a hybrid host's unified one. */
static const char *find_root(void)
{
	static const char *const where[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
	struct statfs sf;

	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (statfs(where[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
			return where[i];
	return NULL;
}

int container_start(const char *root, char *err, size_t errlen)
{
	int fd;

	container_stop();
	if (!root) {
		root = find_root();
		if (!root) {
			snprintf(err, errlen, "container_id: no cgroup v2 mount at /sys/fs/cgroup or /sys/fs/cgroup/unified");
			return -1;
		}
	}
	if (strlen(root) >= sizeof(c.root)) {
		snprintf(err, errlen, "container_id: %s: path too long", root);
		return -1;
	}
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "container_id: cannot open %s: %s", root, strerror(errno));
		return -1;
	}
	strcpy(c.root, root);
	c.root_fd = fd;
	c.credit_ns = BUDGET_MAX_NS;
	c.credit_at_ns = now_ns();
	walk(0);
	return 0;
}

const char *container_root(void)
{
	return c.root;
}

void container_stop(void)
{
	if (c.root_fd >= 0)
		close(c.root_fd);
	memset(&c, 0, sizeof(c));
	c.root_fd = -1;
}

void container_stats(struct container_stats *out)
{
	*out = c.st;
}
