/* tls_certs.h: certificates the tests make for TLS: a CA, another CA, a receiver's (right, expired, wrong name), a client's. */
#ifndef EBPF_FORWARD_TEST_TLS_CERTS_H
#define EBPF_FORWARD_TEST_TLS_CERTS_H

#define TLS_CERTS_PATH 96

/* PEM files in a fresh directory; keys are root's, mode 0600 (a key file must be, for the daemon). */
struct tls_certs {
	char dir[64];
	char ca[TLS_CERTS_PATH];          /* the CA that signs everything below */
	char other_ca[TLS_CERTS_PATH];    /* a CA that signs nothing of ours */
	char server_crt[TLS_CERTS_PATH];  /* "localhost", DNS:localhost and IP:127.0.0.1, valid now */
	char server_key[TLS_CERTS_PATH];  /* the key of every receiver certificate */
	char expired_crt[TLS_CERTS_PATH]; /* the same names, expired an hour ago */
	char wrong_name_crt[TLS_CERTS_PATH]; /* valid now, for wrong.example only */
	char client_crt[TLS_CERTS_PATH];  /* "ebpf-forward", for clientAuth */
	char client_key[TLS_CERTS_PATH];
};

/* Makes them all; exits 2 with the reason if it cannot. */
void tls_certs_make(struct tls_certs *t);

/* Removes the files and the directory. */
void tls_certs_cleanup(struct tls_certs *t);

#endif
