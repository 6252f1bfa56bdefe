/* lent.c: frame memory that may be lent to sockets: its pages replaced (MADV_DONTNEED) before it is let go. */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lent.h"

static uintptr_t page_size(void)
{
	static uintptr_t ps;

	if (!ps)
		ps = (uintptr_t)sysconf(_SC_PAGESIZE);
	return ps;
}

void fwd_lent_pages(const void *p, size_t n, size_t *lo, size_t *hi)
{
	uintptr_t a = (uintptr_t)p, ps = page_size();
	uintptr_t first = (a + ps - 1) & ~(ps - 1), last = (a + n) & ~(ps - 1);

	if (last <= first) {
		*lo = *hi = n;
		return;
	}
	*lo = first - a;
	*hi = last - a;
}

void fwd_lent_forget(void *p, size_t n)
{
	size_t lo, hi;

	fwd_lent_pages(p, n, &lo, &hi);
	/* anonymous private memory: the next touch faults in a zeroed page */
	if (hi > lo)
		madvise((uint8_t *)p + lo, hi - lo, MADV_DONTNEED);
}

void fwd_lent_free(void *p)
{
	if (!p)
		return;
	/* the whole block: over its life any of its whole pages may have been lent */
	fwd_lent_forget(p, malloc_usable_size(p));
	free(p);
}
