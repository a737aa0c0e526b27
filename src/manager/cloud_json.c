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

/* One item of a list: its name, node id and address (any may be NULL) when it is a node
 * that runs or may; 0, or -1 to leave it out. */
typedef int (*item_fn)(json_t *it, const char **name, const char **node, const char **host);

/*
 * A list page: its items (an array of at most max, or absent when may_lack_items), each
 * kept where item says it runs, into *out, and the page token, tok_key in the object
 * tok_in (NULL: the top), into next.  How many, or -1 when it is not such a page.
 */
static int page_parse(const char *body, size_t len, size_t max, int may_lack_items,
                      const char *tok_in, const char *tok_key, item_fn item,
                      struct ctl_instance **out, char *next, size_t next_size)
{
	*out = NULL;
	if (next_size)
		next[0] = '\0';
	json_error_t je;
	json_t *o = json_loadb(body, len, 0, &je);
	json_t *items = json_is_object(o) ? json_object_get(o, "items") : NULL;
	json_t *tok = json_object_get(tok_in ? json_object_get(o, tok_in) : o, tok_key);
	if (!json_is_object(o) || (!items && !may_lack_items) ||
	    (items && (!json_is_array(items) || json_array_size(items) > max)) ||
	    (tok && (!json_is_string(tok) || strlen(json_string_value(tok)) >= next_size))) {
		json_decref(o);
		return -1;
	}
	if (tok)
		snprintf(next, next_size, "%s", json_string_value(tok));
	size_t n = json_array_size(items), k = 0;
	struct ctl_instance *v = n ? xcalloc(n, sizeof(*v)) : NULL;
	for (size_t i = 0; i < n; i++) {
		const char *name = NULL, *node = NULL, *host = NULL;
		if (item(json_array_get(items, i), &name, &node, &host) == 0 && name && node &&
		    instance_set(&v[k], node, name, host ? host : "") == 0)
			k++;
	}
	json_decref(o);
	*out = v;
	return (int)k;
}

/* An instance that is PROVISIONING, STAGING or RUNNING. */
static int gcp_item(json_t *it, const char **name, const char **node, const char **host)
{
	const char *st = json_string_value(json_object_get(it, "status"));
	*name = json_string_value(json_object_get(it, "name"));
	*node = json_string_value(json_object_get(json_object_get(it, "labels"), "sluice-node"));
	*host = json_string_value(json_object_get(json_array_get(json_object_get(it,
	        "networkInterfaces"), 0), "networkIP"));
	return st && (strcmp(st, "PROVISIONING") == 0 || strcmp(st, "STAGING") == 0 ||
	              strcmp(st, "RUNNING") == 0) ? 0 : -1;
}

int gcp_parse_instance_list(const char *body, size_t len, size_t max, struct ctl_instance **out,
                            char *next, size_t next_size)
{
	return page_parse(body, len, max, 1, NULL, "nextPageToken", gcp_item, out, next,
	                  next_size);
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

/* A pod that has not ended and is not being deleted. */
static int k8s_item(json_t *it, const char **name, const char **node, const char **host)
{
	json_t *md = json_object_get(it, "metadata");
	json_t *st = json_object_get(it, "status");
	const char *phase = json_string_value(json_object_get(st, "phase"));
	*name = json_string_value(json_object_get(md, "name"));
	*node = json_string_value(json_object_get(json_object_get(md, "labels"), "sluice/node"));
	*host = json_string_value(json_object_get(st, "podIP"));
	return (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0)) ||
	       json_object_get(md, "deletionTimestamp") ? -1 : 0;
}

int k8s_parse_pod_list(const char *body, size_t len, size_t max, struct ctl_instance **out,
                       char *next, size_t next_size)
{
	return page_parse(body, len, max, 0, "metadata", "continue", k8s_item, out, next,
	                  next_size);
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
