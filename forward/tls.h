/* tls.h: TLS for the Forward client: OpenSSL over memory buffers, so the socket stays libuv's. */
#ifndef FWD_TLS_H
#define FWD_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Out_forward's tls.* keys. Files are read once, by fwd_tls_ctx_new (as root, before the drop). */
struct fwd_tls_config {
	bool verify;               /* tls.verify: the receiver's certificate chain and name are checked (default on) */
	bool no_name_check;        /* tls.verify_hostname off: the chain is checked, the name is not */
	const char *ca_file;       /* tls.ca_file: PEM CAs to trust; NULL with ca_path NULL: the system's store */
	const char *ca_path;       /* tls.ca_path: a directory of hashed CA certificates */
	const char *crt_file;      /* tls.crt_file: our certificate (chain), for receivers that ask for one */
	const char *key_file;      /* tls.key_file: its private key */
};

struct fwd_tls_ctx;
struct fwd_tls;

/* The settings of every connection of one output; NULL and err filled when a file or setting is refused. */
struct fwd_tls_ctx *fwd_tls_ctx_new(const struct fwd_tls_config *cfg, char *err, size_t errlen);
void fwd_tls_ctx_free(struct fwd_tls_ctx *ctx);

/* Whether the receiver's certificate is checked (tls.verify). */
bool fwd_tls_verifies(const struct fwd_tls_ctx *ctx);

/*
 * A client session for one connection; name is sent as SNI (unless it is an
 * address) and, with verify, must be in the certificate (DNS or IP subject
 * alternative name). NULL and err filled on failure.
 */
struct fwd_tls *fwd_tls_new(struct fwd_tls_ctx *ctx, const char *name, char *err, size_t errlen);
void fwd_tls_free(struct fwd_tls *t);

/* Bytes from the socket, for the session to decrypt; -1 if out of memory. */
int fwd_tls_feed(struct fwd_tls *t, const void *data, size_t len);

/* Moves the handshake on: 1 done, 0 needs more bytes from the receiver, -1 failed (err says why). */
int fwd_tls_handshake(struct fwd_tls *t, char *err, size_t errlen);

/* Plaintext decrypted so far into buf: bytes, 0 when none is whole yet, -1 when the session ended or failed (err). */
ssize_t fwd_tls_read(struct fwd_tls *t, void *buf, size_t len, char *err, size_t errlen);

/* Encrypts all of buf (the records to send sit in the output buffer); -1 on failure (err). */
int fwd_tls_write(struct fwd_tls *t, const void *buf, size_t len, char *err, size_t errlen);

/* Encrypted bytes waiting to go to the socket, and taking up to len of them (returns how many). */
size_t fwd_tls_pending(struct fwd_tls *t);
size_t fwd_tls_take(struct fwd_tls *t, void *out, size_t len);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384", for the log. */
void fwd_tls_describe(struct fwd_tls *t, char *out, size_t len);

#endif
