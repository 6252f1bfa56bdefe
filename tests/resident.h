/* resident.h: the test process's resident memory, for the tests of the heap policy. */
#ifndef EBPF_FORWARD_TEST_RESIDENT_H
#define EBPF_FORWARD_TEST_RESIDENT_H

#include <check.h>
#include <stdio.h>
#include <unistd.h>

/* Resident bytes of this process (statm's second field, in pages). */
static inline long resident_bytes(void)
{
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%ld %ld", &size, &res), 2);
	fclose(f);
	return res * sysconf(_SC_PAGESIZE);
}

#endif
