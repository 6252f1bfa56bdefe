/* tls_certs.c: makes the tests' CA and certificates with libcrypto, each validity and name chosen by the test. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tls_certs.h"

#define DAY (24L * 3600)

/* Made before the tests run, so a failure stops the suite with OpenSSL's reason. */
#define NEED(c)                                                                  \
	do {                                                                     \
		if (!(c)) {                                                      \
			fprintf(stderr, "tls_certs: %s failed\n", #c);           \
			ERR_print_errors_fp(stderr);                             \
			exit(2);                                                 \
		}                                                                \
	} while (0)

struct ext {
	int nid;
	const char *value;
};

/* One X.509 v3 certificate of key, signed by issuer (NULL: by itself), valid from now+from_s to now+to_s. */
static X509 *make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, long from_s, long to_s,
		       const struct ext *exts)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509V3_CTX ctx;

	NEED(x);
	NEED(X509_set_version(x, 2) == 1);
	NEED(ASN1_INTEGER_set(X509_get_serialNumber(x), serial++) == 1);
	NEED(X509_gmtime_adj(X509_getm_notBefore(x), from_s));
	NEED(X509_gmtime_adj(X509_getm_notAfter(x), to_s));
	NEED(X509_set_pubkey(x, key) == 1);
	NEED(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
					0) == 1);
	NEED(X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x)) == 1);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	for (; exts->value; exts++) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, exts->nid, exts->value);

		NEED(e);
		NEED(X509_add_ext(x, e, -1) == 1);
		X509_EXTENSION_free(e);
	}
	NEED(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

static void path_of(char *out, const struct tls_certs *t, const char *name)
{
	snprintf(out, TLS_CERTS_PATH, "%s/%s", t->dir, name);
}

static FILE *create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	NEED(f);
	return f;
}

static void write_cert(const char *path, X509 *x)
{
	FILE *f = create(path);

	NEED(PEM_write_X509(f, x) == 1);
	fclose(f);
}

static void write_key(const char *path, EVP_PKEY *k)
{
	FILE *f = create(path);

	NEED(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);
}

void tls_certs_make(struct tls_certs *t)
{
	const struct ext ca_ext[] = {{NID_basic_constraints, "critical,CA:TRUE"},
				     {NID_key_usage, "critical,keyCertSign,cRLSign"},
				     {NID_subject_key_identifier, "hash"}, {0, NULL}};
	const struct ext server_ext[] = {{NID_basic_constraints, "critical,CA:FALSE"},
					 {NID_key_usage, "critical,digitalSignature"},
					 {NID_ext_key_usage, "serverAuth"},
					 {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
					 {NID_authority_key_identifier, "keyid:always"}, {0, NULL}};
	const struct ext wrong_ext[] = {{NID_basic_constraints, "critical,CA:FALSE"},
					{NID_key_usage, "critical,digitalSignature"},
					{NID_ext_key_usage, "serverAuth"},
					{NID_subject_alt_name, "DNS:wrong.example"},
					{NID_authority_key_identifier, "keyid:always"}, {0, NULL}};
	const struct ext client_ext[] = {{NID_basic_constraints, "critical,CA:FALSE"},
					 {NID_key_usage, "critical,digitalSignature"},
					 {NID_ext_key_usage, "clientAuth"},
					 {NID_authority_key_identifier, "keyid:always"}, {0, NULL}};
	EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *other_key = EVP_EC_gen("P-256");
	EVP_PKEY *server_key = EVP_EC_gen("P-256"), *client_key = EVP_EC_gen("P-256");
	X509 *ca, *other, *x;

	NEED(ca_key && other_key && server_key && client_key);
	snprintf(t->dir, sizeof(t->dir), "/tmp/ebpf-forward-tls-XXXXXX");
	NEED(mkdtemp(t->dir));
	path_of(t->ca, t, "ca.crt");
	path_of(t->other_ca, t, "other-ca.crt");
	path_of(t->server_crt, t, "server.crt");
	path_of(t->server_key, t, "server.key");
	path_of(t->expired_crt, t, "expired.crt");
	path_of(t->wrong_name_crt, t, "wrong-name.crt");
	path_of(t->client_crt, t, "client.crt");
	path_of(t->client_key, t, "client.key");

	ca = make_cert("ebpf-forward test CA", ca_key, NULL, NULL, -DAY, DAY, ca_ext);
	other = make_cert("another test CA", other_key, NULL, NULL, -DAY, DAY, ca_ext);
	write_cert(t->ca, ca);
	write_cert(t->other_ca, other);
	x = make_cert("localhost", server_key, ca, ca_key, -3600, DAY, server_ext);
	write_cert(t->server_crt, x);
	X509_free(x);
	x = make_cert("localhost", server_key, ca, ca_key, -2 * DAY, -3600, server_ext);
	write_cert(t->expired_crt, x);
	X509_free(x);
	x = make_cert("wrong.example", server_key, ca, ca_key, -3600, DAY, wrong_ext);
	write_cert(t->wrong_name_crt, x);
	X509_free(x);
	x = make_cert("ebpf-forward", client_key, ca, ca_key, -3600, DAY, client_ext);
	write_cert(t->client_crt, x);
	X509_free(x);
	write_key(t->server_key, server_key);
	write_key(t->client_key, client_key);
	X509_free(ca);
	X509_free(other);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(server_key);
	EVP_PKEY_free(client_key);
}

void tls_certs_cleanup(struct tls_certs *t)
{
	const char *files[] = {t->ca, t->other_ca, t->server_crt, t->server_key, t->expired_crt, t->wrong_name_crt,
			       t->client_crt, t->client_key};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(files[i]);
	rmdir(t->dir);
}
