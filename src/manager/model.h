/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model.h - what the stream manager knows: launch configurations, scale
 * policies and node groups (the reports nodes send are proto/heartbeat.h),
 * with pure parsers that accept the reference documents' JSON shapes
 * (numbers as strings too) and refuse anything else with a message naming
 * the field.
 *
 * Parsers do no I/O and keep no state; model_json.c also turns each object
 * back into JSON, and parse(to_json(x)) == x (the fuzz target checks it).
 */
#ifndef SLUICE_MANAGER_MODEL_H
#define SLUICE_MANAGER_MODEL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/heartbeat.h"

#define MGR_NAME_MAX 64
#define MGR_MAX_REGIONS 8
#define MGR_REGION_MAX 32
#define SP_TYPE_MAX 127

enum mrole { MROLE_ORIGIN, MROLE_EDGE, MROLE_RELAY, MROLE_COUNT };

const char *mrole_name(enum mrole r);
/* "origin", "edge", "relay" -> the role, or -1. */
int mrole_parse(const char *s);
/* 1 for 1-64 characters of A-Z a-z 0-9 . _ - */
int mgr_name_valid(const char *s);

struct lc_target {
	int present;
	char instance_type[64];
	int64_t capacity;              /* connections one node of this role takes */
};

struct launch_config {
	char name[MGR_NAME_MAX + 1];
	char image[128];
	char version[32];
	char description[256];
	struct lc_target t[MROLE_COUNT];
	json_t *properties, *metadata; /* kept as given (owned references), or NULL */
	/* Red5's transcoder role: accepted and kept so operators' documents load unchanged,
	 * but no transcoder node is launched until sluice transcodes (docs/api.md). */
	struct lc_target transcoder;
};

struct sp_target {
	int present;
	int64_t min, max, adjust;
	int64_t cooldown_ms, warmup_ms;
};

struct scale_policy {
	char name[MGR_NAME_MAX + 1];
	char version[32];
	char description[256];
	char type[SP_TYPE_MAX + 1];    /* Red5's own is a Java class name, 51 characters */
	struct sp_target t[MROLE_COUNT];
	struct sp_target transcoder;   /* kept, not acted on (see launch_config.transcoder) */
};

#define DEFAULT_SCALE_OUT_PCT 60
#define DEFAULT_SCALE_IN_PCT 20

struct thresholds {
	int64_t out_pct, in_pct;
	int64_t cpu_out_pct;           /* also scale out above this mean machine CPU; 0: off */
};

struct node_group {
	char name[MGR_NAME_MAX + 1];
	char regions[MGR_MAX_REGIONS][MGR_REGION_MAX + 1];
	unsigned nregions;
	char launch_config[MGR_NAME_MAX + 1];
	char scale_policy[MGR_NAME_MAX + 1];
	int replace_dead;              /* launch a new node for each dead one */
	int delete_dead;               /* forget dead nodes (else keep them listed, stopped) */
	int active;                    /* an origin was added: the autoscaler looks after it */
	struct thresholds th[MROLE_COUNT];
	int64_t created_ms;
};

/* Each returns 0, or SL_EINVAL with err naming the field and what is allowed. */
int lc_parse(const char *text, size_t len, struct launch_config *out, char *err, size_t n);
int sp_parse(const char *text, size_t len, struct scale_policy *out, char *err, size_t n);
int group_parse(const char *text, size_t len, struct node_group *out, char *err, size_t n);
/* {"role": "edge", "scaleOut": 60, "scaleIn": 20}: role into *role, values into *th
 * (those absent keep the values *th had). */
int thresholds_parse(const char *text, size_t len, int *role, struct thresholds *th,
                     char *err, size_t n);

void lc_free(struct launch_config *lc);

json_t *lc_to_json(const struct launch_config *lc);
json_t *sp_to_json(const struct scale_policy *sp);
json_t *group_to_json(const struct node_group *g);

/* The limits a policy gives a role, with the documented defaults for a role it omits
 * (origin: 1..1; other roles: 0..0). */
struct sp_target sp_effective(const struct scale_policy *sp, enum mrole r);

#endif
