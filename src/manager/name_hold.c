/* SPDX-License-Identifier: Apache-2.0 */
/* name_hold.c - stream names held on an origin for a while (see name_hold.h). */
#include "manager/name_hold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

struct name_hold_entry {
	char node[NAME_HOLD_NODE_MAX + 1];
	uint64_t until_ms;
};

void name_hold_init(struct name_hold *h)
{
	strmap_init(&h->map);
	h->refused = 0;
}

void name_hold_free(struct name_hold *h)
{
	size_t it = 0;
	void *v;
	while (strmap_next(&h->map, &it, NULL, &v))
		free(v);
	strmap_free(&h->map);
}

const char *name_hold_get(struct name_hold *h, const char *key, uint64_t now_ms)
{
	struct name_hold_entry *e = strmap_get(&h->map, key);
	if (!e)
		return NULL;
	if (now_ms >= e->until_ms) {
		free(strmap_del(&h->map, key));
		return NULL;
	}
	return e->node;
}

/* Drops lapsed entries (keys collected first: the map may not change while iterated). */
static void sweep(struct name_hold *h, uint64_t now_ms)
{
	char **dead = xcalloc(h->map.count + 1, sizeof(*dead));
	size_t n = 0, it = 0;
	const char *k;
	void *v;
	while (strmap_next(&h->map, &it, &k, &v))
		if (now_ms >= ((struct name_hold_entry *)v)->until_ms)
			dead[n++] = xstrdup(k);
	for (size_t i = 0; i < n; i++) {
		free(strmap_del(&h->map, dead[i]));
		free(dead[i]);
	}
	free(dead);
}

int name_hold_put(struct name_hold *h, const char *key, const char *node, uint64_t now_ms,
                  uint64_t hold_ms)
{
	struct name_hold_entry *e = strmap_get(&h->map, key);
	if (!e) {
		if (h->map.count >= NAME_HOLD_MAX)
			sweep(h, now_ms);
		if (h->map.count >= NAME_HOLD_MAX) {
			h->refused++;
			return -1;
		}
		e = xcalloc(1, sizeof(*e));
		strmap_put(&h->map, key, e);
	}
	snprintf(e->node, sizeof(e->node), "%s", node);
	e->until_ms = now_ms + hold_ms;
	return 0;
}

void name_hold_forget_node(struct name_hold *h, const char *node)
{
	char **gone = xcalloc(h->map.count + 1, sizeof(*gone));
	size_t n = 0, it = 0;
	const char *k;
	void *v;
	while (strmap_next(&h->map, &it, &k, &v))
		if (strcmp(((struct name_hold_entry *)v)->node, node) == 0)
			gone[n++] = xstrdup(k);
	for (size_t i = 0; i < n; i++) {
		free(strmap_del(&h->map, gone[i]));
		free(gone[i]);
	}
	free(gone);
}

size_t name_hold_count(const struct name_hold *h)
{
	return h->map.count;
}
