/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srt_conn.c - what flows over an SRT connection once it is admitted.
 *
 * Publish: libsrt's messages (7 TS packets each) go through the MPEG-TS
 * demuxer, and each frame becomes the FLV body an RTMP publisher would
 * have sent (AVC sequence header / NALU, AAC sequence header / raw), so
 * everything downstream (RTMP, HTTP-FLV, HLS, cluster pulls) is unchanged.
 *
 * Play: the fan-out writes HTTP-FLV wire bytes (one chunk per tag) into a
 * socketpair; we read them back, mux each tag into TS (PAT/PMT at the start
 * and before each keyframe, so a player can join anywhere) and hand 1316-
 * byte messages to libsrt.  When libsrt's send buffer is full we stop
 * reading the pipe, so the backlog builds in the fan-out's accounting
 * (lag skip, lag drop) like any slow viewer's, and what we hold ourselves
 * is capped by srt-viewer-buffer.
 */
/* libsrt first: its syslog.h names clash with core/log.h's levels, which win. */
#include <srt/srt.h>
#include <srt/access_control.h>
#undef LOG_DEBUG
#undef LOG_INFO

#include <string.h>
#include <sys/socket.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "node/srt_server.h"
#include "proto/flv.h"

#define TS_OFFSET_MS 1000        /* added to every PTS/DTS so the PCR never goes negative */

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

static void mux_video(struct srt_conn *c, uint32_t ts, const uint8_t *body, size_t len)
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
	if (!fv.is_frame || !c->has_avc)
		return;
	int key = fv.frame_type == FLV_FRAME_KEY;
	if (key || !c->psi_sent) {
		ts_mux_write_psi(&c->ts, &c->out);
		c->psi_sent = 1;
	}
	struct bytes es;
	bytes_init(&es);
	if (ts_avcc_to_annexb(fv.data, fv.len, c->avc.nal_length_size, &c->avc, key, &es) == 0) {
		uint64_t dts = ((uint64_t)ts + TS_OFFSET_MS) * 90;
		int64_t pts = (int64_t)dts + (int64_t)fv.cts * 90;
		ts_mux_write_pes(&c->ts, &c->out, 1, es.data, es.len, (uint64_t)(pts < 0 ? 0 : pts),
		                 dts, key);
	}
	bytes_free(&es);
}

static void mux_audio(struct srt_conn *c, uint32_t ts, const uint8_t *body, size_t len)
{
	struct flv_audio fa;
	if (flv_parse_audio(body, len, &fa) < 0 || fa.codec != FLV_CODEC_AAC)
		return;
	if (fa.is_seq_header) {
		c->has_aac = aac_parse_asc(fa.data, fa.len, &c->aac) == 0;
		return;
	}
	uint8_t adts[AAC_ADTS_HEADER_SIZE];
	if (!c->has_aac || aac_write_adts(adts, &c->aac, fa.len) < 0)
		return;
	if (!c->psi_sent) {
		ts_mux_write_psi(&c->ts, &c->out);
		c->psi_sent = 1;
	}
	struct bytes es;
	bytes_init(&es);
	bytes_append(&es, adts, sizeof(adts));
	bytes_append(&es, fa.data, fa.len);
	uint64_t t = ((uint64_t)ts + TS_OFFSET_MS) * 90;
	ts_mux_write_pes(&c->ts, &c->out, 0, es.data, es.len, t, t, 0);
	bytes_free(&es);
}

/*
 * Takes whole chunks ("%x\r\n" FLV-tag "\r\n") from c->flv.  Returns 0, or
 * -1 if the bytes are not what the fan-out writes (a bug, not a peer).
 */
static int take_chunks(struct srt_conn *c)
{
	size_t off = 0;
	while (c->flv.len - off >= 3) {
		const uint8_t *p = c->flv.data + off;
		size_t avail = c->flv.len - off, i = 0, size = 0;
		while (i < avail && i < 9 && p[i] != '\r') {
			uint8_t ch = p[i];
			unsigned d = ch >= '0' && ch <= '9' ? (unsigned)(ch - '0')
			           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10u : 16u;
			if (d > 15)
				return -1;
			size = size * 16 + d;
			i++;
		}
		if (i == avail || i + 1 >= avail)
			break;                         /* the size line is not all here */
		if (p[i] != '\r' || p[i + 1] != '\n' || i == 0)
			return -1;
		size_t need = i + 2 + size + 2;
		if (avail < need)
			break;
		const uint8_t *tag = p + i + 2;
		if (size == FLV_FILE_HEADER_SIZE && tag[0] == 'F') {
			off += need;              /* the FLV file header every viewer starts with */
			continue;
		}
		if (size < FLV_TAG_HEADER_SIZE + FLV_TAG_TRAILER_SIZE)
			return -1;
		uint32_t blen = rd_u24be(tag + 1);
		if ((size_t)blen + FLV_TAG_HEADER_SIZE + FLV_TAG_TRAILER_SIZE != size)
			return -1;
		uint32_t ts = rd_u24be(tag + 4) | ((uint32_t)tag[7] << 24);
		if (tag[0] == FLV_TAG_VIDEO)
			mux_video(c, ts, tag + FLV_TAG_HEADER_SIZE, blen);
		else if (tag[0] == FLV_TAG_AUDIO)
			mux_audio(c, ts, tag + FLV_TAG_HEADER_SIZE, blen);
		off += need;
	}
	if (off) {
		memmove(c->flv.data, c->flv.data + off, c->flv.len - off);
		c->flv.len -= off;
	}
	return 0;
}

static void pipe_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct srt_conn *c = h->data;
	(void)hint;
	bytes_reserve(&c->flv, SRT_PIPE_READ_CHUNK);
	buf->base = (char *)c->flv.data + c->flv.len;
	buf->len = c->flv.cap - c->flv.len;
}

static void pipe_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct srt_conn *c = st->data;
	(void)buf;
	if (nread < 0) {
		srt_conn_close(c, "viewer pipe closed");
		return;
	}
	c->flv.len += (size_t)nread;
	if (take_chunks(c) < 0) {
		srt_conn_close(c, "bad FLV from the fan-out");
		return;
	}
	srt_conn_play_flush(c);
}

static void set_reading(struct srt_conn *c, int on)
{
	if (c->reading == on || c->closing)
		return;
	c->reading = on;
	if (on)
		uv_read_start((uv_stream_t *)&c->pipe_r, pipe_alloc, pipe_read);
	else
		uv_read_stop((uv_stream_t *)&c->pipe_r);
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
	set_reading(c, held < srt_viewer_buffer(c));
	return 0;
}

int srt_conn_play_start(struct srt_conn *c, struct stream *s)
{
	int fds[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
		return -1;
	uv_pipe_init(s->fanout.loop, &c->pipe_w.u.pipe, 0);
	uv_pipe_init(s->fanout.loop, &c->pipe_r, 0);
	c->pipe_w.u.pipe.data = c->pipe_r.data = c;
	c->pipes_open = 2;
	uv_pipe_open(&c->pipe_w.u.pipe, fds[0]);
	uv_pipe_open(&c->pipe_r, fds[1]);
	bytes_init(&c->flv);
	bytes_init(&c->out);
	bytes_init(&c->avc_rec);
	ts_mux_init(&c->ts, 1, 1);
	c->stream = stream_ref(s);
	set_reading(c, 1);
	fanout_viewer_start(&s->fanout, &c->v, &c->pipe_w, WIRE_FLV,
	                    &srt_viewer_ops, c, &c->flv_bytes);
	return 0;
}

static void pipe_closed(uv_handle_t *h)
{
	struct srt_conn *c = h->data;
	if (--c->pipes_open == 0 && c->on_done)
		c->on_done(c);
}

void srt_conn_media_close(struct srt_conn *c, void (*done)(struct srt_conn *c))
{
	if (c->publishing) {
		mpegts_demux_free(&c->demux);
	}
	if (c->stream) {
		if (c->playing || c->pipes_open)
			fanout_viewer_stop(&c->v);
		stream_unref(c->stream);
		c->stream = NULL;
	}
	bytes_free(&c->flv);
	bytes_free(&c->out);
	bytes_free(&c->avc_rec);
	if (c->pipes_open) {
		/* The viewer's memory must outlive an in-flight write: freed once both are closed. */
		c->on_done = done;
		uv_close(&c->pipe_w.u.handle, pipe_closed);
		uv_close((uv_handle_t *)&c->pipe_r, pipe_closed);
		return;
	}
	done(c);
}
