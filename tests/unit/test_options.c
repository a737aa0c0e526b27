/* SPDX-License-Identifier: Apache-2.0 */
/* test_options.c - settings from defaults, config text and flags, and their errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/options.h"

struct cfg {
	char *config;
	char *bind;
	int64_t port;
	int flag;
	uint64_t timeout;
	uint64_t size;
	char *mode;
};

static const char *const modes[] = { "fast", "safe", NULL };

#define OFF(f) offsetof(struct cfg, f)
static const struct option_def defs[] = {
	{ "config", OPT_STRING, OFF(config), NULL, 0, 0, NULL, "FILE", "config file" },
	{ "bind", OPT_STRING, OFF(bind), "0.0.0.0", 0, 0, NULL, "ADDR", "address" },
	{ "port", OPT_INT, OFF(port), "1935", 1, 65535, NULL, NULL, "port" },
	{ "flag", OPT_BOOL, OFF(flag), "false", 0, 0, NULL, NULL, "a flag" },
	{ "timeout", OPT_MS, OFF(timeout), "5s", 100, 600000, NULL, NULL, "a duration" },
	{ "size", OPT_BYTES, OFF(size), "8m", 1024, 0, NULL, NULL, "a size" },
	{ "mode", OPT_ENUM, OFF(mode), "fast", 0, 0, modes, NULL, "a mode" },
	OPT_END
};

static void setup(struct cfg *c)
{
	struct opt_error e;
	memset(c, 0, sizeof(*c));
	assert_int_equal(options_defaults(defs, c, &e), 0);
}

static void test_defaults(void **state)
{
	(void)state;
	struct cfg c;
	setup(&c);
	assert_string_equal(c.bind, "0.0.0.0");
	assert_int_equal(c.port, 1935);
	assert_int_equal(c.flag, 0);
	assert_int_equal(c.timeout, 5000);
	assert_int_equal(c.size, 8u << 20);
	assert_string_equal(c.mode, "fast");
	options_free(defs, &c);
}

static void test_config_text(void **state)
{
	(void)state;
	struct cfg c;
	struct opt_error e;
	setup(&c);
	const char *text = "# a comment\n\nbind = 127.0.0.2\nport=2000   # trailing comment\n"
	                   "flag = yes\r\ntimeout = 250ms\nsize = 64k\nmode = \"safe\"\n";
	assert_int_equal(options_parse_text(defs, &c, text, strlen(text), "t.conf", &e), 0);
	assert_string_equal(c.bind, "127.0.0.2");
	assert_int_equal(c.port, 2000);
	assert_int_equal(c.flag, 1);
	assert_int_equal(c.timeout, 250);
	assert_int_equal(c.size, 65536);
	assert_string_equal(c.mode, "safe");
	options_free(defs, &c);
}

/* Every error names the file, line and key, and says what is allowed. */
static void test_config_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ "port = abc\n", "t.conf:1: key 'port': 'abc' is not a whole number in the range 1..65535" },
		{ "\nport = 70000\n", "t.conf:2: key 'port'" },
		{ "nosuch = 1\n", "t.conf:1: unknown key 'nosuch'" },
		{ "port\n", "t.conf:1: expected 'key = value'" },
		{ "flag = maybe\n", "key 'flag': 'maybe' is not a boolean" },
		{ "timeout = 5x\n", "key 'timeout': '5x' is not a duration" },
		{ "timeout = 50\n", "key 'timeout': '50' is out of range" },
		{ "mode = slow\n", "key 'mode': 'slow' is not one of: fast, safe" },
		{ "bind = \"a\n", "key 'bind': badly quoted" },
		{ "port = 1\nport = 2\n", "t.conf:2: key 'port' is already set on line 1" },
		{ "bind = a\x01\n", "t.conf:1: control character" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg c;
		struct opt_error e;
		setup(&c);
		assert_int_equal(options_parse_text(defs, &c, cases[i].text, strlen(cases[i].text),
		                                    "t.conf", &e), -1);
		if (!strstr(e.msg, cases[i].want))
			fail_msg("case %zu: '%s' does not contain '%s'", i, e.msg, cases[i].want);
		options_free(defs, &c);
	}
}

static void test_flags_override(void **state)
{
	(void)state;
	struct cfg c;
	struct opt_error e;
	setup(&c);
	char *argv[] = { "--port", "7000", "--flag", "--bind=127.0.0.9", "--no-flag",
	                 "--timeout", "2m" };
	assert_int_equal(options_parse_args(defs, &c, 7, argv, &e), 0);
	assert_int_equal(c.port, 7000);
	assert_int_equal(c.flag, 0);
	assert_string_equal(c.bind, "127.0.0.9");
	assert_int_equal(c.timeout, 120000);
	options_free(defs, &c);

	setup(&c);
	char *bad[] = { "--port", "0" };
	assert_int_equal(options_parse_args(defs, &c, 2, bad, &e), -1);
	assert_non_null(strstr(e.msg, "--port: '0' is not a whole number"));
	char *unknown[] = { "--nope" };
	assert_int_equal(options_parse_args(defs, &c, 1, unknown, &e), -1);
	assert_non_null(strstr(e.msg, "unknown option '--nope'"));
	char *missing[] = { "--bind" };
	assert_int_equal(options_parse_args(defs, &c, 1, missing, &e), -1);
	assert_non_null(strstr(e.msg, "--bind needs a value"));
	char *help[] = { "--port", "1", "--help" };
	assert_int_equal(options_parse_args(defs, &c, 3, help, &e), 1);
	options_free(defs, &c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_config_text),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_flags_override),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
