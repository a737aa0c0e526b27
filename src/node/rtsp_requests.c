/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtsp_requests.c - what each RTSP request means: DESCRIBE (the stream's SDP,
 * waiting briefly for the headers of a stream that just started), SETUP
 * (a track on TCP interleaved channels or UDP client ports), PLAY,
 * ANNOUNCE, RECORD (claiming the stream), TEARDOWN, PAUSE and keepalives;
 * tokens, sessions and the publisher limits.  The connection, its bytes
 * and the UDP sockets are rtsp_server.c's.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/net.h"
#include "core/ratelimit.h"
#include "node/admission.h"
#include "node/rtsp_server.h"

#define RTSP_PUBLIC "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, PAUSE, TEARDOWN, " \
                    "GET_PARAMETER, SET_PARAMETER"

/* The stream a request names; 0, or -1 after answering it. */
static int request_url(struct rtsp_conn *c, const struct rtsp_request *r, struct rtsp_url *u)
{
	if (rtsp_url_parse(r->url.p, r->url.n, u) < 0 || !u->app[0]) {
		rtsp_refuse(c, 400, r->cseq, "the URL is not rtsp://HOST:PORT/APP/STREAM");
		return -1;
	}
	if (c->app[0] && (strcmp(c->app, u->app) || strcmp(c->name, u->name))) {
		rtsp_refuse(c, 459, r->cseq, "one stream per session");
		return -1;
	}
	if (!c->host[0]) {
		/* "rtsp://HOST[:PORT]" as the client wrote it: the base it resolves controls against. */
		const char *h = r->url.p + 7, *end = r->url.p + r->url.n;
		const char *slash = memchr(h, '/', (size_t)(end - h));
		size_t hn = (size_t)(slash - r->url.p);
		if (hn < sizeof(c->host)) {
			memcpy(c->host, r->url.p, hn);
			c->host[hn] = '\0';
		}
	}
	if (!c->app[0]) {
		snprintf(c->app, sizeof(c->app), "%s", u->app);
		snprintf(c->name, sizeof(c->name), "%s", u->name);
	}
	return 0;
}

static int session_ok(struct rtsp_conn *c, const struct rtsp_request *r)
{
	size_t n;
	const char *v = rtsp_header(r, "Session", &n);
	if (!c->session[0] || !v) {
		rtsp_refuse(c, 454, r->cseq, "no session: SETUP first");
		return 0;
	}
	size_t sl = strlen(c->session);
	if (n < sl || memcmp(v, c->session, sl) != 0 || (n > sl && v[sl] != ';')) {
		rtsp_refuse(c, 454, r->cseq, "not this connection's session");
		return 0;
	}
	return 1;
}

/* The token allows action on the connection's stream; 0, or -1 after answering. */
static int authorize(struct rtsp_conn *c, const struct rtsp_request *r, const struct rtsp_url *u,
                     int publish)
{
	int *ok = publish ? &c->publish_ok : &c->play_ok;
	if (*ok)
		return 0;
	if (node_check_token(c->srv->n, publish ? "publish" : "play", c->app, c->name, u->token,
	                     c->base.peer, c->base.id) < 0) {
		rtsp_refuse(c, 401, r->cseq, publish ? "publishing needs a valid token (?token=...)"
		                                 : "playing needs a valid token (?token=...)");
		return -1;
	}
	*ok = 1;
	return 0;
}

static struct stream *find_stream(struct rtsp_conn *c)
{
	struct node *n = c->srv->n;
	struct stream *st = stream_find(&n->streams, c->app, c->name);
	if (!st)
		st = cluster_pull_stream(&n->cluster, c->app, c->name);
	return st;
}

/* What relative control URLs resolve against: the stream's URL with a slash. */
static void content_base(const struct rtsp_conn *c, char *out, size_t n)
{
	snprintf(out, n, "%s/%s/%s/", c->host, c->app, c->name);
}

static void send_description(struct rtsp_conn *c, struct stream *st, long cseq)
{
	struct fanout *f = &st->fanout;
	struct rtsp_sdp_stream d = { .name = c->name, .addr = c->srv->n->cfg->bind };
	struct flv_video fv;
	struct flv_audio fa;
	struct aac_config ac;
	if (f->hdr[FANOUT_HDR_VIDEO] &&
	    flv_parse_video(f->hdr[FANOUT_HDR_VIDEO]->body->data, f->hdr[FANOUT_HDR_VIDEO]->body->len,
	                    &fv) == 0 && fv.codec == FLV_CODEC_H264 && fv.is_seq_header) {
		d.avcc = fv.data;
		d.avcc_len = fv.len;
	}
	if (f->hdr[FANOUT_HDR_AUDIO] &&
	    flv_parse_audio(f->hdr[FANOUT_HDR_AUDIO]->body->data, f->hdr[FANOUT_HDR_AUDIO]->body->len,
	                    &fa) == 0 && fa.codec == FLV_CODEC_AAC && fa.is_seq_header &&
	    aac_parse_asc(fa.data, fa.len, &ac) == 0) {
		d.asc = fa.data;
		d.asc_len = fa.len;
		d.sample_rate = ac.sample_rate;
		d.channels = ac.channels;
	}
	if (!d.avcc_len && !d.asc_len) {
		c->srv->n->stats.play_not_found++;
		rtsp_refuse(c, 415, cseq, "the stream has no H.264 or AAC to describe");
		return;
	}
	struct bytes b;
	bytes_init(&b);
	rtsp_sdp_build(&b, &d);
	char base[512], extra[560];
	content_base(c, base, sizeof(base));
	snprintf(extra, sizeof(extra), "Content-Base: %s\r\n", base);
	c->srv->stats.describes++;
	rtsp_respond(c, 200, cseq, extra, "application/sdp", b.data, b.len);
	bytes_free(&b);
}

static int headers_ready(const struct stream *st, uint64_t waited)
{
	const struct fanout *f = &st->fanout;
	int v = f->hdr[FANOUT_HDR_VIDEO] != NULL, a = f->hdr[FANOUT_HDR_AUDIO] != NULL;
	/* Both, or one of them once a publisher had time to send the other. */
	return (v && a) || ((v || a) && waited >= 1000);
}

static void wait_tick(uv_timer_t *t)
{
	struct rtsp_conn *c = t->data;
	uint64_t waited = uv_now(c->srv->n->loop) - c->wait_since;
	struct stream *st = c->waiting;
	if (!st->live || headers_ready(st, waited) || waited >= RTSP_DESCRIBE_WAIT_MS) {
		uv_timer_stop(&c->wait);
		c->waiting = NULL;
		if (st->live && (st->fanout.hdr[FANOUT_HDR_VIDEO] || st->fanout.hdr[FANOUT_HDR_AUDIO])) {
			send_description(c, st, c->wait_cseq);
		} else {
			c->srv->n->stats.play_not_found++;
			rtsp_refuse(c, 404, c->wait_cseq, "not live");
		}
		stream_unref(st);
		rtsp_conn_parse(c);  /* requests that came meanwhile */
	}
}

static void on_describe(struct rtsp_conn *c, const struct rtsp_request *r)
{
	struct node *n = c->srv->n;
	struct rtsp_url u;
	if (request_url(c, r, &u) < 0 || authorize(c, r, &u, 0) < 0)
		return;
	if (n->cfg->publish_only && n->cluster.enabled) {
		rtsp_refuse(c, 403, r->cseq, "this origin is publish-only: watch through an edge");
		return;
	}
	struct stream *st = find_stream(c);
	if (!st) {
		n->stats.play_not_found++;
		rtsp_refuse(c, 404, r->cseq, "not live");
		return;
	}
	uint64_t age = clock_wall_ms() - st->started_ms;
	if (headers_ready(st, age > RTSP_DESCRIBE_WAIT_MS ? age : 0)) {
		send_description(c, st, r->cseq);
		return;
	}
	/* Just published, or an edge's pull just started: its headers are on the way. */
	if (!c->wait_init) {
		uv_timer_init(n->loop, &c->wait);
		c->wait.data = c;
		c->wait_init = 1;
	}
	c->waiting = stream_ref(st);
	c->wait_cseq = r->cseq;
	c->wait_since = uv_now(n->loop);
	uv_timer_start(&c->wait, wait_tick, 50, 50);
}

static void new_session(struct rtsp_conn *c)
{
	if (c->session[0])
		return;
	uint8_t r[8];
	random_bytes(r, sizeof(r));
	for (int i = 0; i < 8; i++)
		snprintf(c->session + 2 * i, 3, "%02X", r[i]);
}

/* The track a SETUP URL names: 0 video, 1 audio, -1 none. */
static int setup_track(struct rtsp_conn *c, const struct rtsp_url *u)
{
	if (c->sdp) {
		/* Publishing: the controls are the client's own (a=control in its ANNOUNCE). */
		for (unsigned i = 0; i < c->sdp->nmedia; i++) {
			const struct rtsp_sdp_media *m = &c->sdp->media[i];
			if ((m->control[0] && strcmp(m->control, u->control) == 0) ||
			    (!m->control[0] && c->sdp->nmedia == 1 && !u->control[0]))
				return rtsp_publish_track_of(c, i);
		}
		return -1;
	}
	if (strcmp(u->control, "trackID=0") == 0)
		return 0;
	if (strcmp(u->control, "trackID=1") == 0)
		return 1;
	return -1;
}

static void set_udp_peer(struct rtsp_conn *c, struct rtsp_track *tr, uint16_t port, int rtcp)
{
	struct sockaddr_storage *ss = rtcp ? &tr->rtcp_addr : &tr->rtp_addr;
	char *key = rtcp ? tr->rtcp_key : tr->rtp_key;
	size_t ksz = sizeof(tr->rtp_key);
	net_addr(c->ip, port, ss);
	if (ss->ss_family == AF_INET6)
		snprintf(key, ksz, "[%s]:%u", c->ip, port);
	else
		snprintf(key, ksz, "%s:%u", c->ip, port);
	struct rtsp_conn *other = strmap_get(&c->srv->peers, key);
	if (other && other != c)
		return;   /* another session has that address: it keeps it */
	strmap_put(&c->srv->peers, key, c);
}

static void on_setup(struct rtsp_conn *c, const struct rtsp_request *r)
{
	struct rtsp_server *s = c->srv;
	struct rtsp_url u;
	if (request_url(c, r, &u) < 0)
		return;
	if (c->state == RTSP_PLAYING || c->state == RTSP_RECORDING) {
		rtsp_refuse(c, 455, r->cseq, "SETUP while playing or recording");
		return;
	}
	if (c->session[0] && rtsp_header(r, "Session", NULL) && !session_ok(c, r))
		return;
	int publish = c->sdp != NULL;
	if (!publish && authorize(c, r, &u, 0) < 0)
		return;
	int t = setup_track(c, &u);
	if (t < 0) {
		rtsp_refuse(c, 404, r->cseq, "no such track");
		return;
	}
	size_t tn;
	const char *tv = rtsp_header(r, "Transport", &tn);
	struct rtsp_transport tp;
	int rc = tv ? rtsp_transport_parse(tv, tn, &tp) : SL_EPROTO;
	if (rc == SL_EPROTO) {
		rtsp_refuse(c, 400, r->cseq, "missing or malformed Transport header");
		return;
	}
	if (rc < 0 || (!tp.tcp && !s->udp_on)) {
		rtsp_refuse(c, 461, r->cseq, s->udp_on ? "RTP/AVP over UDP unicast or RTP/AVP/TCP only"
		                                   : "only RTP/AVP/TCP (interleaved): UDP is off");
		return;
	}
	int other = 1 - t;
	if (c->track[other].setup && c->track[other].tcp != tp.tcp) {
		rtsp_refuse(c, 461, r->cseq, "all tracks of a session on one transport");
		return;
	}
	struct rtsp_track *tr = &c->track[t];
	if (tr->rtp_key[0] && strmap_get(&s->peers, tr->rtp_key) == c)
		strmap_del(&s->peers, tr->rtp_key);
	if (tr->rtcp_key[0] && strmap_get(&s->peers, tr->rtcp_key) == c)
		strmap_del(&s->peers, tr->rtcp_key);
	memset(tr, 0, sizeof(*tr));
	tr->setup = 1;
	tr->tcp = tp.tcp;
	random_bytes(&tr->ssrc, sizeof(tr->ssrc));
	random_bytes(&tr->seq, sizeof(tr->seq));
	random_bytes(&tr->ts_base, sizeof(tr->ts_base));
	tr->clock = t == 0 ? 90000 : 0;    /* audio: set from the AAC config */
	new_session(c);
	char extra[300];
	const char *mode = publish ? ";mode=record" : "";
	if (tp.tcp) {
		tr->ch[0] = tp.has_interleaved ? tp.interleaved[0] : (uint8_t)(2 * t);
		tr->ch[1] = tp.has_interleaved ? tp.interleaved[1] : (uint8_t)(2 * t + 1);
		if (c->track[other].setup && (c->track[other].ch[0] == tr->ch[0] ||
		                              c->track[other].ch[0] == tr->ch[1])) {
			tr->setup = 0;
			rtsp_refuse(c, 461, r->cseq, "interleaved channels already in use");
			return;
		}
		snprintf(extra, sizeof(extra), "Transport: RTP/AVP/TCP;unicast;interleaved=%u-%u%s\r\n",
		         tr->ch[0], tr->ch[1], mode);
	} else {
		set_udp_peer(c, tr, tp.client_port[0], 0);
		set_udp_peer(c, tr, tp.client_port[1], 1);
		snprintf(extra, sizeof(extra), "Transport: RTP/AVP;unicast;client_port=%u-%u;"
		         "server_port=%lld-%lld;ssrc=%08X%s\r\n", tp.client_port[0], tp.client_port[1],
		         (long long)s->n->cfg->rtsp_udp_port, (long long)s->n->cfg->rtsp_udp_port + 1,
		         tr->ssrc, mode);
	}
	if (c->state == RTSP_INIT)
		c->state = RTSP_READY;
	rtsp_respond(c, 200, r->cseq, extra, NULL, NULL, 0);
}

static void on_play(struct rtsp_conn *c, const struct rtsp_request *r)
{
	struct node *n = c->srv->n;
	struct rtsp_url u;
	if (request_url(c, r, &u) < 0 || !session_ok(c, r))
		return;
	if (c->sdp) {
		rtsp_refuse(c, 455, r->cseq, "this session was announced: RECORD, not PLAY");
		return;
	}
	if (c->state == RTSP_PLAYING) {
		/* A resume after PAUSE: live again from the next keyframe. */
		if (c->paused) {
			c->paused = 0;
			c->wait_key = 1;
		}
		rtsp_respond(c, 200, r->cseq, NULL, NULL, NULL, 0);
		return;
	}
	if (!c->track[0].setup && !c->track[1].setup) {
		rtsp_refuse(c, 455, r->cseq, "no track set up");
		return;
	}
	if (authorize(c, r, &u, 0) < 0)
		return;
	if (n->cfg->publish_only && n->cluster.enabled) {
		/* Checked again here: a client may SETUP and PLAY without a DESCRIBE. */
		rtsp_refuse(c, 403, r->cseq, "this origin is publish-only: watch through an edge");
		return;
	}
	char why[200];
	if (node_admit(n, "play", c->base.peer, why, sizeof(why)) < 0) {
		rtsp_refuse(c, 503, r->cseq, why);
		return;
	}
	struct stream *st = find_stream(c);
	if (!st) {
		n->stats.play_not_found++;
		rtsp_refuse(c, 404, r->cseq, "not live");
		return;
	}
	char base[512];
	content_base(c, base, sizeof(base));
	struct bytes extra;
	bytes_init(&extra);
	bytes_put_str(&extra, "Range: npt=now-\r\n");
	if (rtsp_play_start(c, st, &extra, base) < 0) {
		bytes_free(&extra);
		rtsp_conn_close(c, "could not start the viewer");
		return;
	}
	bytes_put_u8(&extra, 0);
	/* The tap reads from the next loop turn on: this answer goes before any media. */
	rtsp_respond(c, 200, r->cseq, (const char *)extra.data, NULL, NULL, 0);
	bytes_free(&extra);
	c->state = RTSP_PLAYING;
	n->stats.plays++;
	c->srv->stats.plays++;
	log_info("play_start", "client=%llu peer=%s protocol=rtsp app=%s stream=%s transport=%s",
	         (unsigned long long)c->base.id, c->base.peer, c->app, c->name,
	         (c->track[0].setup ? c->track[0].tcp : c->track[1].tcp) ? "tcp" : "udp");
}

static int publisher_admit(struct rtsp_conn *c, long cseq)
{
	struct node *n = c->srv->n;
	char why[200];
	if (!cluster_takes_publishers(&n->cluster)) {
		n->stats.publish_refused++;
		rtsp_refuse(c, 403, cseq, "this node does not take publishers: publish to an origin");
		return -1;
	}
	if (node_admit(n, "publish", c->base.peer, why, sizeof(why)) < 0) {
		rtsp_refuse(c, 503, cseq, why);
		return -1;
	}
	const char *limit;
	if (node_publisher_room(n, c->ipkey, &limit) < 0) {
		rtsp_refuse(c, 503, cseq, limit);
		return -1;
	}
	return 0;
}

static void on_announce(struct rtsp_conn *c, const struct rtsp_request *r)
{
	struct rtsp_url u;
	if (request_url(c, r, &u) < 0 || authorize(c, r, &u, 1) < 0)
		return;
	if (c->state != RTSP_INIT || c->sdp) {
		rtsp_refuse(c, 455, r->cseq, "ANNOUNCE once, before SETUP");
		return;
	}
	size_t tn;
	const char *ct = rtsp_header(r, "Content-Type", &tn);
	if (!ct || tn < 15 || strncasecmp(ct, "application/sdp", 15) != 0 || !r->body_len) {
		rtsp_refuse(c, 415, r->cseq, "ANNOUNCE needs an application/sdp body");
		return;
	}
	struct rtsp_sdp *sdp = xcalloc(1, sizeof(*sdp));
	char err[120];
	if (rtsp_sdp_parse((const char *)r->body, r->body_len, sdp, err, sizeof(err)) < 0) {
		free(sdp);
		rtsp_refuse(c, 400, r->cseq, err);
		return;
	}
	c->sdp = sdp;
	char why[200];
	if (rtsp_publish_prepare(c, why, sizeof(why)) < 0) {
		free(c->sdp);
		c->sdp = NULL;
		rtsp_refuse(c, 415, r->cseq, why);
		return;
	}
	rtsp_respond(c, 200, r->cseq, NULL, NULL, NULL, 0);
}

static void on_record(struct rtsp_conn *c, const struct rtsp_request *r)
{
	struct node *n = c->srv->n;
	struct rtsp_url u;
	if (request_url(c, r, &u) < 0 || !session_ok(c, r))
		return;
	if (!c->sdp || c->state != RTSP_READY) {
		rtsp_refuse(c, 455, r->cseq, "RECORD needs ANNOUNCE and SETUP first");
		return;
	}
	if (publisher_admit(c, r->cseq) < 0)
		return;
	struct stream *st;
	int rc = stream_publish(&n->streams, c->app, c->name, c->base.id, c->base.peer, &st);
	if (rc < 0) {
		n->stats.publish_refused++;
		if (rc == SL_EFULL)
			n->stats.publish_refused_limit[LIMIT_STREAMS]++;
		rtsp_refuse(c, rc == SL_EFULL ? 503 : 403, r->cseq,
		       rc == SL_EFULL ? "max-streams" : rc == SL_EEXIST ? "already publishing"
		                                                     : "bad name");
		return;
	}
	c->stream = st;
	c->state = RTSP_RECORDING;
	rtsp_publish_begin(c);
	c->counts_as_publisher = 1;
	node_publisher_begin(n, c->ipkey);
	c->srv->stats.publishes++;
	c->last_media_ms = uv_now(n->loop);
	rtsp_respond(c, 200, r->cseq, NULL, NULL, NULL, 0);
	log_info("publish_start", "client=%llu peer=%s protocol=rtsp app=%s stream=%s transport=%s",
	         (unsigned long long)c->base.id, c->base.peer, c->app, c->name,
	         (c->track[0].setup ? c->track[0].tcp : c->track[1].tcp) ? "tcp" : "udp");
}

int rtsp_request_handle(struct rtsp_conn *c, const struct rtsp_request *r)
{
	c->srv->stats.requests++;
	c->requests++;
	if (r->cseq < 0) {
		c->srv->stats.bad_requests++;
		rtsp_refuse(c, 400, -1, "no CSeq");
		return 1;
	}
	if (rtsp_method_is(r, "OPTIONS")) {
		rtsp_respond(c, 200, r->cseq, "Public: " RTSP_PUBLIC "\r\n", NULL, NULL, 0);
	} else if (rtsp_method_is(r, "DESCRIBE")) {
		on_describe(c, r);
	} else if (rtsp_method_is(r, "ANNOUNCE")) {
		on_announce(c, r);
	} else if (rtsp_method_is(r, "SETUP")) {
		on_setup(c, r);
	} else if (rtsp_method_is(r, "PLAY")) {
		on_play(c, r);
	} else if (rtsp_method_is(r, "RECORD")) {
		on_record(c, r);
	} else if (rtsp_method_is(r, "TEARDOWN")) {
		if (session_ok(c, r)) {
			rtsp_respond(c, 200, r->cseq, NULL, NULL, NULL, 0);
			rtsp_conn_close(c, "TEARDOWN");
			return 0;
		}
	} else if (rtsp_method_is(r, "GET_PARAMETER") || rtsp_method_is(r, "SET_PARAMETER")) {
		/* Keepalives: an empty one, or one with parameters we do not have. */
		if (!rtsp_header(r, "Session", NULL) || session_ok(c, r))
			rtsp_respond(c, 200, r->cseq, NULL, NULL, NULL, 0);
	} else if (rtsp_method_is(r, "PAUSE")) {
		/* Live: what comes meanwhile is not kept for the viewer (players pause before
		 * TEARDOWN too). */
		if (session_ok(c, r)) {
			c->paused = c->state == RTSP_PLAYING;
			rtsp_respond(c, 200, r->cseq, NULL, NULL, NULL, 0);
		}
	} else {
		char extra[200];
		snprintf(extra, sizeof(extra), "Public: %s\r\n", RTSP_PUBLIC);
		c->srv->stats.refused++;
		rtsp_respond(c, 501, r->cseq, extra, NULL, NULL, 0);
	}
	return !c->closing;
}

