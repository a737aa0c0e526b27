/* SPDX-License-Identifier: Apache-2.0 */
/*
 * console_session.h - the console's login sessions: a fixed table of
 * random session ids, each with its own CSRF token and an expiry, plus the
 * Cookie header parser.  Pure: time comes in as an argument and nothing
 * here does I/O, so the unit tests drive it directly.
 *
 * A browser holds only the session id, in an HttpOnly, SameSite=Strict
 * cookie; the CSRF token is handed to the page's script, which sends it in
 * X-CSRF-Token with every call that changes state.  The table is bounded:
 * a login when it is full evicts the session used least recently.
 */
#ifndef SLUICE_MANAGER_CONSOLE_SESSION_H
#define SLUICE_MANAGER_CONSOLE_SESSION_H

#include <stddef.h>
#include <stdint.h>

/* 32 random bytes as hex. */
#define CONSOLE_ID_HEX 64
#define CONSOLE_COOKIE "sluice_session"

struct console_session {
	char id[CONSOLE_ID_HEX + 1];     /* "" when the slot is free */
	char csrf[CONSOLE_ID_HEX + 1];
	uint64_t created_ms, expires_ms, used_ms;
};

struct console_sessions {
	struct console_session *s;
	unsigned max;
	unsigned count;
	uint64_t ttl_ms;
	uint64_t evicted;                /* sessions dropped to make room for a login */
};

void console_sessions_init(struct console_sessions *t, unsigned max, uint64_t ttl_ms);
void console_sessions_free(struct console_sessions *t);
/* A new session (random id and CSRF token); never fails: evicts when full.  Borrowed
 * pointer, valid until the next call that changes the table. */
struct console_session *console_session_new(struct console_sessions *t, uint64_t now_ms);
/* The live session with this id (compared in constant time), or NULL; marks it used. */
struct console_session *console_session_find(struct console_sessions *t, const char *id,
                                             size_t id_len, uint64_t now_ms);
/* Ends a session (logout). */
void console_session_end(struct console_sessions *t, struct console_session *s);
/* Frees the slots of expired sessions; returns how many. */
unsigned console_sessions_expire(struct console_sessions *t, uint64_t now_ms);

/*
 * Finds cookie `name` in a Cookie header value ("a=1; b=2"): returns its value's length
 * and points *val at it, or -1 when absent.  Values are not decoded.
 */
int console_cookie_get(const char *hdr, size_t len, const char *name, const char **val);

#endif
