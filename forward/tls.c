/* tls.c: TLS for the Forward client: OpenSSL sessions over memory BIOs, with messages that say what was refused. */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls.h"

struct fwd_tls_ctx {
	SSL_CTX *ctx;
	bool verify, check_name;
};

struct fwd_tls {
	SSL *ssl;
	BIO *in, *out;          /* the socket's bytes to OpenSSL, and OpenSSL's to the socket (the SSL owns both) */
	bool verify;
	char name[256];         /* the name the certificate must carry, for messages */
};

/* The first of OpenSSL's queued errors as text ("" when there is none); the queue is emptied. */
static const char *ossl_error(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	buf[0] = '\0';
	if (e)
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static struct fwd_tls_ctx *ctx_fail(struct fwd_tls_ctx *c, char *err, size_t errlen, const char *what, const char *file)
{
	char e[256];

	snprintf(err, errlen, "%s %s: %s", what, file, ossl_error(e, sizeof(e)));
	fwd_tls_ctx_free(c);
	return NULL;
}

struct fwd_tls_ctx *fwd_tls_ctx_new(const struct fwd_tls_config *cfg, char *err, size_t errlen)
{
	struct fwd_tls_ctx *c = calloc(1, sizeof(*c));

	ERR_clear_error();
	if (!c || !(c->ctx = SSL_CTX_new(TLS_client_method()))) {
		snprintf(err, errlen, "tls: cannot set up OpenSSL (out of memory?)");
		fwd_tls_ctx_free(c);
		return NULL;
	}
	c->verify = cfg->verify;
	c->check_name = cfg->verify && !cfg->no_name_check;
	/* TLS 1.2 and 1.3 only; renegotiation would let the receiver make us read in the middle of a write */
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(c->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_verify(c->ctx, cfg->verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
	if (cfg->ca_file || cfg->ca_path) {
		if (SSL_CTX_load_verify_locations(c->ctx, cfg->ca_file, cfg->ca_path) != 1)
			return ctx_fail(c, err, errlen, cfg->ca_file ? "tls.ca_file" : "tls.ca_path",
					cfg->ca_file ? cfg->ca_file : cfg->ca_path);
	} else if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
		return ctx_fail(c, err, errlen, "tls: the system's CA store", X509_get_default_cert_file());
	}
	if (cfg->crt_file && SSL_CTX_use_certificate_chain_file(c->ctx, cfg->crt_file) != 1)
		return ctx_fail(c, err, errlen, "tls.crt_file", cfg->crt_file);
	if (cfg->key_file && SSL_CTX_use_PrivateKey_file(c->ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1 &&
	    ERR_GET_REASON(ERR_peek_error()) != X509_R_KEY_VALUES_MISMATCH)
		return ctx_fail(c, err, errlen, "tls.key_file", cfg->key_file);
	/* a key that is not the certificate's is refused by the call above already, or here */
	if (cfg->key_file && (ERR_peek_error() || SSL_CTX_check_private_key(c->ctx) != 1))
		return ctx_fail(c, err, errlen, "tls.key_file is not the key of tls.crt_file; key", cfg->key_file);
	return c;
}

void fwd_tls_ctx_free(struct fwd_tls_ctx *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

bool fwd_tls_verifies(const struct fwd_tls_ctx *c)
{
	return c->verify;
}

static bool is_address(const char *name)
{
	unsigned char a[16];

	return inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1;
}

struct fwd_tls *fwd_tls_new(struct fwd_tls_ctx *ctx, const char *name, char *err, size_t errlen)
{
	struct fwd_tls *t = calloc(1, sizeof(*t));
	char e[256];

	ERR_clear_error();
	if (!t || !(t->ssl = SSL_new(ctx->ctx)) || !(t->in = BIO_new(BIO_s_mem())) || !(t->out = BIO_new(BIO_s_mem()))) {
		snprintf(err, errlen, "tls: cannot start a session (out of memory?)");
		if (t && !t->ssl) {
			BIO_free(t->in);
			BIO_free(t->out);
		}
		fwd_tls_free(t);
		return NULL;
	}
	SSL_set_bio(t->ssl, t->in, t->out);
	SSL_set_connect_state(t->ssl);
	t->verify = ctx->verify;
	snprintf(t->name, sizeof(t->name), "%s", name);
	/* an address is checked against the certificate's IP names, and is no SNI (RFC 6066 forbids it) */
	if (is_address(name)) {
		if (ctx->check_name && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name) != 1)
			goto fail;
	} else if (SSL_set_tlsext_host_name(t->ssl, name) != 1 || (ctx->check_name && SSL_set1_host(t->ssl, name) != 1)) {
		goto fail;
	}
	SSL_set_hostflags(t->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return t;
fail:
	snprintf(err, errlen, "tls: cannot use \"%s\" as the receiver's name: %s", name, ossl_error(e, sizeof(e)));
	fwd_tls_free(t);
	return NULL;
}

void fwd_tls_free(struct fwd_tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl); /* and the BIOs with it */
	free(t);
}

int fwd_tls_feed(struct fwd_tls *t, const void *data, size_t len)
{
	return len <= INT_MAX && BIO_write(t->in, data, (int)len) == (int)len ? 0 : -1;
}

/* The verification's verdict in words: which of the usual causes it was, and what to look at. */
static void verify_failed(struct fwd_tls *t, long v, char *err, size_t errlen)
{
	const char *why = X509_verify_cert_error_string(v);

	switch (v) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		snprintf(err, errlen, "the receiver's certificate has expired (%s)", why);
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		snprintf(err, errlen, "the receiver's certificate is not valid yet (%s; is the clock right?)", why);
		break;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		snprintf(err, errlen, "the receiver's certificate is not for \"%s\" (%s; the name checked is tls.vhost, else the Host)",
			 t->name, why);
		break;
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		snprintf(err, errlen, "the receiver's certificate is not signed by a CA we trust (%s; tls.ca_file, "
			 "tls.ca_path, else the system's store)", why);
		break;
	default:
		snprintf(err, errlen, "the receiver's certificate is refused: %s", why);
	}
}

/* A failed SSL call (ret) in words; 0 when it only waits for the receiver's bytes. */
static int failed(struct fwd_tls *t, int ret, const char *during, char *err, size_t errlen)
{
	char e[256];
	int code = SSL_get_error(t->ssl, ret);
	long v;

	if (code == SSL_ERROR_WANT_READ)
		return 0;
	if (code == SSL_ERROR_ZERO_RETURN) {
		snprintf(err, errlen, "the receiver ended the TLS session (close_notify)");
		ERR_clear_error();
		return -1;
	}
	if (t->verify && (v = SSL_get_verify_result(t->ssl)) != X509_V_OK) {
		verify_failed(t, v, err, errlen);
		ERR_clear_error();
		return -1;
	}
	ossl_error(e, sizeof(e));
	snprintf(err, errlen, "TLS %s failed: %s", during,
		 e[0] ? e : code == SSL_ERROR_SYSCALL ? "the receiver's bytes ended" : "an OpenSSL error without a reason");
	return -1;
}

int fwd_tls_handshake(struct fwd_tls *t, char *err, size_t errlen)
{
	int r;

	ERR_clear_error();
	if ((r = SSL_do_handshake(t->ssl)) == 1)
		return 1;
	return failed(t, r, "handshake", err, errlen) == 0 ? 0 : -1;
}

ssize_t fwd_tls_read(struct fwd_tls *t, void *buf, size_t len, char *err, size_t errlen)
{
	int r;

	ERR_clear_error();
	if ((r = SSL_read(t->ssl, buf, len > INT_MAX ? INT_MAX : (int)len)) > 0)
		return r;
	return failed(t, r, "read", err, errlen);
}

int fwd_tls_write(struct fwd_tls *t, const void *buf, size_t len, char *err, size_t errlen)
{
	int r;

	if (len > INT_MAX) {
		snprintf(err, errlen, "TLS write of %zu bytes: too large", len);
		return -1;
	}
	ERR_clear_error();
	/* the memory BIO takes everything: a write is whole, or it failed */
	if ((r = SSL_write(t->ssl, buf, (int)len)) == (int)len)
		return 0;
	if (failed(t, r, "write", err, errlen) == 0)
		snprintf(err, errlen, "TLS write wants to read first (renegotiation is off; a protocol error?)");
	return -1;
}

size_t fwd_tls_pending(struct fwd_tls *t)
{
	return BIO_ctrl_pending(t->out);
}

size_t fwd_tls_take(struct fwd_tls *t, void *out, size_t len)
{
	int n = BIO_read(t->out, out, len > INT_MAX ? INT_MAX : (int)len);

	return n > 0 ? (size_t)n : 0;
}

void fwd_tls_describe(struct fwd_tls *t, char *out, size_t len)
{
	snprintf(out, len, "%s %s", SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl));
}
