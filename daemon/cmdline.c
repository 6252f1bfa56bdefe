/* cmdline.c: an exec's arguments joined into one shell-quoted line (the args key). */
#include <stdbool.h>
#include <string.h>

#include "cmdline.h"

/* Bytes a word may have unquoted: shlex.quote's safe set, ASCII only. */
static bool plain(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '@': case '%': case '+': case '=': case ':': case ',': case '.': case '/': case '_': case '-':
		return true;
	default:
		return false;
	}
}

static size_t put_word(uint8_t *o, const uint8_t *w, size_t n)
{
	size_t k = 0, i;

	for (i = 0; i < n && plain(w[i]); i++)
		;
	if (n && i == n) {
		memcpy(o, w, n);
		return n;
	}
	o[k++] = '\'';
	for (i = 0; i < n; i++) {
		if (w[i] == '\'') {
			/* close, a quote in double quotes, reopen: no backslash for the escape to double */
			memcpy(o + k, "'\"'\"'", 5);
			k += 5;
		} else {
			o[k++] = w[i];
		}
	}
	o[k++] = '\'';
	return k;
}

size_t cmdline_join(uint8_t *dst, const uint8_t *src, size_t n)
{
	size_t o = 0, at = 0;

	while (at < n) {
		const uint8_t *nul = memchr(src + at, 0, n - at);
		size_t len = nul ? (size_t)(nul - (src + at)) : n - at;

		if (o)
			dst[o++] = ' ';
		o += put_word(dst + o, src + at, len);
		at += len + (nul ? 1 : 0);
	}
	return o;
}
