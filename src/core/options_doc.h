/* SPDX-License-Identifier: Apache-2.0 */
/*
 * options_doc.h - the options table (options.h) as a man page and as an
 * example config file, and the table-driven helpers a config reload needs.
 *
 * The man pages and the example configs in /etc/sluice are generated at build time from the
 * built binary (`sluice node --help-man`, `--help-conf`), from the very table
 * that parses flags and config files and prints --help: they cannot drift.
 */
#ifndef SLUICE_CORE_OPTIONS_DOC_H
#define SLUICE_CORE_OPTIONS_DOC_H

#include <stddef.h>
#include <stdio.h>

#include "core/options.h"

/* A flag that is not in the table (--help, --check-config) but belongs in the page. */
struct man_extra {
	const char *flag;
	const char *help;
};

struct man_page {
	const char *name;         /* "sluice-node" */
	int section;              /* 8 for daemons, 1 for user commands */
	const char *summary;      /* one line for NAME */
	const char *synopsis;     /* "sluice node [options]" */
	const char *description;  /* paragraphs separated by blank lines */
	const struct man_extra *extras;   /* NULL-terminated by flag; may be NULL */
	const char *trailer;      /* raw roff appended (FILES, SIGNALS, ...); may be NULL */
};

/* Writes page as roff, with an OPTIONS section listing every entry of defs
 * (flag, value, help, choices, default) followed by the extras. */
void options_print_man(FILE *f, const struct man_page *page, const struct option_def *defs);

/* Writes text to f escaped for roff (backslashes, leading dots and quotes). */
void roff_escape(FILE *f, const char *text);

/*
 * Writes an example config file: every key commented out with its help and
 * its default ("# rtmp-port = 1935"), so the file as installed changes
 * nothing and each line is one uncomment away.  The "config" key is skipped.
 */
void options_print_conf(FILE *f, const char *title, const struct option_def *defs);

/*
 * Removes every occurrence of flag (exactly, e.g. "--check-config") from
 * argv, shifting the rest down.  Returns how many were removed.
 */
int options_take_flag(int *argc, char **argv, const char *flag);

/* 1 when option d holds the same value in a and b (config structs of the same table). */
int options_value_equal(const struct option_def *d, const void *a, const void *b);
/* Writes option d's value in cfg as text ("(unset)" for a NULL string). */
void options_value_text(const struct option_def *d, const void *cfg, char *buf, size_t n);
/* Moves option d's value from src to dst; a string's ownership moves too (src keeps the
 * old one of dst, so freeing src later frees it). */
void options_value_swap(const struct option_def *d, void *dst, void *src);

#endif
