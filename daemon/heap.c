/* heap.c: the daemon's heap policy: freed frames are reused while events flow, returned once the load stops. */
#include <malloc.h>

#include "heap.h"

/*
 * Why: frames are about 1.1 MiB and live until their ack. glibc's own
 * policy serves such blocks from mmap first and, once one is freed, from the
 * heap, but gives the heap's top back to the kernel whenever 2 frames' worth
 * is free there. Under load that is most of the time: the next frame then
 * faults its pages in again, each one zeroed and charged to the cgroup by
 * the kernel (51,000-66,000 faults in a 6 s flat-out run, about a tenth of
 * the daemon's CPU). Keeping what was freed costs no more memory than the
 * busiest moment already used; heap_release hands it back afterwards.
 */
#define HEAP_KEEP_MAX ((int)(4 * 1024 * 1024 * sizeof(long))) /* glibc's largest mmap threshold: 32 MiB on 64-bit */
#define HEAP_TRIM_NEVER 0x7fffffff        /* mallopt takes an int */

int heap_keep_freed(void)
{
#if HEAP_POLICY
	/* setting either turns glibc's own sliding thresholds off */
	if (!mallopt(M_MMAP_THRESHOLD, HEAP_KEEP_MAX) || !mallopt(M_TRIM_THRESHOLD, HEAP_TRIM_NEVER))
		return -1;
#endif
	return 0;
}

void heap_release(void)
{
#if HEAP_POLICY
	malloc_trim(0);
#endif
}
