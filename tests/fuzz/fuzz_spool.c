/*
 * fuzz_spool.c: any bytes as a spool file left by an earlier run: the spool
 * opens, hands the frame out whole or sets the file aside, and closes.
 *
 * The first byte chooses: bit 0, the file is NNN.tmp (a crash mid-write)
 * rather than NNN.frame; bit 1, the header's magic, version, frame size and
 * checksum are made right for the bytes, so the fuzzer gets past them to the
 * entries and the chunk id. The rest is the file.
 */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "fuzz.h"
#include "spool.h"

/* The file's header (spool.c): magic, 5 u32 and the chunk id. */
#define HEADER_SIZE (8 + 5 * 4 + FWD_CHUNK_ID_LEN)

static char dir[64];
static unsigned logged;

static void on_log(void *ctx, bool error, const char *msg)
{
	(void)ctx;
	FUZZ_CHECK(error && strlen(msg) > 0, "log line");
	logged++;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Leaves the directory empty for the next input. */
static void empty_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	FUZZ_CHECK(d, "%s", dir);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			FUZZ_CHECK(unlinkat(dirfd(d), de->d_name, 0) == 0, "cannot remove %s", de->d_name);
	closedir(d);
}

static void cleanup(void)
{
	if (dir[0]) {
		empty_dir();
		rmdir(dir);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwd_spool_config c = {.limit = 1ull << 40, .log = on_log};
	const char *name;
	struct fwd_spool *s;
	struct fwd_spool_frame f;
	char err[512], path[128];
	uint8_t *file;
	size_t n;
	unsigned frames = 0;
	int fd;

	if (size < 1)
		return 0;
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/fuzz_spool.XXXXXX");
		FUZZ_CHECK(mkdtemp(dir), "mkdtemp");
		atexit(cleanup);
	}
	n = size - 1;
	file = malloc(n ? n : 1);
	FUZZ_CHECK(file, "malloc");
	memcpy(file, data + 1, n);
	if ((data[0] & 2) && n >= HEADER_SIZE) {
		memcpy(file, "EBFSPOOL", 8);
		put32(file + 8, 1);
		put32(file + 12, (uint32_t)(n - HEADER_SIZE));
		put32(file + 20, (uint32_t)crc32(0L, file + HEADER_SIZE, (uInt)(n - HEADER_SIZE)));
	}
	name = data[0] & 1 ? "00000000000000000001.tmp" : "00000000000000000001.frame";
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0 && write(fd, file, n) == (ssize_t)n && close(fd) == 0, "cannot write %s", path);

	logged = 0;
	c.dir = dir;
	s = fwd_spool_open(&c, err, sizeof(err));
	FUZZ_CHECK(s, "open: %s", err);
	while (fwd_spool_next(s, &f) == 1) {
		FUZZ_CHECK(f.seq == 1, "seq %llu", (unsigned long long)f.seq);
		FUZZ_CHECK(f.buf && f.size > 0 && f.size + HEADER_SIZE == n, "frame of %zu bytes from %zu", f.size, n);
		FUZZ_CHECK(memcmp(f.buf, file + HEADER_SIZE, f.size) == 0, "frame bytes differ");
		FUZZ_CHECK(memchr(f.id, '\0', sizeof(f.id)), "chunk id not terminated");
		free(f.buf);
		frames++;
	}
	/* the one file: handed out, or set aside (and said so) */
	FUZZ_CHECK(frames + fwd_spool_set_aside(s) == 1, "%u frames, %llu set aside", frames,
		   (unsigned long long)fwd_spool_set_aside(s));
	FUZZ_CHECK(frames || logged == 1, "set aside without a log line");
	FUZZ_CHECK(fwd_spool_pending(s) == 0, "%zu pending", fwd_spool_pending(s));
	fwd_spool_close(s);
	empty_dir();
	free(file);
	return 0;
}
