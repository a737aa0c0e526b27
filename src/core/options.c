/* SPDX-License-Identifier: Apache-2.0 */
/* options.c - settings from defaults, config file and flags (see options.h). */
#include "core/options.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/mem.h"

#define CONFIG_FILE_MAX (1u << 20)
#define VALUE_MAX 4096

static void fail(struct opt_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail(struct opt_error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

static const struct option_def *lookup(const struct option_def *defs, const char *name,
                                       size_t len)
{
	for (const struct option_def *d = defs; d->name; d++)
		if (strlen(d->name) == len && memcmp(d->name, name, len) == 0)
			return d;
	return NULL;
}

/* Parses an unsigned decimal integer with an optional unit suffix table. */
static int parse_scaled(const char *s, const char *const *units, const uint64_t *scale,
                        uint64_t *out)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	uint64_t mul = 1;
	if (*end) {
		int found = 0;
		for (size_t i = 0; units[i]; i++) {
			if (strcasecmp(end, units[i]) == 0) {
				mul = scale[i];
				found = 1;
				break;
			}
		}
		if (!found)
			return -1;
	}
	if (mul && v > UINT64_MAX / mul)
		return -1;
	*out = (uint64_t)v * mul;
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static void range_text(const struct option_def *d, char *buf, size_t n)
{
	if (d->max)
		snprintf(buf, n, "%lld..%lld", (long long)d->min, (long long)d->max);
	else
		snprintf(buf, n, "at least %lld", (long long)d->min);
}

static int set_value(const struct option_def *d, void *cfg, const char *v,
                     struct opt_error *err)
{
	char *field = (char *)cfg + d->offset;
	char range[64];
	static const char *const ms_units[] = { "ms", "s", "m", "h", NULL };
	static const uint64_t ms_scale[] = { 1, 1000, 60000, 3600000 };
	static const char *const byte_units[] = { "b", "k", "kb", "kib", "m", "mb", "mib",
	                                          "g", "gb", "gib", NULL };
	static const uint64_t byte_scale[] = { 1, 1u << 10, 1u << 10, 1u << 10, 1u << 20,
	                                       1u << 20, 1u << 20, 1u << 30, 1u << 30, 1u << 30 };

	switch (d->type) {
	case OPT_STRING: {
		char **p = (char **)(void *)field;
		free(*p);
		*p = xstrdup(v);
		return 0;
	}
	case OPT_ENUM:
		for (size_t i = 0; d->choices[i]; i++) {
			if (strcmp(v, d->choices[i]) == 0) {
				char **p = (char **)(void *)field;
				free(*p);
				*p = xstrdup(v);
				return 0;
			}
		}
		{
			struct bytes list;
			bytes_init(&list);
			for (size_t i = 0; d->choices[i]; i++)
				bytes_printf(&list, "%s%s", i ? ", " : "", d->choices[i]);
			fail(err, "'%s' is not one of: %.*s", v, (int)list.len, (char *)list.data);
			bytes_free(&list);
		}
		return -1;
	case OPT_BOOL: {
		int b;
		if (parse_bool(v, &b) < 0) {
			fail(err, "'%s' is not a boolean (true/false, yes/no, on/off, 1/0)", v);
			return -1;
		}
		*(int *)(void *)field = b;
		return 0;
	}
	case OPT_INT: {
		errno = 0;
		char *end;
		long long x = strtoll(v, &end, 10);
		range_text(d, range, sizeof(range));
		if (errno || end == v || *end || x < d->min || (d->max && x > d->max)) {
			fail(err, "'%s' is not a whole number in the range %s", v, range);
			return -1;
		}
		*(int64_t *)(void *)field = x;
		return 0;
	}
	case OPT_MS:
	case OPT_BYTES: {
		uint64_t x;
		int ms = d->type == OPT_MS;
		int rc = ms ? parse_scaled(v, ms_units, ms_scale, &x)
		            : parse_scaled(v, byte_units, byte_scale, &x);
		range_text(d, range, sizeof(range));
		if (rc < 0) {
			fail(err, "'%s' is not %s", v, ms ? "a duration (e.g. 500ms, 5s, 2m)"
			                                  : "a size (e.g. 4096, 64k, 8m)");
			return -1;
		}
		if (x < (uint64_t)d->min || (d->max && x > (uint64_t)d->max)) {
			fail(err, "'%s' is out of range (%s %s)", v, range, ms ? "ms" : "bytes");
			return -1;
		}
		*(uint64_t *)(void *)field = x;
		return 0;
	}
	}
	fail(err, "internal: bad option type");
	return -1;
}

int options_set(const struct option_def *defs, void *cfg, const char *name,
                const char *value, struct opt_error *err)
{
	const struct option_def *d = lookup(defs, name, strlen(name));
	if (!d) {
		fail(err, "unknown setting '%s'", name);
		return -1;
	}
	struct opt_error e;
	if (set_value(d, cfg, value, &e) < 0) {
		fail(err, "%s: %s", name, e.msg);
		return -1;
	}
	return 0;
}

int options_defaults(const struct option_def *defs, void *cfg, struct opt_error *err)
{
	for (const struct option_def *d = defs; d->name; d++) {
		if (d->def && options_set(defs, cfg, d->name, d->def, err) < 0)
			return -1;
	}
	return 0;
}

/* Copies a config value, unquoting it.  Returns 0 or -1 (bad quoting / too long). */
static int unquote(const char *s, size_t n, char *out, size_t out_size)
{
	size_t o = 0;
	if (n >= 1 && s[0] == '"') {
		size_t i = 1;
		for (; i < n && s[i] != '"'; i++) {
			char c = s[i];
			if (c == '\\') {
				if (++i >= n || (s[i] != '"' && s[i] != '\\'))
					return -1;
				c = s[i];
			}
			if (o + 1 >= out_size)
				return -1;
			out[o++] = c;
		}
		if (i != n - 1)
			return -1; /* no closing quote, or text after it */
	} else {
		if (n + 1 > out_size)
			return -1;
		memcpy(out, s, n);
		o = n;
	}
	out[o] = '\0';
	return 0;
}

int options_parse_text(const struct option_def *defs, void *cfg, const char *text,
                       size_t len, const char *source, struct opt_error *err)
{
	/* Tracks which keys this file set, to refuse a key given twice. */
	size_t ndefs = 0;
	while (defs[ndefs].name)
		ndefs++;
	unsigned *seen_line = xcalloc(ndefs, sizeof(*seen_line));
	char *value = xmalloc(VALUE_MAX);
	int rc = -1;
	unsigned lineno = 0;
	size_t pos = 0;

	while (pos < len) {
		size_t eol = pos;
		while (eol < len && text[eol] != '\n')
			eol++;
		lineno++;
		const char *line = text + pos;
		size_t n = eol - pos;
		pos = eol + 1;
		if (n && line[n - 1] == '\r')
			n--;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)line[i];
			if (c == 0 || (c < 0x20 && c != '\t')) {
				fail(err, "%s:%u: control character in line", source, lineno);
				goto out;
			}
		}
		size_t a = 0;
		while (a < n && (line[a] == ' ' || line[a] == '\t'))
			a++;
		if (a == n || line[a] == '#')
			continue;
		const char *eq = memchr(line + a, '=', n - a);
		if (!eq) {
			fail(err, "%s:%u: expected 'key = value'", source, lineno);
			goto out;
		}
		size_t kend = (size_t)(eq - line);
		while (kend > a && (line[kend - 1] == ' ' || line[kend - 1] == '\t'))
			kend--;
		size_t vs = (size_t)(eq - line) + 1;
		while (vs < n && (line[vs] == ' ' || line[vs] == '\t'))
			vs++;
		size_t ve = n;
		/* A '#' after whitespace outside quotes starts a comment. */
		if (vs < n && line[vs] != '"') {
			for (size_t i = vs; i < n; i++) {
				if (line[i] == '#' && (line[i - 1] == ' ' || line[i - 1] == '\t')) {
					ve = i;
					break;
				}
			}
		}
		while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
			ve--;
		const struct option_def *d = lookup(defs, line + a, kend - a);
		if (!d) {
			fail(err, "%s:%u: unknown key '%.*s'", source, lineno,
			     (int)(kend - a > 64 ? 64 : kend - a), line + a);
			goto out;
		}
		size_t di = (size_t)(d - defs);
		if (seen_line[di]) {
			fail(err, "%s:%u: key '%s' is already set on line %u", source, lineno,
			     d->name, seen_line[di]);
			goto out;
		}
		seen_line[di] = lineno;
		if (unquote(line + vs, ve - vs, value, VALUE_MAX) < 0) {
			fail(err, "%s:%u: key '%s': badly quoted or too long value", source,
			     lineno, d->name);
			goto out;
		}
		struct opt_error e;
		if (set_value(d, cfg, value, &e) < 0) {
			fail(err, "%s:%u: key '%s': %s", source, lineno, d->name, e.msg);
			goto out;
		}
	}
	rc = 0;
out:
	free(seen_line);
	free(value);
	return rc;
}

int options_load_file(const struct option_def *defs, void *cfg, const char *path,
                      struct opt_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fail(err, "cannot open config file %s: %s", path, strerror(errno));
		return -1;
	}
	struct bytes b;
	bytes_init(&b);
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b.len + n > CONFIG_FILE_MAX) {
			fclose(f);
			bytes_free(&b);
			fail(err, "config file %s is larger than 1 MiB", path);
			return -1;
		}
		bytes_append(&b, chunk, n);
	}
	int rd_err = ferror(f);
	fclose(f);
	if (rd_err) {
		bytes_free(&b);
		fail(err, "cannot read config file %s", path);
		return -1;
	}
	int rc = options_parse_text(defs, cfg, (const char *)b.data, b.len, path, err);
	bytes_free(&b);
	return rc;
}

int options_parse_args(const struct option_def *defs, void *cfg, int argc, char **argv,
                       struct opt_error *err)
{
	/* First pass: --help and --config, so the file applies before any flag. */
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
		if (strcmp(argv[i], "--") == 0)
			break;
	}
	const struct option_def *cfgdef = lookup(defs, "config", 6);
	for (int i = 0; cfgdef && i < argc; i++) {
		const char *path = NULL;
		if (strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc) {
				fail(err, "--config needs a file name");
				return -1;
			}
			path = argv[i + 1];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			path = argv[i] + 9;
		}
		if (path) {
			if (options_set(defs, cfg, "config", path, err) < 0)
				return -1;
			if (options_load_file(defs, cfg, path, err) < 0)
				return -1;
			break;
		}
	}
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			fail(err, "unexpected argument '%s' (settings are given as --name value)", a);
			return -1;
		}
		a += 2;
		const char *eq = strchr(a, '=');
		size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
		const struct option_def *d = lookup(defs, a, nlen);
		const char *v = eq ? eq + 1 : NULL;
		if (!d && !eq && strncmp(a, "no-", 3) == 0) {
			d = lookup(defs, a + 3, nlen - 3);
			if (d && d->type == OPT_BOOL) {
				v = "false";
			} else {
				d = NULL;
			}
		}
		if (!d) {
			fail(err, "unknown option '--%.*s' (see --help)", (int)(nlen > 64 ? 64 : nlen), a);
			return -1;
		}
		if (!v) {
			if (d->type == OPT_BOOL && (i + 1 >= argc || parse_bool(argv[i + 1], &(int){0}) < 0)) {
				v = "true";
			} else {
				if (i + 1 >= argc) {
					fail(err, "--%s needs a value", d->name);
					return -1;
				}
				v = argv[++i];
			}
		}
		if (d == cfgdef)
			continue; /* already loaded */
		struct opt_error e;
		if (set_value(d, cfg, v, &e) < 0) {
			fail(err, "--%s: %s", d->name, e.msg);
			return -1;
		}
	}
	return 0;
}

void options_print_help(FILE *f, const char *usage, const struct option_def *defs)
{
	fprintf(f, "%s\n\nOptions (each is also a config-file key: name = value):\n", usage);
	for (const struct option_def *d = defs; d->name; d++) {
		char left[64];
		const char *mv = d->metavar ? d->metavar
		                 : d->type == OPT_BOOL ? "BOOL"
		                 : d->type == OPT_MS ? "DURATION"
		                 : d->type == OPT_BYTES ? "SIZE"
		                 : d->type == OPT_INT ? "N" : "VALUE";
		snprintf(left, sizeof(left), "  --%s %s", d->name, mv);
		fprintf(f, "%-34s %s", left, d->help ? d->help : "");
		if (d->type == OPT_ENUM) {
			fprintf(f, " (");
			for (size_t i = 0; d->choices[i]; i++)
				fprintf(f, "%s%s", i ? ", " : "", d->choices[i]);
			fprintf(f, ")");
		}
		if (d->def && *d->def)
			fprintf(f, " [default: %s]", d->def);
		fputc('\n', f);
	}
	fprintf(f, "  --help                             show this help\n");
}

void options_free(const struct option_def *defs, void *cfg)
{
	for (const struct option_def *d = defs; d->name; d++) {
		if (d->type == OPT_STRING || d->type == OPT_ENUM) {
			char **p = (char **)(void *)((char *)cfg + d->offset);
			free(*p);
			*p = NULL;
		}
	}
}
