/* strsafe.h: record strings made valid UTF-8, losslessly: the escape every str field goes through. */
#ifndef EBPF_FORWARD_STRSAFE_H
#define EBPF_FORWARD_STRSAFE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The escape: a byte that is not part of a valid UTF-8 sequence (RFC 3629:
 * no overlong forms, no surrogates, nothing past U+10FFFF, no cut sequence)
 * is written \xHH (two lowercase hex digits), a backslash \\, and every
 * other byte, control characters included, as it is. Un-escaping (\\ to \,
 * \xHH to the byte) gives the original bytes back.
 */

/* The most bytes strsafe_put writes for n input bytes (header included). */
#define STRSAFE_MAX(n) (5 + 4 * (size_t)(n))

/* Length of the valid UTF-8 sequence at s (n bytes left, n > 0), 0 if none starts there. */
size_t strsafe_utf8_len(const uint8_t *s, size_t n);

/* Bytes of the escaped form of s (n bytes): n when it needs no escape. */
size_t strsafe_len(const uint8_t *s, size_t n);

/* Writes s (n bytes) escaped to o, without a header; returns the bytes written (strsafe_len). */
size_t strsafe_write(uint8_t *o, const uint8_t *s, size_t n);

/* Writes s as a msgpack str of its escaped form to o (room: STRSAFE_MAX(n)); returns the bytes written. */
size_t strsafe_put(uint8_t *o, const uint8_t *s, size_t n);

#endif
