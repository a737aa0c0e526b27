/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtsp_publish.c - an RTSP publisher's RTP becomes the messages an RTMP
 * publisher makes: an AVC sequence header (the avcC rebuilt from the
 * ANNOUNCE's sprop-parameter-sets) and AVCC access units (RFC 6184
 * depacketizer, proto/h264_rtp.h); an AAC sequence header (the SDP's
 * config=) and raw AAC frames (RFC 3640, proto/aac_rtp.h).  So every viewer
 * protocol and every cluster pull serves it unchanged.
 *
 * Timestamps: each track's RTP time, unwrapped, in milliseconds from its
 * first packet, which is placed at its arrival time after the session's
 * first packet (so audio and video start together within network jitter).
 *
 * RTP carries presentation times only; decode times that rise come from
 * proto/rtp_dts.h (B-frames reordered up to RTP_DTS_MAX_DEPTH deep).
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "node/rtsp_server.h"
#include "proto/flv.h"
#include "proto/rtp.h"
#include "proto/rtp_dts.h"

struct rtsp_publish {
	int media[RTSP_TRACKS];        /* index of each track's m-line, -1 when none */
	uint8_t pt[RTSP_TRACKS];
	uint32_t clock[RTSP_TRACKS];
	uint8_t avcc[RTSP_SDP_AVCC_MAX];
	size_t avcc_len;
	int sent_avc;
	uint8_t asc[RTSP_SDP_ASC_MAX];
	size_t asc_len;
	int sent_aac;
	struct h264_depack vd;
	uint8_t *vbuf;                 /* RTSP_MAX_AU */
	struct aac_rtp_depack ad;
	uint8_t abuf[RTSP_MAX_AAC_AU];
	int started;
	uint64_t start_ms;             /* loop time of the session's first packet */
	struct rtp_dts dts;            /* decode times from RTP's presentation times */
	/* the packet being handled, for the audio callback */
	struct rtsp_conn *c;
	uint32_t pkt_ts;
	uint32_t pkt_ms;
};

int rtsp_publish_prepare(struct rtsp_conn *c, char *why, size_t n)
{
	struct rtsp_publish *p = xcalloc(1, sizeof(*p));
	p->media[0] = p->media[1] = -1;
	p->c = c;
	const char *problem = NULL;
	for (unsigned i = 0; i < c->sdp->nmedia; i++) {
		const struct rtsp_sdp_media *m = &c->sdp->media[i];
		if (m->video && m->codec == RTSP_CODEC_H264 && p->media[0] < 0) {
			int len = rtsp_sdp_h264_avcc(m->fmtp, p->avcc, sizeof(p->avcc));
			if (len == SL_EPROTO || len == SL_ELIMIT) {
				problem = "malformed sprop-parameter-sets";
				continue;
			}
			/* Without sprop-parameter-sets, the first SPS and PPS sent in-band (on_au). */
			p->avcc_len = len < 0 ? 0 : (size_t)len;
			p->media[0] = (int)i;
			p->pt[0] = m->pt;
			p->clock[0] = m->clock ? m->clock : 90000;
		} else if (m->audio && m->codec == RTSP_CODEC_AAC && p->media[1] < 0) {
			struct aac_rtp_params ap;
			int len = rtsp_sdp_aac_config(m->fmtp, p->asc, sizeof(p->asc), &ap);
			struct aac_config ac;
			if (len <= 0 || aac_parse_asc(p->asc, (size_t)len, &ac) < 0) {
				problem = "AAC needs mode=AAC-hbr and a valid config=";
				continue;
			}
			p->asc_len = (size_t)len;
			p->media[1] = (int)i;
			p->pt[1] = m->pt;
			p->clock[1] = m->clock ? m->clock : ac.sample_rate ? ac.sample_rate : 44100;
			aac_rtp_depack_init(&p->ad, &ap, p->abuf, sizeof(p->abuf));
		}
	}
	if (p->media[0] < 0 && p->media[1] < 0) {
		snprintf(why, n, "%s", problem ? problem : "publish H.264 and/or AAC (mpeg4-generic)");
		free(p);
		return -1;
	}
	rtp_dts_init(&p->dts, RTSP_REORDER_START);
	c->pub = p;
	return 0;
}

void rtsp_publish_begin(struct rtsp_conn *c)
{
	struct rtsp_publish *p = c->pub;
	/* Only now, past the publisher limits: an ANNOUNCE alone must not cost megabytes. */
	if (p->media[0] >= 0 && !p->vbuf) {
		p->vbuf = xmalloc(RTSP_MAX_AU);
		h264_depack_init(&p->vd, p->vbuf, RTSP_MAX_AU);
	}
}

int rtsp_publish_track_of(const struct rtsp_conn *c, unsigned media)
{
	if (!c->pub)
		return -1;
	for (int t = 0; t < RTSP_TRACKS; t++)
		if (c->pub->media[t] == (int)media)
			return t;
	return -1;
}

void rtsp_publish_free(struct rtsp_conn *c)
{
	if (!c->pub)
		return;
	free(c->pub->vbuf);
	free(c->pub);
	c->pub = NULL;
}

static void emit(struct rtsp_conn *c, uint8_t type, uint32_t ts, const uint8_t *hdr, size_t hn,
                 const uint8_t *data, size_t n)
{
	struct rbuf *b = rbuf_new(hn + n);
	memcpy(b->data, hdr, hn);
	memcpy(b->data + hn, data, n);
	b->len = (uint32_t)(hn + n);
	stream_media(c->stream, type, ts, b);
}

static void on_aac(void *arg, const uint8_t *frame, size_t n, uint32_t rtp_ts)
{
	struct rtsp_publish *p = arg;
	struct rtsp_conn *c = p->c;
	int64_t d = (int32_t)(rtp_ts - p->pkt_ts);
	int64_t ms = (int64_t)p->pkt_ms + d * 1000 / (int64_t)p->clock[1];
	uint32_t ts = ms < 0 ? 0 : (uint32_t)ms;
	if (!p->sent_aac) {
		static const uint8_t sh[2] = { 0xaf, 0 };
		emit(c, FLV_TAG_AUDIO, ts, sh, 2, p->asc, p->asc_len);
		p->sent_aac = 1;
	}
	static const uint8_t fh[2] = { 0xaf, 1 };
	emit(c, FLV_TAG_AUDIO, ts, fh, 2, frame, n);
}

/* A publisher whose SDP had no sprop-parameter-sets: the avcC from the first access unit
 * that carries an SPS and a PPS; 0 when this one did not. */
static int avcc_in_band(struct rtsp_publish *p)
{
	const uint8_t *sps = NULL, *pps = NULL;
	size_t sps_len = 0, pps_len = 0, pos = 0;
	const uint8_t *au = p->vd.buf;
	while (p->vd.len - pos >= 5) {
		size_t l = rd_u32be(au + pos);
		if (l == 0 || l > p->vd.len - pos - 4)
			break;
		const uint8_t *nal = au + pos + 4;
		if ((nal[0] & 0x1f) == H264_NAL_SPS && !sps) {
			sps = nal;
			sps_len = l;
		} else if ((nal[0] & 0x1f) == H264_NAL_PPS && !pps) {
			pps = nal;
			pps_len = l;
		}
		pos += 4 + l;
	}
	if (!sps || !pps)
		return 0;
	int n = avc_write_config(p->avcc, sizeof(p->avcc), &sps, &sps_len, 1, &pps, &pps_len, 1);
	if (n < 0)
		return 0;
	p->avcc_len = (size_t)n;
	return 1;
}

static void on_au(struct rtsp_publish *p, uint32_t pts)
{
	struct rtsp_conn *c = p->c;
	if (!p->avcc_len && !avcc_in_band(p)) {
		c->srv->stats.au_dropped++;     /* nothing can decode it yet */
		return;
	}
	if (!p->sent_avc) {
		static const uint8_t sh[5] = { 0x17, 0, 0, 0, 0 };
		emit(c, FLV_TAG_VIDEO, pts, sh, 5, p->avcc, p->avcc_len);
		p->sent_avc = 1;
	}
	uint32_t dts = rtp_dts_next(&p->dts, pts);
	int32_t cts = (int32_t)(pts - dts);
	uint8_t h[5] = { p->vd.keyframe ? 0x17 : 0x27, 1 };
	wr_u24be(h + 2, (uint32_t)cts & 0xffffff);
	emit(c, FLV_TAG_VIDEO, dts, h, 5, p->vd.buf, p->vd.len);
}

void rtsp_publish_rtp(struct rtsp_conn *c, int t, const uint8_t *pkt, size_t n)
{
	struct rtsp_publish *p = c->pub;
	struct rtsp_stats *st = &c->srv->stats;
	struct rtp_header h;
	if (!p || !c->stream || p->media[t] < 0 || (t == 0 && !p->vbuf))
		return;
	st->rtp_in++;
	if (rtp_parse(pkt, n, &h) < 0 || h.payload_type != p->pt[t]) {
		st->rtp_bad++;
		return;
	}
	uint64_t now = uv_now(c->srv->n->loop);
	c->last_media_ms = now;
	c->stream->bytes_in += h.payload_len;
	struct rtsp_track *tr = &c->track[t];
	if (!p->started) {
		p->started = 1;
		p->start_ms = now;
	}
	if (!tr->have_base) {
		tr->have_base = 1;
		tr->prev_rtp_ts = h.timestamp;
		tr->unwrapped = 0;
		/* RTP_DTS_MAX_DEPTH in: the first frames' decode times come before their own. */
		tr->base_ms = now - p->start_ms + RTP_DTS_MAX_DEPTH;
	}
	if (rtp_time_extend(&tr->unwrapped, &tr->prev_rtp_ts, h.timestamp, p->clock[t])) {
		st->ts_jumps++;
		log_limited(&c->srv->refuse_log, LOG_THROTTLE_PER_SEC, LOG_INFO, "rtsp_rtp_time_jump",
		            "client=%llu track=%d: over %d s at once, taken as a restart",
		            (unsigned long long)c->base.id, t, RTP_TIME_MAX_STEP_S);
	}
	int64_t ms = (int64_t)tr->base_ms + tr->unwrapped * 1000 / (int64_t)p->clock[t];
	p->pkt_ts = h.timestamp;
	p->pkt_ms = ms < 0 ? 0 : (uint32_t)ms;
	if (t == 1) {
		if (aac_rtp_depack_push(&p->ad, h.payload, h.payload_len, h.seq, h.timestamp, h.marker,
		                        on_aac, p) < 0)
			st->rtp_bad++;
		return;
	}
	uint64_t dropped = p->vd.dropped_units;
	int r = h264_depack_push(&p->vd, h.payload, h.payload_len, h.seq, h.timestamp, h.marker);
	st->au_dropped += p->vd.dropped_units - dropped;
	if (r < 0) {
		st->rtp_bad++;
		return;
	}
	if (r == 1) {
		int64_t d = (int32_t)(p->vd.ts - h.timestamp);
		int64_t au_ms = (int64_t)p->pkt_ms + d * 1000 / (int64_t)p->clock[0];
		on_au(p, au_ms < 0 ? 0 : (uint32_t)au_ms);
	}
}
