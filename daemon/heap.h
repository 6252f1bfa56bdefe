/* heap.h: how the daemon's heap keeps freed frame memory under load and gives it back when quiet. */
#ifndef EBPF_FORWARD_HEAP_H
#define EBPF_FORWARD_HEAP_H

#include <stdlib.h> /* any C library header: glibc's define __GLIBC__ */

/* 1 where the policy below has an effect: glibc's allocator (under AddressSanitizer the allocator is
 * the sanitizer's, and glibc's settings would not reach it). */
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
#define HEAP_POLICY 1
#else
#define HEAP_POLICY 0
#endif

/*
 * From now on, blocks up to HEAP_KEEP_MAX bytes (every frame, at any
 * Frame_Size) come from the heap, and freed memory stays in it for the next
 * frame instead of going back to the kernel at once. Call after start-up's
 * big one-off allocations are freed. Returns 0, or -1 when the C library
 * refused a setting (the daemon works as before then, only slower). Does
 * nothing where the allocator is not glibc's (AddressSanitizer's, musl's).
 */
int heap_keep_freed(void);

/* Gives the heap's free pages back to the kernel: once the load is over. */
void heap_release(void);

#endif
