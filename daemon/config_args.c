/* config_args.c: the quick mode's configuration from -t, -o and -p, through the key table's rows and rules. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config_parse.h"

/* Sets row k from v at the current argument, as a file's line would ("given twice" included). */
static int set_key(struct config_parse *p, const struct config_key *k, const char *v)
{
	int first = config_mark_given(p, k);
	char where[1200];

	if (first && !k->repeats)
		return config_fail(p, p->line, "%s: given twice (first %s)", k->name,
				   config_where(p, first, true, where, sizeof(where)));
	return config_set(p, k, v);
}

/* -t TRACE: a Trace of the one [INPUT]. */
static int trace_arg(struct config_parse *p, const char *v)
{
	if (!p->section_line[CONFIG_INPUT])
		p->section_line[CONFIG_INPUT] = p->line;
	return set_key(p, config_key_find(CONFIG_INPUT, "Trace"), v);
}

/* -o OUTPUT: a new [OUTPUT]; a receiver's address or socket stands for Name forward with it. */
static int output_arg(struct config_parse *p, const char *v)
{
	const char *receiver = NULL, *name = "forward";

	if (strcasecmp(v, "stdout") == 0 || strcasecmp(v, "forward") == 0)
		name = v;
	else if (v[0] == '/')
		receiver = "Unix_Path";
	else if (strchr(v, ':'))
		receiver = "Host";
	else
		return config_fail(p, p->line, "not an output: stdout, forward, HOST:PORT, [IPV6]:PORT or the /PATH of a "
				   "Unix socket");
	if (!p->section_line[CONFIG_OUTPUT])
		p->section_line[CONFIG_OUTPUT] = p->line;
	if (p->cfg->output_count && !config_output_done(p))
		return 0;
	p->section = CONFIG_OUTPUT;
	return config_output_start(p) && set_key(p, config_key_find(CONFIG_OUTPUT, "Name"), name) &&
	       (!receiver || set_key(p, config_key_find(CONFIG_OUTPUT, receiver), v));
}

/*
 * -p KEY=VALUE: the key of whichever section has it (a name is in one section
 * but Name, which -t and -o give); an [OUTPUT] key goes to the last -o before it.
 */
static int prop_arg(struct config_parse *p, const char *v)
{
	const char *eq = strchr(v, '=');
	const struct config_key *k = NULL;
	char name[CONFIG_NAME_MAX];
	struct config_output *o;

	if (!eq || eq == v)
		return config_fail(p, p->line, "not KEY=VALUE");
	if ((size_t)(eq - v) >= sizeof(name))
		return config_fail(p, p->line, "unknown key (see ebpf-forward --help-config)");
	memcpy(name, v, (size_t)(eq - v));
	name[eq - v] = '\0';
	if (strcasecmp(name, "Name") == 0)
		return config_fail(p, p->line, "Name is not a -p key: the input is ebpf, and -o names each output");
	for (int s = 0; s < CONFIG_SECTIONS; s++) {
		const struct config_key *found = config_key_find(s, name);

		if (found && k)
			return config_fail(p, p->line, "%s is a key of [%s] and of [%s]: give it in a file (-c)", k->name,
					   config_section_names[k->section], config_section_names[s]);
		if (found)
			k = found;
	}
	if (!k)
		return config_fail(p, p->line, "unknown key (see ebpf-forward --help-config)");
	if (k->section == CONFIG_OUTPUT && !p->cfg->output_count)
		return config_fail(p, p->line, "%s is an [OUTPUT] key: give it after the -o it is for", k->name);
	if (k->section != CONFIG_OUTPUT && !p->section_line[k->section])
		p->section_line[k->section] = p->line;
	if (!set_key(p, k, eq + 1))
		return 0;
	/* a secret on a command line is any user's to read (ps, /proc/PID/cmdline): the file rule, stricter */
	o = &p->cfg->outputs[p->cfg->output_count ? p->cfg->output_count - 1 : 0];
	if (k->section == CONFIG_OUTPUT && o->secret_line == p->line)
		return config_fail(p, 0, "-p %s=(not shown): a secret on the command line is visible to every user; "
				   "give its file (%s_File) instead", k->name, k->name);
	return 1;
}

int config_load_args(struct config *cfg, const struct config_arg *args, size_t n, char *err, size_t errlen)
{
	struct config_parse p = {.cfg = cfg, .name = "command line", .err = err, .errlen = errlen, .section = -1};
	size_t rows;

	config_defaults(cfg);
	cfg->path = "command line";
	cfg->args = args;
	cfg->arg_count = n;
	for (size_t i = 0; i < n && !p.failed; i++) {
		p.line = (int)i + 1;
		switch (args[i].opt) {
		case 't': trace_arg(&p, args[i].value); break;
		case 'o': output_arg(&p, args[i].value); break;
		case 'p': prop_arg(&p, args[i].value); break;
		default: config_fail(&p, p.line, "not a quick-mode option"); break;
		}
	}
	p.line = 0;
	if (!p.failed && cfg->output_count)
		config_output_done(&p);
	/* no -o: the JSON lines on stdout, as if an -o stdout followed the arguments */
	if (!p.failed && !cfg->output_count) {
		p.line = (int)n + 1;
		p.section = CONFIG_OUTPUT;
		if (config_output_start(&p) && set_key(&p, config_key_find(CONFIG_OUTPUT, "Name"), "stdout"))
			config_output_done(&p);
	}
	if (!p.failed && !cfg->trace_count)
		config_fail(&p, 0, "no -t TRACE: name the traces to load (ebpf-forward --list-traces shows them)");
	if (!p.failed)
		cfg->user_set = p.key_line[config_key_find(CONFIG_SERVICE, "User") - config_keys(&rows)] != 0;
	return p.failed ? -1 : 0;
}
