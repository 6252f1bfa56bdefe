/* spool.c: frames on disk, one checked file each, named by sequence number, set aside when torn. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <zlib.h>

#include "spool.h"

/*
 * A file is a fixed header, then the frame's bytes as they go on the wire:
 *   magic "EBFSPOOL", u32 version, u32 frame size, u32 entries, u32 crc32 of
 *   the frame, u32 id length, 24 bytes of chunk id (NUL-padded); all little-endian.
 * It is written as SEQ.tmp and renamed to SEQ.frame when whole, so a crash
 * mid-write leaves a .tmp, which the next open checks like any other file.
 */
#define MAGIC "EBFSPOOL"
#define VERSION 1u
#define HEADER_SIZE (8 + 5 * 4 + FWD_CHUNK_ID_LEN)
#define NAME_MAX_LEN 40

struct entry {
	uint64_t seq;
	uint64_t bytes;      /* file size */
	bool handed;         /* given out by fwd_spool_next, not yet removed */
};

struct fwd_spool {
	struct fwd_spool_config cfg;
	char dir[4096];
	int dirfd;
	struct entry *v;     /* sorted by seq */
	size_t n, cap;
	uint64_t bytes;
	size_t pending;      /* entries not handed out */
	uint64_t set_aside;
	bool dirty;          /* written since the last sync */
};

__attribute__((format(printf, 3, 4)))
static void say(const struct fwd_spool *s, bool error, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!s->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->cfg.log(s->cfg.log_ctx, error, msg);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void name_of(char out[NAME_MAX_LEN], uint64_t seq, const char *ext)
{
	snprintf(out, NAME_MAX_LEN, "%020" PRIu64 ".%s", seq, ext);
}

/* "00000000000000000042.frame" -> 42 and "frame"; false for any other name. */
static bool parse_name(const char *name, uint64_t *seq, bool *tmp)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	if (strcmp(name + 20, ".frame") == 0)
		*tmp = false;
	else if (strcmp(name + 20, ".tmp") == 0)
		*tmp = true;
	else
		return false;
	*seq = v;
	return true;
}

/* Where seq is, or would go, in the sorted index. */
static size_t find(const struct fwd_spool *s, uint64_t seq)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int index_add(struct fwd_spool *s, uint64_t seq, uint64_t bytes)
{
	size_t at = find(s, seq);

	if (at < s->n && s->v[at].seq == seq)
		return -1;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct entry *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof(*s->v));
	s->v[at] = (struct entry){.seq = seq, .bytes = bytes};
	s->n++;
	s->bytes += bytes;
	s->pending++;
	return 0;
}

static void index_drop(struct fwd_spool *s, size_t at)
{
	s->bytes -= s->v[at].bytes;
	s->pending -= !s->v[at].handed;
	memmove(s->v + at, s->v + at + 1, (s->n - at - 1) * sizeof(*s->v));
	s->n--;
}

static int read_all(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Reads and checks the file name (under the directory); fills out on success.
 * On failure returns -1 with why (never more than the header's claims allow is read).
 */
static int load(const struct fwd_spool *s, const char *name, struct fwd_spool_frame *out, const char **why)
{
	uint8_t h[HEADER_SIZE];
	struct stat st;
	uint32_t size = 0, idlen = 0;
	int fd = openat(s->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	*why = NULL;
	memset(out, 0, sizeof(*out));
	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		*why = "not a regular file";
	else if (st.st_size < HEADER_SIZE || read_all(fd, h, HEADER_SIZE))
		*why = "shorter than a spool header";
	else if (memcmp(h, MAGIC, 8) != 0)
		*why = "not a spool file (bad magic)";
	else if (get32(h + 8) != VERSION)
		*why = "spool file of another version";
	else if ((size = get32(h + 12)) == 0 || size > FWD_SPOOL_FRAME_MAX)
		*why = "frame size out of range";
	else if ((uint64_t)st.st_size != (uint64_t)HEADER_SIZE + size)
		*why = "torn: its size does not match its header";
	else if ((idlen = get32(h + 24)) > FWD_CHUNK_ID_LEN)
		*why = "chunk id longer than a chunk id";
	else if (!(out->buf = malloc(size)))
		*why = "out of memory";
	else if (read_all(fd, out->buf, size))
		*why = "cannot read the frame";
	else if ((uint32_t)crc32(0L, out->buf, size) != get32(h + 20))
		*why = "corrupt: the frame's checksum does not match";
	close(fd);
	if (*why) {
		free(out->buf);
		out->buf = NULL;
		return -1;
	}
	out->size = size;
	out->entries = get32(h + 16);
	out->has_id = idlen > 0;
	memcpy(out->id, h + 28, idlen);
	out->id[idlen] = '\0';
	return 0;
}

static void set_aside(struct fwd_spool *s, const char *name, const char *why)
{
	char bad[NAME_MAX_LEN + 8];

	snprintf(bad, sizeof(bad), "%s.bad", name);
	if (renameat(s->dirfd, name, s->dirfd, bad))
		say(s, true, "spool: %s/%s is unusable (%s) and cannot be set aside: %s", s->dir, name, why,
		    strerror(errno));
	else
		say(s, true, "spool: %s/%s set aside as %s: %s", s->dir, name, bad, why);
	s->set_aside++;
}

/* A .tmp left by a crash: a whole frame is kept (renamed), anything else set aside. */
static void recover_tmp(struct fwd_spool *s, const char *name, uint64_t seq)
{
	struct fwd_spool_frame f;
	char final[NAME_MAX_LEN];
	const char *why;

	if (load(s, name, &f, &why)) {
		set_aside(s, name, why);
		return;
	}
	free(f.buf);
	name_of(final, seq, "frame");
	if (renameat(s->dirfd, name, s->dirfd, final) || index_add(s, seq, HEADER_SIZE + f.size))
		set_aside(s, name, "cannot be renamed into place");
}

static int scan(struct fwd_spool *s, char *err, size_t errlen)
{
	int fd = dup(s->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "spool %s: cannot list: %s", s->dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		struct stat st;
		uint64_t seq;
		bool tmp;

		if (!parse_name(de->d_name, &seq, &tmp))
			continue;
		if (tmp)
			recover_tmp(s, de->d_name, seq);
		else if (fstatat(s->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			index_add(s, seq, (uint64_t)st.st_size);
		else
			set_aside(s, de->d_name, "not a regular file");
	}
	closedir(d);
	return 0;
}

struct fwd_spool *fwd_spool_open(const struct fwd_spool_config *cfg, char *err, size_t errlen)
{
	struct fwd_spool *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "spool: out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	snprintf(s->dir, sizeof(s->dir), "%s", cfg->dir);
	s->cfg.dir = s->dir;
	s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		snprintf(err, errlen, "spool %s: cannot open: %s", s->dir, strerror(errno));
		free(s);
		return NULL;
	}
	if (faccessat(s->dirfd, ".", W_OK | X_OK, AT_EACCESS)) {
		snprintf(err, errlen, "spool %s: not writable: %s", s->dir, strerror(errno));
		fwd_spool_close(s);
		return NULL;
	}
	if (scan(s, err, errlen)) {
		fwd_spool_close(s);
		return NULL;
	}
	return s;
}

static int write_all(int fd, const uint8_t *h, const uint8_t *frame, size_t size)
{
	struct iovec iov[2] = {{(void *)h, HEADER_SIZE}, {(void *)frame, size}};
	size_t left = HEADER_SIZE + size;

	while (left) {
		ssize_t w = writev(fd, iov, 2);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		left -= (size_t)w;
		for (int i = 0; i < 2 && w > 0; i++) {
			size_t take = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;

			iov[i].iov_base = (uint8_t *)iov[i].iov_base + take;
			iov[i].iov_len -= take;
			w -= (ssize_t)take;
		}
	}
	return 0;
}

int fwd_spool_put(struct fwd_spool *s, uint64_t seq, const uint8_t *frame, size_t size, uint32_t entries,
		  const char *id, char *err, size_t errlen)
{
	size_t idlen = id ? strnlen(id, FWD_CHUNK_ID_LEN) : 0;
	char tmp[NAME_MAX_LEN], final[NAME_MAX_LEN];
	uint8_t h[HEADER_SIZE] = {0};
	uint64_t bytes = HEADER_SIZE + (uint64_t)size;
	int fd, e;

	if (!size || size > FWD_SPOOL_FRAME_MAX) {
		snprintf(err, errlen, "spool %s: a frame of %zu bytes cannot be spooled", s->dir, size);
		return -1;
	}
	if (s->bytes + bytes > s->cfg.limit) {
		snprintf(err, errlen, "spool %s: full (%" PRIu64 " of %" PRIu64 " bytes)", s->dir, s->bytes,
			 s->cfg.limit);
		return -1;
	}
	memcpy(h, MAGIC, 8);
	put32(h + 8, VERSION);
	put32(h + 12, (uint32_t)size);
	put32(h + 16, entries);
	put32(h + 20, (uint32_t)crc32(0L, frame, (uInt)size));
	put32(h + 24, (uint32_t)idlen);
	memcpy(h + 28, id ? id : "", idlen);
	name_of(tmp, seq, "tmp");
	name_of(final, seq, "frame");
	fd = openat(s->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "spool %s: cannot create %s: %s", s->dir, tmp, strerror(errno));
		return -1;
	}
	if (write_all(fd, h, frame, size) || (s->cfg.sync == FWD_SPOOL_SYNC_FULL && fdatasync(fd))) {
		e = errno;
		close(fd);
		unlinkat(s->dirfd, tmp, 0);
		snprintf(err, errlen, "spool %s: cannot write %s: %s", s->dir, tmp, strerror(e ? e : EIO));
		return -1;
	}
	close(fd);
	if (renameat(s->dirfd, tmp, s->dirfd, final) || index_add(s, seq, bytes)) {
		e = errno;
		unlinkat(s->dirfd, tmp, 0);
		unlinkat(s->dirfd, final, 0);
		snprintf(err, errlen, "spool %s: cannot store %s: %s", s->dir, final, strerror(e));
		return -1;
	}
	if (s->cfg.sync == FWD_SPOOL_SYNC_FULL)
		fsync(s->dirfd); /* the rename itself */
	else
		s->dirty = true;
	return 0;
}

int fwd_spool_next(struct fwd_spool *s, struct fwd_spool_frame *out)
{
	for (size_t i = 0; i < s->n;) {
		char name[NAME_MAX_LEN];
		const char *why;

		if (s->v[i].handed) {
			i++;
			continue;
		}
		name_of(name, s->v[i].seq, "frame");
		if (load(s, name, out, &why) == 0) {
			out->seq = s->v[i].seq;
			s->v[i].handed = true;
			s->pending--;
			return 1;
		}
		set_aside(s, name, why);
		index_drop(s, i);
	}
	return 0;
}

void fwd_spool_remove(struct fwd_spool *s, uint64_t seq)
{
	size_t at = find(s, seq);
	char name[NAME_MAX_LEN];

	if (at >= s->n || s->v[at].seq != seq)
		return;
	name_of(name, seq, "frame");
	if (unlinkat(s->dirfd, name, 0) && errno != ENOENT)
		say(s, true, "spool: cannot delete %s/%s: %s", s->dir, name, strerror(errno));
	index_drop(s, at);
	s->dirty = true;
}

void fwd_spool_sync(struct fwd_spool *s)
{
	if (!s->dirty)
		return;
	/* one call for the batch: the files written since the last sync and the directory */
	if (syncfs(s->dirfd))
		say(s, true, "spool %s: sync failed: %s", s->dir, strerror(errno));
	s->dirty = false;
}

size_t fwd_spool_count(const struct fwd_spool *s)
{
	return s->n;
}

size_t fwd_spool_pending(const struct fwd_spool *s)
{
	return s->pending;
}

uint64_t fwd_spool_next_bytes(const struct fwd_spool *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (!s->v[i].handed)
			return s->v[i].bytes;
	return 0;
}

uint64_t fwd_spool_bytes(const struct fwd_spool *s)
{
	return s->bytes;
}

uint64_t fwd_spool_next_seq(const struct fwd_spool *s)
{
	return s->n ? s->v[s->n - 1].seq + 1 : 1;
}

uint64_t fwd_spool_set_aside(const struct fwd_spool *s)
{
	return s->set_aside;
}

void fwd_spool_close(struct fwd_spool *s)
{
	if (!s)
		return;
	fwd_spool_sync(s);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->v);
	free(s);
}
