/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hls_http.c - HLS on a node: one segmenter per stream that someone asks
 * for, fed by the stream's media hook, and the HTTP side (playlists,
 * segments, parts, blocking reloads held on a timer).
 *
 * A held request is answered when a part or segment completes or its
 * deadline passes: 3 target durations (hls-segment, as RFC 8216bis asks),
 * never more than HOLD_MAX_MS, however long the publisher makes its
 * segments.  While held its connection is watched (http_conn_watch), so a
 * client that goes away frees its hold at once.  Holds are bounded per
 * stream, per client address and per node; over a bound: 503 at once.
 *
 * Packaging stops (memory is freed) when no HLS request came for hls-idle.
 * HLS clients are counted as distinct addresses seen in the last 15 s, in a
 * fixed table per stream, so requests never grow state.
 */
#include "node/hls_http.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/ratelimit.h"
#include "hls/dash_mpd.h"
#include "hls/fmp4_split.h"
#include "hls/hls_playlist.h"
#include "hls/hls_request.h"
#include "hls/hls_stream.h"
#include "node/node.h"
#include "node/watch_page.h"

_Static_assert(HLS_MAX_PARTS <= HTTP_BODY_REFS_MAX, "a segment is sent as its parts");

#define TICK_MS 100
#define WAITERS_MAX 2000          /* held requests per stream */
#define HELD_MAX 10000            /* held requests per node */
#define HELD_PER_ADDR_MAX 200     /* held requests per client address (IPv6: its /64) */
#define HOLD_MAX_MS 8000          /* the longest any request is held */
#define CLIENT_SLOTS 256
#define CLIENT_RECENT_MS 15000
#define FIRST_SEGMENT_WAIT_MS 8000 /* a plain playlist before the first segment (<= HOLD_MAX_MS) */

struct hls_server {
	struct node *n;
	uv_timer_t timer;
	int timer_on;
	struct strmap streams;        /* "app/name" -> struct hls_live */
	struct hls_config cfg;
	uint64_t ticks;
	uint64_t frames_dropped, configs_refused;   /* totals over every stream packaged */
	unsigned held;                /* requests held, every stream */
	uint64_t held_refused;        /* answered 503 at a bound on held requests */
	struct iplimit held_per_addr; /* held requests per address (max_conns only) */
};

struct hls_waiter {
	struct list_node link;
	struct hls_live *hl;
	struct http_conn *c;          /* valid while held: its close removes the waiter */
	char addr_key[IPLIMIT_KEY_MAX];
	struct hls_request req;
	uint64_t deadline_ms;
	char q[200];                  /* the URI query for a playlist (token) */
};

struct hls_client {
	uint64_t addr_hash;
	uint64_t seen_ms;
};

struct hls_live {
	struct hls_server *srv;
	char key[2 * HLS_NAME_MAX + 2];
	char app[HLS_NAME_MAX + 1], name[HLS_NAME_MAX + 1];
	struct stream *s;             /* a reference while we package it */
	struct hls_stream seg;
	uint64_t last_request_ms;
	struct list_node waiters;
	unsigned nwaiters;
	struct list_node streamers;   /* LL-DASH: open segments sent part by part */
	unsigned nstreamers;
	struct hls_client clients[CLIENT_SLOTS];
};

static const char m3u8_type[] = "application/vnd.apple.mpegurl";
static const char ts_type[] = "video/mp2t";
static const char mp4_type[] = "video/mp4";

static uint64_t now_ms(struct hls_server *srv)
{
	return uv_now(srv->n->loop);
}

static uint64_t hash_addr(const char *peer)
{
	/* "ip:port" or "[v6]:port": the port changes per connection, the address does not. */
	const char *colon = strrchr(peer, ':');
	size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)peer[i]) * 1099511628211ull;
	return h ? h : 1;
}

static void note_client(struct hls_live *hl, const char *peer, uint64_t now)
{
	uint64_t h = hash_addr(peer);
	struct hls_client *oldest = &hl->clients[0];
	for (unsigned i = 0; i < CLIENT_SLOTS; i++) {
		struct hls_client *cl = &hl->clients[i];
		if (cl->addr_hash == h) {
			cl->seen_ms = now;
			return;
		}
		if (cl->seen_ms < oldest->seen_ms)
			oldest = cl;
	}
	oldest->addr_hash = h;
	oldest->seen_ms = now;
}

static uint32_t count_clients(const struct hls_live *hl, uint64_t now)
{
	uint32_t n = 0;
	for (unsigned i = 0; i < CLIENT_SLOTS; i++)
		if (hl->clients[i].addr_hash && now - hl->clients[i].seen_ms < CLIENT_RECENT_MS)
			n++;
	return n;
}

/* ---- answers ---- */

static void respond_playlist(struct hls_live *hl, struct http_conn *c, const char *q)
{
	struct bytes b;
	bytes_init(&b);
	hls_playlist_build(&hl->seg, q, &b);
	http_add_header(c, "Cache-Control", "max-age=1");
	http_respond(c, 200, m3u8_type, b.data, b.len);
	bytes_free(&b);
}

static void respond_mpd(struct hls_live *hl, struct http_conn *c, const char *q)
{
	struct bytes b;
	bytes_init(&b);
	int n = dash_mpd_build(&hl->seg, clock_wall_ms(), q, &b);
	if (n <= 0) {
		http_respond_error(c, n < 0 ? 404 : 503, n < 0 ? "DASH needs hls-format fmp4"
		                                               : "the stream has no complete segment yet");
	} else {
		http_add_header(c, "Cache-Control", "max-age=1");
		http_respond(c, 200, "application/dash+xml", b.data, b.len);
	}
	bytes_free(&b);
}

/*
 * One track of a segment or init (DASH): cut from the packager's bytes on each request
 * (a copy the size of that track's share), never stored.
 */
static void respond_track(struct http_conn *c, const struct rbuf *const *pieces, unsigned n,
                          int init, unsigned track)
{
	struct bytes b;
	bytes_init(&b);
	int rc = 0;
	for (unsigned i = 0; i < n && rc == 0; i++)
		rc = init ? fmp4_split_init(pieces[i]->data, pieces[i]->len, track, &b)
		          : fmp4_split_fragments(pieces[i]->data, pieces[i]->len, track, &b);
	if (rc < 0) {
		http_respond_error(c, 404, "the stream has no such track");
	} else {
		http_add_header(c, "Cache-Control", "max-age=3600, immutable");
		http_respond(c, 200, mp4_type, b.data, b.len);
	}
	bytes_free(&b);
}

/* Parts are sent from where the packager holds them, by reference: no copy per request. */
static void respond_parts(struct http_conn *c, const struct hls_part *parts, unsigned n,
                          const char *type)
{
	struct http_body_ref refs[HLS_MAX_PARTS];
	for (unsigned i = 0; i < n; i++)
		refs[i] = (struct http_body_ref){ parts[i].data->data, parts[i].data->len,
		                                  parts[i].data };
	/* URIs are never reused (MSNs start from the wall clock), so caches may keep them. */
	http_add_header(c, "Cache-Control", "max-age=3600, immutable");
	http_respond_refs(c, 200, type, refs, n);
}

/* ---- what a request needs, and whether it is there yet ---- */

enum readiness { READY, WAIT, GONE, TOO_FAR };

static int last_complete(const struct hls_stream *h, uint64_t *last)
{
	uint64_t first;
	return hls_playlist_window(h, &first, last);
}

static enum readiness playlist_ready(const struct hls_live *hl, const struct hls_request *r)
{
	const struct hls_stream *h = &hl->seg;
	uint64_t last = 0;
	int any = last_complete(h, &last);
	if (!r->block)
		return any ? READY : WAIT;
	uint64_t newest = any ? last : h->next_msn; /* next_msn - 1 when none is complete */
	if (r->block_msn > newest + 2 || (r->block_part_given && r->block_part >= HLS_MAX_PARTS))
		return TOO_FAR;
	if (r->block_msn < h->first_msn)
		return READY;
	const struct hls_segment *s = hls_stream_segment(h, r->block_msn);
	if (!s)
		return WAIT;
	if (s->complete)
		return READY;
	if (r->block_part_given && s->nparts > r->block_part)
		return READY;
	return WAIT;
}

/* DASH's seg-tT: the held segment starting at media time T (ms), as an MSN. */
static void resolve_time(const struct hls_stream *h, struct hls_request *r)
{
	if (!r->by_time)
		return;
	uint64_t t = r->msn;
	r->msn = UINT64_MAX;   /* none: answered as gone */
	for (uint64_t m = h->first_msn; m < h->next_msn; m++) {
		const struct hls_segment *s = hls_stream_segment(h, m);
		if (s && s->start_ms + HLS_TS_OFFSET_MS == t) {
			r->msn = m;
			return;
		}
	}
}

static enum readiness media_ready(const struct hls_live *hl, const struct hls_request *r)
{
	const struct hls_stream *h = &hl->seg;
	const struct hls_segment *s = hls_stream_segment(h, r->msn);
	if (!s)
		return r->file == HLS_PART && r->msn == h->next_msn && r->part == 0 ? WAIT : GONE;
	if (r->file == HLS_SEGMENT)
		return s->complete ? READY : WAIT;
	if (r->part < s->nparts)
		return READY;
	if (s->complete || r->part > s->nparts + 1)
		return GONE;
	return WAIT;
}

static enum readiness readiness(const struct hls_live *hl, const struct hls_request *r)
{
	if (r->file == HLS_MPD)
		return hls_stream_complete_count(&hl->seg) ? READY : WAIT;
	if (r->file == HLS_INIT)
		return hls_stream_init_segment(&hl->seg, (uint32_t)r->msn) ? READY : GONE;
	return r->file == HLS_PLAYLIST ? playlist_ready(hl, r) : media_ready(hl, r);
}

/* Answers r on c with what is there now (READY, or a deadline passed). */
static void answer(struct hls_live *hl, struct http_conn *c, const struct hls_request *r,
                   const char *q, enum readiness st)
{
	if (st == TOO_FAR) {
		http_respond_error(c, 400, "_HLS_msn/_HLS_part is too far ahead of the playlist");
		return;
	}
	if (r->file == HLS_PLAYLIST) {
		if (hls_stream_complete_count(&hl->seg) == 0) {
			http_respond_error(c, 503, "the stream has no complete segment yet");
			return;
		}
		respond_playlist(hl, c, q);
		return;
	}
	if (r->file == HLS_MPD) {
		respond_mpd(hl, c, q);
		return;
	}
	if (r->file == HLS_INIT) {
		const struct rbuf *init = hls_stream_init_segment(&hl->seg, (uint32_t)r->msn);
		if (st != READY || !init) {
			http_respond_error(c, 404, "no such initialization segment");
			return;
		}
		if (r->track) {
			respond_track(c, &init, 1, 1, r->track);
			return;
		}
		struct http_body_ref ref = { init->data, init->len, (struct rbuf *)init };
		http_add_header(c, "Cache-Control", "max-age=3600, immutable");
		http_respond_refs(c, 200, mp4_type, &ref, 1);
		return;
	}
	const struct hls_segment *s = hls_stream_segment(&hl->seg, r->msn);
	if (st != READY || !s) {
		http_respond_error(c, 404, "no such segment or part (it left the window, or "
		                           "never will exist)");
		return;
	}
	const char *type = hl->seg.cfg.fmp4 ? mp4_type : ts_type;
	if (r->file == HLS_SEGMENT && r->track) {
		const struct rbuf *pieces[HLS_MAX_PARTS];
		for (unsigned i = 0; i < s->nparts; i++)
			pieces[i] = s->parts[i].data;
		respond_track(c, pieces, s->nparts, 0, r->track);
		return;
	}
	if (r->file == HLS_SEGMENT)
		respond_parts(c, s->parts, s->nparts, type);
	else
		respond_parts(c, &s->parts[r->part], 1, type);
}

static void waiter_free(struct hls_waiter *w)
{
	struct hls_live *hl = w->hl;
	struct hls_server *srv = hl->srv;
	list_del(&w->link);
	hl->nwaiters--;
	srv->held--;
	iplimit_release(&srv->held_per_addr, w->addr_key, now_ms(srv));
	free(w);
}

/* The client closed (or was kicked) while its request was held. */
static void waiter_gone(void *arg)
{
	waiter_free(arg);
}

static void waiter_done(struct hls_live *hl, struct hls_waiter *w, enum readiness st)
{
	http_conn_watch(w->c, NULL, NULL);
	answer(hl, w->c, &w->req, w->q, st);
	waiter_free(w);
}

/* Answers every held request that can be answered (expired ones too when now_ms is given). */
/*
 * LL-DASH: a request for one track of the open segment is answered at once with a chunked
 * response that carries each part as the packager completes it, and ends with the segment
 * (what availabilityTimeOffset in the manifest promises).  Each part is cut to the track
 * and written once; nothing waits in memory beyond libuv's write of that part.
 */
struct hls_streamer {
	struct list_node link;
	struct hls_live *hl;          /* NULL once the stream's packaging went away */
	struct http_conn *c;
	struct io_stream *sock;
	uint64_t msn;
	unsigned track;
	unsigned sent;                /* parts written */
	int ended;
};

struct part_write {
	uv_write_t req;
	struct bytes b;
};

static void part_written(uv_write_t *req, int status)
{
	struct part_write *w = container_of(req, struct part_write, req);
	(void)status;
	bytes_free(&w->b);
	free(w);
}

static void streamer_end(struct hls_streamer *st)
{
	if (st->ended)
		return;
	st->ended = 1;
	http_stream_end(st->c);
}

/* The connection closed (after the end, or the player left): on_close of the stream. */
static void streamer_gone(void *arg)
{
	struct hls_streamer *st = arg;
	if (st->hl) {
		list_del(&st->link);
		st->hl->nstreamers--;
	}
	free(st);
}

static void serve_streamer(struct hls_streamer *st)
{
	if (st->ended)
		return;
	const struct hls_segment *s = hls_stream_segment(&st->hl->seg, st->msn);
	if (!s) {
		streamer_end(st);
		return;
	}
	while (st->sent < s->nparts) {
		const struct rbuf *part = s->parts[st->sent++].data;
		struct bytes cut;
		bytes_init(&cut);
		if (fmp4_split_fragments(part->data, part->len, st->track, &cut) < 0) {
			bytes_free(&cut);
			http_conn_close(st->c, "LL-DASH part could not be cut");
			st->ended = 1;
			return;
		}
		if (cut.len == 0) {           /* a part without this track: nothing (0 would end) */
			bytes_free(&cut);
			continue;
		}
		struct part_write *w = xcalloc(1, sizeof(*w));
		bytes_init(&w->b);
		bytes_printf(&w->b, "%zx\r\n", cut.len);
		bytes_append(&w->b, cut.data, cut.len);
		bytes_append(&w->b, "\r\n", 2);
		bytes_free(&cut);
		http_conn_base(st->c)->bytes_out += w->b.len;
		uv_buf_t buf = uv_buf_init((char *)w->b.data, (unsigned)w->b.len);
		if (io_write(st->sock, &w->req, &buf, 1, part_written) < 0) {
			bytes_free(&w->b);
			free(w);
			http_conn_close(st->c, "write failed");
			st->ended = 1;
			return;
		}
	}
	if (s->complete)
		streamer_end(st);
}

static void serve_streamers(struct hls_live *hl)
{
	struct list_node *it, *tmp;
	list_for_each_safe(it, tmp, &hl->streamers)
		serve_streamer(list_entry(it, struct hls_streamer, link));
}

/* Everything ends: the stream's packaging is going away. */
static void end_streamers(struct hls_live *hl)
{
	struct list_node *it, *tmp;
	list_for_each_safe(it, tmp, &hl->streamers) {
		struct hls_streamer *st = list_entry(it, struct hls_streamer, link);
		list_del(&st->link);
		st->hl = NULL;
		streamer_end(st);
	}
	hl->nstreamers = 0;
}

/* 1 when the request was taken as an LL-DASH stream of the open segment. */
static int start_streamer(struct hls_live *hl, struct http_conn *c, const struct hls_request *r)
{
	const struct hls_segment *s = hls_stream_segment(&hl->seg, r->msn);
	if (!r->by_time || !r->track || !hl->seg.cfg.part_ms || !s || s->complete)
		return 0;
	if (hl->nwaiters + hl->nstreamers >= WAITERS_MAX) {
		hl->srv->held_refused++;
		http_respond_error(c, 503, "too many requests held for this stream");
		return 1;
	}
	struct hls_streamer *st = xcalloc(1, sizeof(*st));
	st->hl = hl;
	st->c = c;
	st->msn = r->msn;
	st->track = r->track;
	list_add_tail(&hl->streamers, &st->link);
	hl->nstreamers++;
	http_add_header(c, "Cache-Control", "no-cache");
	st->sock = http_stream_begin(c, 200, mp4_type, streamer_gone, st);
	serve_streamer(st);
	return 1;
}

static void serve_waiters(struct hls_live *hl, uint64_t expire_before)
{
	serve_streamers(hl);
	struct list_node *it, *tmp;
	list_for_each_safe(it, tmp, &hl->waiters) {
		struct hls_waiter *w = list_entry(it, struct hls_waiter, link);
		enum readiness st = readiness(hl, &w->req);
		if (st != WAIT)
			waiter_done(hl, w, st);
		else if (w->deadline_ms <= expire_before)
			waiter_done(hl, w, WAIT);
	}
}

static void hold(struct hls_live *hl, struct http_conn *c, const struct hls_request *r,
                 const char *q, uint64_t wait_ms)
{
	struct hls_server *srv = hl->srv;
	char key[IPLIMIT_KEY_MAX];
	const char *peer = http_conn_base(c)->peer;
	iplimit_key(peer, key, sizeof(key));
	const char *full = hl->nwaiters >= WAITERS_MAX ? "stream" : srv->held >= HELD_MAX ? "node"
	                 : iplimit_admit(&srv->held_per_addr, key, now_ms(srv)) < 0 ? "address" : NULL;
	if (full) {
		srv->held_refused++;
		log_throttled(LOG_INFO, "hls_hold_refused", "peer=%s app=%s stream=%s limit=%s "
		              "max=%u", peer, hl->app, hl->name, full, *full == 's' ? WAITERS_MAX :
		              *full == 'n' ? HELD_MAX : HELD_PER_ADDR_MAX);
		http_respond_error(c, 503, "too many requests held (blocking reloads): try again");
		return;
	}
	struct hls_waiter *w = xcalloc(1, sizeof(*w));
	w->hl = hl;
	w->c = c;
	snprintf(w->addr_key, sizeof(w->addr_key), "%s", key);
	w->req = *r;
	snprintf(w->q, sizeof(w->q), "%s", q);
	w->deadline_ms = now_ms(hl->srv) + wait_ms;
	list_add_tail(&hl->waiters, &w->link);
	hl->nwaiters++;
	srv->held++;
	http_conn_watch(c, waiter_gone, w);
}

/* ---- packaging: the stream's media hook ---- */

/*
 * Packages one message.  What the packager refuses is added to the node's
 * totals (/metrics) and, the first time for this stream, logged.
 */
static void feed(struct hls_live *hl, const struct media_msg *m, uint64_t wall_ms)
{
	struct hls_stream *h = &hl->seg;
	uint64_t dropped = h->frames_dropped, refused = h->configs_refused;
	int changed = hls_stream_feed(h, m->type, m->ts, m->body->data, m->body->len, wall_ms);
	if (h->frames_dropped != dropped) {
		hl->srv->frames_dropped += h->frames_dropped - dropped;
		if (dropped == 0)
			log_warn("hls_frame_dropped", "app=%s stream=%s type=%u ts=%u reason=\"the "
			         "packager cannot carry it (broken NAL lengths, AAC that MPEG-TS cannot "
			         "say, or over a part's limits)\" note=\"logged once per stream; "
			         "/metrics counts them all\"", hl->app, hl->name, m->type, m->ts);
	}
	if (h->configs_refused != refused) {
		hl->srv->configs_refused += h->configs_refused - refused;
		if (refused == 0)
			log_warn("hls_config_refused", "app=%s stream=%s type=%u reason=\"a sequence "
			         "header the packager cannot use: its media are not packaged, or fMP4 "
			         "segments go without an init segment\" note=\"logged once per stream\"",
			         hl->app, hl->name, m->type);
	}
	if (changed)
		serve_waiters(hl, 0);
}

static void on_media(void *arg, const struct media_msg *m)
{
	feed(arg, m, clock_wall_ms());
}

static void detach(struct hls_live *hl)
{
	if (!hl->s)
		return;
	hl->s->on_media = NULL;
	hl->s->on_media_arg = NULL;
	hl->s->hls_viewers = 0;
	stream_unref(hl->s);
	hl->s = NULL;
	/* The publisher left: what was open is the last segment until another comes. */
	if (hls_stream_discontinuity(&hl->seg, 1))
		serve_waiters(hl, 0);
}

/* Packages s from now on, starting with what its log still holds from a keyframe on. */
static void attach(struct hls_live *hl, struct stream *s)
{
	detach(hl);
	hl->s = stream_ref(s);
	s->on_media = on_media;
	s->on_media_arg = hl;
	struct fanout *f = &s->fanout;
	uint64_t now = uv_now(hl->srv->n->loop), wall = clock_wall_ms();
	for (int i = FANOUT_HDR_VIDEO; i <= FANOUT_HDR_AUDIO; i++)
		if (f->hdr[i])
			on_media(hl, f->hdr[i]);
	int started = 0;
	for (uint64_t seq = f->first_seq; seq < f->next_seq; seq++) {
		const struct media_msg *m = f->ring[seq & f->mask];
		if (!m)
			continue;
		started |= (m->flags & MSG_KEYFRAME) && m->type == 9;
		if (!started)
			continue;
		uint64_t age = now > m->arrival_ms ? now - m->arrival_ms : 0;
		feed(hl, m, wall - age);
	}
}

static void live_free(struct hls_live *hl)
{
	end_streamers(hl);
	struct list_node *it, *tmp;
	list_for_each_safe(it, tmp, &hl->waiters) {
		struct hls_waiter *w = list_entry(it, struct hls_waiter, link);
		waiter_done(hl, w, WAIT);
	}
	detach(hl);
	hls_stream_free(&hl->seg);
	free(hl);
}

/* ---- the server: lazily made, ticking only while some stream is packaged ---- */

static void tick_cb(uv_timer_t *t)
{
	struct hls_server *srv = t->data;
	uint64_t now = now_ms(srv);
	uint64_t idle = srv->n->cfg->hls_idle;
	srv->ticks++;
	size_t it = 0, ndead = 0;
	void *v;
	const char *dead[16];
	while (strmap_next(&srv->streams, &it, NULL, &v)) {
		struct hls_live *hl = v;
		struct stream *cur = stream_find(&srv->n->streams, hl->app, hl->name);
		if (cur && cur != hl->s)
			attach(hl, cur);            /* a new publisher: a discontinuity */
		else if (!cur && hl->s && !hl->s->live)
			detach(hl);
		serve_waiters(hl, now);
		if (hl->s && srv->ticks % 10 == 0)
			hl->s->hls_viewers = count_clients(hl, now);
		if (now - hl->last_request_ms > idle && hl->nwaiters == 0 && ndead < 16)
			dead[ndead++] = hl->key;
	}
	for (size_t i = 0; i < ndead; i++) {
		struct hls_live *hl = strmap_del(&srv->streams, dead[i]);
		log_info("hls_stop", "app=%s stream=%s reason=\"no request for %llu ms\"", hl->app,
		         hl->name, (unsigned long long)idle);
		live_free(hl);
	}
	if (srv->streams.count == 0) {
		uv_timer_stop(&srv->timer);
		srv->timer_on = 0;
	}
}

static struct hls_server *server(struct node *n)
{
	if (n->hls)
		return n->hls;
	struct hls_server *srv = xcalloc(1, sizeof(*srv));
	srv->n = n;
	strmap_init(&srv->streams);
	srv->cfg.segment_ms = (uint32_t)n->cfg->hls_segment;
	srv->cfg.part_ms = (uint32_t)n->cfg->hls_part;
	srv->cfg.window = (unsigned)n->cfg->hls_window;
	srv->cfg.fmp4 = strcmp(n->cfg->hls_format, "fmp4") == 0;
	iplimit_init(&srv->held_per_addr, HELD_PER_ADDR_MAX, 0, 0);
	srv->cfg.max_bytes = n->cfg->hls_buffer_max;
	if (srv->cfg.part_ms * 2 > srv->cfg.segment_ms)
		srv->cfg.part_ms = srv->cfg.segment_ms / 2; /* a segment holds parts */
	uv_timer_init(n->loop, &srv->timer);
	srv->timer.data = srv;
	n->hls = srv;
	return srv;
}

static void free_server(uv_handle_t *h)
{
	free(h->data);
}

void hls_server_stop(struct node *n)
{
	struct hls_server *srv = n->hls;
	if (!srv)
		return;
	n->hls = NULL;
	size_t it = 0;
	void *v;
	while (strmap_next(&srv->streams, &it, NULL, &v))
		live_free(v);
	strmap_free(&srv->streams);
	iplimit_free(&srv->held_per_addr);
	uv_close((uv_handle_t *)&srv->timer, free_server);
}

static struct hls_live *live_get(struct hls_server *srv, const char *app, const char *name,
                                 struct stream *s)
{
	char key[2 * HLS_NAME_MAX + 2];
	snprintf(key, sizeof(key), "%s/%s", app, name);
	struct hls_live *hl = strmap_get(&srv->streams, key);
	if (hl) {
		if (s && s != hl->s)
			attach(hl, s);
		return hl;
	}
	if (!s)
		return NULL;
	hl = xcalloc(1, sizeof(*hl));
	hl->srv = srv;
	snprintf(hl->key, sizeof(hl->key), "%s", key);
	snprintf(hl->app, sizeof(hl->app), "%s", app);
	snprintf(hl->name, sizeof(hl->name), "%s", name);
	list_init(&hl->waiters);
	list_init(&hl->streamers);
	/* MSNs start at the wall clock's seconds, so a URI is never reused by a later run. */
	hls_stream_init(&hl->seg, &srv->cfg, clock_wall_ms() / 1000);
	hl->last_request_ms = now_ms(srv);
	strmap_put(&srv->streams, hl->key, hl);
	log_info("hls_start", "app=%s stream=%s segment_ms=%u part_ms=%u window=%u format=%s",
	         app, name, srv->cfg.segment_ms, srv->cfg.part_ms, srv->cfg.window,
	         srv->cfg.fmp4 ? "fmp4" : "ts");
	attach(hl, s);
	if (!srv->timer_on) {
		uv_timer_start(&srv->timer, tick_cb, TICK_MS, TICK_MS);
		srv->timer_on = 1;
	}
	return hl;
}

/* ---- requests ---- */

int hls_http_handle(struct node *n, struct http_conn *c, const struct http_request *req)
{
	struct hls_request r;
	int rc = hls_parse_path(req->path, req->path_len, &r);
	if (rc == SL_ENOTFOUND)
		return 0;
	if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
		http_respond_error(c, 405, "use GET");
		return 1;
	}
	if (rc < 0 || !app_name_valid(r.app) || !stream_name_valid(r.name) ||
	    (req->query && hls_parse_query(req->query, req->query_len, &r) < 0)) {
		http_respond_error(c, 400, "bad HLS request: /APP/STREAM/index.m3u8[?_HLS_msn=M"
		                           "[&_HLS_part=P]], seg-M.ts|m4s, part-M.P.ts|m4s or "
		                           "init-I.mp4");
		return 1;
	}
	if (r.file == HLS_PAGE) {
		watch_page_serve(c);
		return 1;
	}
	struct conn *base = http_conn_base(c);
	char token[160] = "", q[200] = "";
	if (req->query)
		http_query_get(req->query, req->query_len, "token", token, sizeof(token));
	if (node_check_token(n, "play", r.app, r.name, token, base->peer, base->id) < 0) {
		http_respond_error(c, 403, "playing this stream needs a valid token (?token=...)");
		return 1;
	}
	if (n->cfg->publish_only && n->cluster.enabled) {
		http_respond_error(c, 403, "this origin is publish-only: watch through an edge");
		return 1;
	}
	if (*token) {
		/* Tokens are [0-9A-Za-z._-]: safe in a URI as they are. */
		size_t i;
		for (i = 0; token[i] && strchr("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
		                               "OPQRSTUVWXYZ._-~", token[i]); i++)
			;
		if (!token[i])
			snprintf(q, sizeof(q), "?token=%s", token);
	}
	struct hls_server *srv = server(n);
	struct stream *s = stream_find(&n->streams, r.app, r.name);
	if (!s && (r.file == HLS_PLAYLIST || r.file == HLS_MPD) && req->method == HTTP_GET)
		s = cluster_pull_stream(&n->cluster, r.app, r.name);
	struct hls_live *hl = live_get(srv, r.app, r.name, s);
	if (!hl) {
		n->stats.play_not_found++;
		char msg[320];
		snprintf(msg, sizeof(msg), "stream %s/%s is not live", r.app, r.name);
		http_respond_error(c, 404, msg);
		return 1;
	}
	if (r.file != HLS_PLAYLIST && r.file != HLS_MPD && (r.container == HLS_FMP4) != (hl->seg.cfg.fmp4 != 0)) {
		http_respond_error(c, 404, hl->seg.cfg.fmp4 ? "this node packages HLS as fMP4 (.m4s)"
		                                            : "this node packages HLS as MPEG-TS (.ts)");
		return 1;
	}
	resolve_time(&hl->seg, &r);
	uint64_t now = now_ms(srv);
	hl->last_request_ms = now;
	note_client(hl, base->peer, now);
	if (req->method == HTTP_GET && start_streamer(hl, c, &r))
		return 1;
	enum readiness st = readiness(hl, &r);
	if (st == WAIT && hl->s) {
		/* The configured target, not the longest segment seen: the publisher makes those. */
		uint64_t wait = 3 * (uint64_t)srv->cfg.segment_ms;
		if ((r.file == HLS_PLAYLIST || r.file == HLS_MPD) && !r.block &&
		    wait < FIRST_SEGMENT_WAIT_MS)
			wait = FIRST_SEGMENT_WAIT_MS;
		hold(hl, c, &r, q, wait < HOLD_MAX_MS ? wait : HOLD_MAX_MS);
		return 1;
	}
	answer(hl, c, &r, q, st);
	return 1;
}

void hls_http_counters(struct node *n, uint64_t *frames_dropped, uint64_t *configs_refused)
{
	*frames_dropped = n->hls ? n->hls->frames_dropped : 0;
	*configs_refused = n->hls ? n->hls->configs_refused : 0;
}

void hls_http_held(struct node *n, uint64_t *held, uint64_t *refused)
{
	*held = n->hls ? n->hls->held : 0;
	*refused = n->hls ? n->hls->held_refused : 0;
}
