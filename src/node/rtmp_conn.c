/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtmp_conn.c - the node's RTMP listener and the I/O of each connection:
 * handshake, chunk reassembly, acknowledgements, control writes, timeouts.
 * What the messages mean is rtmp_commands.c's business.
 */
#include "node/rtmp_conn.h"

#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/net.h"
#include "core/tls.h"
#include "proto/rtmp.h"
#include "proto/rtmp_msg.h"

/* A peer that does not read our control replies may leave this much queued. */
#define CONTROL_QUEUE_MAX (1u << 20)
/* Time a finishing connection gets to flush its last words. */
#define FINISH_GRACE_MS 3000
/*
 * Until a connection publishes, its messages may be at most this big: commands are a
 * few hundred bytes, and a peer that sends no media (one still connecting, or a
 * viewer) must not make the node hold 2 x max-message-size in partial messages.
 */
#define UNPUBLISHED_MESSAGE_MAX (64u * 1024)

struct ctrl_write {
	uv_write_t req;
	struct rtmp_conn *c;
	size_t len;
	uint8_t *data;
};

static const char *const state_names[] = {
	"handshake", "connecting", "ready", "publishing", "playing", "finishing", "closed",
};

/* A publisher may send messages up to max-message-size (see UNPUBLISHED_MESSAGE_MAX). */
static void lift_message_limits(struct rtmp_conn *c)
{
	struct rtmp_reader_limits full = c->node->rtmp_limits;
	if (!full.max_message_size)
		full.max_message_size = 8u << 20;
	if (!full.max_pending_bytes)
		full.max_pending_bytes = 2 * full.max_message_size;
	c->reader.lim.max_message_size = full.max_message_size;
	c->reader.lim.max_pending_bytes = full.max_pending_bytes;
}

void rtmp_conn_set_state(struct rtmp_conn *c, enum rtmp_conn_state st)
{
	c->state = st;
	c->state_since_ms = uv_now(c->node->loop);
	if (st == RC_PUBLISHING)
		lift_message_limits(c);
}

/* Log lines for peers closed at a node-wide limit: a flood must not flood the log. */
#define LIMIT_LOG_PER_SEC 10

int rtmp_conn_charge_partial(struct rtmp_conn *c)
{
	struct node *n = c->node;
	uint64_t now = c->reader.partial_alloc;
	if (now == c->partial_charged)
		return 0;
	int64_t delta = (int64_t)now - (int64_t)c->partial_charged;
	c->partial_charged = now;
	n->partial_bytes = (uint64_t)((int64_t)n->partial_bytes + delta);
	uint64_t mine = ipcount_add(&n->partial_by_ip, c->ipkey, delta);
	if (delta < 0)
		return 0;
	const struct node_config *cfg = n->cfg;
	int node_over = n->partial_bytes > cfg->partial_bytes_max;
	int ip_over = cfg->partial_bytes_per_ip && mine > cfg->partial_bytes_per_ip;
	if (!node_over && !ip_over)
		return 0;
	n->stats.partial_closes[node_over ? 0 : 1]++;
	uint64_t suppressed;
	if (log_throttle_pass(&n->limit_log, uv_now(n->loop), LIMIT_LOG_PER_SEC, &suppressed))
		log_warn("rtmp_partial_limit", "client=%llu peer=%s limit=%s max=%llu held=%llu "
		         "suppressed=%llu", (unsigned long long)c->base.id, c->base.peer,
		         node_over ? "partial-bytes-max" : "partial-bytes-per-ip",
		         (unsigned long long)(node_over ? cfg->partial_bytes_max
		                                        : cfg->partial_bytes_per_ip),
		         (unsigned long long)(node_over ? n->partial_bytes : mine),
		         (unsigned long long)suppressed);
	return SL_ELIMIT;
}

static void on_closed(uv_handle_t *h)
{
	struct rtmp_conn *c = h->data;
	struct node *n = c->node;
	conn_table_remove(&n->conns, &c->base);
	if (c->cluster_control)
		cluster_link_gone(&n->cluster, c);
	list_del(&c->link);
	rtmp_reader_free(&c->reader);
	rtmp_conn_charge_partial(c); /* gives back what it held */
	free(c->hs);
	free(c);
}

void rtmp_conn_close(struct rtmp_conn *c, const char *reason)
{
	if (c->state == RC_CLOSED)
		return;
	rtmp_conn_leave(c);
	log_info("rtmp_close", "client=%llu peer=%s state=%s reason=\"%s\" bytes_in=%llu "
	         "bytes_out=%llu", (unsigned long long)c->base.id, c->base.peer,
	         state_names[c->state], reason, (unsigned long long)c->base.bytes_in,
	         (unsigned long long)c->base.bytes_out);
	rtmp_conn_set_state(c, RC_CLOSED);
	io_close(&c->io, on_closed);
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
	struct rtmp_conn *c = req->data;
	(void)status;
	if (c->state == RC_FINISHING)
		rtmp_conn_close(c, "finished");
}

void rtmp_conn_finish(struct rtmp_conn *c, const char *reason)
{
	if (c->state == RC_FINISHING || c->state == RC_CLOSED)
		return;
	rtmp_conn_leave(c);
	log_debug("rtmp_finish", "client=%llu reason=\"%s\"", (unsigned long long)c->base.id,
	          reason);
	rtmp_conn_set_state(c, RC_FINISHING);
	io_read_stop(&c->io);
	c->shutdown_req.data = c;
	if (io_shutdown(&c->io, &c->shutdown_req, shutdown_cb) < 0)
		rtmp_conn_close(c, reason);
}

static void ctrl_write_cb(uv_write_t *req, int status)
{
	struct ctrl_write *w = container_of(req, struct ctrl_write, req);
	struct rtmp_conn *c = w->c;
	c->writes_pending--;
	c->write_bytes_pending -= w->len;
	free(w->data);
	free(w);
	if (status < 0 && c->state != RC_CLOSED && c->state != RC_FINISHING)
		rtmp_conn_close(c, uv_strerror(status));
}

void rtmp_conn_send(struct rtmp_conn *c, struct bytes *b)
{
	if (b->len == 0 || c->state == RC_CLOSED || c->state == RC_FINISHING) {
		bytes_free(b);
		return;
	}
	if (c->write_bytes_pending + b->len > CONTROL_QUEUE_MAX) {
		bytes_free(b);
		rtmp_conn_close(c, "peer is not reading replies");
		return;
	}
	c->base.bytes_out += b->len;
	uv_buf_t buf = uv_buf_init((char *)b->data, (unsigned)b->len);
	/* Most replies leave at once; only what the socket cannot take is queued. */
	int w = io_try_write(&c->io, &buf, 1);
	if (w == (int)b->len) {
		bytes_free(b);
		return;
	}
	if (w < 0 && w != UV_EAGAIN) {
		bytes_free(b);
		rtmp_conn_close(c, uv_strerror(w));
		return;
	}
	size_t off = w > 0 ? (size_t)w : 0;
	struct ctrl_write *cw = xmalloc(sizeof(*cw));
	cw->c = c;
	cw->data = b->data;
	cw->len = b->len - off;
	bytes_init(b);
	buf = uv_buf_init((char *)cw->data + off, (unsigned)cw->len);
	c->writes_pending++;
	c->write_bytes_pending += cw->len;
	int rc = io_write(&c->io, &cw->req, &buf, 1, ctrl_write_cb);
	if (rc < 0) {
		c->writes_pending--;
		c->write_bytes_pending -= cw->len;
		free(cw->data);
		free(cw);
		rtmp_conn_close(c, uv_strerror(rc));
	}
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct rtmp_conn *c = h->data;
	(void)suggested;
	buf->base = (char *)c->node->read_buf;
	buf->len = sizeof(c->node->read_buf);
}

static void maybe_ack(struct rtmp_conn *c)
{
	if (!c->peer_window || c->reader.bytes_in - c->acked_bytes < c->peer_window)
		return;
	c->acked_bytes = c->reader.bytes_in;
	struct bytes b;
	bytes_init(&b);
	rtmp_put_ack(&b, (uint32_t)c->reader.bytes_in);
	rtmp_conn_send(c, &b);
}

static void protocol_error(struct rtmp_conn *c, int rc, const char *where)
{
	c->node->stats.protocol_errors++;
	const char *what = rc == SL_ELIMIT ? "limit exceeded" : sl_strerror(rc);
	log_warn("rtmp_protocol_error", "client=%llu peer=%s stage=%s error=\"%s\" "
	         "max_message=%u max_chunk_size=%u max_chunk_streams=%u",
	         (unsigned long long)c->base.id, c->base.peer, where, what,
	         c->reader.lim.max_message_size, c->reader.lim.max_chunk_size,
	         c->reader.lim.max_chunk_streams);
	rtmp_conn_close(c, what);
}

static void feed_chunks(struct rtmp_conn *c, const uint8_t *p, size_t n)
{
	while (n > 0 && c->state != RC_CLOSED && c->state != RC_FINISHING) {
		struct rtmp_msg msg;
		size_t used = 0;
		int rc = rtmp_reader_feed(&c->reader, p, n, &used, &msg);
		p += used;
		n -= used;
		if (rtmp_conn_charge_partial(c) < 0) {
			if (rc == 1)
				rbuf_unref(msg.body);
			c->node->stats.protocol_errors++;
			rtmp_conn_close(c, "partial messages over the node's limit");
			return;
		}
		if (rc == SL_EAGAIN)
			break;
		if (rc < 0) {
			protocol_error(c, rc, "chunk");
			return;
		}
		rc = rtmp_conn_dispatch(c, &msg);
		if (rc < 0) {
			protocol_error(c, rc, "message");
			return;
		}
	}
	if (c->state != RC_CLOSED && c->state != RC_FINISHING)
		maybe_ack(c);
}

static void feed_handshake(struct rtmp_conn *c, const uint8_t *p, size_t n)
{
	struct bytes out;
	bytes_init(&out);
	size_t used = 0;
	int rc = rtmp_hs_feed(c->hs, p, n, &used, &out);
	rtmp_conn_send(c, &out);
	if (rc == SL_EAGAIN)
		return;
	if (rc < 0) {
		protocol_error(c, rc, "handshake");
		return;
	}
	free(c->hs);
	c->hs = NULL;
	rtmp_conn_set_state(c, RC_CONNECTING);
	feed_chunks(c, p + used, n - used);
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct rtmp_conn *c = st->data;
	if (nread == 0)
		return;
	if (nread < 0) {
		rtmp_conn_close(c, nread == UV_EOF ? "peer closed" : uv_strerror((int)nread));
		return;
	}
	c->base.bytes_in += (uint64_t)nread;
	c->last_rx_ms = uv_now(c->node->loop);
	if (c->state == RC_HANDSHAKE)
		feed_handshake(c, (const uint8_t *)buf->base, (size_t)nread);
	else
		feed_chunks(c, (const uint8_t *)buf->base, (size_t)nread);
}

static void kick(struct conn *base, const char *reason)
{
	rtmp_conn_close(container_of(base, struct rtmp_conn, base), reason);
}

static void describe(struct conn *base, json_t *o)
{
	struct rtmp_conn *c = container_of(base, struct rtmp_conn, base);
	const char *role = c->state == RC_PUBLISHING ? "publisher"
	                 : c->state == RC_PLAYING ? "viewer" : "none";
	json_object_set_new(o, "role", json_string(role));
	json_object_set_new(o, "state", json_string(state_names[c->state]));
	if (c->app[0])
		json_object_set_new(o, "app", json_string(c->app));
	if (c->stream_name[0])
		json_object_set_new(o, "stream", json_string(c->stream_name));
	if (c->state == RC_PLAYING)
		json_object_set_new(o, "skips", json_integer((json_int_t)c->viewer.skips));
}

static const struct conn_ops rtmp_conn_ops = { kick, describe };

static void accept_one(uv_stream_t *server, int status, struct tls_server *tls)
{
	struct node *n = server->data;
	if (status < 0) {
		log_warn("rtmp_accept_failed", "error=\"%s\"", uv_strerror(status));
		return;
	}
	struct rtmp_conn *c = xcalloc(1, sizeof(*c));
	c->node = n;
	uv_tcp_init(n->loop, &c->io.u.tcp);
	c->io.u.tcp.data = c;
	list_init(&c->base.link);
	list_add_tail(&n->rtmp_conns, &c->link);
	rtmp_conn_set_state(c, RC_HANDSHAKE);
	if (uv_accept(server, io_uv(&c->io)) < 0) {
		rtmp_conn_set_state(c, RC_CLOSED);
		io_close(&c->io, on_closed);
		return;
	}
	char peer[64];
	net_peer_name(&c->io.u.tcp, peer, sizeof(peer));
	iplimit_key(peer, c->ipkey, sizeof(c->ipkey));
	const char *kind = tls ? "rtmps" : "rtmp";
	int admit = n->stopping ? 0 : conn_table_add(&n->conns, &c->base, kind, peer,
	                                             &rtmp_conn_ops);
	if (n->stopping || admit < 0) {
		conn_table_log_refusal(&n->conns, kind, peer, admit);
		rtmp_conn_set_state(c, RC_CLOSED);
		io_close(&c->io, on_closed);
		return;
	}
	uv_tcp_nodelay(&c->io.u.tcp, 1);
	if (tls && io_stream_attach_tls_server(&c->io, tls) < 0) {
		log_warn("tls_attach_failed", "peer=%s", peer);
		rtmp_conn_close(c, "TLS setup failed");
		return;
	}
	c->hs = xmalloc(sizeof(*c->hs));
	rtmp_hs_server_init(c->hs);
	struct rtmp_reader_limits lim = n->rtmp_limits;
	if (!lim.max_message_size || lim.max_message_size > UNPUBLISHED_MESSAGE_MAX)
		lim.max_message_size = UNPUBLISHED_MESSAGE_MAX;
	lim.max_pending_bytes = 2 * lim.max_message_size;
	rtmp_reader_init(&c->reader, &lim);
	c->last_rx_ms = uv_now(n->loop);
	c->next_stream_id = 1;
	log_debug("rtmp_accept", "client=%llu peer=%s", (unsigned long long)c->base.id, peer);
	io_read_start(&c->io, alloc_cb, read_cb);
}

static void on_connection(uv_stream_t *server, int status)
{
	accept_one(server, status, NULL);
}

static void on_tls_connection(uv_stream_t *server, int status)
{
	struct node *n = server->data;
	accept_one(server, status, n->tls);
}

int rtmp_server_start(struct node *n)
{
	list_init(&n->rtmp_conns);
	n->rtmp_listener.data = n;
	return net_listen(n->loop, &n->rtmp_listener, n->cfg->bind, (int)n->cfg->rtmp_port, 1024,
	                  on_connection, "rtmp");
}

int rtmps_server_start(struct node *n)
{
	n->rtmps_listener.data = n;
	int rc = net_listen(n->loop, &n->rtmps_listener, n->cfg->bind, (int)n->cfg->rtmps_port,
	                    1024, on_tls_connection, "rtmps");
	n->rtmps_on = rc == 0;
	return rc;
}

void rtmp_server_stop(struct node *n)
{
	uv_close((uv_handle_t *)&n->rtmp_listener, NULL);
	if (n->rtmps_on)
		uv_close((uv_handle_t *)&n->rtmps_listener, NULL);
	n->rtmps_on = 0;
	struct list_node *it, *tmp;
	list_for_each_safe(it, tmp, &n->rtmp_conns) {
		struct rtmp_conn *c = list_entry(it, struct rtmp_conn, link);
		/* Players were told the streams ended and are finishing; close the rest. */
		if (c->state != RC_FINISHING && c->state != RC_CLOSED)
			rtmp_conn_finish(c, "node shutting down");
	}
}

static void timeout(struct rtmp_conn *c, const char *what, uint64_t limit)
{
	c->node->stats.timeouts++;
	log_info("rtmp_timeout", "client=%llu peer=%s state=%s reason=\"%s\" limit_ms=%llu",
	         (unsigned long long)c->base.id, c->base.peer, state_names[c->state], what,
	         (unsigned long long)limit);
	rtmp_conn_close(c, what);
}

void rtmp_server_sweep(struct node *n, uint64_t now)
{
	const struct node_config *cfg = n->cfg;
	struct list_node *it, *tmp;
	list_for_each_safe(it, tmp, &n->rtmp_conns) {
		struct rtmp_conn *c = list_entry(it, struct rtmp_conn, link);
		uint64_t in_state = now - c->state_since_ms;
		switch (c->state) {
		case RC_HANDSHAKE:
		case RC_CONNECTING:
			if (in_state > cfg->handshake_timeout)
				timeout(c, "handshake not completed in time", cfg->handshake_timeout);
			break;
		case RC_READY:
			if (c->cluster_control && now - c->last_rx_ms > cfg->upstream_timeout)
				timeout(c, "cluster link silent", cfg->upstream_timeout);
			else if (now - c->last_rx_ms > cfg->idle_timeout)
				timeout(c, "idle", cfg->idle_timeout);
			break;
		case RC_PUBLISHING:
			if (now - c->last_media_ms > cfg->publish_timeout)
				timeout(c, "publisher sent no media", cfg->publish_timeout);
			break;
		case RC_FINISHING:
			if (in_state > FINISH_GRACE_MS)
				rtmp_conn_close(c, "peer did not take its last messages");
			break;
		default:
			break;
		}
	}
}

unsigned rtmp_server_count(struct node *n, int publishers)
{
	unsigned count = 0;
	struct list_node *it;
	list_for_each(it, &n->rtmp_conns) {
		struct rtmp_conn *c = list_entry(it, struct rtmp_conn, link);
		if (c->state == (publishers ? RC_PUBLISHING : RC_PLAYING))
			count++;
	}
	return count;
}

void rtmp_limits_metrics(struct node *n, struct bytes *b)
{
	const struct node_stats *st = &n->stats;
	bytes_printf(b, "# HELP sluice_publishes_refused_limit_total Publishes refused at a limit "
	             "of the node.\n# TYPE sluice_publishes_refused_limit_total counter\n");
	static const char *const lim[] = { "max-publishers", "max-publishers-per-ip",
	                                   "max-streams" };
	for (int i = 0; i < 3; i++)
		bytes_printf(b, "sluice_publishes_refused_limit_total{limit=\"%s\"} %llu\n", lim[i],
		             (unsigned long long)st->publish_refused_limit[i]);
	bytes_printf(b, "# HELP sluice_rtmp_partial_bytes Bytes held in partial RTMP messages.\n"
	             "# TYPE sluice_rtmp_partial_bytes gauge\nsluice_rtmp_partial_bytes %llu\n",
	             (unsigned long long)n->partial_bytes);
	bytes_printf(b, "# HELP sluice_rtmp_partial_closes_total Connections closed for holding "
	             "too much in partial messages.\n# TYPE sluice_rtmp_partial_closes_total "
	             "counter\nsluice_rtmp_partial_closes_total{limit=\"partial-bytes-max\"} %llu\n"
	             "sluice_rtmp_partial_closes_total{limit=\"partial-bytes-per-ip\"} %llu\n",
	             (unsigned long long)st->partial_closes[0],
	             (unsigned long long)st->partial_closes[1]);
	bytes_printf(b, "# HELP sluice_rtmp_command_rate_closes_total Connections closed for "
	             "sending commands faster than rtmp-command-rate.\n# TYPE "
	             "sluice_rtmp_command_rate_closes_total counter\n"
	             "sluice_rtmp_command_rate_closes_total %llu\n",
	             (unsigned long long)st->command_rate_closes);
}
