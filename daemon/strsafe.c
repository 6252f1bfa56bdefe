/* strsafe.c: the lossless escape that makes a record's strings valid UTF-8 (\xHH for bad bytes, \\). */
#include <string.h>

#include "strsafe.h"

/*
 * Bytes at the start of s that need nothing: ASCII but the backslash. Eight
 * at a time: a word is clean when no byte has its high bit and none is a
 * backslash (the classic zero-byte test on the word xor backslashes).
 */
static size_t clean_prefix(const uint8_t *s, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		if (strsafe_word_flags(w))
			break;
	}
	for (; i < n; i++)
		if (s[i] >= 0x80 || s[i] == '\\')
			break;
	return i;
}

size_t strsafe_utf8_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0], lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3)
			return 0;
		if (c == 0xe0)
			lo = 0xa0; /* else overlong */
		if (c == 0xed)
			hi = 0x9f; /* else a surrogate */
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4)
			return 0;
		if (c == 0xf0)
			lo = 0x90; /* else overlong */
		if (c == 0xf4)
			hi = 0x8f; /* else past U+10FFFF */
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/*
 * Writes (out NULL: counts) the escaped form of s. Runs that need nothing
 * are skipped 8 bytes at a time, also after a byte that needed a look, so
 * a name with one accented letter is not walked byte by byte.
 */
static size_t escape(uint8_t *out, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i = 0, o = 0;

	while (i < n) {
		size_t run = i + clean_prefix(s + i, n - i) - i, l;
		uint8_t c;

		if (out)
			memcpy(out + o, s + i, run);
		i += run;
		o += run;
		if (i >= n)
			break;
		c = s[i];
		if (c == '\\') {
			if (out)
				out[o] = out[o + 1] = '\\';
			o += 2;
			i++;
			continue;
		}
		l = strsafe_utf8_len(s + i, n - i);
		if (!l) {
			if (out) {
				out[o] = '\\';
				out[o + 1] = 'x';
				out[o + 2] = (uint8_t)hex[c >> 4];
				out[o + 3] = (uint8_t)hex[c & 15];
			}
			o += 4;
			i++;
			continue;
		}
		if (out)
			memcpy(out + o, s + i, l);
		o += l;
		i += l;
	}
	return o;
}

size_t strsafe_len(const uint8_t *s, size_t n)
{
	return escape(NULL, s, n);
}

size_t strsafe_write(uint8_t *o, const uint8_t *s, size_t n)
{
	return escape(o, s, n);
}

/*
 * One pass: the text is written after a header for n bytes, the least it
 * can need; in the rare case the escaped text needs a longer header (it
 * grew past 31, 255 or 65535 bytes), it is moved up. Room: STRSAFE_MAX(n).
 */
size_t strsafe_put_escaped(uint8_t *o, const uint8_t *s, size_t n)
{
	size_t h = mp_put_str_hdr(o, n), len = escape(o + h, s, n), hl;
	uint8_t hdr[5];

	hl = mp_put_str_hdr(hdr, len);
	if (hl != h)
		memmove(o + hl, o + h, len);
	memcpy(o, hdr, hl);
	return hl + len;
}
