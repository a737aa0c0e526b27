/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtsp_play.c - an RTSP viewer: the stream's messages, read back through a
 * fan-out tap (flv_tap.h), become RTP (H.264 per RFC 6184 mode 1, AAC per
 * RFC 3640 AAC-hbr) with this viewer's SSRCs and sequence numbers, sent
 * interleaved on its RTSP connection or as datagrams to its client ports.
 *
 * Over TCP, what libuv holds unsent is bounded by rtsp-viewer-buffer: past
 * it the tap stops reading, the backlog builds in the fan-out, and the
 * fan-out's lag rules skip the viewer to a keyframe or drop it.  Over UDP
 * nothing waits: a datagram the socket cannot take is lost, as on the way.
 *
 * Audio and video line up through the PLAY answer's RTP-Info: each track's
 * rtptime there is its RTP time for the same instant of the stream (where
 * the viewer starts).  We send no RTCP sender reports: ffmpeg re-bases a
 * track's timestamps on the first report of another track, which makes them
 * jump (docs/rtsp.md).
 */
#include <string.h>

#include "core/log.h"
#include "node/rtsp_server.h"
#include "proto/flv.h"
#include "proto/rtp.h"

static void send_rtp(struct rtsp_conn *c, int t, uint8_t *pkt, size_t n, int marker,
                     uint32_t rtp_ts, uint32_t ms)
{
	struct rtsp_track *tr = &c->track[t];
	rtp_write_simple(pkt, t == 0 ? RTSP_PT_H264 : RTSP_PT_AAC, marker, tr->seq++, rtp_ts,
	                 tr->ssrc);
	(void)ms;
	tr->sent_any = 1;
	tr->last_rtp_ts = rtp_ts;
	tr->packets++;
	tr->octets += (uint32_t)(n - RTP_HEADER_SIZE);
	rtsp_conn_send(c, t, 0, pkt, n);
}

static void on_video(struct rtsp_conn *c, uint32_t ts, const uint8_t *body, size_t len)
{
	struct flv_video fv;
	if (flv_parse_video(body, len, &fv) < 0 || fv.codec != FLV_CODEC_H264)
		return;
	if (fv.is_seq_header) {
		bytes_clear(&c->avc_rec);
		bytes_append(&c->avc_rec, fv.data, fv.len);
		c->has_avc = avc_parse_config(c->avc_rec.data, c->avc_rec.len, &c->avc) == 0;
		return;
	}
	if (!fv.is_frame || !c->has_avc || !c->track[0].setup || fv.len == 0 || c->paused)
		return;
	if (c->wait_key && fv.frame_type != FLV_FRAME_KEY)
		return;
	c->wait_key = 0;
	int64_t pts_ms = (int64_t)ts + fv.cts;
	uint32_t rtp_ts = c->track[0].ts_base + (uint32_t)(pts_ms * 90);
	(void)ts;
	struct h264_packer pk;
	h264_pack_init(&pk, fv.data, fv.len, c->avc.nal_length_size, NULL,
	               RTSP_RTP_MTU - RTP_HEADER_SIZE);
	uint8_t pkt[RTSP_RTP_MTU];
	int marker, n;
	while ((n = h264_pack_next(&pk, pkt + RTP_HEADER_SIZE, sizeof(pkt) - RTP_HEADER_SIZE,
	                           &marker)) > 0)
		send_rtp(c, 0, pkt, RTP_HEADER_SIZE + (size_t)n, marker, rtp_ts, (uint32_t)pts_ms);
}

static void on_audio(struct rtsp_conn *c, uint32_t ts, const uint8_t *body, size_t len)
{
	struct flv_audio fa;
	if (flv_parse_audio(body, len, &fa) < 0 || fa.codec != FLV_CODEC_AAC)
		return;
	struct rtsp_track *tr = &c->track[1];
	if (fa.is_seq_header) {
		c->has_aac = aac_parse_asc(fa.data, fa.len, &c->aac) == 0 && c->aac.sample_rate;
		if (c->has_aac && !tr->clock)
			tr->clock = c->aac.sample_rate;
		return;
	}
	if (!c->has_aac || !tr->setup || !tr->clock || c->paused)
		return;
	uint32_t rtp_ts = tr->ts_base + (uint32_t)((uint64_t)ts * tr->clock / 1000);
	uint8_t pkt[RTSP_RTP_MTU];
	int last = 0, n;
	for (unsigned frag = 0; !last &&
	     (n = aac_rtp_pack(fa.data, fa.len, frag, pkt + RTP_HEADER_SIZE,
	                       sizeof(pkt) - RTP_HEADER_SIZE, &last)) > 0; frag++)
		send_rtp(c, 1, pkt, RTP_HEADER_SIZE + (size_t)n, last, rtp_ts, ts);
}

static size_t unsent(struct rtsp_conn *c)
{
	return uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) + c->out.len;
}

static void on_tag(void *arg, uint8_t type, uint32_t ts, const uint8_t *body, size_t len)
{
	struct rtsp_conn *c = arg;
	if (c->closing)
		return;
	if (type == FLV_TAG_VIDEO)
		on_video(c, ts, body, len);
	else if (type == FLV_TAG_AUDIO)
		on_audio(c, ts, body, len);
	rtsp_conn_flush(c);
	if (!c->closing && unsent(c) > c->srv->n->cfg->rtsp_viewer_buffer && c->tap.reading) {
		c->srv->stats.viewer_pauses++;
		flv_tap_read(&c->tap, 0);
	}
}

static void on_fail(void *arg, const char *reason)
{
	rtsp_conn_close(arg, reason);
}

static void viewer_drop(struct fanout_viewer *v, const char *reason)
{
	struct rtsp_conn *c = v->owner;
	log_info("viewer_dropped", "client=%llu peer=%s protocol=rtsp app=%s stream=%s "
	         "reason=\"%s\" skips=%llu", (unsigned long long)c->base.id, c->base.peer, c->app,
	         c->name, reason, (unsigned long long)v->skips);
	rtsp_conn_close(c, reason);
}

static void viewer_end(struct fanout_viewer *v)
{
	struct rtsp_conn *c = v->owner;
	/* RTCP BYE on each track says the stream is over (RFC 3550 6.6). */
	for (int t = 0; t < RTSP_TRACKS; t++) {
		if (!c->track[t].setup || !c->track[t].sent_any)
			continue;
		uint8_t bye[8] = { 0x81, 203, 0, 1 };
		wr_u32be(bye + 4, c->track[t].ssrc);
		rtsp_conn_send(c, t, 1, bye, sizeof(bye));
	}
	rtsp_conn_flush(c);
	rtsp_conn_close(c, "stream ended");
}

static const struct fanout_viewer_ops rtsp_viewer_ops = { viewer_drop, viewer_end };

/* The stream time a new viewer starts at: its cached keyframe's, or now. */
static uint32_t start_ts(const struct fanout *f)
{
	if (f->has_gop && f->gop_seq >= f->first_seq && f->gop_seq < f->next_seq &&
	    f->ring[f->gop_seq & f->mask])
		return f->ring[f->gop_seq & f->mask]->ts;
	return f->last_ts;
}

int rtsp_play_start(struct rtsp_conn *c, struct stream *s, struct bytes *rtp_info,
                    const char *base)
{
	struct fanout *f = &s->fanout;
	struct rtsp_track *tr = &c->track[1];
	struct flv_audio fa;
	struct aac_config ac;
	if (f->hdr[FANOUT_HDR_AUDIO] &&
	    flv_parse_audio(f->hdr[FANOUT_HDR_AUDIO]->body->data, f->hdr[FANOUT_HDR_AUDIO]->body->len,
	                    &fa) == 0 && fa.codec == FLV_CODEC_AAC && fa.is_seq_header &&
	    aac_parse_asc(fa.data, fa.len, &ac) == 0 && ac.sample_rate)
		tr->clock = ac.sample_rate;
	uint32_t t0 = start_ts(f);
	bytes_put_str(rtp_info, "RTP-Info: ");
	int n = 0;
	for (int t = 0; t < RTSP_TRACKS; t++) {
		tr = &c->track[t];
		if (!tr->setup || !tr->clock)
			continue;
		bytes_printf(rtp_info, "%surl=%strackID=%d;seq=%u;rtptime=%u", n++ ? "," : "", base, t,
		             tr->seq, tr->ts_base + (uint32_t)((uint64_t)t0 * tr->clock / 1000));
	}
	bytes_put_str(rtp_info, "\r\n");
	if (!n)
		bytes_clear(rtp_info);
	if (c->track[0].tcp || c->track[1].tcp) {
		/* What the kernel holds for the viewer is bounded too, so a stalled one is seen
		 * (and skipped or dropped) in seconds, not after megabytes of autotuned buffer. */
		int sz = (int)c->srv->n->cfg->rtsp_viewer_buffer;
		uv_send_buffer_size((uv_handle_t *)&c->tcp, &sz);
	}
	c->stream = stream_ref(s);
	if (flv_tap_start(&c->tap, s, &rtsp_viewer_ops, c, on_tag, on_fail, c) < 0) {
		stream_unref(c->stream);
		c->stream = NULL;
		return -1;
	}
	c->tap_started = 1;
	s->rtsp_viewers++;
	return 0;
}

void rtsp_play_drained(struct rtsp_conn *c)
{
	if (c->tap_started && !c->tap.reading &&
	    unsent(c) <= c->srv->n->cfg->rtsp_viewer_buffer / 2)
		flv_tap_read(&c->tap, 1);
}

void rtsp_play_stop(struct rtsp_conn *c, void (*done)(void *arg))
{
	struct stream *st = c->stream;
	c->stream = NULL;
	if (c->tap_started && st && st->rtsp_viewers)
		st->rtsp_viewers--;
	c->tap_started = 0;
	/* The viewer leaves the fan-out before the stream may go; done() may free c at once. */
	flv_tap_close(&c->tap, done, c);
	if (st)
		stream_unref(st);
}
