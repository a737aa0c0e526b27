/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options.h - one table of settings serves the command line, the config
 * file and --help, so they can never disagree.
 *
 * Every setting is named once ("rtmp-port"): it is the flag --rtmp-port and
 * the config-file key rtmp-port.  Precedence: built-in default, then the
 * config file, then flags.  Values are parsed the same way from both
 * sources, and every error names the key, what was wrong and what is allowed.
 *
 * Config file syntax: one "key = value" per line; '#' starts a comment;
 * blank lines are ignored; a value may be double-quoted (\" and \\ escapes).
 */
#ifndef SLUICE_CORE_OPTIONS_H
#define SLUICE_CORE_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum opt_type {
	OPT_STRING,   /* char *, owned by the config (freed by options_free) */
	OPT_INT,      /* int64_t within [min, max] */
	OPT_BOOL,     /* int: true/false, yes/no, on/off, 1/0 */
	OPT_MS,       /* uint64_t milliseconds: "250ms", "5s", "2m", "1h"; a bare number is ms */
	OPT_BYTES,    /* uint64_t bytes: "512", "64k", "8m", "1g" (powers of 1024) */
	OPT_ENUM,     /* char * that must be one of choices */
};

struct option_def {
	const char *name;
	enum opt_type type;
	size_t offset;               /* where the value lives in the config struct */
	const char *def;             /* default, written as a user would write it; NULL: unset */
	int64_t min, max;            /* OPT_INT/OPT_MS/OPT_BYTES bounds (max 0: no bound) */
	const char *const *choices;  /* OPT_ENUM: NULL-terminated */
	const char *metavar;         /* shown in --help, e.g. "ADDR" */
	const char *help;
};

#define OPT_END { NULL, OPT_STRING, 0, NULL, 0, 0, NULL, NULL, NULL }

struct opt_error {
	char msg[512];
};

/* Sets every option to its default.  Returns 0, or -1 if a default is bad (a bug). */
int options_defaults(const struct option_def *defs, void *cfg, struct opt_error *err);

/* Parses config text (source names it in messages).  Returns 0 or -1 with err set. */
int options_parse_text(const struct option_def *defs, void *cfg, const char *text,
                       size_t len, const char *source, struct opt_error *err);

/* Reads and parses a config file (at most 1 MiB).  Returns 0 or -1 with err set. */
int options_load_file(const struct option_def *defs, void *cfg, const char *path,
                      struct opt_error *err);

/*
 * Parses "--name value" / "--name=value" flags (bool flags also bare: --name,
 * --no-name).  "--config FILE" is recognised only when config_path is not
 * NULL, in which case the file is loaded before any flag is applied.
 * Returns 0, 1 when --help was given, or -1 with err set.
 */
int options_parse_args(const struct option_def *defs, void *cfg, int argc, char **argv,
                       struct opt_error *err);

/* Sets one option from text, as the file and flags do. */
int options_set(const struct option_def *defs, void *cfg, const char *name,
                const char *value, struct opt_error *err);

void options_print_help(FILE *f, const char *usage, const struct option_def *defs);
void options_free(const struct option_def *defs, void *cfg);

#endif
