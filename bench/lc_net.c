/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lc_net.c - sluice-load's TCP connections: connect, read into one shared
 * buffer, write with a copy only of what the socket does not take at once.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/lc.h"
#include "bench/lc_tcpinfo.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/tls.h"

uint64_t lc_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int parse_port(const char *s, size_t n, int *port)
{
	if (n == 0 || n > 5)
		return SL_EINVAL;
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return SL_EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return SL_EINVAL;
	*port = v;
	return 0;
}

int lc_url_parse(const char *s, struct lc_url *u)
{
	memset(u, 0, sizeof(*u));
	const char *rest;
	int rtmp = 0;
	if (strncmp(s, "rtmp://", 7) == 0) {
		rtmp = 1;
		rest = s + 7;
		u->port = 1935;
	} else if (strncmp(s, "rtmps://", 8) == 0) {
		rtmp = u->tls = 1;
		rest = s + 8;
		u->port = 1936;
	} else if (strncmp(s, "http://", 7) == 0) {
		rest = s + 7;
		u->port = 80;
	} else if (strncmp(s, "https://", 8) == 0) {
		u->tls = 1;
		rest = s + 8;
		u->port = 443;
	} else {
		return SL_EINVAL;
	}
	const char *slash = strchr(rest, '/');
	if (!slash)
		return SL_EINVAL;
	const char *colon = memchr(rest, ':', (size_t)(slash - rest));
	const char *hend = colon ? colon : slash;
	if (hend == rest || (size_t)(hend - rest) >= sizeof(u->host))
		return SL_EINVAL;
	memcpy(u->host, rest, (size_t)(hend - rest));
	if (strcmp(u->host, "localhost") == 0)
		snprintf(u->host, sizeof(u->host), "127.0.0.1");
	if (colon && parse_port(colon + 1, (size_t)(slash - colon - 1), &u->port) < 0)
		return SL_EINVAL;
	if (!rtmp) {
		if (strlen(slash) >= sizeof(u->path))
			return SL_EINVAL;
		snprintf(u->path, sizeof(u->path), "%s", slash);
		return 0;
	}
	const char *app = slash + 1;
	const char *s2 = strchr(app, '/');
	if (!s2 || s2 == app || !s2[1] || (size_t)(s2 - app) >= sizeof(u->app) ||
	    strlen(s2 + 1) >= sizeof(u->stream))
		return SL_EINVAL;
	memcpy(u->app, app, (size_t)(s2 - app));
	snprintf(u->stream, sizeof(u->stream), "%s", s2 + 1);
	snprintf(u->tc_url, sizeof(u->tc_url), "rtmp://%s:%d/%s", u->host, u->port, u->app);
	return 0;
}

static void on_close(uv_handle_t *h)
{
	(void)h; /* clients live in arrays owned by struct lc */
}

void lc_client_fail(struct lc_client *c, const char *fmt, ...)
{
	if (!c->st.error[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->st.error, sizeof(c->st.error), fmt, ap);
		va_end(ap);
	}
	if (c->open && !c->closed) {
		c->closed = 1;
		io_read_stop(&c->io);
		io_close(&c->io, on_close);
	}
	if (c->srt && !c->closed) {
		c->closed = 1;
		lc_srt_close(c);
	}
	if (c->dump) {
		fclose(c->dump);
		c->dump = NULL;
	}
}

struct wreq {
	uv_write_t req;
	uint8_t data[];
};

static void write_cb(uv_write_t *req, int status)
{
	struct lc_client *c = req->data;
	free(req);
	if (status < 0 && status != UV_ECANCELED)
		lc_client_fail(c, "write: %s", uv_strerror(status));
}

void lc_client_send(struct lc_client *c, const uint8_t *p, size_t n)
{
	if (c->closed || n == 0)
		return;
	uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
	int w = 0;
	if (io_write_queue_size(&c->io) == 0) {
		w = io_try_write(&c->io, &b, 1);
		if (w < 0 && w != UV_EAGAIN) {
			lc_client_fail(c, "write: %s", uv_strerror(w));
			return;
		}
		if (w < 0)
			w = 0;
	}
	if ((size_t)w == n)
		return;
	struct wreq *r = xmalloc(sizeof(*r) + n - (size_t)w);
	memcpy(r->data, p + w, n - (size_t)w);
	r->req.data = c;
	b = uv_buf_init((char *)r->data, (unsigned)(n - (size_t)w));
	int rc = io_write(&c->io, &r->req, &b, 1, write_cb);
	if (rc < 0) {
		free(r);
		lc_client_fail(c, "write: %s", uv_strerror(rc));
	}
}

size_t lc_client_write_queue(const struct lc_client *c)
{
	return c->closed ? 0 : io_write_queue_size((struct io_stream *)&c->io);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct lc_client *c = h->data;
	struct lc *lc = c->lc;
	(void)hint;
	/* One buffer for every connection: each read is consumed before the next. */
	*buf = uv_buf_init((char *)lc->readbuf, sizeof(lc->readbuf));
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct lc_client *c = s->data;
	if (n < 0) {
		lc_client_fail(c, "%s", n == UV_EOF ? "closed by server" : uv_strerror((int)n));
		return;
	}
	if (n == 0)
		return;
	c->st.bytes += (uint64_t)n;
	if (c->lc->measuring)
		c->st.window_bytes += (uint64_t)n;
	if (c->role == LC_PLAY_FLV)
		lc_http_data(c, (const uint8_t *)buf->base, (size_t)n);
	else if (c->role == LC_PLAY_WHEP)
		lc_whep_data(c, (const uint8_t *)buf->base, (size_t)n);
	else
		lc_rtmp_data(c, (const uint8_t *)buf->base, (size_t)n);
}

static void connect_cb(uv_connect_t *req, int status)
{
	struct lc_client *c = req->data;
	if (status < 0) {
		lc_client_fail(c, "connect: %s", uv_strerror(status));
		return;
	}
	uv_tcp_nodelay(&c->io.u.tcp, 1);
	if (c->url.tls && (!c->lc->tls ||
	                   io_stream_attach_tls_client(&c->io, c->lc->tls, c->url.host) < 0)) {
		lc_client_fail(c, "TLS: no --tls-ca, or setup failed");
		return;
	}
	int rc = io_read_start(&c->io, alloc_cb, read_cb);
	if (rc < 0) {
		lc_client_fail(c, "read: %s", uv_strerror(rc));
		return;
	}
	if (c->role == LC_PLAY_FLV)
		lc_http_begin(c);
	else if (c->role == LC_PLAY_WHEP)
		lc_whep_begin(c);
	else
		lc_rtmp_begin(c);
}

int lc_client_begin(struct lc_client *c, struct sockaddr_in *sa)
{
	c->st.connect_start_us = lc_now_us();
	c->st.ttff_us = -1;
	c->st.ttfb_us = -1;
	c->nal_len_size = 4;
	if (uv_ip4_addr(c->url.host, c->url.port, sa) < 0) {
		lc_client_fail(c, "bad address %s", c->url.host);
		return SL_EINVAL;
	}
	return 0;
}

int lc_client_connect(struct lc_client *c)
{
	struct sockaddr_in sa;
	if (lc_client_begin(c, &sa) < 0)
		return SL_EINVAL;
	uv_tcp_init(c->lc->loop, &c->io.u.tcp);
	c->open = 1;
	c->io.u.tcp.data = c;
	c->creq.data = c;
	int rc = uv_tcp_connect(&c->creq, &c->io.u.tcp, (const struct sockaddr *)&sa, connect_cb);
	if (rc < 0) {
		lc_client_fail(c, "connect: %s", uv_strerror(rc));
		return SL_EIO;
	}
	return 0;
}

static int client_fd(const struct lc_client *c)
{
	uv_os_fd_t fd;
	if (!c->open || c->closed || uv_fileno(&c->io.u.handle, &fd) != 0)
		return -1;
	return fd;
}

void lc_client_segs_start(struct lc_client *c)
{
	int fd = client_fd(c);
	c->st.segs_known = fd >= 0 &&
	                   lc_tcp_received(fd, &c->st.segs_at_start, &c->st.seg_bytes_at_start) == 0;
}

void lc_client_segs_end(struct lc_client *c)
{
	uint64_t segs, bytes;
	int fd = client_fd(c);
	if (c->st.segs_known && fd >= 0 && lc_tcp_received(fd, &segs, &bytes) == 0) {
		c->st.window_segs = (uint32_t)(segs - c->st.segs_at_start); /* wraps at 32 bits */
		c->st.window_seg_bytes = bytes - c->st.seg_bytes_at_start;
	} else {
		c->st.segs_known = 0;
	}
}
