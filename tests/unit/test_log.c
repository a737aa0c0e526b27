/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_log.c - escaping peer-supplied values for logs and for terminals
 * (sluice ctl), and throttled lines with their suppressed=N count.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/log.h"

static void test_escape_for_logs(void **state)
{
	(void)state;
	char out[64];
	assert_string_equal(log_escape("live/cam1", out, sizeof(out)), "live/cam1");
	assert_string_equal(log_escape("a b=\"c\"\n", out, sizeof(out)),
	                    "a\\x20b\\x3d\\x22c\\x22\\x0a");
	assert_string_equal(log_escape(NULL, out, sizeof(out)), "");
}

static void test_escape_for_terminals(void **state)
{
	(void)state;
	char out[64];
	/* Spaces and quotes stay readable; escapes, controls, DEL, backslash and high bytes do not. */
	assert_string_equal(log_escape_text("edge 1 \"eu\" a=b", out, sizeof(out)),
	                    "edge 1 \"eu\" a=b");
	assert_string_equal(log_escape_text("\x1b[2J\x1b[31mok\r\n\x7f\\\xc2\x9b", out, sizeof(out)),
	                    "\\x1b[2J\\x1b[31mok\\x0d\\x0a\\x7f\\x5c\\xc2\\x9b");
	/* Cut with "..." at the buffer's size, never past it. */
	char small[12];
	assert_string_equal(log_escape_text("\x1b\x1b\x1b\x1b", small, sizeof(small)), "\\x1b\\x1b...");
	assert_true(strlen(log_escape_text("abcdefghijklmnop", small, sizeof(small))) < 12);
}

/* Runs n throttled lines, returns what reached stderr. */
static char *capture(int n, int rounds)
{
	char path[] = "/tmp/test_log_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	static struct log_throttle lim;
	for (int r = 0; r < rounds; r++) {
		if (r)
			usleep(1100 * 1000);
		for (int i = 0; i < n; i++)
			log_limited(&lim, 10, LOG_INFO, "test_refused", "i=%d", i);
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	off_t len = lseek(fd, 0, SEEK_END);
	char *text = calloc(1, (size_t)len + 1);
	assert_int_equal(pread(fd, text, (size_t)len, 0), len);
	close(fd);
	unlink(path);
	return text;
}

static int count(const char *text, const char *what)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, what)); p++)
		n++;
	return n;
}

static void test_throttled_lines(void **state)
{
	(void)state;
	char *text = capture(1000, 2);
	/* 10 lines a second: the first ten of each round; the second round's first line counts
	 * the 990 held back. */
	assert_int_equal(count(text, "event=test_refused"), 20);
	assert_int_equal(count(text, "suppressed="), 1);
	assert_non_null(strstr(text, "i=0 suppressed=990\n"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_for_logs),
		cmocka_unit_test(test_escape_for_terminals),
		cmocka_unit_test(test_throttled_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
