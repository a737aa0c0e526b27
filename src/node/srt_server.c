/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srt_server.c - the SRT listener: libsrt's readiness brought into the uv
 * loop (see srt_server.h for why a waiter thread and a semaphore), accept
 * with the stream id checked, admission (connection table, tokens, roles,
 * publisher limits), and closing.  The media paths are srt_conn.c's.
 */
/* libsrt first: its syslog.h names clash with core/log.h's levels, which win. */
#include <srt/srt.h>
#include <srt/access_control.h>
#undef LOG_DEBUG
#undef LOG_INFO

#include "node/srt_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/net.h"
#include "core/strmap.h"
#include "node/admission.h"
#include "proto/srt_streamid.h"

#define SRT_EVENTS_MAX 64              /* ready sockets handled per wake */
#define SRT_WAIT_MS 200                /* the waiter checks for shutdown this often */
#define SRT_LISTEN_BACKLOG 128
/* A plain-id caller that sends nothing this long is a viewer (a publisher sends at once). */
#define SRT_SNIFF_MS 1000

struct srt_server {
	struct node *n;
	SRTSOCKET lsn;
	int eid;
	uv_async_t wake;
	uv_sem_t resume;
	uv_thread_t waiter;
	atomic_int stop;
	atomic_ullong bad_streamid;        /* written by libsrt's thread */
	struct strmap socks;               /* "%d" socket -> struct srt_conn */
	struct srt_stats stats;
	struct log_throttle refuse_log;
};

static struct srt_server *server_of(struct node *n)
{
	return n->srt;
}

struct srt_stats *srt_conn_stats(struct srt_conn *c)
{
	return &c->srv->stats;
}

uint64_t srt_viewer_buffer(struct srt_conn *c)
{
	return c->srv->n->cfg->srt_viewer_buffer;
}

/* The waiter: blocks in libsrt, wakes the loop, waits until the loop is done. */
static void waiter_main(void *arg)
{
	struct srt_server *s = arg;
	while (!atomic_load(&s->stop)) {
		SRT_EPOLL_EVENT ev[1];
		int r = srt_epoll_uwait(s->eid, ev, 1, SRT_WAIT_MS);
		if (r <= 0 || atomic_load(&s->stop))
			continue;
		uv_async_send(&s->wake);
		uv_sem_wait(&s->resume);
	}
}

/*
 * Runs in libsrt's thread during the handshake: only the pure stream id
 * parse, so a caller with an id we cannot serve is refused with a reason
 * it can show (1400 bad request, 1405 bad mode, 1415 not a stream) before
 * any socket exists.  Tokens, roles and limits are decided on the loop.
 */
static int listen_hook(void *opaque, SRTSOCKET ns, int hsversion, const struct sockaddr *peer,
                       const char *streamid)
{
	struct srt_server *s = opaque;
	(void)hsversion;
	(void)peer;
	struct srt_streamid id;
	int rc = srt_streamid_parse(streamid ? streamid : "", streamid ? strlen(streamid) : 0, &id);
	if (rc == 0)
		return 0;
	atomic_fetch_add(&s->bad_streamid, 1);
	srt_setrejectreason(ns, rc == SL_EUNSUPP ? SRT_REJX_BAD_MODE : SRT_REJX_BAD_REQUEST);
	return -1;
}

static void peer_name(const struct sockaddr_storage *ss, char *out, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		port = ntohs(a->sin_port);
		snprintf(out, n, "%s:%d", ip, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
		snprintf(out, n, "[%s]:%d", ip, port);
	} else {
		snprintf(out, n, "?");
	}
}

static void conn_freed(struct srt_conn *c)
{
	free(c);
}

void srt_conn_close(struct srt_conn *c, const char *reason)
{
	if (c->closing)
		return;
	c->closing = 1;
	struct srt_server *s = c->srv;
	struct node *n = s->n;
	/* What SRT did for the link: losses it saw, what it resent, what came too late. */
	SRT_TRACEBSTATS st;
	memset(&st, 0, sizeof(st));
	srt_bstats(c->sock, &st, 0);
	log_info("srt_close", "client=%llu peer=%s app=%s stream=%s reason=\"%s\" bytes_in=%llu "
	         "bytes_out=%llu rcv_loss=%d rcv_drop=%d snd_loss=%d retrans=%d snd_drop=%d "
	         "rtt_ms=%.1f", (unsigned long long)c->base.id, c->base.peer, c->app, c->name,
	         reason, (unsigned long long)c->base.bytes_in,
	         (unsigned long long)c->base.bytes_out, st.pktRcvLossTotal, st.pktRcvDropTotal,
	         st.pktSndLossTotal, st.pktRetransTotal, st.pktSndDropTotal, st.msRTT);
	srt_epoll_remove_usock(s->eid, c->sock);
	strmap_del(&s->socks, c->key);
	srt_close(c->sock);
	if (c->base.ops)
		conn_table_remove(&n->conns, &c->base);
	if (c->counts_as_publisher) {
		node_publisher_end(n, c->ipkey);
		c->counts_as_publisher = 0;
	}
	if (c->publishing && c->stream) {
		s->stats.ts_cc_errors += c->demux.stats.cc_errors;
		s->stats.ts_pes_dropped += c->demux.stats.pes_dropped;
		stream_unpublish(&n->streams, c->stream);
	}
	srt_conn_media_close(c, conn_freed);
}

void srt_conn_want_out(struct srt_conn *c, int on)
{
	if (c->want_out == on || c->closing)
		return;
	c->want_out = on;
	int ev = SRT_EPOLL_ERR | SRT_EPOLL_IN | (on ? SRT_EPOLL_OUT : 0);
	srt_epoll_update_usock(c->srv->eid, c->sock, &ev);
}

static void kick(struct conn *base, const char *reason)
{
	srt_conn_close(container_of(base, struct srt_conn, base), reason);
}

static void describe(struct conn *base, json_t *o)
{
	struct srt_conn *c = container_of(base, struct srt_conn, base);
	json_object_set_new(o, "role", json_string(c->publishing ? "publisher"
	                                            : c->playing ? "viewer" : "none"));
	json_object_set_new(o, "protocol", json_string("srt"));
	if (c->app[0])
		json_object_set_new(o, "app", json_string(c->app));
	if (c->name[0])
		json_object_set_new(o, "stream", json_string(c->name));
	if (c->playing)
		json_object_set_new(o, "skips", json_integer((json_int_t)c->tap.v.skips));
	/* What SRT did for the link so far. */
	SRT_TRACEBSTATS st;
	memset(&st, 0, sizeof(st));
	if (srt_bstats(c->sock, &st, 0) == 0) {
		json_t *l = json_object();
		json_object_set_new(l, "rtt_ms", json_real(st.msRTT));
		json_object_set_new(l, "recv_lost", json_integer(st.pktRcvLossTotal));
		json_object_set_new(l, "recv_dropped", json_integer(st.pktRcvDropTotal));
		json_object_set_new(l, "sent_lost", json_integer(st.pktSndLossTotal));
		json_object_set_new(l, "retransmitted", json_integer(st.pktRetransTotal));
		json_object_set_new(l, "send_dropped", json_integer(st.pktSndDropTotal));
		json_object_set_new(o, "srt", l);
	}
}

static const struct conn_ops srt_conn_ops = { kick, describe };

static void refuse(struct srt_conn *c, const char *reason)
{
	struct srt_server *s = c->srv;
	s->stats.refused++;
	char eapp[160], ename[160];
	log_limited(&s->refuse_log, LOG_THROTTLE_PER_SEC, LOG_INFO, "srt_refused",
	            "client=%llu peer=%s app=%s stream=%s reason=\"%s\"",
	            (unsigned long long)c->base.id, c->base.peer,
	            log_escape(c->app, eapp, sizeof(eapp)), log_escape(c->name, ename, sizeof(ename)),
	            reason);
	srt_conn_close(c, reason);
}

static int publisher_admit(struct srt_conn *c)
{
	const char *limit;
	if (node_publisher_room(c->srv->n, c->ipkey, &limit) < 0) {
		refuse(c, limit);
		return -1;
	}
	return 0;
}

/* 0 when c publishes; -1 when it was refused (and c is gone). */
static int start_publish(struct srt_conn *c)
{
	struct node *n = c->srv->n;
	if (!cluster_takes_publishers(&n->cluster)) {
		n->stats.publish_refused++;
		refuse(c, "this node does not take publishers: publish to an origin");
		return -1;
	}
	if (publisher_admit(c) < 0)
		return -1;
	struct stream *st;
	int rc = stream_publish(&n->streams, c->app, c->name, c->base.id, c->base.peer, &st);
	if (rc == SL_EFULL) {
		n->stats.publish_refused++;
		n->stats.publish_refused_limit[LIMIT_STREAMS]++;
		refuse(c, "max-streams");
		return -1;
	}
	if (rc < 0) {
		n->stats.publish_refused++;
		refuse(c, rc == SL_EEXIST ? "already publishing" : "bad name");
		return -1;
	}
	c->stream = st;
	c->publishing = 1;
	c->counts_as_publisher = 1;
	node_publisher_begin(n, c->ipkey);
	c->srv->stats.publishes++;
	c->last_media_ms = uv_now(n->loop);
	srt_conn_publish_start(c);
	log_info("publish_start", "client=%llu peer=%s protocol=srt app=%s stream=%s",
	         (unsigned long long)c->base.id, c->base.peer, c->app, c->name);
	return 0;
}

/* 0 when c plays; -1 when it was refused (and c is gone). */
static int start_play(struct srt_conn *c)
{
	struct node *n = c->srv->n;
	if (n->cfg->publish_only && n->cluster.enabled) {
		refuse(c, "this origin is publish-only: watch through an edge");
		return -1;
	}
	struct stream *st = stream_find(&n->streams, c->app, c->name);
	if (!st)
		st = cluster_pull_stream(&n->cluster, c->app, c->name);
	if (!st) {
		n->stats.play_not_found++;
		refuse(c, "not live");
		return -1;
	}
	if (srt_conn_play_start(c, st) < 0) {
		srt_conn_close(c, "could not start the viewer");
		return -1;
	}
	c->playing = 1;
	n->stats.plays++;
	c->srv->stats.plays++;
	log_info("play_start", "client=%llu peer=%s protocol=srt app=%s stream=%s",
	         (unsigned long long)c->base.id, c->base.peer, c->app, c->name);
	return 0;
}

/* Publish or play, once the token allows it: 0, or -1 when c was refused and is gone
 * (freed at once when it held nothing: the caller must not touch it). */
static int decide(struct srt_conn *c, int publish, const char *token)
{
	struct node *n = c->srv->n;
	c->undecided = 0;
	if (node_check_token(n, publish ? "publish" : "play", c->app, c->name, token,
	                     c->base.peer, c->base.id) < 0) {
		refuse(c, "needs a valid token (t= in the streamid)");
		return -1;
	}
	return publish ? start_publish(c) : start_play(c);
}

static void accept_one(struct srt_server *s, SRTSOCKET sock, const struct sockaddr_storage *ss)
{
	struct node *n = s->n;
	struct srt_conn *c = xcalloc(1, sizeof(*c));
	c->srv = s;
	c->sock = sock;
	list_init(&c->base.link);
	snprintf(c->key, sizeof(c->key), "%d", (int)sock);
	strmap_put(&s->socks, c->key, c);
	int ev = SRT_EPOLL_IN | SRT_EPOLL_ERR;
	srt_epoll_add_usock(s->eid, sock, &ev);
	char peer[64];
	peer_name(ss, peer, sizeof(peer));
	iplimit_key(peer, c->ipkey, sizeof(c->ipkey));
	int admit = n->stopping ? 0 : conn_table_add(&n->conns, &c->base, "srt", peer,
	                                             &srt_conn_ops);
	if (n->stopping || admit < 0) {
		conn_table_log_refusal(&n->conns, "srt", peer, admit);
		snprintf(c->base.peer, sizeof(c->base.peer), "%s", peer);
		srt_conn_close(c, n->stopping ? "shutting down" : conn_refusal_reason(admit));
		return;
	}
	s->stats.accepted++;
	c->max_frame = n->cfg->max_message_size;
	char sid[SRT_STREAMID_MAX + 1];
	int len = (int)sizeof(sid) - 1;
	struct srt_streamid id;
	if (srt_getsockflag(sock, SRTO_STREAMID, sid, &len) < 0 || len < 0)
		len = 0;
	sid[len] = 0;
	if (srt_streamid_parse(sid, (size_t)len, &id) < 0) {
		n->stats.protocol_errors++;
		refuse(c, "bad streamid");
		return;
	}
	snprintf(c->app, sizeof(c->app), "%s", id.app);
	snprintf(c->name, sizeof(c->name), "%s", id.name);
	c->accepted_ms = uv_now(n->loop);
	if (!id.mode_set) {
		/* Plain APP/STREAM: a live key is watched; else the caller publishes if it sends. */
		if (stream_find(&n->streams, id.app, id.name)) {
			id.publish = 0;
		} else {
			snprintf(c->token, sizeof(c->token), "%s", id.token);
			c->undecided = 1;
			return;
		}
	}
	decide(c, id.publish, id.token);
}

static void accept_all(struct srt_server *s)
{
	for (;;) {
		struct sockaddr_storage ss;
		int len = sizeof(ss);
		memset(&ss, 0, sizeof(ss));
		SRTSOCKET sock = srt_accept(s->lsn, (struct sockaddr *)&ss, &len);
		if (sock == SRT_INVALID_SOCK)
			return;
		accept_one(s, sock, &ss);
	}
}

static void on_wake(uv_async_t *h)
{
	struct srt_server *s = h->data;
	SRT_EPOLL_EVENT ev[SRT_EVENTS_MAX];
	int r = srt_epoll_uwait(s->eid, ev, SRT_EVENTS_MAX, 0);
	for (int i = 0; i < r && i < SRT_EVENTS_MAX; i++) {
		if (ev[i].fd == s->lsn) {
			accept_all(s);
			continue;
		}
		char key[24];
		snprintf(key, sizeof(key), "%d", (int)ev[i].fd);
		struct srt_conn *c = strmap_get(&s->socks, key);
		if (!c) {
			srt_epoll_remove_usock(s->eid, ev[i].fd);
			continue;
		}
		if (ev[i].events & SRT_EPOLL_ERR) {
			srt_conn_close(c, "peer gone");
			continue;
		}
		if ((ev[i].events & SRT_EPOLL_IN) && c->undecided) {
			if (decide(c, 1, c->token) < 0)   /* it sends: a publisher */
				continue;
		}
		if ((ev[i].events & SRT_EPOLL_IN) && c->publishing && srt_conn_publish_read(c) < 0)
			continue;
		if ((ev[i].events & SRT_EPOLL_IN) && !c->publishing) {
			/* A viewer has nothing to say; drain and drop what it sends. */
			char junk[SRT_READ_MAX];
			while (srt_recvmsg(c->sock, junk, sizeof(junk)) > 0)
				;
			if (srt_getsockstate(c->sock) >= SRTS_BROKEN) {
				srt_conn_close(c, "peer gone");
				continue;
			}
		}
		if ((ev[i].events & SRT_EPOLL_OUT) && c->playing)
			srt_conn_play_flush(c);
	}
	uv_sem_post(&s->resume);
}

static int set_flag(SRTSOCKET sock, SRT_SOCKOPT opt, const void *v, int len, const char *what)
{
	if (srt_setsockflag(sock, opt, v, len) == 0)
		return 0;
	log_error("srt_config", "setting=%s error=\"%s\"", what, srt_getlasterror_str());
	return -1;
}

int srt_server_start(struct node *n)
{
	const struct node_config *cfg = n->cfg;
	if (!cfg->srt)
		return 0;
	if (srt_startup() < 0) {
		log_error("srt_start_failed", "error=\"%s\"", srt_getlasterror_str());
		return -1;
	}
	srt_setloglevel(LOG_CRIT);   /* libsrt's own lines: refusals are ours to log */
	struct srt_server *s = xcalloc(1, sizeof(*s));
	s->n = n;
	strmap_init(&s->socks);
	struct sockaddr_storage ss;
	if (net_addr(cfg->bind, (int)cfg->srt_port, &ss) < 0) {
		log_error("srt_start_failed", "bind=%s reason=\"bad address\"", cfg->bind);
		goto fail;
	}
	s->lsn = srt_create_socket();
	int no = 0;
	int latency = (int)cfg->srt_latency;
	int buf = (int)cfg->srt_buffer;
	if (set_flag(s->lsn, SRTO_RCVSYN, &no, sizeof(no), "rcvsyn") < 0 ||
	    set_flag(s->lsn, SRTO_SNDSYN, &no, sizeof(no), "sndsyn") < 0 ||
	    set_flag(s->lsn, SRTO_LATENCY, &latency, sizeof(latency), "srt-latency") < 0 ||
	    set_flag(s->lsn, SRTO_RCVBUF, &buf, sizeof(buf), "srt-buffer") < 0 ||
	    set_flag(s->lsn, SRTO_SNDBUF, &buf, sizeof(buf), "srt-buffer") < 0)
		goto fail_sock;
	if (cfg->srt_passphrase && *cfg->srt_passphrase &&
	    set_flag(s->lsn, SRTO_PASSPHRASE, cfg->srt_passphrase,
	             (int)strlen(cfg->srt_passphrase), "srt-passphrase") < 0)
		goto fail_sock;
	socklen_t alen = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                          : sizeof(struct sockaddr_in);
	if (srt_bind(s->lsn, (struct sockaddr *)&ss, (int)alen) < 0 ||
	    srt_listen_callback(s->lsn, listen_hook, s) < 0 ||
	    srt_listen(s->lsn, SRT_LISTEN_BACKLOG) < 0) {
		log_error("srt_start_failed", "bind=%s port=%lld error=\"%s\"", cfg->bind,
		          (long long)cfg->srt_port, srt_getlasterror_str());
		goto fail_sock;
	}
	s->eid = srt_epoll_create();
	srt_epoll_set(s->eid, SRT_EPOLL_ENABLE_EMPTY);
	int ev = SRT_EPOLL_IN | SRT_EPOLL_ERR;
	srt_epoll_add_usock(s->eid, s->lsn, &ev);
	uv_async_init(n->loop, &s->wake, on_wake);
	s->wake.data = s;
	uv_sem_init(&s->resume, 0);
	n->srt = s;
	if (uv_thread_create(&s->waiter, waiter_main, s) != 0) {
		log_error("srt_start_failed", "reason=\"no thread\"");
		return -1;
	}
	log_info("srt_listening", "bind=%s port=%lld latency_ms=%lld encryption=%s", cfg->bind,
	         (long long)cfg->srt_port, (long long)cfg->srt_latency,
	         cfg->srt_passphrase && *cfg->srt_passphrase ? "on" : "off");
	return 0;
fail_sock:
	srt_close(s->lsn);
fail:
	strmap_free(&s->socks);
	free(s);
	srt_cleanup();
	return -1;
}

static void wake_closed(uv_handle_t *h)
{
	struct srt_server *s = h->data;
	strmap_free(&s->socks);
	free(s);
}

void srt_server_stop(struct node *n)
{
	struct srt_server *s = server_of(n);
	if (!s)
		return;
	n->srt = NULL;
	atomic_store(&s->stop, 1);
	uv_sem_post(&s->resume);
	uv_thread_join(&s->waiter);
	size_t it = 0;
	const char *key;
	void *val;
	/* Closing removes from the map: collect first. */
	struct srt_conn *all[256];
	for (;;) {
		size_t k = 0;
		it = 0;
		while (k < 256 && strmap_next(&s->socks, &it, &key, &val))
			all[k++] = val;
		if (!k)
			break;
		for (size_t i = 0; i < k; i++)
			srt_conn_close(all[i], "shutting down");
	}
	srt_epoll_release(s->eid);
	srt_close(s->lsn);
	uv_sem_destroy(&s->resume);
	uv_close((uv_handle_t *)&s->wake, wake_closed);
	/* libsrt's threads end with srt_cleanup; its sockets are all closed now. */
	srt_cleanup();
}

void srt_server_sweep(struct node *n, uint64_t now_ms)
{
	struct srt_server *s = server_of(n);
	if (!s)
		return;
	/* Handshake refusals happen on libsrt's thread: logged here, one line a second at most. */
	uint64_t bad = atomic_load(&s->bad_streamid);
	if (bad > s->stats.bad_streamid)
		log_info("srt_refused", "reason=\"bad streamid\" count=%llu total=%llu",
		         (unsigned long long)(bad - s->stats.bad_streamid), (unsigned long long)bad);
	s->stats.bad_streamid = bad;
	size_t it = 0;
	const char *key;
	void *val;
	struct srt_conn *late[64];
	size_t k = 0;
	while (k < 64 && strmap_next(&s->socks, &it, &key, &val)) {
		struct srt_conn *c = val;
		if ((c->publishing && now_ms - c->last_media_ms > n->cfg->publish_timeout) ||
		    (c->undecided && now_ms - c->accepted_ms >= SRT_SNIFF_MS))
			late[k++] = c;
	}
	for (size_t i = 0; i < k; i++) {
		if (late[i]->undecided) {
			decide(late[i], 0, late[i]->token);   /* silent: a viewer */
			continue;
		}
		n->stats.timeouts++;
		srt_conn_close(late[i], "publish-timeout");
	}
}

void srt_server_metrics(struct node *n, struct bytes *b)
{
	struct srt_server *s = server_of(n);
	if (!s)
		return;
	/* Publishers still connected count too (their totals join the stats when they go). */
	uint64_t cc = s->stats.ts_cc_errors, pes = s->stats.ts_pes_dropped;
	size_t it = 0;
	const char *key;
	void *val;
	while (strmap_next(&s->socks, &it, &key, &val)) {
		struct srt_conn *c = val;
		if (c->publishing) {
			cc += c->demux.stats.cc_errors;
			pes += c->demux.stats.pes_dropped;
		}
	}
	node_metric(b, "sluice_srt_connections", "gauge", "SRT connections open.", s->socks.count);
	node_metric(b, "sluice_srt_accepted_total", "counter", "SRT connections accepted.",
	       s->stats.accepted);
	node_metric(b, "sluice_srt_bad_streamid_total", "counter",
	       "SRT callers refused in the handshake for a stream id we cannot serve.",
	       atomic_load(&s->bad_streamid));
	node_metric(b, "sluice_srt_refused_total", "counter",
	       "SRT callers refused after the handshake (token, role, limits, not live, bad id).",
	       s->stats.refused);
	node_metric(b, "sluice_srt_publishes_total", "counter", "SRT publishes started.",
	       s->stats.publishes);
	node_metric(b, "sluice_srt_plays_total", "counter", "SRT viewers started.", s->stats.plays);
	node_metric(b, "sluice_srt_unsupported_total", "counter",
	       "SRT publishers refused for a codec we cannot carry (HEVC, ...).",
	       s->stats.unsupported);
	node_metric(b, "sluice_srt_viewer_overflows_total", "counter",
	       "SRT viewers closed with more than srt-viewer-buffer waiting for libsrt.",
	       s->stats.viewer_overflows);
	node_metric(b, "sluice_srt_ts_cc_errors_total", "counter",
	       "Transport stream packets SRT publishers lost (continuity counter jumps).",
	       cc);
	node_metric(b, "sluice_srt_ts_pes_dropped_total", "counter",
	       "Damaged or over-long PES packets from SRT publishers, dropped.",
	       pes);
}
