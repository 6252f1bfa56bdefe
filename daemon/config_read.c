/*
 * config_read.c: reads the INI file, line by line, into one validated struct config; every error names file:line.
 * No inih: Debian's libinih has a 200-byte line buffer on the stack (no realloc), shorter than a Kubernetes
 * pod's cgroup path, and a longer one means building our own copy. This reader already did the lines, BOM,
 * comments and sections; the Key = Value split left is done here with inih's exact rules.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "config_parse.h"

/* A configuration file is a few hundred bytes; anything this big is a wrong path. */
#define CONFIG_FILE_MAX (1024 * 1024)

/* Strips blanks at both ends, in place; returns the first byte that is not one. */
static char *trim(char *s)
{
	char *end = s + strlen(s);

	while (isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Line of section s's key name (in the current [OUTPUT] for its keys), 0 if it was not given. */
static int given(const struct config_parse *p, int s, const char *name)
{
	size_t n;

	return p->key_line[config_key_find(s, name) - config_keys(&n)];
}

int config_mark_given(struct config_parse *p, const struct config_key *k)
{
	size_t n, row = (size_t)(k - config_keys(&n));
	int first = p->key_line[row];

	if (!first)
		p->key_line[row] = p->line;
	return first;
}

/* A new [OUTPUT]: the next output, with the defaults of the section's keys, none of them given yet. */
int config_output_start(struct config_parse *p)
{
	struct config *cfg = p->cfg;
	size_t n;
	const struct config_key *keys = config_keys(&n);

	if (cfg->output_count == CONFIG_MAX_OUTPUTS)
		return config_fail(p, p->line, "[OUTPUT]: one output too many (at most %d)", CONFIG_MAX_OUTPUTS);
	memset(&cfg->outputs[cfg->output_count++], 0, sizeof(cfg->outputs[0]));
	cfg->outputs[cfg->output_count - 1].line = p->line;
	config_section_defaults(p, CONFIG_OUTPUT);
	for (size_t i = 0; i < n; i++)
		if (keys[i].section == CONFIG_OUTPUT)
			p->key_line[i] = 0;
	return 1;
}

/* tls.* keys mean something only with tls on, a certificate only with its key, and TLS only over TCP. */
static int tls_rules(struct config_parse *p, const struct config_output *o)
{
	static const char *const sub[] = {"tls.verify", "tls.verify_hostname", "tls.ca_file", "tls.ca_path", "tls.crt_file", "tls.key_file",
					  "tls.vhost"};
	int crt = given(p, CONFIG_OUTPUT, "tls.crt_file"), key = given(p, CONFIG_OUTPUT, "tls.key_file");

	/* (tls.verify and tls.verify_hostname = on, their default, written out, ask for nothing) */
	for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]) && !o->tls; i++)
		if (given(p, CONFIG_OUTPUT, sub[i]) && !(i == 0 && o->tls_verify) && !(i == 1 && o->tls_verify_hostname))
			return config_fail(p, given(p, CONFIG_OUTPUT, sub[i]), "%s: tls is off in this [OUTPUT]; "
					   "add tls = on, or remove it", sub[i]);
	if (!crt != !key)
		return config_fail(p, crt ? crt : key, "%s without %s: a client certificate needs both",
				   crt ? "tls.crt_file" : "tls.key_file", crt ? "tls.key_file" : "tls.crt_file");
	if (o->tls && given(p, CONFIG_OUTPUT, "Unix_Path") && !given(p, CONFIG_OUTPUT, "Host"))
		return config_fail(p, given(p, CONFIG_OUTPUT, "tls"), "tls: only for TCP receivers (Host), and this "
				   "[OUTPUT] has only Unix sockets");
	return 1;
}

/* The rules of one [OUTPUT] that span its keys, when its section ends. */
int config_output_done(struct config_parse *p)
{
	struct config_output *o = &p->cfg->outputs[p->cfg->output_count - 1];
	int frame = given(p, CONFIG_OUTPUT, "Frame_Size"), limit = given(p, CONFIG_OUTPUT, "Buffer_Limit");
	size_t n;
	const struct config_key *keys = config_keys(&n), *first = NULL;
	char where[1200];

	if (!given(p, CONFIG_OUTPUT, "Name"))
		return config_fail(p, o->line, "no Name= in [OUTPUT] (stdout or forward)");
	for (size_t i = 0; i < n && o->output != OUTPUT_FORWARD; i++)
		if (keys[i].forward_only && p->key_line[i] && (!first || p->key_line[i] < p->key_line[first - keys]))
			first = &keys[i];
	if (first)
		return config_fail(p, p->key_line[first - keys], "%s: only for Name forward", first->name);
	/* a Port with only Unix sockets to go to means nothing: say so rather than ignore it */
	if (given(p, CONFIG_OUTPUT, "Unix_Path") && given(p, CONFIG_OUTPUT, "Port") && !given(p, CONFIG_OUTPUT, "Host"))
		return config_fail(p, given(p, CONFIG_OUTPUT, "Unix_Path"),
				   "Unix_Path: not together with Port (%s); use one or the other",
				   config_where(p, given(p, CONFIG_OUTPUT, "Port"), false, where, sizeof(where)));
	if (o->frame_size > o->buffer_limit)
		return config_fail(p, frame > limit ? frame : limit,
				   "Frame_Size (%llu bytes) is larger than Buffer_Limit (%llu bytes)",
				   (unsigned long long)o->frame_size, (unsigned long long)o->buffer_limit);
	if ((given(p, CONFIG_OUTPUT, "Shared_Key") && given(p, CONFIG_OUTPUT, "Shared_Key_File")) ||
	    (given(p, CONFIG_OUTPUT, "Password") && given(p, CONFIG_OUTPUT, "Password_File")))
		return config_fail(p, o->line, "[OUTPUT]: a secret and its _File together; give one");
	if (o->username[0] && !o->shared_key[0])
		return config_fail(p, given(p, CONFIG_OUTPUT, "Username"), "Username: needs a Shared_Key (users come with the handshake)");
	if (!tls_rules(p, o))
		return 0;
	/* no receiver given: Fluent Bit's default, on this machine */
	if (!o->receiver_count)
		snprintf(o->receivers[o->receiver_count++].host, sizeof(o->receivers[0].host), "127.0.0.1");
	for (unsigned i = 0; i < o->receiver_count; i++)
		if (!o->receivers[i].port && !o->receivers[i].unix_path[0])
			o->receivers[i].port = o->port;
	return 1;
}

/* A "[NAME]" line: known, not seen before (but [OUTPUT]), nothing after it but a comment. */
static int section_start(struct config_parse *p, char *line)
{
	char *close = strchr(line, ']'), *rest, *name, q[1024];

	if (!close)
		return config_fail(p, p->line, "\"%s\" has no closing ']'", config_quote(q, sizeof(q), line));
	rest = close + 1 + strspn(close + 1, " \t\r\v\f");
	if (*rest && *rest != ';' && *rest != '#')
		return config_fail(p, p->line, "\"%s\": text after ']'", config_quote(q, sizeof(q), line));
	*close = '\0';
	name = trim(line + 1);
	for (int i = 0; i < CONFIG_SECTIONS; i++) {
		const char *sec = config_section_names[i];

		if (strcasecmp(name, sec) != 0)
			continue;
		if (p->section_line[i] && i != CONFIG_OUTPUT)
			return config_fail(p, p->line, "[%s] given twice (first on line %d); %s", sec, p->section_line[i],
					   i == CONFIG_INPUT ? "put every Trace= in one [INPUT]" : "merge them");
		if (p->section == CONFIG_OUTPUT && !config_output_done(p))
			return 0;
		p->section = i;
		if (!p->section_line[i])
			p->section_line[i] = p->line;
		return i != CONFIG_OUTPUT || config_output_start(p);
	}
	return config_fail(p, p->line, "unknown section [%s] (expected [SERVICE], [INPUT] or [OUTPUT])",
			   config_quote(q, sizeof(q), name));
}

/* inih's find_chars_or_comment: the first of chars, or a ';' after a blank (an inline comment), or the end. */
static char *find_or_comment(char *s, const char *chars)
{
	bool was_space = false;

	while (*s && !(chars && strchr(chars, *s)) && !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/*
 * "Key = Value" or "Key: Value" (a trimmed line, not a comment or section), split as inih does: the name
 * is up to the first '=' or ':', unless an inline comment comes first; the value ends at an inline comment.
 */
static int key_value(struct config_parse *p, char *line)
{
	char *sep = find_or_comment(line, "=:"), *name, *value, q[1024];
	const struct config_key *k;
	int first;

	if (*sep != '=' && *sep != ':')
		return config_fail(p, p->line, "\"%s\" is neither [SECTION] nor Key = Value", config_quote(q, sizeof(q), line));
	*sep = '\0';
	name = trim(line);
	*find_or_comment(sep + 1, NULL) = '\0';
	value = trim(sep + 1);
	if (!*name)
		return config_fail(p, p->line, "no key name before '='");
	config_quote(q, sizeof(q), name);
	if (p->section < 0)
		return config_fail(p, p->line, "%s: key before any section ([SERVICE], [INPUT] or [OUTPUT])", q);
	k = config_key_find(p->section, name);
	if (!k)
		return config_fail(p, p->line, "unknown key \"%s\" in [%s]", q, config_section_names[p->section]);
	first = config_mark_given(p, k);
	if (first && !k->repeats)
		return config_fail(p, p->line, "%s: given twice (first on line %d)", k->name, first);
	return config_set(p, k, value);
}

/* One physical line: at most CONFIG_LINE_MAX bytes once trimmed; a comment, a section or a key. */
static int read_line(struct config_parse *p, const char *s, size_t len)
{
	char buf[CONFIG_LINE_MAX + 1];

	while (len && isspace((unsigned char)*s))
		s++, len--;
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len > CONFIG_LINE_MAX)
		return config_fail(p, p->line, "line is longer than %d bytes", CONFIG_LINE_MAX);
	if (len == 0 || *s == ';' || *s == '#')
		return 1;
	snprintf(buf, sizeof(buf), "%.*s", (int)len, s);
	return *buf == '[' ? section_start(p, buf) : key_value(p, buf);
}

/* Rules that span sections, checked once the whole file is read (each [OUTPUT]'s own at its end). */
static int check(struct config_parse *p)
{
	struct config *cfg = p->cfg;

	/* Only an explicit User= must exist; the default one may fall back to nobody. */
	cfg->user_set = given(p, CONFIG_SERVICE, "User") != 0;
	if (p->section == CONFIG_OUTPUT && !config_output_done(p))
		return 0;
	if (!p->section_line[CONFIG_INPUT])
		return config_fail(p, 0, "no [INPUT] section");
	if (!cfg->trace_count)
		return config_fail(p, p->section_line[CONFIG_INPUT], "no Trace= in [INPUT]");
	if (!p->section_line[CONFIG_OUTPUT])
		return config_fail(p, 0, "no [OUTPUT] section");
	return 1;
}

int config_load_string(struct config *cfg, const char *text, const char *name, char *err, size_t errlen)
{
	struct config_parse p = {.cfg = cfg, .name = name ? name : "(config)", .err = err, .errlen = errlen,
				 .section = -1};
	const char *s = text ? text : "", *eol;

	config_defaults(cfg);
	cfg->path = name;
	/* A UTF-8 byte order mark from a Windows editor is not content. */
	if (strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	for (p.line = 1; !p.failed && *s; p.line++, s = eol ? eol + 1 : s + strlen(s)) {
		eol = strchr(s, '\n');
		read_line(&p, s, eol ? (size_t)(eol - s) : strlen(s));
	}
	if (!p.failed)
		check(&p);
	return p.failed ? -1 : 0;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct config_parse p = {.cfg = cfg, .name = path ? path : "(config)", .err = err, .errlen = errlen};
	/* One byte more than allowed is read, to tell "exactly the limit" from "too big". */
	char *buf = malloc(CONFIG_FILE_MAX + 2);
	FILE *f = path ? fopen(path, "re") : NULL;
	int rc = -1, line = 1, open_errno = errno;
	struct stat st;
	size_t n = 0;

	config_defaults(cfg);
	cfg->path = path;
	/*
	 * Root reads this file and it decides what root loads (Libc_Path,
	 * OpenSSL_Path) and where every event goes: only root may be able to
	 * change it. Its owner must be root, and no one else may write it.
	 */
	if (f && fstat(fileno(f), &st) == 0 && (st.st_uid != 0 || (st.st_mode & S_IWOTH) ||
					       ((st.st_mode & S_IWGRP) && st.st_gid != 0))) {
		config_fail(&p, 0, "%s; only root may be able to change it (chown root, chmod go-w)",
			    st.st_uid != 0 ? "not owned by root" : "writable by other users");
		fclose(f);
		free(buf);
		return -1;
	}
	if (f && buf) {
		n = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
		buf[n] = '\0';
		/* The line of a NUL byte, if there is one: one more than the newlines before it. */
		for (const char *c = buf; (c = strchr(c, '\n')); c++)
			line++;
	}
	if (!path)
		config_fail(&p, 0, "no configuration file given");
	else if (!f)
		config_fail(&p, 0, "cannot open: %s", strerror(open_errno));
	else if (!buf || ferror(f))
		config_fail(&p, 0, "cannot read: %s", buf ? strerror(errno) : "out of memory");
	else if (n > CONFIG_FILE_MAX)
		config_fail(&p, 0, "larger than %d bytes, not a configuration file", CONFIG_FILE_MAX);
	else if (strlen(buf) < n)
		config_fail(&p, line, "NUL byte, not a text file");
	else
		rc = config_load_string(cfg, buf, path, err, errlen);
	/* a secret written in the file: then no one but root may read the file */
	for (unsigned i = 0; rc == 0 && i < cfg->output_count; i++)
		if (cfg->outputs[i].secret_line && (st.st_mode & 077)) {
			config_fail(&p, cfg->outputs[i].secret_line,
				    "a secret in a file others can read (mode %04o): chmod 600 it, or use Shared_Key_File / "
				    "Password_File", (unsigned)(st.st_mode & 07777));
			rc = -1;
		}
	if (f)
		fclose(f);
	free(buf);
	return rc;
}
