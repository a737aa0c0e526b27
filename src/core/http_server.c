/* SPDX-License-Identifier: Apache-2.0 */
/* http_server.c - HTTP/1.1 server on libuv (see http_server.h). */
#include "core/http_server.h"

#include <string.h>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/err.h"
#include "core/list.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/tls.h"
#include "core/net.h"
#include "core/ratelimit.h"

#define READ_BUF_SIZE (64 * 1024)
#define STREAM_DISCARD_MAX (64 * 1024) /* a streaming peer may send this much, no more */
#define REFUSAL_LOG_PER_SEC 20         /* lines a second about refused requests, at most */

enum conn_state {
	HC_READING,    /* waiting for (the rest of) a request */
	HC_HANDLING,   /* the handler owes a response */
	HC_WRITING,    /* a response is being written */
	HC_STREAMING,  /* the socket belongs to a streamed response */
	HC_CLOSING,
};

struct http_server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	uv_timer_t sweep;
	struct http_server_config cfg;
	struct http_limits limits;
	struct list_node conns;
	uint8_t read_buf[READ_BUF_SIZE]; /* shared: data is consumed before the next read */
	int stopping;
	unsigned open_handles;
	struct log_throttle refusal_log;
};

struct http_conn {
	struct conn base;
	struct http_server *srv;
	struct io_stream io;          /* its socket, plain or TLS */
	struct list_node link;
	enum conn_state state;
	struct bytes in;              /* received; bytes before in_off are consumed */
	size_t in_off;                /* requests answered are skipped, not moved (pipelining) */
	size_t consumed;              /* bytes of `in` used by the request being handled */
	uint64_t last_activity_ms;
	uint64_t request_started_ms;  /* first byte of the pending request; 0 if none */
	uint64_t write_started_ms;
	int keep_alive;
	int head_only;                /* HEAD: headers only */
	int reading;
	size_t discarded;
	struct bytes headers;         /* extra headers for the next response */
	uv_write_t wreq;
	struct bytes out;             /* the response being written (head, or all of it) */
	struct http_body_ref *refs;   /* body pieces written by reference after out */
	size_t nrefs;
	void (*on_close)(void *arg);
	void *on_close_arg;
};

static void process(struct http_conn *c);
static void start_reading(struct http_conn *c);

static void release_refs(struct http_conn *c)
{
	for (size_t i = 0; i < c->nrefs; i++)
		if (c->refs[i].hold)
			rbuf_unref(c->refs[i].hold);
	free(c->refs);
	c->refs = NULL;
	c->nrefs = 0;
}

/* Received bytes not yet consumed by a request. */
static size_t pending(const struct http_conn *c)
{
	return c->in.len - c->in_off;
}

static uint64_t now_ms(struct http_server *s)
{
	return uv_now(s->loop);
}

/* Says why a peer's request was refused and its connection will close (throttled). */
static void log_refusal(struct http_conn *c, int status, const char *msg)
{
	uint64_t suppressed = 0;
	if (!log_throttle_pass(&c->srv->refusal_log, now_ms(c->srv), REFUSAL_LOG_PER_SEC,
	                       &suppressed))
		return;
	log_info("http_request_refused", "client=%llu peer=%s status=%d reason=\"%s\" "
	         "buffered=%zu max_head=%zu suppressed=%llu", (unsigned long long)c->base.id,
	         c->base.peer, status, msg, pending(c), c->srv->limits.max_head_bytes,
	         (unsigned long long)suppressed);
}

static void maybe_free_server(struct http_server *s)
{
	if (s->stopping && s->open_handles == 0 && list_empty(&s->conns))
		free(s);
}

static void on_conn_closed(uv_handle_t *h)
{
	struct http_conn *c = h->data;
	struct http_server *s = c->srv;
	if (c->on_close) {
		void (*cb)(void *) = c->on_close;
		c->on_close = NULL;
		cb(c->on_close_arg);
	}
	conn_table_remove(s->cfg.conns, &c->base);
	list_del(&c->link);
	bytes_free(&c->in);
	bytes_free(&c->out);
	bytes_free(&c->headers);
	release_refs(c);
	free(c);
	maybe_free_server(s);
}

void http_conn_close(struct http_conn *c, const char *reason)
{
	if (c->state == HC_CLOSING)
		return;
	c->state = HC_CLOSING;
	if (reason)
		log_debug("http_close", "client=%llu peer=%s reason=\"%s\"",
		          (unsigned long long)c->base.id, c->base.peer, reason);
	io_close(&c->io, on_conn_closed);
}

static void kick(struct conn *base, const char *reason)
{
	http_conn_close(container_of(base, struct http_conn, base), reason);
}

static const struct conn_ops http_conn_ops = { kick, NULL };

struct conn *http_conn_base(struct http_conn *c)
{
	return &c->base;
}

void http_conn_watch(struct http_conn *c, void (*on_close)(void *arg), void *arg)
{
	if (on_close && c->state != HC_HANDLING)
		return;
	/* Stopping always works, even while closing: the watcher may be freed next. */
	c->on_close = on_close;
	c->on_close_arg = arg;
	if (on_close)
		start_reading(c); /* EOF or an error is how a peer that left is noticed */
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct http_conn *c = h->data;
	struct http_server *s = c->srv;
	(void)suggested;
	/* libuv delivers one read at a time, and read_cb consumes it before returning. */
	buf->base = (char *)s->read_buf;
	buf->len = sizeof(s->read_buf);
}

static void stop_reading(struct http_conn *c)
{
	if (c->reading) {
		io_read_stop(&c->io);
		c->reading = 0;
	}
}

static void read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct http_conn *c = st->data;
	struct http_server *s = c->srv;
	if (nread == 0)
		return;
	if (nread < 0) {
		http_conn_close(c, nread == UV_EOF ? "peer closed" : uv_strerror((int)nread));
		return;
	}
	c->base.bytes_in += (uint64_t)nread;
	c->last_activity_ms = now_ms(s);
	if (c->state == HC_STREAMING) {
		c->discarded += (size_t)nread;
		if (c->discarded > STREAM_DISCARD_MAX)
			http_conn_close(c, "peer sent data on a streaming response");
		return;
	}
	if (c->state != HC_READING && c->state != HC_HANDLING)
		return;
	size_t limit = s->limits.max_head_bytes + s->cfg.max_body_bytes;
	if (pending(c) + (size_t)nread > limit) {
		/* More than one maximal request buffered: the peer is not waiting for answers. */
		log_refusal(c, 413, "request too large");
		if (c->state == HC_HANDLING) { /* a held request: its holder learns through on_close */
			http_conn_close(c, "request too large");
			return;
		}
		http_respond_error(c, 413, "request too large");
		c->keep_alive = 0;
		return;
	}
	if (c->in_off) {
		/* Compact once per read, not once per request: a pipelining peer stays linear. */
		memmove(c->in.data, c->in.data + c->in_off, pending(c));
		c->in.len -= c->in_off;
		c->in_off = 0;
	}
	bytes_append(&c->in, buf->base, (size_t)nread);
	if (c->state == HC_READING)
		process(c); /* while a request is held, what follows waits for its answer */
}

static void start_reading(struct http_conn *c)
{
	if (!c->reading && c->state != HC_CLOSING) {
		if (io_read_start(&c->io, alloc_cb, read_cb) == 0)
			c->reading = 1;
	}
}

static void fail_request(struct http_conn *c, int status, const char *msg)
{
	log_refusal(c, status, msg);
	c->keep_alive = 0;
	c->consumed = pending(c);
	http_respond_error(c, status, msg);
}

static void process(struct http_conn *c)
{
	struct http_server *s = c->srv;
	while (c->state == HC_READING && pending(c) > 0) {
		struct http_request req;
		const uint8_t *at = c->in.data + c->in_off;
		int rc = http_parse_request(at, pending(c), &s->limits, &req);
		if (rc == SL_EAGAIN) {
			if (!c->request_started_ms)
				c->request_started_ms = now_ms(s);
			break; /* the rest of the request is still to be read */
		}
		if (rc < 0) {
			c->state = HC_HANDLING;
			if (rc == SL_ELIMIT)
				fail_request(c, 431, "request header fields too large");
			else if (rc == SL_EUNSUPP)
				fail_request(c, 505, "only HTTP/1.0 and HTTP/1.1 without "
				                     "Transfer-Encoding are supported");
			else
				fail_request(c, 400, "malformed request");
			return;
		}
		size_t head = (size_t)rc;
		size_t body_len = req.content_length > 0 ? (size_t)req.content_length : 0;
		if (req.content_length > (int64_t)s->cfg.max_body_bytes) {
			c->state = HC_HANDLING;
			fail_request(c, 413, "request body too large");
			return;
		}
		if (pending(c) < head + body_len) {
			if (!c->request_started_ms)
				c->request_started_ms = now_ms(s);
			break; /* body still arriving */
		}
		c->state = HC_HANDLING;
		c->consumed = head + body_len;
		c->keep_alive = req.keep_alive;
		c->head_only = req.method == HTTP_HEAD;
		c->request_started_ms = 0;
		stop_reading(c);
		s->cfg.handler(s->cfg.ctx, c, &req, at + head, body_len);
		return; /* the response's write callback continues */
	}
	if (c->state == HC_READING)
		start_reading(c);
}

static void consume_request(struct http_conn *c)
{
	size_t n = c->consumed < pending(c) ? c->consumed : pending(c);
	c->in_off += n;
	if (c->in_off == c->in.len)
		c->in.len = c->in_off = 0;
	c->consumed = 0;
}

static void write_cb(uv_write_t *req, int status)
{
	struct http_conn *c = req->data;
	c->write_started_ms = 0;
	bytes_clear(&c->out);
	release_refs(c);
	if (c->state == HC_CLOSING)
		return;
	if (status < 0) {
		http_conn_close(c, uv_strerror(status));
		return;
	}
	if (c->state == HC_STREAMING)
		return;
	if (!c->keep_alive || c->srv->stopping) {
		http_conn_close(c, NULL);
		return;
	}
	c->state = HC_READING;
	c->last_activity_ms = now_ms(c->srv);
	if (pending(c))
		c->request_started_ms = now_ms(c->srv);
	process(c);
}

static void send_out(struct http_conn *c)
{
	uv_buf_t b[1 + HTTP_BODY_REFS_MAX];
	unsigned nb = 0;
	b[nb++] = uv_buf_init((char *)c->out.data, (unsigned)c->out.len);
	c->base.bytes_out += c->out.len;
	for (size_t i = 0; i < c->nrefs; i++) {
		b[nb++] = uv_buf_init((char *)c->refs[i].data, (unsigned)c->refs[i].len);
		c->base.bytes_out += c->refs[i].len;
	}
	c->wreq.data = c;
	c->write_started_ms = now_ms(c->srv);
	int rc = io_write(&c->io, &c->wreq, b, nb, write_cb);
	if (rc < 0) {
		release_refs(c);
		http_conn_close(c, uv_strerror(rc));
	}
}

void http_add_header(struct http_conn *c, const char *name, const char *value)
{
	bytes_printf(&c->headers, "%s: %s\r\n", name, value);
}

static void put_head(struct http_conn *c, int status, const char *content_type,
                     long long content_length, int chunked)
{
	struct bytes *o = &c->out;
	bytes_printf(o, "HTTP/1.1 %d %s\r\nServer: sluice/%s\r\n", status,
	             http_status_text(status), SLUICE_VERSION);
	if (content_type)
		bytes_printf(o, "Content-Type: %s\r\n", content_type);
	if (chunked)
		bytes_put_str(o, "Transfer-Encoding: chunked\r\n");
	else if (content_length >= 0)
		bytes_printf(o, "Content-Length: %lld\r\n", content_length);
	if (c->srv->cfg.cors)
		bytes_put_str(o, "Access-Control-Allow-Origin: *\r\n");
	bytes_put_str(o, c->keep_alive && !chunked ? "Connection: keep-alive\r\n"
	                                           : "Connection: close\r\n");
	bytes_append(o, c->headers.data, c->headers.len);
	bytes_clear(&c->headers);
	bytes_put_str(o, "\r\n");
}

/* Takes c from handling a request to writing its answer; 0 if it may answer now. */
static int begin_answer(struct http_conn *c)
{
	if (c->state != HC_HANDLING && c->state != HC_READING)
		return -1; /* closing, or already answered */
	consume_request(c);
	if (c->srv->stopping)
		c->keep_alive = 0;
	c->state = HC_WRITING;
	stop_reading(c);
	return 0;
}

void http_respond(struct http_conn *c, int status, const char *content_type,
                  const void *body, size_t len)
{
	if (begin_answer(c) < 0)
		return;
	put_head(c, status, content_type, (long long)len, 0);
	if (!c->head_only)
		bytes_append(&c->out, body, len);
	send_out(c);
}

void http_respond_refs(struct http_conn *c, int status, const char *content_type,
                       const struct http_body_ref *refs, size_t n)
{
	if (n > HTTP_BODY_REFS_MAX) {
		http_respond_error(c, 500, "response in too many pieces");
		return;
	}
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += refs[i].len;
	if (begin_answer(c) < 0)
		return;
	put_head(c, status, content_type, (long long)len, 0);
	if (!c->head_only && n) {
		c->refs = xmalloc(n * sizeof(*c->refs));
		for (size_t i = 0; i < n; i++) {
			c->refs[i] = refs[i];
			if (refs[i].hold)
				rbuf_ref(refs[i].hold);
		}
		c->nrefs = n;
	}
	send_out(c);
}

void http_respond_json(struct http_conn *c, int status, json_t *json)
{
	char *text = json_dumps(json, JSON_COMPACT);
	json_decref(json);
	if (!text) {
		http_respond_error(c, 500, "could not encode JSON");
		return;
	}
	size_t n = strlen(text);
	struct bytes b;
	bytes_init(&b);
	bytes_append(&b, text, n);
	bytes_put_u8(&b, '\n');
	free(text);
	http_respond(c, status, "application/json", b.data, b.len);
	bytes_free(&b);
}

void http_respond_error(struct http_conn *c, int status, const char *message)
{
	json_t *o = json_object();
	json_object_set_new(o, "error", json_string(message));
	json_object_set_new(o, "status", json_integer(status));
	http_respond_json(c, status, o);
}

struct io_stream *http_stream_begin(struct http_conn *c, int status, const char *content_type,
                                    void (*on_close)(void *arg), void *arg)
{
	consume_request(c);
	c->keep_alive = 0;
	c->state = HC_STREAMING;
	c->on_close = on_close;
	c->on_close_arg = arg;
	put_head(c, status, content_type, -1, 1);
	send_out(c);
	/* Keep reading: that is how a viewer that went away is noticed. */
	start_reading(c);
	return &c->io;
}

static void end_cb(uv_write_t *req, int status)
{
	struct http_conn *c = req->data;
	(void)status;
	free(req);
	http_conn_close(c, NULL);
}

void http_stream_end(struct http_conn *c)
{
	if (c->state != HC_STREAMING)
		return;
	static char last[] = "0\r\n\r\n";
	uv_write_t *req = xmalloc(sizeof(*req));
	req->data = c;
	uv_buf_t b = uv_buf_init(last, 5);
	c->base.bytes_out += 5;
	if (io_write(&c->io, req, &b, 1, end_cb) < 0) {
		free(req);
		http_conn_close(c, NULL);
	}
}

static void on_connection(uv_stream_t *server, int status)
{
	struct http_server *s = server->data;
	if (status < 0) {
		log_warn("http_accept_failed", "error=\"%s\"", uv_strerror(status));
		return;
	}
	struct http_conn *c = xcalloc(1, sizeof(*c));
	c->srv = s;
	uv_tcp_init(s->loop, &c->io.u.tcp);
	c->io.u.tcp.data = c;
	list_init(&c->base.link);
	list_add_tail(&s->conns, &c->link);
	if (uv_accept(server, io_uv(&c->io)) < 0) {
		c->state = HC_CLOSING;
		io_close(&c->io, on_conn_closed);
		return;
	}
	char peer[64];
	net_peer_name(&c->io.u.tcp, peer, sizeof(peer));
	const char *kind = s->cfg.tls ? "https" : "http";
	int admit = s->stopping ? 0 : conn_table_add(s->cfg.conns, &c->base, kind, peer,
	                                             &http_conn_ops);
	if (s->stopping || admit < 0) {
		conn_table_log_refusal(s->cfg.conns, kind, peer, admit);
		c->state = HC_CLOSING;
		io_close(&c->io, on_conn_closed);
		return;
	}
	uv_tcp_nodelay(&c->io.u.tcp, 1);
	if (s->cfg.tls && io_stream_attach_tls_server(&c->io, s->cfg.tls) < 0) {
		log_warn("tls_attach_failed", "peer=%s", peer);
		c->state = HC_CLOSING;
		io_close(&c->io, on_conn_closed);
		return;
	}
	c->state = HC_READING;
	c->last_activity_ms = now_ms(s);
	start_reading(c);
}

static void sweep_cb(uv_timer_t *t)
{
	struct http_server *s = t->data;
	uint64_t now = now_ms(s);
	struct list_node *n, *tmp;
	list_for_each_safe(n, tmp, &s->conns) {
		struct http_conn *c = list_entry(n, struct http_conn, link);
		switch (c->state) {
		case HC_READING:
			if (c->request_started_ms &&
			    now - c->request_started_ms > s->cfg.request_timeout_ms) {
				log_info("http_timeout", "client=%llu peer=%s reason=\"request not "
				         "complete within %llu ms\"", (unsigned long long)c->base.id,
				         c->base.peer, (unsigned long long)s->cfg.request_timeout_ms);
				c->state = HC_HANDLING;
				fail_request(c, 408, "request timeout");
			} else if (!c->request_started_ms &&
			           now - c->last_activity_ms > s->cfg.keepalive_timeout_ms) {
				http_conn_close(c, "idle");
			}
			break;
		case HC_WRITING:
			if (c->write_started_ms && now - c->write_started_ms > s->cfg.send_timeout_ms) {
				log_info("http_timeout", "client=%llu peer=%s reason=\"response not read "
				         "within %llu ms\"", (unsigned long long)c->base.id, c->base.peer,
				         (unsigned long long)s->cfg.send_timeout_ms);
				http_conn_close(c, "response not read in time");
			}
			break;
		default:
			break;
		}
	}
}

static void handle_closed(uv_handle_t *h)
{
	struct http_server *s = h->data;
	s->open_handles--;
	maybe_free_server(s);
}

void http_server_set_timeouts(struct http_server *s, uint64_t request_ms, uint64_t keepalive_ms,
                              uint64_t send_ms)
{
	if (request_ms)
		s->cfg.request_timeout_ms = request_ms;
	if (keepalive_ms)
		s->cfg.keepalive_timeout_ms = keepalive_ms;
	if (send_ms)
		s->cfg.send_timeout_ms = send_ms;
}

int http_server_start(uv_loop_t *loop, const struct http_server_config *cfg,
                      struct http_server **out)
{
	struct http_server *s = xcalloc(1, sizeof(*s));
	s->loop = loop;
	s->cfg = *cfg;
	if (!s->cfg.max_head_bytes)
		s->cfg.max_head_bytes = 8192;
	if (!s->cfg.max_body_bytes)
		s->cfg.max_body_bytes = 1u << 20;
	if (!s->cfg.request_timeout_ms)
		s->cfg.request_timeout_ms = 10000;
	if (!s->cfg.keepalive_timeout_ms)
		s->cfg.keepalive_timeout_ms = 30000;
	if (!s->cfg.send_timeout_ms)
		s->cfg.send_timeout_ms = 30000;
	s->limits.max_head_bytes = s->cfg.max_head_bytes;
	s->limits.max_headers = HTTP_MAX_HEADERS;
	list_init(&s->conns);
	s->listener.data = s;
	int rc = net_listen(loop, &s->listener, cfg->bind, cfg->port, 1024, on_connection,
	                    cfg->tls ? "https" : "http");
	s->open_handles++;
	if (rc < 0) {
		s->stopping = 1;
		uv_close((uv_handle_t *)&s->listener, handle_closed);
		return rc;
	}
	uv_timer_init(loop, &s->sweep);
	s->sweep.data = s;
	s->open_handles++;
	uv_timer_start(&s->sweep, sweep_cb, 500, 500);
	*out = s;
	return 0;
}

void http_server_stop(struct http_server *s)
{
	if (s->stopping)
		return;
	s->stopping = 1;
	uv_close((uv_handle_t *)&s->listener, handle_closed);
	uv_timer_stop(&s->sweep);
	uv_close((uv_handle_t *)&s->sweep, handle_closed);
	struct list_node *n, *tmp;
	list_for_each_safe(n, tmp, &s->conns) {
		struct http_conn *c = list_entry(n, struct http_conn, link);
		if (c->state == HC_READING)
			http_conn_close(c, "server stopping");
		/* writing, handling and streaming ones close when done (keep_alive is off now) */
	}
}
