/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster_events.h - the parts of cluster events that need no node: reading
 * a POST body, reading an event off a link, signing, targeting, and turning
 * the JSON payload into the AMF0 data message viewers receive.
 */
#ifndef SLUICE_CLUSTER_CLUSTER_EVENTS_H
#define SLUICE_CLUSTER_CLUSTER_EVENTS_H

#include <stddef.h>

#include "core/bytes.h"
#include "proto/amf0.h"

#define EVENT_BODY_MAX 16384
#define EVENT_PAYLOAD_DEPTH 16

struct event_msg {
	char id[33];
	char from[129];
	char target[16];
	char nodes[512];
	char app[129];
	char *payload;                   /* JSON text (owned) */
	char sig[65];
};

/* Reads a POST body: {"target", "nodes"?, "app", "payload"}. Returns 0, or -1 with err. */
int event_parse_request(const char *body, size_t len, struct event_msg *out, char *err,
                        size_t err_size);
/* Reads an event from a link's AMF0 object. Returns 0, or -1 when malformed. */
int event_from_amf(const struct amf0_value *obj, struct event_msg *out);
void event_put_amf(const struct event_msg *ev, struct bytes *amf);
void event_sign(const char *secret, const struct event_msg *ev, char out[65]);
int event_sig_ok(const char *secret, const struct event_msg *ev);
/* Whether a node of this role and name is one the event is for. */
int event_targets(const struct event_msg *ev, const char *role, const char *name);
/* The data message body: "onClusterEvent", {id, from, app, data: payload}. Returns 0 or -1. */
int event_data_body(const struct event_msg *ev, struct bytes *out);
void event_msg_free(struct event_msg *ev);
/* Whether name is in a comma-separated list of node names ("a,b,c"; NULL is empty): a
 * pull's via list, an event's nodes. */
int cluster_via_has(const char *csv, const char *name);

#endif
