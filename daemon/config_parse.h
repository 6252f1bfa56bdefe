/* config_parse.h: what the reader (config_read.c) and the key table (config.c) share about one parse. */
#ifndef EBPF_FORWARD_CONFIG_PARSE_H
#define EBPF_FORWARD_CONFIG_PARSE_H

#include "config.h"

/* Room for the key table's rows in per-parse arrays; config.c asserts the table fits. */
#define CONFIG_KEYS_MAX 64

struct config_parse {
	struct config *cfg;
	const char *name;                 /* file name for messages */
	char *err;
	size_t errlen;
	bool failed;
	int line;                         /* line being read, from 1; 0 for the defaults */
	int section;                      /* enum config_section of the lines being read; -1 before any */
	int section_line[CONFIG_SECTIONS];/* 0 = not seen */
	int key_line[CONFIG_KEYS_MAX];    /* by table row; 0 = not given */
	const struct config_key *key;     /* key being set, for value messages */
};

/* Where line was given, for messages: "line 3", or in quick mode the argument "-t exec"; with preposition
 * "on line 3", "as -t exec". */
const char *config_where(const struct config_parse *p, int line, bool preposition, char *buf, size_t len);

/* Copies s into out with '"', '\\' and non-printable bytes escaped; returns out. */
const char *config_quote(char *out, size_t outlen, const char *s);

/* Records the first error as "name:line: message" (line 0: "name: message"); returns 0. */
__attribute__((format(printf, 3, 4)))
int config_fail(struct config_parse *p, int line, const char *fmt, ...);

/* Sets key k from value: its type's rules, then its own check; 1 on success, 0 with the error in p. */
int config_set(struct config_parse *p, const struct config_key *k, const char *value);

/* The defaults of one section's rows (for [OUTPUT]: the current output's). */
void config_section_defaults(struct config_parse *p, int section);

/* The table row of section s's key name (case-insensitive), or NULL. */
const struct config_key *config_key_find(int s, const char *name);

/* Marks row k given at the parse's line (the first time); returns the line it was first given at, 0 if new. */
int config_mark_given(struct config_parse *p, const struct config_key *k);

/* A new [OUTPUT] with its defaults (config_read.c); 0 with the error in p. */
int config_output_start(struct config_parse *p);

/* The rules of the current [OUTPUT] that span its keys, when it ends; 0 with the error in p. */
int config_output_done(struct config_parse *p);

#endif
