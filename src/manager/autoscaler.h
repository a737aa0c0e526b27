/* SPDX-License-Identifier: Apache-2.0 */
/*
 * autoscaler.h - the scaling decision for one role of one node group (pure:
 * the caller passes the clock and the counts, and applies the decision).
 *
 *   load = connections on alive nodes / (alive nodes x connectionCapacity)
 *
 * Below minLimit: launch up to it.  Above the scale-out threshold: launch
 * scaleAdjustment more, up to maxLimit, once the last launch's warm-up and
 * the cool-down have passed.  Below the scale-in threshold for a whole
 * cool-down, and only if the rest would stay under the scale-out threshold:
 * drain one node, never below minLimit.  The reason carries the numbers.
 *
 * With a CPU threshold set (th.cpu_out_pct, Ant Media's way), a mean machine
 * CPU above it also scales out, and no node is drained while the CPU is above
 * half of it (so the rest are not pushed over at once).
 */
#ifndef SLUICE_MANAGER_AUTOSCALER_H
#define SLUICE_MANAGER_AUTOSCALER_H

#include <stddef.h>
#include <stdint.h>

#include "manager/model.h"
#include "manager/routing.h"

struct scale_input {
	enum mrole role;
	struct sp_target lim;
	int64_t capacity;          /* per node */
	struct thresholds th;
	unsigned launching;        /* launching or starting */
	unsigned alive;            /* alive (not draining) */
	unsigned draining;
	int64_t connections;       /* on the alive nodes */
	double cpu_pct;            /* mean machine CPU of the alive nodes (th.cpu_out_pct) */
	uint64_t now_ms;
	uint64_t last_out_ms;      /* last scale-out (0: never) */
	uint64_t last_in_ms;       /* last scale-in (0: never) */
	uint64_t newest_launch_ms; /* launch time of the newest node not yet alive */
};

/* Kept per group and role between decisions. */
struct scale_state {
	uint64_t low_since_ms;     /* load below scale-in since; 0: not low */
};

enum scale_action { SCALE_NONE, SCALE_OUT, SCALE_IN };

struct scale_decision {
	enum scale_action action;
	unsigned count;            /* nodes to launch (SCALE_OUT) or drain (SCALE_IN: 1) */
	double load_pct;           /* -1 when nothing is alive to measure */
	char reason[256];          /* for every action, and for holds worth logging */
};

void autoscale_decide(const struct scale_input *in, struct scale_state *st,
                      struct scale_decision *out);

/* The node of the role to drain: the least-loaded alive one, preferring nodes
 * with no publisher.  Returns its index or -1. */
int autoscale_pick_drain(const struct route_node *nodes, size_t n, enum mrole role,
                         const int *has_publishers);

#endif
