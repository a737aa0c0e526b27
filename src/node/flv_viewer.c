/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flv_viewer.c - HTTP-FLV playback: GET /app/stream.flv answers a chunked
 * FLV body fed by the stream's fan-out buffer, exactly like an RTMP viewer
 * but with the FLV packaging of each shared message.
 */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "node/admission.h"
#include "node/node.h"

struct flv_viewer {
	struct fanout_viewer v;
	struct http_conn *conn;
	struct stream *stream;     /* a reference */
};

static void on_conn_close(void *arg)
{
	struct flv_viewer *fv = arg;
	fanout_viewer_stop(&fv->v);
	stream_unref(fv->stream);
	free(fv);
}

static void viewer_drop(struct fanout_viewer *v, const char *reason)
{
	struct flv_viewer *fv = v->owner;
	struct conn *base = http_conn_base(fv->conn);
	log_info("viewer_dropped", "client=%llu peer=%s protocol=flv app=%s stream=%s "
	         "reason=\"%s\" skips=%llu", (unsigned long long)base->id, base->peer,
	         fv->stream->app, fv->stream->name, reason, (unsigned long long)v->skips);
	fanout_viewer_stop(v);
	http_conn_close(fv->conn, reason);
}

static void viewer_end(struct fanout_viewer *v)
{
	struct flv_viewer *fv = v->owner;
	fanout_viewer_stop(v);
	http_stream_end(fv->conn);
}

static const struct fanout_viewer_ops flv_viewer_ops = { viewer_drop, viewer_end };

void flv_viewer_serve(struct node *n, struct http_conn *c, const char *app, const char *name,
                      const struct http_request *req)
{
	struct conn *base = http_conn_base(c);
	char token[160] = "";
	if (req->query)
		http_query_get(req->query, req->query_len, "token", token, sizeof(token));
	if (node_check_token(n, "play", app, name, token, base->peer, base->id) < 0) {
		http_respond_error(c, 403, "playing this stream needs a valid token (?token=...)");
		return;
	}
	if (n->cfg->publish_only && n->cluster.enabled) {
		http_respond_error(c, 403, "this origin is publish-only: watch through an edge");
		return;
	}
	char why[200];
	if (req->method != HTTP_HEAD && node_admit(n, "play", base->peer, why, sizeof(why)) < 0) {
		http_add_header(c, "Retry-After", "5");
		http_respond_error(c, 503, why);
		return;
	}
	struct stream *s = stream_find(&n->streams, app, name);
	if (!s && req->method != HTTP_HEAD)
		s = cluster_pull_stream(&n->cluster, app, name);
	if (!s) {
		n->stats.play_not_found++;
		char msg[320];
		snprintf(msg, sizeof(msg), "stream %s/%s is not live", app, name);
		http_respond_error(c, 404, msg);
		return;
	}
	if (req->method == HTTP_HEAD) {
		http_respond(c, 200, "video/x-flv", NULL, 0);
		return;
	}
	struct flv_viewer *fv = xcalloc(1, sizeof(*fv));
	fv->conn = c;
	fv->stream = stream_ref(s);
	http_add_header(c, "Cache-Control", "no-cache");
	struct io_stream *sock = http_stream_begin(c, 200, "video/x-flv", on_conn_close, fv);
	n->stats.plays++;
	log_info("play_start", "client=%llu peer=%s protocol=flv app=%s stream=%s",
	         (unsigned long long)base->id, base->peer, app, name);
	fanout_viewer_start(&s->fanout, &fv->v, sock, WIRE_FLV, &flv_viewer_ops, fv,
	                    &base->bytes_out);
}
