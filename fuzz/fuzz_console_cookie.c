/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_console_cookie.c - libFuzzer target for the console's Cookie header
 * parser and session lookup (manager/console_session.c), which read bytes a
 * browser, or anyone, sends.
 *
 * Invariants: a value found lies inside the header; looking it up never
 * finds a session but the one made here, and only by its own id.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manager/console_session.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *h = (const char *)data;
	const char *v = NULL;
	int n = console_cookie_get(h, size, CONSOLE_COOKIE, &v);
	if (n < 0)
		return 0;
	CHECK(v >= h && v + n <= h + size);
	struct console_sessions t;
	console_sessions_init(&t, 2, 1000);
	struct console_session *s = console_session_new(&t, 1);
	struct console_session *hit = console_session_find(&t, v, (size_t)n, 2);
	CHECK(!hit || (hit == s && (size_t)n == CONSOLE_ID_HEX && memcmp(v, s->id, (size_t)n) == 0));
	console_sessions_free(&t);
	return 0;
}
