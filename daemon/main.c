/* main.c: command line, start-up order (config, traces, output, privileges), signals, shutdown. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <uv.h>

#include "cli.h"
#include "config.h"
#include "container.h"
#include "heap.h"
#include "log.h"
#include "monitor.h"
#include "notify.h"
#include "output_forward.h"
#include "output_stdout.h"
#include "pipeline.h"
#include "privs.h"
#include "sandbox.h"
#include "tracefs.h"
#include "registry.h"
#include "traces.h"

/* SIGTERM to exit: what is buffered gets this long to reach the receiver (systemd waits 15 s). */
#define SHUTDOWN_DEADLINE_MS 10000

/* libbpf's own messages: warnings to our log, the rest only when debugging. */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	if (vsnprintf(line, sizeof(line), fmt, ap) < 0)
		return 0;
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	log_msg(level == LIBBPF_WARN ? LOG_LVL_WARN : LOG_LVL_DEBUG, "libbpf: %s", line);
	return 0;
}

static int list_traces(void)
{
	const struct trace_unit *const *all = registry_all();
	bool root = geteuid() == 0;
	char err[512];

	if (root && tracefs_ensure(err, sizeof(err)) < 0)
		fprintf(stderr, "%s\n", err);
	for (size_t i = 0; all[i]; i++) {
		const char *verdict;

		if (!root)
			verdict = "unknown (run as root to try it)";
		else if (trace_probe(all[i], err, sizeof(err)))
			verdict = "yes";
		else
			verdict = err;
		printf("%-8s %s\n         attach: %s\n", all[i]->name, all[i]->description,
		       all[i]->attach_points);
		if (all[i]->targets) {
			struct trace_opts o = {.filter_uid = -1};
			char found[1024];

			all[i]->targets(&o, found, sizeof(found));
			printf("         found here: %s\n", found);
		}
		printf("         attaches here: %s\n", verdict);
	}
	return CLI_EXIT_OK;
}

struct daemon {
	uv_loop_t *loop;
	struct pipeline *pipeline;
	struct monitor *monitor;   /* HTTP_Server's endpoints, or NULL */
	struct output *outs[CONFIG_MAX_OUTPUTS];
	size_t nouts, closing;
	uv_signal_t sigint, sigterm, sighup;
	bool signals_open;
	int stopping;
};

static void on_output_closed(void *arg)
{
	struct daemon *d = arg;

	/* the loop ends once every output has delivered (or spooled) and the signals are closed */
	if (--d->closing || !d->signals_open)
		return;
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sighup, NULL);
	d->signals_open = false;
}

/* Drain the rings, then let the outputs deliver what they hold; the loop ends when all is closed. */
static void daemon_stop(struct daemon *d)
{
	if (d->stopping++)
		return;
	notify_send("STOPPING=1");
	notify_watchdog_stop();
	monitor_close(d->monitor);
	d->monitor = NULL;
	pipeline_shutdown(d->pipeline);
	d->closing = d->nouts;
	for (size_t i = 0; i < d->nouts; i++)
		d->outs[i]->close(d->outs[i], SHUTDOWN_DEADLINE_MS, on_output_closed, d);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	if (signum == SIGHUP) {
		/* the traces and the privileges to reload them are gone: a restart is the way, and loses nothing */
		log_warn("SIGHUP: the configuration is read at start only; restart the daemon to apply it "
			 "(systemctl restart ebpf-forward: what is buffered is delivered or spooled on the way out)");
		return;
	}
	if (d->stopping) {
		log_warn("%s again: still delivering; it stops within %d s", strsignal(signum),
			 SHUTDOWN_DEADLINE_MS / 1000);
		return;
	}
	log_info("%s: stopping: draining the rings and flushing", strsignal(signum));
	daemon_stop(d);
}

static struct output *output_open(uv_loop_t *loop, const struct config *cfg, unsigned i, char *err, size_t errlen)
{
	struct output *o;

	if (cfg->outputs[i].output == OUTPUT_FORWARD)
		return output_forward_new(loop, cfg, i, err, errlen);
	o = output_stdout_new(stdout);
	if (!o)
		snprintf(err, errlen, "out of memory");
	return o;
}

/* Output setup failed: close what was opened (run the loop until they are). */
static void outputs_abandon(struct daemon *d)
{
	for (size_t i = 0; i < d->nouts; i++)
		d->outs[i]->close(d->outs[i], 0, NULL, NULL);
	uv_run(d->loop, UV_RUN_DEFAULT);
}

/* The spool directories go to the account the daemon becomes, while it still may give them. */
static int own_spools(const struct config *cfg, char *err, size_t errlen)
{
	struct privs_account a = {0};

	if (!cfg->storage_path[0])
		return 0;
	if (privs_account(cfg->user, cfg->user_set, cfg->group, &a, err, errlen))
		return -1;
	for (unsigned i = 0; i < cfg->output_count; i++)
		if (cfg->outputs[i].output == OUTPUT_FORWARD &&
		    output_forward_own_spool(cfg, i, (unsigned)a.uid, (unsigned)a.gid, err, errlen))
			return -1;
	return 0;
}

static int run(const struct config *cfg)
{
	struct timespec started;
	struct trace *traces[CONFIG_MAX_TRACES] = {0};
	struct daemon d = {0};
	char err[1024];
	int rc = CLI_EXIT_FAIL, m;
	size_t n = 0;

	clock_gettime(CLOCK_REALTIME, &started);
	if (geteuid() != 0) {
		log_error("must start as root to load eBPF programs (it drops to User= afterwards)");
		return CLI_EXIT_FAIL;
	}
	if (notify_open(err, sizeof(err)) < 0)
		log_warn("%s: systemd will not hear that the daemon is ready", err);
	m = tracefs_ensure(err, sizeof(err));
	if (m < 0) {
		log_error("%s", err);
		return CLI_EXIT_FAIL;
	}
	if (m > 0)
		log_info("tracefs was not mounted: mounted it at /sys/kernel/tracing");
	for (n = 0; n < cfg->trace_count; n++) {
		const struct trace_unit *desc = registry_find(cfg->traces[n]);

		traces[n] = desc ? trace_start(desc, &cfg->trace, err, sizeof(err)) : NULL;
		if (!traces[n]) {
			char where[1200];

			log_error("%s: trace %s cannot start: %s", config_origin(cfg, cfg->trace_line[n], where, sizeof(where)),
				  cfg->traces[n], desc ? err : "unknown trace");
			goto out;
		}
		log_info("trace %s attached (%s)", desc->name, desc->attach_points);
	}
	/* loading parsed the kernel's BTF once per trace (megabytes): give that memory back */
	heap_release();
	if (heap_keep_freed())
		log_warn("the C library refused the heap settings: frames will fault their pages in again under load");
	/* opened while root, walked later as User= (the cgroup tree is readable by anyone) */
	if (container_start(NULL, err, sizeof(err)))
		log_warn("%s: every record's container_id is \"" CONTAINER_UNKNOWN "\"", err);
	else
		log_info("container_id: from the cgroup v2 tree at %s%s", container_root(),
			 strcmp(container_root(), "/sys/fs/cgroup") ? " (a hybrid host: only runtimes that name "
								      "their cgroups there are seen)" : "");
	d.loop = uv_default_loop();
	for (; d.nouts < cfg->output_count; d.nouts++) {
		d.outs[d.nouts] = output_open(d.loop, cfg, (unsigned)d.nouts, err, sizeof(err));
		if (!d.outs[d.nouts]) {
			log_error("%s", err);
			outputs_abandon(&d);
			goto out;
		}
	}
	d.pipeline = pipeline_new(d.loop, cfg, traces, n, d.outs, d.nouts, err, sizeof(err));
	if (!d.pipeline) {
		log_error("%s", err);
		outputs_abandon(&d);
		goto out;
	}
	uv_signal_init(d.loop, &d.sigint);
	uv_signal_init(d.loop, &d.sigterm);
	uv_signal_init(d.loop, &d.sighup);
	d.signals_open = true;
	d.sigint.data = d.sigterm.data = d.sighup.data = &d;
	uv_signal_start(&d.sigint, on_signal, SIGINT);
	uv_signal_start(&d.sigterm, on_signal, SIGTERM);
	uv_signal_start(&d.sighup, on_signal, SIGHUP);
	/*
	 * The HTTP listener is opened here, as root, before the drop: a port in use
	 * or an address not on this machine stops start-up at once with its error,
	 * before systemd hears READY, rather than leaving a daemon without its
	 * endpoints. Nothing else is done as root: connections are accepted and
	 * served only once the loop runs, unprivileged and under the seccomp filter.
	 */
	if (cfg->http_server &&
	    !(d.monitor = monitor_new(d.loop, cfg, d.pipeline, d.outs, d.nouts,
				      (double)started.tv_sec + started.tv_nsec / 1e9, err, sizeof(err)))) {
		log_error("%s", err);
		daemon_stop(&d);
		uv_run(d.loop, UV_RUN_DEFAULT);
		goto out;
	}
	if (own_spools(cfg, err, sizeof(err)) || privs_drop(cfg->user, cfg->user_set, cfg->group, err, sizeof(err)) ||
	    (m = sandbox_enter(err, sizeof(err))) < 0) {
		log_error("%s", err);
		daemon_stop(&d);
		uv_run(d.loop, UV_RUN_DEFAULT);
		goto out;
	}
	log_info("seccomp filter on: %d system calls denied from now on (bpf, perf_event_open, ptrace, exec, mount...)", m);
	/* connect only now, as User=/Group=: the access that works at start keeps working */
	for (size_t i = 0; i < d.nouts; i++)
		d.outs[i]->start(d.outs[i]);
	log_info("ebpf-forward %s running with %zu trace(s) and %zu output(s)", EBPF_FORWARD_VERSION, n, d.nouts);
	if (d.monitor)
		log_info("HTTP server on %s port %u: /metrics, /api/v1/health", cfg->http_listen, cfg->http_port);
	notify_send("READY=1");
	if (notify_watchdog_start(d.loop))
		log_info("systemd watchdog: pinged from the event loop");
	uv_run(d.loop, UV_RUN_DEFAULT);
	pipeline_log_totals(d.pipeline);
	rc = CLI_EXIT_OK;
out:
	if (d.loop)
		uv_loop_close(d.loop);
	pipeline_free(d.pipeline);
	for (size_t i = 0; i < d.nouts; i++)
		d.outs[i]->destroy(d.outs[i]);
	for (size_t i = 0; i < n; i++)
		trace_stop(traces[i]);
	container_stop();
	if (rc == CLI_EXIT_OK)
		log_info("stopped");
	return rc;
}

int main(int argc, char **argv)
{
	/* the quick mode's -t, -o and -p, in their order: at most one per argument */
	struct config_arg *quick = calloc((size_t)argc + 1, sizeof(*quick));
	const char *path = NULL, *arg;
	bool check_only = false, list = false;
	size_t nquick = 0;
	struct config cfg;
	char err[2048];
	int c, rc;

	if (!quick) {
		fprintf(stderr, "ebpf-forward: out of memory\n");
		return CLI_EXIT_FAIL;
	}
	while ((c = cli_next(argc, argv, &arg)) != -1) {
		switch (c) {
		case CLI_CONFIG: path = arg; break;
		case CLI_TRACE: case CLI_OUTPUT: case CLI_PROP: quick[nquick++] = (struct config_arg){(char)c, arg}; break;
		case CLI_CHECK_CONFIG: check_only = true; break;
		case CLI_LIST_TRACES: list = true; break;
		case CLI_HELP_CONFIG: free(quick); return config_help(stdout) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
		case CLI_VERSION: free(quick); printf("ebpf-forward %s\n", EBPF_FORWARD_VERSION); return CLI_EXIT_OK;
		case CLI_HELP: free(quick); cli_usage(stdout); return CLI_EXIT_OK;
		default: free(quick); cli_usage(stderr); return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc || (path && nquick)) {
		if (optind < argc)
			fprintf(stderr, "ebpf-forward: unexpected argument: %s\n", argv[optind]);
		else
			fprintf(stderr, "ebpf-forward: -c FILE and -t/-o/-p do not go together: the configuration is the "
					"file or the command line\n");
		free(quick);
		cli_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	libbpf_set_print(libbpf_log);
	/* a receiver that goes away must cost a reconnect, not the process */
	signal(SIGPIPE, SIG_IGN);
	if (list) {
		free(quick);
		return list_traces();
	}
	if (nquick ? config_load_args(&cfg, quick, nquick, err, sizeof(err))
		   : config_load(&cfg, path ? path : CLI_DEFAULT_CONFIG, err, sizeof(err))) {
		fprintf(stderr, "ebpf-forward: %s\n", err);
		free(quick);
		return CLI_EXIT_FAIL;
	}
	if (check_only) {
		printf("%s: configuration is valid (%u trace(s), output %s%s)\n", cfg.path, cfg.trace_count,
		       cfg.outputs[0].output == OUTPUT_FORWARD ? "forward" : "stdout",
		       cfg.output_count > 1 ? " and more" : "");
		free(quick);
		return CLI_EXIT_OK;
	}
	log_set_level(cfg.log_level);
	rc = run(&cfg);
	free(quick);
	return rc;
}
