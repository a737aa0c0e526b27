/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hb_view.h - what a heartbeat answer tells an edge or relay about its group:
 * the group's origins ("host:port,..." as mgr_group_origins says) and where
 * each stream is published ({"app/stream": "host:port"}).  Both used to be
 * found by walking every node for every heartbeat, which made N heartbeats a
 * second cost N x N (docs/benchmarks.md, Manager tier).  Now one walk builds
 * every group's view, at most every HB_VIEW_MS; an answer may be that much
 * behind a change (a node learns of an origin within a second or two anyway).
 */
#ifndef SLUICE_MANAGER_HB_VIEW_H
#define SLUICE_MANAGER_HB_VIEW_H

#include <jansson.h>

#define HB_VIEW_MS 250
/* Streams an edge or relay is told the origin of; the rest are found by trying the
 * origins in turn. */
#define HB_VIEW_STREAMS_MAX 256

struct manager;

struct hb_view {
	char origins[512];     /* the group's origins that are not dead, in launch order */
	json_t *hints;         /* publishing streams of its alive or draining origins (owned) */
};

/* The group's view, built afresh if older than HB_VIEW_MS; never NULL (an unknown group
 * gets an empty one).  Valid until the next call. */
const struct hb_view *hb_view_get(struct manager *m, const char *group);
/* Frees every view (at exit). */
void hb_view_free(struct manager *m);

#endif
