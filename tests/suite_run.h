/* suite_run.h: runs one Check suite and turns its result into the test's exit status. */
#ifndef EBPF_FORWARD_TEST_SUITE_RUN_H
#define EBPF_FORWARD_TEST_SUITE_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int suite_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
