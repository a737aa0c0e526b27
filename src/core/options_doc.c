/* SPDX-License-Identifier: Apache-2.0 */
/* options_doc.c - man pages, example configs and value helpers from the options table. */
#include "core/options_doc.h"

#include <stdint.h>
#include <string.h>

static const char *metavar(const struct option_def *d)
{
	return d->metavar ? d->metavar
	       : d->type == OPT_BOOL ? "BOOL"
	       : d->type == OPT_MS ? "DURATION"
	       : d->type == OPT_BYTES ? "SIZE"
	       : d->type == OPT_INT ? "N" : "VALUE";
}

void roff_escape(FILE *f, const char *text)
{
	int bol = 1;
	for (const char *p = text; *p; p++) {
		if (bol && (*p == '.' || *p == '\''))
			fputs("\\&", f);
		if (*p == '\\')
			fputs("\\e", f);
		else if (*p == '-')
			fputs("\\-", f); /* a real hyphen-minus, so flags copy and search as typed */
		else
			fputc(*p, f);
		bol = *p == '\n';
	}
}

/* A flag as bold roff: \fB\-\-name\fR. */
static void man_flag(FILE *f, const char *flag, const char *mv)
{
	fputs(".TP\n.B ", f);
	roff_escape(f, flag);
	if (mv) {
		fputs(" \\fI", f);
		roff_escape(f, mv);
		fputs("\\fR", f);
	}
	fputc('\n', f);
}

void options_print_man(FILE *f, const struct man_page *page, const struct option_def *defs)
{
	fprintf(f, ".\\\" Generated from the options table by `sluice ... --help-man`; do not edit.\n");
	fprintf(f, ".TH %s %d \"\" \"sluice %s\" \"sluice\"\n", page->name, page->section,
	        SLUICE_VERSION);
	fputs(".SH NAME\n", f);
	roff_escape(f, page->name);
	fputs(" \\- ", f);
	roff_escape(f, page->summary);
	fputs("\n.SH SYNOPSIS\n.B ", f);
	roff_escape(f, page->synopsis);
	fputs("\n.SH DESCRIPTION\n", f);
	/* Blank lines separate paragraphs. */
	const char *p = page->description;
	while (p && *p) {
		const char *end = strstr(p, "\n\n");
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char buf[2048];
		snprintf(buf, sizeof(buf), "%.*s", (int)(n < sizeof(buf) ? n : sizeof(buf) - 1), p);
		fputs(".PP\n", f);
		roff_escape(f, buf);
		fputc('\n', f);
		p = end ? end + 2 : p + n;
	}
	fputs(".SH OPTIONS\nEach option is also a config\\-file key of the same name "
	      "(\\fIname = value\\fR). Flags win over the file.\n", f);
	for (const struct option_def *d = defs; d->name; d++) {
		char flag[96];
		snprintf(flag, sizeof(flag), "--%s", d->name);
		man_flag(f, flag, metavar(d));
		roff_escape(f, d->help ? d->help : "");
		if (d->type == OPT_ENUM) {
			fputs(" (", f);
			for (size_t i = 0; d->choices[i]; i++) {
				if (i)
					fputs(", ", f);
				roff_escape(f, d->choices[i]);
			}
			fputc(')', f);
		}
		if (d->def && *d->def) {
			fputs(" [default: ", f);
			roff_escape(f, d->def);
			fputc(']', f);
		}
		fputc('\n', f);
	}
	for (const struct man_extra *e = page->extras; e && e->flag; e++) {
		man_flag(f, e->flag, NULL);
		roff_escape(f, e->help);
		fputc('\n', f);
	}
	if (page->trailer)
		fputs(page->trailer, f);
}

/* Writes text as "# " comment lines of at most ~88 columns. */
static void comment_wrapped(FILE *f, const char *text)
{
	const char *p = text;
	while (*p) {
		size_t n = strlen(p);
		if (n > 86) {
			n = 86;
			while (n > 20 && p[n] != ' ')
				n--;
		}
		fprintf(f, "# %.*s\n", (int)n, p);
		p += n;
		while (*p == ' ')
			p++;
	}
}

void options_print_conf(FILE *f, const char *title, const struct option_def *defs)
{
	fprintf(f, "# %s\n#\n"
	        "# Every setting, commented out with its default: as installed, this file changes\n"
	        "# nothing. Uncomment a line to change it. Syntax: key = value; '#' starts a comment;\n"
	        "# a value may be double-quoted. Each key is also a flag (--key value), and flags\n"
	        "# win over this file. Generated from the options table (`--help-conf`).\n", title);
	for (const struct option_def *d = defs; d->name; d++) {
		if (strcmp(d->name, "config") == 0)
			continue;
		fputc('\n', f);
		comment_wrapped(f, d->help ? d->help : "");
		if (d->type == OPT_ENUM) {
			fputs("# one of:", f);
			for (size_t i = 0; d->choices[i]; i++)
				fprintf(f, " %s", d->choices[i]);
			fputc('\n', f);
		}
		if (!d->def)
			fprintf(f, "#%s =\n", d->name);
		else if (!*d->def)
			fprintf(f, "#%s = \"\"\n", d->name);
		else
			fprintf(f, "#%s = %s\n", d->name, d->def);
	}
}

int options_take_flag(int *argc, char **argv, const char *flag)
{
	int found = 0, o = 0;
	for (int i = 0; i < *argc; i++) {
		if (strcmp(argv[i], flag) == 0) {
			found++;
			continue;
		}
		argv[o++] = argv[i];
	}
	*argc = o;
	return found;
}

static const void *field(const struct option_def *d, const void *cfg)
{
	return (const char *)cfg + d->offset;
}

int options_value_equal(const struct option_def *d, const void *a, const void *b)
{
	switch (d->type) {
	case OPT_STRING:
	case OPT_ENUM: {
		const char *x = *(char *const *)field(d, a), *y = *(char *const *)field(d, b);
		if (!x || !y)
			return x == y;
		return strcmp(x, y) == 0;
	}
	case OPT_INT:
		return *(const int64_t *)field(d, a) == *(const int64_t *)field(d, b);
	case OPT_BOOL:
		return *(const int *)field(d, a) == *(const int *)field(d, b);
	case OPT_MS:
	case OPT_BYTES:
		return *(const uint64_t *)field(d, a) == *(const uint64_t *)field(d, b);
	}
	return 0;
}

void options_value_text(const struct option_def *d, const void *cfg, char *buf, size_t n)
{
	switch (d->type) {
	case OPT_STRING:
	case OPT_ENUM: {
		const char *s = *(char *const *)field(d, cfg);
		snprintf(buf, n, "%s", s ? s : "(unset)");
		return;
	}
	case OPT_INT:
		snprintf(buf, n, "%lld", (long long)*(const int64_t *)field(d, cfg));
		return;
	case OPT_BOOL:
		snprintf(buf, n, "%s", *(const int *)field(d, cfg) ? "true" : "false");
		return;
	case OPT_MS:
		snprintf(buf, n, "%llums", (unsigned long long)*(const uint64_t *)field(d, cfg));
		return;
	case OPT_BYTES:
		snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)field(d, cfg));
		return;
	}
	snprintf(buf, n, "?");
}

void options_value_swap(const struct option_def *d, void *dst, void *src)
{
	size_t size = d->type == OPT_STRING || d->type == OPT_ENUM ? sizeof(char *)
	              : d->type == OPT_INT ? sizeof(int64_t)
	              : d->type == OPT_BOOL ? sizeof(int) : sizeof(uint64_t);
	unsigned char tmp[sizeof(uint64_t) > sizeof(char *) ? sizeof(uint64_t) : sizeof(char *)];
	unsigned char *x = (unsigned char *)dst + d->offset, *y = (unsigned char *)src + d->offset;
	memcpy(tmp, x, size);
	memcpy(x, y, size);
	memcpy(y, tmp, size);
}
