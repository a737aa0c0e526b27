/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lc_srt.c - sluice-load over SRT (libsrt, live mode): viewers that play
 * srt://HOST:PORT?streamid=... and demux the MPEG-TS with proto/mpegts (so
 * the H.264 SEI stamp gives the same lag figure as RTMP viewers), and a
 * publisher that muxes the stamped FLV tags into MPEG-TS (hls/ts_flv) and
 * sends them as SRT messages.
 *
 * libsrt has its own readiness API that a uv loop cannot poll, and every
 * socket here is non-blocking; a uv timer asks srt_epoll every millisecond
 * (timeout 0) and handles what is ready.  That costs the load client a
 * little CPU on its own core; the node's CPU, the figure, is untouched.
 */
#include <stdlib.h>
#include <string.h>

#include <srt/srt.h>

#include "bench/lc.h"
#include "core/bytes.h"
#include "core/err.h"
#include "core/mem.h"
#include "hls/ts_flv.h"
#include "proto/mpegts.h"

#define LC_SRT_POLL_MS 1          /* how often srt_epoll is asked */
#define LC_SRT_EVENTS 512         /* events taken per ask */
#define LC_SRT_CHUNK 1316         /* 7 TS packets: one SRT message, as ffmpeg sends */
#define LC_SRT_PUB_QUEUE (8u << 20) /* TS bytes the publisher may hold when libsrt is full */

struct lc_srt_sock {
	SRTSOCKET s;
	struct lc_client *c;
};

/* One per client that talks SRT; c->srt points here. */
struct lc_srt_conn {
	SRTSOCKET s;
	struct mpegts_demux ts;       /* viewers */
	/* publisher */
	struct ts_flv mux;
	struct bytes out;             /* TS bytes libsrt has not taken yet */
	size_t out_off;
};

struct lc_srt_shared {
	int eid;
	uv_timer_t poll;
	struct lc_srt_sock *socks;    /* sorted by socket, for the events' lookup */
	size_t nsocks, cap;
	int latency_ms;
};

int lc_srt_url_parse(const char *s, struct lc_url *u)
{
	memset(u, 0, sizeof(*u));
	if (strncmp(s, "srt://", 6) != 0)
		return SL_EINVAL;
	const char *rest = s + 6;
	const char *colon = strchr(rest, ':');
	if (!colon || colon == rest || (size_t)(colon - rest) >= sizeof(u->host))
		return SL_EINVAL;
	memcpy(u->host, rest, (size_t)(colon - rest));
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (port < 1 || port > 65535)
		return SL_EINVAL;
	u->port = (int)port;
	if (strncmp(end, "?streamid=", 10) != 0 || !end[10] || strlen(end + 10) >= sizeof(u->path))
		return SL_EINVAL;
	snprintf(u->path, sizeof(u->path), "%s", end + 10);
	return 0;
}

static int sock_cmp(const void *a, const void *b)
{
	SRTSOCKET x = ((const struct lc_srt_sock *)a)->s, y = ((const struct lc_srt_sock *)b)->s;
	return x < y ? -1 : x > y;
}

static struct lc_client *find_client(struct lc_srt_shared *sh, SRTSOCKET s)
{
	struct lc_srt_sock key = { s, NULL };
	struct lc_srt_sock *e = bsearch(&key, sh->socks, sh->nsocks, sizeof(key), sock_cmp);
	return e ? e->c : NULL;
}

static void on_ts_frame(void *arg, const struct mpegts_frame *f)
{
	struct lc_client *c = arg;
	uint64_t now = lc_now_us();
	if (c->st.ttfb_us < 0)
		c->st.ttfb_us = (int64_t)(now - c->st.connect_start_us);
	if (f->kind == MPEGTS_AVC_FRAME)
		lc_on_video_frame(c, f->dts_ms, f->key, f->data, f->len, 4, now);
	else if (f->kind == MPEGTS_AAC_FRAME)
		c->st.audio_frames++;  /* no stamp, and the TS timeline starts at 0: counted only */
}

static void flush_out(struct lc_client *c)
{
	struct lc_srt_conn *k = c->srt;
	while (!c->closed && k->out_off < k->out.len) {
		size_t n = k->out.len - k->out_off;
		if (n > LC_SRT_CHUNK)
			n = LC_SRT_CHUNK;
		if (srt_sendmsg2(k->s, (const char *)k->out.data + k->out_off, (int)n, NULL) < 0) {
			if (srt_getlasterror(NULL) != SRT_EASYNCSND)
				lc_client_fail(c, "srt send: %s", srt_getlasterror_str());
			break;
		}
		k->out_off += n;
	}
	if (k->out_off == k->out.len) {
		bytes_clear(&k->out);
		k->out_off = 0;
	} else if (k->out.len - k->out_off > LC_SRT_PUB_QUEUE) {
		lc_client_fail(c, "srt send: over %u bytes queued", LC_SRT_PUB_QUEUE);
	}
}

static void on_readable(struct lc_client *c)
{
	struct lc *lc = c->lc;
	struct lc_srt_conn *k = c->srt;
	for (;;) {
		int n = srt_recvmsg(k->s, (char *)lc->readbuf, 1500);
		if (n < 0) {
			if (srt_getlasterror(NULL) != SRT_EASYNCRCV)
				lc_client_fail(c, "srt recv: %s", srt_getlasterror_str());
			return;
		}
		if (n == 0)
			return;
		c->st.bytes += (uint64_t)n;
		if (lc->measuring)
			c->st.window_bytes += (uint64_t)n;
		if (mpegts_demux_feed(&k->ts, lc->readbuf, (size_t)n) < 0) {
			lc_client_fail(c, "srt: unsupported codec in the TS");
			return;
		}
	}
}

static void poll_cb(uv_timer_t *t)
{
	struct lc *lc = t->data;
	struct lc_srt_shared *sh = lc->srt;
	SRT_EPOLL_EVENT ev[LC_SRT_EVENTS];
	int n = srt_epoll_uwait(sh->eid, ev, LC_SRT_EVENTS, 0);
	for (int i = 0; i < n; i++) {
		struct lc_client *c = find_client(sh, ev[i].fd);
		if (!c || c->closed)
			continue;
		if (ev[i].events & SRT_EPOLL_ERR) {
			lc_client_fail(c, "srt: %s", c->connected ? "closed by server" : "connect refused");
			continue;
		}
		if ((ev[i].events & SRT_EPOLL_OUT) && !c->connected) {
			c->connected = 1;
			int e = SRT_EPOLL_ERR | (c->role == LC_PUBLISH ? 0 : SRT_EPOLL_IN);
			srt_epoll_update_usock(sh->eid, ev[i].fd, &e);
			if (c->role == LC_PUBLISH)
				lc_pub_start(lc);
		}
		if (ev[i].events & SRT_EPOLL_IN)
			on_readable(c);
	}
	if (lc->have_pub && lc->pub.c.srt && lc->pub.c.connected && !lc->pub.c.closed)
		flush_out(&lc->pub.c);
}

int lc_srt_init(struct lc *lc, int latency_ms)
{
	if (srt_startup() < 0) {
		fprintf(stderr, "sluice-load: srt_startup failed\n");
		return -1;
	}
	srt_setloglevel(2);  /* LOG_CRIT: libsrt's own chatter stays off the report */
	struct lc_srt_shared *sh = xcalloc(1, sizeof(*sh));
	sh->eid = srt_epoll_create();
	if (sh->eid < 0) {
		fprintf(stderr, "sluice-load: srt_epoll_create: %s\n", srt_getlasterror_str());
		free(sh);
		return -1;
	}
	sh->latency_ms = latency_ms;
	lc->srt = sh;
	uv_timer_init(lc->loop, &sh->poll);
	sh->poll.data = lc;
	uv_timer_start(&sh->poll, poll_cb, LC_SRT_POLL_MS, LC_SRT_POLL_MS);
	return 0;
}

int lc_srt_connect(struct lc_client *c)
{
	struct lc_srt_shared *sh = c->lc->srt;
	struct sockaddr_in sa;
	if (lc_client_begin(c, &sa) < 0)
		return SL_EINVAL;
	struct lc_srt_conn *k = xcalloc(1, sizeof(*k));
	c->srt = k;
	k->s = srt_create_socket();
	if (k->s == SRT_INVALID_SOCK) {
		lc_client_fail(c, "srt socket: %s", srt_getlasterror_str());
		return SL_EIO;
	}
	int no = 0;
	int lat = sh->latency_ms;
	srt_setsockflag(k->s, SRTO_RCVSYN, &no, sizeof(no));
	srt_setsockflag(k->s, SRTO_SNDSYN, &no, sizeof(no));
	srt_setsockflag(k->s, SRTO_LATENCY, &lat, sizeof(lat));
	srt_setsockflag(k->s, SRTO_STREAMID, c->url.path, (int)strlen(c->url.path));
	if (c->role == LC_PUBLISH) {
		ts_flv_init(&k->mux);
	} else {
		mpegts_demux_init(&k->ts, 0, on_ts_frame, c);
	}
	if (sh->nsocks == sh->cap) {
		sh->cap = sh->cap ? sh->cap * 2 : 64;
		sh->socks = xrealloc(sh->socks, sh->cap * sizeof(*sh->socks));
	}
	sh->socks[sh->nsocks].s = k->s;
	sh->socks[sh->nsocks++].c = c;
	qsort(sh->socks, sh->nsocks, sizeof(*sh->socks), sock_cmp);
	int e = SRT_EPOLL_OUT | SRT_EPOLL_ERR;
	srt_epoll_add_usock(sh->eid, k->s, &e);
	if (srt_connect(k->s, (const struct sockaddr *)&sa, sizeof(sa)) == SRT_ERROR) {
		lc_client_fail(c, "srt connect: %s", srt_getlasterror_str());
		return SL_EIO;
	}
	return 0;
}

void lc_srt_close(struct lc_client *c)
{
	struct lc_srt_conn *k = c->srt;
	if (!k || k->s == SRT_INVALID_SOCK)
		return;
	srt_epoll_remove_usock(c->lc->srt->eid, k->s);
	srt_close(k->s);
	k->s = SRT_INVALID_SOCK;  /* stays in the lookup; c->closed makes its events no-ops */
}

void lc_srt_send_media(struct lc_client *c, uint8_t type, uint32_t ts, const uint8_t *body,
                       size_t len)
{
	struct lc_srt_conn *k = c->srt;
	if (c->closed || !k)
		return;
	ts_flv_tag(&k->mux, &k->out, type, ts, body, len);
	flush_out(c);
}
