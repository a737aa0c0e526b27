/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hc.c - the bench tools' HTTP/1.1 client connection (hc.h).
 */
#include "bench/hc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define HC_READ_CHUNK 16384

uint64_t hc_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int hc_parse_url(const char *url, struct sockaddr_in *addr, char *path, size_t path_size)
{
	if (strncmp(url, "http://", 7) != 0)
		return -1;
	const char *h = url + 7, *colon = strchr(h, ':'), *slash = strchr(h, '/');
	if (!colon || (slash && slash < colon) || colon - h >= 64)
		return -1;
	char host[64];
	memcpy(host, h, (size_t)(colon - h));
	host[colon - h] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (port <= 0 || port > 65535 || (*end && *end != '/'))
		return -1;
	if (uv_ip4_addr(host, (int)port, addr) != 0)
		return -1;
	int n = snprintf(path, path_size, "%s", *end ? end : "/");
	return n > 0 && (size_t)n < path_size ? 0 : -1;
}

void hc_init(struct hc_conn *c, uv_loop_t *loop, const struct sockaddr_in *addr, int keepalive)
{
	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->addr = *addr;
	c->keepalive = keepalive;
	bytes_init(&c->out);
	bytes_init(&c->in);
}

int hc_ready(const struct hc_conn *c)
{
	return !c->busy && !c->closing && !c->ending;
}

static void closed_cb(uv_handle_t *h)
{
	struct hc_conn *c = h->data;
	c->open = c->closing = c->connected = c->reading = c->ending = 0;
	if (c->on_closed)
		c->on_closed(c);
}

void hc_close(struct hc_conn *c)
{
	if (c->open && !c->closing) {
		c->closing = 1;
		uv_close((uv_handle_t *)&c->tcp, closed_cb);
	}
}

void hc_free(struct hc_conn *c)
{
	bytes_free(&c->out);
	bytes_free(&c->in);
}

/* The request is over: with an answer (err NULL) or without. */
static void finish(struct hc_conn *c, int status, size_t body_off, size_t body_len,
                   const char *err)
{
	if (!c->busy)
		return;
	c->busy = 0;
	/* A kept connection goes on reading: a close by the server while idle is seen. */
	if (err || !c->keepalive || c->srv_close)
		hc_close(c);
	c->done(c, err ? 0 : status, c->in.data, c->in.len, body_off, body_len, err);
}

int hc_expire(struct hc_conn *c, uint64_t now_us, uint64_t limit_us, const char *err)
{
	/* now_us may be older than a request sent since it was read. */
	if ((!c->busy && !c->ending) || now_us <= c->start_us + limit_us)
		return 0;
	if (c->busy)
		hc_abort(c, err);
	else
		hc_close(c);
	return 1;
}

void hc_abort(struct hc_conn *c, const char *err)
{
	finish(c, 0, 0, 0, err);
	hc_close(c);
}

/* Reads the head once it is whole: status, Content-Length, Connection: close. */
static int parse_head(struct hc_conn *c, int *status)
{
	const char *d = (const char *)c->in.data;
	if (c->head_len < 12 || strncmp(d, "HTTP/1.", 7) != 0 || d[8] != ' ')
		return -1;
	*status = atoi(d + 9);
	if (*status < 100 || *status > 599)
		return -1;
	c->content_length = -1;
	c->srv_close = 0;
	for (size_t i = 0; i + 2 < c->head_len; i++) {
		if (d[i] != '\n')
			continue;
		const char *line = d + i + 1;
		if (strncasecmp(line, "content-length:", 15) == 0)
			c->content_length = strtoll(line + 15, NULL, 10);
		else if (strncasecmp(line, "connection:", 11) == 0 &&
		         strncasecmp(line + 11 + strspn(line + 11, " "), "close", 5) == 0)
			c->srv_close = 1;
		else if (strncasecmp(line, "transfer-encoding:", 18) == 0)
			return -1;
	}
	return 0;
}

static void check_whole(struct hc_conn *c, int eof)
{
	if (!c->head_len) {
		const uint8_t *d = c->in.data;
		for (size_t i = 0; i + 4 <= c->in.len; i++)
			if (memcmp(d + i, "\r\n\r\n", 4) == 0) {
				c->head_len = i + 4;
				break;
			}
		if (!c->head_len) {
			if (eof)
				finish(c, 0, 0, 0, "closed before the answer");
			return;
		}
	}
	int status;
	if (parse_head(c, &status) < 0) {
		finish(c, 0, 0, 0, "malformed answer (or chunked)");
		return;
	}
	size_t body = c->in.len - c->head_len;
	if (c->content_length >= 0 && body >= (size_t)c->content_length)
		finish(c, status, c->head_len, (size_t)c->content_length, NULL);
	else if (eof && c->content_length < 0)
		finish(c, status, c->head_len, body, NULL);
	else if (eof)
		finish(c, 0, 0, 0, "closed in the middle of the body");
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct hc_conn *c = h->data;
	(void)suggested;
	bytes_reserve(&c->in, HC_READ_CHUNK);
	buf->base = (char *)c->in.data + c->in.len;
	buf->len = HC_READ_CHUNK;
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct hc_conn *c = s->data;
	(void)buf;
	if (!c->busy) {
		/* Bytes or a close while idle: the server ended a kept connection. */
		if (nread < 0)
			hc_close(c);
		return;
	}
	if (nread > 0) {
		c->in.len += (size_t)nread;
		if (c->in.len > HC_RESPONSE_MAX) {
			hc_abort(c, "answer too large");
			return;
		}
		check_whole(c, 0);
	} else if (nread == UV_EOF) {
		check_whole(c, 1);
		hc_close(c);
	} else if (nread < 0) {
		char e[96];
		snprintf(e, sizeof(e), "read: %s", uv_err_name((int)nread));
		hc_abort(c, e);
	}
}

static void write_cb(uv_write_t *w, int status)
{
	struct hc_conn *c = w->data;
	if (status < 0 && status != UV_ECANCELED) {
		char e[96];
		snprintf(e, sizeof(e), "write: %s", uv_err_name(status));
		hc_abort(c, e);
	}
}

static void send_out(struct hc_conn *c)
{
	uv_buf_t b = uv_buf_init((char *)c->out.data, (unsigned)c->out.len);
	c->wreq.data = c;
	int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, write_cb);
	if (rc == 0 && !c->reading) {
		rc = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
		c->reading = rc == 0;
	}
	if (rc < 0) {
		char e[96];
		snprintf(e, sizeof(e), "write: %s", uv_err_name(rc));
		hc_abort(c, e);
	}
}

static void connect_cb(uv_connect_t *r, int status)
{
	struct hc_conn *c = r->data;
	if (status < 0) {
		char e[96];
		snprintf(e, sizeof(e), "connect: %s", uv_err_name(status));
		hc_abort(c, e);
		return;
	}
	c->connected = 1;
	send_out(c);
}

int hc_request(struct hc_conn *c, const void *req, size_t len, hc_done_fn done)
{
	if (!hc_ready(c))
		return -1;
	bytes_clear(&c->out);
	bytes_clear(&c->in);
	bytes_append(&c->out, req, len);
	c->head_len = 0;
	c->done = done;
	c->busy = 1;
	c->start_us = hc_now_us();
	if (c->open && c->connected) {
		send_out(c);
		return 0;
	}
	uv_tcp_init(c->loop, &c->tcp);
	c->tcp.data = c;
	c->open = 1;
	uv_tcp_nodelay(&c->tcp, 1);
	c->connects++;
	c->creq.data = c;
	int rc = 0;
	if (c->src.sin_family)
		rc = uv_tcp_bind(&c->tcp, (const struct sockaddr *)&c->src, 0);
	if (rc == 0)
		rc = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&c->addr, connect_cb);
	if (rc < 0) {
		char e[96];
		snprintf(e, sizeof(e), "connect: %s", uv_err_name(rc));
		hc_abort(c, e);
	}
	return 0;
}
