/* test_tls.c: the forward client over TLS to the test receiver, with certificates the test makes. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "crig.h"
#include "suite_run.h"
#include "tls.h"
#include "tls_certs.h"

static struct tls_certs certs;

/* What the client is given; unset strings are NULL. */
struct side {
	const char *ca, *crt, *key, *vhost;
	bool no_verify, no_name_check;
	const char *shared_key;
	const char *receiver_crt; /* for delivers(): NULL, the right one */
};

static struct fwd_tls_ctx *tls_ctx(const struct side *s)
{
	struct fwd_tls_config tc = {.verify = !s->no_verify, .no_name_check = s->no_name_check, .ca_file = s->ca,
				    .crt_file = s->crt, .key_file = s->key};
	char err[512];
	struct fwd_tls_ctx *ctx = fwd_tls_ctx_new(&tc, err, sizeof(err));

	ck_assert_msg(ctx, "%s", err);
	return ctx;
}

/* The receiver with crt (and a client CA when asked) over TCP, the client as s says; 5 frames sent. */
static void open_pair(struct receiver *rv, struct crig *r, struct fwd_tls_ctx **ctx, const char *crt,
		      const char *client_ca, const char *receiver_key, const struct side *s)
{
	const char *extra[10] = {"--tls-cert", crt, "--tls-key", certs.server_key};
	size_t n = 4;
	struct fwd_client_config cfg;

	if (client_ca) {
		extra[n++] = "--tls-client-ca";
		extra[n++] = client_ca;
	}
	if (receiver_key) {
		extra[n++] = "--shared-key";
		extra[n++] = receiver_key;
	}
	extra[n] = NULL;
	receiver_start(rv, 0, 0, extra);
	*ctx = tls_ctx(s);
	cfg = crig_config(rv, true, 1 << 20);
	cfg.tls = *ctx;
	cfg.tls_vhost = s->vhost;
	cfg.shared_key = s->shared_key;
	crig_open_with(r, &cfg, NULL);
	for (uint32_t i = 0; i < 5; i++)
		crig_send_frame(r, true, i * ENTRIES_PER_FRAME);
}

static void close_pair(struct receiver *rv, struct crig *r, struct fwd_tls_ctx *ctx)
{
	crig_close(r, 200);
	fwd_tls_ctx_free(ctx);
	receiver_stop(rv);
	receiver_cleanup(rv);
}

/* Every frame arrives, acked, over one TLS connection; the log says how. */
static void delivers(const char *client_ca, const char *receiver_key, const struct side *s, const char *says)
{
	struct receiver rv;
	struct crig r;
	struct fwd_tls_ctx *ctx;
	struct fwd_client_stats st;

	open_pair(&rv, &r, &ctx, s->receiver_crt ? s->receiver_crt : certs.server_crt, client_ca, receiver_key, s);
	ck_assert_msg(crig_run_until(&r, crig_acked_at_least, &(uint64_t){5}, 5000), "not all acked: %s", r.logs);
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.connects, 1);
	ck_assert_uint_eq(st.handshake_failures, 0);
	/* TLS encrypts into its own buffers: nothing of the frames is lent */
	ck_assert_uint_eq(st.frames_lent, 0);
	ck_assert_msg(strstr(r.logs, says), "no \"%s\" in: %s", says, r.logs);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), 5 * ENTRIES_PER_FRAME);
	ck_assert_uint_eq(receiver_stat(&rv, "tls_ok"), 1);
	close_pair(&rv, &r, ctx);
}

static bool failures_at_least(struct crig *r, void *arg)
{
	struct fwd_client_stats st;

	fwd_client_stats(r->c, &st);
	return st.handshake_failures >= *(uint64_t *)arg;
}

/* The handshake fails as it should: nothing reaches the receiver, the frames stay, the warning says why. */
static void refused(const char *crt, const struct side *s, const char *says)
{
	struct receiver rv;
	struct crig r;
	struct fwd_tls_ctx *ctx;
	struct fwd_client_stats st;
	char warning[200];

	open_pair(&rv, &r, &ctx, crt, NULL, NULL, s);
	ck_assert_msg(crig_run_until(&r, failures_at_least, &(uint64_t){2}, 5000), "%s", r.logs);
	fwd_client_stats(r.c, &st);
	ck_assert_uint_eq(st.connects, 0);
	ck_assert_uint_eq(st.frames_sent, 0);
	ck_assert_uint_eq(st.buffered_frames, 5);
	snprintf(warning, sizeof(warning), "forward: handshake with tcp:127.0.0.1:%u failed: %s", rv.port, says);
	ck_assert_msg(strstr(r.logs, warning), "no \"%s\" in: %s", warning, r.logs);
	ck_assert_uint_eq(receiver_stat(&rv, "frames"), 0);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), 0);
	close_pair(&rv, &r, ctx);
}

START_TEST(right_ca_and_name_delivers)
{
	struct side s = {.ca = certs.ca, .vhost = "localhost"};

	delivers(NULL, NULL, &s, "(TLSv1.3 ");
	delivers(NULL, NULL, &s, ", certificate verified)");
}
END_TEST

/* No tls.vhost: the Host itself, an address here, must be in the certificate (IP:127.0.0.1). */
START_TEST(address_host_is_checked_against_the_ip_names)
{
	struct side s = {.ca = certs.ca};

	delivers(NULL, NULL, &s, "certificate verified");
}
END_TEST

START_TEST(wrong_ca_is_refused)
{
	struct side s = {.ca = certs.other_ca, .vhost = "localhost"};

	refused(certs.server_crt, &s, "the receiver's certificate is not signed by a CA we trust");
}
END_TEST

START_TEST(expired_certificate_is_refused)
{
	struct side s = {.ca = certs.ca, .vhost = "localhost"};

	refused(certs.expired_crt, &s, "the receiver's certificate has expired");
}
END_TEST

START_TEST(wrong_name_is_refused)
{
	struct side s = {.ca = certs.ca, .vhost = "localhost"};

	refused(certs.wrong_name_crt, &s, "the receiver's certificate is not for \"localhost\"");
}
END_TEST

/* tls.vhost decides: the right certificate is refused for another name. */
START_TEST(vhost_is_the_name_checked)
{
	struct side s = {.ca = certs.ca, .vhost = "fluent.example"};

	refused(certs.server_crt, &s, "the receiver's certificate is not for \"fluent.example\"");
}
END_TEST

/* tls.verify_hostname off: the wrong name is taken, the wrong CA still is not. */
START_TEST(without_the_name_check_only_the_chain_counts)
{
	struct side s = {.ca = certs.ca, .vhost = "localhost", .no_name_check = true, .receiver_crt = certs.wrong_name_crt};

	delivers(NULL, NULL, &s, "certificate verified");
	s.ca = certs.other_ca;
	refused(certs.wrong_name_crt, &s, "the receiver's certificate is not signed by a CA we trust");
}
END_TEST

START_TEST(tls_and_shared_key_together)
{
	struct side s = {.ca = certs.ca, .vhost = "localhost", .shared_key = "s3cret"};

	delivers(NULL, "s3cret", &s, "certificate verified, shared key verified)");
}
END_TEST

/* Over TLS a wrong key is still found out by the handshake inside it. */
START_TEST(tls_with_a_wrong_shared_key_sends_nothing)
{
	struct side s = {.ca = certs.ca, .vhost = "localhost", .shared_key = "not-the-key"};
	struct receiver rv;
	struct crig r;
	struct fwd_tls_ctx *ctx;

	open_pair(&rv, &r, &ctx, certs.server_crt, NULL, "s3cret", &s);
	ck_assert_msg(crig_run_until(&r, failures_at_least, &(uint64_t){1}, 5000), "%s", r.logs);
	ck_assert_msg(strstr(r.logs, "without a PONG (a Shared_Key that does not match?)"), "%s", r.logs);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), 0);
	ck_assert_uint_ge(receiver_stat(&rv, "tls_ok"), 1);
	close_pair(&rv, &r, ctx);
}
END_TEST

START_TEST(client_certificate_is_presented)
{
	struct side s = {.ca = certs.ca, .vhost = "localhost", .crt = certs.client_crt, .key = certs.client_key};

	delivers(certs.ca, NULL, &s, "certificate verified");
}
END_TEST

/* A receiver that wants a client certificate and gets none takes nothing (TLS 1.3 says so after our Finished). */
START_TEST(without_a_client_certificate_nothing_is_taken)
{
	struct side s = {.ca = certs.ca, .vhost = "localhost"};
	struct receiver rv;
	struct crig r;
	struct fwd_tls_ctx *ctx;
	const char *extra[] = {"--tls-cert", certs.server_crt, "--tls-key", certs.server_key, "--tls-client-ca", certs.ca,
			       NULL};
	struct fwd_client_config cfg;

	receiver_start(&rv, 0, 0, extra);
	ctx = tls_ctx(&s);
	cfg = crig_config(&rv, true, 1 << 20);
	cfg.tls = ctx;
	cfg.tls_vhost = s.vhost;
	crig_open_with(&r, &cfg, NULL);
	for (uint32_t i = 0; i < 5; i++)
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
	crig_run_until(&r, crig_acked_at_least, &(uint64_t){1}, 2000);
	ck_assert_msg(strstr(r.logs, "certificate required"), "%s", r.logs);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), 0);
	ck_assert_uint_ge(receiver_stat(&rv, "tls_failed"), 1);
	close_pair(&rv, &r, ctx);
}
END_TEST

/* tls.verify off: a certificate of a CA we do not know is taken, and the log says it was not checked. */
START_TEST(verify_off_takes_any_certificate_and_says_so)
{
	struct side s = {.ca = certs.other_ca, .no_verify = true};

	delivers(NULL, NULL, &s, "certificate NOT verified: tls.verify off");
}
END_TEST

/* A receiver without TLS: the attempt fails, with a hint, and nothing is sent in the clear. */
START_TEST(receiver_without_tls_gets_nothing)
{
	struct side s = {.ca = certs.ca, .vhost = "localhost"};
	struct receiver rv;
	struct crig r;
	struct fwd_tls_ctx *ctx = tls_ctx(&s);
	struct fwd_client_config cfg;

	receiver_start(&rv, 0, 0, NULL);
	cfg = crig_config(&rv, true, 1 << 20);
	cfg.tls = ctx;
	cfg.tls_vhost = s.vhost;
	crig_open_with(&r, &cfg, NULL);
	for (uint32_t i = 0; i < 5; i++)
		crig_send_frame(&r, true, i * ENTRIES_PER_FRAME);
	ck_assert_msg(crig_run_until(&r, failures_at_least, &(uint64_t){1}, 5000), "%s", r.logs);
	ck_assert_msg(strstr(r.logs, "closed by the receiver in the TLS handshake (does it speak TLS?"), "%s", r.logs);
	ck_assert_uint_eq(receiver_stat(&rv, "entries"), 0);
	close_pair(&rv, &r, ctx);
}
END_TEST

/* The settings' files, refused at start with the key and file named. */
START_TEST(bad_files_are_named)
{
	struct fwd_tls_config tc = {.verify = true, .ca_file = "/nonexistent/ca.pem"};
	char err[512];

	ck_assert_ptr_null(fwd_tls_ctx_new(&tc, err, sizeof(err)));
	ck_assert_msg(strstr(err, "tls.ca_file /nonexistent/ca.pem: "), "%s", err);
	tc = (struct fwd_tls_config){.verify = true, .ca_file = certs.ca, .crt_file = certs.client_crt,
				     .key_file = certs.server_key};
	ck_assert_ptr_null(fwd_tls_ctx_new(&tc, err, sizeof(err)));
	ck_assert_msg(strstr(err, "tls.key_file is not the key of tls.crt_file"), "%s", err);
	tc = (struct fwd_tls_config){.verify = true, .ca_file = certs.server_key};
	ck_assert_ptr_null(fwd_tls_ctx_new(&tc, err, sizeof(err)));
	ck_assert_msg(strstr(err, "tls.ca_file"), "%s", err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("tls");
	int failed;

	signal(SIGPIPE, SIG_IGN);
	tls_certs_make(&certs);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, right_ca_and_name_delivers);
	tcase_add_test(tc, address_host_is_checked_against_the_ip_names);
	tcase_add_test(tc, wrong_ca_is_refused);
	tcase_add_test(tc, expired_certificate_is_refused);
	tcase_add_test(tc, wrong_name_is_refused);
	tcase_add_test(tc, vhost_is_the_name_checked);
	tcase_add_test(tc, without_the_name_check_only_the_chain_counts);
	tcase_add_test(tc, tls_and_shared_key_together);
	tcase_add_test(tc, tls_with_a_wrong_shared_key_sends_nothing);
	tcase_add_test(tc, client_certificate_is_presented);
	tcase_add_test(tc, without_a_client_certificate_nothing_is_taken);
	tcase_add_test(tc, verify_off_takes_any_certificate_and_says_so);
	tcase_add_test(tc, receiver_without_tls_gets_nothing);
	tcase_add_test(tc, bad_files_are_named);
	suite_add_tcase(s, tc);
	failed = suite_run(s);
	tls_certs_cleanup(&certs);
	return failed;
}
