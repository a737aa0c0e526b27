/* SPDX-License-Identifier: Apache-2.0 */
/* test_options_doc.c - man page and example config from an options table; value helpers
 * and the reload of a re-read config. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/config_reload.h"
#include "core/options_doc.h"

struct cfg {
	char *config;
	char *name;
	int64_t port;
	int on;
	uint64_t wait;
	char *level;
	char *secret;
};

#define OFF(f) offsetof(struct cfg, f)
static const char *const levels[] = { "debug", "info", NULL };
static const struct option_def defs[] = {
	{ "config", OPT_STRING, OFF(config), NULL, 0, 0, NULL, "FILE", "read FILE" },
	{ "name", OPT_STRING, OFF(name), "", 0, 0, NULL, "NAME", "the name; -dash \\ back" },
	{ "port", OPT_INT, OFF(port), "1935", 1, 65535, NULL, "PORT", "the port" },
	{ "on", OPT_BOOL, OFF(on), "true", 0, 0, NULL, NULL, ".starts with a dot" },
	{ "wait", OPT_MS, OFF(wait), "5s", 0, 0, NULL, NULL, "how long" },
	{ "level", OPT_ENUM, OFF(level), "info", 0, 0, levels, "LEVEL", "log level" },
	{ "secret", OPT_STRING, OFF(secret), NULL, 0, 0, NULL, "S", "a secret" },
	OPT_END
};

static char *capture(void (*fn)(FILE *, const void *), const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	fn(f, arg);
	fclose(f);
	return buf;
}

static void man(FILE *f, const void *arg)
{
	(void)arg;
	static const struct man_extra extras[] = { { "--check-config", "check" }, { NULL, NULL } };
	struct man_page p = { .name = "t", .section = 8, .summary = "a test", .synopsis = "t x",
	                      .description = "one\n\ntwo", .extras = extras };
	options_print_man(f, &p, defs);
}

static void conf(FILE *f, const void *arg)
{
	(void)arg;
	options_print_conf(f, "test.conf", defs);
}

static void test_man_lists_every_option_escaped(void **state)
{
	(void)state;
	char *t = capture(man, NULL);
	assert_non_null(strstr(t, ".TH t 8"));
	for (const struct option_def *d = defs; d->name; d++) {
		char want[64];
		snprintf(want, sizeof(want), ".B \\-\\-%s", d->name);
		assert_non_null(strstr(t, want));
	}
	assert_non_null(strstr(t, ".B \\-\\-check\\-config"));
	assert_non_null(strstr(t, "[default: 1935]"));
	assert_non_null(strstr(t, "(debug, info)"));
	assert_non_null(strstr(t, "\\-dash \\e back")); /* hyphens and backslashes escaped */
	assert_non_null(strstr(t, "\n\\&.starts"));    /* a leading dot is not a request */
	assert_non_null(strstr(t, ".PP\none\n.PP\ntwo\n"));
	free(t);
}

static void test_conf_comments_every_key_with_its_default(void **state)
{
	(void)state;
	char *t = capture(conf, NULL);
	assert_null(strstr(t, "#config"));
	assert_non_null(strstr(t, "\n#port = 1935\n"));
	assert_non_null(strstr(t, "\n#name = \"\"\n"));
	assert_non_null(strstr(t, "\n#secret =\n"));
	assert_non_null(strstr(t, "# one of: debug info\n#level = info\n"));
	/* As installed it sets nothing: every non-blank line is a comment, and it parses. */
	for (const char *l = t; *l; l = strchr(l, '\n') + 1) {
		if (*l != '\n')
			assert_int_equal(*l, '#');
	}
	struct cfg c;
	struct opt_error err;
	memset(&c, 0, sizeof(c));
	assert_int_equal(options_defaults(defs, &c, &err), 0);
	assert_int_equal(options_parse_text(defs, &c, t, strlen(t), "test.conf", &err), 0);
	assert_int_equal(c.port, 1935);
	options_free(defs, &c);
	free(t);
}

static void test_take_flag(void **state)
{
	(void)state;
	char a0[] = "--check-config", a1[] = "--port", a2[] = "5", a3[] = "--check-config";
	char *argv[] = { a0, a1, a2, a3, NULL };
	int argc = 4;
	assert_int_equal(options_take_flag(&argc, argv, "--check-config"), 2);
	assert_int_equal(argc, 2);
	assert_string_equal(argv[0], "--port");
	assert_string_equal(argv[1], "5");
	assert_int_equal(options_take_flag(&argc, argv, "--nope"), 0);
	assert_int_equal(argc, 2);
}

static void load(struct cfg *c, const char *text)
{
	struct opt_error err;
	memset(c, 0, sizeof(*c));
	assert_int_equal(options_defaults(defs, c, &err), 0);
	assert_int_equal(options_parse_text(defs, c, text, strlen(text), "t", &err), 0);
}

static void test_reload_moves_only_listed_keys(void **state)
{
	(void)state;
	struct cfg cur, next;
	load(&cur, "port = 1000\nlevel = info\nwait = 1s\n");
	load(&next, "port = 2000\nlevel = debug\nwait = 2s\nsecret = s3cret\non = false\n");
	static const char *const reloadable[] = { "level", "wait", "secret", NULL };
	struct reload_result res;
	config_apply_reload(defs, &cur, &next, reloadable, &res);
	assert_int_equal(res.applied, 3);
	assert_int_equal(res.need_restart, 2);       /* port and on */
	assert_int_equal(cur.port, 1000);
	assert_int_equal(cur.on, 1);
	assert_string_equal(cur.level, "debug");
	assert_int_equal(cur.wait, 2000);
	assert_string_equal(cur.secret, "s3cret");
	assert_string_equal(next.level, "info");     /* next holds the old strings: freed below */
	assert_null(next.secret);
	/* The same config again: nothing changes. */
	options_free(defs, &next);
	load(&next, "port = 2000\nlevel = debug\nwait = 2s\nsecret = s3cret\non = false\n");
	config_apply_reload(defs, &cur, &next, reloadable, &res);
	assert_int_equal(res.applied, 0);
	assert_int_equal(res.need_restart, 2);
	options_free(defs, &next);
	options_free(defs, &cur);
}

static void test_value_helpers(void **state)
{
	(void)state;
	struct cfg a, b;
	load(&a, "");
	load(&b, "wait = 5000ms\n");
	for (const struct option_def *d = defs; d->name; d++)
		assert_true(options_value_equal(d, &a, &b));
	char buf[64];
	options_value_text(&defs[4], &a, buf, sizeof(buf));
	assert_string_equal(buf, "5000ms");
	options_value_text(&defs[6], &a, buf, sizeof(buf));
	assert_string_equal(buf, "(unset)");
	options_value_text(&defs[3], &a, buf, sizeof(buf));
	assert_string_equal(buf, "true");
	assert_true(config_key_listed((const char *const[]){ "a", "b", NULL }, "b"));
	assert_false(config_key_listed((const char *const[]){ "a", NULL }, "ab"));
	options_free(defs, &a);
	options_free(defs, &b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_man_lists_every_option_escaped),
		cmocka_unit_test(test_conf_comments_every_key_with_its_default),
		cmocka_unit_test(test_take_flag),
		cmocka_unit_test(test_reload_moves_only_listed_keys),
		cmocka_unit_test(test_value_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
