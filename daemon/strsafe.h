/* strsafe.h: record strings made valid UTF-8, losslessly: the escape every str field goes through. */
#ifndef EBPF_FORWARD_STRSAFE_H
#define EBPF_FORWARD_STRSAFE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mpbuf.h"

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

/* strsafe_put's way for a string that needs an escape. */
size_t strsafe_put_escaped(uint8_t *o, const uint8_t *s, size_t n);

#define STRSAFE_HIGHS 0x8080808080808080ull
#define STRSAFE_ONES 0x0101010101010101ull
#define STRSAFE_BACKSLASHES 0x5c5c5c5c5c5c5c5cull

/* Nonzero in a high bit when a byte of w has its high bit or is a backslash (the zero-byte test on w ^ '\\'s). */
static inline uint64_t strsafe_word_flags(uint64_t w)
{
	uint64_t x = w ^ STRSAFE_BACKSLASHES;

	return (w | ((x - STRSAFE_ONES) & ~x)) & STRSAFE_HIGHS;
}

/*
 * Writes s as a msgpack str of its escaped form to o (room: STRSAFE_MAX(n));
 * returns the bytes written. Inline for the common case, ASCII without a
 * backslash: the bytes are copied as they are, and checked 8 at a time
 * without a branch per word (the last 8 again for the tail); only when a
 * flag comes up is the string written again, escaped.
 */
static inline __attribute__((always_inline)) size_t strsafe_put(uint8_t *o, const uint8_t *s, size_t n)
{
	size_t h = mp_put_str_hdr(o, n), i = 0;
	uint64_t flags = 0, w;

	memcpy(o + h, s, n);
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		flags |= strsafe_word_flags(w);
	}
	if (i < n && n >= 8) {
		memcpy(&w, s + n - 8, 8);
		flags |= strsafe_word_flags(w);
	} else {
		for (; i < n; i++)
			flags |= s[i] >= 0x80 || s[i] == '\\' ? STRSAFE_HIGHS : 0;
	}
	if (flags)
		return strsafe_put_escaped(o, s, n);
	return h + n;
}

/* The bytes of w below byte n (n <= 8), the rest cleared. */
static inline uint64_t strsafe_low_bytes(uint64_t w, size_t n)
{
	return n >= 8 ? w : w & ((1ull << (8 * n)) - 1);
}

/*
 * The same for a 16-byte field that holds a string up to its first NUL, or
 * 16 bytes without one (a task's comm): strnlen(s, 16) and the check are two
 * word tests, and the copy two stores (room: STRSAFE_MAX(16)). Byte order
 * little-endian; elsewhere the general way.
 */
static inline __attribute__((always_inline)) size_t strsafe_put_nul16(uint8_t *o, const uint8_t *s)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t w0, w1, z;
	size_t n;

	memcpy(&w0, s, 8);
	memcpy(&w1, s + 8, 8);
	/* the lowest flagged byte is the first NUL (flags above a NUL may be false) */
	if ((z = (w0 - STRSAFE_ONES) & ~w0 & STRSAFE_HIGHS))
		n = (size_t)__builtin_ctzll(z) >> 3;
	else if ((z = (w1 - STRSAFE_ONES) & ~w1 & STRSAFE_HIGHS))
		n = 8 + ((size_t)__builtin_ctzll(z) >> 3);
	else
		n = 16;
	if (strsafe_low_bytes(strsafe_word_flags(w0), n) |
	    (n > 8 ? strsafe_low_bytes(strsafe_word_flags(w1), n - 8) : 0))
		return strsafe_put_escaped(o, s, n);
	o[0] = (uint8_t)(0xa0 | n);
	memcpy(o + 1, s, 16);
	return 1 + n;
#else
	return strsafe_put(o, s, strnlen((const char *)s, 16));
#endif
}

#endif
