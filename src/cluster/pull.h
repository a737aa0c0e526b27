/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pull.h - one stream an edge or relay pulls from its upstreams.
 *
 * The pull owns the local stream as its publisher.  It plays the stream from
 * the first upstream that has it; when that upstream dies, freezes or loses
 * the stream it tries the others at once and then every retry interval,
 * while the local stream (and every viewer on it) stays.  Media from a new
 * upstream is restamped to continue after the last message viewers got, and
 * its sequence headers reach them in-band.  After `linger` with no upstream,
 * or `pull-idle` with no viewers, the pull ends its stream.
 */
#ifndef SLUICE_CLUSTER_PULL_H
#define SLUICE_CLUSTER_PULL_H

#include <jansson.h>
#include <stdint.h>

#include "core/list.h"
#include "media/stream.h"

struct cluster;
struct rtmp_client;

enum pull_state { PULL_WAITING, PULL_CONNECTING, PULL_PLAYING };

struct pull {
	struct list_node link;           /* cluster->pulls */
	struct cluster *cl;
	struct stream *s;                /* the local stream; a publisher's reference */
	char app[STREAM_NAME_MAX + 1];
	char name[STREAM_NAME_MAX + 1];
	enum pull_state state;
	struct rtmp_client *link_c;      /* NULL while waiting */
	unsigned up;                     /* index of the upstream tried or in use */
	uint64_t attempts;               /* links opened to upstreams, in all */
	unsigned tried;                  /* upstreams tried since the last success */
	unsigned not_found;              /* of those, how many said the stream is not there */
	uint32_t msid;
	uint64_t next_try_ms;
	uint64_t last_live_ms;           /* the last time an upstream was sending */
	uint64_t no_viewers_since;       /* 0 while it has viewers */
	uint64_t started_ms;
	int ever_played;
	/* restamping across upstreams */
	int have_out, rebase;
	uint32_t last_out_ts, offset;
	uint32_t max_pts;                /* latest presentation time sent (dts + composition) */
	uint32_t last_type_ts[3];        /* audio, video, data: each must keep rising */
	uint8_t have_type[3];
	uint64_t failovers;
	char upstream[300];              /* in use, for the API */
	char via[512];                   /* sent upstream: the request's path, this node last */
};

/* via: the nodes the request that started this pull came through (NULL for a viewer's). */
struct pull *pull_open(struct cluster *cl, const char *app, const char *name, struct stream *s,
                       const char *via);
void pull_tick(struct pull *p, uint64_t now_ms);
/* Ends the stream and frees the pull (its link closes in the background). */
void pull_free(struct pull *p, const char *why);
json_t *pull_to_json(const struct pull *p);

#endif
