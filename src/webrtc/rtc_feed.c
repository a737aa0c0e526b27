/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtc_feed.c - one stream's video as RTP, packetized once and shared.
 *
 * While a WebRTC session watches a stream, its feed sees every message the
 * stream appends (stream->on_media_rtc) and cuts each H.264 access unit into
 * RTP packets (proto/h264_rtp.c), each an rbuf with the feed's own sequence
 * numbers.  Those same blocks go to every session: per viewer only the
 * header's payload type, SSRC and sequence number are patched into a copy
 * that SRTP then encrypts (it encrypts in place, so a copy per send is the
 * least it needs).  The packets since the last keyframe are kept, so a new
 * viewer (or one that sent a PLI/FIR) starts on that keyframe at once; the
 * last RTP_HISTORY_DEFAULT_PACKETS answer NACKs.
 *
 * There is no per-viewer queue: a datagram the socket cannot take now is
 * dropped and that viewer waits for the next keyframe (counted as a skip),
 * so a slow viewer costs memory nothing and the others nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/mem.h"
#include "media/audio_tx.h"
#include "media/rtp_history.h"
#include "media/stream.h"
#include "proto/flv.h"
#include "proto/h264_rtp.h"
#include "proto/rtcp.h"
#include "proto/rtp.h"
#include "webrtc/rtc_internal.h"

#define PLI_MIN_INTERVAL_MS 500   /* a viewer's PLIs/FIRs are answered at most this often */
/* NACK retransmissions a viewer may cause in a second (2 Mbit/s video is ~230 packets a
 * second, so a viewer losing all of it is served): one small RTCP packet names hundreds of
 * packets, and without a bound one viewer could fill the shared socket for all. */
#define RTC_RTX_PER_SEC 400

struct rtc_feed {
	struct rtc_server *srv;
	struct stream *st;            /* a reference */
	char key[32];
	unsigned nsessions;           /* sessions holding the feed (any state) */
	struct list_node live;        /* sessions receiving media */
	unsigned nlive;
	uint16_t seq;                 /* next sequence number */
	struct rtp_history *hist;
	struct rbuf **gop;            /* packets since the last keyframe, oldest first */
	size_t ngop, gop_cap, gop_bytes;
	struct rbuf *avc_body;        /* the sequence header avc points into */
	struct avc_config avc;
	int have_avc;
	uint8_t payload[RTC_MTU];
	/* Audio: AAC -> Opus once for the stream, while the feed lives (that is, while anyone watches). */
	struct audio_tx *atx;
	int atx_failed;               /* the stream's AAC was refused: no audio for this feed */
	uint16_t aseq;
};

void rtc_stream_key(const struct stream *st, char *out, size_t n)
{
	snprintf(out, n, "%p", (const void *)st);
}

/* A WHIP publisher sends this stream Opus: its WebRTC viewers get that, not a transcode. */
static int opus_direct(const struct rtc_feed *f)
{
	struct rtc_ingest *g = strmap_get(&f->srv->publishers, f->key);
	return g && rtc_ingest_has_opus(g);
}

struct rtc_feed *rtc_feed_find(struct rtc_server *srv, const struct stream *st)
{
	char key[32];
	rtc_stream_key(st, key, sizeof(key));
	return strmap_get(&srv->feeds, key);
}

unsigned rtc_feed_viewers(const struct rtc_feed *f)
{
	return f->nsessions;
}

uint8_t rtc_feed_profile_idc(const struct rtc_feed *f)
{
	return f->have_avc ? f->avc.profile : f->st->avc_profile;
}

static void gop_clear(struct rtc_feed *f)
{
	for (size_t i = 0; i < f->ngop; i++)
		rbuf_unref(f->gop[i]);
	f->ngop = 0;
	f->gop_bytes = 0;
}

static void set_avc(struct rtc_feed *f, struct rbuf *body, const struct flv_video *fv)
{
	struct avc_config c;
	if (avc_parse_config(fv->data, fv->len, &c) != 0)
		return;
	if (f->avc_body)
		rbuf_unref(f->avc_body);
	f->avc_body = rbuf_ref(body);
	f->avc = c;
	f->have_avc = 1;
}

/* Sends one shared packet to s at feed sequence fseq. */
static void send_to(struct rtc_feed *f, struct rtc_session *s, struct rbuf *pkt)
{
	uint16_t fseq = rd_u16be(pkt->data + 2);
	if (rtc_send_rtp(s, &s->video, pkt->data, pkt->len, (uint16_t)(fseq - s->seq_delta),
	                 s->ts_delta) == -2) {
		s->wait_key = 1;
		f->srv->stats.skips++;
	}
}

/* Numbers s's video from feed sequence first on, following what it was sent before.  A NACK
 * is mapped with the current seq_delta, so it is answered only for sequences sent under it
 * (renum_seq..last_seq): an older one would name another packet, and sending that under the
 * same (SSRC, ROC, SEQ) reuses the SRTP keystream. */
static void renumber(struct rtc_session *s, uint16_t first)
{
	s->seq_delta = s->video.sent_any ? (uint16_t)(first - (uint16_t)(s->video.last_seq + 1)) : 0;
	s->renum_seq = (uint16_t)(first - s->seq_delta);
}

/* Starts s on the cached GOP, numbered to follow what it was sent before. */
static void start_on_gop(struct rtc_feed *f, struct rtc_session *s)
{
	if (f->ngop == 0) {
		s->wait_key = 1;
		return;
	}
	renumber(s, rd_u16be(f->gop[0]->data + 2));
	/* Time goes on too: the resent keyframe comes one frame (at 30/s) after the last sent. */
	s->ts_delta = s->video.sent_any ? s->video.last_rtp_ts + 3000 - rd_u32be(f->gop[0]->data + 4)
	                                : 0;
	s->wait_key = 0;
	for (size_t i = 0; i < f->ngop && !s->wait_key; i++)
		send_to(f, s, f->gop[i]);
}

static void on_video(struct rtc_feed *f, const struct media_msg *m)
{
	struct flv_video fv;
	if (flv_parse_video(m->body->data, m->body->len, &fv) != 0 || fv.codec != FLV_CODEC_H264)
		return;
	if (fv.is_seq_header) {
		set_avc(f, m->body, &fv);
		return;
	}
	if (!fv.is_frame || !f->have_avc || fv.len == 0)
		return;
	int key = h264_au_is_idr(fv.data, fv.len, f->avc.nal_length_size);
	if (key) {
		gop_clear(f);
		/* Viewers waiting for a keyframe join here, numbered without a gap. */
		struct list_node *pos;
		list_for_each(pos, &f->live) {
			struct rtc_session *s = list_entry(pos, struct rtc_session, feed_link);
			if (s->wait_key) {
				renumber(s, f->seq);
				s->wait_key = 0;
			}
		}
	}
	/* RTP carries presentation time: dts + composition offset, on the 90 kHz clock. */
	uint32_t ts = (uint32_t)(((int64_t)m->ts + fv.cts) * 90);
	struct h264_packer pk;
	h264_pack_init(&pk, fv.data, fv.len, f->avc.nal_length_size, &f->avc,
	               RTC_MTU - RTP_HEADER_SIZE - RTC_SRTP_OVERHEAD);
	int marker, n;
	while ((n = h264_pack_next(&pk, f->payload, sizeof(f->payload), &marker)) > 0) {
		struct rbuf *pkt = rbuf_new(RTP_HEADER_SIZE + (size_t)n);
		rtp_write_simple(pkt->data, 0, marker, f->seq++, ts, 0);
		memcpy(pkt->data + RTP_HEADER_SIZE, f->payload, (size_t)n);
		pkt->len = (uint32_t)(RTP_HEADER_SIZE + (size_t)n);
		rtp_history_put(f->hist, rd_u16be(pkt->data + 2), pkt);
		if (f->ngop < RTC_GOP_MAX_PACKETS && f->gop_bytes + pkt->len <= RTC_GOP_MAX_BYTES) {
			if (f->ngop == f->gop_cap) {
				f->gop_cap = f->gop_cap ? f->gop_cap * 2 : 256;
				f->gop = xrealloc(f->gop, f->gop_cap * sizeof(*f->gop));
			}
			f->gop[f->ngop++] = rbuf_ref(pkt);
			f->gop_bytes += pkt->len;
		}
		struct list_node *pos;
		list_for_each(pos, &f->live) {
			struct rtc_session *s = list_entry(pos, struct rtc_session, feed_link);
			if (!s->wait_key)
				send_to(f, s, pkt);
		}
		rbuf_unref(pkt);
	}
}

static void on_opus(void *ud, const uint8_t *opus, size_t n, uint32_t rtp_ts)
{
	struct rtc_feed *f = ud;
	if (n + RTP_HEADER_SIZE + RTC_SRTP_OVERHEAD > RTC_MTU)
		return;
	uint8_t pkt[RTC_MTU];
	rtp_write_simple(pkt, 0, 0, f->aseq, rtp_ts, 0);
	memcpy(pkt + RTP_HEADER_SIZE, opus, n);
	struct list_node *pos;
	list_for_each(pos, &f->live) {
		struct rtc_session *s = list_entry(pos, struct rtc_session, feed_link);
		if (s->audio_on)
			rtc_send_rtp(s, &s->audio, pkt, RTP_HEADER_SIZE + n, f->aseq, 0);
	}
	f->aseq++;
}

static void set_aac(struct rtc_feed *f, const struct media_msg *m)
{
	struct flv_audio fa;
	if (flv_parse_audio(m->body->data, m->body->len, &fa) != 0 || fa.codec != FLV_CODEC_AAC ||
	    !fa.is_seq_header || !audio_tx_available() || opus_direct(f))
		return;
	char err[200];
	struct audio_tx *t = audio_tx_new(fa.data, fa.len, 0, on_opus, f, err, sizeof(err));
	if (!t) {
		char ename[160];
		f->atx_failed = 1;
		log_warn("webrtc_audio_off", "stream=%s reason=\"%s\"",
		         log_escape(f->st->key, ename, sizeof(ename)), err);
		return;
	}
	if (f->atx)
		audio_tx_free(f->atx);
	f->atx = t;
}

static void on_audio(struct rtc_feed *f, const struct media_msg *m)
{
	if (m->flags & MSG_SEQ_HEADER) {
		set_aac(f, m);
		return;
	}
	struct flv_audio fa;
	if (!f->atx || f->nlive == 0 || flv_parse_audio(m->body->data, m->body->len, &fa) != 0 ||
	    fa.codec != FLV_CODEC_AAC || fa.is_seq_header)
		return;
	audio_tx_feed(f->atx, fa.data, fa.len, m->ts);
}

static void on_media(void *arg, const struct media_msg *m)
{
	struct rtc_feed *f = arg;
	if (m->type == 9)
		on_video(f, m);
	else if (m->type == 8)
		on_audio(f, m);
}

void rtc_feed_opus_in(struct rtc_server *srv, const struct stream *st, const uint8_t *opus,
                      size_t n, uint32_t rtp_ts)
{
	struct rtc_feed *f = rtc_feed_find(srv, st);
	if (!f || f->nlive == 0)
		return;
	if (f->atx) {
		/* The feed began before the publisher's first Opus packet: no transcode after all. */
		audio_tx_free(f->atx);
		f->atx = NULL;
	}
	on_opus(f, opus, n, rtp_ts);
	srv->istats.opus_passed++;
}

int rtc_feed_audio_possible(struct rtc_feed *f)
{
	if (opus_direct(f))
		return 1;
	if (!audio_tx_available() || f->atx_failed)
		return 0;
	return f->st->acodec == FLV_CODEC_AAC || f->st->acodec == FLV_CODEC_UNKNOWN;
}

struct rtc_feed *rtc_feed_get(struct rtc_server *srv, struct stream *st)
{
	struct rtc_feed *f = rtc_feed_find(srv, st);
	if (f) {
		st->rtc_viewers = ++f->nsessions;
		return f;
	}
	f = xcalloc(1, sizeof(*f));
	f->srv = srv;
	f->st = stream_ref(st);
	rtc_stream_key(st, f->key, sizeof(f->key));
	list_init(&f->live);
	f->nsessions = 1;
	st->rtc_viewers = 1;
	random_bytes(&f->seq, sizeof(f->seq));
	random_bytes(&f->aseq, sizeof(f->aseq));
	f->hist = rtp_history_new(0, 0);
	strmap_put(&srv->feeds, f->key, f);
	/* Catch up: the stream's video header and its cached GOP become our first packets. */
	struct fanout *fo = &st->fanout;
	if (fo->hdr[FANOUT_HDR_VIDEO])
		on_video(f, fo->hdr[FANOUT_HDR_VIDEO]);
	if (fo->hdr[FANOUT_HDR_AUDIO])
		set_aac(f, fo->hdr[FANOUT_HDR_AUDIO]);
	if (fo->has_gop && fo->gop_seq >= fo->first_seq)
		for (uint64_t q = fo->gop_seq; q < fo->next_seq; q++) {
			struct media_msg *m = fo->ring[q & fo->mask];
			if (m && m->type == 9)
				on_video(f, m);
		}
	st->on_media_rtc = on_media;
	st->on_media_rtc_arg = f;
	return f;
}

void rtc_feed_attach(struct rtc_feed *f, struct rtc_session *s)
{
	list_add_tail(&f->live, &s->feed_link);
	f->nlive++;
	s->last_sr_ms = 0;
	start_on_gop(f, s);
	/* No keyframe to start on, and a WHIP publisher that makes one when asked: ask. */
	struct rtc_ingest *g = f->ngop ? NULL : strmap_get(&f->srv->publishers, f->key);
	if (g)
		rtc_ingest_want_keyframe(g);
}

void rtc_feed_detach(struct rtc_feed *f, struct rtc_session *s)
{
	if (s && list_linked(&s->feed_link)) {
		list_del(&s->feed_link);
		f->nlive--;
	}
	if (s)
		s->feed = NULL;
	f->st->rtc_viewers = --f->nsessions;
	if (f->nsessions > 0)
		return;
	if (f->st->on_media_rtc_arg == f) {
		f->st->on_media_rtc = NULL;
		f->st->on_media_rtc_arg = NULL;
	}
	strmap_del(&f->srv->feeds, f->key);
	gop_clear(f);
	free(f->gop);
	rtp_history_free(f->hist);
	if (f->atx)
		audio_tx_free(f->atx);
	if (f->avc_body)
		rbuf_unref(f->avc_body);
	stream_unref(f->st);
	free(f);
}

/* RTCP from a viewer: NACKs resend from the history, PLI/FIR restart it on the keyframe. */
static void on_nack(void *ud, uint32_t sender_ssrc, uint32_t media_ssrc, const uint16_t *seqs,
                    size_t n)
{
	(void)sender_ssrc;
	struct rtc_session *s = ud;
	if (!s->feed || media_ssrc != s->video.ssrc)
		return;
	s->srv->stats.nacks += n;
	uint64_t now = uv_now(s->srv->loop);
	if (now - s->rtx_second_ms >= 1000) {
		s->rtx_second_ms = now;
		s->rtx_in_second = 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (s->rtx_in_second >= RTC_RTX_PER_SEC) {
			s->srv->stats.rtx_refused += n - i;
			break;
		}
		s->rtx_in_second++;
		if (!s->video.sent_any || !rtp_seq_in_range(seqs[i], s->renum_seq, s->video.last_seq)) {
			s->srv->stats.rtx_stale++;
			continue;
		}
		struct rbuf *pkt = rtp_history_get(s->feed->hist, (uint16_t)(seqs[i] + s->seq_delta));
		if (pkt && rtc_send_rtp(s, &s->video, pkt->data, pkt->len, seqs[i], s->ts_delta) == 0)
			s->srv->stats.retransmits++;
	}
}

static void restart(struct rtc_session *s)
{
	uint64_t now = uv_now(s->srv->loop);
	if (!s->feed || now - s->last_pli_ms < PLI_MIN_INTERVAL_MS)
		return;
	s->last_pli_ms = now;
	start_on_gop(s->feed, s);
}

static void on_pli(void *ud, uint32_t sender_ssrc, uint32_t media_ssrc)
{
	(void)sender_ssrc;
	struct rtc_session *s = ud;
	if (media_ssrc != s->video.ssrc)
		return;
	s->srv->stats.plis++;
	restart(s);
}

static void on_fir(void *ud, uint32_t sender_ssrc, uint32_t target_ssrc, uint8_t seq_nr)
{
	(void)sender_ssrc;
	(void)seq_nr;
	struct rtc_session *s = ud;
	if (target_ssrc != s->video.ssrc)
		return;
	s->srv->stats.firs++;
	restart(s);
}

void rtc_feed_on_rtcp(struct rtc_session *s, const uint8_t *p, size_t n)
{
	static const struct rtcp_handler h = {
		.nack = on_nack, .pli = on_pli, .fir = on_fir,
	};
	struct rtcp_stats st;
	rtcp_parse(p, n, &h, s, &st);
}

/* Sender reports, so players map RTP time to wall time (and sync audio with video). */
static void send_sr(struct rtc_session *s, const struct rtc_track *t)
{
	if (!t->sent_any)
		return;
	uint64_t now_us = clock_wall_ms() * 1000;
	/* The RTP time of "now": the last packet's, moved on by the time since it went. */
	uint64_t since = now_us > t->last_send_us ? now_us - t->last_send_us : 0;
	struct rtcp_sender_info si = {
		.ssrc = t->ssrc,
		.ntp = rtcp_ntp_from_unix_us(now_us),
		.rtp_ts = t->last_rtp_ts + (uint32_t)(since * t->clock / 1000000),
		.packets = t->packets,
		.octets = t->octets,
	};
	uint8_t buf[64];
	int n = rtcp_write_sr(buf, sizeof(buf), &si, NULL, 0);
	if (n > 0)
		rtc_send_rtcp(s, buf, (size_t)n);
}

void rtc_feed_tick(struct rtc_server *srv, uint64_t now_ms)
{
	size_t it = 0;
	const char *k;
	void *v;
	struct rtc_session *ended[64];
	size_t nended = 0;
	while (strmap_next(&srv->feeds, &it, &k, &v)) {
		struct rtc_feed *f = v;
		struct list_node *pos;
		list_for_each(pos, &f->live) {
			struct rtc_session *s = list_entry(pos, struct rtc_session, feed_link);
			if (now_ms - s->last_sr_ms >= srv->cfg.sr_interval_ms) {
				send_sr(s, &s->video);
				if (s->audio_on)
					send_sr(s, &s->audio);
				s->last_sr_ms = now_ms;
			}
		}
		if (!f->st->live) {
			/* The stream ended: every session of it goes (collected: ending frees the feed). */
			size_t it2 = 0;
			const char *k2;
			void *v2;
			while (strmap_next(&srv->by_id, &it2, &k2, &v2) && nended < 64) {
				struct rtc_session *s = v2;
				if (s->feed == f)
					ended[nended++] = s;
			}
		}
	}
	for (size_t i = 0; i < nended; i++)
		rtc_session_end(ended[i], "the stream ended");
}
