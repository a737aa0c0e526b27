/* SPDX-License-Identifier: Apache-2.0 */
/* routing.c - where to publish and where to watch (see routing.h). */
#include "manager/routing.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

static const char *const state_names[NS_COUNT] = {
	"launching", "starting", "alive", "draining", "dead",
};

const char *node_state_name(enum node_state s)
{
	return (unsigned)s < NS_COUNT ? state_names[s] : "?";
}

int node_state_parse(const char *s)
{
	for (int i = 0; i < NS_COUNT; i++)
		if (s && strcmp(s, state_names[i]) == 0)
			return i;
	return -1;
}

static int in_region(const struct route_node *nd, const char *region)
{
	return region && *region && nd->region && strcmp(nd->region, region) == 0;
}

/* The least-loaded alive node of the role with room; requested region first. */
static int least_loaded(const struct route_node *nodes, size_t n, enum mrole role,
                        const char *region, unsigned *alive)
{
	int best = -1, best_local = 0;
	double best_ratio = 0;
	*alive = 0;
	for (size_t i = 0; i < n; i++) {
		const struct route_node *nd = &nodes[i];
		if (nd->role != role || nd->state != NS_ALIVE)
			continue;
		(*alive)++;
		if (nd->capacity <= 0 || nd->load >= nd->capacity || nd->overloaded)
			continue;
		int local = in_region(nd, region);
		double ratio = (double)nd->load / (double)nd->capacity;
		if (best < 0 || local > best_local || (local == best_local && ratio < best_ratio)) {
			best = (int)i;
			best_local = local;
			best_ratio = ratio;
		}
	}
	return best;
}

static unsigned overloaded(const struct route_node *nodes, size_t n, enum mrole role)
{
	unsigned c = 0;
	for (size_t i = 0; i < n; i++)
		c += nodes[i].role == role && nodes[i].state == NS_ALIVE && nodes[i].overloaded;
	return c;
}

static void full_reason(char *reason, size_t size, const char *role, unsigned alive,
                        unsigned over)
{
	if (over)
		snprintf(reason, size, "every %s is at capacity (%u alive, %u of them above their "
		         "CPU or memory limit)", role, alive, over);
	else
		snprintf(reason, size, "every %s is at capacity (%u alive)", role, alive);
}

/* The node holding the stream's publisher (alive or draining), or -1. */
static int publisher_node(const struct route_node *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (nodes[i].publishing &&
		    (nodes[i].state == NS_ALIVE || nodes[i].state == NS_DRAINING))
			return (int)i;
	return -1;
}

int routing_pick(const struct route_node *nodes, size_t n, enum route_action action,
                 const char *region, char *reason, size_t reason_size)
{
	unsigned alive;
	int pub = publisher_node(nodes, n);
	reason[0] = '\0';
	if (action == ROUTE_BROADCAST) {
		if (pub >= 0)
			return pub;
		int i = least_loaded(nodes, n, MROLE_ORIGIN, region, &alive);
		if (i >= 0)
			return i;
		if (alive == 0)
			snprintf(reason, reason_size, "no alive origin");
		else
			full_reason(reason, reason_size, "origin", alive,
			            overloaded(nodes, n, MROLE_ORIGIN));
		return SL_EFULL;
	}
	if (pub < 0) {
		snprintf(reason, reason_size, "the stream is not live");
		return SL_ENOTFOUND;
	}
	int i = least_loaded(nodes, n, MROLE_EDGE, region, &alive);
	if (i >= 0)
		return i;
	if (alive > 0) {
		full_reason(reason, reason_size, "edge", alive, overloaded(nodes, n, MROLE_EDGE));
		return SL_EFULL;
	}
	/* No edge: viewers go to the origin itself, while it has room. */
	if (nodes[pub].state == NS_ALIVE && nodes[pub].load < nodes[pub].capacity &&
	    !nodes[pub].overloaded)
		return pub;
	snprintf(reason, reason_size, "no alive edge, and the origin %s has no room",
	         nodes[pub].id ? nodes[pub].id : "?");
	return SL_EFULL;
}

void route_pending_settle(struct route_pending *p, uint64_t now_ms, int64_t settled)
{
	int64_t keep = 0;
	for (int64_t i = 0; i < p->n; i++) {
		if (now_ms > p->ms[i] + ROUTE_PENDING_MS)
			continue;
		if (settled > 0) {
			settled--;
			continue;
		}
		if (keep != i) {
			p->ms[keep] = p->ms[i];
			memcpy(p->by[keep], p->by[i], sizeof(p->by[keep]));
		}
		keep++;
	}
	p->n = keep;
}

unsigned route_pending_count(const struct route_pending *p, const char *caller)
{
	unsigned c = 0;
	for (int64_t i = 0; i < p->n; i++)
		c += strcmp(p->by[i], caller) == 0;
	return c;
}

void route_pending_add(struct route_pending *p, uint64_t now_ms, const char *caller)
{
	if (p->n == ROUTE_PENDING_MAX) {
		memmove(p->ms, p->ms + 1, sizeof(p->ms) - sizeof(p->ms[0]));
		memmove(p->by, p->by + 1, sizeof(p->by) - sizeof(p->by[0]));
		p->n--;
	}
	p->ms[p->n] = now_ms;
	snprintf(p->by[p->n], sizeof(p->by[p->n]), "%s", caller);
	p->n++;
}
