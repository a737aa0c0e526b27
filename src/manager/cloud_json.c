/* SPDX-License-Identifier: Apache-2.0 */
/* cloud_json.c - Compute Engine's and Kubernetes' JSON answers (see cloud_json.h). */
#include "manager/cloud_json.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "manager/cloud_op.h"

/* Fills one instance if every part fits and it has a node id and a name; 0, or -1 to
 * leave it out. */
static int instance_set(struct ctl_instance *v, const char *node, const char *name,
                        const char *host)
{
	if (!node[0] || !name[0] || strlen(node) >= sizeof(v->id) || strlen(name) >= sizeof(v->instance) ||
	    strlen(host) >= sizeof(v->host))
		return -1;
	snprintf(v->id, sizeof(v->id), "%s", node);
	snprintf(v->instance, sizeof(v->instance), "%s", name);
	snprintf(v->host, sizeof(v->host), "%s", host);
	return 0;
}

/*
 * A list page: the object (the caller json_decrefs it) with its items (an array of at most
 * max, or absent when may_lack_items) in *items and room for them in *v, and the page
 * token, tok_key in the object tok_in (NULL: the top), into next.  NULL when it is not such
 * a page (nothing to free).
 */
static json_t *page_load(const char *body, size_t len, size_t max, int may_lack_items,
                         const char *tok_in, const char *tok_key, char *next, size_t next_size,
                         json_t **items, struct ctl_instance **v)
{
	*v = NULL;
	if (next_size)
		next[0] = '\0';
	json_error_t je;
	json_t *o = json_loadb(body, len, 0, &je);
	*items = json_is_object(o) ? json_object_get(o, "items") : NULL;
	json_t *tok = json_object_get(tok_in ? json_object_get(o, tok_in) : o, tok_key);
	if (!json_is_object(o) || (!*items && !may_lack_items) ||
	    (*items && (!json_is_array(*items) || json_array_size(*items) > max)) ||
	    (tok && (!json_is_string(tok) || strlen(json_string_value(tok)) >= next_size))) {
		json_decref(o);
		return NULL;
	}
	if (tok)
		snprintf(next, next_size, "%s", json_string_value(tok));
	size_t n = json_array_size(*items);
	*v = n ? xcalloc(n, sizeof(**v)) : NULL;
	return o;
}

int gcp_parse_instance_list(const char *body, size_t len, size_t max, struct ctl_instance **out,
                            char *next, size_t next_size)
{
	json_t *items;
	struct ctl_instance *v;
	json_t *o = page_load(body, len, max, 1, NULL, "nextPageToken", next, next_size, &items,
	                      &v);
	*out = NULL;
	if (!o)
		return -1;
	size_t n = json_array_size(items), k = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_array_get(items, i);
		const char *name = json_string_value(json_object_get(it, "name"));
		const char *st = json_string_value(json_object_get(it, "status"));
		const char *node = json_string_value(json_object_get(json_object_get(it, "labels"),
		                                                     "sluice-node"));
		const char *ip = json_string_value(json_object_get(json_array_get(
			json_object_get(it, "networkInterfaces"), 0), "networkIP"));
		if (!name || !node || !st || (strcmp(st, "PROVISIONING") != 0 &&
		                              strcmp(st, "STAGING") != 0 && strcmp(st, "RUNNING") != 0))
			continue;
		if (instance_set(&v[k], node, name, ip ? ip : "") == 0)
			k++;
	}
	json_decref(o);
	*out = v;
	return (int)k;
}

void gcp_parse_error(const char *body, size_t len, char *out, size_t n, char *reason,
                     size_t reason_size)
{
	json_error_t je;
	json_t *o = json_loadb(body, len, 0, &je);
	json_t *e = json_is_object(o) ? json_object_get(o, "error") : NULL;
	const char *msg = NULL, *rsn = NULL;
	if (json_is_object(e)) {
		msg = json_string_value(json_object_get(e, "message"));
		rsn = json_string_value(json_object_get(json_array_get(json_object_get(e, "errors"), 0),
		                                        "reason"));
		if (!rsn)
			rsn = json_string_value(json_object_get(e, "status"));
	} else if (json_is_string(e)) {
		rsn = json_string_value(e);
		msg = json_string_value(json_object_get(o, "error_description"));
	}
	/* An empty field says nothing: the message is never empty. */
	if (rsn && !*rsn)
		rsn = NULL;
	if (msg && !*msg)
		msg = NULL;
	snprintf(out, n, "%s%s%s", rsn ? rsn : "", rsn && msg ? ": " : "",
	         msg ? msg : (rsn ? "" : "no message"));
	snprintf(reason, reason_size, "%s", rsn ? rsn : "");
	cloud_safe_text(out);
	json_decref(o);
}

int k8s_parse_pod_list(const char *body, size_t len, size_t max, struct ctl_instance **out,
                       char *next, size_t next_size)
{
	json_t *items;
	struct ctl_instance *v;
	json_t *o = page_load(body, len, max, 0, "metadata", "continue", next, next_size, &items,
	                      &v);
	*out = NULL;
	if (!o)
		return -1;
	size_t n = json_array_size(items), k = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_array_get(items, i);
		json_t *md = json_object_get(it, "metadata");
		json_t *st = json_object_get(it, "status");
		const char *name = json_string_value(json_object_get(md, "name"));
		const char *node = json_string_value(json_object_get(json_object_get(md, "labels"),
		                                                     "sluice/node"));
		const char *phase = json_string_value(json_object_get(st, "phase"));
		const char *ip = json_string_value(json_object_get(st, "podIP"));
		/* A pod that ended (or is being deleted) is not running. */
		if (!name || !node || (phase && (strcmp(phase, "Succeeded") == 0 ||
		                                 strcmp(phase, "Failed") == 0)) ||
		    json_object_get(md, "deletionTimestamp"))
			continue;
		if (instance_set(&v[k], node, name, ip ? ip : "") == 0)
			k++;
	}
	json_decref(o);
	*out = v;
	return (int)k;
}

void k8s_parse_pod_ip(const char *body, size_t len, char *ip, size_t ip_size)
{
	json_error_t je;
	json_t *o = json_loadb(body, len, 0, &je);
	const char *s = json_is_object(o) ?
	                json_string_value(json_object_get(json_object_get(o, "status"), "podIP")) :
	                NULL;
	snprintf(ip, ip_size, "%s", s && strlen(s) < ip_size ? s : "");
	json_decref(o);
}

void k8s_parse_status(const char *body, size_t len, char *out, size_t n)
{
	json_error_t je;
	json_t *o = json_loadb(body, len, 0, &je);
	const char *msg = json_is_object(o) ? json_string_value(json_object_get(o, "message")) : NULL;
	const char *reason = json_is_object(o) ? json_string_value(json_object_get(o, "reason")) :
	                     NULL;
	if (reason && !*reason)
		reason = NULL;
	if (msg && !*msg)
		msg = NULL;
	snprintf(out, n, "%s%s%s", reason ? reason : "", reason && msg ? ": " : "",
	         msg ? msg : (reason ? "" : "no message"));
	cloud_safe_text(out);
	json_decref(o);
}
