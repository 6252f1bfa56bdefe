/* traces/openssl.c: the openssl trace: libssl's handshake, read, write and shutdown calls, by uprobes on each libssl found. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* events.h first: the skeleton names its structs */
#include "events.h"
#include "openssl.skel.h"
#include "log.h"
#include "schema_pack.h"
#include "trace_unit.h"
#include "uprobe.h"

/* in_ebpf's trace key and our function key, both by enum ev_tls_fn */
static const struct schema_name trace_names[] = {
	NAME("openssl_tls_handshake"), NAME("openssl_tls_read"), NAME("openssl_tls_read"),
	NAME("openssl_tls_write"), NAME("openssl_tls_write"), NAME("openssl_tls_shutdown"),
};
static const struct schema_name function_names[] = {
	NAME("SSL_do_handshake"), NAME("SSL_read"), NAME("SSL_read_ex"), NAME("SSL_write"), NAME("SSL_write_ex"), NAME("SSL_shutdown"),
};

static const struct schema_field fields[] = {
	FN("trace", struct ev_tls, function, trace_names),
	F("ssl_ptr", SF_U64, struct ev_tls, ssl_ptr),
	F("latency_ns", SF_S64, struct ev_tls, latency_ns),
	F("ret", SF_S64, struct ev_tls, ret),
	FN("function", struct ev_tls, function, function_names),
};

SCHEMA_DEFINE(handshake_type, EV_TLS_HANDSHAKE, "tls_handshake", struct ev_tls, fields);
SCHEMA_DEFINE(read_type, EV_TLS_READ, "tls_read", struct ev_tls, fields);
SCHEMA_DEFINE(write_type, EV_TLS_WRITE, "tls_write", struct ev_tls, fields);
SCHEMA_DEFINE(shutdown_type, EV_TLS_SHUTDOWN, "tls_shutdown", struct ev_tls, fields);

static const struct uprobe_spec probes[] = {
	{"openssl_handshake_enter", "SSL_do_handshake", false},
	{"openssl_handshake_exit", "SSL_do_handshake", true},
	{"openssl_read_enter", "SSL_read", false},
	{"openssl_read_exit", "SSL_read", true},
	{"openssl_read_ex_enter", "SSL_read_ex", false},
	{"openssl_read_ex_exit", "SSL_read_ex", true},
	{"openssl_write_enter", "SSL_write", false},
	{"openssl_write_exit", "SSL_write", true},
	{"openssl_write_ex_enter", "SSL_write_ex", false},
	{"openssl_write_ex_exit", "SSL_write_ex", true},
	{"openssl_shutdown_enter", "SSL_shutdown", false},
	{"openssl_shutdown_exit", "SSL_shutdown", true},
};

/* What the system's loader is asked for: OpenSSL 3, and 1.1 where it is still installed. */
static const char *const sonames[] = {"libssl.so.3", "libssl.so.1.1"};

#define LIBSSL_MAX (SCHEMA_LEN(sonames) + TRACE_OPENSSL_PATHS)

/* The files to probe, each once: a uprobe is on an inode, so a second path to it would double every record. */
struct libssl_set {
	char found[SCHEMA_LEN(sonames)][TRACE_PATH_MAX];
	const char *path[LIBSSL_MAX];
	struct stat st[LIBSSL_MAX];
	size_t n;
};

static int libssl_add(struct libssl_set *s, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st)) {
		snprintf(err, errlen, "OpenSSL_Path %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "OpenSSL_Path %s: not a regular file", path);
		return -1;
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->st[i].st_dev == st.st_dev && s->st[i].st_ino == st.st_ino)
			return 0;
	s->st[s->n] = st;
	s->path[s->n++] = path;
	return 0;
}

/* The system's libssl (by the loader's rules, see uprobe_find_soname), then OpenSSL_Path's. */
static int libssl_find(const struct trace_opts *o, struct libssl_set *s, char *err, size_t errlen)
{
	s->n = 0;
	for (size_t i = 0; i < SCHEMA_LEN(sonames); i++) {
		int rc = uprobe_find_soname(sonames[i], s->found[i], sizeof(s->found[i]), err, errlen);

		if (rc < 0 || (rc == 1 && libssl_add(s, s->found[i], err, errlen)))
			return -1;
	}
	for (unsigned i = 0; i < o->openssl_path_count && i < TRACE_OPENSSL_PATHS; i++)
		if (libssl_add(s, o->openssl_paths[i], err, errlen))
			return -1;
	if (!s->n) {
		snprintf(err, errlen, "no libssl found: the system's loader knows neither libssl.so.3 nor "
			 "libssl.so.1.1, and no OpenSSL_Path is set");
		return -1;
	}
	return 0;
}

/* Every libssl found gets the uprobes of the functions it has; one with none of them is not a libssl. */
static int attach(struct bpf_object *obj, const struct trace_opts *o, struct trace_links *links,
		  char *err, size_t errlen)
{
	struct libssl_set s;
	char missing[128];

	if (libssl_find(o, &s, err, errlen))
		return -1;
	for (size_t i = 0; i < s.n; i++) {
		int k = uprobe_attach_present(obj, s.path[i], probes, SCHEMA_LEN(probes), links, missing,
					      sizeof(missing), err, errlen);

		if (k < 0)
			return -1;
		if (k == 0) {
			snprintf(err, errlen, "%s has none of SSL_do_handshake, SSL_read(_ex), SSL_write(_ex), "
				 "SSL_shutdown: not a libssl", s.path[i]);
			return -1;
		}
		if (missing[0])
			log_warn("openssl: %s has no %s: those calls are not traced there", s.path[i], missing);
		else
			log_info("openssl: uprobes on %s", s.path[i]);
	}
	return 0;
}

static void targets(const struct trace_opts *o, char *out, size_t len)
{
	struct libssl_set s;
	char err[512];
	size_t used = 0;

	if (libssl_find(o, &s, err, sizeof(err))) {
		snprintf(out, len, "none (%s)", err);
		return;
	}
	out[0] = '\0';
	for (size_t i = 0; i < s.n && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", i ? " " : "", s.path[i]);
}

const struct trace_unit trace_unit_openssl = {
	.name = "openssl",
	.description = "OpenSSL TLS handshakes, reads, writes and shutdowns, with their latency",
	.attach_points = "uprobe+uretprobe on SSL_do_handshake, SSL_read, SSL_read_ex, SSL_write, "
			 "SSL_write_ex, SSL_shutdown of each libssl.so.3/.so.1.1 found, and OpenSSL_Path's",
	.elf_bytes = openssl_bpf__elf_bytes,
	.types = (const struct schema_type *const[]){&handshake_type, &read_type, &write_type, &shutdown_type,
						     NULL},
	.attach = attach,
	.targets = targets,
};
