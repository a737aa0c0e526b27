/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strmap.h - a string-keyed hash map of borrowed values (open addressing,
 * linear probing, tombstone-free backward-shift deletion).
 *
 * Keys are copied; values are opaque pointers the map never frees. Keys are hashed
 * with SipHash under a random key per map, so chosen names cannot all collide.
 */
#ifndef SLUICE_CORE_STRMAP_H
#define SLUICE_CORE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/siphash.h"

struct strmap_slot {
	char *key;       /* NULL when empty */
	uint32_t hash;
	void *value;
};

struct strmap {
	struct strmap_slot *slots;
	size_t cap;      /* power of two, or 0 */
	size_t count;
	struct siphash_key seed; /* random, drawn when the table is first allocated */
};

void strmap_init(struct strmap *m);
void strmap_free(struct strmap *m);
void *strmap_get(const struct strmap *m, const char *key);
/* Inserts or replaces; returns the previous value or NULL. */
void *strmap_put(struct strmap *m, const char *key, void *value);
/* Removes; returns the value removed or NULL. */
void *strmap_del(struct strmap *m, const char *key);

/* Iteration: for (size_t i = 0; strmap_next(m, &i, &k, &v);) ... (no changes while iterating). */
int strmap_next(const struct strmap *m, size_t *iter, const char **key, void **value);

#endif
