/* SPDX-License-Identifier: Apache-2.0 */
/* ratelimit.c - per-address admission limits and a log throttle (see ratelimit.h). */
#include "core/ratelimit.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

#define SWEEP_EVERY_MS 1000
/* Refill is computed in thousandths of a token so low rates need no floating point. */
#define MILLI 1000u
/* Longer than any bucket takes to refill; keeps elapsed * rate far from overflow. */
#define ELAPSED_CAP_MS (1000u * 1000u * 1000u)

struct iplimit_entry {
	uint32_t conns;
	uint64_t milli_tokens;
	uint64_t last_ms;       /* when milli_tokens was last brought up to date */
	char key[IPLIMIT_KEY_MAX];
};

void iplimit_init(struct iplimit *l, uint32_t max_conns, uint32_t rate, uint32_t burst)
{
	memset(l, 0, sizeof(*l));
	l->max_conns = max_conns;
	l->rate = rate;
	l->burst = burst ? burst : rate;
	strmap_init(&l->map);
}

void iplimit_free(struct iplimit *l)
{
	size_t it = 0;
	void *v;
	while (strmap_next(&l->map, &it, NULL, &v))
		free(v);
	strmap_free(&l->map);
}

void iplimit_key(const char *peer, char *key, size_t n)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *start = peer;
	size_t len;
	if (peer[0] == '[') {
		const char *close = strchr(peer, ']');
		start = peer + 1;
		len = close ? (size_t)(close - start) : strlen(start);
	} else {
		const char *colon = strchr(peer, ':');
		/* "a.b.c.d:port", or a bare IPv6 address (more than one colon). */
		if (colon && !strchr(colon + 1, ':'))
			len = (size_t)(colon - peer);
		else
			len = strlen(peer);
	}
	if (len >= sizeof(host))
		len = sizeof(host) - 1;
	memcpy(host, start, len);
	host[len] = '\0';

	uint8_t a6[16];
	if (strchr(host, ':') && inet_pton(AF_INET6, host, a6) == 1) {
		static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		char text[INET6_ADDRSTRLEN];
		if (memcmp(a6, v4mapped, sizeof(v4mapped)) == 0) {
			inet_ntop(AF_INET, a6 + 12, text, sizeof(text));
			snprintf(key, n, "%s", text);
			return;
		}
		memset(a6 + 8, 0, 8);
		inet_ntop(AF_INET6, a6, text, sizeof(text));
		snprintf(key, n, "%s/64", text);
		return;
	}
	snprintf(key, n, "%s", host);
}

/* Brings e's bucket up to now; returns whether it is full. */
static int refill(const struct iplimit *l, struct iplimit_entry *e, uint64_t now_ms)
{
	uint64_t cap = (uint64_t)l->burst * MILLI;
	if (now_ms > e->last_ms) {
		uint64_t elapsed = now_ms - e->last_ms;
		if (elapsed > ELAPSED_CAP_MS)
			elapsed = ELAPSED_CAP_MS;
		/* rate tokens per second is rate thousandths per millisecond. */
		e->milli_tokens += elapsed * l->rate;
		if (e->milli_tokens > cap)
			e->milli_tokens = cap;
		e->last_ms = now_ms;
	}
	return e->milli_tokens >= cap;
}

static int entry_idle(const struct iplimit *l, struct iplimit_entry *e, uint64_t now_ms)
{
	return e->conns == 0 && (l->rate == 0 || refill(l, e, now_ms));
}

static void sweep(struct iplimit *l, uint64_t now_ms)
{
	l->last_sweep_ms = now_ms;
	if (l->map.count == 0)
		return;
	/* The map may not change while it is walked: collect, then delete. */
	struct iplimit_entry **gone = xmalloc(l->map.count * sizeof(*gone));
	size_t ngone = 0, it = 0;
	void *v;
	while (strmap_next(&l->map, &it, NULL, &v)) {
		if (entry_idle(l, v, now_ms))
			gone[ngone++] = v;
	}
	for (size_t i = 0; i < ngone; i++) {
		strmap_del(&l->map, gone[i]->key);
		free(gone[i]);
	}
	free(gone);
}

int iplimit_admit(struct iplimit *l, const char *key, uint64_t now_ms)
{
	if (l->max_conns == 0 && l->rate == 0)
		return 0;
	if (now_ms - l->last_sweep_ms >= SWEEP_EVERY_MS)
		sweep(l, now_ms);
	struct iplimit_entry *e = strmap_get(&l->map, key);
	if (!e) {
		e = xcalloc(1, sizeof(*e));
		snprintf(e->key, sizeof(e->key), "%s", key);
		e->milli_tokens = (uint64_t)l->burst * MILLI;
		e->last_ms = now_ms;
		strmap_put(&l->map, e->key, e);
	}
	if (l->max_conns && e->conns >= l->max_conns) {
		l->refused_conns++;
		return SL_ELIMIT;
	}
	if (l->rate) {
		refill(l, e, now_ms);
		if (e->milli_tokens < MILLI) {
			l->refused_rate++;
			return SL_EAGAIN;
		}
		e->milli_tokens -= MILLI;
	}
	e->conns++;
	return 0;
}

void iplimit_release(struct iplimit *l, const char *key, uint64_t now_ms)
{
	struct iplimit_entry *e = strmap_get(&l->map, key);
	if (!e)
		return;
	if (e->conns > 0)
		e->conns--;
	if (entry_idle(l, e, now_ms)) {
		strmap_del(&l->map, e->key);
		free(e);
	}
}

uint32_t iplimit_held(const struct iplimit *l, const char *key)
{
	const struct iplimit_entry *e = strmap_get(&l->map, key);
	return e ? e->conns : 0;
}

int log_throttle_pass(struct log_throttle *t, uint64_t now_ms, uint32_t per_sec,
                      uint64_t *suppressed)
{
	if (now_ms - t->window_start_ms >= 1000 || now_ms < t->window_start_ms) {
		t->window_start_ms = now_ms;
		t->in_window = 0;
	}
	if (t->in_window >= per_sec) {
		t->suppressed++;
		return 0;
	}
	t->in_window++;
	*suppressed = t->suppressed;
	t->suppressed = 0;
	return 1;
}

int token_bucket_take(struct token_bucket *b, uint64_t now_ms, uint32_t rate, uint32_t burst)
{
	uint64_t cap = (uint64_t)burst * MILLI;
	if (!b->started) {
		b->started = 1;
		b->milli_tokens = cap;
		b->last_ms = now_ms;
	}
	if (now_ms > b->last_ms) {
		uint64_t elapsed = now_ms - b->last_ms;
		if (elapsed > ELAPSED_CAP_MS)
			elapsed = ELAPSED_CAP_MS;
		uint64_t t = b->milli_tokens + elapsed * rate;
		b->milli_tokens = t > cap ? cap : t;
		b->last_ms = now_ms;
	}
	if (b->milli_tokens < MILLI)
		return 0;
	b->milli_tokens -= MILLI;
	return 1;
}

struct ipcount_entry {
	uint64_t amount;
	char key[IPLIMIT_KEY_MAX];
};

void ipcount_init(struct ipcount *t)
{
	strmap_init(&t->map);
}

void ipcount_free(struct ipcount *t)
{
	size_t it = 0;
	void *v;
	while (strmap_next(&t->map, &it, NULL, &v))
		free(v);
	strmap_free(&t->map);
}

uint64_t ipcount_get(const struct ipcount *t, const char *key)
{
	const struct ipcount_entry *e = strmap_get(&t->map, key);
	return e ? e->amount : 0;
}

uint64_t ipcount_add(struct ipcount *t, const char *key, int64_t delta)
{
	struct ipcount_entry *e = strmap_get(&t->map, key);
	if (!e) {
		if (delta <= 0)
			return 0;
		e = xcalloc(1, sizeof(*e));
		snprintf(e->key, sizeof(e->key), "%s", key);
		strmap_put(&t->map, e->key, e);
	}
	if (delta < 0 && (uint64_t)-delta >= e->amount)
		e->amount = 0;
	else
		e->amount += (uint64_t)delta;
	if (e->amount == 0) {
		strmap_del(&t->map, e->key);
		free(e);
		return 0;
	}
	return e->amount;
}
