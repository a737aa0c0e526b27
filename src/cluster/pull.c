/* SPDX-License-Identifier: Apache-2.0 */
/* pull.c - pulling a stream from upstream nodes, with failover (see pull.h). */
#include "cluster/pull.h"

#include <stdio.h>
#include <string.h>

#include "cluster/cluster.h"
#include "cluster/rtmp_client.h"
#include "core/log.h"
#include "core/mem.h"
#include "proto/amf0.h"
#include "proto/rtmp.h"
#include "proto/rtmp_msg.h"

static void try_next(struct pull *p, uint64_t now);

static void send_command(struct pull *p, uint32_t msid, struct bytes *amf)
{
	struct bytes b;
	bytes_init(&b);
	rtmp_put_command(&b, RTMP_CLIENT_CHUNK_SIZE, msid, amf);
	bytes_free(amf);
	bytes_init(amf);
	rtmp_client_send(p->link_c, &b);
}

static void on_ready(struct rtmp_client *c)
{
	struct pull *p = rtmp_client_owner(c);
	struct bytes amf;
	bytes_init(&amf);
	amf0_put_string(&amf, "createStream");
	amf0_put_number(&amf, 3);
	amf0_put_null(&amf);
	send_command(p, 0, &amf);
}

static void send_play(struct pull *p)
{
	struct bytes amf;
	bytes_init(&amf);
	amf0_put_string(&amf, "play");
	amf0_put_number(&amf, 4);
	amf0_put_null(&amf);
	amf0_put_string(&amf, p->name);
	amf0_put_number(&amf, -1000);
	send_command(p, p->msid, &amf);
}

/* The upstream is sending: count a failover if viewers had been on another one. */
static void playing(struct pull *p)
{
	struct cluster *cl = p->cl;
	uint64_t now = uv_now(cl->host.loop);
	snprintf(p->upstream, sizeof(p->upstream), "%s", rtmp_client_peer(p->link_c));
	if (p->ever_played) {
		p->failovers++;
		cl->failovers++;
		log_info("pull_failover", "app=%s stream=%s upstream=%s gap_ms=%llu", p->app, p->name,
		         p->upstream, (unsigned long long)(now - p->last_live_ms));
	} else {
		log_info("pull_start", "app=%s stream=%s upstream=%s setup_ms=%llu", p->app, p->name,
		         p->upstream, (unsigned long long)(now - p->started_ms));
	}
	p->state = PULL_PLAYING;
	p->ever_played = 1;
	p->rebase = p->have_out;
	p->tried = 0;
	p->not_found = 0;
	pull_gate_found(&cl->gate, p->app, p->name);
	snprintf(p->s->publisher_peer, sizeof(p->s->publisher_peer), "%.*s",
	         (int)sizeof(p->s->publisher_peer) - 1, p->upstream);
}

/* This upstream cannot serve us now: drop the link, and try the next one. */
static void lost(struct pull *p, const char *why, int not_found)
{
	if (p->state == PULL_PLAYING)
		log_info("pull_lost", "app=%s stream=%s upstream=%s reason=\"%s\"", p->app, p->name,
		         p->upstream, why);
	else
		log_debug("pull_miss", "app=%s stream=%s upstream=%s reason=\"%s\"", p->app, p->name,
		          p->link_c ? rtmp_client_peer(p->link_c) : "?", why);
	if (not_found)
		p->not_found++;
	struct rtmp_client *c = p->link_c;
	p->link_c = NULL;
	p->state = PULL_WAITING;
	if (c) {
		rtmp_client_set_owner(c, NULL); /* its closed() must not come back here */
		rtmp_client_close(c, why);
	}
	p->upstream[0] = '\0';
	try_next(p, uv_now(p->cl->host.loop));
}

static void on_status(struct pull *p, const struct rtmp_command *cmd)
{
	const char *code = cmd->nargs ? amf0_str(amf0_get(cmd->args[0], "code")) : NULL;
	if (!code)
		return;
	if (strcmp(code, "NetStream.Play.Start") == 0) {
		if (p->state != PULL_PLAYING)
			playing(p);
	} else if (strcmp(code, "NetStream.Play.StreamNotFound") == 0) {
		lost(p, "upstream does not have the stream", 1);
	} else if (strcmp(code, "NetStream.Play.UnpublishNotify") == 0 ||
	           strcmp(code, "NetStream.Play.Stop") == 0 ||
	           strcmp(code, "NetStream.Play.Failed") == 0) {
		lost(p, code, 0);
	}
}

static void on_command(struct pull *p, const struct rtmp_msg *m)
{
	struct rtmp_command cmd;
	static const struct amf0_limits lim = { 8, 256 };
	if (rtmp_command_decode(m->type, m->body->data, m->body->len, &lim, &cmd) < 0)
		return;
	double d;
	if (strcmp(cmd.name, "_result") == 0 && cmd.txid == 3 && cmd.nargs &&
	    amf0_num(cmd.args[0], &d) == 0 && d >= 1 && d < 1e6) {
		p->msid = (uint32_t)d;
		send_play(p);
	} else if (strcmp(cmd.name, "_error") == 0 && cmd.txid == 3) {
		rtmp_command_free(&cmd);
		lost(p, "upstream refused createStream", 0);
		return;
	} else if (strcmp(cmd.name, "onStatus") == 0) {
		on_status(p, &cmd);
	}
	rtmp_command_free(&cmd);
}

/* Script data the pull does not pass on: Flash's sample-access flag and other nodes'
 * cluster events (each node delivers the events meant for it itself). */
static int skip_data(const struct rtmp_msg *m)
{
	static const char *const names[] = { "|RtmpSampleAccess", "onClusterEvent" };
	const uint8_t *b = m->body->data;
	if (m->body->len < 3 || b[0] != 0x02)
		return 0;
	size_t n = (size_t)b[1] << 8 | b[2];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (n == strlen(names[i]) && m->body->len >= 3 + n && memcmp(b + 3, names[i], n) == 0)
			return 1;
	return 0;
}

/* The composition time offset of an AVC video message (presentation = decode + this). */
static int32_t video_cts(const struct rtmp_msg *m)
{
	const uint8_t *b = m->body->data;
	if (m->type != RTMP_MSG_VIDEO || m->body->len < 5 || (b[0] & 0x0f) != 7 || b[1] != 1)
		return 0;
	uint32_t v = (uint32_t)b[2] << 16 | (uint32_t)b[3] << 8 | b[4];
	return (int32_t)(v ^ 0x800000u) - 0x800000; /* sign-extend 24 bits */
}

static void on_media(struct pull *p, struct rtmp_msg *m)
{
	if (p->state != PULL_PLAYING)
		return;
	if (m->type == RTMP_MSG_DATA_AMF0 && skip_data(m))
		return;
	p->last_live_ms = uv_now(p->cl->host.loop);
	if (p->rebase) {
		/*
		 * Continue after everything viewers were shown: past the last decode time,
		 * and past the last presentation time, because the old upstream's last
		 * reference frame may be shown after B-frames that will now never come.
		 */
		uint32_t base = p->last_out_ts;
		if ((int32_t)(p->max_pts - base) > 0)
			base = p->max_pts;
		p->offset = base + 1 - m->ts;
		p->rebase = 0;
	}
	uint32_t ts = m->ts + p->offset;
	/* Audio and video interleave a few ms out of order, so the new upstream's first
	 * message may put the other track a little behind where it was: keep each track
	 * rising on its own, never touching order within the upstream's timeline. */
	int k = m->type == RTMP_MSG_AUDIO ? 0 : m->type == RTMP_MSG_VIDEO ? 1 : 2;
	if (p->have_type[k] && (int32_t)(ts - p->last_type_ts[k]) <= 0 && k != 2)
		ts = p->last_type_ts[k] + 1;
	p->last_type_ts[k] = ts;
	p->have_type[k] = 1;
	if (!p->have_out || (int32_t)(ts - p->last_out_ts) > 0)
		p->last_out_ts = ts;
	uint32_t pts = ts + (uint32_t)video_cts(m);
	if (!p->have_out || (int32_t)(pts - p->max_pts) > 0)
		p->max_pts = pts;
	p->have_out = 1;
	struct rbuf *body = m->body;
	m->body = NULL;
	stream_media(p->s, m->type, ts, body);
}

static void on_message(struct rtmp_client *c, struct rtmp_msg *m)
{
	struct pull *p = rtmp_client_owner(c);
	switch (m->type) {
	case RTMP_MSG_COMMAND_AMF0:
	case RTMP_MSG_COMMAND_AMF3:
		on_command(p, m);
		break;
	case RTMP_MSG_AUDIO:
	case RTMP_MSG_VIDEO:
	case RTMP_MSG_DATA_AMF0:
		on_media(p, m);
		break;
	case RTMP_MSG_USER_CONTROL: {
		uint16_t ev;
		uint32_t v;
		if (rtmp_parse_user_control(m->body->data, m->body->len, &ev, &v) == 0 &&
		    ev == RTMP_UC_STREAM_EOF && p->state == PULL_PLAYING)
			lost(p, "upstream ended the stream", 0);
		break;
	}
	default:
		break;
	}
}

static void on_closed(struct rtmp_client *c, const char *reason)
{
	struct pull *p = rtmp_client_owner(c);
	if (!p)
		return; /* a link we already gave up on */
	p->link_c = NULL;
	lost(p, reason, 0);
}

static const struct rtmp_client_ops pull_ops = { on_ready, on_message, on_closed };

/* Tries upstreams in turn from the one after the last; a full round that found nothing
 * waits a retry interval. */
static void try_next(struct pull *p, uint64_t now)
{
	struct cluster *cl = p->cl;
	if (p->link_c || cl->nup == 0)
		return;
	if (p->tried >= cl->nup) {
		/* A round is over; not_found stays for pull_tick to see. */
		p->tried = 0;
		p->next_try_ms = now + cl->host.cfg->retry_interval_ms;
		p->state = PULL_WAITING;
		return;
	}
	if (p->tried == 0)
		p->not_found = 0;
	int hint = p->tried == 0 ? cluster_origin_hint(cl, p->app, p->name) : -1;
	if (hint >= 0)
		p->up = (unsigned)hint; /* the stream manager says which origin has it */
	else if (p->tried == 0 && !p->ever_played)
		p->up = 0; /* until it has played, every round goes in the configured order */
	else
		p->up = (p->up + 1) % cl->nup;
	p->tried++;
	struct upstream *u = &cl->up[p->up];
	struct rtmp_client_config cc = {
		.host = u->host, .port = u->port, .app = p->app,
		.secret = cl->host.cfg->secret, .name = cl->host.name, .via = p->via,
		.timeout_ms = cl->host.cfg->upstream_timeout_ms, .limits = cl->host.cfg->rtmp_limits,
		.tls = cl->host.cfg->tls,
	};
	p->state = PULL_CONNECTING;
	p->attempts++;
	p->link_c = rtmp_client_open(cl->host.loop, &cc, &pull_ops, p);
}

struct pull *pull_open(struct cluster *cl, const char *app, const char *name, struct stream *s,
                       const char *via)
{
	struct pull *p = xcalloc(1, sizeof(*p));
	p->cl = cl;
	p->s = s;
	snprintf(p->app, sizeof(p->app), "%s", app);
	snprintf(p->name, sizeof(p->name), "%s", name);
	size_t vlen = via ? strlen(via) : 0, nlen = strlen(cl->host.name);
	if (vlen && vlen + nlen + 2 <= sizeof(p->via)) {
		memcpy(p->via, via, vlen);
		p->via[vlen] = ',';
		memcpy(p->via + vlen + 1, cl->host.name, nlen + 1);
	} else {
		snprintf(p->via, sizeof(p->via), "%s", cl->host.name);
	}
	uint64_t now = uv_now(cl->host.loop);
	p->started_ms = p->last_live_ms = now;
	p->up = 0;
	list_add_tail(&cl->pulls, &p->link);
	cl->npulls++;
	cl->pulls_started++;
	try_next(p, now);
	return p;
}

static void detach_link(struct pull *p)
{
	if (p->link_c) {
		struct rtmp_client *c = p->link_c;
		p->link_c = NULL;
		rtmp_client_set_owner(c, NULL);
		rtmp_client_close(c, "pull ended");
	}
}

void pull_free(struct pull *p, const char *why)
{
	log_info("pull_end", "app=%s stream=%s reason=\"%s\" failovers=%llu", p->app, p->name, why,
	         (unsigned long long)p->failovers);
	detach_link(p);
	list_del(&p->link);
	p->cl->npulls--;
	stream_unpublish(p->cl->host.streams, p->s);
	stream_unref(p->s);
	free(p);
}

void pull_tick(struct pull *p, uint64_t now)
{
	const struct cluster_settings *cfg = p->cl->host.cfg;
	if (p->link_c)
		rtmp_client_tick(p->link_c, now); /* may call lost() and move on */
	unsigned viewers = 0;
	for (int w = 0; w < WIRE_COUNT; w++)
		viewers += p->s->fanout.nviewers[w];
	viewers += p->s->hls_viewers;
	viewers += p->s->rtc_viewers;
	if (viewers) {
		p->no_viewers_since = 0;
	} else if (!p->no_viewers_since) {
		p->no_viewers_since = now;
	} else if (now - p->no_viewers_since >= cfg->pull_idle_ms) {
		pull_free(p, "no viewers");
		return;
	}
	/* Counted from the last media, whatever the links say: an upstream that answers
	 * Play.Start and then sends nothing cannot hold viewers past the linger. */
	if (now - p->last_live_ms >= cfg->linger_ms) {
		pull_free(p, p->ever_played ? "upstream gone past linger" :
		          "no upstream sent the stream in time");
		return;
	}
	if (p->state != PULL_PLAYING) {
		if (!p->ever_played && p->cl->nup && p->not_found >= p->cl->nup) {
			/* Not asked for again for a while, however many viewers ask (pull_gate.h). */
			pull_gate_missing(&p->cl->gate, p->app, p->name, now);
			pull_free(p, "no upstream has the stream");
			return;
		}
		if (!p->link_c && now >= p->next_try_ms)
			try_next(p, now);
	}
}

json_t *pull_to_json(const struct pull *p)
{
	static const char *const states[] = { "waiting", "connecting", "playing" };
	return json_pack("{s:s, s:s, s:s, s:s?, s:I, s:I}", "app", p->app, "stream", p->name,
	                 "state", states[p->state], "upstream", p->upstream[0] ? p->upstream : NULL,
	                 "failovers", (json_int_t)p->failovers, "attempts",
	                 (json_int_t)p->attempts);
}
