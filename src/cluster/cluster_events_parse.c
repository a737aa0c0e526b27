/* SPDX-License-Identifier: Apache-2.0 */
/* cluster_events_parse.c - cluster events without a node (see cluster_events.h). */
#include "cluster/cluster_events.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/mem.h"
#include "core/name.h"

static const char *const targets[] = { "all", "edges", "origins", "relays", "node", "except",
                                       NULL };

static int target_known(const char *t)
{
	for (int i = 0; targets[i]; i++)
		if (strcmp(t, targets[i]) == 0)
			return 1;
	return 0;
}

static int depth_ok(const json_t *v, int depth)
{
	if (depth > EVENT_PAYLOAD_DEPTH)
		return 0;
	const char *k;
	json_t *x;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, x)
			if (!depth_ok(x, depth + 1))
				return 0;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (!depth_ok(x, depth + 1))
				return 0;
	}
	return 1;
}

static int names_ok(const char *csv)
{
	/* Comma-separated node names: the same characters as stream names. */
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", csv);
	char *save = NULL;
	int n = 0;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save), n++)
		if (!stream_name_valid(t))
			return 0;
	return n > 0;
}

int event_parse_request(const char *body, size_t len, struct event_msg *out, char *err,
                        size_t err_size)
{
	memset(out, 0, sizeof(*out));
	if (len > EVENT_BODY_MAX) {
		snprintf(err, err_size, "body over %d bytes", EVENT_BODY_MAX);
		return -1;
	}
	json_error_t jerr;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root || !json_is_object(root)) {
		snprintf(err, err_size, "body must be a JSON object%s%s", root ? "" : ": ",
		         root ? "" : jerr.text);
		json_decref(root);
		return -1;
	}
	int rc = -1;
	json_t *target = json_object_get(root, "target");
	json_t *app = json_object_get(root, "app");
	json_t *payload = json_object_get(root, "payload");
	json_t *nodes = json_object_get(root, "nodes");
	if (!json_is_string(target) || !target_known(json_string_value(target))) {
		snprintf(err, err_size, "target must be one of all, edges, origins, relays, node, "
		         "except");
		goto out;
	}
	snprintf(out->target, sizeof(out->target), "%s", json_string_value(target));
	if (!json_is_string(app) || !stream_name_valid(json_string_value(app))) {
		snprintf(err, err_size, "app must be an app name (1-128 of A-Z a-z 0-9 _ . ~ @ + = -)");
		goto out;
	}
	snprintf(out->app, sizeof(out->app), "%s", json_string_value(app));
	int needs_nodes = strcmp(out->target, "node") == 0 || strcmp(out->target, "except") == 0;
	if (nodes && !json_is_null(nodes)) {
		if (!json_is_array(nodes) || json_array_size(nodes) == 0 ||
		    json_array_size(nodes) > 32) {
			snprintf(err, err_size, "nodes must be an array of 1-32 node names");
			goto out;
		}
		size_t i;
		json_t *x;
		size_t used = 0;
		json_array_foreach(nodes, i, x) {
			const char *s = json_string_value(x);
			if (!s || !stream_name_valid(s) || used + strlen(s) + 2 > sizeof(out->nodes)) {
				snprintf(err, err_size, "nodes[%zu] is not a node name", i);
				goto out;
			}
			used += (size_t)snprintf(out->nodes + used, sizeof(out->nodes) - used, "%s%s",
			                         used ? "," : "", s);
		}
	}
	if (needs_nodes && !out->nodes[0]) {
		snprintf(err, err_size, "target %s needs nodes: [names]", out->target);
		goto out;
	}
	if (!payload || !depth_ok(payload, 0)) {
		snprintf(err, err_size, "payload is missing or nested over %d levels",
		         EVENT_PAYLOAD_DEPTH);
		goto out;
	}
	out->payload = json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!out->payload) {
		snprintf(err, err_size, "payload cannot be encoded");
		goto out;
	}
	/* Re-encoding can grow it (reals get 17 digits): other nodes take EVENT_BODY_MAX. */
	if (strlen(out->payload) > EVENT_BODY_MAX / 2) {
		snprintf(err, err_size, "payload over %d bytes once encoded", EVENT_BODY_MAX / 2);
		free(out->payload);
		out->payload = NULL;
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static int copy_str(const struct amf0_value *v, char *dst, size_t size, int required)
{
	const char *s = amf0_str(v);
	if (!s)
		return required ? -1 : 0;
	if (strlen(s) >= size)
		return -1;
	snprintf(dst, size, "%s", s);
	return 0;
}

int event_from_amf(const struct amf0_value *obj, struct event_msg *out)
{
	memset(out, 0, sizeof(*out));
	const char *payload = amf0_str(amf0_get(obj, "payload"));
	if (copy_str(amf0_get(obj, "id"), out->id, sizeof(out->id), 1) < 0 ||
	    copy_str(amf0_get(obj, "from"), out->from, sizeof(out->from), 1) < 0 ||
	    copy_str(amf0_get(obj, "target"), out->target, sizeof(out->target), 1) < 0 ||
	    copy_str(amf0_get(obj, "nodes"), out->nodes, sizeof(out->nodes), 0) < 0 ||
	    copy_str(amf0_get(obj, "app"), out->app, sizeof(out->app), 1) < 0 ||
	    copy_str(amf0_get(obj, "sig"), out->sig, sizeof(out->sig), 1) < 0 || !payload ||
	    strlen(payload) > EVENT_BODY_MAX || !target_known(out->target) ||
	    !stream_name_valid(out->app) || strlen(out->id) != 32 ||
	    (out->nodes[0] && !names_ok(out->nodes)))
		return -1;
	out->payload = xstrdup(payload);
	return 0;
}

void event_put_amf(const struct event_msg *ev, struct bytes *amf)
{
	amf0_put_object_start(amf);
	amf0_put_prop_string(amf, "id", ev->id);
	amf0_put_prop_string(amf, "from", ev->from);
	amf0_put_prop_string(amf, "target", ev->target);
	amf0_put_prop_string(amf, "nodes", ev->nodes);
	amf0_put_prop_string(amf, "app", ev->app);
	amf0_put_prop_string(amf, "payload", ev->payload);
	amf0_put_prop_string(amf, "sig", ev->sig);
	amf0_put_object_end(amf);
}

void event_sign(const char *secret, const struct event_msg *ev, char out[65])
{
	struct bytes m;
	bytes_init(&m);
	bytes_printf(&m, "sluice-event-v1\n%s\n%s\n%s\n%s\n%s\n", ev->id, ev->from, ev->target,
	             ev->nodes, ev->app);
	bytes_append(&m, ev->payload, strlen(ev->payload));
	uint8_t mac[SHA256_LEN];
	hmac_sha256(secret, strlen(secret), m.data, m.len, mac);
	hex_encode(mac, sizeof(mac), out);
	bytes_free(&m);
}

int event_sig_ok(const char *secret, const struct event_msg *ev)
{
	char want[65];
	event_sign(secret, ev, want);
	return strlen(ev->sig) == 64 && ct_equal(want, ev->sig, 64);
}

int cluster_via_has(const char *csv, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = csv; p && *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && memcmp(p, name, n) == 0)
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

int event_targets(const struct event_msg *ev, const char *role, const char *name)
{
	const char *t = ev->target;
	if (strcmp(t, "all") == 0)
		return 1;
	if (strcmp(t, "edges") == 0)
		return strcmp(role, "edge") == 0;
	if (strcmp(t, "origins") == 0)
		return strcmp(role, "origin") == 0;
	if (strcmp(t, "relays") == 0)
		return strcmp(role, "relay") == 0;
	if (strcmp(t, "node") == 0)
		return cluster_via_has(ev->nodes, name);
	if (strcmp(t, "except") == 0)
		return !cluster_via_has(ev->nodes, name);
	return 0;
}

static void put_json(struct bytes *amf, const json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		amf0_put_object_start(amf);
		json_object_foreach((json_t *)v, k, x) {
			amf0_put_key(amf, k);
			put_json(amf, x);
		}
		amf0_put_object_end(amf);
		break;
	case JSON_ARRAY:
		/* As an ECMA array keyed "0", "1", ...: what Flash-era players read. */
		amf0_put_ecma_start(amf, (uint32_t)json_array_size(v));
		json_array_foreach(v, i, x) {
			char key[24];
			snprintf(key, sizeof(key), "%zu", i);
			amf0_put_key(amf, key);
			put_json(amf, x);
		}
		amf0_put_object_end(amf);
		break;
	case JSON_STRING:
		amf0_put_string_n(amf, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		amf0_put_number(amf, (double)json_integer_value(v));
		break;
	case JSON_REAL:
		amf0_put_number(amf, json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		amf0_put_bool(amf, json_is_true(v));
		break;
	default:
		amf0_put_null(amf);
		break;
	}
}

int event_data_body(const struct event_msg *ev, struct bytes *out)
{
	json_error_t jerr;
	json_t *payload = json_loads(ev->payload, JSON_DECODE_ANY, &jerr);
	if (!payload || !depth_ok(payload, 0)) {
		json_decref(payload);
		return -1;
	}
	amf0_put_string(out, "onClusterEvent");
	amf0_put_object_start(out);
	amf0_put_prop_string(out, "id", ev->id);
	amf0_put_prop_string(out, "from", ev->from);
	amf0_put_prop_string(out, "app", ev->app);
	amf0_put_key(out, "data");
	put_json(out, payload);
	amf0_put_object_end(out);
	json_decref(payload);
	return 0;
}

void event_msg_free(struct event_msg *ev)
{
	free(ev->payload);
	ev->payload = NULL;
}
