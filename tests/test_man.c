/* test_man.c: the built manual pages render without a warning and hold every row of the key, option and trace tables. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "registry.h"
#include "suite_run.h"

#if !defined(MAN8_PATH) || !defined(MAN5_PATH) || !defined(MANGEN_PATH)
#error "MAN8_PATH, MAN5_PATH and MANGEN_PATH must name the built pages and their generator"
#endif

/* What cmd writes (stdout and stderr as it redirects them), and its status in *status. */
static char *output_of(const char *cmd, int *status)
{
	char *text = NULL;
	size_t cap = 0;
	FILE *p = popen(cmd, "r");

	ck_assert_ptr_nonnull(p);
	if (getdelim(&text, &cap, '\0', p) < 0) {
		free(text);
		text = strdup("");
	}
	*status = pclose(p);
	return text;
}

/*
 * The page as plain ASCII with lines long enough that a key's line is one line, runs of blanks squeezed
 * to one so justification does not decide what matches: a heading starts its line, any other text a blank.
 */
static char *render(const char *page)
{
	char cmd[512], *text;
	size_t len = 0;
	int status;

	snprintf(cmd, sizeof(cmd), "groff -man -Tascii -P-c -P-b -P-u -P-o -rLL=400n %s", page);
	text = output_of(cmd, &status);
	ck_assert_int_eq(status, 0);
	for (size_t c = 0; text[c]; c++) {
		if (text[c] == ' ' && len && text[len - 1] == ' ')
			continue;
		text[len++] = text[c];
	}
	text[len] = '\0';
	return text;
}

/* The lines after the heading "HEADING", up to the next heading (a line at the margin). */
static char *section(const char *text, const char *heading)
{
	char want[64];
	const char *at, *end;

	snprintf(want, sizeof(want), "\n%s\n", heading);
	at = strstr(text, want);
	ck_assert_msg(at, "no %s section", heading);
	at += strlen(want) - 1;
	for (end = at; (end = strchr(end + 1, '\n')) && (end[1] == ' ' || end[1] == '\n');)
		;
	return strndup(at, end ? (size_t)(end - at + 1) : strlen(at));
}

/* The first text line after from that is exactly line (indented, "\n" around it), or NULL. */
static const char *find_line(const char *from, const char *line)
{
	char want[2100];

	ck_assert_uint_lt(strlen(line), 2048);
	snprintf(want, sizeof(want), "\n %s\n", line);
	return strstr(from, want);
}

/* groff's strictest warnings, and man's, at two widths: not one line on stderr. */
START_TEST(pages_render_without_warnings)
{
	static const char *const pages[] = {MAN8_PATH, MAN5_PATH};
	static const char *const cmds[] = {"groff -man -ww -z %s 2>&1 >/dev/null",
					   "MANWIDTH=80 man --warnings=w -l %s 2>&1 >/dev/null",
					   "MANWIDTH=60 man --warnings -l %s 2>&1 >/dev/null"};
	char cmd[512], *out;
	int status;

	for (int p = 0; p < 2; p++)
		for (int c = 0; c < 3; c++) {
			snprintf(cmd, sizeof(cmd), cmds[c], pages[p]);
			out = output_of(cmd, &status);
			ck_assert_msg(status == 0 && !*out, "%s: status %d: %s", cmd, status, out);
			free(out);
		}
}
END_TEST

/* Every row, in its section and the table's order: "Name -- type; default D", then its help. */
START_TEST(conf_page_has_every_key)
{
	char *text = render(MAN5_PATH), *keys = section(text, "KEYS"), want[2048], type[512];
	size_t n, lines = 0;
	const struct config_key *k = config_keys(&n);

	for (int s = 0; s < CONFIG_SECTIONS; s++) {
		const char *at, *next;

		snprintf(want, sizeof(want), "[%s]", config_section_names[s]);
		at = find_line(keys, want);
		ck_assert_msg(at, "no [%s] in KEYS:\n%.500s", config_section_names[s], keys);
		for (size_t i = 0; i < n; i++) {
			struct config_key t = k[i];

			if ((int)k[i].section != s)
				continue;
			t.repeats = false;
			snprintf(want, sizeof(want), "%s -- %s%s%s%s%s; default %s", k[i].name,
				 config_key_type(&t, type, sizeof(type)), k[i].note ? " (" : "", k[i].note ? k[i].note : "",
				 k[i].note ? ")" : "", k[i].repeats ? ", repeated" : "", k[i].def);
			at = find_line(at, want);
			ck_assert_msg(at, "[%s] %s: no line \"%s\" (in the table's order) in:\n%.500s", config_section_names[s],
				      k[i].name, want, keys);
			at = strchr(at + 1, '\n');
			snprintf(want, sizeof(want), "\n %s%s", k[i].help,
				 *k[i].help && strchr(".!?", k[i].help[strlen(k[i].help) - 1]) ? "" : ".");
			ck_assert_msg(strncmp(at, want, strlen(want)) == 0, "%s: its help does not follow: %.200s", k[i].name, at);
			/* up to the next key's line: "Only in an output with Name forward." if it is so */
			next = strstr(at, " -- ");
			next = next ? next : at + strlen(at);
			ck_assert_msg((strstr(at, "Only in an output with Name forward.") &&
				       strstr(at, "Only in an output with Name forward.") < next) == k[i].forward_only,
				      "%s: Name forward mark is not %d", k[i].name, k[i].forward_only);
		}
	}
	/* and no other key line */
	for (const char *c = keys; (c = strstr(c, " -- ")); c++)
		lines++;
	ck_assert_uint_eq(lines, n);
	free(keys);
	free(text);
}
END_TEST

/* Every option with its argument, in the table's order, followed by the start of its paragraph. */
START_TEST(daemon_page_has_every_option_and_trace)
{
	char *text = render(MAN8_PATH), *opts = section(text, "OPTIONS"), *traces = section(text, "TRACES"), *exits,
	     want[256];
	const struct trace_unit *const *all = registry_all();
	const char *at = opts;
	size_t n;
	const struct cli_option *o = cli_options(&n);

	for (size_t i = 0; i < n; i++) {
		int len = 0;

		if (o[i].id < 0x100)
			len = snprintf(want, sizeof(want), "-%c, ", o[i].id);
		snprintf(want + len, sizeof(want) - (size_t)len, "--%s%s%s", o[i].name, o[i].arg ? " " : "",
			 o[i].arg ? o[i].arg : "");
		at = find_line(at, want);
		ck_assert_msg(at, "option %s not in OPTIONS (in order):\n%.500s", want, opts);
		at = strchr(at + 1, '\n') + 2;
		len = (int)strlen(o[i].man) < 30 ? (int)strlen(o[i].man) : 30;
		ck_assert_msg(strncmp(at, o[i].man, (size_t)len) == 0, "--%s: its paragraph does not follow: %.80s", o[i].name, at);
	}
	for (size_t i = 0; all[i]; i++) {
		size_t len = strlen(all[i]->name);

		snprintf(want, sizeof(want), "\n %s", all[i]->name);
		at = strstr(traces, want);
		ck_assert_msg(at && (at[len + 2] == ' ' || at[len + 2] == '\n'), "trace %s not in TRACES:\n%.500s", all[i]->name,
			      traces);
		/* on the tag's line when the tag is short, else on the next */
		at += len + 2 + strspn(at + len + 2, " \n");
		ck_assert_msg(strncmp(at, all[i]->description, strlen(all[i]->description)) == 0,
			      "trace %s: its description does not follow: %.80s", all[i]->name, at);
	}
	/* the default configuration the binary reads, and the exit code of a bad command line */
	ck_assert_ptr_nonnull(strstr(text, CLI_DEFAULT_CONFIG));
	exits = section(text, "EXIT STATUS");
	snprintf(want, sizeof(want), "\n %d The command line is wrong", CLI_EXIT_USAGE);
	ck_assert_msg(strstr(exits, want), "no \"%s\" in:\n%s", want + 1, exits);
	free(exits);
	free(traces);
	free(opts);
	free(text);
}
END_TEST

/*
 * The generator's escaping, through a template of its own: roff's specials in a value come out as
 * the text, leading dot and quote included, and a hyphen stays ASCII; unknown @NAME@ fails the build.
 */
START_TEST(generator_escapes_any_text)
{
	char dir[] = "/tmp/test_man.XXXXXX", tmpl[64], page[64], cmd[1024], quoted[2][256], *out;
	/* at a line's start a dot or a quote is a request; a backslash anywhere an escape */
	const char *const nasty[2] = {".so /etc/passwd \\fB\"x\" -y \\\\n(.l \xc3\xa9\x01", "'br -z"};
	const char *const shown[2] = {".so /etc/passwd \\fB\"x\" -y \\\\n(.l \xc3\xa9\xef\xbf\xbd", "'br -z"};
	FILE *f;
	int status;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(tmpl, sizeof(tmpl), "%s/t.in", dir);
	snprintf(page, sizeof(page), "%s/t.1", dir);
	f = fopen(tmpl, "w");
	ck_assert_ptr_nonnull(f);
	fputs(".TH T 1\n.SH NAME\nt @@ \\- test\n.SH DESCRIPTION\n@NASTY@\n.PP\n@QUOTE@\n.PP\nx @NASTY@\n", f);
	fclose(f);
	/* each value in single quotes for the shell, a quote in it as '\'' */
	for (int v = 0; v < 2; v++) {
		size_t o = 0;

		for (const char *c = nasty[v]; *c && o + 5 < sizeof(quoted[v]); c++)
			o += (size_t)(*c == '\'' ? snprintf(quoted[v] + o, sizeof(quoted[v]) - o, "'\\''")
						 : snprintf(quoted[v] + o, sizeof(quoted[v]) - o, "%c", *c));
		quoted[v][o] = '\0';
	}
	snprintf(cmd, sizeof(cmd), "%s %s %s 'NASTY=%s' 'QUOTE=%s' 2>&1 && "
		 "LC_ALL=C.UTF-8 groff -man -ww -Tutf8 -P-c -P-b -P-u -P-o -rLL=200n %s 2>&1",
		 MANGEN_PATH, tmpl, page, quoted[0], quoted[1], page);
	out = output_of(cmd, &status);
	ck_assert_msg(status == 0, "%s: %s", cmd, out);
	ck_assert_msg(strstr(out, "t @ - test"), "%s", out);
	/* the text as given, twice, é as itself and the control byte as U+FFFD; the quote's line kept */
	ck_assert_msg(strstr(out, shown[0]), "no \"%s\" in:\n%s", shown[0], out);
	ck_assert_msg(strstr(strstr(out, shown[0]) + 1, shown[0]), "second one missing in:\n%s", out);
	ck_assert_msg(strstr(out, shown[1]), "no \"%s\" in:\n%s", shown[1], out);
	free(out);
	unlink(page);
	/* a name the generator does not know */
	f = fopen(tmpl, "w");
	fputs(".TH T 1\n@NO_SUCH@\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s %s %s 2>&1", MANGEN_PATH, tmpl, page);
	out = output_of(cmd, &status);
	ck_assert_int_ne(status, 0);
	ck_assert_msg(strstr(out, "unknown @NO_SUCH@"), "%s", out);
	ck_assert_int_ne(access(page, F_OK), 0);
	free(out);
	unlink(tmpl);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("man");
	TCase *tc = tcase_create("pages");

	/* a dozen groff runs: seconds on a loaded machine */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, pages_render_without_warnings);
	tcase_add_test(tc, conf_page_has_every_key);
	tcase_add_test(tc, daemon_page_has_every_option_and_trace);
	tcase_add_test(tc, generator_escapes_any_text);
	suite_add_tcase(s, tc);
	return suite_run(s);
}
