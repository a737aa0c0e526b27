/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lc_media.c - what sluice-load measures in each received message: frames,
 * first keyframe, stalls, and lag from the SEI stamp the publisher put in
 * the frame (see lc.h).  Also the stamp itself (the histogram: lc_hist.c).
 */
#include <string.h>

#include "bench/lc.h"
#include "core/mem.h"
#include "proto/flv.h"

/* Ours: 16 printable bytes, none of them 0 (so no emulation prevention is needed). */
const uint8_t lc_sei_uuid[LC_SEI_UUID_LEN] = {
	's', 'l', 'u', 'i', 'c', 'e', '-', 'l', 'o', 'a', 'd', '-', 'l', 'a', 'g', '!',
};

static uint32_t rd_len(const uint8_t *p, uint8_t size)
{
	uint32_t v = 0;
	for (uint8_t i = 0; i < size; i++)
		v = (v << 8) | p[i];
	return v;
}

static void wr_len(uint8_t *p, uint8_t size, uint32_t v)
{
	for (int i = size - 1; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static int is_avc_nalus(const uint8_t *body, size_t len)
{
	return len >= 5 && (body[0] & 0x0f) == 7 && body[1] == 1;
}

size_t lc_sei_stamp(const uint8_t *body, size_t len, uint8_t nal_len_size, uint64_t now_us,
                    uint8_t *out)
{
	if (!is_avc_nalus(body, len)) {
		memcpy(out, body, len);
		return len;
	}
	uint8_t *d = out;
	memcpy(d, body, 5);
	d += 5;
	wr_len(d, nal_len_size, LC_SEI_NAL_LEN);
	d += nal_len_size;
	*d++ = 0x06;                     /* nal_unit_type 6: SEI */
	*d++ = 5;                        /* payload type: user_data_unregistered */
	*d++ = LC_SEI_PAYLOAD_LEN;
	memcpy(d, lc_sei_uuid, LC_SEI_UUID_LEN);
	d += LC_SEI_UUID_LEN;
	static const char hex[] = "0123456789abcdef";
	for (int i = LC_SEI_STAMP_LEN - 1; i >= 0; i--) {
		d[i] = (uint8_t)hex[now_us & 15];
		now_us >>= 4;
	}
	d += LC_SEI_STAMP_LEN;
	*d++ = 0x80;                     /* rbsp_trailing_bits */
	memcpy(d, body + 5, len - 5);
	d += len - 5;
	return (size_t)(d - out);
}

static int parse_stamp(const uint8_t *p, uint64_t *out)
{
	uint64_t v = 0;
	for (int i = 0; i < LC_SEI_STAMP_LEN; i++) {
		uint8_t ch = p[i];
		int h;
		if (ch >= '0' && ch <= '9')
			h = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			h = ch - 'a' + 10;
		else
			return 0;
		v = (v << 4) | (uint64_t)h;
	}
	*out = v;
	return 1;
}

int lc_sei_find_nalus(const uint8_t *p, size_t len, uint8_t nal_len_size, uint64_t *stamp_us)
{
	if (nal_len_size < 1 || nal_len_size > 4)
		return 0;
	size_t off = 0;
	/* Ours is first; look at a few NALs in case a server put something before it. */
	for (int k = 0; k < 4 && off + nal_len_size <= len; k++) {
		uint32_t n = rd_len(p + off, nal_len_size);
		off += nal_len_size;
		if (n > len - off)
			return 0;
		const uint8_t *nal = p + off;
		if (n >= LC_SEI_NAL_LEN && (nal[0] & 0x1f) == 6 && nal[1] == 5 &&
		    nal[2] == LC_SEI_PAYLOAD_LEN && memcmp(nal + 3, lc_sei_uuid, LC_SEI_UUID_LEN) == 0)
			return parse_stamp(nal + 3 + LC_SEI_UUID_LEN, stamp_us);
		off += n;
	}
	return 0;
}

int lc_sei_find(const uint8_t *body, size_t len, uint8_t nal_len_size, uint64_t *stamp_us)
{
	if (!is_avc_nalus(body, len))
		return 0;
	return lc_sei_find_nalus(body + 5, len - 5, nal_len_size, stamp_us);
}

static void dump_tag(FILE *f, uint8_t type, uint32_t ts, const uint8_t *body, size_t len)
{
	uint8_t hdr[FLV_TAG_HEADER_SIZE], trailer[4];
	flv_write_tag_header(hdr, type, (uint32_t)len, ts);
	wr_u32be(trailer, (uint32_t)(FLV_TAG_HEADER_SIZE + len));
	fwrite(hdr, 1, sizeof(hdr), f);
	fwrite(body, 1, len, f);
	fwrite(trailer, 1, sizeof(trailer), f);
}

static void on_video(struct lc_client *c, uint32_t ts, const uint8_t *body, size_t len,
                     uint64_t now)
{
	struct flv_video v;
	if (flv_parse_video(body, len, &v) < 0)
		return;
	if (v.is_seq_header) {
		if (v.codec == FLV_CODEC_H264 && v.len >= 5)
			c->nal_len_size = (uint8_t)((v.data[4] & 3) + 1);
		return;
	}
	if (!v.is_frame)
		return;
	lc_on_video_frame(c, ts, v.frame_type == FLV_FRAME_KEY,
	                  is_avc_nalus(body, len) ? body + 5 : NULL, len >= 5 ? len - 5 : 0,
	                  c->nal_len_size, now);
}

void lc_on_video_frame(struct lc_client *c, uint32_t ts, int keyframe, const uint8_t *nalus,
                       size_t len, uint8_t nal_len_size, uint64_t now)
{
	struct lc_stats *st = &c->st;
	st->video_frames++;
	if (c->lc->measuring)
		st->window_frames++;
	if (!st->have_video_ts) {
		st->first_video_ts = ts;
		st->have_video_ts = 1;
	}
	st->last_video_ts = ts;
	if (keyframe) {
		st->keyframes++;
		if (st->ttff_us < 0)
			st->ttff_us = (int64_t)(now - st->connect_start_us);
	}
	uint64_t stall = c->lc->o.stall_ms * 1000;
	if (st->last_video_us && now - st->last_video_us > stall) {
		st->stalls++;
		st->stall_us += now - st->last_video_us - stall;
	}
	st->last_video_us = now;

	uint64_t stamp;
	if (!nalus || !lc_sei_find_nalus(nalus, len, nal_len_size, &stamp)) {
		st->frames_unstamped++;
		return;
	}
	if (stamp > now) {
		st->negative_lag++;
		return;
	}
	/* Frames sent before this viewer asked are the cache it chose to start on, not lag. */
	if (!c->lc->measuring || stamp < st->connect_start_us)
		return;
	uint64_t lag = now - stamp;
	lc_hist_add(&c->lc->lag, lag);
	st->lag_n++;
	st->lag_sum_us += (double)lag;
	st->lag_last_us = lag;
	if (lag > st->lag_max_us)
		st->lag_max_us = lag;
}

static void on_audio(struct lc_client *c, uint32_t ts, uint64_t now)
{
	struct lc *lc = c->lc;
	c->st.audio_frames++;
	if (!lc->measuring || !lc->have_pub)
		return;
	uint64_t sent;
	if (!lc_pub_audio_sent_at(&lc->pub, ts, &sent)) {
		lc->audio_unmatched++;
		return;
	}
	if (sent >= c->st.connect_start_us && sent <= now)
		lc_hist_add(&lc->audio_lag, now - sent);
}

void lc_on_tag(struct lc_client *c, uint8_t type, uint32_t ts, const uint8_t *body, size_t len)
{
	uint64_t now = lc_now_us();
	if (c->st.ttfb_us < 0)
		c->st.ttfb_us = (int64_t)(now - c->st.connect_start_us);
	if (c->dump)
		dump_tag(c->dump, type, ts, body, len);
	if (type == FLV_TAG_VIDEO) {
		on_video(c, ts, body, len, now);
	} else if (type == FLV_TAG_AUDIO) {
		struct flv_audio a;
		if (flv_parse_audio(body, len, &a) == 0 && !a.is_seq_header)
			on_audio(c, ts, now);
	}
}
