/* SPDX-License-Identifier: Apache-2.0 */
/*
 * model_json.c - parsing, validation and JSON of the manager's objects (see
 * model.h).  Red5 Pro's documents write numbers as strings ("2000"), wrap
 * objects ({"launchconfig": {...}}) and nest targets ({"targets": {"target":
 * [...]}}); all of that is accepted, as are plain numbers and bare arrays.
 */
#include "manager/model.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json_get.h"
#include "core/mem.h"

static const char *const role_names[MROLE_COUNT] = { "origin", "edge", "relay" };

const char *mrole_name(enum mrole r)
{
	return (unsigned)r < MROLE_COUNT ? role_names[r] : "?";
}

int mrole_parse(const char *s)
{
	for (int i = 0; i < MROLE_COUNT; i++)
		if (s && strcmp(s, role_names[i]) == 0)
			return i;
	return -1;
}

int mgr_name_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > MGR_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static json_t *load(const char *text, size_t len, char *err, size_t n)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		jfield_fail(err, n, "malformed JSON at line %d column %d: %s", je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		jfield_fail(err, n, "the body must be a JSON object");
		return NULL;
	}
	return root;
}

/* Unwraps {"key": {...}} when the body has that shape; sets *prefix accordingly. */
static json_t *unwrap(json_t *root, const char *key, const char **prefix)
{
	json_t *inner = json_object_get(root, key);
	if (json_is_object(inner) && json_object_size(root) == 1) {
		*prefix = key;
		return inner;
	}
	*prefix = NULL;
	return root;
}

static int get_name(json_t *obj, const char *key, const char *prefix, int required, char *out,
                    char *err, size_t n)
{
	char path[160];
	jfield_path(path, sizeof(path), prefix, key);
	out[0] = '\0';
	int rc = jfield_str(obj, key, prefix, MGR_NAME_MAX, required, out, MGR_NAME_MAX + 1, err, n);
	if (rc < 0)
		return rc;
	if ((required || out[0]) && !mgr_name_valid(out))
		return jfield_fail(err, n, "%s: must be 1-64 characters of A-Z a-z 0-9 . _ -", path);
	return 0;
}

/* targets as {"target": [...]}, or as a bare array. */
static json_t *target_array(json_t *targets)
{
	if (json_is_array(targets))
		return targets;
	if (json_is_object(targets) && json_is_array(json_object_get(targets, "target")))
		return json_object_get(targets, "target");
	return NULL;
}

#define ROLE_TRANSCODER MROLE_COUNT

/* A role, or ROLE_TRANSCODER (accepted in targets, kept, not launched), or an error. */
static int get_role(json_t *t, const char *path, char *err, size_t n)
{
	char p[200], got[48];
	snprintf(p, sizeof(p), "%s.role", path);
	json_t *v = json_object_get(t, "role");
	if (!json_is_string(v)) {
		if (!v)
			return jfield_fail(err, n, "%s: required (origin, edge, relay or transcoder)", p);
		jfield_describe(v, got, sizeof(got));
		return jfield_fail(err, n, "%s: expected origin, edge, relay or transcoder, got %s", p, got);
	}
	int r = mrole_parse(json_string_value(v));
	if (r < 0 && strcmp(json_string_value(v), "transcoder") == 0)
		return ROLE_TRANSCODER;
	if (r < 0) {
		jfield_describe(v, got, sizeof(got));
		return jfield_fail(err, n, "%s: expected origin, edge, relay or transcoder, got %s", p, got);
	}
	return r;
}

static const char *role_label(int r)
{
	return r == ROLE_TRANSCODER ? "transcoder" : mrole_name((enum mrole)r);
}

/* ---- launch configurations ---- */

int lc_parse(const char *text, size_t len, struct launch_config *out, char *err, size_t n)
{
	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	json_t *root = load(text, len, err, n);
	if (!root)
		return SL_EINVAL;
	const char *pre;
	json_t *o = unwrap(root, "launchconfig", &pre);
	char tp[160];
	int rc = get_name(o, "name", pre, 1, out->name, err, n);
	if (!rc)
		rc = jfield_str(o, "image", pre, 127, 0, out->image, sizeof(out->image), err, n);
	if (!rc)
		rc = jfield_str(o, "version", pre, 31, 0, out->version, sizeof(out->version), err, n);
	if (!rc)
		rc = jfield_str(o, "description", pre, 255, 0, out->description,
		             sizeof(out->description), err, n);
	if (rc)
		goto done;
	jfield_path(tp, sizeof(tp), pre, "targets");
	json_t *arr = target_array(json_object_get(o, "targets"));
	if (!arr || json_array_size(arr) == 0) {
		rc = jfield_fail(err, n, "%s: required: {\"target\": [{\"role\", \"instanceType\", "
		          "\"connectionCapacity\"}, ...]}", tp);
		goto done;
	}
	size_t i;
	json_t *t;
	json_array_foreach(arr, i, t) {
		char p[200];
		snprintf(p, sizeof(p), "%s.target[%zu]", tp, i);
		if (!json_is_object(t)) {
			rc = jfield_fail(err, n, "%s: expected an object", p);
			goto done;
		}
		int r = get_role(t, p, err, n);
		if (r < 0) {
			rc = r;
			goto done;
		}
		struct lc_target *lt = r == ROLE_TRANSCODER ? &out->transcoder : &out->t[r];
		if (lt->present) {
			rc = jfield_fail(err, n, "%s.role: %s is listed twice", p, role_label(r));
			goto done;
		}
		lt->present = 1;
		rc = jfield_str(t, "instanceType", p, 63, 0, lt->instance_type,
		             sizeof(lt->instance_type), err, n);
		if (!rc)
			rc = jfield_int(t, "connectionCapacity", p, 1, 10000000, 1, &lt->capacity, err, n);
		if (rc)
			goto done;
	}
	json_t *props = json_object_get(o, "properties");
	json_t *meta = json_object_get(o, "metadata");
	if (props && !json_is_object(props) && !json_is_null(props)) {
		jfield_path(tp, sizeof(tp), pre, "properties");
		rc = jfield_fail(err, n, "%s: expected an object", tp);
		goto done;
	}
	if (meta && !json_is_object(meta) && !json_is_null(meta)) {
		jfield_path(tp, sizeof(tp), pre, "metadata");
		rc = jfield_fail(err, n, "%s: expected an object", tp);
		goto done;
	}
	if (json_is_object(props))
		out->properties = json_incref(props);
	if (json_is_object(meta))
		out->metadata = json_incref(meta);
done:
	json_decref(root);
	if (rc)
		lc_free(out);
	return rc;
}

void lc_free(struct launch_config *lc)
{
	json_decref(lc->properties);
	json_decref(lc->metadata);
	lc->properties = lc->metadata = NULL;
}

json_t *lc_to_json(const struct launch_config *lc)
{
	json_t *arr = json_array();
	for (int r = 0; r <= ROLE_TRANSCODER; r++) {
		const struct lc_target *t = r == ROLE_TRANSCODER ? &lc->transcoder : &lc->t[r];
		if (!t->present)
			continue;
		json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "role", role_label(r),
		                                     "instanceType", t->instance_type,
		                                     "connectionCapacity", (json_int_t)t->capacity));
	}
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:{s:o}}", "name", lc->name, "image", lc->image,
	                      "version", lc->version, "description", lc->description,
	                      "targets", "target", arr);
	if (lc->properties)
		json_object_set(o, "properties", lc->properties);
	if (lc->metadata)
		json_object_set(o, "metadata", lc->metadata);
	return o;
}

/* ---- scale policies ---- */

static int sp_target_parse(json_t *t, const char *p, struct scale_policy *out, char *err,
                           size_t n)
{
	if (!json_is_object(t))
		return jfield_fail(err, n, "%s: expected an object", p);
	int r = get_role(t, p, err, n);
	if (r < 0)
		return r;
	struct sp_target *st = r == ROLE_TRANSCODER ? &out->transcoder : &out->t[r];
	if (st->present)
		return jfield_fail(err, n, "%s.role: %s is listed twice", p, role_label(r));
	st->present = 1;
	st->adjust = 1;
	st->cooldown_ms = 180000;
	st->warmup_ms = 120000;
	int rc = jfield_int(t, "minLimit", p, 0, 1000, 1, &st->min, err, n);
	if (!rc)
		rc = jfield_int(t, "maxLimit", p, 1, 1000, 1, &st->max, err, n);
	if (!rc)
		rc = jfield_int(t, "scaleAdjustment", p, 1, 1000, 0, &st->adjust, err, n);
	if (!rc)
		rc = jfield_int(t, "coolDownPeriod", p, 0, 86400000, 0, &st->cooldown_ms, err, n);
	if (!rc)
		rc = jfield_int(t, "estimatedWarmUpTime", p, 0, 86400000, 0, &st->warmup_ms, err, n);
	if (rc)
		return rc;
	if (st->min > st->max)
		return jfield_fail(err, n, "%s: minLimit (%lld) is greater than maxLimit (%lld)", p,
		            (long long)st->min, (long long)st->max);
	return 0;
}

int sp_parse(const char *text, size_t len, struct scale_policy *out, char *err, size_t n)
{
	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	json_t *root = load(text, len, err, n);
	if (!root)
		return SL_EINVAL;
	const char *pre;
	json_t *o = unwrap(root, "policy", &pre);
	char tp[160];
	int rc = get_name(o, "name", pre, 1, out->name, err, n);
	if (!rc)
		rc = jfield_str(o, "version", pre, 31, 0, out->version, sizeof(out->version), err, n);
	if (!rc)
		rc = jfield_str(o, "description", pre, 255, 0, out->description,
		             sizeof(out->description), err, n);
	if (!rc)
		rc = jfield_str(o, "type", pre, SP_TYPE_MAX, 0, out->type, sizeof(out->type), err, n);
	if (rc)
		goto done;
	jfield_path(tp, sizeof(tp), pre, "targets");
	json_t *targets = json_object_get(o, "targets");
	json_t *arr = target_array(targets);
	json_t *regions = json_is_object(targets) ? json_object_get(targets, "region") : NULL;
	if (arr && json_array_size(arr) > 0) {
		size_t i;
		json_t *t;
		json_array_foreach(arr, i, t) {
			char p[200];
			snprintf(p, sizeof(p), "%s.target[%zu]", tp, i);
			if ((rc = sp_target_parse(t, p, out, err, n)) < 0)
				goto done;
		}
	} else if (json_is_array(regions) && json_array_size(regions) > 0) {
		/* Per-region targets: one set of limits per role, so the first region wins
		 * and later regions must agree to be listed at all. */
		size_t i;
		json_t *reg;
		json_array_foreach(regions, i, reg) {
			char p[200];
			snprintf(p, sizeof(p), "%s.region[%zu].target", tp, i);
			json_t *ra = json_is_object(reg) ? json_object_get(reg, "target") : NULL;
			if (!json_is_array(ra)) {
				rc = jfield_fail(err, n, "%s: required (an array of targets)", p);
				goto done;
			}
			if (i > 0)
				continue;
			size_t j;
			json_t *t;
			json_array_foreach(ra, j, t) {
				char q[240];
				snprintf(q, sizeof(q), "%s[%zu]", p, j);
				if ((rc = sp_target_parse(t, q, out, err, n)) < 0)
					goto done;
			}
		}
	} else {
		rc = jfield_fail(err, n, "%s: required: {\"target\": [{\"role\", \"minLimit\", "
		          "\"maxLimit\", ...}, ...]}", tp);
		goto done;
	}
	int any = 0;
	for (int r = 0; r < MROLE_COUNT; r++)
		any |= out->t[r].present;
	if (!any)
		rc = jfield_fail(err, n, "%s: no targets", tp);
done:
	json_decref(root);
	return rc;
}

json_t *sp_to_json(const struct scale_policy *sp)
{
	json_t *arr = json_array();
	for (int r = 0; r <= ROLE_TRANSCODER; r++) {
		const struct sp_target *t = r == ROLE_TRANSCODER ? &sp->transcoder : &sp->t[r];
		if (!t->present)
			continue;
		json_array_append_new(arr, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}",
		                      "role", role_label(r),
		                      "minLimit", (json_int_t)t->min, "maxLimit", (json_int_t)t->max,
		                      "scaleAdjustment", (json_int_t)t->adjust,
		                      "coolDownPeriod", (json_int_t)t->cooldown_ms,
		                      "estimatedWarmUpTime", (json_int_t)t->warmup_ms));
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:{s:o}}", "name", sp->name, "version", sp->version,
	                 "description", sp->description, "type", sp->type, "targets", "target", arr);
}

struct sp_target sp_effective(const struct scale_policy *sp, enum mrole r)
{
	if (sp->t[r].present)
		return sp->t[r];
	struct sp_target t = { 0, 0, 0, 1, 180000, 120000 };
	if (r == MROLE_ORIGIN)
		t.min = t.max = 1;
	return t;
}

/* ---- node groups ---- */

static int thresholds_obj(json_t *o, const char *p, struct thresholds *th, char *err, size_t n)
{
	int rc = jfield_int(o, "scaleOut", p, 1, 1000, 0, &th->out_pct, err, n);
	if (!rc)
		rc = jfield_int(o, "scaleIn", p, 0, 1000, 0, &th->in_pct, err, n);
	if (!rc)
		rc = jfield_int(o, "cpuScaleOut", p, 0, 100, 0, &th->cpu_out_pct, err, n);
	if (!rc && th->in_pct >= th->out_pct)
		rc = jfield_fail(err, n, "%s: scaleIn (%lld%%) must be below scaleOut (%lld%%)", p,
		          (long long)th->in_pct, (long long)th->out_pct);
	return rc;
}

int group_parse(const char *text, size_t len, struct node_group *out, char *err, size_t n)
{
	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	out->delete_dead = 1;
	for (int r = 0; r < MROLE_COUNT; r++) {
		out->th[r].out_pct = DEFAULT_SCALE_OUT_PCT;
		out->th[r].in_pct = DEFAULT_SCALE_IN_PCT;
	}
	json_t *root = load(text, len, err, n);
	if (!root)
		return SL_EINVAL;
	json_t *o = root;
	int rc = get_name(o, "name", NULL, 0, out->name, err, n);
	if (!rc)
		rc = get_name(o, "launchConfig", NULL, 1, out->launch_config, err, n);
	if (!rc)
		rc = get_name(o, "scalePolicy", NULL, 1, out->scale_policy, err, n);
	if (!rc)
		rc = jfield_bool(o, "replaceDeadNodes", NULL, &out->replace_dead, err, n);
	if (!rc)
		rc = jfield_bool(o, "deleteDeadNodes", NULL, &out->delete_dead, err, n);
	if (!rc)
		rc = jfield_bool(o, "active", NULL, &out->active, err, n);
	if (!rc)
		rc = jfield_int(o, "createdMs", NULL, 0, INT64_MAX, 0, &out->created_ms, err, n);
	if (rc)
		goto done;
	json_t *regions = json_object_get(o, "regions");
	if (!json_is_array(regions) || json_array_size(regions) == 0) {
		rc = jfield_fail(err, n, "regions: required: a non-empty array of region names");
		goto done;
	}
	if (json_array_size(regions) > MGR_MAX_REGIONS) {
		rc = jfield_fail(err, n, "regions: at most %d", MGR_MAX_REGIONS);
		goto done;
	}
	size_t i;
	json_t *v;
	json_array_foreach(regions, i, v) {
		const char *s = json_string_value(v);
		if (!s || !mgr_name_valid(s) || strlen(s) > MGR_REGION_MAX) {
			rc = jfield_fail(err, n, "regions[%zu]: must be 1-32 characters of A-Z a-z 0-9 . _ -", i);
			goto done;
		}
		snprintf(out->regions[i], sizeof(out->regions[i]), "%s", s);
		out->nregions++;
	}
	json_t *th = json_object_get(o, "thresholds");
	if (th && !json_is_object(th)) {
		rc = jfield_fail(err, n, "thresholds: expected {\"edge\": {\"scaleOut\": 60, ...}}");
		goto done;
	}
	const char *key;
	json_object_foreach(th, key, v) {
		int r = mrole_parse(key);
		char p[80];
		snprintf(p, sizeof(p), "thresholds.%.40s", key);
		if (r < 0 || !json_is_object(v)) {
			rc = jfield_fail(err, n, "%s: expected a role (origin, edge, relay) with an object", p);
			goto done;
		}
		if ((rc = thresholds_obj(v, p, &out->th[r], err, n)) < 0)
			goto done;
	}
done:
	json_decref(root);
	return rc;
}

int thresholds_parse(const char *text, size_t len, int *role, struct thresholds *th,
                     char *err, size_t n)
{
	err[0] = '\0';
	json_t *root = load(text, len, err, n);
	if (!root)
		return SL_EINVAL;
	char rs[16] = "";
	int rc = jfield_str(root, "role", NULL, 15, 1, rs, sizeof(rs), err, n);
	if (!rc && (*role = mrole_parse(rs)) < 0)
		rc = jfield_fail(err, n, "role: expected origin, edge or relay");
	if (!rc)
		rc = thresholds_obj(root, "thresholds", th, err, n);
	json_decref(root);
	return rc;
}

json_t *group_to_json(const struct node_group *g)
{
	json_t *regions = json_array();
	for (unsigned i = 0; i < g->nregions; i++)
		json_array_append_new(regions, json_string(g->regions[i]));
	json_t *th = json_object();
	for (int r = 0; r < MROLE_COUNT; r++)
		json_object_set_new(th, mrole_name((enum mrole)r),
		                    json_pack("{s:I, s:I, s:I}", "scaleOut", (json_int_t)g->th[r].out_pct,
		                              "scaleIn", (json_int_t)g->th[r].in_pct, "cpuScaleOut",
		                              (json_int_t)g->th[r].cpu_out_pct));
	return json_pack("{s:s, s:o, s:s, s:s, s:b, s:b, s:b, s:o, s:I}", "name", g->name,
	                 "regions", regions, "launchConfig", g->launch_config,
	                 "scalePolicy", g->scale_policy, "replaceDeadNodes", g->replace_dead,
	                 "deleteDeadNodes", g->delete_dead, "active", g->active,
	                 "thresholds", th, "createdMs", (json_int_t)g->created_ms);
}
