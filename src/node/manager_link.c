/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manager_link.c - register and heartbeat to the stream manager (see
 * manager_link.h).  One request at a time, Connection: close, a 3 s limit
 * on each; the manager's URL is http://HOST:PORT or https://HOST:PORT with a
 * numeric or resolvable host (resolved on each connect, asynchronously); an
 * https:// manager's certificate must verify against manager-ca-file (or the
 * system's CAs) and name the host, or the request goes no further.  The body is
 * proto/heartbeat.h's; requests and answers are signed (proto/node_sign.h):
 * registration with the cluster secret, heartbeats with this node's own
 * key, and an answer that is not the manager's is ignored.
 */
#include "node/admission.h"
#include "node/manager_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/ratelimit.h"
#include "core/tls.h"
#include "node/manager_reply.h"
#include "proto/heartbeat.h"
#include "proto/node_sign.h"
#include "node/node.h"

#define BEAT_MS 1000
#define REQUEST_TIMEOUT_MS 3000
#define MAX_RESPONSE (64 * 1024)
/* Lines a second about answers refused for their signature: a forger must not flood the log. */
#define BAD_ANSWER_LOG_PER_SEC 1

enum link_phase { LINK_IDLE, LINK_RESOLVING, LINK_CONNECTING, LINK_BUSY };

struct manager_link {
	struct node *node;
	char host[256];
	char port[8];
	uv_timer_t beat;
	uv_getaddrinfo_t gai;
	struct io_stream io;       /* plain, or TLS for an https:// manager */
	struct tls_client *tls;    /* NULL: http:// */
	uv_connect_t creq;
	uv_write_t wreq;
	struct bytes out, in;
	enum link_phase phase;
	int tcp_open;
	int registered;
	int reachable;             /* the last request got an answer (for up/down logs) */
	int is_register;           /* the request in flight */
	uint64_t started_ms;
	int stopping;
	int beat_closed;
	int gai_pending;
	/* This registration's key (proto/node_sign.h), derived from the nonce the manager's
	 * signed answer gave; "" until registered.  seq numbers its heartbeats. */
	char key[NODE_SIGN_HEX];
	uint64_t seq;
	char req_sig[NODE_SIGN_HEX]; /* the request in flight: its answer must be bound to it */
	struct log_throttle bad_answer_log;
	uint64_t bad_answers;
};

static struct manager_link *link_;

int manager_link_init(struct node *n, char *err, size_t err_size)
{
	const struct node_config *cfg = n->cfg;
	if (!cfg->manager || !*cfg->manager)
		return 0;
	const char *url = cfg->manager;
	int https = strncmp(url, "https://", 8) == 0;
	if (strncmp(url, "http://", 7) != 0 && !https) {
		snprintf(err, err_size, "manager: expected http(s)://HOST:PORT, got '%s'", url);
		return -1;
	}
	const char *h = url + (https ? 8 : 7), *colon = strrchr(h, ':');
	const char *slash = strchr(h, '/');
	size_t hlen = colon ? (size_t)(colon - h) : (slash ? (size_t)(slash - h) : strlen(h));
	const char *pend = slash ? slash : h + strlen(h);
	char port[8];
	snprintf(port, sizeof(port), "%s", https ? "443" : "80");
	if (colon && (!slash || colon < slash)) {
		size_t plen = (size_t)(pend - colon - 1);
		if (plen == 0 || plen > 5 || strspn(colon + 1, "0123456789") < plen) {
			snprintf(err, err_size, "manager: bad port in '%s'", url);
			return -1;
		}
		memcpy(port, colon + 1, plen);
		port[plen] = '\0';
	} else {
		hlen = (size_t)(pend - h);
	}
	if (hlen == 0 || hlen >= 256 || (slash && slash[1])) {
		snprintf(err, err_size, "manager: expected http(s)://HOST:PORT, got '%s'", url);
		return -1;
	}
	if (!cfg->group || !*cfg->group) {
		snprintf(err, err_size, "group: required with manager (the node group to join)");
		return -1;
	}
	if (!cfg->cluster_secret || !*cfg->cluster_secret) {
		snprintf(err, err_size, "cluster-secret: required with manager (heartbeats are signed)");
		return -1;
	}
	if (strlen(n->name) > HEARTBEAT_NAME_MAX) {
		snprintf(err, err_size, "name: a managed node's name is at most %d characters",
		         HEARTBEAT_NAME_MAX);
		return -1;
	}
	if (strcmp(cfg->role, "standalone") == 0) {
		snprintf(err, err_size, "role: a managed node is an origin, edge or relay");
		return -1;
	}
	struct tls_client *tls = NULL;
	if (https) {
		char terr[300];
		tls = tls_client_new(cfg->manager_ca_file, cfg->manager_client_cert,
		                     cfg->manager_client_key, terr, sizeof(terr));
		if (!tls) {
			snprintf(err, err_size, "manager-ca-file: %s", terr);
			return -1;
		}
	}
	link_ = xcalloc(1, sizeof(*link_));
	link_->node = n;
	link_->tls = tls;
	memcpy(link_->host, h, hlen);
	link_->host[hlen] = '\0';
	snprintf(link_->port, sizeof(link_->port), "%s", port);
	bytes_init(&link_->out);
	bytes_init(&link_->in);
	return 0;
}

/* The heartbeat body (proto/heartbeat.h); free() it. */
static char *report_body(struct node *n)
{
	const struct node_config *cfg = n->cfg;
	struct node_report r;
	memset(&r, 0, sizeof(r));
	size_t cap = n->streams.map.count, k = 0;
	if (cap > HEARTBEAT_MAX_STREAMS)
		cap = HEARTBEAT_MAX_STREAMS;
	r.streams = cap ? xcalloc(cap, sizeof(*r.streams)) : NULL;
	int64_t viewers = 0;
	size_t it = 0;
	void *v;
	while (strmap_next(&n->streams.map, &it, NULL, &v)) {
		struct stream *s = v;
		int64_t sv = 0;
		for (int i = 0; i < WIRE_COUNT; i++)
			sv += s->fanout.nviewers[i];
		sv -= s->cluster_viewers;
		sv += s->rtc_viewers;        /* WebRTC sessions count as the node's viewers too */
		if (sv < 0)
			sv = 0;
		viewers += sv;
		if (k == cap)
			continue;
		struct report_stream *rs = &r.streams[k++];
		snprintf(rs->app, sizeof(rs->app), "%s", s->app);
		snprintf(rs->name, sizeof(rs->name), "%s", s->name);
		rs->publishing = s->publisher_id != 0;
		rs->viewers = sv;
		/* By protocol, for the console; pulls by other nodes are RTMP and not viewers. */
		int64_t rtmp = (int64_t)s->fanout.nviewers[WIRE_RTMP] - s->cluster_viewers;
		rs->protocols[0] = (struct report_protocol){ "rtmp", rtmp > 0 ? rtmp : 0 };
		rs->protocols[1] = (struct report_protocol){ "flv", s->fanout.nviewers[WIRE_FLV] -
		                                             s->rtsp_viewers };
		rs->protocols[2] = (struct report_protocol){ "hls", s->hls_viewers };
		rs->protocols[3] = (struct report_protocol){ "webrtc", s->rtc_viewers };
		rs->protocols[4] = (struct report_protocol){ "rtsp", s->rtsp_viewers };
		rs->nprotocols = 5;
	}
	r.nstreams = (unsigned)k;
	const char *host = cfg->public_host && *cfg->public_host ? cfg->public_host : cfg->bind;
	snprintf(r.id, sizeof(r.id), "%.64s", n->name);  /* init checked it fits */
	snprintf(r.group, sizeof(r.group), "%s", cfg->group);
	snprintf(r.role, sizeof(r.role), "%s", cfg->role);
	snprintf(r.host, sizeof(r.host), "%s", host);
	r.rtmp_port = cfg->public_rtmp_port ? cfg->public_rtmp_port : cfg->rtmp_port;
	r.http_port = cfg->public_http_port ? cfg->public_http_port : cfg->http_port;
	r.srt_port = cfg->srt ? cfg->srt_port : 0;
	r.rtsp_port = cfg->rtsp_port;
	r.rtmps_port = n->rtmps_on ? cfg->rtmps_port : 0;
	r.https_port = n->https ? cfg->https_port : 0;
	r.connections = n->conns.count;
	r.publishers = rtmp_server_count(n, 1);
	r.viewers = viewers;
	r.bw_in_bps = (int64_t)n->bw_in_bps;
	r.bw_out_bps = (int64_t)n->bw_out_bps;
	r.cpu_percent = n->sys.cpu_percent;
	r.rss_bytes = (int64_t)n->sys.rss_bytes;
	r.sys_cpu_percent = n->load.cpu_percent;
	r.mem_percent = n->load.mem_percent;
	enum overload ov = node_overload(n);
	snprintf(r.overloaded, sizeof(r.overloaded), "%s", ov == OVERLOAD_CPU ? "cpu" :
	         ov == OVERLOAD_MEMORY ? "memory" : "");
	char *body = node_report_build(&r);
	node_report_free(&r);
	if (!body)
		abort();
	return body;
}

static void set_reachable(struct manager_link *l, int up, const char *why)
{
	if (up == l->reachable)
		return;
	l->reachable = up;
	if (up)
		log_info("manager_link_up", "manager=%s:%s", l->host, l->port);
	else
		log_warn("manager_link_down", "manager=%s:%s reason=\"%s\" (streaming goes on; "
		         "retrying every second)", l->host, l->port, why);
}

static void maybe_free(struct manager_link *l)
{
	if (!l->stopping || !l->beat_closed || l->tcp_open || l->gai_pending)
		return;
	bytes_free(&l->out);
	bytes_free(&l->in);
	tls_client_free(l->tls);
	free(l);
}

static void tcp_closed(uv_handle_t *h)
{
	struct manager_link *l = h->data;
	l->tcp_open = 0;
	l->phase = LINK_IDLE;
	maybe_free(l);
}

static void finish(struct manager_link *l)
{
	if (l->tcp_open && !io_is_closing(&l->io))
		io_close(&l->io, tcp_closed);
	else if (!l->tcp_open)
		l->phase = LINK_IDLE;
}

/* The request failed on the way (no connection, no answer, garbage).  The registration
 * stands: a manager that forgot this node says so (404, register again). */
static void fail(struct manager_link *l, const char *why)
{
	set_reachable(l, 0, why);
	finish(l);
}

/* fail() for an I/O error; a TLS one says why (a manager whose certificate does not verify
 * is not talked to, and the log says so). */
static void fail_status(struct manager_link *l, int status)
{
	const char *why = io_stream_tls_error(&l->io);
	char text[200];
	if (*why)
		snprintf(text, sizeof(text), "TLS %s", why);
	else
		snprintf(text, sizeof(text), "%s", uv_strerror(status));
	fail(l, text);
}

/* Whether the answer is the manager's, to this request: a registration's is signed with the
 * cluster secret; a heartbeat's with this node's key, or, when the manager does not know
 * that key (it forgot the node), an error signed with the cluster secret. */
static int answer_authentic(struct manager_link *l, const struct manager_reply *r)
{
	const char *p = (const char *)l->in.data;
	size_t n = l->in.len;
	const char *secret = l->node->cfg->cluster_secret;
	if (l->is_register)
		return manager_reply_verify(p, n, r, secret, l->req_sig);
	if (manager_reply_verify(p, n, r, l->key, l->req_sig))
		return 1;
	return r->status != 200 && manager_reply_verify(p, n, r, secret, l->req_sig);
}

/* The whole response is in; act on it. */
static void handle_response(struct manager_link *l)
{
	struct manager_reply r;
	if (manager_reply_parse((const char *)l->in.data, l->in.len, &r) < 0) {
		fail(l, "malformed response");
		return;
	}
	if (!answer_authentic(l, &r)) {
		/* Not the manager's answer (tampered, forged or unsigned): act on nothing in it. */
		uint64_t suppressed = 0;
		l->bad_answers++;
		if (log_throttle_pass(&l->bad_answer_log, clock_mono_ms(), BAD_ANSWER_LOG_PER_SEC,
		                      &suppressed))
			log_warn("manager_answer_refused", "manager=%s:%s status=%d reason=\"%s\" "
			         "refused=%llu suppressed=%llu", l->host, l->port, r.status,
			         r.sig[0] ? "bad signature" : "unsigned answer",
			         (unsigned long long)l->bad_answers, (unsigned long long)suppressed);
		manager_reply_free(&r);
		finish(l);
		return;
	}
	set_reachable(l, 1, NULL);
	if (r.status == 200 && l->is_register && !r.nonce[0]) {
		log_warn("manager_refused", "status=200 reason=\"registration answer without a "
		         "keyNonce (an older manager?)\"");
		manager_reply_free(&r);
		finish(l);
		return;
	}
	if (r.status == 200) {
		/* An edge or relay follows the group's origins as the manager sees them now, and
		 * where each stream is published. */
		if (r.origins[0])
			cluster_set_upstreams(&l->node->cluster, r.origins);
		cluster_set_origin_hints(&l->node->cluster, r.hints);
		r.hints = NULL;
		if (r.drain != l->node->draining) {
			l->node->draining = r.drain;
			log_info(r.drain ? "node_draining" : "node_drain_ended",
			         "manager=%s:%s reason=\"%s\"", l->host, l->port,
			         r.drain ? "the manager drains this node: /healthz answers 503, "
			                   "current clients stay" : "the manager ended the drain");
		}
		if (l->is_register) {
			node_key_derive(l->node->cfg->cluster_secret, l->node->name, r.nonce, l->key);
			l->seq = 0;
			l->registered = 1;
			log_info("manager_registered", "manager=%s:%s group=%s state=%s", l->host,
			         l->port, l->node->cfg->group, r.state[0] ? r.state : "?");
		}
	} else if (r.status == 404 || r.status == 401 || r.status == 409) {
		/* Unknown to the manager (restarted with another store, or it declared us dead):
		 * register again.  A refusal is logged; the reason comes from the manager. */
		if (r.status != 404 || l->registered)
			log_warn("manager_refused", "status=%d reason=\"%s\"", r.status,
			         r.error[0] ? r.error : "?");
		l->registered = 0;
	} else {
		log_warn("manager_error", "status=%d", r.status);
		l->registered = 0;
	}
	manager_reply_free(&r);
	finish(l);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct manager_link *l = h->data;
	(void)suggested;
	size_t want = 16384;
	if (l->in.len + want > MAX_RESPONSE + 1)
		want = MAX_RESPONSE + 1 - l->in.len;
	bytes_reserve(&l->in, want);
	buf->base = (char *)l->in.data + l->in.len;
	buf->len = want;
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct manager_link *l = s->data;
	(void)buf;
	if (nread > 0) {
		l->in.len += (size_t)nread;
		if (l->in.len > MAX_RESPONSE)
			fail(l, "response too large");
		return;
	}
	if (nread == UV_EOF) {
		io_read_stop(&l->io);
		handle_response(l);
	} else if (nread < 0) {
		(void)s;
		fail_status(l, (int)nread);
	}
}

static void write_cb(uv_write_t *w, int status)
{
	struct manager_link *l = w->data;
	if (status < 0 && status != UV_ECANCELED)
		fail_status(l, status);
}

static void connect_cb(uv_connect_t *c, int status)
{
	struct manager_link *l = c->data;
	if (status < 0) {
		if (status != UV_ECANCELED)
			fail(l, uv_strerror(status));
		return;
	}
	l->phase = LINK_BUSY;
	if (l->tls && io_stream_attach_tls_client(&l->io, l->tls, l->host) < 0) {
		fail(l, "TLS setup failed");
		return;
	}
	uv_buf_t b = uv_buf_init((char *)l->out.data, (unsigned)l->out.len);
	l->wreq.data = l;
	/* On TLS the request waits for the handshake; a refused certificate fails it. */
	int rc = io_write(&l->io, &l->wreq, &b, 1, write_cb);
	if (rc == 0)
		rc = io_read_start(&l->io, alloc_cb, read_cb);
	if (rc < 0)
		fail(l, uv_strerror(rc));
}

static void resolved_cb(uv_getaddrinfo_t *g, int status, struct addrinfo *ai)
{
	struct manager_link *l = g->data;
	l->gai_pending = 0;
	if (l->stopping) {
		uv_freeaddrinfo(ai);
		l->phase = LINK_IDLE;
		maybe_free(l);
		return;
	}
	if (status < 0 || !ai) {
		uv_freeaddrinfo(ai);
		l->phase = LINK_IDLE;
		set_reachable(l, 0, status < 0 ? uv_strerror(status) : "no address");
		return;
	}
	uv_tcp_init(l->node->loop, &l->io.u.tcp);
	l->io.u.tcp.data = l;
	l->io.tls = NULL;
	l->tcp_open = 1;
	l->phase = LINK_CONNECTING;
	l->creq.data = l;
	int rc = uv_tcp_connect(&l->creq, &l->io.u.tcp, ai->ai_addr, connect_cb);
	uv_freeaddrinfo(ai);
	if (rc < 0)
		fail(l, uv_strerror(rc));
}

static void build_request(struct manager_link *l)
{
	struct node *n = l->node;
	const char *path = l->registered ? "/api/v1/cluster/heartbeat" : "/api/v1/cluster/register";
	l->is_register = !l->registered;
	char *body = report_body(n);
	size_t blen = strlen(body);
	uint64_t t = clock_wall_ms();
	/* A registration is signed with the cluster secret; heartbeats with this node's key and
	 * a sequence number the manager sees grow. */
	uint64_t seq = l->registered ? ++l->seq : 0;
	const char *key = l->registered ? l->key : n->cfg->cluster_secret;
	node_sign(key, path, t, seq, body, blen, l->req_sig);
	bytes_clear(&l->out);
	bytes_clear(&l->in);
	bytes_printf(&l->out, "POST %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: sluice/%s\r\n"
	             "Content-Type: application/json\r\nContent-Length: %zu\r\n"
	             "X-Sluice-Time: %llu\r\nX-Sluice-Seq: %llu\r\nX-Sluice-Signature: %s\r\n"
	             "Connection: close\r\n\r\n", path, l->host, l->port, SLUICE_VERSION, blen,
	             (unsigned long long)t, (unsigned long long)seq, l->req_sig);
	bytes_append(&l->out, body, blen);
	free(body);
}

static void beat_cb(uv_timer_t *t)
{
	struct manager_link *l = t->data;
	uint64_t now = uv_now(l->node->loop);
	if (l->phase != LINK_IDLE) {
		if (now - l->started_ms > REQUEST_TIMEOUT_MS && l->phase != LINK_RESOLVING)
			fail(l, "no answer within 3 s");
		return;
	}
	build_request(l);
	l->started_ms = now;
	l->phase = LINK_RESOLVING;
	l->gai.data = l;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	int rc = uv_getaddrinfo(l->node->loop, &l->gai, resolved_cb, l->host, l->port, &hints);
	l->gai_pending = rc == 0;
	if (rc < 0) {
		l->phase = LINK_IDLE;
		set_reachable(l, 0, uv_strerror(rc));
	}
}

void manager_link_start(struct node *n)
{
	struct manager_link *l = link_;
	if (!l)
		return;
	uv_timer_init(n->loop, &l->beat);
	l->beat.data = l;
	l->reachable = 1;  /* so the first failure is logged */
	/* The first registration goes out at once; then every second. */
	uv_timer_start(&l->beat, beat_cb, 0, BEAT_MS);
	log_info("manager_link_start", "manager=%s:%s group=%s", l->host, l->port, n->cfg->group);
}

static void beat_closed(uv_handle_t *h)
{
	struct manager_link *l = h->data;
	l->beat_closed = 1;
	maybe_free(l);
}

void manager_link_stop(void)
{
	struct manager_link *l = link_;
	if (!l)
		return;
	link_ = NULL;
	l->stopping = 1;
	if (l->gai_pending)
		uv_cancel((uv_req_t *)&l->gai);
	if (l->tcp_open && !io_is_closing(&l->io))
		io_close(&l->io, tcp_closed);
	uv_close((uv_handle_t *)&l->beat, beat_closed);
}
