/* SPDX-License-Identifier: Apache-2.0 */
/* autoscaler.c - scaling decisions (see autoscaler.h). */
#include "manager/autoscaler.h"

#include <stdio.h>
#include <string.h>

static int elapsed(uint64_t now, uint64_t since, int64_t span)
{
	return since == 0 || now >= since + (uint64_t)span;
}

void autoscale_decide(const struct scale_input *in, struct scale_state *st,
                      struct scale_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->load_pct = -1;
	const char *role = mrole_name(in->role);
	unsigned active = in->launching + in->alive;
	if ((int64_t)active < in->lim.min) {
		out->action = SCALE_OUT;
		out->count = (unsigned)(in->lim.min - (int64_t)active);
		snprintf(out->reason, sizeof(out->reason),
		         "%s: %u active (%u alive, %u starting) below minLimit %lld", role, active,
		         in->alive, in->launching, (long long)in->lim.min);
		return;
	}
	if (in->alive == 0 || in->capacity <= 0) {
		st->low_since_ms = 0;
		return;
	}
	double cap = (double)in->alive * (double)in->capacity;
	out->load_pct = (double)in->connections * 100.0 / cap;
	char nums[160];
	int cpu_on = in->th.cpu_out_pct > 0;
	int n0 = snprintf(nums, sizeof(nums), "load %.1f%% = %lld connections / (%u alive x %lld "
	                  "capacity)", out->load_pct, (long long)in->connections, in->alive,
	                  (long long)in->capacity);
	if (cpu_on && n0 > 0 && (size_t)n0 < sizeof(nums))
		snprintf(nums + n0, sizeof(nums) - (size_t)n0, ", CPU %.0f%% (scale-out %lld%%)",
		         in->cpu_pct, (long long)in->th.cpu_out_pct);
	int cpu_hot = cpu_on && in->cpu_pct > (double)in->th.cpu_out_pct;

	if ((int64_t)active > in->lim.max && in->draining == 0) {
		out->action = SCALE_IN;
		out->count = 1;
		snprintf(out->reason, sizeof(out->reason), "%s: %u active above maxLimit %lld; %s",
		         role, active, (long long)in->lim.max, nums);
		return;
	}
	if (out->load_pct > (double)in->th.out_pct || cpu_hot) {
		st->low_since_ms = 0;
		if ((int64_t)active >= in->lim.max) {
			snprintf(out->reason, sizeof(out->reason), "%s: hold at maxLimit %lld; %s > %lld%%",
			         role, (long long)in->lim.max, nums, (long long)in->th.out_pct);
			return;
		}
		if (in->launching > 0 && !elapsed(in->now_ms, in->newest_launch_ms, in->lim.warmup_ms)) {
			snprintf(out->reason, sizeof(out->reason),
			         "%s: hold, %u node(s) warming up (%lld ms); %s", role, in->launching,
			         (long long)in->lim.warmup_ms, nums);
			return;
		}
		if (!elapsed(in->now_ms, in->last_out_ms, in->lim.cooldown_ms)) {
			snprintf(out->reason, sizeof(out->reason), "%s: hold, cooling down (%lld ms); %s",
			         role, (long long)in->lim.cooldown_ms, nums);
			return;
		}
		int64_t room = in->lim.max - (int64_t)active;
		out->action = SCALE_OUT;
		out->count = (unsigned)(in->lim.adjust < room ? in->lim.adjust : room);
		snprintf(out->reason, sizeof(out->reason), "%s: %s > scale-out %lld%%%s; +%u (max %lld)",
		         role, nums, (long long)in->th.out_pct, cpu_hot ? " or CPU over its threshold"
		         : "", out->count, (long long)in->lim.max);
		return;
	}
	if (out->load_pct >= (double)in->th.in_pct || (int64_t)active <= in->lim.min ||
	    in->launching > 0 || in->draining > 0 ||
	    (cpu_on && in->cpu_pct > (double)in->th.cpu_out_pct / 2)) {
		st->low_since_ms = 0;
		return;
	}
	if (st->low_since_ms == 0)
		st->low_since_ms = in->now_ms;
	/* The nodes left must not be pushed over the scale-out threshold (no flapping). */
	if (in->alive > 1) {
		double after = (double)in->connections * 100.0 /
		               ((double)(in->alive - 1) * (double)in->capacity);
		if (after > (double)in->th.out_pct)
			return;
	} else if (in->connections > 0) {
		return;
	}
	if (!elapsed(in->now_ms, st->low_since_ms, in->lim.cooldown_ms) ||
	    !elapsed(in->now_ms, in->last_out_ms, in->lim.cooldown_ms) ||
	    !elapsed(in->now_ms, in->last_in_ms, in->lim.cooldown_ms))
		return;
	out->action = SCALE_IN;
	out->count = 1;
	snprintf(out->reason, sizeof(out->reason),
	         "%s: %s < scale-in %lld%% for %lld ms; drain 1 (min %lld)", role, nums,
	         (long long)in->th.in_pct, (long long)(in->now_ms - st->low_since_ms),
	         (long long)in->lim.min);
	st->low_since_ms = 0;
}

int autoscale_pick_drain(const struct route_node *nodes, size_t n, enum mrole role,
                         const int *has_publishers)
{
	int best = -1;
	for (size_t i = 0; i < n; i++) {
		if (nodes[i].role != role || nodes[i].state != NS_ALIVE)
			continue;
		if (best < 0) {
			best = (int)i;
			continue;
		}
		int pb = has_publishers ? has_publishers[best] : 0;
		int pi = has_publishers ? has_publishers[i] : 0;
		if (pi < pb || (pi == pb && nodes[i].load < nodes[best].load))
			best = (int)i;
	}
	return best;
}
