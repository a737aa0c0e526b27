/* SPDX-License-Identifier: Apache-2.0 */
/*
 * name_hold.h - which origin a stream name was sent to for broadcast, held
 * for a while, so an encoder that retries before its stream shows up in a
 * heartbeat goes to the same origin instead of splitting one name over two.
 *
 * Pure (the caller passes the clock): bounded to NAME_HOLD_MAX names; when
 * full, lapsed entries are dropped first, and a new name is not held (the
 * caller counts that) rather than evicting a live hold.
 */
#ifndef SLUICE_MANAGER_NAME_HOLD_H
#define SLUICE_MANAGER_NAME_HOLD_H

#include <stddef.h>
#include <stdint.h>

#include "core/strmap.h"

#define NAME_HOLD_MAX 4096
#define NAME_HOLD_MS 10000
#define NAME_HOLD_NODE_MAX 64

struct name_hold {
	struct strmap map;   /* "app/stream" -> struct name_hold_entry * (owned) */
	uint64_t refused;    /* names not held because the table was full */
};

void name_hold_init(struct name_hold *h);
void name_hold_free(struct name_hold *h);
/* The node id held for key at now_ms, or NULL (a lapsed entry is dropped). */
const char *name_hold_get(struct name_hold *h, const char *key, uint64_t now_ms);
/* Holds key for node until now_ms + hold_ms (renewing it); 0, or -1 when full. */
int name_hold_put(struct name_hold *h, const char *key, const char *node, uint64_t now_ms,
                  uint64_t hold_ms);
/* Forgets every hold on node (it died or was removed). */
void name_hold_forget_node(struct name_hold *h, const char *node);
size_t name_hold_count(const struct name_hold *h);

#endif
