/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cluster_events.c - events sent to a set of nodes: each node that receives
 * one for the first time records it, delivers it into its live streams of
 * the event's app if it is a target, and passes it on along every other
 * link, so it reaches every node of a connected cluster once.
 */
#include "cluster/cluster.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"

static int seen(struct cluster *cl, const char *id)
{
	for (unsigned i = 0; i < sizeof(cl->seen_ids) / sizeof(cl->seen_ids[0]); i++)
		if (strcmp(cl->seen_ids[i], id) == 0)
			return 1;
	snprintf(cl->seen_ids[cl->seen_next], sizeof(cl->seen_ids[0]), "%s", id);
	cl->seen_next = (cl->seen_next + 1) % (sizeof(cl->seen_ids) / sizeof(cl->seen_ids[0]));
	return 0;
}

/* Into every live stream of the app, in order with its media. */
static unsigned deliver(struct cluster *cl, const struct event_msg *ev)
{
	struct bytes body;
	bytes_init(&body);
	if (event_data_body(ev, &body) < 0) {
		bytes_free(&body);
		return 0;
	}
	unsigned n = 0;
	size_t it = 0;
	void *v;
	while (strmap_next(&cl->host.streams->map, &it, NULL, &v)) {
		struct stream *s = v;
		if (strcmp(s->app, ev->app) != 0)
			continue;
		stream_inject_data(s, rbuf_from(body.data, body.len));
		n++;
	}
	bytes_free(&body);
	return n;
}

/* Passes an event on along every link but the one it came from. */
static void flood(struct cluster *cl, const struct event_msg *ev, const void *from_link)
{
	struct bytes amf;
	bytes_init(&amf);
	amf0_put_string(&amf, "clusterEvent");
	amf0_put_number(&amf, 0);
	amf0_put_null(&amf);
	event_put_amf(ev, &amf);
	cluster_event_flood(cl, &amf, from_link);
	bytes_free(&amf);
}

/* Records, delivers if meant for us, and floods. Takes ev's payload. */
static void handle(struct cluster *cl, struct event_msg *ev, const void *from_link)
{
	const char *role = cl->members.m[0].role;
	flood(cl, ev, from_link);
	if (event_targets(ev, role, cl->host.name)) {
		struct cluster_event *slot;
		if (cl->nevents < CLUSTER_EVENTS_KEPT) {
			slot = &cl->events[cl->nevents++];
		} else {
			slot = &cl->events[cl->events_head];
			event_msg_free(&slot->ev);
			cl->events_head = (cl->events_head + 1) % CLUSTER_EVENTS_KEPT;
		}
		slot->received_ms = clock_wall_ms();
		slot->streams = deliver(cl, ev);
		cl->events_received++;
		char eid[160], efrom[160], etarget[64], eapp[160];
		log_info("cluster_event", "id=%s from=%s target=%s app=%s streams=%u",
		         log_escape(ev->id, eid, sizeof(eid)),
		         log_escape(ev->from, efrom, sizeof(efrom)),
		         log_escape(ev->target, etarget, sizeof(etarget)),
		         log_escape(ev->app, eapp, sizeof(eapp)), slot->streams);
		slot->ev = *ev; /* takes the payload */
		return;
	}
	event_msg_free(ev);
}

int cluster_event_post(struct cluster *cl, const char *body, size_t len, char id[33],
                       char *err, size_t err_size)
{
	if (!cl->enabled) {
		snprintf(err, err_size, "clustering is off on this node");
		return -1;
	}
	struct event_msg ev;
	if (event_parse_request(body, len, &ev, err, err_size) < 0)
		return -1;
	uint8_t raw[16];
	random_bytes(raw, sizeof(raw));
	hex_encode(raw, sizeof(raw), ev.id);
	snprintf(ev.from, sizeof(ev.from), "%s", cl->host.name);
	event_sign(cl->host.cfg->secret, &ev, ev.sig);
	snprintf(id, 33, "%s", ev.id);
	seen(cl, ev.id);
	handle(cl, &ev, NULL);
	return 0;
}

void cluster_event_receive(struct cluster *cl, const struct amf0_value *obj, const void *from_link)
{
	struct event_msg ev;
	if (event_from_amf(obj, &ev) < 0) {
		log_info("cluster_event_refused", "reason=\"malformed\"");
		return;
	}
	if (!event_sig_ok(cl->host.cfg->secret, &ev)) {
		char eid[160], efrom[160]; /* unproven: whatever the link sent */
		log_throttled(LOG_WARN, "cluster_event_refused", "id=%s from=%s reason=\"bad "
		              "signature\"", log_escape(ev.id, eid, sizeof(eid)),
		              log_escape(ev.from, efrom, sizeof(efrom)));
		event_msg_free(&ev);
		return;
	}
	if (seen(cl, ev.id)) {
		event_msg_free(&ev);
		return;
	}
	handle(cl, &ev, from_link);
}

json_t *cluster_events_json(struct cluster *cl)
{
	json_t *arr = json_array();
	for (unsigned k = 0; k < cl->nevents; k++) {
		const struct cluster_event *e = &cl->events[(cl->events_head + k) % CLUSTER_EVENTS_KEPT];
		if (cl->nevents < CLUSTER_EVENTS_KEPT)
			e = &cl->events[k];
		json_error_t jerr;
		json_t *payload = json_loads(e->ev.payload, JSON_DECODE_ANY, &jerr);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s?, s:s, s:o?, s:I, s:i}",
		                      "id", e->ev.id, "from", e->ev.from, "target", e->ev.target,
		                      "nodes", e->ev.nodes[0] ? e->ev.nodes : NULL, "app", e->ev.app,
		                      "payload", payload, "received_ms", (json_int_t)e->received_ms,
		                      "streams", (int)e->streams));
	}
	return arr;
}
