/* SPDX-License-Identifier: Apache-2.0 */
/* strmap.c - string-keyed hash map (see strmap.h). */
#include "core/strmap.h"

#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/mem.h"

/*
 * Keys are names a peer chooses (stream names, node names), so the hash is keyed with
 * SipHash and a random key per map: with a fixed hash (FNV-1a before) a peer could pick
 * thousands of names with one hash and make every lookup walk them all.
 */
static uint32_t hash_str(const struct strmap *m, const char *s)
{
	uint64_t h = siphash24(&m->seed, s, strlen(s));
	return (uint32_t)(h ^ (h >> 32));
}

void strmap_init(struct strmap *m)
{
	m->slots = NULL;
	m->cap = 0;
	m->count = 0;
	m->seed.k0 = m->seed.k1 = 0;
}

void strmap_free(struct strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	strmap_init(m);
}

static struct strmap_slot *find(const struct strmap *m, const char *key, uint32_t h)
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct strmap_slot *s = &m->slots[i];
		if (!s->key)
			return NULL;
		if (s->hash == h && strcmp(s->key, key) == 0)
			return s;
	}
}

static void insert_slot(struct strmap *m, char *key, uint32_t h, void *value)
{
	size_t mask = m->cap - 1;
	size_t i = h & mask;
	while (m->slots[i].key)
		i = (i + 1) & mask;
	m->slots[i].key = key;
	m->slots[i].hash = h;
	m->slots[i].value = value;
}

static void grow(struct strmap *m)
{
	size_t old_cap = m->cap;
	struct strmap_slot *old = m->slots;
	if (!old_cap)
		random_bytes(&m->seed, sizeof(m->seed));
	m->cap = old_cap ? old_cap * 2 : 16;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].key)
			insert_slot(m, old[i].key, old[i].hash, old[i].value);
	free(old);
}

void *strmap_get(const struct strmap *m, const char *key)
{
	if (!m->count)
		return NULL;
	struct strmap_slot *s = find(m, key, hash_str(m, key));
	return s ? s->value : NULL;
}

void *strmap_put(struct strmap *m, const char *key, void *value)
{
	if (!m->cap)
		grow(m); /* draws the seed: hash only after it */
	uint32_t h = hash_str(m, key);
	struct strmap_slot *s = find(m, key, h);
	if (s) {
		void *prev = s->value;
		s->value = value;
		return prev;
	}
	if ((m->count + 1) * 4 > m->cap * 3)
		grow(m);
	insert_slot(m, xstrdup(key), h, value);
	m->count++;
	return NULL;
}

void *strmap_del(struct strmap *m, const char *key)
{
	if (!m->count)
		return NULL;
	struct strmap_slot *s = find(m, key, hash_str(m, key));
	if (!s)
		return NULL;
	void *value = s->value;
	free(s->key);
	size_t mask = m->cap - 1;
	size_t hole = (size_t)(s - m->slots);
	/* Backward-shift: pull later entries of the probe run into the hole. */
	for (size_t i = (hole + 1) & mask; m->slots[i].key; i = (i + 1) & mask) {
		size_t home = m->slots[i].hash & mask;
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			m->slots[hole] = m->slots[i];
			hole = i;
		}
	}
	m->slots[hole].key = NULL;
	m->slots[hole].value = NULL;
	m->count--;
	return value;
}

int strmap_next(const struct strmap *m, size_t *iter, const char **key, void **value)
{
	for (size_t i = *iter; i < m->cap; i++) {
		if (m->slots[i].key) {
			if (key)
				*key = m->slots[i].key;
			if (value)
				*value = m->slots[i].value;
			*iter = i + 1;
			return 1;
		}
	}
	*iter = m->cap;
	return 0;
}
