/* cli.h: the command line's options as one table, read by getopt, --help and the man page; exit codes. */
#ifndef EBPF_FORWARD_CLI_H
#define EBPF_FORWARD_CLI_H

#include <stddef.h>
#include <stdio.h>

#define CLI_DEFAULT_CONFIG "/etc/ebpf-forward/ebpf-forward.conf"

/* The exit codes, as ebpf-forward(8) lists them. */
enum cli_exit {
	CLI_EXIT_OK = 0,      /* stopped by SIGTERM or SIGINT after delivering; an informational option done */
	CLI_EXIT_FAIL = 1,    /* the configuration is invalid, or start-up failed */
	CLI_EXIT_USAGE = 2,   /* the command line is wrong: an unknown option, a stray argument, -c with -t/-o/-p */
};

/* What an option does, as getopt returns it: its short letter, or one of these for a long-only option. */
enum cli_id {
	CLI_CONFIG = 'c', CLI_TRACE = 't', CLI_OUTPUT = 'o', CLI_PROP = 'p', CLI_VERSION = 'V', CLI_HELP = 'h',
	CLI_CHECK_CONFIG = 0x100, CLI_LIST_TRACES, CLI_HELP_CONFIG,
};

struct cli_option {
	int id;                 /* enum cli_id; a printable one is also the short option */
	const char *name;       /* the long option, without "--" */
	const char *arg;        /* its argument's name, "FILE"; NULL: none */
	const char *help;       /* --help's line */
	const char *man;        /* the man page's paragraph, plain text */
};

/* The table, in --help's order; *n gets its length. */
const struct cli_option *cli_options(size_t *n);

/* getopt_long over the table: the next option's id (*arg its argument), -1 at the end, '?' for a bad one. */
int cli_next(int argc, char *const argv[], const char **arg);

/* --help: the synopsis, every option, and an example of the quick mode. */
void cli_usage(FILE *f);

#endif
