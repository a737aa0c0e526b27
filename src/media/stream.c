/* SPDX-License-Identifier: Apache-2.0 */
/* stream.c - the live stream registry and per-stream media facts (see stream.h). */
#include "media/stream.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "proto/aac.h"
#include "proto/amf0.h"
#include "proto/avc.h"

void stream_registry_init(struct stream_registry *r, uv_loop_t *loop,
                          const struct fanout_config *fcfg)
{
	memset(r, 0, sizeof(*r));
	r->loop = loop;
	r->fcfg = *fcfg;
	strmap_init(&r->map);
	fanout_flusher_init(&r->flusher, loop, &r->fcfg);
}

struct stream *stream_find(struct stream_registry *r, const char *app, const char *name)
{
	char key[2 * STREAM_NAME_MAX + 2];
	if (strlen(app) > STREAM_NAME_MAX || strlen(name) > STREAM_NAME_MAX)
		return NULL;
	snprintf(key, sizeof(key), "%s/%s", app, name);
	return strmap_get(&r->map, key);
}

int stream_publish(struct stream_registry *r, const char *app, const char *name,
                   uint64_t publisher_id, const char *peer, struct stream **out)
{
	if (!app_name_valid(app) || !stream_name_valid(name))
		return SL_EINVAL;
	if (stream_find(r, app, name))
		return SL_EEXIST;
	if (r->max_streams && r->map.count >= r->max_streams)
		return SL_EFULL;
	struct stream *s = xcalloc(1, sizeof(*s));
	s->refs = 2; /* the registry's, while live, and the publisher's */
	snprintf(s->app, sizeof(s->app), "%s", app);
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->key, sizeof(s->key), "%s/%s", app, name);
	s->live = 1;
	s->publisher_id = publisher_id;
	snprintf(s->publisher_peer, sizeof(s->publisher_peer), "%s", peer);
	s->started_ms = clock_wall_ms();
	fanout_init(&s->fanout, r->loop, &r->fcfg);
	fanout_set_flusher(&s->fanout, &r->flusher);
	strmap_put(&r->map, s->key, s);
	r->published_total++;
	*out = s;
	return 0;
}

void stream_unref(struct stream *s)
{
	if (--s->refs)
		return;
	fanout_free(&s->fanout);
	free(s);
}

void stream_unpublish(struct stream_registry *r, struct stream *s)
{
	if (!s->live)
		return;
	s->live = 0;
	strmap_del(&r->map, s->key);
	fanout_end(&s->fanout);
	stream_unref(s);
}

void stream_registry_close(struct stream_registry *r)
{
	/* Unpublishing changes the map: collect first. */
	size_t n = r->map.count, i = 0, it = 0;
	struct stream **all = xcalloc(n ? n : 1, sizeof(*all));
	void *v;
	while (strmap_next(&r->map, &it, NULL, &v))
		all[i++] = v;
	for (i = 0; i < n; i++)
		stream_unpublish(r, all[i]);
	free(all);
	strmap_free(&r->map);
	fanout_flusher_close(&r->flusher);
}

void stream_registry_tick(struct stream_registry *r, uint64_t now_ms)
{
	size_t it = 0;
	void *v;
	while (strmap_next(&r->map, &it, NULL, &v)) {
		struct stream *s = v;
		/* Smooth a little so one big keyframe does not swing the estimate. */
		s->rate_bytes_per_sec = (s->rate_bytes_per_sec + s->rate_window_bytes * 3) / 4;
		s->rate_window_bytes = 0;
		fanout_tick(&s->fanout, now_ms, s->rate_bytes_per_sec);
	}
}

static void note_video_config(struct stream *s, const struct flv_video *fv)
{
	s->vcodec = fv->codec;
	if (fv->codec != FLV_CODEC_H264)
		return;
	struct avc_config cfg;
	if (avc_parse_config(fv->data, fv->len, &cfg) == 0 && cfg.has_sps_info) {
		s->width = cfg.first_sps.width;
		s->height = cfg.first_sps.height;
		s->avc_profile = cfg.first_sps.profile_idc;
		s->avc_level = cfg.first_sps.level_idc;
	}
}

static void note_audio_config(struct stream *s, const struct flv_audio *fa)
{
	s->acodec = fa->codec;
	struct aac_config cfg;
	if (fa->codec == FLV_CODEC_AAC && aac_parse_asc(fa->data, fa->len, &cfg) == 0) {
		s->sample_rate = cfg.sample_rate;
		s->channels = cfg.channels;
	}
}

/* Facts from onMetaData, used until the sequence headers say otherwise. */
static void note_metadata(struct stream *s, const struct amf0_value *obj)
{
	double d;
	if (!s->width && amf0_num(amf0_get(obj, "width"), &d) == 0 && d > 0 && d < 65536)
		s->width = (uint32_t)d;
	if (!s->height && amf0_num(amf0_get(obj, "height"), &d) == 0 && d > 0 && d < 65536)
		s->height = (uint32_t)d;
	if (amf0_num(amf0_get(obj, "framerate"), &d) == 0 && d > 0 && d < 1000)
		s->meta_fps = d;
}

/*
 * Script data: "@setDataFrame", "onMetaData", {...} from a publisher is kept
 * as "onMetaData", {...} (what players expect) and becomes the stream's
 * metadata header; other data messages pass through to viewers.
 * Returns the message to append, or NULL when nothing should be.
 */
static struct media_msg *script_data(struct stream *s, uint32_t ts, struct rbuf *body)
{
	struct amf0_list l;
	static const struct amf0_limits lim = { 32, 4096 };
	if (amf0_decode(body->data, body->len, &lim, &l) < 0) {
		rbuf_unref(body);
		return NULL; /* not AMF0 we can read: viewers could not either */
	}
	const char *first = amf0_str(amf0_at(&l, 0));
	struct media_msg *m = NULL;
	if (first && strcmp(first, "@setDataFrame") == 0) {
		const char *second = amf0_str(amf0_at(&l, 1));
		/* The first value is 1 marker + 2 length + 13 bytes. */
		if (second && strcmp(second, "onMetaData") == 0 && body->data[0] == 0x02 &&
		    body->len > 16) {
			note_metadata(s, amf0_at(&l, 2));
			m = media_msg_new(18, ts, rbuf_from(body->data + 16, body->len - 16));
			m->flags = MSG_METADATA;
		}
		rbuf_unref(body);
	} else if (first && strcmp(first, "@clearDataFrame") == 0) {
		fanout_set_header(&s->fanout, FANOUT_HDR_METADATA, NULL);
		rbuf_unref(body);
	} else if (first && strcmp(first, "onMetaData") == 0) {
		note_metadata(s, amf0_at(&l, 1));
		m = media_msg_new(18, ts, body);
		m->flags = MSG_METADATA;
	} else {
		m = media_msg_new(18, ts, body);
	}
	amf0_list_free(&l);
	if (m && (m->flags & MSG_METADATA))
		fanout_set_header(&s->fanout, FANOUT_HDR_METADATA, media_msg_ref(m));
	return m;
}

void stream_inject_data(struct stream *s, struct rbuf *body)
{
	if (!s->live) {
		rbuf_unref(body);
		return;
	}
	fanout_append(&s->fanout, media_msg_new(18, s->last_ts, body));
}

void stream_media(struct stream *s, uint8_t type, uint32_t ts, struct rbuf *body)
{
	if (body->len == 0 || !s->live) {
		rbuf_unref(body);
		return;
	}
	s->bytes_in += body->len;
	s->rate_window_bytes += body->len;
	s->msgs_in++;
	s->last_ts = ts;

	struct media_msg *m = NULL;
	if (type == 9) {
		struct flv_video fv;
		m = media_msg_new(type, ts, body);
		if (flv_parse_video(body->data, body->len, &fv) == 0) {
			if (fv.is_seq_header) {
				m->flags |= MSG_SEQ_HEADER;
				note_video_config(s, &fv);
				fanout_set_header(&s->fanout, FANOUT_HDR_VIDEO, media_msg_ref(m));
			} else if (fv.is_frame) {
				s->video_frames++;
				if (fv.frame_type == FLV_FRAME_KEY) {
					m->flags |= MSG_KEYFRAME;
					s->keyframes++;
				}
			}
		}
	} else if (type == 8) {
		struct flv_audio fa;
		m = media_msg_new(type, ts, body);
		if (flv_parse_audio(body->data, body->len, &fa) == 0) {
			if (fa.is_seq_header) {
				m->flags |= MSG_SEQ_HEADER;
				note_audio_config(s, &fa);
				fanout_set_header(&s->fanout, FANOUT_HDR_AUDIO, media_msg_ref(m));
			} else {
				if (s->acodec == FLV_CODEC_UNKNOWN)
					s->acodec = fa.codec;
				/* In a stream without video every audio frame is a place to start. */
				if (!s->fanout.has_video)
					m->flags |= MSG_KEYFRAME;
			}
		}
	} else if (type == 18) {
		m = script_data(s, ts, body);
	} else {
		rbuf_unref(body);
	}
	if (m && s->on_media)
		s->on_media(s->on_media_arg, m);
	if (m && s->on_media_rtc)
		s->on_media_rtc(s->on_media_rtc_arg, m);
	if (m)
		fanout_append(&s->fanout, m);
}
