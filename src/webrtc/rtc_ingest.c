/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtc_ingest.c - the receive side of a WHIP (publishing) session.
 *
 * SRTP packets from the publisher are unprotected and sorted by payload
 * type into video (H.264, RFC 6184 mode 1) and audio (Opus).  Video goes
 * through a reorder buffer (media/rtp_jitter.c) that NACKs what is missing,
 * then the depacketizer (proto/h264_rtp.c) makes AVCC access units; SPS and
 * PPS become the AVC sequence header and leave the frames, so the stream
 * gets exactly the messages an RTMP publisher's would carry.  A frame lost
 * beyond repair stops video until the next keyframe, which a PLI asks for;
 * so do the start, and a keyframe older than keyframe_ms (browsers send
 * keyframes only when asked; HLS segments and new viewers need them).
 * Opus becomes AAC once per stream (media/audio_rx.c) where the build has
 * an AAC encoder.
 *
 * Timestamps: each track's RTP clock (90 kHz, 48 kHz) is unwrapped and
 * turned into milliseconds from the arrival of that track's first packet,
 * measured from the session's first media packet ("first-packet
 * alignment"): a browser captures audio and video together and sends both
 * over one path, so their first packets arrive within a few milliseconds
 * of each other.  Sender reports are read (their times go back in our
 * receiver reports) but not used to re-align.
 */
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "media/audio_rx.h"
#include "media/rtp_jitter.h"
#include "media/stream.h"
#include "proto/flv.h"
#include "proto/h264_rtp.h"
#include "proto/rtcp.h"
#include "proto/rtp.h"
#include "webrtc/rtc_internal.h"

#define INGEST_AU_MAX (4u * 1024 * 1024)  /* the largest access unit taken */
#define INGEST_PARAM_MAX 256              /* an SPS or PPS longer is refused */
#define INGEST_PLI_MIN_MS 500             /* at most one PLI this often */
#define INGEST_NACK_MIN_MS 20             /* at most one NACK packet this often */
#define INGEST_NACK_MAX 64                /* sequence numbers in one NACK packet */
#define INGEST_RR_MS 1000                 /* receiver reports */

/* What a receiver report says about one sender (RFC 3550 6.4.1, A.3). */
struct rx_track {
	uint32_t ssrc;
	int have_ssrc;
	int have_seq;
	uint16_t base_seq, max_seq;
	uint32_t cycles;
	uint64_t received, expected_prior, received_prior;
	uint32_t lsr;                 /* middle of the last SR's NTP time */
	uint64_t sr_at_ms;
	/* RTP time to stream milliseconds */
	int have_ts;
	uint32_t ref_ts;
	int64_t ref_ext;
	int64_t base_ms;
};

struct rtc_ingest {
	struct rtc_session *s;
	struct stream *st;
	const struct rtc_publish_ops *ops;
	void *arg;
	int video_pt, audio_pt;       /* -1 when not received */
	uint32_t our_ssrc;            /* of our RTCP */
	struct rx_track v, a;
	int have_epoch;
	uint64_t epoch_ms;

	struct rtp_jitter jit;
	struct h264_depack dp;
	uint8_t *au;                  /* the depacketizer's buffer */
	uint8_t sps[INGEST_PARAM_MAX], pps[INGEST_PARAM_MAX];
	size_t sps_len, pps_len;
	int config_dirty, config_sent;
	int need_key;
	uint64_t last_key_ms, last_pli_ms, last_nack_ms, last_rr_ms;
	uint16_t a_last_seq;
	int a_have_seq;
	struct audio_rx *arx;
	int aac_off;                  /* no AAC encoder: RTMP/FLV/HLS viewers get video only */
};

static struct rtc_ingest_stats *istats(struct rtc_ingest *g)
{
	return &g->s->srv->istats;
}

struct rtc_ingest *rtc_ingest_new(struct rtc_session *s, struct stream *st, int video_pt,
                                  int audio_pt, const struct rtc_publish_ops *ops, void *arg)
{
	struct rtc_ingest *g = xcalloc(1, sizeof(*g));
	g->s = s;
	g->st = st;
	g->ops = ops;
	g->arg = arg;
	g->video_pt = video_pt;
	g->audio_pt = audio_pt;
	g->need_key = 1;
	random_bytes(&g->our_ssrc, sizeof(g->our_ssrc));
	rtp_jitter_init(&g->jit, 0, 0);
	g->au = xmalloc(INGEST_AU_MAX);
	h264_depack_init(&g->dp, g->au, INGEST_AU_MAX);
	s->srv->istats.sessions_total++;
	/* Found by the stream's WebRTC feed: for the Opus as it is, and keyframes on demand. */
	char key[32];
	rtc_stream_key(st, key, sizeof(key));
	strmap_put(&s->srv->publishers, key, g);
	return g;
}

static void send_pli(struct rtc_ingest *g, uint64_t now)
{
	if (g->video_pt < 0 || !g->v.have_ssrc || now - g->last_pli_ms < INGEST_PLI_MIN_MS)
		return;
	uint8_t out[RTCP_PLI_SIZE];
	if (rtcp_write_pli(out, sizeof(out), g->our_ssrc, g->v.ssrc) > 0 &&
	    rtc_send_rtcp(g->s, out, sizeof(out)) == 0) {
		g->last_pli_ms = now;
		istats(g)->plis_sent++;
	}
}

/* RTP time ts of track t in stream milliseconds. */
static uint32_t track_ms(struct rtc_ingest *g, struct rx_track *t, uint32_t ts, uint32_t clock,
                         uint64_t now)
{
	if (!g->have_epoch) {
		g->have_epoch = 1;
		g->epoch_ms = now;
	}
	if (!t->have_ts) {
		t->have_ts = 1;
		t->ref_ts = ts;
		t->ref_ext = 0;
		t->base_ms = (int64_t)(now - g->epoch_ms);
	}
	if (rtp_time_extend(&t->ref_ext, &t->ref_ts, ts, clock)) {
		istats(g)->ts_jumps++;
		log_throttled(LOG_INFO, "whip_rtp_time_jump", "session=%s: over %d s at once, taken "
		              "as a restart", g->s->id, RTP_TIME_MAX_STEP_S);
	}
	int64_t ms = t->base_ms + t->ref_ext * 1000 / (int64_t)clock;
	return ms < 0 ? 0 : (uint32_t)ms;
}

static void track_seq(struct rx_track *t, uint16_t seq)
{
	if (!t->have_seq) {
		t->have_seq = 1;
		t->base_seq = t->max_seq = seq;
	} else if (rtp_seq_diff(seq, t->max_seq) > 0) {
		if (seq < t->max_seq)
			t->cycles += 65536;
		t->max_seq = seq;
	}
	t->received++;
}

static void put_u24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

/* Keeps a parameter set; 1 when it changed. */
static int keep_param(uint8_t *dst, size_t *dst_len, const uint8_t *nal, size_t n)
{
	if (n > INGEST_PARAM_MAX || (n == *dst_len && memcmp(dst, nal, n) == 0))
		return 0;
	memcpy(dst, nal, n);
	*dst_len = n;
	return 1;
}

/* One access unit (AVCC, 4-byte lengths) at RTP time ts: to the stream as FLV video. */
static void video_unit(struct rtc_ingest *g, const uint8_t *au, size_t n, uint32_t ts, int key,
                       uint64_t now)
{
	struct rbuf *b = rbuf_new(5 + n);
	uint8_t *out = b->data + 5;
	size_t k = 0;
	/* Parameter sets leave the frame for the sequence header; AUDs go (FLV needs none). */
	for (size_t pos = 0; pos + 4 <= n;) {
		uint32_t len = rd_u32be(au + pos);
		if (len == 0 || len > n - pos - 4)
			break;
		const uint8_t *nal = au + pos + 4;
		uint8_t type = nal[0] & 0x1f;
		if (type == H264_NAL_SPS)
			g->config_dirty |= keep_param(g->sps, &g->sps_len, nal, len);
		else if (type == H264_NAL_PPS)
			g->config_dirty |= keep_param(g->pps, &g->pps_len, nal, len);
		else if (type != H264_NAL_AUD) {
			memcpy(out + k, au + pos, 4 + (size_t)len);
			k += 4 + (size_t)len;
		}
		pos += 4 + (size_t)len;
	}
	uint32_t ms = track_ms(g, &g->v, ts, 90000, now);
	if (g->config_dirty && g->sps_len >= 4 && g->pps_len) {
		uint8_t rec[11 + 2 * INGEST_PARAM_MAX];
		const uint8_t *sps = g->sps, *pps = g->pps;
		int r = avc_write_config(rec, sizeof(rec), &sps, &g->sps_len, 1, &pps, &g->pps_len, 1);
		if (r > 0) {
			size_t rl = (size_t)r;
			struct rbuf *c = rbuf_new(5 + rl);
			c->data[0] = 0x17;
			c->data[1] = 0;
			put_u24(c->data + 2, 0);
			memcpy(c->data + 5, rec, rl);
			c->len = (uint32_t)(5 + rl);
			stream_media(g->st, FLV_TAG_VIDEO, ms, c);
			g->config_sent = 1;
			g->config_dirty = 0;
		}
	}
	if (k == 0 || !g->config_sent || (g->need_key && !key)) {
		/* Nothing a decoder could use yet: wait for a keyframe (asked for). */
		rbuf_unref(b);
		if (k && !key) {
			istats(g)->dropped_frames++;
			send_pli(g, now);
		}
		return;
	}
	if (key) {
		g->need_key = 0;
		g->last_key_ms = now;
		istats(g)->keyframes++;
	}
	b->data[0] = key ? 0x17 : 0x27;
	b->data[1] = 1;
	put_u24(b->data + 2, 0);      /* browsers send no B-frames: composition time 0 */
	b->len = (uint32_t)(5 + k);
	istats(g)->video_frames++;
	stream_media(g->st, FLV_TAG_VIDEO, ms, b);
}

static void video_drain(struct rtc_ingest *g, uint64_t now)
{
	struct rtp_jitter_pkt p;
	unsigned lost = 0;
	while (rtp_jitter_pop(&g->jit, now, &p, &lost) == 1) {
		uint64_t dropped = g->dp.dropped_units;
		int rc = h264_depack_push(&g->dp, p.payload, p.len, p.seq, p.ts, p.marker);
		free(p.payload);
		if (rc == 1)
			video_unit(g, g->dp.buf, g->dp.len, g->dp.ts, g->dp.keyframe, now);
		if (g->dp.dropped_units != dropped || rc < 0) {
			/* A frame is gone: the ones after it would decode wrong until a keyframe. */
			g->need_key = 1;
			istats(g)->dropped_frames++;
			send_pli(g, now);
		}
	}
	if (lost) {
		istats(g)->lost += lost;
		g->need_key = 1;
		send_pli(g, now);
	}
}

static void send_nacks(struct rtc_ingest *g, uint64_t now)
{
	if (now - g->last_nack_ms < INGEST_NACK_MIN_MS)
		return;
	uint16_t seqs[INGEST_NACK_MAX];
	size_t n = rtp_jitter_missing(&g->jit, now, seqs, INGEST_NACK_MAX);
	if (n == 0)
		return;
	uint8_t out[RTCP_HEADER_SIZE + 8 + 4 * INGEST_NACK_MAX];
	int len = rtcp_write_nack(out, sizeof(out), g->our_ssrc, g->v.ssrc, seqs, n);
	if (len > 0 && rtc_send_rtcp(g->s, out, (size_t)len) == 0) {
		g->last_nack_ms = now;
		istats(g)->nacks_sent += n;
	}
}

static void on_aac(void *ud, int config, const uint8_t *p, size_t n, uint32_t ms)
{
	struct rtc_ingest *g = ud;
	struct rbuf *b = rbuf_new(2 + n);
	b->data[0] = 0xaf;            /* AAC, 44 kHz, 16-bit, stereo: fixed for AAC by FLV */
	b->data[1] = config ? 0 : 1;
	memcpy(b->data + 2, p, n);
	b->len = (uint32_t)(2 + n);
	stream_media(g->st, FLV_TAG_AUDIO, ms, b);
}

static void audio_packet(struct rtc_ingest *g, const struct rtp_header *h, uint64_t now)
{
	/* Opus needs no reordering buffer of ours: a late packet is dropped, the decoder
	 * conceals the gap. */
	if (g->a_have_seq && rtp_seq_diff(h->seq, g->a_last_seq) <= 0)
		return;
	g->a_have_seq = 1;
	g->a_last_seq = h->seq;
	uint32_t ms = track_ms(g, &g->a, h->timestamp, 48000, now);
	istats(g)->audio_packets++;
	/* Passed through to WebRTC viewers on the stream's timeline: the same 48 kHz steps. */
	if (h->payload_len)
		rtc_feed_opus_in(g->s->srv, g->st, h->payload, h->payload_len,
		                 (uint32_t)(g->a.base_ms * 48 + g->a.ref_ext));
	if (!g->arx && !g->aac_off) {
		char err[200];
		g->arx = audio_rx_new(on_aac, g, err, sizeof(err));
		if (!g->arx) {
			g->aac_off = 1; /* tried once; WebRTC viewers still get the Opus */
			istats(g)->audio_off++;
			char eapp[160], ename[160];
			log_info("whip_audio_off", "session=%s app=%s stream=%s reason=\"%s\"", g->s->id,
			         log_escape(g->st->app, eapp, sizeof(eapp)),
			         log_escape(g->st->name, ename, sizeof(ename)), err);
			return;
		}
	}
	if (g->arx && h->payload_len)
		audio_rx_push(g->arx, h->payload, h->payload_len, ms);
}

void rtc_ingest_rtp(struct rtc_session *s, uint8_t *p, size_t n)
{
	struct rtc_ingest *g = s->ingest;
	struct rtc_server *srv = s->srv;
	if (n < 12)
		return;
	/* libsrtp keeps state per sender SSRC: a browser uses one per track (and one for
	 * RTX, not negotiated here), so a session that sends more is not followed. */
	uint32_t ssrc = rd_u32be(p + 8);
	unsigned k;
	for (k = 0; k < s->nrtp_ssrcs && s->rtp_ssrcs[k] != ssrc; k++)
		;
	if (k == s->nrtp_ssrcs && k == sizeof(s->rtp_ssrcs) / sizeof(s->rtp_ssrcs[0])) {
		srv->istats.refused_ssrcs++;
		return;
	}
	int len = (int)n;
	if (srtp_unprotect(s->srtp_in, p, &len) != srtp_err_status_ok)
		return;
	if (k == s->nrtp_ssrcs)
		s->rtp_ssrcs[s->nrtp_ssrcs++] = ssrc;
	struct rtp_header h;
	if (rtp_parse(p, (size_t)len, &h) != 0)
		return;
	uint64_t now = uv_now(srv->loop);
	srv->istats.packets_in++;
	srv->istats.bytes_in += (uint64_t)len;
	if (g->video_pt >= 0 && h.payload_type == g->video_pt) {
		if (!g->v.have_ssrc) {
			g->v.have_ssrc = 1;
			g->v.ssrc = h.ssrc;
		} else if (g->v.ssrc != h.ssrc) {
			return; /* one video source per session */
		}
		track_seq(&g->v, h.seq);
		uint64_t reordered = g->jit.reordered;
		if (rtp_jitter_push(&g->jit, h.seq, h.timestamp, h.marker, h.payload, h.payload_len,
		                    now) < 0)
			return;
		srv->istats.reordered += g->jit.reordered - reordered;
		if (g->need_key && !g->config_sent)
			send_pli(g, now);
		video_drain(g, now);
		send_nacks(g, now);
	} else if (g->audio_pt >= 0 && h.payload_type == g->audio_pt) {
		if (!g->a.have_ssrc) {
			g->a.have_ssrc = 1;
			g->a.ssrc = h.ssrc;
		} else if (g->a.ssrc != h.ssrc) {
			return;
		}
		track_seq(&g->a, h.seq);
		audio_packet(g, &h, now);
	}
}

static void on_sr(void *ud, const struct rtcp_sender_info *si)
{
	struct rtc_ingest *g = ud;
	struct rx_track *t = g->v.have_ssrc && si->ssrc == g->v.ssrc ? &g->v
	                   : g->a.have_ssrc && si->ssrc == g->a.ssrc ? &g->a : NULL;
	if (!t)
		return;
	t->lsr = rtcp_ntp_middle(si->ntp);
	t->sr_at_ms = uv_now(g->s->srv->loop);
}

void rtc_ingest_rtcp(struct rtc_session *s, const uint8_t *p, size_t n)
{
	/* Sender reports are what matters; NACK, PLI and the rest are not for a receiver. */
	static const struct rtcp_handler h = { .sender_report = on_sr };
	struct rtcp_stats st;
	rtcp_parse(p, n, &h, s->ingest, &st);
}

static size_t report_block(struct rx_track *t, uint64_t now, struct rtcp_report_block *rb)
{
	if (!t->have_ssrc || !t->have_seq)
		return 0;
	uint64_t ext_max = t->cycles + t->max_seq;
	uint64_t expected = ext_max - t->base_seq + 1;
	int64_t lost = (int64_t)expected - (int64_t)t->received;
	uint64_t exp_int = expected - t->expected_prior;
	uint64_t rcv_int = t->received - t->received_prior;
	t->expected_prior = expected;
	t->received_prior = t->received;
	int64_t lost_int = (int64_t)exp_int - (int64_t)rcv_int;
	memset(rb, 0, sizeof(*rb));
	rb->ssrc = t->ssrc;
	rb->fraction_lost = exp_int && lost_int > 0 ? (uint8_t)((lost_int << 8) / (int64_t)exp_int) : 0;
	if (lost > 0x7fffff)
		lost = 0x7fffff;
	if (lost < -0x800000)
		lost = -0x800000;
	rb->cumulative_lost = (int32_t)lost;
	rb->highest_seq = (uint32_t)ext_max;
	rb->jitter = 0;               /* interarrival jitter is not computed */
	rb->lsr = t->lsr;
	rb->dlsr = t->lsr ? (uint32_t)((now - t->sr_at_ms) * 65536 / 1000) : 0;
	return 1;
}

void rtc_ingest_tick(struct rtc_session *s, uint64_t now)
{
	struct rtc_ingest *g = s->ingest;
	if (s->state != RTC_MEDIA)
		return;
	/* A gap nobody filled times out here even when no packet arrives. */
	video_drain(g, now);
	send_nacks(g, now);
	if (g->config_sent && !g->need_key && s->srv->cfg.keyframe_ms &&
	    now - g->last_key_ms >= s->srv->cfg.keyframe_ms)
		send_pli(g, now);
	else if (g->need_key)
		send_pli(g, now);
	if (now - g->last_rr_ms >= INGEST_RR_MS) {
		struct rtcp_report_block rb[2];
		size_t nb = report_block(&g->v, now, &rb[0]);
		nb += report_block(&g->a, now, &rb[nb]);
		if (nb) {
			uint8_t out[RTCP_RR_SIZE + 2 * RTCP_REPORT_BLOCK_SIZE];
			int len = rtcp_write_rr(out, sizeof(out), g->our_ssrc, rb, nb);
			if (len > 0 && rtc_send_rtcp(s, out, (size_t)len) == 0)
				s->srv->istats.rrs_sent++;
		}
		g->last_rr_ms = now;
	}
}

int rtc_ingest_has_opus(const struct rtc_ingest *g)
{
	return g->audio_pt >= 0;
}

void rtc_ingest_want_keyframe(struct rtc_ingest *g)
{
	send_pli(g, uv_now(g->s->srv->loop));
}

void rtc_ingest_end(struct rtc_session *s, const char *reason)
{
	struct rtc_ingest *g = s->ingest;
	s->ingest = NULL;
	char key[32];
	rtc_stream_key(g->st, key, sizeof(key));
	if (strmap_get(&s->srv->publishers, key) == g)
		strmap_del(&s->srv->publishers, key);
	rtp_jitter_free(&g->jit);
	free(g->au);
	audio_rx_free(g->arx);
	if (g->ops && g->ops->ended)
		g->ops->ended(g->arg, reason);
	free(g);
}

const struct rtc_ingest_stats *rtc_ingest_stats(const struct rtc_server *srv)
{
	return &srv->istats;
}
