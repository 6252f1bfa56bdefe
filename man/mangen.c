/*
 * mangen.c: writes a manual page from its template (man/NAME.in), filling in what the code's tables hold:
 * @CONFIG_KEYS@ the key table, @CLI_OPTIONS@ the option table, @TRACES@ the build's traces, @NAME@ values (@@: '@').
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "registry.h"

/* A template line, bounded: ours are short, and a longer one is an error, not a silent cut. */
#define LINE_MAX_BYTES 4096
#define VARS_MAX 32

struct var {
	const char *name, *value;
};

/* One UTF-8 code point from s (its length in *len); 0xFFFD for a bad sequence, consumed one byte. */
static unsigned utf8_next(const unsigned char *s, size_t *len)
{
	unsigned c = s[0], n = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0, cp;
	static const unsigned lowest[] = {0, 0x80, 0x800, 0x10000};

	*len = 1;
	if (c < 0x80)
		return c;
	if (!n || c >= 0xf5)
		return 0xfffd;
	cp = c & (0x3fu >> n);
	for (unsigned i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0xfffd;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < lowest[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0xfffd;
	*len = n + 1;
	return cp;
}

/*
 * Any string as roff text on the current line: backslash, hyphen-minus (an option or a path, not a
 * typographic hyphen), a control character at a line's start, non-ASCII as \[uXXXX], newlines and
 * tabs as spaces, other control bytes as U+FFFD. at_start: the output is at the start of a line.
 */
static void roff_text(FILE *f, const char *s, bool at_start)
{
	for (const unsigned char *c = (const unsigned char *)s; *c;) {
		size_t len;
		unsigned cp = utf8_next(c, &len);

		if (at_start && (cp == '.' || cp == '\'' || cp == ' '))
			fputs("\\&", f);
		at_start = false;
		if (cp == '\\')
			fputs("\\(rs", f);
		else if (cp == '-')
			fputs("\\-", f);
		else if (cp == '\n' || cp == '\t')
			fputc(' ', f);
		else if (cp < 0x20 || cp == 0x7f)
			fputs("\\[uFFFD]", f);
		else if (cp < 0x80)
			fputc((int)cp, f);
		else
			fprintf(f, "\\[u%04X]", cp);
		c += len;
	}
}

/* "(none: memory only)" describes the unset state; anything else is a value a user writes. */
static void key_default(FILE *f, const char *def)
{
	size_t len = strlen(def);

	fputs("; default ", f);
	if (len >= 2 && def[0] == '(' && def[len - 1] == ')') {
		char inner[256];

		snprintf(inner, sizeof(inner), "%.*s", (int)(len - 2), def + 1);
		fputs("(", f);
		roff_text(f, inner, false);
		fputs(")", f);
	} else {
		fputs("\\fB", f);
		roff_text(f, def, false);
		fputs("\\fR", f);
	}
}

/* A table's text as a sentence: its own final stop, or one added. */
static void sentence(FILE *f, const char *s)
{
	size_t len = strlen(s);

	roff_text(f, s, true);
	fputs(len && strchr(".!?", s[len - 1]) ? "\n" : ".\n", f);
}

/* Every row of the key table, by section: name, type with range and note, default, help, restrictions. */
static void write_keys(FILE *f)
{
	size_t n;
	const struct config_key *keys = config_keys(&n);
	struct config_key t;
	char type[512];

	for (int s = 0; s < CONFIG_SECTIONS; s++) {
		fprintf(f, ".SS [%s]\n", config_section_names[s]);
		for (size_t i = 0; i < n; i++) {
			const struct config_key *k = &keys[i];

			if ((int)k->section != s)
				continue;
			fputs(".TP\n\\fB", f);
			roff_text(f, k->name, false);
			fputs("\\fR \\(em \\fI", f);
			/* the note belongs to the range: "..., at most 107 bytes (the limit of ...), repeated" */
			t = *k;
			t.repeats = false;
			roff_text(f, config_key_type(&t, type, sizeof(type)), false);
			if (k->note) {
				fputs(" (", f);
				roff_text(f, k->note, false);
				fputs(")", f);
			}
			if (k->repeats)
				fputs(", repeated", f);
			fputs("\\fR", f);
			key_default(f, k->def);
			fputs("\n", f);
			sentence(f, k->help);
			if (k->type == CONFIG_LIST && k->choices) {
				fputs("One of:", f);
				for (const struct config_choice *c = k->choices; c->name; c++) {
					fputs(c == k->choices ? " " : ", ", f);
					roff_text(f, c->name, false);
				}
				fputs(".\n", f);
			}
			if (k->forward_only)
				fputs("Only in an output with \\fBName forward\\fR.\n", f);
		}
	}
}

/* Every option of the table: -x, --name ARG, and its paragraph. */
static void write_options(FILE *f)
{
	size_t n;
	const struct cli_option *o = cli_options(&n);

	for (size_t i = 0; i < n; i++) {
		fputs(".TP\n", f);
		if (o[i].id < 0x100)
			fprintf(f, "\\fB\\-%c\\fR, ", o[i].id);
		fputs("\\fB\\-\\-", f);
		roff_text(f, o[i].name, false);
		fputs("\\fR", f);
		if (o[i].arg) {
			fputs(" \\fI", f);
			roff_text(f, o[i].arg, false);
			fputs("\\fR", f);
		}
		fputs("\n", f);
		roff_text(f, o[i].man, true);
		fputs("\n", f);
	}
}

/* The build's traces, each with what it watches. */
static void write_traces(FILE *f)
{
	const struct trace_unit *const *all = registry_all();

	for (size_t i = 0; all[i]; i++) {
		fputs(".TP\n\\fB", f);
		roff_text(f, all[i]->name, false);
		fputs("\\fR\n", f);
		sentence(f, all[i]->description);
	}
}

/* A template line with its @NAME@ replaced; an unknown name is an error (a typo must not ship). */
static int substitute(FILE *f, const char *line, const struct var *vars, size_t nvars, const char *where)
{
	const char *at;

	while ((at = strchr(line, '@'))) {
		const char *end = strchr(at + 1, '@');
		size_t i;

		if (!end) {
			fprintf(stderr, "%s: a lone '@' (write @@ for one)\n", where);
			return -1;
		}
		if (end == at + 1) {
			fwrite(line, 1, (size_t)(at - line) + 1, f);
			line = end + 1;
			continue;
		}
		for (i = 0; i < nvars; i++)
			if (strlen(vars[i].name) == (size_t)(end - at - 1) && !strncmp(vars[i].name, at + 1, (size_t)(end - at - 1)))
				break;
		if (i == nvars) {
			fprintf(stderr, "%s: unknown @%.*s@\n", where, (int)(end - at - 1), at + 1);
			return -1;
		}
		fwrite(line, 1, (size_t)(at - line), f);
		roff_text(f, vars[i].value, at == line);
		line = end + 1;
	}
	fputs(line, f);
	return 0;
}

int main(int argc, char **argv)
{
	struct var vars[VARS_MAX];
	size_t nvars = 0;
	char line[LINE_MAX_BYTES + 2], where[LINE_MAX_BYTES], num[5][32];
	FILE *in, *out;
	int lineno = 0, rc = 0;

	if (argc < 3 || argc - 3 > VARS_MAX - 10) {
		fprintf(stderr, "usage: mangen TEMPLATE OUTPUT [NAME=VALUE...]\n");
		return 2;
	}
	/* the code's own figures, so the prose cannot say another */
	snprintf(num[0], sizeof(num[0]), "%d", CONFIG_LINE_MAX);
	snprintf(num[1], sizeof(num[1]), "%d", CONFIG_MAX_OUTPUTS);
	snprintf(num[2], sizeof(num[2]), "%d", CONFIG_MAX_RECEIVERS);
	snprintf(num[3], sizeof(num[3]), "%d", CONFIG_SECRET_MAX - 1);
	snprintf(num[4], sizeof(num[4]), "%d", CLI_EXIT_USAGE);
	vars[nvars++] = (struct var){"VERSION", EBPF_FORWARD_VERSION};
	vars[nvars++] = (struct var){"DEFAULT_CONFIG", CLI_DEFAULT_CONFIG};
	vars[nvars++] = (struct var){"LINE_MAX", num[0]};
	vars[nvars++] = (struct var){"MAX_OUTPUTS", num[1]};
	vars[nvars++] = (struct var){"MAX_RECEIVERS", num[2]};
	vars[nvars++] = (struct var){"SECRET_MAX", num[3]};
	vars[nvars++] = (struct var){"EXIT_USAGE", num[4]};
	for (int i = 3; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq) {
			fprintf(stderr, "mangen: %s: not NAME=VALUE\n", argv[i]);
			return 2;
		}
		*eq = '\0';
		vars[nvars++] = (struct var){argv[i], eq + 1};
	}
	in = fopen(argv[1], "r");
	if (!in) {
		fprintf(stderr, "mangen: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	out = fopen(argv[2], "w");
	if (!out) {
		fprintf(stderr, "mangen: %s: %s\n", argv[2], strerror(errno));
		fclose(in);
		return 1;
	}
	while (rc == 0 && fgets(line, sizeof(line), in)) {
		size_t len = strlen(line);

		snprintf(where, sizeof(where), "%s:%d", argv[1], ++lineno);
		if (len && line[len - 1] != '\n' && !feof(in)) {
			fprintf(stderr, "%s: longer than %d bytes\n", where, LINE_MAX_BYTES);
			rc = -1;
		} else if (!strcmp(line, "@CONFIG_KEYS@\n"))
			write_keys(out);
		else if (!strcmp(line, "@CLI_OPTIONS@\n"))
			write_options(out);
		else if (!strcmp(line, "@TRACES@\n"))
			write_traces(out);
		else
			rc = substitute(out, line, vars, nvars, where);
	}
	if (ferror(in) || ferror(out))
		rc = -1;
	fclose(in);
	if (fclose(out) || rc) {
		fprintf(stderr, "mangen: %s not written\n", argv[2]);
		remove(argv[2]);
		return 1;
	}
	return 0;
}
