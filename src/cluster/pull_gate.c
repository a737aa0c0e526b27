/* SPDX-License-Identifier: Apache-2.0 */
/* pull_gate.c - the checks before a new pull: missing names, start rate, pulls at once
 * (see pull_gate.h). */
#include "cluster/pull_gate.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/mem.h"
#include "core/name.h"

struct pull_miss {
	uint64_t until_ms;               /* held off until then */
	uint64_t hold_ms;                /* the last hold; the next miss in a row doubles it */
};

static void key_of(const char *app, const char *name, char *key, size_t n)
{
	snprintf(key, n, "%s/%s", app, name);
}

void pull_gate_set_limits(struct pull_gate *g, unsigned max_pulls, unsigned rate, uint64_t hold_ms,
                          uint64_t hold_max_ms)
{
	g->max_pulls = max_pulls;
	g->rate = rate;
	g->hold_ms = hold_ms;
	g->hold_max_ms = hold_max_ms < hold_ms ? hold_ms : hold_max_ms;
	if (g->tokens > rate)
		g->tokens = rate;
}

void pull_gate_init(struct pull_gate *g, unsigned max_pulls, unsigned rate, uint64_t hold_ms,
                    uint64_t hold_max_ms)
{
	pull_gate_set_limits(g, max_pulls, rate, hold_ms, hold_max_ms);
	strmap_init(&g->misses);
	g->tokens = rate;
	g->refill_ms = 0;
	for (int i = 0; i < 4; i++)
		g->refused[i] = 0;
}

void pull_gate_free(struct pull_gate *g)
{
	size_t it = 0;
	void *v;
	while (strmap_next(&g->misses, &it, NULL, &v))
		free(v);
	strmap_free(&g->misses);
}

/* A miss is forgotten once a full maximum hold has passed since its hold ended: a name
 * that comes back after that starts again from the first hold. */
static int stale(const struct pull_gate *g, const struct pull_miss *m, uint64_t now)
{
	return now >= m->until_ms + g->hold_max_ms;
}

enum pull_gate_verdict pull_gate_admit(struct pull_gate *g, const char *app, const char *name,
                                       unsigned npulls, uint64_t now_ms)
{
	enum pull_gate_verdict v = PULL_GATE_OPEN;
	char key[2 * STREAM_NAME_MAX + 2];
	key_of(app, name, key, sizeof(key));
	const struct pull_miss *m = strmap_get(&g->misses, key);
	if (g->rate && now_ms > g->refill_ms) {
		g->tokens += (double)(now_ms - g->refill_ms) * g->rate / 1000.0;
		if (g->tokens > g->rate)
			g->tokens = g->rate;
	}
	if (now_ms > g->refill_ms)
		g->refill_ms = now_ms;
	if (m && now_ms < m->until_ms)
		v = PULL_GATE_MISSING;
	else if (g->max_pulls && npulls >= g->max_pulls)
		v = PULL_GATE_FULL;
	else if (g->rate && g->tokens < 1.0)
		v = PULL_GATE_RATE;
	if (v != PULL_GATE_OPEN) {
		g->refused[v]++;
		return v;
	}
	if (g->rate)
		g->tokens -= 1.0;
	return PULL_GATE_OPEN;
}

/* Makes room for one more: drops stale entries, or else the one whose hold ends first. */
static void make_room(struct pull_gate *g, uint64_t now)
{
	const char *first_key = NULL;
	uint64_t first_until = UINT64_MAX;
	size_t it = 0;
	const char *k;
	void *v;
	while (strmap_next(&g->misses, &it, &k, &v)) {
		const struct pull_miss *m = v;
		if (stale(g, m, now) || m->until_ms < first_until) {
			first_until = stale(g, m, now) ? 0 : m->until_ms;
			first_key = k;
			if (!first_until)
				break;
		}
	}
	if (first_key) {
		char key[2 * STREAM_NAME_MAX + 2];
		snprintf(key, sizeof(key), "%s", first_key); /* the map frees its own copy */
		free(strmap_del(&g->misses, key));
	}
}

void pull_gate_missing(struct pull_gate *g, const char *app, const char *name,
                       uint64_t now_ms)
{
	if (!g->hold_ms)
		return;
	char key[2 * STREAM_NAME_MAX + 2];
	key_of(app, name, key, sizeof(key));
	struct pull_miss *m = strmap_get(&g->misses, key);
	if (m && stale(g, m, now_ms)) {
		m->hold_ms = g->hold_ms;
	} else if (m) {
		m->hold_ms = m->hold_ms * 2 > g->hold_max_ms ? g->hold_max_ms : m->hold_ms * 2;
	} else {
		if (g->misses.count >= PULL_GATE_MISSES)
			make_room(g, now_ms);
		m = xcalloc(1, sizeof(*m));
		m->hold_ms = g->hold_ms;
		strmap_put(&g->misses, key, m);
	}
	m->until_ms = now_ms + m->hold_ms;
}

void pull_gate_found(struct pull_gate *g, const char *app, const char *name)
{
	char key[2 * STREAM_NAME_MAX + 2];
	key_of(app, name, key, sizeof(key));
	free(strmap_del(&g->misses, key));
}

unsigned pull_gate_held(const struct pull_gate *g, uint64_t now_ms)
{
	unsigned n = 0;
	size_t it = 0;
	void *v;
	while (strmap_next(&g->misses, &it, NULL, &v))
		n += now_ms < ((const struct pull_miss *)v)->until_ms;
	return n;
}

const char *pull_gate_verdict_name(enum pull_gate_verdict v)
{
	static const char *const names[] = { "open", "missing", "rate", "full" };
	return names[v];
}
