/* SPDX-License-Identifier: Apache-2.0 */
/* fanout.c - the per-stream log and its viewers (see fanout.h). */
#include "media/fanout.h"

#include <linux/sockios.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/log.h"
#include "core/mem.h"

/* One viewer's next write: iovecs over the shared messages' wire bytes. */
struct fanout_batch {
	uv_buf_t cipher;              /* a TLS viewer's records for the batched send (io_seal) */
	int sealed;                   /* plaintext io_seal took; -1: plain, bufs go as they are */
	uv_buf_t bufs[FANOUT_BATCH_MAX + FANOUT_HDR_COUNT + 1];
	struct media_msg *msgs[FANOUT_BATCH_MAX + FANOUT_HDR_COUNT + 1]; /* NULL: static bytes */
	unsigned n;
	size_t bytes;
};

static void viewer_flush(struct fanout_viewer *v);

/* Audio waits for video only while video came this recently (a camera turned off: it does not). */
#define HOLD_VIDEO_RECENT_MS 1000

void fanout_init(struct fanout *f, uv_loop_t *loop, const struct fanout_config *cfg)
{
	memset(f, 0, sizeof(*f));
	f->loop = loop;
	f->cfg = cfg;
	f->mask = 255;
	f->ring = xcalloc(f->mask + 1, sizeof(*f->ring));
	list_init(&f->viewers);
}

static void drop_prelude(struct fanout *f)
{
	for (int i = 0; i < FANOUT_HDR_COUNT; i++) {
		media_msg_unref(f->prelude[i]);
		f->prelude[i] = NULL;
	}
	f->prelude_valid = 0;
}

void fanout_set_flusher(struct fanout *f, struct fanout_flusher *fl)
{
	f->flusher = fl;
}

static void flush_viewers_batched(struct fanout *f, struct fanout_flusher *fl);
static void trim(struct fanout *f, uint64_t now);

static void flush_viewers(struct fanout *f)
{
	if (f->flusher && f->flusher->slots) {
		flush_viewers_batched(f, f->flusher);
	} else {
		struct list_node *n, *tmp;
		list_for_each_safe(n, tmp, &f->viewers)
			viewer_flush(list_entry(n, struct fanout_viewer, link));
	}
	/* The wire copies this flush built were charged: back under the cap. */
	if (f->ring && f->bytes > f->cfg->max_bytes)
		trim(f, uv_now(f->loop));
}

static void flush_dirty(struct fanout_flusher *fl)
{
	while (!list_empty(&fl->dirty)) {
		struct fanout *f = list_entry(fl->dirty.next, struct fanout, dirty_link);
		list_del(&f->dirty_link);
		f->dirty = 0;
		flush_viewers(f);
	}
}

static void check_cb(uv_check_t *h)
{
	struct fanout_flusher *fl = h->data;
	flush_dirty(fl);
	uv_check_stop(h);
}

static void timer_cb(uv_timer_t *h)
{
	struct fanout_flusher *fl = h->data;
	flush_dirty(fl);
}

static void unhold(struct fanout *f)
{
	if (f->held) {
		list_del(&f->hold_link);
		f->held = 0;
	}
}

/* Sends the audio whose wait for video is over; sleeps until the next one is due. */
static void hold_cb(uv_timer_t *h)
{
	struct fanout_flusher *fl = h->data;
	uint64_t now = uv_now(h->loop);
	while (!list_empty(&fl->held)) {
		struct fanout *f = list_entry(fl->held.next, struct fanout, hold_link);
		if (f->hold_until_ms > now) {
			uv_timer_start(h, hold_cb, f->hold_until_ms - now, 0);
			return;
		}
		unhold(f);
		flush_viewers(f);
	}
}

void fanout_flusher_init(struct fanout_flusher *fl, uv_loop_t *loop,
                         const struct fanout_config *cfg)
{
	memset(fl, 0, sizeof(*fl));
	list_init(&fl->dirty);
	list_init(&fl->held);
	fl->merge_ms = cfg->merge_ms;
	fl->audio_hold_ms = cfg->audio_hold_ms;
	if (cfg->batch_sends) {
		sendbatch_init(&fl->sb, 1);
		fl->slots = xcalloc(SENDBATCH_MAX, sizeof(*fl->slots));
	} else {
		sendbatch_init(&fl->sb, 0);
	}
	uv_check_init(loop, &fl->check);
	uv_timer_init(loop, &fl->timer);
	uv_timer_init(loop, &fl->hold_timer);
	fl->check.data = fl->timer.data = fl->hold_timer.data = fl;
	/* Each runs only while something waits to be sent. */
}

void fanout_flusher_close(struct fanout_flusher *fl)
{
	if (fl->closed)
		return;
	flush_dirty(fl);
	while (!list_empty(&fl->held)) {
		struct fanout *f = list_entry(fl->held.next, struct fanout, hold_link);
		unhold(f);
		flush_viewers(f);
	}
	fl->closed = 1;
	uv_close((uv_handle_t *)&fl->check, NULL);
	uv_close((uv_handle_t *)&fl->timer, NULL);
	uv_close((uv_handle_t *)&fl->hold_timer, NULL);
	sendbatch_free(&fl->sb);
	free(fl->slots);
	fl->slots = NULL;
}

void fanout_free(struct fanout *f)
{
	if (f->dirty)
		list_del(&f->dirty_link);
	unhold(f);
	for (uint64_t s = f->first_seq; s < f->next_seq; s++) {
		f->ring[s & f->mask]->charge = NULL; /* a viewer's write may still hold it */
		media_msg_unref(f->ring[s & f->mask]);
	}
	free(f->ring);
	f->ring = NULL;
	for (int i = 0; i < FANOUT_HDR_COUNT; i++) {
		media_msg_unref(f->hdr[i]);
		f->hdr[i] = NULL;
	}
	drop_prelude(f);
}

static struct media_msg *log_at(const struct fanout *f, uint64_t seq)
{
	return f->ring[seq & f->mask];
}

void fanout_set_header(struct fanout *f, enum fanout_header which, struct media_msg *m)
{
	media_msg_unref(f->hdr[which]);
	f->hdr[which] = m;
	drop_prelude(f);
}

static void grow_ring(struct fanout *f)
{
	uint64_t cap = (f->mask + 1) * 2;
	struct media_msg **ring = xcalloc(cap, sizeof(*ring));
	for (uint64_t s = f->first_seq; s < f->next_seq; s++)
		ring[s & (cap - 1)] = f->ring[s & f->mask];
	free(f->ring);
	f->ring = ring;
	f->mask = cap - 1;
}

static void pop_front(struct fanout *f)
{
	struct media_msg *m = log_at(f, f->first_seq);
	f->ring[f->first_seq & f->mask] = NULL;
	f->bytes -= media_msg_cost(m);
	m->charge = NULL; /* viewers may still package it: no longer ours to count */
	if (f->has_gop && f->gop_seq == f->first_seq)
		f->has_gop = 0; /* the GOP itself outgrew the byte cap */
	f->first_seq++;
	media_msg_unref(m);
}

/*
 * Keeps the current GOP, plus older messages only while a lagging viewer
 * could still be sent them (younger than the drop horizon), all within the
 * byte cap.
 */
static void trim(struct fanout *f, uint64_t now)
{
	while (f->first_seq < f->next_seq) {
		struct media_msg *m = log_at(f, f->first_seq);
		int in_gop = f->has_gop && f->cfg->gop_cache && m->seq >= f->gop_seq;
		int too_old = now - m->arrival_ms > f->cfg->lag_drop_ms;
		int too_many = f->cfg->max_msgs && f->next_seq - f->first_seq > f->cfg->max_msgs;
		if (f->bytes > f->cfg->max_bytes || too_many || (!in_gop && too_old))
			pop_front(f);
		else
			break;
	}
}

/*
 * With audio_hold_ms (and no merge window), an audio message of a stream
 * with video waits for the next video frame, at most that long, so the two
 * go out in one write: about half the writes per viewer, audio later by up
 * to a frame, no picture delayed.
 */
static int hold_for_video(struct fanout *f, struct fanout_flusher *fl,
                          const struct media_msg *m, uint64_t now)
{
	if (fl->merge_ms || !fl->audio_hold_ms || m->type != 8 || !f->has_video ||
	    now - f->last_video_ms > HOLD_VIDEO_RECENT_MS)
		return 0;
	if (!f->held) {
		f->held = 1;
		f->hold_until_ms = now + fl->audio_hold_ms;
		list_add_tail(&fl->held, &f->hold_link);
		if (!uv_is_active((uv_handle_t *)&fl->hold_timer))
			uv_timer_start(&fl->hold_timer, hold_cb, fl->audio_hold_ms, 0);
	}
	return 1;
}

void fanout_append(struct fanout *f, struct media_msg *m)
{
	uint64_t now = uv_now(f->loop);
	if (f->next_seq - f->first_seq > f->mask)
		grow_ring(f);
	m->seq = f->next_seq++;
	m->arrival_ms = now;
	f->ring[m->seq & f->mask] = m;
	f->bytes += media_msg_cost(m);
	m->charge = &f->bytes;
	f->last_ts = m->ts;
	if (m->type == 9) {
		f->has_video = 1;
		f->last_video_ms = now;
	}
	if (m->flags & MSG_KEYFRAME) {
		f->gop_seq = m->seq;
		f->has_gop = 1;
	}
	trim(f, now);

	struct fanout_flusher *fl = f->flusher;
	if (!fl || fl->closed) {
		flush_viewers(f);
		return;
	}
	if (f->dirty || list_empty(&f->viewers))
		return;
	if (hold_for_video(f, fl, m, now))
		return;
	unhold(f);
	f->dirty = 1;
	list_add_tail(&fl->dirty, &f->dirty_link);
	if (!fl->merge_ms)
		uv_check_start(&fl->check, check_cb);
	else if (!uv_is_active((uv_handle_t *)&fl->timer))
		uv_timer_start(&fl->timer, timer_cb, fl->merge_ms, 0);
}

void fanout_end(struct fanout *f)
{
	struct list_node *n, *tmp;
	list_for_each_safe(n, tmp, &f->viewers) {
		struct fanout_viewer *v = list_entry(n, struct fanout_viewer, link);
		v->ops->end(v);
	}
}

static void prelude_for(struct fanout *f, uint32_t ts)
{
	if (f->prelude_valid && f->prelude_ts == ts)
		return;
	drop_prelude(f);
	for (int i = 0; i < FANOUT_HDR_COUNT; i++)
		if (f->hdr[i])
			f->prelude[i] = media_msg_restamp(f->hdr[i], ts);
	f->prelude_ts = ts;
	f->prelude_valid = 1;
}

void fanout_viewer_start(struct fanout *f, struct fanout_viewer *v, struct io_stream *sock,
                         enum wire_format wire, const struct fanout_viewer_ops *ops,
                         void *owner, uint64_t *bytes_out)
{
	memset(v, 0, sizeof(*v));
	v->f = f;
	v->sock = sock;
	v->fd = io_fd(sock);
	v->wire = wire;
	v->ops = ops;
	v->owner = owner;
	v->bytes_out = bytes_out;
	v->need_prelude = 1;
	if (f->cfg->gop_cache && f->has_gop && f->gop_seq >= f->first_seq) {
		v->next_seq = f->gop_seq;
		v->start_ts = log_at(f, f->gop_seq)->ts;
		/* The cached GOP is a backlog the viewer asked for, not one it fell into. */
		v->lag_base_ms = uv_now(f->loop) - log_at(f, f->gop_seq)->arrival_ms;
	} else {
		v->next_seq = f->next_seq;
		v->start_ts = f->last_ts;
		v->wait_key = 1;
	}
	list_add_tail(&f->viewers, &v->link);
	f->nviewers[wire]++;
	viewer_flush(v);
}

void fanout_viewer_stop(struct fanout_viewer *v)
{
	if (!v->f)
		return;
	v->f->nviewers[v->wire]--;
	list_del(&v->link);
	v->f = NULL;
	/* An in-flight write keeps its references until its callback runs. */
}

static void release_held(struct fanout_viewer *v)
{
	for (unsigned i = 0; i < v->nheld; i++)
		media_msg_unref(v->held[i]);
	v->nheld = 0;
}

static void drop(struct fanout_viewer *v, const char *reason)
{
	if (v->f)
		v->f->drops++;
	v->ops->drop(v, reason);
}

static void write_cb(uv_write_t *req, int status)
{
	struct fanout_viewer *v = req->data;
	release_held(v);
	v->writing = 0;
	v->write_started_ms = 0;
	if (!v->f)
		return; /* stopped meanwhile */
	if (status < 0) {
		drop(v, uv_strerror(status));
		return;
	}
	if (v->next_seq == v->f->next_seq)
		v->lag_base_ms = 0;
	viewer_flush(v);
}

/* A viewer's lag behind live, not counting the cached GOP it chose to start on. */
static uint64_t lag_of(const struct fanout_viewer *v, uint64_t age_ms)
{
	return age_ms > v->lag_base_ms ? age_ms - v->lag_base_ms : 0;
}

/* Moves v forward past a backlog: to the newest keyframe, or to wait for the next. */
static void skip(struct fanout_viewer *v, const char *why, uint64_t lag_ms)
{
	struct fanout *f = v->f;
	uint64_t from = v->next_seq;
	if (f->has_gop && f->gop_seq > v->next_seq && f->gop_seq >= f->first_seq) {
		v->next_seq = f->gop_seq;
		v->wait_key = 0;
		v->lag_base_ms = uv_now(f->loop) - log_at(f, f->gop_seq)->arrival_ms;
	} else {
		v->next_seq = f->next_seq;
		v->wait_key = 1;
		v->lag_base_ms = 0;
	}
	v->skips++;
	f->skips++;
	log_debug("viewer_skip", "reason=%s lag_ms=%llu skipped_msgs=%llu", why,
	          (unsigned long long)lag_ms, (unsigned long long)(v->next_seq - from));
}

static void batch_add(struct fanout_batch *b, struct media_msg *m, enum wire_format wire)
{
	const struct rbuf *w = media_msg_wire(m, wire);
	b->bufs[b->n] = uv_buf_init((char *)w->data, w->len);
	b->msgs[b->n] = m;
	b->n++;
	b->bytes += w->len;
}

/* Gathers into b what v is due, after skipping a backlog it cannot catch up; b->n 0: nothing. */
static void viewer_collect(struct fanout_viewer *v, struct fanout_batch *b, uint64_t now)
{
	struct fanout *f = v->f;
	b->n = 0;
	b->bytes = 0;
	if (v->next_seq < f->first_seq)
		skip(v, "fell_off_log", 0);
	if (v->next_seq < f->next_seq) {
		uint64_t lag = lag_of(v, now - log_at(f, v->next_seq)->arrival_ms);
		if (lag > f->cfg->lag_skip_ms)
			skip(v, "lag", lag);
	}

	if (v->need_prelude) {
		if (v->wire == WIRE_FLV) {
			b->bufs[b->n] = uv_buf_init((char *)media_flv_preamble,
			                            (unsigned)media_flv_preamble_len);
			b->msgs[b->n++] = NULL;
			b->bytes += media_flv_preamble_len;
		}
		prelude_for(f, v->start_ts);
		for (int i = 0; i < FANOUT_HDR_COUNT; i++)
			if (f->prelude[i])
				batch_add(b, f->prelude[i], v->wire);
		v->need_prelude = 0;
	}
	uint64_t seq = v->next_seq;
	for (; seq < f->next_seq && b->n < FANOUT_BATCH_MAX + FANOUT_HDR_COUNT &&
	       b->bytes < f->cfg->batch_bytes; seq++) {
		struct media_msg *m = log_at(f, seq);
		if (v->wait_key) {
			if (m->flags & MSG_KEYFRAME)
				v->wait_key = 0;
			else if (!(m->flags & (MSG_SEQ_HEADER | MSG_METADATA)))
				continue;
		}
		batch_add(b, m, v->wire);
	}
	v->next_seq = seq;
}

/*
 * Finishes a write of b to v, of which the socket took w bytes (or refused
 * with a negative errno): the rest goes to libuv, holding references to the
 * messages until it is written.
 */
static void viewer_wrote(struct fanout_viewer *v, struct fanout_batch *b, ssize_t w, uint64_t now)
{
	struct fanout *f = v->f;
	if (w < 0 && w != UV_EAGAIN) {
		drop(v, uv_strerror((int)w));
		return;
	}
	size_t sent = w > 0 ? (size_t)w : 0;
	*v->bytes_out += sent;
	if (sent == b->bytes) {
		if (v->next_seq == f->next_seq)
			v->lag_base_ms = 0; /* caught up with live: from here on, lag is real */
		return;
	}

	unsigned i = 0;
	while (sent >= b->bufs[i].len) {
		sent -= b->bufs[i].len;
		i++;
	}
	b->bufs[i].base += sent;
	b->bufs[i].len -= sent;
	v->nheld = 0;
	size_t rest = 0;
	for (unsigned j = i; j < b->n; j++) {
		rest += b->bufs[j].len;
		if (b->msgs[j])
			v->held[v->nheld++] = media_msg_ref(b->msgs[j]);
	}
	v->req.data = v;
	int rc = io_write(v->sock, &v->req, b->bufs + i, b->n - i, write_cb);
	if (rc < 0) {
		release_held(v);
		drop(v, uv_strerror(rc));
		return;
	}
	v->writing = 1;
	v->write_started_ms = now;
	*v->bytes_out += rest;   /* counted now: libuv owns it and will send or fail */
}

static void viewer_flush(struct fanout_viewer *v)
{
	if (!v->f || v->writing)
		return;
	uint64_t now = uv_now(v->f->loop);
	struct fanout_batch b;
	viewer_collect(v, &b, now);
	if (b.n == 0)
		return;
	viewer_wrote(v, &b, io_try_write(v->sock, b.bufs, b.n), now);
}

/*
 * Every viewer of f, SENDBATCH_MAX at a time through one batched send (see
 * sendbatch.h); the results are handled exactly as viewer_flush handles its
 * one write's.  Handling a result may drop that viewer, never another, so
 * the walk resumes safely at the first viewer not yet gathered.
 */
static void flush_viewers_batched(struct fanout *f, struct fanout_flusher *fl)
{
	uint64_t now = uv_now(f->loop);
	struct fanout_viewer *who[SENDBATCH_MAX];
	struct list_node *n = f->viewers.next;
	while (n != &f->viewers) {
		while (n != &f->viewers && !sendbatch_full(&fl->sb)) {
			struct fanout_viewer *v = list_entry(n, struct fanout_viewer, link);
			n = n->next;
			if (v->writing)
				continue;
			if (v->fd < 0 || io_is_closing(v->sock) || io_write_queue_size(v->sock) > 0) {
				/* Through libuv: a closing handle's descriptor may already belong to
				 * another connection (libuv refuses the write, the viewer is dropped);
				 * bytes the owner queued in libuv (a control message) must not be
				 * overtaken. */
				viewer_flush(v);
				continue;
			}
			struct fanout_batch *b = &fl->slots[fl->sb.n];
			viewer_collect(v, b, now);
			if (b->n == 0)
				continue;
			b->sealed = -1;
			if (io_is_tls(v->sock)) {
				/* Encrypted here, sent with the batch: TLS viewers keep the one
				 * system call per SENDBATCH_MAX writes. */
				int taken = io_seal(v->sock, b->bufs, b->n, &b->cipher);
				if (taken < 0) {
					viewer_wrote(v, b, taken, now); /* EAGAIN: queued behind */
					continue;
				}
				b->sealed = taken;
				who[sendbatch_add(&fl->sb, v->fd, (const struct iovec *)&b->cipher, 1)] = v;
				continue;
			}
			/* uv_buf_t is laid out as struct iovec on Unix (libuv guarantees it). */
			who[sendbatch_add(&fl->sb, v->fd, (const struct iovec *)b->bufs, b->n)] = v;
		}
		unsigned k = fl->sb.n;
		sendbatch_run(&fl->sb);
		for (unsigned i = 0; i < k; i++) {
			struct fanout_batch *b = &fl->slots[i];
			ssize_t r = fl->sb.result[i];
			if (b->sealed >= 0) {
				io_sealed_sent(who[i]->sock, r);
				r = r < 0 && r != UV_EAGAIN ? r : b->sealed;
			}
			viewer_wrote(who[i], b, r, now);
		}
	}
}

/* How far behind v is, in ms: what we still hold for it plus the kernel's queue. */
static uint64_t backlog_ms(struct fanout_viewer *v, uint64_t now, uint64_t rate)
{
	struct fanout *f = v->f;
	uint64_t ours = 0;
	if (v->nheld)
		ours = now - v->held[0]->arrival_ms;
	else if (v->next_seq < f->next_seq && v->next_seq >= f->first_seq)
		ours = now - log_at(f, v->next_seq)->arrival_ms;
	uint64_t kernel = 0;
	uv_os_fd_t fd;
	int queued = 0;
	if (rate > 0 && uv_fileno(&v->sock->u.handle, &fd) == 0 &&
	    ioctl(fd, SIOCOUTQ, &queued) == 0 && queued > 0)
		kernel = (uint64_t)queued * 1000 / rate;
	return lag_of(v, ours + kernel);
}

void fanout_tick(struct fanout *f, uint64_t now, uint64_t rate_bytes_per_sec)
{
	f->rate_bytes_per_sec = rate_bytes_per_sec;
	trim(f, now);
	struct list_node *n, *tmp;
	list_for_each_safe(n, tmp, &f->viewers) {
		struct fanout_viewer *v = list_entry(n, struct fanout_viewer, link);
		if (v->writing && now - v->write_started_ms > f->cfg->send_timeout_ms) {
			log_info("viewer_too_slow", "reason=send_timeout stalled_ms=%llu limit_ms=%llu",
			         (unsigned long long)(now - v->write_started_ms),
			         (unsigned long long)f->cfg->send_timeout_ms);
			drop(v, "send timeout");
			continue;
		}
		uint64_t lag = backlog_ms(v, now, rate_bytes_per_sec);
		if (lag > f->cfg->lag_drop_ms) {
			log_info("viewer_too_slow", "reason=backlog backlog_ms=%llu limit_ms=%llu "
			         "skips=%llu", (unsigned long long)lag,
			         (unsigned long long)f->cfg->lag_drop_ms, (unsigned long long)v->skips);
			drop(v, "backlog over limit");
			continue;
		}
		/* A viewer whose socket cleared while nothing new arrived catches up now. */
		viewer_flush(v);
	}
}
