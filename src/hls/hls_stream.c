/* SPDX-License-Identifier: Apache-2.0 */
/* hls_stream.c - the per-stream HLS segmenter (see hls_stream.h). */
#include "hls/hls_stream.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "proto/flv.h"

/* Timestamp steps outside these bounds are a broken timeline, not jitter. */
#define JUMP_BACK_MS 3000
#define JUMP_AHEAD_MS 10000
#define CUT_EARLY_MS 100

void hls_stream_init(struct hls_stream *h, const struct hls_config *cfg, uint64_t first_msn)
{
	memset(h, 0, sizeof(*h));
	h->cfg = *cfg;
	if (h->cfg.window < 1)
		h->cfg.window = 1;
	if (h->cfg.window > HLS_WINDOW_MAX)
		h->cfg.window = HLS_WINDOW_MAX;
	if (!h->cfg.max_bytes)
		h->cfg.max_bytes = HLS_BYTES_DEFAULT;
	h->nslots = h->cfg.window + HLS_SEGMENTS_BEHIND + 1;
	h->ring = xcalloc(h->nslots, sizeof(*h->ring));
	h->first_msn = h->next_msn = first_msn;
	bytes_init(&h->cur);
	ts_mux_init(&h->ts, 1, 1);
	fmp4_frag_init(&h->frag);
}

static struct hls_segment *slot(const struct hls_stream *h, uint64_t msn)
{
	return &h->ring[msn % h->nslots];
}

static void segment_clear(struct hls_stream *h, struct hls_segment *s)
{
	for (unsigned i = 0; i < s->nparts; i++)
		rbuf_unref(s->parts[i].data);
	h->bytes_held -= s->bytes;
	memset(s, 0, sizeof(*s));
}

void hls_stream_free(struct hls_stream *h)
{
	for (uint64_t m = h->first_msn; m < h->next_msn; m++)
		segment_clear(h, slot(h, m));
	free(h->ring);
	bytes_free(&h->cur);
	fmp4_frag_free(&h->frag);
	for (unsigned i = 0; i < HLS_INITS_HELD; i++)
		if (h->inits[i].data)
			rbuf_unref(h->inits[i].data);
	if (h->avc_body)
		rbuf_unref(h->avc_body);
	if (h->asc_body)
		rbuf_unref(h->asc_body);
	memset(h, 0, sizeof(*h));
}

const struct hls_segment *hls_stream_segment(const struct hls_stream *h, uint64_t msn)
{
	if (msn < h->first_msn || msn >= h->next_msn)
		return NULL;
	return slot(h, msn);
}

const struct hls_segment *hls_stream_open_segment(const struct hls_stream *h)
{
	return h->open ? slot(h, h->next_msn - 1) : NULL;
}

const struct rbuf *hls_stream_init_segment(const struct hls_stream *h, uint32_t id)
{
	for (unsigned i = 0; id && i < HLS_INITS_HELD; i++)
		if (h->inits[i].id == id)
			return h->inits[i].data;
	return NULL;
}

unsigned hls_stream_complete_count(const struct hls_stream *h)
{
	return (unsigned)(h->next_msn - h->first_msn) - (h->open ? 1u : 0u);
}

static void start_part(struct hls_stream *h, uint64_t ms, int independent)
{
	bytes_clear(&h->cur);
	if (h->cfg.fmp4)
		fmp4_frag_reset(&h->frag);
	else
		ts_mux_write_psi(&h->ts, &h->cur);
	h->part_start_ms = ms;
	h->part_independent = (uint8_t)independent;
}

static uint64_t clock90(uint64_t ms, int32_t cts)
{
	int64_t t = (int64_t)ms + HLS_TS_OFFSET_MS + cts;
	return t > 0 ? (uint64_t)t * 90 : 0;
}

/* Audio time in the audio track's timescale (its sample rate). */
static uint64_t audio_clock(const struct hls_stream *h, uint64_t ms)
{
	return (ms + HLS_TS_OFFSET_MS) * h->aac.sample_rate / 1000;
}

static void close_part(struct hls_stream *h, uint64_t end_ms)
{
	struct hls_segment *s = slot(h, h->next_msn - 1);
	/* The part's last video frame lasts until the cut; its last AAC frame as long as the
	 * frame before it (audio frames straddle cuts). */
	if (h->cfg.fmp4)
		fmp4_frag_write(&h->frag, ++h->frag_seq, clock90(end_ms, 0), 0, &h->cur);
	struct hls_part *p = &s->parts[s->nparts++];
	p->data = rbuf_from(h->cur.data, h->cur.len);
	p->dur_ms = end_ms > h->part_start_ms ? (uint32_t)(end_ms - h->part_start_ms) : 0;
	p->independent = h->part_independent;
	s->bytes += h->cur.len;
	h->bytes_held += h->cur.len;
	bytes_clear(&h->cur);
	h->changes++;
}

static void update_max_dur(struct hls_stream *h)
{
	h->max_dur_ms = 0;
	for (uint64_t m = h->first_msn; m < h->next_msn; m++) {
		const struct hls_segment *s = slot(h, m);
		if (s->complete && s->dur_ms > h->max_dur_ms)
			h->max_dur_ms = s->dur_ms;
	}
}

static void close_segment(struct hls_stream *h, uint64_t end_ms)
{
	struct hls_segment *s = slot(h, h->next_msn - 1);
	close_part(h, end_ms);
	s->dur_ms = end_ms > s->start_ms ? (uint32_t)(end_ms - s->start_ms) : 0;
	s->complete = 1;
	h->open = 0;
	update_max_dur(h);
}

/* The init for the current configuration: the newest one if it is the same, else a new one. */
static uint32_t current_init(struct hls_stream *h)
{
	struct fmp4_tracks t = {
		.has_video = h->have_avc, .has_audio = h->have_aac,
		.avcc = h->avc_body ? h->avc_body->data : NULL,
		.avcc_len = h->avc_body ? h->avc_body->len : 0, .avc = &h->avc,
		.asc = h->asc_body ? h->asc_body->data : NULL,
		.asc_len = h->asc_body ? h->asc_body->len : 0, .aac = &h->aac,
	};
	struct bytes b;
	bytes_init(&b);
	if (fmp4_write_init(&t, &b) < 0) {
		bytes_free(&b);
		if (!h->init_refused)
			h->configs_refused++;
		h->init_refused = 1;
		return 0;
	}
	const struct rbuf *last = hls_stream_init_segment(h, h->init_id);
	if (last && last->len == b.len && memcmp(last->data, b.data, b.len) == 0) {
		bytes_free(&b);
		return h->init_id;
	}
	struct hls_init *slot_init = &h->inits[h->init_id % HLS_INITS_HELD];
	if (slot_init->data)
		rbuf_unref(slot_init->data);
	slot_init->id = ++h->init_id;
	slot_init->data = rbuf_from(b.data, b.len);
	bytes_free(&b);
	return h->init_id;
}

/* Forgets the oldest segment held. */
static void drop_oldest(struct hls_stream *h)
{
	struct hls_segment *old = slot(h, h->first_msn);
	if (old->discontinuity)
		h->disc_seq++;
	segment_clear(h, old);
	h->first_msn++;
	update_max_dur(h);
}

static void open_segment(struct hls_stream *h, uint64_t ms, uint64_t wall_ms)
{
	h->skip_to_key = 0;
	if (h->next_msn - h->first_msn == h->nslots)
		drop_oldest(h);
	struct hls_segment *s = slot(h, h->next_msn);
	memset(s, 0, sizeof(*s));
	s->msn = h->next_msn++;
	s->start_ms = ms;
	s->wall_ms = wall_ms;
	s->discontinuity = (uint8_t)h->pending_disc;
	h->pending_disc = 0;
	h->open = 1;
	h->ts.has_video = h->have_avc;
	h->ts.has_audio = h->have_aac;
	if (h->cfg.fmp4) {
		s->init_id = current_init(h);
		h->frag.nal_length_size = h->avc.nal_length_size ? h->avc.nal_length_size : 4;
	}
	start_part(h, ms, 1);
}

int hls_stream_discontinuity(struct hls_stream *h, int new_source)
{
	int done = 0;
	if (h->open) {
		uint64_t end = h->last_ms > h->part_start_ms ? h->last_ms : h->part_start_ms;
		close_segment(h, end + h->frame_ms);
		done = 1;
	}
	if (h->next_msn > h->first_msn)
		h->pending_disc = 1;
	h->have_ts = 0;
	h->frame_ms = 0;
	if (new_source) {
		h->have_avc = h->have_aac = 0;
		if (h->avc_body)
			rbuf_unref(h->avc_body);
		h->avc_body = NULL;
		if (h->asc_body)
			rbuf_unref(h->asc_body);
		h->asc_body = NULL;
	}
	return done;
}

/* The message's time on an unwrapped millisecond timeline; a jump breaks it. */
static uint64_t unwrap(struct hls_stream *h, uint32_t ts, int *changed)
{
	if (h->have_ts) {
		int64_t delta = (int64_t)ts - (int64_t)h->last_raw_ts;
		if (delta > INT32_MAX)
			delta -= (int64_t)1 << 32;
		else if (delta < INT32_MIN)
			delta += (int64_t)1 << 32;
		if (delta >= -JUMP_BACK_MS && delta <= JUMP_AHEAD_MS &&
		    (delta >= 0 || (uint64_t)-delta <= h->last_ms)) {
			h->last_raw_ts = ts;
			h->last_ms = (uint64_t)((int64_t)h->last_ms + delta);
			return h->last_ms;
		}
		*changed |= hls_stream_discontinuity(h, 0);
	}
	h->have_ts = 1;
	h->last_raw_ts = ts;
	h->last_ms = ts;
	return ts;
}

/* Cuts before a frame at ms: a new segment on a keyframe past the target, else maybe a part. */
static void cut(struct hls_stream *h, uint64_t ms, int key, uint64_t wall_ms)
{
	const struct hls_segment *s = slot(h, h->next_msn - 1);
	/* A little early is fine: a GOP of exactly the target must not make double segments. */
	if (key && ms + CUT_EARLY_MS >= s->start_ms + h->cfg.segment_ms) {
		close_segment(h, ms);
		open_segment(h, ms, wall_ms);
		return;
	}
	/* Close a part when this frame would take it past the target. */
	if (h->cfg.part_ms && s->nparts < HLS_MAX_PARTS - 1 && ms > h->part_start_ms &&
	    ms - h->part_start_ms + h->frame_ms > h->cfg.part_ms) {
		close_part(h, ms);
		start_part(h, ms, key);
	}
}

static int feed_video(struct hls_stream *h, uint32_t ts, const uint8_t *body, size_t len,
                      uint64_t wall_ms)
{
	struct flv_video fv;
	if (flv_parse_video(body, len, &fv) < 0 || fv.codec != FLV_CODEC_H264)
		return 0;
	if (fv.is_seq_header) {
		struct rbuf *copy = rbuf_from(fv.data, fv.len);
		struct avc_config cfg;
		if (avc_parse_config(copy->data, copy->len, &cfg) < 0) {
			rbuf_unref(copy);
			h->configs_refused++;
			return 0;
		}
		if (h->avc_body)
			rbuf_unref(h->avc_body);
		h->avc_body = copy;
		h->avc = cfg;
		h->have_avc = 1;
		h->init_refused = 0;
		return 0;
	}
	if (!fv.is_frame || !h->have_avc)
		return 0;
	int changed = 0;
	uint64_t ms = unwrap(h, ts, &changed);
	int key = fv.frame_type == FLV_FRAME_KEY;
	if (!h->open) {
		if (!key)
			return changed;
		open_segment(h, ms, wall_ms);
	} else {
		uint64_t before = h->changes;
		cut(h, ms, key, wall_ms);
		changed |= before != h->changes;
	}
	if (h->last_video_ms && ms > h->last_video_ms && ms - h->last_video_ms < 1000)
		h->frame_ms = (uint32_t)(ms - h->last_video_ms);
	h->last_video_ms = ms;
	if (h->cfg.fmp4) {
		if (fmp4_frag_add(&h->frag, FMP4_TRACK_VIDEO, fv.data, fv.len, clock90(ms, 0),
		                  fv.cts * 90, key) < 0)
			h->frames_dropped++;
		return changed;
	}
	struct bytes es;
	bytes_init(&es);
	if (ts_avcc_to_annexb(fv.data, fv.len, h->avc.nal_length_size, &h->avc, key, &es) == 0)
		ts_mux_write_pes(&h->ts, &h->cur, 1, es.data, es.len, clock90(ms, fv.cts),
		                 clock90(ms, 0), key);
	else
		h->frames_dropped++;
	bytes_free(&es);
	return changed;
}

static int feed_audio(struct hls_stream *h, uint32_t ts, const uint8_t *body, size_t len,
                      uint64_t wall_ms)
{
	struct flv_audio fa;
	if (flv_parse_audio(body, len, &fa) < 0 || fa.codec != FLV_CODEC_AAC)
		return 0;
	if (fa.is_seq_header) {
		struct aac_config c;
		if (aac_parse_asc(fa.data, fa.len, &c) == 0 && c.sample_rate) {
			h->aac = c;
			h->have_aac = 1;
			if (h->asc_body)
				rbuf_unref(h->asc_body);
			h->asc_body = rbuf_from(fa.data, fa.len);
			h->init_refused = 0;
		} else {
			h->configs_refused++;
		}
		return 0;
	}
	if (!h->have_aac || fa.len == 0)
		return 0;
	/* MPEG-TS carries AAC in ADTS, which cannot say every configuration (channel
	 * configuration 0, profiles over 3) or frames over 8 KB; fMP4 carries them as they are. */
	uint8_t adts[AAC_ADTS_HEADER_SIZE] = { 0 };
	if (!h->cfg.fmp4 && aac_write_adts(adts, &h->aac, fa.len) < 0) {
		h->frames_dropped++;
		return 0;
	}
	int changed = 0;
	uint64_t ms = unwrap(h, ts, &changed);
	if (!h->have_avc) {
		/* Audio only: every frame is a place to cut. */
		uint64_t before = h->changes;
		if (!h->open)
			open_segment(h, ms, wall_ms);
		else
			cut(h, ms, 1, wall_ms);
		changed |= before != h->changes;
	}
	if (!h->open)
		return changed;
	if (h->cfg.fmp4) {
		if (fmp4_frag_add(&h->frag, FMP4_TRACK_AUDIO, fa.data, fa.len, audio_clock(h, ms), 0,
		                  1) < 0)
			h->frames_dropped++;
		return changed;
	}
	struct bytes es;
	bytes_init(&es);
	bytes_append(&es, adts, sizeof(adts));
	bytes_append(&es, fa.data, fa.len);
	ts_mux_write_pes(&h->ts, &h->cur, 0, es.data, es.len, clock90(ms, 0), clock90(ms, 0), 0);
	bytes_free(&es);
	return changed;
}

/* The part being gathered: TS bytes written, or fMP4 samples (and their facts). */
static uint64_t open_part_bytes(const struct hls_stream *h)
{
	uint64_t n = h->cur.cap;
	if (h->cfg.fmp4)
		n += h->frag.video.data.cap + h->frag.audio.data.cap +
		     (h->frag.video.cap + h->frag.audio.cap) * sizeof(struct fmp4_sample);
	return n;
}

uint64_t hls_stream_bytes(const struct hls_stream *h)
{
	return h->bytes_held + open_part_bytes(h);
}

/*
 * Keeps the packager within max_bytes (see hls_stream.h): cuts a segment
 * grown past its share, then drops the oldest segments while over.
 * Returns 1 when a segment completed.
 */
static int bound_memory(struct hls_stream *h)
{
	int done = 0;
	if (h->open) {
		const struct hls_segment *s = slot(h, h->next_msn - 1);
		if (s->bytes + open_part_bytes(h) > h->cfg.max_bytes / HLS_SEGMENT_SHARE) {
			uint64_t end = h->last_ms > h->part_start_ms ? h->last_ms : h->part_start_ms;
			close_segment(h, end + h->frame_ms);
			h->pending_disc = 1;
			h->skip_to_key = 1;
			h->segments_cut++;
			/* What the open part's buffers grew to is given back, not kept for the next. */
			bytes_free(&h->cur);
			bytes_init(&h->cur);
			fmp4_frag_free(&h->frag);
			fmp4_frag_init(&h->frag);
			done = 1;
		}
	}
	while (hls_stream_bytes(h) > h->cfg.max_bytes && hls_stream_complete_count(h) > 0 &&
	       !(h->open && h->next_msn - h->first_msn == 1)) {
		drop_oldest(h);
		h->segments_evicted++;
	}
	return done;
}

/* After a cut, frames are dropped until a keyframe (any audio frame of audio-only). */
static int skipping(struct hls_stream *h, uint8_t type, const uint8_t *body, size_t len)
{
	if (!h->skip_to_key || (type != 8 && type != 9))
		return 0;
	if (type == 9) {
		struct flv_video fv;
		if (flv_parse_video(body, len, &fv) < 0 || !fv.is_frame || fv.frame_type == FLV_FRAME_KEY)
			return 0;
	} else if (!h->have_avc) {
		return 0;
	} else {
		struct flv_audio fa;
		if (flv_parse_audio(body, len, &fa) < 0 || fa.is_seq_header)
			return 0;
	}
	h->frames_dropped++;
	return 1;
}

int hls_stream_feed(struct hls_stream *h, uint8_t type, uint32_t ts, const uint8_t *body,
                    size_t len, uint64_t wall_ms)
{
	if (skipping(h, type, body, len))
		return 0;
	int changed = 0;
	if (type == 9)
		changed = feed_video(h, ts, body, len, wall_ms);
	else if (type == 8)
		changed = feed_audio(h, ts, body, len, wall_ms);
	return bound_memory(h) | changed;
}
