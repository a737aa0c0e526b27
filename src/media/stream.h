/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stream.h - live streams by app/name: who publishes each one, what its
 * media is (codecs, size, rate), and its fan-out buffer.
 *
 * The registry holds one reference to each live stream and viewers hold one
 * each, so a stream whose publisher left leaves the registry at once (its key
 * can be published again immediately) while its viewers are still being told
 * goodbye.
 */
#ifndef SLUICE_MEDIA_STREAM_H
#define SLUICE_MEDIA_STREAM_H

#include <stdint.h>
#include <uv.h>

#include "core/name.h"
#include "core/rbuf.h"
#include "core/strmap.h"
#include "media/fanout.h"
#include "proto/flv.h"


struct stream {
	uint32_t refs;
	char app[STREAM_NAME_MAX + 1];
	char name[STREAM_NAME_MAX + 1];
	char key[2 * STREAM_NAME_MAX + 2];   /* "app/name" */
	int live;                            /* in the registry */
	struct fanout fanout;

	uint64_t publisher_id;               /* connection id */
	char publisher_peer[64];
	uint64_t started_ms;                 /* wall clock */

	/* What the media is, as far as the headers tell. */
	enum flv_codec vcodec, acodec;
	uint32_t width, height;
	uint8_t avc_profile, avc_level;
	uint32_t sample_rate;
	uint8_t channels;
	double meta_fps;                     /* from onMetaData, 0 if absent */

	uint64_t bytes_in, msgs_in;
	uint64_t video_frames, keyframes;
	uint64_t rate_bytes_per_sec;         /* payload, over the last second */
	uint64_t rate_window_bytes;
	uint32_t last_ts;
	uint32_t cluster_viewers;            /* of the RTMP viewers, pulls by other nodes */

	/* HLS packaging (node/hls_http.c) sees each message as it is appended; NULL when off. */
	void (*on_media)(void *arg, const struct media_msg *m);
	void *on_media_arg;
	uint32_t hls_viewers;                /* HLS clients seen lately, while packaged */
	/* WebRTC packaging (webrtc/rtc_feed.c), the same way; NULL while no WebRTC viewer watches. */
	void (*on_media_rtc)(void *arg, const struct media_msg *m);
	void *on_media_rtc_arg;
	uint32_t rtc_viewers;                /* WebRTC sessions watching (they keep a pull alive) */
	uint32_t rtsp_viewers;               /* RTSP viewers: fan-out FLV viewers, counted apart */
};

struct stream_registry {
	uv_loop_t *loop;
	struct strmap map;                   /* key -> struct stream * */
	struct fanout_config fcfg;
	struct fanout_flusher flusher;       /* batches every stream's sends per loop turn */
	uint64_t published_total;
	size_t max_streams;                  /* live streams at once; 0: no limit */
};

void stream_registry_init(struct stream_registry *r, uv_loop_t *loop,
                          const struct fanout_config *fcfg);
/* Ends every stream (viewers are told) and empties the registry. */
void stream_registry_close(struct stream_registry *r);

/* A live stream, or NULL.  Borrowed: take stream_ref() to keep it. */
struct stream *stream_find(struct stream_registry *r, const char *app, const char *name);

/*
 * Starts a stream for a publisher.  Returns 0 with *out, a reference the
 * publisher owns (stream_unpublish, then stream_unref); the registry holds
 * its own while the stream is live.  SL_EEXIST if the key is live, SL_EFULL
 * when max_streams are live.
 */
int stream_publish(struct stream_registry *r, const char *app, const char *name,
                   uint64_t publisher_id, const char *peer, struct stream **out);

/* A data message of our own (a cluster event) for every viewer, in order with the media. */
void stream_inject_data(struct stream *s, struct rbuf *body);

/* A publisher's audio (8), video (9) or script data (18) message (takes body). */
void stream_media(struct stream *s, uint8_t type, uint32_t ts, struct rbuf *body);

/*
 * The publisher is gone, or the node is closing: the key is free now, viewers
 * are told, and later media is dropped.  Drops the registry's reference only.
 */
void stream_unpublish(struct stream_registry *r, struct stream *s);

static inline struct stream *stream_ref(struct stream *s)
{
	s->refs++;
	return s;
}

void stream_unref(struct stream *s);

/* Once a second: rates and viewer limits for every stream. */
void stream_registry_tick(struct stream_registry *r, uint64_t now_ms);

#endif
