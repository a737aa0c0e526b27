/* SPDX-License-Identifier: Apache-2.0 */
/* rtmp_client.c - outbound, authenticated RTMP links between nodes (see rtmp_client.h). */
#include "cluster/rtmp_client.h"

#include <stdio.h>
#include <string.h>

#include "cluster/cluster_auth.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/tls.h"
#include "proto/amf0.h"
#include "proto/rtmp.h"
#include "proto/rtmp_handshake.h"
#include "proto/rtmp_msg.h"

/* A peer that does not read what we send may leave this much queued. */
#define SEND_QUEUE_MAX (4u << 20)

enum stage { ST_RESOLVING, ST_CONNECTING, ST_HANDSHAKE, ST_CONNECT, ST_AUTH, ST_READY,
             ST_CLOSING };

struct rtmp_client {
	uv_loop_t *loop;
	const struct rtmp_client_ops *ops;
	void *owner;
	char host[256], app[160], name[160], secret[256], via[512];
	char peer[300];
	int port;
	uint64_t timeout_ms;
	enum stage stage;
	uint64_t last_rx_ms;
	uv_getaddrinfo_t resolve;
	uv_connect_t connect;
	struct io_stream io;             /* plain, or RTMPS with tls */
	struct tls_client *tls;
	int tcp_open;
	struct rtmp_hs hs;
	struct rtmp_reader reader;
	char server_nonce[CLUSTER_NONCE_HEX + 1];
	char client_nonce[CLUSTER_NONCE_HEX + 1];
	char binding[2 * TLS_EXPORTER_LEN + 1]; /* the TLS session's exporter, hex; "": plain */
	uint64_t queued;                 /* bytes handed to libuv, not yet written */
	uint64_t acked;
	uint32_t peer_window;
	const char *close_reason;
	char reason_buf[400];
};

struct client_write {
	uv_write_t req;
	struct rtmp_client *c;
	size_t len;
	uint8_t data[];
};

static uint8_t read_buf[64 * 1024]; /* consumed within each read callback */

static void on_tcp_closed(uv_handle_t *h)
{
	struct rtmp_client *c = h->data;
	if (c->owner)
		c->ops->closed(c, c->close_reason);
	rtmp_reader_free(&c->reader);
	free(c);
}

static void finish_close(struct rtmp_client *c)
{
	if (c->tcp_open) {
		io_close(&c->io, on_tcp_closed);
		return;
	}
	/* Never got a socket: report from the loop all the same, never from inside open(). */
	uv_tcp_init(c->loop, &c->io.u.tcp);
	c->io.u.tcp.data = c;
	c->tcp_open = 1;
	io_close(&c->io, on_tcp_closed);
}

void rtmp_client_close(struct rtmp_client *c, const char *reason)
{
	if (c->stage == ST_CLOSING)
		return;
	if (reason != c->reason_buf)
		snprintf(c->reason_buf, sizeof(c->reason_buf), "%s", reason);
	c->close_reason = c->reason_buf;
	enum stage was = c->stage;
	c->stage = ST_CLOSING;
	if (was == ST_RESOLVING) {
		/* Cancelled or already running, resolved_cb comes, sees ST_CLOSING and finishes. */
		uv_cancel((uv_req_t *)&c->resolve);
		return;
	}
	if (was == ST_CONNECTING) {
		/* Closing the handle cancels the connect; its callback runs first. */
		io_close(&c->io, on_tcp_closed);
		c->tcp_open = 0;
		return;
	}
	finish_close(c);
}

static void write_cb(uv_write_t *req, int status)
{
	struct client_write *w = (struct client_write *)req;
	struct rtmp_client *c = w->c;
	c->queued -= w->len;
	free(w);
	if (status < 0 && status != UV_ECANCELED)
		rtmp_client_close(c, uv_strerror(status));
}

static void send_raw(struct rtmp_client *c, const uint8_t *p, size_t n)
{
	if (!n || c->stage == ST_CLOSING)
		return;
	if (c->queued + n > SEND_QUEUE_MAX) {
		rtmp_client_close(c, "peer is not reading");
		return;
	}
	struct client_write *w = xmalloc(sizeof(*w) + n);
	memcpy(w->data, p, n);
	w->len = n;
	w->c = c;
	uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)n);
	int rc = io_write(&c->io, &w->req, &buf, 1, write_cb);
	if (rc < 0) {
		free(w);
		rtmp_client_close(c, uv_strerror(rc));
		return;
	}
	c->queued += n;
}

static void queue(struct rtmp_client *c, struct bytes *b)
{
	send_raw(c, b->data, b->len);
	bytes_free(b);
	bytes_init(b);
}

void rtmp_client_send(struct rtmp_client *c, struct bytes *b)
{
	if (c->stage != ST_READY) {
		bytes_free(b); /* not set up (or closing): the owner's message has no link yet */
		bytes_init(b);
		return;
	}
	queue(c, b);
}

static void send_connect(struct rtmp_client *c)
{
	struct bytes b, amf;
	bytes_init(&b);
	bytes_init(&amf);
	char tc_url[600];
	snprintf(tc_url, sizeof(tc_url), "rtmp://%s/%s", c->peer, c->app);
	rtmp_put_set_chunk_size(&b, RTMP_CLIENT_CHUNK_SIZE);
	amf0_put_string(&amf, "connect");
	amf0_put_number(&amf, 1);
	amf0_put_object_start(&amf);
	amf0_put_prop_string(&amf, "app", c->app);
	amf0_put_prop_string(&amf, "type", "nonprivate");
	amf0_put_prop_string(&amf, "flashVer", "FMLE/3.0 (compatible; sluice)");
	amf0_put_prop_string(&amf, "tcUrl", tc_url);
	amf0_put_prop_string(&amf, "sluiceCluster", c->name);
	if (c->via[0])
		amf0_put_prop_string(&amf, "sluiceVia", c->via);
	amf0_put_object_end(&amf);
	rtmp_put_command(&b, RTMP_CLIENT_CHUNK_SIZE, 0, &amf);
	bytes_free(&amf);
	queue(c, &b);
	c->stage = ST_CONNECT;
}

static void send_auth(struct rtmp_client *c)
{
	char proof[CLUSTER_PROOF_HEX + 1];
	/* Over RTMPS, bound to this TLS session (cluster_auth.h): a relay cannot pass it on. */
	if (io_stream_tls_binding(&c->io, c->binding) < 0) {
		rtmp_client_close(c, "TLS session not established");
		return;
	}
	cluster_nonce(c->client_nonce);
	cluster_proof_bound(c->secret, CLUSTER_DOWNSTREAM, c->server_nonce, c->client_nonce,
	                    c->name, c->binding, proof);
	struct bytes b, amf;
	bytes_init(&b);
	bytes_init(&amf);
	amf0_put_string(&amf, "clusterAuth");
	amf0_put_number(&amf, 2);
	amf0_put_null(&amf);
	amf0_put_string(&amf, c->client_nonce);
	amf0_put_string(&amf, c->name);
	amf0_put_string(&amf, proof);
	rtmp_put_command(&b, RTMP_CLIENT_CHUNK_SIZE, 0, &amf);
	bytes_free(&amf);
	queue(c, &b);
	c->stage = ST_AUTH;
}

/* The code of a _result/_error info object (second argument), or "". */
static const char *info_code(const struct rtmp_command *cmd)
{
	const char *code = cmd->nargs ? amf0_str(amf0_get(cmd->args[0], "code")) : NULL;
	return code ? code : "";
}

/* Handles replies during set-up; a refusal closes the link. */
static void setup_reply(struct rtmp_client *c, const struct rtmp_msg *m)
{
	struct rtmp_command cmd;
	static const struct amf0_limits lim = { 8, 256 };
	if (rtmp_command_decode(m->type, m->body->data, m->body->len, &lim, &cmd) < 0)
		return; /* not a command we read: ignore during set-up */
	int is_result = strcmp(cmd.name, "_result") == 0;
	int is_error = strcmp(cmd.name, "_error") == 0;
	if (c->stage == ST_CONNECT && (is_result || is_error) && cmd.txid == 1) {
		const char *nonce = cmd.nargs ? amf0_str(amf0_get(cmd.args[0], "sluiceNonce")) : NULL;
		if (is_error || !nonce || strlen(nonce) != CLUSTER_NONCE_HEX) {
			char esc[96], desc_esc[240];
			const char *desc = cmd.nargs ? amf0_str(amf0_get(cmd.args[0], "description"))
			                             : NULL;
			snprintf(c->reason_buf, sizeof(c->reason_buf), "upstream refused connect: %s%s%s",
			         is_error ? log_escape(info_code(&cmd), esc, sizeof(esc))
			                  : "no cluster nonce (not a cluster node?)",
			         is_error && desc ? ": " : "",
			         is_error && desc ? log_escape(desc, desc_esc, sizeof(desc_esc)) : "");
			rtmp_client_close(c, c->reason_buf);
		} else {
			snprintf(c->server_nonce, sizeof(c->server_nonce), "%s", nonce);
			send_auth(c);
		}
	} else if (c->stage == ST_AUTH && (is_result || is_error) && cmd.txid == 2) {
		const char *proof = cmd.nargs ? amf0_str(amf0_get(cmd.args[0], "proof")) : NULL;
		if (is_error) {
			rtmp_client_close(c, "upstream refused our cluster proof (wrong secret?)");
		} else if (cluster_proof_check_bound(c->secret, CLUSTER_UPSTREAM, c->server_nonce,
		                                     c->client_nonce, c->name, c->binding,
		                                     proof) != 0) {
			rtmp_client_close(c, "upstream could not prove it holds the cluster secret");
		} else {
			c->stage = ST_READY;
			if (c->owner)
				c->ops->ready(c);
		}
	}
	rtmp_command_free(&cmd);
}

static void control(struct rtmp_client *c, const struct rtmp_msg *m)
{
	if (m->type == RTMP_MSG_WINDOW_ACK_SIZE && m->body->len >= 4) {
		c->peer_window = rd_u32be(m->body->data);
	} else if (m->type == RTMP_MSG_USER_CONTROL) {
		uint16_t ev;
		uint32_t v;
		if (rtmp_parse_user_control(m->body->data, m->body->len, &ev, &v) == 0 &&
		    ev == RTMP_UC_PING_REQUEST) {
			struct bytes b;
			bytes_init(&b);
			rtmp_put_ping(&b, RTMP_UC_PING_RESPONSE, v);
			queue(c, &b);
		}
	}
}

static void feed(struct rtmp_client *c, const uint8_t *p, size_t n)
{
	while (n && c->stage != ST_CLOSING) {
		size_t used = 0;
		struct rtmp_msg m;
		int rc = rtmp_reader_feed(&c->reader, p, n, &used, &m);
		p += used;
		n -= used;
		if (rc == SL_EAGAIN)
			break;
		if (rc < 0) {
			snprintf(c->reason_buf, sizeof(c->reason_buf), "bad RTMP from upstream: %s",
			         sl_strerror(rc));
			rtmp_client_close(c, c->reason_buf);
			return;
		}
		control(c, &m);
		if (c->stage == ST_READY && c->owner && m.type != RTMP_MSG_WINDOW_ACK_SIZE &&
		    m.type != RTMP_MSG_SET_CHUNK_SIZE && m.type != RTMP_MSG_ACK)
			c->ops->message(c, &m);
		else if (c->stage == ST_CONNECT || c->stage == ST_AUTH)
			if (m.type == RTMP_MSG_COMMAND_AMF0 || m.type == RTMP_MSG_COMMAND_AMF3)
				setup_reply(c, &m);
		rbuf_unref(m.body);
	}
	/* Acknowledge as the peer asked, so a server that waits for acks keeps sending. */
	if (c->peer_window && c->stage != ST_CLOSING &&
	    c->reader.bytes_in - c->acked >= c->peer_window / 2) {
		struct bytes b;
		bytes_init(&b);
		c->acked = c->reader.bytes_in;
		rtmp_put_ack(&b, (uint32_t)c->reader.bytes_in);
		queue(c, &b);
	}
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)h;
	(void)hint;
	*buf = uv_buf_init((char *)read_buf, sizeof(read_buf));
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct rtmp_client *c = s->data;
	if (nread == 0 || c->stage == ST_CLOSING)
		return;
	if (nread < 0) {
		const char *tls_why = io_stream_tls_error(&c->io);
		if (*tls_why) {
			snprintf(c->reason_buf, sizeof(c->reason_buf), "TLS %s", tls_why);
			rtmp_client_close(c, c->reason_buf);
			return;
		}
		rtmp_client_close(c, nread == UV_EOF ? "upstream closed" : uv_strerror((int)nread));
		return;
	}
	c->last_rx_ms = uv_now(c->loop);
	const uint8_t *p = (const uint8_t *)buf->base;
	size_t n = (size_t)nread;
	if (c->stage == ST_HANDSHAKE) {
		struct bytes out;
		bytes_init(&out);
		size_t used = 0;
		int rc = rtmp_hs_feed(&c->hs, p, n, &used, &out);
		queue(c, &out);
		bytes_free(&out);
		if (rc == SL_EAGAIN)
			return;
		if (rc < 0) {
			rtmp_client_close(c, "bad RTMP handshake from upstream");
			return;
		}
		p += used;
		n -= used;
		send_connect(c);
	}
	feed(c, p, n);
}

static void connected_cb(uv_connect_t *req, int status)
{
	struct rtmp_client *c = req->data;
	if (c->stage == ST_CLOSING)
		return; /* the handle is being closed; on_tcp_closed reports */
	if (status < 0) {
		snprintf(c->reason_buf, sizeof(c->reason_buf), "connect failed: %s",
		         uv_strerror(status));
		rtmp_client_close(c, c->reason_buf);
		return;
	}
	uv_tcp_nodelay(&c->io.u.tcp, 1);
	if (c->tls && io_stream_attach_tls_client(&c->io, c->tls, c->host) < 0) {
		c->stage = ST_HANDSHAKE;
		rtmp_client_close(c, "TLS setup failed");
		return;
	}
	c->stage = ST_HANDSHAKE;
	c->last_rx_ms = uv_now(c->loop);
	struct bytes out;
	bytes_init(&out);
	rtmp_hs_client_init(&c->hs, &out);
	queue(c, &out);
	bytes_free(&out);
	io_read_start(&c->io, alloc_cb, read_cb);
}

static void resolved_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct rtmp_client *c = req->data;
	if (c->stage == ST_CLOSING) {
		uv_freeaddrinfo(res);
		finish_close(c);
		return;
	}
	if (status < 0 || !res) {
		uv_freeaddrinfo(res);
		snprintf(c->reason_buf, sizeof(c->reason_buf), "cannot resolve %s: %s", c->host,
		         uv_strerror(status));
		c->stage = ST_HANDSHAKE; /* the lookup is over: nothing to cancel, no socket yet */
		rtmp_client_close(c, c->reason_buf);
		return;
	}
	uv_tcp_init(c->loop, &c->io.u.tcp);
	c->io.u.tcp.data = c;
	c->tcp_open = 1;
	c->stage = ST_CONNECTING;
	c->connect.data = c;
	int rc = uv_tcp_connect(&c->connect, &c->io.u.tcp, res->ai_addr, connected_cb);
	uv_freeaddrinfo(res);
	if (rc < 0) {
		snprintf(c->reason_buf, sizeof(c->reason_buf), "connect failed: %s", uv_strerror(rc));
		c->stage = ST_HANDSHAKE; /* nothing in flight: close the plain handle */
		rtmp_client_close(c, c->reason_buf);
	}
}

struct rtmp_client *rtmp_client_open(uv_loop_t *loop, const struct rtmp_client_config *cfg,
                                     const struct rtmp_client_ops *ops, void *owner)
{
	struct rtmp_client *c = xcalloc(1, sizeof(*c));
	c->loop = loop;
	c->ops = ops;
	c->owner = owner;
	snprintf(c->host, sizeof(c->host), "%s", cfg->host);
	snprintf(c->app, sizeof(c->app), "%s", cfg->app);
	snprintf(c->name, sizeof(c->name), "%s", cfg->name);
	snprintf(c->via, sizeof(c->via), "%s", cfg->via ? cfg->via : "");
	snprintf(c->secret, sizeof(c->secret), "%s", cfg->secret ? cfg->secret : "");
	snprintf(c->peer, sizeof(c->peer), "%s:%d", cfg->host, cfg->port);
	c->port = cfg->port;
	c->timeout_ms = cfg->timeout_ms;
	c->tls = cfg->tls;
	c->last_rx_ms = uv_now(loop);
	rtmp_reader_init(&c->reader, cfg->limits);
	c->stage = ST_RESOLVING;
	c->resolve.data = c;
	char port[16];
	snprintf(port, sizeof(port), "%d", cfg->port);
	struct addrinfo hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int rc = uv_getaddrinfo(loop, &c->resolve, resolved_cb, c->host, port, &hints);
	if (rc < 0) {
		snprintf(c->reason_buf, sizeof(c->reason_buf), "cannot resolve %s: %s", c->host,
		         uv_strerror(rc));
		c->stage = ST_HANDSHAKE;
		rtmp_client_close(c, c->reason_buf);
	}
	return c;
}

void rtmp_client_tick(struct rtmp_client *c, uint64_t now)
{
	if (c->stage == ST_CLOSING || c->stage == ST_RESOLVING)
		return;
	if (now - c->last_rx_ms > c->timeout_ms) {
		snprintf(c->reason_buf, sizeof(c->reason_buf), "upstream silent for %llu ms",
		         (unsigned long long)(now - c->last_rx_ms));
		rtmp_client_close(c, c->reason_buf);
	}
}

void *rtmp_client_owner(const struct rtmp_client *c)
{
	return c->owner;
}

void rtmp_client_set_owner(struct rtmp_client *c, void *owner)
{
	c->owner = owner;
}

const char *rtmp_client_peer(const struct rtmp_client *c)
{
	return c->peer;
}
