/* SPDX-License-Identifier: Apache-2.0 */
/* console_session.c - the console's session table (see console_session.h). */
#include "manager/console_session.h"

#include <string.h>

#include "core/crypto.h"
#include "core/mem.h"

void console_sessions_init(struct console_sessions *t, unsigned max, uint64_t ttl_ms)
{
	memset(t, 0, sizeof(*t));
	t->max = max ? max : 1;
	t->ttl_ms = ttl_ms;
	t->s = xcalloc(t->max, sizeof(*t->s));
}

void console_sessions_free(struct console_sessions *t)
{
	/* Ids are credentials: do not leave them in freed memory. */
	if (t->s)
		memset(t->s, 0, t->max * sizeof(*t->s));
	free(t->s);
	t->s = NULL;
	t->count = 0;
}

static void random_hex(char out[CONSOLE_ID_HEX + 1])
{
	uint8_t rnd[CONSOLE_ID_HEX / 2];
	random_bytes(rnd, sizeof(rnd));
	hex_encode(rnd, sizeof(rnd), out);
}

static void clear(struct console_sessions *t, struct console_session *s)
{
	if (s->id[0])
		t->count--;
	memset(s, 0, sizeof(*s));
}

unsigned console_sessions_expire(struct console_sessions *t, uint64_t now_ms)
{
	unsigned n = 0;
	for (unsigned i = 0; i < t->max; i++)
		if (t->s[i].id[0] && t->s[i].expires_ms <= now_ms) {
			clear(t, &t->s[i]);
			n++;
		}
	return n;
}

struct console_session *console_session_new(struct console_sessions *t, uint64_t now_ms)
{
	console_sessions_expire(t, now_ms);
	struct console_session *slot = NULL, *lru = NULL;
	for (unsigned i = 0; i < t->max && !slot; i++) {
		if (!t->s[i].id[0])
			slot = &t->s[i];
		else if (!lru || t->s[i].used_ms < lru->used_ms)
			lru = &t->s[i];
	}
	if (!slot) {
		slot = lru;
		clear(t, slot);
		t->evicted++;
	}
	random_hex(slot->id);
	random_hex(slot->csrf);
	slot->created_ms = slot->used_ms = now_ms;
	slot->expires_ms = now_ms + t->ttl_ms;
	t->count++;
	return slot;
}

struct console_session *console_session_find(struct console_sessions *t, const char *id,
                                             size_t id_len, uint64_t now_ms)
{
	if (id_len != CONSOLE_ID_HEX)
		return NULL;
	struct console_session *hit = NULL;
	/* Every slot is compared, so the time taken does not say which one matched. */
	for (unsigned i = 0; i < t->max; i++) {
		struct console_session *s = &t->s[i];
		if (s->id[0] && ct_equal(s->id, id, CONSOLE_ID_HEX))
			hit = s;
	}
	if (!hit)
		return NULL;
	if (hit->expires_ms <= now_ms) {
		clear(t, hit);
		return NULL;
	}
	hit->used_ms = now_ms;
	return hit;
}

void console_session_end(struct console_sessions *t, struct console_session *s)
{
	clear(t, s);
}

int console_cookie_get(const char *hdr, size_t len, const char *name, const char **val)
{
	size_t nl = strlen(name);
	const char *p = hdr, *end = hdr + len;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
			p++;
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *e = semi ? semi : end;
		const char *eq = memchr(p, '=', (size_t)(e - p));
		if (eq) {
			const char *ne = eq;
			while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
				ne--;
			if ((size_t)(ne - p) == nl && memcmp(p, name, nl) == 0) {
				const char *v = eq + 1, *ve = e;
				while (v < ve && (*v == ' ' || *v == '\t'))
					v++;
				while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
					ve--;
				if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
					v++;
					ve--;
				}
				*val = v;
				return (int)(ve - v);
			}
		}
		p = e;
	}
	return -1;
}
