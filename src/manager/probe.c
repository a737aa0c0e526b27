/* SPDX-License-Identifier: Apache-2.0 */
/*
 * probe.c - before a node whose heartbeats stopped is declared dead (and a
 * managed one killed), the manager asks the node itself: GET /healthz on
 * its HTTP port.  Heartbeats can be lost on the way (the manager's own
 * listener starved, a path between them cut) while the node serves its
 * clients; an answer (200, or 503 while draining) keeps it.  No answer
 * within probe-timeout, a refused connection, or anything but an HTTP
 * status line: dead.  One probe per node at a time; the callback finds the
 * node by id, since it may be gone by then.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/net.h"
#include "manager/manager.h"

/* The first bytes of an answer are all a probe reads. */
#define PROBE_READ_MAX 64

struct probe {
	struct manager *m;
	char node_id[MGR_NAME_MAX + 1];
	void (*done)(struct manager *m, const char *node_id, int healthy, const char *detail);
	uv_tcp_t tcp;
	uv_connect_t creq;
	uv_write_t wreq;
	uv_timer_t timer;
	char req[160];
	char in[PROBE_READ_MAX];
	size_t in_len;
	int finished;
	int closing;                /* handles left to close */
	int healthy;
	char detail[80];
};

static void closed(uv_handle_t *h)
{
	struct probe *p = h->data;
	if (--p->closing == 0)
		free(p);
}

static void finish(struct probe *p, int healthy, const char *detail)
{
	if (p->finished)
		return;
	p->finished = 1;
	p->healthy = healthy;
	snprintf(p->detail, sizeof(p->detail), "%s", detail);
	p->done(p->m, p->node_id, healthy, p->detail);
	p->closing = 2;
	uv_timer_stop(&p->timer);
	uv_close((uv_handle_t *)&p->timer, closed);
	uv_close((uv_handle_t *)&p->tcp, closed);
}

/* "HTTP/1.x 200" or "HTTP/1.x 503": the node answered. */
static void check_status(struct probe *p)
{
	if (p->in_len < 12)
		return;
	int ok = memcmp(p->in, "HTTP/1.", 7) == 0 && p->in[8] == ' ';
	int status = 0;
	for (int i = 9; ok && i < 12; i++) {
		ok = p->in[i] >= '0' && p->in[i] <= '9';
		status = status * 10 + (p->in[i] - '0');
	}
	char d[48];
	if (ok && (status == 200 || status == 503)) {
		snprintf(d, sizeof(d), "/healthz answered %d", status);
		finish(p, 1, d);
	} else if (ok) {
		snprintf(d, sizeof(d), "/healthz answered %d", status);
		finish(p, 0, d);
	} else {
		finish(p, 0, "not an HTTP answer");
	}
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct probe *p = h->data;
	(void)suggested;
	buf->base = p->in + p->in_len;
	buf->len = sizeof(p->in) - p->in_len;
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct probe *p = s->data;
	(void)buf;
	if (p->finished)
		return;
	if (nread > 0) {
		p->in_len += (size_t)nread;
		if (p->in_len >= 12 || p->in_len == sizeof(p->in))
			check_status(p);
	} else if (nread < 0) {
		if (p->in_len >= 12)
			check_status(p);
		else
			finish(p, 0, nread == UV_EOF ? "closed without an answer" : uv_strerror((int)nread));
	}
}

static void write_cb(uv_write_t *w, int status)
{
	struct probe *p = w->data;
	if (status < 0 && !p->finished)
		finish(p, 0, uv_strerror(status));
}

static void connect_cb(uv_connect_t *c, int status)
{
	struct probe *p = c->data;
	if (p->finished)
		return;
	if (status < 0) {
		finish(p, 0, uv_strerror(status));
		return;
	}
	uv_buf_t b = uv_buf_init(p->req, (unsigned)strlen(p->req));
	p->wreq.data = p;
	int rc = uv_write(&p->wreq, (uv_stream_t *)&p->tcp, &b, 1, write_cb);
	if (rc == 0)
		rc = uv_read_start((uv_stream_t *)&p->tcp, alloc_cb, read_cb);
	if (rc < 0)
		finish(p, 0, uv_strerror(rc));
}

static void timeout_cb(uv_timer_t *t)
{
	finish(t->data, 0, "no answer within probe-timeout");
}

int mgr_probe_start(struct manager *m, const char *node_id, const char *host, int http_port,
                    void (*done)(struct manager *m, const char *node_id, int healthy,
                                 const char *detail))
{
	struct sockaddr_storage sa;
	if (net_addr(host, http_port, &sa) < 0)
		return -1;
	struct probe *p = xcalloc(1, sizeof(*p));
	p->m = m;
	p->done = done;
	snprintf(p->node_id, sizeof(p->node_id), "%s", node_id);
	snprintf(p->req, sizeof(p->req), strchr(host, ':') ?
	         "GET /healthz HTTP/1.1\r\nHost: [%s]:%d\r\nConnection: close\r\n\r\n" :
	         "GET /healthz HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n",
	         host, http_port);
	uv_tcp_init(m->loop, &p->tcp);
	uv_timer_init(m->loop, &p->timer);
	p->tcp.data = p->timer.data = p->creq.data = p;
	m->probes++;
	uv_timer_start(&p->timer, timeout_cb, m->cfg->probe_timeout, 0);
	int rc = uv_tcp_connect(&p->creq, &p->tcp, (const struct sockaddr *)&sa, connect_cb);
	if (rc < 0)
		finish(p, 0, uv_strerror(rc));
	return 0;
}
