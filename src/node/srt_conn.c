/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srt_conn.c - what flows over an SRT connection once it is admitted.
 *
 * Publish: libsrt's messages (7 TS packets each) go through the MPEG-TS
 * demuxer, and each frame becomes the FLV body an RTMP publisher would
 * have sent (AVC sequence header / NALU, AAC sequence header / raw), so
 * everything downstream (RTMP, HTTP-FLV, HLS, cluster pulls) is unchanged.
 *
 * Play: a fan-out viewer read back tag by tag through a tap (flv_tap.h);
 * we mux each tag into TS (PAT/PMT at the start
 * and before each keyframe, so a player can join anywhere) and hand 1316-
 * byte messages to libsrt.  When libsrt's send buffer is full we stop
 * reading the tap, so the backlog builds in the fan-out's accounting
 * (lag skip, lag drop) like any slow viewer's, and what we hold ourselves
 * is capped by srt-viewer-buffer.
 */
/* libsrt first: its syslog.h names clash with core/log.h's levels, which win. */
#include <srt/srt.h>
#include <srt/access_control.h>
#undef LOG_DEBUG
#undef LOG_INFO

#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "node/srt_server.h"
#include "proto/flv.h"


/* ---- publish ---- */

static void put_u24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static void on_frame(void *arg, const struct mpegts_frame *f)
{
	struct srt_conn *c = arg;
	size_t hdr = (f->kind == MPEGTS_AVC_CONFIG || f->kind == MPEGTS_AVC_FRAME) ? 5 : 2;
	struct rbuf *b = rbuf_new(hdr + f->len);
	uint8_t *p = b->data;
	uint8_t type;
	switch (f->kind) {
	case MPEGTS_AVC_CONFIG:
	case MPEGTS_AVC_FRAME:
		type = FLV_TAG_VIDEO;
		p[0] = f->kind == MPEGTS_AVC_CONFIG || f->key ? 0x17 : 0x27;
		p[1] = f->kind == MPEGTS_AVC_CONFIG ? 0 : 1;
		put_u24(p + 2, f->kind == MPEGTS_AVC_CONFIG ? 0 : (uint32_t)f->cts_ms & 0xffffff);
		break;
	default:
		type = FLV_TAG_AUDIO;
		p[0] = 0xaf;   /* AAC; the rest of the byte is fixed for AAC by the FLV spec */
		p[1] = f->kind == MPEGTS_AAC_CONFIG ? 0 : 1;
		break;
	}
	memcpy(p + hdr, f->data, f->len);
	b->len = (uint32_t)(hdr + f->len);
	stream_media(c->stream, type, f->dts_ms, b);
}

void srt_conn_publish_start(struct srt_conn *c)
{
	mpegts_demux_init(&c->demux, (size_t)c->max_frame, on_frame, c);
}

int srt_conn_publish_read(struct srt_conn *c)
{
	char buf[SRT_READ_MAX];
	for (;;) {
		int r = srt_recvmsg(c->sock, buf, sizeof(buf));
		if (r <= 0) {
			if (r < 0 && srt_getlasterror(NULL) != SRT_EASYNCRCV) {
				srt_conn_close(c, "peer gone");
				return -1;
			}
			return 0;
		}
		c->base.bytes_in += (uint64_t)r;
		c->last_media_ms = uv_now(c->stream->fanout.loop);
		if (mpegts_demux_feed(&c->demux, (const uint8_t *)buf, (size_t)r) == SL_EUNSUPP) {
			srt_conn_stats(c)->unsupported++;
			char ename[160];
			log_throttled(LOG_INFO, "publish_refused", "client=%llu peer=%s protocol=srt "
			              "stream=%s reason=\"video codec not supported (HEVC or other): "
			              "send H.264\"", (unsigned long long)c->base.id, c->base.peer,
			              log_escape(c->name, ename, sizeof(ename)));
			srt_conn_close(c, "unsupported codec");
			return -1;
		}
	}
}

/* ---- play ---- */

static void viewer_drop(struct fanout_viewer *v, const char *reason)
{
	struct srt_conn *c = v->owner;
	log_info("viewer_dropped", "client=%llu peer=%s protocol=srt app=%s stream=%s "
	         "reason=\"%s\" skips=%llu", (unsigned long long)c->base.id, c->base.peer,
	         c->app, c->name, reason, (unsigned long long)v->skips);
	srt_conn_close(c, reason);
}

static void viewer_end(struct fanout_viewer *v)
{
	srt_conn_close(v->owner, "stream ended");
}

static const struct fanout_viewer_ops srt_viewer_ops = { viewer_drop, viewer_end };

static void on_tag(void *arg, uint8_t type, uint32_t ts, const uint8_t *body, size_t len)
{
	struct srt_conn *c = arg;
	if (c->closing)
		return;
	ts_flv_tag(&c->mux, &c->out, type, ts, body, len);
	srt_conn_play_flush(c);
}

static void on_tap_fail(void *arg, const char *reason)
{
	srt_conn_close(arg, reason);
}

int srt_conn_play_flush(struct srt_conn *c)
{
	if (c->closing)
		return -1;
	while (c->out_off < c->out.len) {
		size_t n = c->out.len - c->out_off;
		if (n > SRT_SEND_CHUNK)
			n = SRT_SEND_CHUNK;
		int r = srt_sendmsg2(c->sock, (const char *)c->out.data + c->out_off, (int)n, NULL);
		if (r < 0) {
			if (srt_getlasterror(NULL) == SRT_EASYNCSND)
				break;
			srt_conn_close(c, "peer gone");
			return -1;
		}
		c->out_off += n;
		c->base.bytes_out += n;
	}
	if (c->out_off == c->out.len) {
		bytes_clear(&c->out);
		c->out_off = 0;
	} else if (c->out_off > c->out.len / 2) {
		memmove(c->out.data, c->out.data + c->out_off, c->out.len - c->out_off);
		c->out.len -= c->out_off;
		c->out_off = 0;
	}
	size_t held = c->out.len - c->out_off;
	if (held > 2 * srt_viewer_buffer(c)) {
		/* Reading stops at srt-viewer-buffer; twice that means one message made it all. */
		srt_conn_stats(c)->viewer_overflows++;
		srt_conn_close(c, "srt-viewer-buffer");
		return -1;
	}
	srt_conn_want_out(c, held > 0);
	flv_tap_read(&c->tap, held < srt_viewer_buffer(c));
	return 0;
}

int srt_conn_play_start(struct srt_conn *c, struct stream *s)
{
	bytes_init(&c->out);
	ts_flv_init(&c->mux);
	if (flv_tap_start(&c->tap, s, &srt_viewer_ops, c, on_tag, on_tap_fail, c) < 0)
		return -1;
	c->stream = stream_ref(s);
	return 0;
}

static void tap_closed(void *arg)
{
	struct srt_conn *c = arg;
	c->on_done(c);
}

void srt_conn_media_close(struct srt_conn *c, void (*done)(struct srt_conn *c))
{
	if (c->publishing)
		mpegts_demux_free(&c->demux);
	struct stream *st = c->stream;
	c->stream = NULL;
	bytes_free(&c->out);
	ts_flv_free(&c->mux);
	/* The viewer leaves the fan-out before the stream may go; its memory must outlive an
	 * in-flight write: freed once the tap is closed (at once when it never started). */
	c->on_done = done;
	flv_tap_close(&c->tap, tap_closed, c);
	if (st)
		stream_unref(st);
}
