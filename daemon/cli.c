/* cli.c: the table of the command line's options, getopt_long over it, and --help. */
#include <getopt.h>
#include <string.h>

#include "cli.h"

static const struct cli_option options[] = {
	{CLI_CONFIG, "config", "FILE", "configuration file (default " CLI_DEFAULT_CONFIG ")",
	 "Read the configuration from FILE rather than " CLI_DEFAULT_CONFIG ". The file must be owned by root and "
	 "writable by no one else (see ebpf-forward.conf(5)). Not together with -t, -o or -p: the configuration is "
	 "either a file or the command line."},
	{CLI_TRACE, "trace", "TRACE", "quick mode: load this trace; repeat for more",
	 "Quick mode, without a file: load the trace TRACE (exec, vfs, ... or in_ebpf's spelling trace_exec), as a "
	 "Trace key of [INPUT] does. Repeat it for more traces; at least one is needed. --list-traces shows them."},
	{CLI_OUTPUT, "output", "OUTPUT", "quick mode: stdout, forward, HOST:PORT or /SOCKET",
	 "Quick mode: add an output, as an [OUTPUT] section does: stdout (JSON lines on standard output), forward "
	 "(Fluent Forward to 127.0.0.1 port 24224), HOST:PORT or [IPV6]:PORT (Fluent Forward over TCP to that "
	 "receiver), or an absolute path (Fluent Forward over that Unix socket). Repeat it for more outputs. Without "
	 "any -o the records go to standard output."},
	{CLI_PROP, "prop", "KEY=VALUE", "quick mode: set a key, as in a file; repeat for more",
	 "Quick mode: set the key KEY (case-insensitive, as in a file) to VALUE, taken as written: no quotes, comments "
	 "or blanks are removed. A key of [SERVICE] or [INPUT] applies to the daemon; a key of [OUTPUT] applies to the "
	 "last -o before it, and is an error before any -o. Name is not a -p key: -o gives it. Each value is checked "
	 "by the rules of the file, and an error names the argument. Shared_Key and Password are refused, since every "
	 "user can read a command line: use Shared_Key_File and Password_File."},
	{CLI_CHECK_CONFIG, "check-config", NULL, "validate the configuration (file or quick mode) and exit",
	 "Read and validate the configuration, print a line saying it is valid, and exit without loading anything. "
	 "Errors name FILE:LINE, or the argument in quick mode."},
	{CLI_LIST_TRACES, "list-traces", NULL, "list the traces and whether they attach here (root), then exit",
	 "List every trace of the build: what it watches, its attach points, the libraries it found, and, as root, "
	 "whether it loads and attaches on this kernel. Then exit."},
	{CLI_HELP_CONFIG, "help-config", NULL, "list every configuration key, then exit",
	 "List every configuration key by section, with its type, range or choices, default and meaning, from the "
	 "same table ebpf-forward.conf(5) is made from. Then exit."},
	{CLI_VERSION, "version", NULL, "print the version and exit", "Print the version and exit."},
	{CLI_HELP, "help", NULL, "this text", "Print a summary of the options, with an example, and exit."},
};

#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

const struct cli_option *cli_options(size_t *n)
{
	*n = OPTION_COUNT;
	return options;
}

int cli_next(int argc, char *const argv[], const char **arg)
{
	static struct option longs[OPTION_COUNT + 1];
	/* ':' after a letter with an argument; a leading '+' would stop at the first operand, we permute */
	static char shorts[2 * OPTION_COUNT + 1];
	int c;

	if (!longs[0].name) {
		size_t s = 0;

		for (size_t i = 0; i < OPTION_COUNT; i++) {
			longs[i] = (struct option){options[i].name, options[i].arg ? required_argument : no_argument, NULL,
						   options[i].id};
			if (options[i].id < 0x100) {
				shorts[s++] = (char)options[i].id;
				if (options[i].arg)
					shorts[s++] = ':';
			}
		}
	}
	c = getopt_long(argc, argv, shorts, longs, NULL);
	*arg = optarg;
	return c;
}

void cli_usage(FILE *f)
{
	fprintf(f, "usage: ebpf-forward [-c FILE] [--check-config]\n"
		   "       ebpf-forward -t TRACE... [-o OUTPUT [-p KEY=VALUE]...]... [-p KEY=VALUE]... [--check-config]\n"
		   "       ebpf-forward --list-traces | --help-config | --version | --help\n"
		   "Loads eBPF traces and sends their events, as Fluent Bit in_ebpf records, to stdout\n"
		   "or to a Fluent Bit forward input. Starts as root, then drops its privileges.\n\n");
	for (size_t i = 0; i < OPTION_COUNT; i++) {
		char left[64];

		if (options[i].id < 0x100)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", options[i].id, options[i].name,
				 options[i].arg ? " " : "", options[i].arg ? options[i].arg : "");
		else
			snprintf(left, sizeof(left), "    --%s", options[i].name);
		fprintf(f, "  %-24s %s\n", left, options[i].help);
	}
	fprintf(f, "\nQuick mode, without a configuration file (as Fluent Bit's -i/-o/-p):\n"
		   "  ebpf-forward -t exec -t vfs -o stdout\n"
		   "  ebpf-forward -t exec -o 127.0.0.1:24224 -p Tag='ebpf.*' -p Pid=1234\n"
		   "  ebpf-forward -t exec -o /run/fluent-bit/forward.sock -p Group=fluent-bit\n"
		   "-p sets a key of --help-config; an [OUTPUT] key applies to the -o before it.\n"
		   "See ebpf-forward(8) and ebpf-forward.conf(5).\n");
}
