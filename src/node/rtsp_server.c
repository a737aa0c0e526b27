/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtsp_server.c - the RTSP listener and its connections (one session each):
 * bytes in (requests and interleaved frames), answers and RTP out,
 * admission to the connection table, the shared UDP port pair, timeouts
 * and metrics.  What requests mean is rtsp_requests.c's; what flows once a
 * session plays or records, rtsp_play.c's and rtsp_publish.c's.
 */
#include "node/rtsp_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/net.h"
#include "core/ratelimit.h"
#include "node/admission.h"
#include "proto/rtp.h"

#define RTSP_IN_MAX(c) ((size_t)(c)->srv->n->cfg->rtsp_max_request + RTSP_SDP_MAX_BYTES + 65540)
/* Answers a client may leave unread before we stop reading its requests:
 * without it a client that never reads and loops OPTIONS grows our memory. */
#define RTSP_REPLY_QUEUE_MAX (64u * 1024)

static struct rtsp_server *server_of(struct node *n)
{
	return n->rtsp;
}

static void conn_key(const struct rtsp_conn *c, char *out, size_t n)
{
	snprintf(out, n, "%llu", (unsigned long long)c->base.id);
}

/* ---- closing ---- */

static void conn_free(void *arg)
{
	struct rtsp_conn *c = arg;
	bytes_free(&c->in);
	bytes_free(&c->out);
	bytes_free(&c->avc_rec);
	free(c->sdp);
	free(c);
}

/* After the socket and the timer: the media half (the tap's pipes close last). */
static void handle_closed(uv_handle_t *h)
{
	struct rtsp_conn *c = h->data;
	if (--c->closes_pending == 0)
		rtsp_play_stop(c, conn_free);
}

static void end_publish(struct rtsp_conn *c)
{
	struct node *n = c->srv->n;
	if (c->counts_as_publisher) {
		node_publisher_end(n, c->ipkey);
		c->counts_as_publisher = 0;
	}
	if (c->state == RTSP_RECORDING && c->stream) {
		log_info("publish_stop", "client=%llu peer=%s protocol=rtsp app=%s stream=%s "
		         "bytes_in=%llu", (unsigned long long)c->base.id, c->base.peer, c->app,
		         c->name, (unsigned long long)c->stream->bytes_in);
		stream_unpublish(&n->streams, c->stream);
		stream_unref(c->stream);
		c->stream = NULL;
	}
	rtsp_publish_free(c);
}

void rtsp_conn_close(struct rtsp_conn *c, const char *reason)
{
	if (c->closing)
		return;
	c->closing = 1;
	struct rtsp_server *s = c->srv;
	log_info("rtsp_close", "client=%llu peer=%s app=%s stream=%s reason=\"%s\" bytes_in=%llu "
	         "bytes_out=%llu", (unsigned long long)c->base.id, c->base.peer, c->app, c->name,
	         reason, (unsigned long long)c->base.bytes_in, (unsigned long long)c->base.bytes_out);
	char key[32];
	conn_key(c, key, sizeof(key));
	strmap_del(&s->conns, key);
	for (int t = 0; t < RTSP_TRACKS; t++) {
		if (c->track[t].rtp_key[0] && strmap_get(&s->peers, c->track[t].rtp_key) == c)
			strmap_del(&s->peers, c->track[t].rtp_key);
		if (c->track[t].rtcp_key[0] && strmap_get(&s->peers, c->track[t].rtcp_key) == c)
			strmap_del(&s->peers, c->track[t].rtcp_key);
	}
	if (c->base.ops)
		conn_table_remove(&s->n->conns, &c->base);
	end_publish(c);
	if (c->waiting) {
		stream_unref(c->waiting);
		c->waiting = NULL;
	}
	c->closes_pending = 1 + c->wait_init;
	if (c->wait_init) {
		uv_timer_stop(&c->wait);
		uv_close((uv_handle_t *)&c->wait, handle_closed);
	}
	uv_close((uv_handle_t *)&c->tcp, handle_closed);
}

static void kick(struct conn *base, const char *reason)
{
	rtsp_conn_close(container_of(base, struct rtsp_conn, base), reason);
}

static void describe_conn(struct conn *base, json_t *o)
{
	struct rtsp_conn *c = container_of(base, struct rtsp_conn, base);
	json_object_set_new(o, "role", json_string(c->state == RTSP_RECORDING ? "publisher"
	                                            : c->state == RTSP_PLAYING ? "viewer" : "none"));
	json_object_set_new(o, "protocol", json_string("rtsp"));
	if (c->app[0])
		json_object_set_new(o, "app", json_string(c->app));
	if (c->name[0])
		json_object_set_new(o, "stream", json_string(c->name));
	int tcp = c->track[0].setup ? c->track[0].tcp : c->track[1].tcp;
	if (c->track[0].setup || c->track[1].setup)
		json_object_set_new(o, "transport", json_string(tcp ? "tcp" : "udp"));
	if (c->state == RTSP_PLAYING)
		json_object_set_new(o, "skips", json_integer((json_int_t)c->tap.v.skips));
}

static const struct conn_ops rtsp_conn_ops = { kick, describe_conn };

/* ---- sending ---- */

struct out_req {
	uv_write_t req;
	struct rtsp_conn *c;
	size_t len;
	uint8_t data[];
};

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static size_t unsent(struct rtsp_conn *c)
{
	return uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) + c->out.len;
}

/* A TCP viewer's media may fill rtsp-viewer-buffer on top of the answers. */
static size_t reply_cap(struct rtsp_conn *c)
{
	return RTSP_REPLY_QUEUE_MAX + (c->tap_started ? (size_t)c->srv->n->cfg->rtsp_viewer_buffer : 0);
}

static void write_done(uv_write_t *req, int status)
{
	struct out_req *w = (struct out_req *)req;
	struct rtsp_conn *c = w->c;
	free(w);
	if (c->closing)
		return;
	if (status < 0) {
		rtsp_conn_close(c, "write failed");
		return;
	}
	if (c->state == RTSP_PLAYING)
		rtsp_play_drained(c);
	if (c->read_paused && unsent(c) <= reply_cap(c) / 2) {
		c->read_paused = 0;
		uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
	}
}

void rtsp_conn_flush(struct rtsp_conn *c)
{
	if (c->closing || c->out.len == 0)
		return;
	struct out_req *w = xmalloc(sizeof(*w) + c->out.len);
	w->c = c;
	w->len = c->out.len;
	memcpy(w->data, c->out.data, c->out.len);
	c->base.bytes_out += c->out.len;
	bytes_clear(&c->out);
	uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)w->len);
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, write_done) < 0) {
		free(w);
		rtsp_conn_close(c, "write failed");
	}
}

void rtsp_conn_send(struct rtsp_conn *c, int t, int rtcp, const uint8_t *p, size_t n)
{
	struct rtsp_track *tr = &c->track[t];
	if (tr->tcp) {
		uint8_t h[4];
		rtsp_interleaved_header(h, tr->ch[rtcp], n);
		bytes_append(&c->out, h, 4);
		bytes_append(&c->out, p, n);
		return;
	}
	struct rtsp_server *s = c->srv;
	if (!s->udp_on)
		return;
	uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
	int r = uv_udp_try_send(rtcp ? &s->rtcp : &s->rtp, &b, 1,
	                        (const struct sockaddr *)(rtcp ? &tr->rtcp_addr : &tr->rtp_addr));
	if (r < 0) {
		/* The socket is full: this packet is lost, as it could be on the way. */
		s->stats.udp_send_drops++;
		return;
	}
	s->stats.udp_sent++;
	c->base.bytes_out += n;
}

void rtsp_respond(struct rtsp_conn *c, int status, long cseq, const char *extra,
                    const char *ctype, const void *body, size_t blen)
{
	struct bytes b;
	bytes_init(&b);
	bytes_printf(&b, "RTSP/1.0 %d %s\r\n", status, rtsp_reason(status));
	if (cseq >= 0)
		bytes_printf(&b, "CSeq: %ld\r\n", cseq);
	bytes_printf(&b, "Server: sluice\r\n");
	if (c->session[0] && status != 454)
		bytes_printf(&b, "Session: %s;timeout=%llu\r\n", c->session,
		             (unsigned long long)(c->srv->n->cfg->rtsp_session_timeout / 1000));
	if (extra)
		bytes_put_str(&b, extra);
	if (blen)
		bytes_printf(&b, "Content-Type: %s\r\nContent-Length: %zu\r\n", ctype, blen);
	bytes_put_str(&b, "\r\n");
	if (blen)
		bytes_append(&b, body, blen);
	/* Responses go behind whatever media is gathered, in order. */
	bytes_append(&c->out, b.data, b.len);
	bytes_free(&b);
	rtsp_conn_flush(c);
}

void rtsp_refuse(struct rtsp_conn *c, int status, long cseq, const char *reason)
{
	struct rtsp_server *s = c->srv;
	s->stats.refused++;
	char eapp[160], ename[160];
	log_limited(&s->refuse_log, LOG_THROTTLE_PER_SEC, LOG_INFO, "rtsp_refused",
	            "client=%llu peer=%s app=%s stream=%s status=%d reason=\"%s\"",
	            (unsigned long long)c->base.id, c->base.peer,
	            log_escape(c->app, eapp, sizeof(eapp)), log_escape(c->name, ename, sizeof(ename)),
	            status, reason);
	char extra[300];
	snprintf(extra, sizeof(extra), "Reason: %s\r\n", reason);
	rtsp_respond(c, status, cseq, extra, NULL, NULL, 0);
}

/* An interleaved frame from the client: RTP of a publisher, or RTCP (a sign of life). */
static void on_frame(struct rtsp_conn *c, uint8_t ch, const uint8_t *p, size_t n)
{
	for (int t = 0; t < RTSP_TRACKS; t++) {
		struct rtsp_track *tr = &c->track[t];
		if (!tr->setup || !tr->tcp)
			continue;
		if (ch == tr->ch[0] && c->state == RTSP_RECORDING) {
			rtsp_publish_rtp(c, t, p, n);
			return;
		}
	}
}

void rtsp_conn_parse(struct rtsp_conn *c)
{
	struct rtsp_server *s = c->srv;
	const struct node_config *cfg = s->n->cfg;
	size_t off = 0;
	while (off < c->in.len && !c->closing && !c->waiting) {
		const uint8_t *p = c->in.data + off;
		size_t avail = c->in.len - off;
		if (p[0] == '\r' || p[0] == '\n') {
			off++;
			continue;
		}
		if (p[0] == '$') {
			uint8_t ch;
			const uint8_t *data;
			size_t len;
			int r = rtsp_interleaved_parse(p, avail, &ch, &data, &len);
			if (r == SL_EAGAIN)
				break;
			c->base.bytes_in += (uint64_t)r;
			on_frame(c, ch, data, len);
			off += (size_t)r;
			continue;
		}
		struct rtsp_request req;
		int r = rtsp_request_parse(p, avail, (size_t)cfg->rtsp_max_request, RTSP_SDP_MAX_BYTES,
		                           &req);
		if (r == SL_EAGAIN)
			break;
		if (r < 0) {
			s->stats.bad_requests++;
			s->n->stats.protocol_errors++;
			int status = r == SL_EUNSUPP ? 505 : r == SL_ELIMIT ? 400 : 400;
			rtsp_refuse(c, status, -1, r == SL_ELIMIT ? "request over rtsp-max-request"
			                      : r == SL_EUNSUPP ? "RTSP/1.0 only" : "malformed request");
			rtsp_conn_close(c, "bad request");
			return;
		}
		off += (size_t)r;
		c->base.bytes_in += (uint64_t)r;
		if (!rtsp_request_handle(c, &req))
			return;
	}
	if (c->closing)
		return;
	if (off) {
		memmove(c->in.data, c->in.data + off, c->in.len - off);
		c->in.len -= off;
	}
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct rtsp_conn *c = h->data;
	(void)hint;
	bytes_reserve(&c->in, 16384);
	buf->base = (char *)c->in.data + c->in.len;
	buf->len = c->in.cap - c->in.len;
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct rtsp_conn *c = st->data;
	(void)buf;
	if (c->closing)
		return;
	if (nread < 0) {
		rtsp_conn_close(c, nread == UV_EOF ? "peer closed" : "read error");
		return;
	}
	c->in.len += (size_t)nread;
	c->last_rx_ms = uv_now(c->srv->n->loop);
	if (c->in.len > RTSP_IN_MAX(c)) {
		/* Only a DESCRIBE waiting for headers holds input back, and never this much. */
		c->srv->n->stats.protocol_errors++;
		rtsp_conn_close(c, "too much input held");
		return;
	}
	rtsp_conn_parse(c);
	rtsp_conn_flush(c);
	if (!c->closing && unsent(c) > reply_cap(c)) {
		/* The client does not read what we answer: read no more requests until it
		 * does (write_done resumes).  Silent, it meets rtsp-session-timeout. */
		uv_read_stop(st);
		c->read_paused = 1;
		c->srv->stats.read_pauses++;
		log_limited(&c->srv->refuse_log, LOG_THROTTLE_PER_SEC, LOG_INFO, "rtsp_read_paused",
		            "client=%llu peer=%s unsent=%zu", (unsigned long long)c->base.id,
		            c->base.peer, unsent(c));
	}
}

static void peer_ip(const char *peer, char *ip, size_t n)
{
	/* "a.b.c.d:port" or "[v6]:port" */
	const char *colon = strrchr(peer, ':');
	size_t len = colon ? (size_t)(colon - peer) : strlen(peer);
	if (len && peer[0] == '[' && peer[len - 1] == ']') {
		peer++;
		len -= 2;
	}
	if (len >= n)
		len = n - 1;
	memcpy(ip, peer, len);
	ip[len] = '\0';
}

static void early_closed(uv_handle_t *h)
{
	free(h->data);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct rtsp_server *s = server->data;
	struct node *n = s->n;
	if (status < 0) {
		log_warn("rtsp_accept_failed", "error=\"%s\"", uv_strerror(status));
		return;
	}
	struct rtsp_conn *c = xcalloc(1, sizeof(*c));
	c->srv = s;
	uv_tcp_init(n->loop, &c->tcp);
	c->tcp.data = c;
	list_init(&c->base.link);
	if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
		uv_close((uv_handle_t *)&c->tcp, early_closed);
		return;
	}
	char peer[64];
	net_peer_name(&c->tcp, peer, sizeof(peer));
	iplimit_key(peer, c->ipkey, sizeof(c->ipkey));
	peer_ip(peer, c->ip, sizeof(c->ip));
	int admit = n->stopping ? 0 : conn_table_add(&n->conns, &c->base, "rtsp", peer,
	                                             &rtsp_conn_ops);
	if (n->stopping || admit < 0) {
		conn_table_log_refusal(&n->conns, "rtsp", peer, admit);
		uv_close((uv_handle_t *)&c->tcp, early_closed);
		return;
	}
	s->stats.accepted++;
	uv_tcp_nodelay(&c->tcp, 1);
	bytes_init(&c->in);
	bytes_init(&c->out);
	bytes_init(&c->avc_rec);
	c->last_rx_ms = c->accepted_ms = uv_now(n->loop);
	char key[32];
	conn_key(c, key, sizeof(key));
	strmap_put(&s->conns, key, c);
	log_debug("rtsp_accept", "client=%llu peer=%s", (unsigned long long)c->base.id, peer);
	uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

/* ---- UDP ---- */

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct rtsp_server *s = h->data;
	(void)hint;
	buf->base = (char *)s->udp_buf;
	buf->len = sizeof(s->udp_buf);
}

static void udp_key(const struct sockaddr *a, char *out, size_t n)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)a;
		inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof(ip));
		snprintf(out, n, "%s:%u", ip, ntohs(v4->sin_port));
	} else {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)a;
		inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof(ip));
		snprintf(out, n, "[%s]:%u", ip, ntohs(v6->sin6_port));
	}
}

/* Any host can send from the publisher's address and port (UDP has no handshake): the track
 * takes the SSRC of its first packet and drops datagrams of any other. */
static int latch_ssrc(struct rtsp_conn *c, struct rtsp_track *tr, const uint8_t *p, size_t n)
{
	if (n < RTP_HEADER_SIZE)
		return 1;   /* refused as malformed by the depacketizer */
	uint32_t ssrc = rd_u32be(p + 8);
	if (!tr->in_ssrc_set) {
		tr->in_ssrc = ssrc;
		tr->in_ssrc_set = 1;
		return 1;
	}
	if (ssrc == tr->in_ssrc)
		return 1;
	c->srv->stats.udp_foreign_ssrc++;
	log_limited(&c->srv->refuse_log, LOG_THROTTLE_PER_SEC, LOG_INFO, "rtsp_foreign_ssrc",
	            "client=%llu peer=%s ssrc=%08x latched=%08x", (unsigned long long)c->base.id,
	            c->base.peer, ssrc, tr->in_ssrc);
	return 0;
}

static void udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                     unsigned flags)
{
	struct rtsp_server *s = h->data;
	(void)flags;
	if (nread <= 0 || !addr)
		return;
	char key[80];
	udp_key(addr, key, sizeof(key));
	struct rtsp_conn *c = strmap_get(&s->peers, key);
	if (!c || c->closing) {
		s->stats.udp_unknown++;
		return;
	}
	c->last_rx_ms = uv_now(s->n->loop);
	c->base.bytes_in += (uint64_t)nread;
	if (h != &s->rtp || c->state != RTSP_RECORDING)
		return;     /* RTCP, or a player's hole punching: a sign of life only */
	for (int t = 0; t < RTSP_TRACKS; t++)
		if (c->track[t].setup && !c->track[t].tcp && strcmp(c->track[t].rtp_key, key) == 0) {
			if (!latch_ssrc(c, &c->track[t], (const uint8_t *)buf->base, (size_t)nread))
				return;
			rtsp_publish_rtp(c, t, (const uint8_t *)buf->base, (size_t)nread);
			return;
		}
}

static int udp_bind(struct rtsp_server *s, uv_udp_t *u, int port)
{
	struct sockaddr_storage ss;
	int r = net_addr(s->n->cfg->bind, port, &ss);
	if (r == 0)
		r = uv_udp_bind(u, (const struct sockaddr *)&ss, 0);
	if (r == 0)
		r = uv_udp_recv_start(u, udp_alloc, udp_recv);
	if (r < 0) {
		log_error("rtsp_start_failed", "bind=%s udp_port=%d error=\"%s\"", s->n->cfg->bind, port,
		          r == SL_EINVAL ? "bad address" : uv_strerror(r));
		return -1;
	}
	return 0;
}

/* ---- the server ---- */

/* The listener's and the UDP sockets' close callbacks: the last frees the server (libuv
 * runs them in no order we may rely on, and the handles live inside it). */
static void server_handle_closed(uv_handle_t *h)
{
	struct rtsp_server *s = h->data;
	if (--s->closes_pending)
		return;
	strmap_free(&s->conns);
	strmap_free(&s->peers);
	free(s);
}

static void server_close(struct rtsp_server *s)
{
	s->closes_pending = 3;
	uv_close((uv_handle_t *)&s->rtp, server_handle_closed);
	uv_close((uv_handle_t *)&s->rtcp, server_handle_closed);
	uv_close((uv_handle_t *)&s->listener, server_handle_closed);
}

int rtsp_server_start(struct node *n)
{
	const struct node_config *cfg = n->cfg;
	if (!cfg->rtsp_port)
		return 0;
	struct rtsp_server *s = xcalloc(1, sizeof(*s));
	s->n = n;
	strmap_init(&s->conns);
	strmap_init(&s->peers);
	s->listener.data = s;
	/* Every handle is initialised at once, so one path closes them all. */
	uv_udp_init(n->loop, &s->rtp);
	uv_udp_init(n->loop, &s->rtcp);
	s->rtp.data = s->rtcp.data = s;
	/* The bind address parsed for RTMP already, so net_listen initialises the handle. */
	if (net_listen(n->loop, &s->listener, cfg->bind, (int)cfg->rtsp_port, 256, on_connection,
	               "rtsp") < 0) {
		server_close(s);
		return -1;
	}
	if (cfg->rtsp_udp_port) {
		if (udp_bind(s, &s->rtp, (int)cfg->rtsp_udp_port) < 0 ||
		    udp_bind(s, &s->rtcp, (int)cfg->rtsp_udp_port + 1) < 0) {
			server_close(s);
			return -1;
		}
		s->udp_on = 1;
	}
	n->rtsp = s;
	log_info("rtsp_listening", "bind=%s port=%lld udp_port=%lld", cfg->bind,
	         (long long)cfg->rtsp_port, (long long)cfg->rtsp_udp_port);
	return 0;
}

void rtsp_server_stop(struct node *n)
{
	struct rtsp_server *s = server_of(n);
	if (!s)
		return;
	n->rtsp = NULL;
	for (;;) {
		size_t it = 0, k = 0;
		const char *key;
		void *val;
		struct rtsp_conn *all[256];
		while (k < 256 && strmap_next(&s->conns, &it, &key, &val))
			all[k++] = val;
		if (!k)
			break;
		for (size_t i = 0; i < k; i++)
			rtsp_conn_close(all[i], "node shutting down");
	}
	server_close(s);
}

void rtsp_server_sweep(struct node *n, uint64_t now_ms)
{
	struct rtsp_server *s = server_of(n);
	if (!s)
		return;
	const struct node_config *cfg = n->cfg;
	struct rtsp_conn *late[64];
	const char *why[64];
	size_t k = 0, it = 0;
	const char *key;
	void *val;
	while (strmap_next(&s->conns, &it, &key, &val)) {
		struct rtsp_conn *c = val;
		int tcp_media = (c->track[0].setup && c->track[0].tcp) ||
		                (c->track[1].setup && c->track[1].tcp);
		if (k == 64)
			continue;
		if (c->requests == 0 && now_ms - c->accepted_ms > cfg->handshake_timeout) {
			/* As RTMP's handshake: a connection that never asks anything goes soon. */
			late[k] = c;
			why[k++] = "no request in handshake-timeout";
		} else if (c->state == RTSP_RECORDING) {
			if (now_ms - c->last_media_ms > cfg->publish_timeout) {
				late[k] = c;
				why[k++] = "publisher sent no media";
			}
		} else if (!(c->state == RTSP_PLAYING && tcp_media) &&
		           now_ms - c->last_rx_ms > cfg->rtsp_session_timeout) {
			/* A TCP viewer's connection is its liveness; others must say something. */
			late[k] = c;
			why[k++] = "session timeout";
		}
	}
	for (size_t i = 0; i < k; i++) {
		n->stats.timeouts++;
		s->stats.timeouts++;
		rtsp_conn_close(late[i], why[i]);
	}
}

void rtsp_server_metrics(struct node *n, struct bytes *b)
{
	struct rtsp_server *s = server_of(n);
	if (!s)
		return;
	const struct rtsp_stats *st = &s->stats;
	node_metric(b, "sluice_rtsp_connections", "gauge", "RTSP connections open.", s->conns.count);
	node_metric(b, "sluice_rtsp_accepted_total", "counter", "RTSP connections accepted.",
	       st->accepted);
	node_metric(b, "sluice_rtsp_requests_total", "counter", "RTSP requests handled.", st->requests);
	node_metric(b, "sluice_rtsp_bad_requests_total", "counter",
	       "RTSP requests refused as malformed or over rtsp-max-request.", st->bad_requests);
	node_metric(b, "sluice_rtsp_refused_total", "counter",
	       "RTSP requests answered with an error (token, not live, limits, transport).",
	       st->refused);
	node_metric(b, "sluice_rtsp_plays_total", "counter", "RTSP viewers started.", st->plays);
	node_metric(b, "sluice_rtsp_publishes_total", "counter", "RTSP publishes started.",
	       st->publishes);
	node_metric(b, "sluice_rtsp_timeouts_total", "counter",
	       "RTSP sessions ended by rtsp-session-timeout or publish-timeout.", st->timeouts);
	node_metric(b, "sluice_rtsp_udp_send_drops_total", "counter",
	       "RTP/RTCP datagrams to RTSP viewers dropped because the socket was full.",
	       st->udp_send_drops);
	node_metric(b, "sluice_rtsp_udp_unknown_total", "counter",
	       "Datagrams on the RTSP UDP ports from addresses of no session.", st->udp_unknown);
	node_metric(b, "sluice_rtsp_viewer_pauses_total", "counter",
	       "Times an RTSP viewer over TCP had rtsp-viewer-buffer unsent and reading paused.",
	       st->viewer_pauses);
	node_metric(b, "sluice_rtsp_udp_foreign_ssrc_total", "counter",
	       "RTP datagrams to a UDP publish dropped: an SSRC other than its first packet's.",
	       st->udp_foreign_ssrc);
	node_metric(b, "sluice_rtsp_rtp_time_jumps_total", "counter",
	       "RTP time steps of RTSP publishers over 10 s, taken as a restart (rebased).",
	       st->ts_jumps);
	node_metric(b, "sluice_rtsp_read_pauses_total", "counter",
	       "Times an RTSP client left over 64 KiB of answers unread and its requests were no longer read.",
	       st->read_pauses);
	node_metric(b, "sluice_rtsp_rtp_in_total", "counter", "RTP packets from RTSP publishers.",
	       st->rtp_in);
	node_metric(b, "sluice_rtsp_rtp_bad_total", "counter",
	       "RTP packets from RTSP publishers refused as malformed.", st->rtp_bad);
	node_metric(b, "sluice_rtsp_frames_dropped_total", "counter",
	       "Frames from RTSP publishers dropped (packet loss, over the size limit).",
	       st->au_dropped);
}
