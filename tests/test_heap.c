/* test_heap.c: the heap policy: frame-sized blocks reuse freed pages under load, and the pages go back on release. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "heap.h"
#include "resident.h"
#include "suite_run.h"

/* A default frame's allocation (FRAME_WHOLE(1M) in output_forward.c) and a queue of them in flight. */
#define FRAME_BYTES (1024 * 1024 + 1024 * 1024 / 8 + 4096)
#define IN_FLIGHT 4
#define ROUNDS 40

static long minor_faults(void)
{
	struct rusage ru;

	ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_minflt;
}

/*
 * Frames as the output makes them: each filled, held until its ack, freed
 * oldest first while newer ones are being filled. Returns the page faults
 * of the rounds after the first.
 */
static long faults_of_a_frame_queue(void)
{
	static char *q[IN_FLIGHT];
	long before = 0;

	for (int r = 0; r < ROUNDS; r++) {
		if (r == 1)
			before = minor_faults();
		for (int i = 0; i < IN_FLIGHT; i++) {
			q[i] = malloc(FRAME_BYTES);
			ck_assert_ptr_nonnull(q[i]);
			memset(q[i], r, FRAME_BYTES);
		}
		for (int i = 0; i < IN_FLIGHT; i++)
			free(q[i]);
	}
	return minor_faults() - before;
}

START_TEST(freed_frames_are_reused_without_faults)
{
	long faults;

	ck_assert_int_eq(heap_keep_freed(), 0);
	faults = faults_of_a_frame_queue();
	if (!HEAP_POLICY) /* another allocator: the policy does nothing, nothing to measure */
		return;
	/* glibc's own policy faults every page of most frames in again: thousands of faults */
	ck_assert_msg(faults < 100, "%ld page faults over %d rounds of %d frames (each frame is %d pages)", faults,
		      ROUNDS - 1, IN_FLIGHT, FRAME_BYTES / 4096);
}
END_TEST

START_TEST(release_gives_the_pages_back)
{
	long held, released;

	ck_assert_int_eq(heap_keep_freed(), 0);
	faults_of_a_frame_queue();
	held = resident_bytes();
	heap_release();
	released = resident_bytes();
	if (!HEAP_POLICY)
		return;
	/* the queue's frames were freed but kept; released, at least three of the four go */
	ck_assert_msg(held - released >= 3 * FRAME_BYTES, "resident %ld bytes before the release, %ld after", held,
		      released);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("heap");
	TCase *tc = tcase_create("policy");

	tcase_add_test(tc, freed_frames_are_reused_without_faults);
	tcase_add_test(tc, release_gives_the_pages_back);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
