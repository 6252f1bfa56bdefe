/* test_evtime.c: boot-time ns to wall-clock seconds and nanoseconds. */
#include <check.h>
#include <stdlib.h>
#include <time.h>

#include "evtime.h"
#include "suite_run.h"

START_TEST(adds_offset_and_splits)
{
	struct evclock c;
	struct evtime t;

	evclock_set(&c, 1700000000LL * 1000000000LL + 250);
	t = evtime_from_boot(&c, 12ULL * 1000000000ULL + 999999800ULL);
	/* 1700000012 s + 999999800 ns + 250 ns = 1700000013 s + 50 ns */
	ck_assert_uint_eq(t.sec, 1700000013u);
	ck_assert_uint_eq(t.nsec, 50u);
}
END_TEST

START_TEST(never_reserved_seconds)
{
	struct evclock c;
	struct evtime t;

	evclock_set(&c, 0xFFFFFFFFLL * 1000000000LL);
	t = evtime_from_boot(&c, 5);
	ck_assert_uint_lt(t.sec, 0xFFFFFFFEu);
	evclock_set(&c, -1000000000000LL);
	t = evtime_from_boot(&c, 5);
	ck_assert_uint_eq(t.sec, 0);
}
END_TEST

START_TEST(sync_matches_clocks)
{
	struct evclock c;
	struct timespec boot, wall;
	struct evtime t;
	int64_t wall_ns, got_ns;

	ck_assert_int_eq(evclock_sync(&c), 0);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	clock_gettime(CLOCK_REALTIME, &wall);
	t = evtime_from_boot(&c, (uint64_t)boot.tv_sec * 1000000000ULL + (uint64_t)boot.tv_nsec);
	wall_ns = (int64_t)wall.tv_sec * 1000000000LL + wall.tv_nsec;
	got_ns = (int64_t)t.sec * 1000000000LL + t.nsec;
	/* same instant within a millisecond */
	ck_assert_int_lt(llabs(wall_ns - got_ns), 1000000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("evtime");
	TCase *tc = tcase_create("convert");

	tcase_add_test(tc, adds_offset_and_splits);
	tcase_add_test(tc, never_reserved_seconds);
	tcase_add_test(tc, sync_matches_clocks);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
