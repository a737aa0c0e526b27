/* SPDX-License-Identifier: Apache-2.0 */
/* ts_flv.c - FLV-bodied H.264/AAC messages into MPEG-TS (see ts_flv.h). */
#include "hls/ts_flv.h"

#include <string.h>

#include "proto/flv.h"

void ts_flv_init(struct ts_flv *m)
{
	memset(m, 0, sizeof(*m));
	bytes_init(&m->avc_rec);
	ts_mux_init(&m->ts, 1, 1);
}

void ts_flv_free(struct ts_flv *m)
{
	bytes_free(&m->avc_rec);
	m->has_avc = 0;
}

static void mux_video(struct ts_flv *m, struct bytes *out, uint32_t ts, const uint8_t *body,
                      size_t len)
{
	struct flv_video fv;
	if (flv_parse_video(body, len, &fv) < 0 || fv.codec != FLV_CODEC_H264)
		return;
	if (fv.is_seq_header) {
		bytes_clear(&m->avc_rec);
		bytes_append(&m->avc_rec, fv.data, fv.len);
		m->has_avc = avc_parse_config(m->avc_rec.data, m->avc_rec.len, &m->avc) == 0;
		return;
	}
	if (!fv.is_frame || !m->has_avc)
		return;
	int key = fv.frame_type == FLV_FRAME_KEY;
	if (key || !m->psi_sent) {
		ts_mux_write_psi(&m->ts, out);
		m->psi_sent = 1;
	}
	struct bytes es;
	bytes_init(&es);
	if (ts_avcc_to_annexb(fv.data, fv.len, m->avc.nal_length_size, &m->avc, key, &es) == 0) {
		uint64_t dts = ((uint64_t)ts + TS_FLV_OFFSET_MS) * 90;
		int64_t pts = (int64_t)dts + (int64_t)fv.cts * 90;
		ts_mux_write_pes(&m->ts, out, 1, es.data, es.len, (uint64_t)(pts < 0 ? 0 : pts), dts,
		                 key);
	}
	bytes_free(&es);
}

static void mux_audio(struct ts_flv *m, struct bytes *out, uint32_t ts, const uint8_t *body,
                      size_t len)
{
	struct flv_audio fa;
	if (flv_parse_audio(body, len, &fa) < 0 || fa.codec != FLV_CODEC_AAC)
		return;
	if (fa.is_seq_header) {
		m->has_aac = aac_parse_asc(fa.data, fa.len, &m->aac) == 0;
		return;
	}
	uint8_t adts[AAC_ADTS_HEADER_SIZE];
	if (!m->has_aac || aac_write_adts(adts, &m->aac, fa.len) < 0)
		return;
	if (!m->psi_sent) {
		ts_mux_write_psi(&m->ts, out);
		m->psi_sent = 1;
	}
	struct bytes es;
	bytes_init(&es);
	bytes_append(&es, adts, sizeof(adts));
	bytes_append(&es, fa.data, fa.len);
	uint64_t t = ((uint64_t)ts + TS_FLV_OFFSET_MS) * 90;
	ts_mux_write_pes(&m->ts, out, 0, es.data, es.len, t, t, 0);
	bytes_free(&es);
}

void ts_flv_tag(struct ts_flv *m, struct bytes *out, uint8_t type, uint32_t ts,
                const uint8_t *body, size_t len)
{
	if (type == FLV_TAG_VIDEO)
		mux_video(m, out, ts, body, len);
	else if (type == FLV_TAG_AUDIO)
		mux_audio(m, out, ts, body, len);
}
