/* test_spool.c: the frame spool: order, persistence, the limit, torn and corrupt files, a full disk. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"
#include "suite_run.h"

static char dir[64];
static char logged[4096];
static int errors;

static void on_log(void *ctx, bool error, const char *msg)
{
	(void)ctx;
	errors += error;
	snprintf(logged + strlen(logged), sizeof(logged) - strlen(logged), "%s\n", msg);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_spool.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	logged[0] = '\0';
	errors = 0;
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct fwd_spool *open_spool(uint64_t limit)
{
	struct fwd_spool_config c = {.dir = dir, .limit = limit, .log = on_log};
	char err[512];
	struct fwd_spool *s = fwd_spool_open(&c, err, sizeof(err));

	ck_assert_msg(s, "%s", err);
	return s;
}

/* A frame whose bytes say which it is. */
static size_t frame(uint8_t *buf, size_t n, unsigned which)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(which * 31 + i);
	return n;
}

static void put(struct fwd_spool *s, uint64_t seq, size_t n)
{
	uint8_t buf[4096];
	char err[512], id[32];

	snprintf(id, sizeof(id), "id-%llu", (unsigned long long)seq);
	ck_assert_msg(fwd_spool_put(s, seq, buf, frame(buf, n, (unsigned)seq), (uint32_t)seq, id, err, sizeof(err)) == 0,
		      "%s", err);
}

static void next_is(struct fwd_spool *s, uint64_t seq, size_t n)
{
	struct fwd_spool_frame f;
	uint8_t want[4096];
	char id[32];

	ck_assert_int_eq(fwd_spool_next(s, &f), 1);
	ck_assert_uint_eq(f.seq, seq);
	ck_assert_uint_eq(f.size, n);
	ck_assert_uint_eq(f.entries, seq);
	frame(want, n, (unsigned)seq);
	ck_assert_mem_eq(f.buf, want, n);
	snprintf(id, sizeof(id), "id-%llu", (unsigned long long)seq);
	ck_assert(f.has_id);
	ck_assert_str_eq(f.id, id);
	free(f.buf);
}

static void path_of(char *out, size_t len, uint64_t seq, const char *ext)
{
	snprintf(out, len, "%s/%020llu.%s", dir, (unsigned long long)seq, ext);
}

START_TEST(frames_come_back_in_sequence_order)
{
	struct fwd_spool *s = open_spool(1 << 20);
	struct fwd_spool_frame f;

	put(s, 5, 100);
	put(s, 7, 3000);
	/* an older frame written later (unacked at shutdown) still comes first */
	put(s, 3, 1);
	ck_assert_uint_eq(fwd_spool_count(s), 3);
	ck_assert_uint_eq(fwd_spool_next_seq(s), 8);
	next_is(s, 3, 1);
	next_is(s, 5, 100);
	ck_assert_uint_eq(fwd_spool_pending(s), 1);
	next_is(s, 7, 3000);
	ck_assert_int_eq(fwd_spool_next(s, &f), 0);
	/* handed out is not removed: only an ack removes */
	ck_assert_uint_eq(fwd_spool_count(s), 3);
	fwd_spool_remove(s, 5);
	fwd_spool_remove(s, 99);
	ck_assert_uint_eq(fwd_spool_count(s), 2);
	fwd_spool_close(s);
	ck_assert_int_eq(errors, 0);
}
END_TEST

START_TEST(frames_survive_reopening)
{
	struct fwd_spool *s = open_spool(1 << 20);
	char p[128];

	put(s, 10, 50);
	put(s, 11, 60);
	fwd_spool_remove(s, 10);
	fwd_spool_close(s);
	path_of(p, sizeof(p), 10, "frame");
	ck_assert_int_ne(access(p, F_OK), 0);
	s = open_spool(1 << 20);
	ck_assert_uint_eq(fwd_spool_count(s), 1);
	ck_assert_uint_eq(fwd_spool_bytes(s), 60 + 52);
	ck_assert_uint_eq(fwd_spool_next_seq(s), 12);
	next_is(s, 11, 60);
	fwd_spool_close(s);
}
END_TEST

START_TEST(the_limit_holds_and_leaves_nothing_behind)
{
	struct fwd_spool *s = open_spool(2 * (1000 + 52));
	uint8_t buf[1000] = {0};
	char err[512], p[128];

	put(s, 1, 1000);
	put(s, 2, 1000);
	ck_assert_int_eq(fwd_spool_put(s, 3, buf, sizeof(buf), 1, NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "full (2104 of 2104 bytes)"), "%s", err);
	path_of(p, sizeof(p), 3, "frame");
	ck_assert_int_ne(access(p, F_OK), 0);
	path_of(p, sizeof(p), 3, "tmp");
	ck_assert_int_ne(access(p, F_OK), 0);
	/* room again once one is acked */
	fwd_spool_remove(s, 1);
	ck_assert_int_eq(fwd_spool_put(s, 3, buf, sizeof(buf), 1, NULL, err, sizeof(err)), 0);
	fwd_spool_close(s);
}
END_TEST

static void write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
}

/* Damages the file of seq in one way; the next open must set exactly it aside, naming it and why. */
static void damaged(uint64_t seq, void (*damage)(const char *path), const char *why)
{
	struct fwd_spool *s = open_spool(1 << 20);
	char p[128], bad[512];

	put(s, 1, 200);
	put(s, seq, 300);
	put(s, 9, 400);
	fwd_spool_close(s);
	path_of(p, sizeof(p), seq, "frame");
	damage(p);
	logged[0] = '\0';
	s = open_spool(1 << 20);
	next_is(s, 1, 200);
	next_is(s, 9, 400);
	ck_assert_uint_eq(fwd_spool_set_aside(s), 1);
	snprintf(bad, sizeof(bad), "%s set aside as %020llu.frame.bad: %s", p, (unsigned long long)seq, why);
	ck_assert_msg(strstr(logged, bad), "wanted \"%s\" in:\n%s", bad, logged);
	snprintf(bad, sizeof(bad), "%s.bad", p);
	ck_assert_int_eq(access(bad, F_OK), 0);
	ck_assert_uint_eq(fwd_spool_count(s), 2);
	fwd_spool_close(s);
}

static void cut(const char *p) { ck_assert_int_eq(truncate(p, 52 + 299), 0); }
static void cut_header(const char *p) { ck_assert_int_eq(truncate(p, 20), 0); }
static void grow(const char *p)
{
	int fd = open(p, O_WRONLY | O_APPEND);

	ck_assert_int_eq(write(fd, "x", 1), 1);
	close(fd);
}
static void flip(const char *p)
{
	int fd = open(p, O_RDWR);
	uint8_t b;

	ck_assert_int_eq(pread(fd, &b, 1, 52 + 100), 1);
	b ^= 0x40;
	ck_assert_int_eq(pwrite(fd, &b, 1, 52 + 100), 1);
	close(fd);
}
static void garbage(const char *p) { write_file(p, "hello, this is not a frame at all, just some text long enough", 60); }
static void huge(const char *p)
{
	int fd = open(p, O_RDWR);
	uint8_t size[4] = {0xff, 0xff, 0xff, 0x7f};

	ck_assert_int_eq(pwrite(fd, size, 4, 12), 4);
	close(fd);
}
static void long_id(const char *p)
{
	int fd = open(p, O_RDWR);
	uint8_t n[4] = {200, 0, 0, 0};

	ck_assert_int_eq(pwrite(fd, n, 4, 24), 4);
	close(fd);
}

START_TEST(torn_and_corrupt_files_are_set_aside)
{
	damaged(4, cut, "torn: its size does not match its header");
	teardown(), setup();
	damaged(4, grow, "torn: its size does not match its header");
	teardown(), setup();
	damaged(4, cut_header, "shorter than a spool header");
	teardown(), setup();
	damaged(4, flip, "corrupt: the frame's checksum does not match");
	teardown(), setup();
	damaged(4, garbage, "not a spool file (bad magic)");
	teardown(), setup();
	damaged(4, huge, "frame size out of range");
	teardown(), setup();
	damaged(4, long_id, "chunk id longer than a chunk id");
}
END_TEST

START_TEST(leftovers_of_a_crash)
{
	struct fwd_spool *s = open_spool(1 << 20);
	char p[128], t[128];

	put(s, 2, 100);
	put(s, 3, 100);
	fwd_spool_close(s);
	/* a whole frame that was never renamed: kept; a half-written one: set aside */
	path_of(p, sizeof(p), 2, "frame");
	path_of(t, sizeof(t), 2, "tmp");
	ck_assert_int_eq(rename(p, t), 0);
	path_of(p, sizeof(p), 3, "frame");
	path_of(t, sizeof(t), 3, "tmp");
	ck_assert_int_eq(rename(p, t), 0);
	ck_assert_int_eq(truncate(t, 60), 0);
	/* and files that are not the spool's are left alone */
	snprintf(p, sizeof(p), "%s/notes.txt", dir);
	write_file(p, "x", 1);
	s = open_spool(1 << 20);
	next_is(s, 2, 100);
	ck_assert_uint_eq(fwd_spool_count(s), 1);
	ck_assert_uint_eq(fwd_spool_set_aside(s), 1);
	ck_assert_ptr_nonnull(strstr(logged, "00000000000000000003.tmp set aside"));
	ck_assert_int_eq(access(p, F_OK), 0);
	fwd_spool_close(s);
}
END_TEST

START_TEST(a_full_disk_is_an_error_not_a_leftover)
{
	struct fwd_spool *s;
	uint8_t buf[4000];
	char err[512], p[128];
	int n = 0;

	ck_assert_int_eq(mount("tmpfs", dir, "tmpfs", 0, "size=64k"), 0);
	s = open_spool(1ull << 30);
	memset(buf, 7, sizeof(buf));
	while (fwd_spool_put(s, (uint64_t)n + 1, buf, sizeof(buf), 1, NULL, err, sizeof(err)) == 0)
		ck_assert_int_lt(++n, 100);
	ck_assert_int_gt(n, 3);
	ck_assert_msg(strstr(err, "No space left on device"), "%s", err);
	path_of(p, sizeof(p), (uint64_t)n + 1, "tmp");
	ck_assert_int_ne(access(p, F_OK), 0);
	ck_assert_uint_eq(fwd_spool_count(s), (size_t)n);
	/* room again after an ack */
	fwd_spool_remove(s, 1);
	ck_assert_int_eq(fwd_spool_put(s, 1000, buf, sizeof(buf), 1, NULL, err, sizeof(err)), 0);
	fwd_spool_close(s);
	ck_assert_int_eq(umount(dir), 0);
}
END_TEST

START_TEST(a_directory_that_cannot_be_used)
{
	struct fwd_spool_config c = {.dir = "/nonexistent/spool", .limit = 1 << 20};
	char err[512];

	ck_assert_ptr_null(fwd_spool_open(&c, err, sizeof(err)));
	ck_assert_str_eq(err, "spool /nonexistent/spool: cannot open: No such file or directory");
	c.dir = "/etc/hostname";
	ck_assert_ptr_null(fwd_spool_open(&c, err, sizeof(err)));
	ck_assert_str_eq(err, "spool /etc/hostname: cannot open: Not a directory");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("spool");
	TCase *tc = tcase_create("spool");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, frames_come_back_in_sequence_order);
	tcase_add_test(tc, frames_survive_reopening);
	tcase_add_test(tc, the_limit_holds_and_leaves_nothing_behind);
	tcase_add_test(tc, torn_and_corrupt_files_are_set_aside);
	tcase_add_test(tc, leftovers_of_a_crash);
	tcase_add_test(tc, a_full_disk_is_an_error_not_a_leftover);
	tcase_add_test(tc, a_directory_that_cannot_be_used);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
