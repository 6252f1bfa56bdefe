/* cmdline.h: an exec's argument area (NUL-terminated arguments) as one line a POSIX shell splits back. */
#ifndef EBPF_FORWARD_CMDLINE_H
#define EBPF_FORWARD_CMDLINE_H

#include <stddef.h>
#include <stdint.h>

/* The most bytes cmdline_join writes for n input bytes: 5 per byte, quotes and a space per argument. */
#define CMDLINE_MAX(n) (8 * (size_t)(n) + 3)

/*
 * Joins the arguments in src (n bytes: each argument ends with a NUL; bytes
 * after the last NUL are one more argument, cut short) with single spaces,
 * each as a POSIX shell word: as it is when it is not empty and has only
 * A-Z a-z 0-9 and @%+=:,./_- (Python's shlex.quote's safe set), else in
 * single quotes with each ' written '"'"' (the quote closed, a ' in double
 * quotes, reopened: no backslash, which the escape would double).
 * shlex.split gives the list back.
 * Returns the bytes written to dst (room: CMDLINE_MAX(n)).
 */
size_t cmdline_join(uint8_t *dst, const uint8_t *src, size_t n);

#endif
