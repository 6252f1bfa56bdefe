/* auth.h: the Forward protocol's shared-key handshake (HELO, PING, PONG): bounded parsers, the PING, the digests. */
#ifndef FWD_AUTH_H
#define FWD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The handshake, as Fluent Bit's in_forward and out_forward do it:
 *
 *   receiver: ["HELO", {"nonce": str|bin, "auth": str|bin, "keepalive"?: bool}]
 *   sender:   ["PING", self_hostname, salt, hex(sha512(salt + self_hostname + nonce + shared_key)),
 *              username or "", hex(sha512(auth + username + password)) or ""]
 *   receiver: ["PONG", auth_ok, reason, server_hostname, hex(sha512(salt + server_hostname + nonce + shared_key))]
 *
 * Nothing here reads the network or allocates: the caller hands in the bytes
 * it has, and a parser says whether they hold a whole message (> 0, its
 * length), need more (0), or can never be one (-1); a message has to fit in
 * FWD_AUTH_MAX_MSG bytes. Every failure leaves its reason in err.
 */

#define FWD_AUTH_MAX_MSG 1024      /* a HELO or a PONG longer than this is refused; Fluent Bit reads into 1 KiB */
#define FWD_AUTH_MAX_FIELD 256     /* nonce, auth salt: Fluent Bit sends 16 bytes, Fluentd 32 */
#define FWD_AUTH_MAX_NAME 255      /* Self_Hostname, Username, the server's hostname, the reason */
#define FWD_AUTH_MAX_MAP 16        /* keys in the HELO's options */
#define FWD_AUTH_SALT_LEN 16       /* our salt: 16 random bytes, sent as a str, as Fluent Bit's out_forward does */
#define FWD_AUTH_HEX_LEN 128       /* hex of a SHA-512 */
/* the PING: ~300 bytes plus the hostname and the username, each at most 255; Fluent Bit reads it into 1023 */
#define FWD_AUTH_PING_MAX 1024

struct fwd_helo {
	uint8_t nonce[FWD_AUTH_MAX_FIELD];
	size_t nonce_len;
	uint8_t auth[FWD_AUTH_MAX_FIELD]; /* the salt for the user's password; empty: no user auth asked */
	size_t auth_len;
	bool keepalive;                   /* true when absent, as the spec says */
};

struct fwd_auth_creds {
	const char *shared_key;
	const char *self_hostname;
	const char *username;             /* NULL or "": none */
	const char *password;
};

/* hex(sha512(parts[0] + ... + parts[n-1])) into out (FWD_AUTH_HEX_LEN chars and a NUL); -1 if libcrypto fails. */
int fwd_auth_sha512_hex(const void *const parts[], const size_t lens[], size_t n, char out[FWD_AUTH_HEX_LEN + 1]);

/* 16 random bytes for a salt (libcrypto's RAND_bytes); -1 when there are none to be had. */
int fwd_auth_salt(uint8_t salt[FWD_AUTH_SALT_LEN]);

/* Constant-time equality of two byte strings of the same length. */
bool fwd_auth_equal(const void *a, const void *b, size_t n);

/* A HELO at the start of b[0, n): > 0 its length, 0 more bytes are needed, -1 not a HELO (err says why). */
int fwd_auth_parse_helo(const uint8_t *b, size_t n, struct fwd_helo *h, char *err, size_t errlen);

/*
 * The PING answering h, into out (room for FWD_AUTH_PING_MAX). The user's
 * name and password digest go only when the HELO carries an auth salt and a
 * username is set; otherwise both are "". Returns its length, or -1 (err).
 */
int fwd_auth_build_ping(const struct fwd_helo *h, const uint8_t salt[FWD_AUTH_SALT_LEN],
			const struct fwd_auth_creds *cr, uint8_t *out, size_t cap, char *err, size_t errlen);

/*
 * The PONG at the start of b[0, n), checked: its shape, auth_ok, and its
 * digest, which only a receiver that knows the shared key can make (compared
 * in constant time), for a hostname that is not our own Self_Hostname (else
 * our PING's digest, sent back, would pass: Fluentd refuses it too). > 0 its length (the receiver is who it should be), 0 more
 * bytes are needed, -1 refused or malformed (err says why). server_host, when
 * not NULL, gets the receiver's hostname (room for FWD_AUTH_MAX_NAME + 1).
 */
int fwd_auth_check_pong(const uint8_t *b, size_t n, const struct fwd_helo *h, const uint8_t salt[FWD_AUTH_SALT_LEN],
			const struct fwd_auth_creds *cr, char *server_host, char *err, size_t errlen);

#endif
