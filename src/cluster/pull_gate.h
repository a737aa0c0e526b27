/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pull_gate.h - what an edge or relay checks before it opens a new pull, so
 * that viewers (or a hostile client looping play/closeStream, or asking for
 * HLS playlists of made-up names) cannot make it hammer its upstreams:
 *
 *   missing  a name every upstream said it does not have is not asked for
 *            again for a while: hold_ms after the first miss, doubling with
 *            each miss in a row up to hold_max_ms.  At most PULL_GATE_MISSES
 *            names are remembered; when full, the one whose hold ends first
 *            makes room.
 *   rate     at most `rate` new pulls a second (a bucket of `rate` tokens),
 *            below an origin's per-address connection rate, so a flood of
 *            names cannot get the edge's real pulls refused upstream.
 *   full     at most max_pulls pulls at once.
 *
 * Pure: the caller passes the time and the number of pulls it has.
 */
#ifndef SLUICE_CLUSTER_PULL_GATE_H
#define SLUICE_CLUSTER_PULL_GATE_H

#include <stdint.h>

#include "core/strmap.h"

/* Names remembered as missing at most (each about 300 bytes). */
#define PULL_GATE_MISSES 1024

enum pull_gate_verdict { PULL_GATE_OPEN, PULL_GATE_MISSING, PULL_GATE_RATE, PULL_GATE_FULL };

struct pull_gate {
	unsigned max_pulls;              /* 0: no limit */
	unsigned rate;                   /* new pulls a second; 0: no limit */
	uint64_t hold_ms, hold_max_ms;
	struct strmap misses;            /* "app/name" -> struct pull_miss (private) */
	double tokens;
	uint64_t refill_ms;
	uint64_t refused[4];             /* by verdict */
};

void pull_gate_init(struct pull_gate *g, unsigned max_pulls, unsigned rate, uint64_t hold_ms,
                    uint64_t hold_max_ms);
/* New limits for a running gate (a reload); what it remembers stays. */
void pull_gate_set_limits(struct pull_gate *g, unsigned max_pulls, unsigned rate, uint64_t hold_ms,
                          uint64_t hold_max_ms);
void pull_gate_free(struct pull_gate *g);
/* May a pull of app/name start now, with npulls already running?  A refusal is counted;
 * an open verdict uses a token. */
enum pull_gate_verdict pull_gate_admit(struct pull_gate *g, const char *app, const char *name,
                                       unsigned npulls, uint64_t now_ms);
/* Every upstream said app/name is not there: hold it off (longer each time in a row). */
void pull_gate_missing(struct pull_gate *g, const char *app, const char *name,
                       uint64_t now_ms);
/* An upstream sent app/name: forget it was missing. */
void pull_gate_found(struct pull_gate *g, const char *app, const char *name);
/* Names held off now (for the API). */
unsigned pull_gate_held(const struct pull_gate *g, uint64_t now_ms);
const char *pull_gate_verdict_name(enum pull_gate_verdict v);

#endif
