/* test_prom.c: the Prometheus text of given counters, byte for byte; label escaping; bounds; the health verdict. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "monitor.h"
#include "prom.h"
#include "suite_run.h"

static const char *const expected_head =
	"# HELP ebpf_forward_build_info Always 1; the version label says which ebpf-forward runs.\n"
	"# TYPE ebpf_forward_build_info gauge\n"
	"ebpf_forward_build_info{version=\"1.2.3\"} 1\n"
	"# HELP ebpf_forward_start_time_seconds When the daemon started, in seconds since the epoch.\n"
	"# TYPE ebpf_forward_start_time_seconds gauge\n"
	"ebpf_forward_start_time_seconds 1700000000.250\n";

static const char *const expected_traces =
	"# HELP ebpf_forward_events_total Events read from the trace's ring buffer and handed to the outputs.\n"
	"# TYPE ebpf_forward_events_total counter\n"
	"ebpf_forward_events_total{trace=\"exec\"} 18446744073709551615\n"
	"ebpf_forward_events_total{trace=\"a\\\\b\\\"c\\nd\"} 0\n"
	"# HELP ebpf_forward_events_lost_total Events the kernel could not write because the trace's ring buffer was "
	"full (read once a second).\n"
	"# TYPE ebpf_forward_events_lost_total counter\n"
	"ebpf_forward_events_lost_total{trace=\"exec\"} 2\n"
	"ebpf_forward_events_lost_total{trace=\"a\\\\b\\\"c\\nd\"} 0\n"
	"# HELP ebpf_forward_malformed_records_total Ring records that failed the schema check and were dropped.\n"
	"# TYPE ebpf_forward_malformed_records_total counter\n"
	"ebpf_forward_malformed_records_total{trace=\"exec\"} 3\n"
	"ebpf_forward_malformed_records_total{trace=\"a\\\\b\\\"c\\nd\"} 0\n"
	"# HELP ebpf_forward_rejected_records_total Records an output did not take.\n"
	"# TYPE ebpf_forward_rejected_records_total counter\n"
	"ebpf_forward_rejected_records_total{trace=\"exec\"} 4\n"
	"ebpf_forward_rejected_records_total{trace=\"a\\\\b\\\"c\\nd\"} 0\n";

static const char *const expected_outputs =
	"# HELP ebpf_forward_output_records_in_total Records the output took.\n"
	"# TYPE ebpf_forward_output_records_in_total counter\n"
	"ebpf_forward_output_records_in_total{output=\"stdout\",index=\"1\"} 10\n"
	"ebpf_forward_output_records_in_total{output=\"forward\",index=\"2\"} 20\n"
	"# HELP ebpf_forward_output_records_sent_total Records written to the receiver or the stream.\n"
	"# TYPE ebpf_forward_output_records_sent_total counter\n"
	"ebpf_forward_output_records_sent_total{output=\"stdout\",index=\"1\"} 11\n"
	"ebpf_forward_output_records_sent_total{output=\"forward\",index=\"2\"} 21\n"
	"# HELP ebpf_forward_output_records_acked_total Records the receiver acknowledged.\n"
	"# TYPE ebpf_forward_output_records_acked_total counter\n"
	"ebpf_forward_output_records_acked_total{output=\"stdout\",index=\"1\"} 0\n"
	"ebpf_forward_output_records_acked_total{output=\"forward\",index=\"2\"} 22\n"
	"# HELP ebpf_forward_output_records_dropped_total Records lost in the output: buffer and spool full, or "
	"undelivered at shutdown.\n"
	"# TYPE ebpf_forward_output_records_dropped_total counter\n"
	"ebpf_forward_output_records_dropped_total{output=\"stdout\",index=\"1\"} 0\n"
	"ebpf_forward_output_records_dropped_total{output=\"forward\",index=\"2\"} 23\n"
	"# HELP ebpf_forward_output_buffered_bytes Bytes of frames held in memory.\n"
	"# TYPE ebpf_forward_output_buffered_bytes gauge\n"
	"ebpf_forward_output_buffered_bytes{output=\"stdout\",index=\"1\"} 0\n"
	"ebpf_forward_output_buffered_bytes{output=\"forward\",index=\"2\"} 24\n"
	"# HELP ebpf_forward_output_spooled_bytes Bytes of frames in the spool on disk.\n"
	"# TYPE ebpf_forward_output_spooled_bytes gauge\n"
	"ebpf_forward_output_spooled_bytes{output=\"stdout\",index=\"1\"} 0\n"
	"ebpf_forward_output_spooled_bytes{output=\"forward\",index=\"2\"} 25\n"
	/* stdout is no connection: no sample */
	"# HELP ebpf_forward_output_connected 1 while a receiver is connected (forward outputs only).\n"
	"# TYPE ebpf_forward_output_connected gauge\n"
	"ebpf_forward_output_connected{output=\"forward\",index=\"2\"} 1\n"
	"# HELP ebpf_forward_output_handshake_failures_total Receivers that failed the shared-key handshake.\n"
	"# TYPE ebpf_forward_output_handshake_failures_total counter\n"
	"ebpf_forward_output_handshake_failures_total{output=\"stdout\",index=\"1\"} 0\n"
	"ebpf_forward_output_handshake_failures_total{output=\"forward\",index=\"2\"} 26\n"
	"# HELP ebpf_forward_output_healthy 1 while the output is connected, spooling within Storage_Limit, or not a "
	"connection (as /api/v1/health).\n"
	"# TYPE ebpf_forward_output_healthy gauge\n"
	"ebpf_forward_output_healthy{output=\"stdout\",index=\"1\"} 1\n"
	"ebpf_forward_output_healthy{output=\"forward\",index=\"2\"} 0\n";

static const char *const expected_http =
	"# HELP ebpf_forward_http_requests_total Requests this HTTP server answered, whatever the status.\n"
	"# TYPE ebpf_forward_http_requests_total counter\n"
	"ebpf_forward_http_requests_total 7\n"
	"# HELP ebpf_forward_http_refused_connections_total Connections refused (503) because the server already "
	"had its most.\n"
	"# TYPE ebpf_forward_http_refused_connections_total counter\n"
	"ebpf_forward_http_refused_connections_total 8\n"
	"# HELP ebpf_forward_http_timed_out_connections_total Connections closed because the request had not "
	"arrived by the deadline.\n"
	"# TYPE ebpf_forward_http_timed_out_connections_total counter\n"
	"ebpf_forward_http_timed_out_connections_total 9\n"
	"# HELP ebpf_forward_http_oversized_requests_total Requests refused (431) for headers over the bound.\n"
	"# TYPE ebpf_forward_http_oversized_requests_total counter\n"
	"ebpf_forward_http_oversized_requests_total 10\n";

static struct trace_stats traces[2];
static struct prom_output outs[2];
static struct http_server_stats hs;
static struct prom_snapshot snap;

static void fill(void)
{
	traces[0] = (struct trace_stats){.name = "exec", .events = UINT64_MAX, .lost = 2, .malformed = 3, .rejected = 4,
					 .prev_events = 99};
	traces[1] = (struct trace_stats){.name = "a\\b\"c\nd"};
	outs[0] = (struct prom_output){.name = "stdout", .index = 1, .healthy = true,
				       .st = {.records_in = 10, .records_sent = 11, .connected = -1}};
	outs[1] = (struct prom_output){.name = "forward", .index = 2, .healthy = false,
				       .st = {20, 21, 22, 23, 24, 25, 26, 1}};
	hs = (struct http_server_stats){7, 8, 9, 10};
	snap = (struct prom_snapshot){.traces = traces, .ntraces = 2, .outs = outs, .nouts = 2, .http = &hs,
				      .start_time = 1700000000.25, .version = "1.2.3"};
}

static char *render(const struct prom_snapshot *s, long *len)
{
	size_t cap = prom_bound(s->ntraces, s->nouts, 16);
	char *buf = malloc(cap + 1);

	*len = prom_render(s, buf, cap);
	ck_assert_int_ge(*len, 0);
	ck_assert_uint_lt((size_t)*len, cap);
	buf[*len] = '\0';
	return buf;
}

START_TEST(exact_text)
{
	char expected[16384];
	long len;
	char *text;

	fill();
	snprintf(expected, sizeof(expected), "%s%s%s%s", expected_head, expected_traces, expected_outputs, expected_http);
	text = render(&snap, &len);
	ck_assert_str_eq(text, expected);
	ck_assert_uint_eq((size_t)len, strlen(expected));
	free(text);
}
END_TEST

/* A family with no sample is left out whole; without the server's counters, so are theirs. */
START_TEST(empty_families_left_out)
{
	char expected[16384];
	long len;
	char *text;

	fill();
	snap.ntraces = 0;
	snap.nouts = 0;
	snap.http = NULL;
	text = render(&snap, &len);
	ck_assert_str_eq(text, expected_head);
	free(text);

	/* only a stdout output: no ebpf_forward_output_connected at all */
	fill();
	snap.nouts = 1;
	text = render(&snap, &len);
	ck_assert_ptr_null(strstr(text, "ebpf_forward_output_connected"));
	ck_assert_ptr_nonnull(strstr(text, "ebpf_forward_output_healthy{output=\"stdout\",index=\"1\"} 1\n"));
	snprintf(expected, sizeof(expected), "%s%s", expected_head, expected_traces);
	ck_assert_int_eq(strncmp(text, expected, strlen(expected)), 0);
	free(text);
}
END_TEST

/* Every buffer shorter than the text is refused, never overrun. */
START_TEST(too_small_a_buffer)
{
	long len, n;
	char *text, *buf;

	fill();
	text = render(&snap, &len);
	buf = malloc((size_t)len + 1);
	for (size_t cap = 0; cap <= (size_t)len; cap += cap < 200 ? 1 : 97) {
		memset(buf, 'x', (size_t)len + 1);
		n = prom_render(&snap, buf, cap);
		ck_assert_int_eq(n, -1);
		if (cap <= (size_t)len)
			ck_assert_int_eq(buf[cap < (size_t)len ? cap : (size_t)len], 'x');
	}
	ck_assert_int_eq(prom_render(&snap, buf, (size_t)len + 1), len);
	free(buf);
	free(text);
}
END_TEST

/* The bound holds for the longest names the daemon has: 16 traces, 8 outputs, names of name_max bytes all escaped. */
START_TEST(bound_holds)
{
	struct trace_stats t[CONFIG_MAX_TRACES];
	struct prom_output o[CONFIG_MAX_OUTPUTS];
	struct prom_snapshot s = {.traces = t, .ntraces = CONFIG_MAX_TRACES, .outs = o, .nouts = CONFIG_MAX_OUTPUTS,
				  .http = &hs, .start_time = 1e10, .version = "\"\"\"\"\"\"\"\""};
	char name[17];
	size_t cap = prom_bound(CONFIG_MAX_TRACES, CONFIG_MAX_OUTPUTS, 16);
	char *buf = malloc(cap);

	memset(name, '"', 16);
	name[16] = '\0';
	for (int i = 0; i < CONFIG_MAX_TRACES; i++)
		t[i] = (struct trace_stats){.name = name, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};
	for (int i = 0; i < CONFIG_MAX_OUTPUTS; i++)
		o[i] = (struct prom_output){.name = name, .index = 4000000000u,
					    .st = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX,
						   UINT64_MAX, 1}};
	ck_assert_int_gt(prom_render(&s, buf, cap), 0);
	free(buf);
}
END_TEST

START_TEST(health_verdict)
{
	struct config cfg;
	struct output_stats up = {.connected = 1}, down = {.connected = 0}, none = {.connected = -1};
	struct prom_output o[2];
	char body[512];

	config_defaults(&cfg);
	ck_assert(monitor_output_healthy(&cfg, &up));
	ck_assert(monitor_output_healthy(&cfg, &none));
	/* away, without a spool: records pile up in memory, then go */
	ck_assert(!monitor_output_healthy(&cfg, &down));
	/* with one, while it has room */
	snprintf(cfg.storage_path, sizeof(cfg.storage_path), "/var/lib/x");
	down.spooled_bytes = cfg.storage_limit - 1;
	ck_assert(monitor_output_healthy(&cfg, &down));
	down.spooled_bytes = cfg.storage_limit;
	ck_assert(!monitor_output_healthy(&cfg, &down));

	o[0] = (struct prom_output){.name = "stdout", .index = 1, .st = none, .healthy = true};
	o[1] = (struct prom_output){.name = "forward", .index = 2, .st = up, .healthy = true};
	ck_assert_int_eq(monitor_health_text(&cfg, o, 2, body, sizeof(body)), 200);
	ck_assert_str_eq(body, "output 1 (stdout): ok\noutput 2 (forward): connected\n");
	o[1].st = down;
	o[1].healthy = false;
	ck_assert_int_eq(monitor_health_text(&cfg, o, 2, body, sizeof(body)), 503);
	ck_assert_str_eq(body, "output 1 (stdout): ok\noutput 2 (forward): NOT connected, spool full\n");
	cfg.storage_path[0] = '\0';
	ck_assert_int_eq(monitor_health_text(&cfg, o, 2, body, sizeof(body)), 503);
	ck_assert_str_eq(body, "output 1 (stdout): ok\noutput 2 (forward): NOT connected, no spool: records wait in memory\n");
	/* a short buffer cuts the text, not the verdict */
	ck_assert_int_eq(monitor_health_text(&cfg, o, 2, body, 30), 503);
	ck_assert_str_eq(body, "output 1 (stdout): ok\n");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("prom");
	TCase *tc = tcase_create("render");

	tcase_add_test(tc, exact_text);
	tcase_add_test(tc, empty_families_left_out);
	tcase_add_test(tc, too_small_a_buffer);
	tcase_add_test(tc, bound_holds);
	tcase_add_test(tc, health_verdict);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
