/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lc_publish.c - sluice-load's publisher: a prepared FLV file pushed over
 * RTMP at real time, looped, every video frame stamped with its send time.
 *
 * The file is read whole and split into tags once; on each pass after the
 * first, metadata and sequence headers are skipped and timestamps continue
 * where the previous pass ended, as a live encoder's would.
 */
#include <stdio.h>
#include <string.h>

#include "bench/lc.h"
#include "core/err.h"
#include "core/mem.h"
#include "proto/amf0.h"
#include "proto/flv.h"

#define PACE_MS 5

int lc_pub_load(struct lc_publisher *p, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return SL_EIO;
	struct bytes b;
	bytes_init(&b);
	uint8_t tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		bytes_append(&b, tmp, n);
	fclose(f);
	p->file = b.data;
	p->file_len = b.len;
	p->nal_len_size = 4;
	int a, v;
	int rc = flv_parse_file_header(b.data, b.len, &a, &v);
	if (rc < 0)
		return SL_EPROTO;
	size_t off = (size_t)rc, cap = 0;
	uint32_t last_video = 0, prev_video = 0;
	while (off < b.len) {
		struct flv_tag t;
		rc = flv_parse_tag(b.data + off, b.len - off, 16u << 20, &t);
		if (rc < 0)
			break; /* a truncated last tag ends the file */
		off += (size_t)rc;
		if (t.type != FLV_TAG_AUDIO && t.type != FLV_TAG_VIDEO && t.type != FLV_TAG_SCRIPT)
			continue;
		if (p->ntags == cap) {
			cap = cap ? cap * 2 : 1024;
			p->tags = xrealloc(p->tags, cap * sizeof(*p->tags));
		}
		p->tags[p->ntags++] = (struct lc_file_tag){ t.type, t.ts, t.body, t.size };
		if (t.type == FLV_TAG_VIDEO) {
			struct flv_video fv;
			if (flv_parse_video(t.body, t.size, &fv) < 0)
				continue;
			if (fv.is_seq_header && fv.codec == FLV_CODEC_H264 && fv.len >= 5) {
				p->nal_len_size = (uint8_t)((fv.data[4] & 3) + 1);
			} else if (fv.is_frame) {
				prev_video = last_video;
				last_video = t.ts;
			}
		}
	}
	if (p->ntags == 0)
		return SL_EPROTO;
	uint32_t frame = last_video > prev_video ? last_video - prev_video : 40;
	p->file_span_ms = p->tags[p->ntags - 1].ts - p->tags[0].ts + frame;
	return 0;
}

static int is_header(const struct lc_file_tag *t)
{
	if (t->type == FLV_TAG_SCRIPT)
		return 1;
	if (t->len >= 2 && t->type == FLV_TAG_VIDEO && (t->body[0] & 0x0f) == 7 && t->body[1] == 0)
		return 1;
	if (t->len >= 2 && t->type == FLV_TAG_AUDIO && (t->body[0] >> 4) == 10 && t->body[1] == 0)
		return 1;
	return 0;
}

/* Over SRT the tags go out as MPEG-TS, stamps and all; otherwise as RTMP messages. */
static void pub_send(struct lc_client *c, uint8_t type, uint32_t ts, const uint8_t *body,
                     size_t len)
{
	if (c->srt)
		lc_srt_send_media(c, type, ts, body, len);
	else
		lc_rtmp_send_media(c, type, ts, body, len);
}

static void send_tag(struct lc_publisher *p, const struct lc_file_tag *t, uint32_t ts)
{
	static struct bytes scratch;
	if (t->type == FLV_TAG_SCRIPT) {
		/* A file's onMetaData goes out as @setDataFrame, as encoders send it. */
		bytes_clear(&scratch);
		amf0_put_string(&scratch, "@setDataFrame");
		bytes_append(&scratch, t->body, t->len);
		pub_send(&p->c, t->type, ts, scratch.data, scratch.len);
		return;
	}
	if (t->type == FLV_TAG_VIDEO) {
		bytes_clear(&scratch);
		bytes_reserve(&scratch, t->len + 64);
		size_t n = lc_sei_stamp(t->body, t->len, p->nal_len_size, lc_now_us(), scratch.data);
		if (n != t->len)
			p->frames_sent++;
		pub_send(&p->c, t->type, ts, scratch.data, n);
		return;
	}
	if (t->type == FLV_TAG_AUDIO && !is_header(t)) {
		struct lc_sent *e = &p->audio_sent[p->naudio_sent++ % LC_AUDIO_SENT];
		e->ts = ts;
		e->us = lc_now_us();
	}
	pub_send(&p->c, t->type, ts, t->body, t->len);
}

int lc_pub_audio_sent_at(const struct lc_publisher *p, uint32_t ts, uint64_t *us)
{
	uint64_t lo = p->naudio_sent > LC_AUDIO_SENT ? p->naudio_sent - LC_AUDIO_SENT : 0;
	uint64_t hi = p->naudio_sent;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		const struct lc_sent *e = &p->audio_sent[mid % LC_AUDIO_SENT];
		if (e->ts == ts) {
			*us = e->us;
			return 1;
		}
		if (e->ts < ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static void pace_cb(uv_timer_t *timer)
{
	struct lc_publisher *p = timer->data;
	if (p->c.closed) {
		uv_timer_stop(timer);
		return;
	}
	uint64_t elapsed = (lc_now_us() - p->start_us) / 1000;
	uint32_t base = p->tags[0].ts;
	for (;;) {
		if (p->next == p->ntags) {
			p->next = 0;
			p->loop_offset_ms += p->file_span_ms;
		}
		const struct lc_file_tag *t = &p->tags[p->next];
		uint64_t due = p->loop_offset_ms + (t->ts - base);
		if (due > elapsed)
			break;
		if (p->loop_offset_ms == 0 || !is_header(t))
			send_tag(p, t, (uint32_t)due);
		p->next++;
	}
}

void lc_pub_start(struct lc *lc)
{
	struct lc_publisher *p = &lc->pub;
	if (p->started)
		return;
	p->started = 1;
	p->start_us = lc_now_us();
	uv_timer_init(lc->loop, &p->pace);
	p->pace.data = p;
	uv_timer_start(&p->pace, pace_cb, 0, PACE_MS);
}
