/*
 * fuzz_auth.c: any bytes as a receiver's HELO or PONG (the first byte chooses),
 * parsed as the client does: > 0 within the bytes given and FWD_AUTH_MAX_MSG,
 * -1 always with a reason, a prefix of a whole message always "need more";
 * and a PONG the parser takes must carry the digest only the key can make.
 */
#include <string.h>

#include "auth.h"
#include "fuzz.h"

/* A fixed handshake to check PONGs against: a HELO's nonce, our salt, our key. */
static const struct fwd_auth_creds creds = {.shared_key = "fuzz-key", .self_hostname = "fuzz-self"};
static const uint8_t salt[FWD_AUTH_SALT_LEN] = "0123456789abcdef";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fwd_helo h = {.nonce = "nonce-of-the-fuzzer", .nonce_len = 19};
	char err[256] = "", host[FWD_AUTH_MAX_NAME + 1];
	uint8_t *b;
	bool pong;
	int r;

	if (!size)
		return 0;
	pong = data[0] & 1;
	/* an exact-size copy of the rest: a read past the end is an ASan report */
	size--;
	b = malloc(size ? size : 1);
	FUZZ_CHECK(b, "malloc");
	memcpy(b, data + 1, size);
	r = pong ? fwd_auth_check_pong(b, size, &h, salt, &creds, host, err, sizeof(err))
		 : fwd_auth_parse_helo(b, size, &h, err, sizeof(err));
	FUZZ_CHECK(r >= -1 && (size_t)(r > 0 ? r : 0) <= size && r <= FWD_AUTH_MAX_MSG, "returned %d of %zu", r, size);
	FUZZ_CHECK(r != -1 || (err[0] && memchr(err, '\0', sizeof(err))), "refused without a reason");
	if (r > 0) {
		for (size_t cut = 0; cut < (size_t)r; cut++) {
			struct fwd_helo h2 = {.nonce = "nonce-of-the-fuzzer", .nonce_len = 19};
			int c = pong ? fwd_auth_check_pong(b, cut, &h2, salt, &creds, NULL, err, sizeof(err))
				     : fwd_auth_parse_helo(b, cut, &h2, err, sizeof(err));

			FUZZ_CHECK(c == 0 || c == -1, "a prefix of %zu of %d returned %d", cut, r, c);
		}
		if (!pong)
			FUZZ_CHECK(h.nonce_len <= FWD_AUTH_MAX_FIELD && h.auth_len <= FWD_AUTH_MAX_FIELD, "fields too long");
		else
			FUZZ_CHECK(strlen(host) <= FWD_AUTH_MAX_NAME && strcmp(host, "fuzz-self") != 0, "host %s", host);
	}
	free(b);
	return 0;
}
