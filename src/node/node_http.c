/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node_http.c - the node's HTTP surface: health, the JSON API (node,
 * streams, clients, kick), Prometheus metrics, and the route to HTTP-FLV.
 * JSON is built with jansson, never by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/http_auth.h"
#include "core/log.h"
#include "node/admission.h"
#include "node/hls_http.h"
#include "node/status_page.h"
#include "node/whep_http.h"
#include "node/whip_http.h"
#include "webrtc/rtc.h"
#include "node/watch_page.h"
#include "node/node.h"
#include "node/rtsp_server.h"
#include "node/srt_server.h"
#include "proto/flv.h"

/*
 * POST /api/v1/cluster/events, per node (one node per process): a token
 * bucket, so that even a holder of the API token cannot flood every stream
 * of every node of the cluster.  Over it: 429.
 */
#define EVENT_POSTS_PER_SEC 5
#define EVENT_POSTS_BURST 20

static struct {
	uint64_t refill_ms;
	uint32_t tokens;
	int started;
} event_bucket;

static int event_post_allowed(uint64_t now_ms)
{
	if (!event_bucket.started) {
		event_bucket.started = 1;
		event_bucket.tokens = EVENT_POSTS_BURST;
		event_bucket.refill_ms = now_ms;
	}
	uint64_t add = (now_ms - event_bucket.refill_ms) * EVENT_POSTS_PER_SEC / 1000;
	if (add) {
		uint64_t t = event_bucket.tokens + add;
		event_bucket.tokens = t > EVENT_POSTS_BURST ? EVENT_POSTS_BURST : (uint32_t)t;
		event_bucket.refill_ms += add * 1000 / EVENT_POSTS_PER_SEC;
	}
	if (!event_bucket.tokens)
		return 0;
	event_bucket.tokens--;
	return 1;
}

static int path_is(const struct http_request *r, const char *p)
{
	return r->path_len == strlen(p) && memcmp(r->path, p, r->path_len) == 0;
}

static int path_has_prefix(const struct http_request *r, const char *p)
{
	size_t n = strlen(p);
	return r->path_len >= n && memcmp(r->path, p, n) == 0;
}

static uint64_t uptime_s(struct node *n)
{
	return (uv_now(n->loop) - n->started_mono_ms) / 1000;
}

static json_t *viewers_json(const uint32_t *counts)
{
	json_t *o = json_object();
	json_object_set_new(o, "rtmp", json_integer(counts[WIRE_RTMP]));
	json_object_set_new(o, "flv", json_integer(counts[WIRE_FLV]));
	json_object_set_new(o, "total", json_integer(counts[WIRE_RTMP] + counts[WIRE_FLV]));
	return o;
}

static void count_viewers(struct node *n, uint32_t *counts)
{
	counts[WIRE_RTMP] = counts[WIRE_FLV] = 0;
	size_t it = 0;
	void *v;
	while (strmap_next(&n->streams.map, &it, NULL, &v)) {
		struct stream *s = v;
		for (int i = 0; i < WIRE_COUNT; i++)
			counts[i] += s->fanout.nviewers[i];
	}
}

static json_t *node_json(struct node *n)
{
	uint32_t viewers[WIRE_COUNT];
	count_viewers(n, viewers);
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(n->name));
	json_object_set_new(o, "role", json_string(cluster_role_name(n->cluster.role)));
	json_object_set_new(o, "version", json_string(SLUICE_VERSION));
	json_object_set_new(o, "uptime_s", json_integer((json_int_t)uptime_s(n)));
	json_object_set_new(o, "started_ms", json_integer((json_int_t)n->started_wall_ms));
	json_object_set_new(o, "connections", json_integer(n->conns.count));
	json_object_set_new(o, "max_connections", json_integer(n->conns.max));
	json_object_set_new(o, "publishers", json_integer(rtmp_server_count(n, 1)));
	json_t *vj = viewers_json(viewers);
	json_object_set_new(vj, "webrtc", json_integer(n->rtc ? (json_int_t)
	                    rtc_server_stats(n->rtc)->sessions_now : 0));
	json_object_set_new(o, "viewers", vj);
	json_object_set_new(o, "streams", json_integer((json_int_t)n->streams.map.count));
	json_object_set_new(o, "bytes_in", json_integer((json_int_t)conn_table_bytes_in(&n->conns)));
	json_object_set_new(o, "bytes_out", json_integer((json_int_t)conn_table_bytes_out(&n->conns)));
	json_object_set_new(o, "bandwidth_in_bps", json_integer((json_int_t)n->bw_in_bps));
	json_object_set_new(o, "bandwidth_out_bps", json_integer((json_int_t)n->bw_out_bps));
	json_object_set_new(o, "cpu_percent", json_real(n->sys.cpu_percent));
	json_object_set_new(o, "memory_rss_bytes", json_integer((json_int_t)n->sys.rss_bytes));
	json_object_set_new(o, "draining", json_boolean(n->draining));
	json_object_set_new(o, "admission", node_admission_json(n));
	json_object_set_new(o, "cluster", cluster_to_json(&n->cluster));
	json_object_set_new(o, "tls", node_tls_json(n));
	return o;
}

static json_t *stream_json(struct node *n, struct stream *s)
{
	json_t *o = json_object();
	json_object_set_new(o, "app", json_string(s->app));
	json_object_set_new(o, "name", json_string(s->name));
	json_t *v = json_object();
	json_object_set_new(v, "codec", s->vcodec ? json_string(flv_codec_name(s->vcodec))
	                                          : json_null());
	json_object_set_new(v, "width", json_integer(s->width));
	json_object_set_new(v, "height", json_integer(s->height));
	if (s->vcodec == FLV_CODEC_H264) {
		json_object_set_new(v, "profile", json_integer(s->avc_profile));
		json_object_set_new(v, "level", json_integer(s->avc_level));
	}
	if (s->meta_fps > 0)
		json_object_set_new(v, "fps", json_real(s->meta_fps));
	json_object_set_new(v, "frames", json_integer((json_int_t)s->video_frames));
	json_object_set_new(v, "keyframes", json_integer((json_int_t)s->keyframes));
	json_object_set_new(o, "video", v);
	json_t *a = json_object();
	json_object_set_new(a, "codec", s->acodec ? json_string(flv_codec_name(s->acodec))
	                                          : json_null());
	json_object_set_new(a, "sample_rate", json_integer(s->sample_rate));
	json_object_set_new(a, "channels", json_integer(s->channels));
	json_object_set_new(o, "audio", a);
	json_object_set_new(o, "bitrate_bps", json_integer((json_int_t)s->rate_bytes_per_sec * 8));
	json_object_set_new(o, "bytes_in", json_integer((json_int_t)s->bytes_in));
	json_t *p = json_object();
	json_object_set_new(p, "client_id", json_integer((json_int_t)s->publisher_id));
	json_object_set_new(p, "address", json_string(s->publisher_peer));
	json_object_set_new(o, "publisher", p);
	json_t *vj = viewers_json(s->fanout.nviewers);
	json_object_set_new(vj, "hls", json_integer(s->hls_viewers));
	unsigned rtc = rtc_stream_viewers(n->rtc, s);
	json_object_set_new(vj, "webrtc", json_integer(rtc));
	/* RTSP viewers are fan-out FLV viewers underneath (flv_tap.h): shown as what they are. */
	json_object_set_new(vj, "flv", json_integer(s->fanout.nviewers[WIRE_FLV] - s->rtsp_viewers));
	json_object_set_new(vj, "rtsp", json_integer(s->rtsp_viewers));
	json_object_set_new(vj, "total", json_integer(s->fanout.nviewers[WIRE_RTMP] +
	                    s->fanout.nviewers[WIRE_FLV] + s->hls_viewers + rtc));
	json_object_set_new(o, "viewers", vj);
	json_object_set_new(o, "cluster_pulls", json_integer(s->cluster_viewers));
	json_object_set_new(o, "started_ms", json_integer((json_int_t)s->started_ms));
	json_object_set_new(o, "age_s",
	                    json_integer((json_int_t)((clock_wall_ms() - s->started_ms) / 1000)));
	json_object_set_new(o, "buffer_bytes", json_integer((json_int_t)s->fanout.bytes));
	json_object_set_new(o, "viewer_skips", json_integer((json_int_t)s->fanout.skips));
	json_object_set_new(o, "viewer_drops", json_integer((json_int_t)s->fanout.drops));
	return o;
}

static void api_streams(struct node *n, struct http_conn *c)
{
	json_t *arr = json_array();
	size_t it = 0;
	void *v;
	while (strmap_next(&n->streams.map, &it, NULL, &v))
		json_array_append_new(arr, stream_json(n, v));
	json_t *o = json_object();
	json_object_set_new(o, "streams", arr);
	http_respond_json(c, 200, o);
}

static void api_clients(struct node *n, struct http_conn *c)
{
	json_t *arr = json_array();
	struct list_node *it;
	list_for_each(it, &n->conns.all)
		json_array_append_new(arr, conn_to_json(list_entry(it, struct conn, link)));
	json_t *o = json_object();
	json_object_set_new(o, "clients", arr);
	http_respond_json(c, 200, o);
}

static void api_kick(struct node *n, struct http_conn *c, const char *idtext)
{
	char *end;
	unsigned long long id = strtoull(idtext, &end, 10);
	if (end == idtext || *end) {
		http_respond_error(c, 400, "client id must be a number");
		return;
	}
	struct conn *target = conn_table_find(&n->conns, id);
	if (!target) {
		http_respond_error(c, 404, "no such client");
		return;
	}
	if (target == http_conn_base(c)) {
		http_respond_error(c, 400, "a client cannot kick its own API connection");
		return;
	}
	log_info("client_kicked", "client=%llu peer=%s by=%s", id, target->peer,
	         http_conn_base(c)->peer);
	target->ops->kick(target, "kicked through the API");
	json_t *o = json_object();
	json_object_set_new(o, "kicked", json_integer((json_int_t)id));
	http_respond_json(c, 200, o);
}

static void metric(struct bytes *b, const char *name, const char *type, const char *help)
{
	bytes_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Per-stream series, labelled with app and stream names (metrics-stream-labels). */
static void stream_metrics(struct node *n, struct bytes *b)
{
	metric(b, "sluice_stream_viewers", "gauge", "Viewers per stream and protocol.");
	size_t it = 0;
	void *v;
	while (strmap_next(&n->streams.map, &it, NULL, &v)) {
		struct stream *s = v;
		bytes_printf(b, "sluice_stream_viewers{app=\"%s\",stream=\"%s\",protocol=\"rtmp\"} %u\n",
		             s->app, s->name, s->fanout.nviewers[WIRE_RTMP]);
		bytes_printf(b, "sluice_stream_viewers{app=\"%s\",stream=\"%s\",protocol=\"flv\"} %u\n",
		             s->app, s->name, s->fanout.nviewers[WIRE_FLV]);
		bytes_printf(b, "sluice_stream_viewers{app=\"%s\",stream=\"%s\",protocol=\"hls\"} %u\n",
		             s->app, s->name, s->hls_viewers);
	}
	metric(b, "sluice_stream_bitrate_bps", "gauge", "Incoming bitrate per stream.");
	it = 0;
	while (strmap_next(&n->streams.map, &it, NULL, &v)) {
		struct stream *s = v;
		bytes_printf(b, "sluice_stream_bitrate_bps{app=\"%s\",stream=\"%s\"} %llu\n", s->app,
		             s->name, (unsigned long long)s->rate_bytes_per_sec * 8);
	}
}

static void api_metrics(struct node *n, struct http_conn *c)
{
	uint32_t viewers[WIRE_COUNT];
	count_viewers(n, viewers);
	struct bytes b;
	bytes_init(&b);
	metric(&b, "sluice_up", "gauge", "1 while the node serves.");
	bytes_printf(&b, "sluice_up{node=\"%s\",role=\"%s\"} 1\n", n->name,
	             cluster_role_name(n->cluster.role));
	metric(&b, "sluice_cluster_pulls", "gauge", "Streams this node pulls from upstream nodes.");
	bytes_printf(&b, "sluice_cluster_pulls %u\n", n->cluster.npulls);
	metric(&b, "sluice_cluster_pulls_started_total", "counter", "Pulls ever started.");
	bytes_printf(&b, "sluice_cluster_pulls_started_total %llu\n",
	             (unsigned long long)n->cluster.pulls_started);
	metric(&b, "sluice_cluster_failovers_total", "counter",
	       "Pulls that moved to another upstream without ending.");
	bytes_printf(&b, "sluice_cluster_failovers_total %llu\n",
	             (unsigned long long)n->cluster.failovers);
	metric(&b, "sluice_cluster_peers_refused_total", "counter",
	       "Cluster connections refused (wrong secret, replay, not serving).");
	bytes_printf(&b, "sluice_cluster_peers_refused_total %llu\n",
	             (unsigned long long)n->cluster.auth_refused);
	metric(&b, "sluice_cluster_pulls_refused_total", "counter",
	       "Pulls not started: the name is held off as missing upstream, pull-rate, max-pulls.");
	for (int v = PULL_GATE_MISSING; v <= PULL_GATE_FULL; v++)
		bytes_printf(&b, "sluice_cluster_pulls_refused_total{reason=\"%s\"} %llu\n",
		             pull_gate_verdict_name((enum pull_gate_verdict)v),
		             (unsigned long long)n->cluster.gate.refused[v]);
	metric(&b, "sluice_cluster_members", "gauge", "Cluster members known, this node included.");
	bytes_printf(&b, "sluice_cluster_members %u\n", n->cluster.members.n);
	node_admission_metrics(n, &b);
	metric(&b, "sluice_connections", "gauge", "Open client connections.");
	bytes_printf(&b, "sluice_connections %u\n", n->conns.count);
	metric(&b, "sluice_connections_max", "gauge", "Connection limit.");
	bytes_printf(&b, "sluice_connections_max %u\n", n->conns.max);
	metric(&b, "sluice_connections_accepted_total", "counter", "Connections accepted.");
	bytes_printf(&b, "sluice_connections_accepted_total %llu\n",
	             (unsigned long long)n->conns.accepted);
	metric(&b, "sluice_connections_refused_total", "counter",
	       "Connections refused at the connection limit.");
	bytes_printf(&b, "sluice_connections_refused_total %llu\n",
	             (unsigned long long)n->conns.refused);
	metric(&b, "sluice_connections_refused_per_ip_total", "counter",
	       "Connections refused at accept by a per-address limit.");
	bytes_printf(&b, "sluice_connections_refused_per_ip_total{limit=\"concurrent\"} %llu\n",
	             (unsigned long long)n->conns.ip.refused_conns);
	bytes_printf(&b, "sluice_connections_refused_per_ip_total{limit=\"rate\"} %llu\n",
	             (unsigned long long)n->conns.ip.refused_rate);
	metric(&b, "sluice_streams", "gauge", "Live streams.");
	bytes_printf(&b, "sluice_streams %zu\n", n->streams.map.count);
	metric(&b, "sluice_publishers", "gauge", "Publishing connections.");
	bytes_printf(&b, "sluice_publishers %u\n", rtmp_server_count(n, 1));
	metric(&b, "sluice_viewers", "gauge", "Viewers by protocol.");
	bytes_printf(&b, "sluice_viewers{protocol=\"rtmp\"} %u\n", viewers[WIRE_RTMP]);
	bytes_printf(&b, "sluice_viewers{protocol=\"flv\"} %u\n", viewers[WIRE_FLV]);
	uint32_t hls_total = 0;
	size_t hit = 0;
	void *hv;
	while (strmap_next(&n->streams.map, &hit, NULL, &hv))
		hls_total += ((struct stream *)hv)->hls_viewers;
	bytes_printf(&b, "sluice_viewers{protocol=\"hls\"} %u\n", hls_total);
	if (n->rtc) {
		bytes_printf(&b, "sluice_viewers{protocol=\"webrtc\"} %llu\n",
		             (unsigned long long)rtc_server_stats(n->rtc)->sessions_now);
		rtc_metrics(n->rtc, &b);
	}
	const struct sendbatch *sb = &n->streams.flusher.sb;
	metric(&b, "sluice_io_uring", "gauge",
	       "1 while viewers' writes go out through io_uring, many per system call.");
	bytes_printf(&b, "sluice_io_uring %d\n", sendbatch_uses_uring(sb));
	metric(&b, "sluice_viewer_batched_writes_total", "counter",
	       "Viewer writes sent in batches (one system call each while sluice_io_uring is 0).");
	bytes_printf(&b, "sluice_viewer_batched_writes_total %llu\n", sb->writes);
	metric(&b, "sluice_viewer_batch_calls_total", "counter",
	       "System calls those batched writes took.");
	bytes_printf(&b, "sluice_viewer_batch_calls_total %llu\n", sb->calls);
	uint64_t hls_dropped, hls_refused;
	hls_http_counters(n, &hls_dropped, &hls_refused);
	metric(&b, "sluice_hls_frames_dropped_total", "counter",
	       "Frames the HLS packager could not carry (broken NAL lengths, AAC ADTS cannot say).");
	bytes_printf(&b, "sluice_hls_frames_dropped_total %llu\n", (unsigned long long)hls_dropped);
	metric(&b, "sluice_hls_configs_refused_total", "counter",
	       "Sequence headers the HLS packager could not use.");
	bytes_printf(&b, "sluice_hls_configs_refused_total %llu\n", (unsigned long long)hls_refused);
	metric(&b, "sluice_received_bytes_total", "counter", "Bytes received from clients.");
	bytes_printf(&b, "sluice_received_bytes_total %llu\n",
	             (unsigned long long)conn_table_bytes_in(&n->conns));
	metric(&b, "sluice_sent_bytes_total", "counter", "Bytes sent to clients.");
	bytes_printf(&b, "sluice_sent_bytes_total %llu\n",
	             (unsigned long long)conn_table_bytes_out(&n->conns));
	metric(&b, "sluice_publishes_total", "counter", "Publishes accepted.");
	bytes_printf(&b, "sluice_publishes_total %llu\n", (unsigned long long)n->stats.publishes);
	metric(&b, "sluice_publishes_refused_total", "counter",
	       "Publishes refused (key busy, bad name).");
	bytes_printf(&b, "sluice_publishes_refused_total %llu\n",
	             (unsigned long long)n->stats.publish_refused);
	metric(&b, "sluice_plays_total", "counter", "Plays started.");
	bytes_printf(&b, "sluice_plays_total %llu\n", (unsigned long long)n->stats.plays);
	metric(&b, "sluice_plays_not_found_total", "counter", "Plays of streams not live.");
	bytes_printf(&b, "sluice_plays_not_found_total %llu\n",
	             (unsigned long long)n->stats.play_not_found);
	metric(&b, "sluice_access_denied_total", "counter", "Missing, bad or expired tokens.");
	bytes_printf(&b, "sluice_access_denied_total %llu\n",
	             (unsigned long long)n->stats.auth_refused);
	metric(&b, "sluice_protocol_errors_total", "counter",
	       "Peers dropped for malformed input or limits.");
	bytes_printf(&b, "sluice_protocol_errors_total %llu\n",
	             (unsigned long long)n->stats.protocol_errors);
	metric(&b, "sluice_timeouts_total", "counter", "Peers dropped for silence.");
	bytes_printf(&b, "sluice_timeouts_total %llu\n", (unsigned long long)n->stats.timeouts);
	rtmp_limits_metrics(n, &b);
	srt_server_metrics(n, &b);
	rtsp_server_metrics(n, &b);
	node_tls_metrics(n, &b);

	metric(&b, "sluice_api_refused_total", "counter",
	       "API and metrics calls refused (no or wrong token, cross-site, event rate).");
	bytes_printf(&b, "sluice_api_refused_total %llu\n", (unsigned long long)n->stats.api_refused);
	uint64_t held, held_refused;
	hls_http_held(n, &held, &held_refused);
	metric(&b, "sluice_hls_held_requests", "gauge",
	       "HLS blocking reloads and part requests held until what they ask for exists.");
	bytes_printf(&b, "sluice_hls_held_requests %llu\n", (unsigned long long)held);
	metric(&b, "sluice_hls_held_refused_total", "counter",
	       "HLS requests answered 503 at once: too many held (node, address or stream).");
	bytes_printf(&b, "sluice_hls_held_refused_total %llu\n", (unsigned long long)held_refused);
	/* Stream names are publishing keys unless publish-secret is set: opt-in only. */
	if (n->cfg->metrics_stream_labels)
		stream_metrics(n, &b);
	metric(&b, "process_cpu_seconds_total", "counter", "CPU time used by the node.");
	bytes_printf(&b, "process_cpu_seconds_total %.3f\n", (double)n->sys.cpu_total_us / 1e6);
	metric(&b, "process_resident_memory_bytes", "gauge", "Resident memory of the node.");
	bytes_printf(&b, "process_resident_memory_bytes %llu\n",
	             (unsigned long long)n->sys.rss_bytes);
	http_respond(c, 200, "text/plain; version=0.0.4", b.data, b.len);
	bytes_free(&b);
}

/* With the token set, the request must carry it (Bearer or ?accessToken=); unset: open. */
static int token_ok(const char *want, const struct http_request *req)
{
	return !want || !*want || http_bearer_ok(req, want);
}

/* Counts and logs (throttled) a refused API or metrics call, then answers it. */
static void refuse(struct node *n, struct http_conn *c, const struct http_request *req,
                   int status, const char *why)
{
	char raw[96], path[160];
	snprintf(raw, sizeof(raw), "%.*s", (int)(req->path_len < 95 ? req->path_len : 95), req->path);
	n->stats.api_refused++;
	log_throttled(LOG_INFO, "api_refused", "peer=%s status=%d path=%s reason=\"%s\"",
	              http_conn_base(c)->peer, status, log_escape(raw, path, sizeof(path)), why);
	if (status == 401)
		http_add_header(c, "WWW-Authenticate", "Bearer");
	http_respond_error(c, status, why);
}

/*
 * Calls that change state (POST, DELETE) need the API token whenever the
 * node holds a cluster secret (a cluster event is signed with it and reaches
 * every node), and are never taken from a browser on another site.
 */
static const char *mutation_refusal(struct node *n, const struct http_request *req)
{
	const char *secret = n->cfg->cluster_secret, *token = n->cfg->api_token;
	if (secret && *secret && (!token || !*token))
		return "this node holds a cluster secret: calls that change state need api-token "
		       "to be set";
	return http_cross_site_refusal(req);
}

/* "/app/name.flv" -> app, name (the app may have levels: "/live/room1/name.flv").  Returns
 * 0, or -1 if the path is not of that shape. */
static int flv_path(const struct http_request *req, char *app, char *name)
{
	const char *p = req->path + 1, *end = req->path + req->path_len;
	const char *slash = memrchr(p, '/', (size_t)(end - p));
	if (!slash || end - req->path < 6 || memcmp(end - 4, ".flv", 4) != 0)
		return -1;
	size_t alen = (size_t)(slash - p), nlen = (size_t)(end - 4 - slash - 1);
	if (alen == 0 || alen > STREAM_NAME_MAX || nlen == 0 || nlen > STREAM_NAME_MAX)
		return -1;
	memcpy(app, p, alen);
	app[alen] = '\0';
	memcpy(name, slash + 1, nlen);
	name[nlen] = '\0';
	return 0;
}

/* GET /cluster: the next public node, as host:port (RTMP) or JSON. */
static void cluster_rr(struct node *n, struct http_conn *c, const struct http_request *req)
{
	const struct member *m = members_next_public(&n->cluster.members, &n->cluster.rr_next);
	if (!m || !n->cluster.enabled) {
		http_respond_error(c, 503, "no public node known");
		return;
	}
	const struct http_header *accept = http_find_header(req, "Accept");
	if (accept && accept->value_len >= 16 &&
	    memmem(accept->value, accept->value_len, "application/json", 16)) {
		char rtmp[320], http[320];
		snprintf(rtmp, sizeof(rtmp), "rtmp://%s:%d", m->host, m->rtmp_port);
		snprintf(http, sizeof(http), "http://%s:%d", m->host, m->http_port);
		http_respond_json(c, 200, json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:s}",
		                  "name", m->name, "role", m->role, "host", m->host,
		                  "rtmp_port", m->rtmp_port, "http_port", m->http_port,
		                  "rtmp", rtmp, "http", http));
		return;
	}
	/* Red5's servlet answers a bare address; the port only where it is not RTMP's default. */
	char text[300];
	int len = m->rtmp_port == 1935 ? snprintf(text, sizeof(text), "%s\n", m->host)
	                               : snprintf(text, sizeof(text), "%s:%d\n", m->host, m->rtmp_port);
	http_respond(c, 200, "text/plain", text, (size_t)len);
}

static void api_events(struct node *n, struct http_conn *c, const struct http_request *req,
                       const uint8_t *body, size_t body_len)
{
	if (req->method == HTTP_POST) {
		if (!event_post_allowed(uv_now(n->loop))) {
			refuse(n, c, req, 429, "too many cluster events: at most 5 a second (burst 20) "
			                       "per node");
			return;
		}
		char id[33], err[200];
		if (cluster_event_post(&n->cluster, (const char *)body, body_len, id, err,
		                       sizeof(err)) < 0) {
			http_respond_error(c, n->cluster.enabled ? 400 : 409, err);
			return;
		}
		http_respond_json(c, 202, json_pack("{s:s}", "id", id));
		return;
	}
	json_t *o = json_object();
	json_object_set_new(o, "events", cluster_events_json(&n->cluster));
	http_respond_json(c, 200, o);
}

void node_http_handle(void *ctx, struct http_conn *c, const struct http_request *req,
                      const uint8_t *body, size_t body_len)
{
	struct node *n = ctx;
	int get = req->method == HTTP_GET || req->method == HTTP_HEAD;

	if (whep_http_handle(n, c, req, body, body_len))
		return;
	if (whip_http_handle(n, c, req, body, body_len))
		return;
	if (req->method == HTTP_OPTIONS) {
		http_add_header(c, "Access-Control-Allow-Methods", "GET, HEAD, POST, DELETE, OPTIONS");
		http_add_header(c, "Access-Control-Allow-Headers", "Authorization, Content-Type");
		http_add_header(c, "Access-Control-Max-Age", "86400");
		http_respond(c, 204, NULL, NULL, 0);
		return;
	}
	if (path_is(req, "/healthz")) {
		if (!get) {
			http_respond_error(c, 405, "use GET");
			return;
		}
		/* Draining: load balancers should send new clients elsewhere; current ones stay. */
		static const char ok[] = "ok\n", draining[] = "draining\n";
		if (n->draining && !n->stopping)
			http_respond(c, 503, "text/plain", draining, sizeof(draining) - 1);
		else
			http_respond(c, n->stopping ? 503 : 200, "text/plain", ok, sizeof(ok) - 1);
		return;
	}
	if (path_is(req, "/cluster")) {
		if (!get)
			http_respond_error(c, 405, "use GET");
		else
			cluster_rr(n, c, req);
		return;
	}
	if (path_has_prefix(req, "/rest/v2/")) {
		/* Ant Media's paths (admission.c), guarded like the API. */
		if (!token_ok(n->cfg->api_token, req))
			refuse(n, c, req, 401, "missing or wrong API token");
		else
			node_antmedia_handle(n, c, req);
		return;
	}
	if (path_is(req, "/metrics")) {
		const char *want = n->cfg->metrics_token && *n->cfg->metrics_token
		                   ? n->cfg->metrics_token : n->cfg->api_token;
		if (!get)
			http_respond_error(c, 405, "use GET");
		else if (!token_ok(want, req))
			refuse(n, c, req, 401, "missing or wrong metrics token");
		else
			api_metrics(n, c);
		return;
	}
	if (path_has_prefix(req, "/api/")) {
		if (!token_ok(n->cfg->api_token, req)) {
			refuse(n, c, req, 401, "missing or wrong API token");
			return;
		}
		const char *no = get ? NULL : mutation_refusal(n, req);
		if (no) {
			refuse(n, c, req, 403, no);
			return;
		}
		if (path_is(req, "/api/v1/node") && get) {
			http_respond_json(c, 200, node_json(n));
		} else if (path_is(req, "/api/v1/cluster/events") &&
		           (get || req->method == HTTP_POST)) {
			api_events(n, c, req, body, body_len);
		} else if (path_is(req, "/api/v1/streams") && get) {
			api_streams(n, c);
		} else if (path_is(req, "/api/v1/clients") && get) {
			api_clients(n, c);
		} else if (path_has_prefix(req, "/api/v1/clients/") &&
		           req->method == HTTP_DELETE) {
			char id[32];
			size_t len = req->path_len - strlen("/api/v1/clients/");
			if (len == 0 || len >= sizeof(id)) {
				http_respond_error(c, 400, "client id must be a number");
				return;
			}
			memcpy(id, req->path + strlen("/api/v1/clients/"), len);
			id[len] = '\0';
			api_kick(n, c, id);
		} else if (path_is(req, "/api/v1/node") || path_is(req, "/api/v1/streams") ||
		           path_is(req, "/api/v1/cluster/events") ||
		           path_is(req, "/api/v1/clients") ||
		           path_has_prefix(req, "/api/v1/clients/")) {
			http_respond_error(c, 405, "method not allowed here");
		} else {
			http_respond_error(c, 404, "no such API endpoint");
		}
		return;
	}
	if (status_page_handle(c, req))
		return;
	if (watch_page_serve_asset(c, req))
		return;
	if (hls_http_handle(n, c, req))
		return;
	char app[STREAM_NAME_MAX + 1], name[STREAM_NAME_MAX + 1];
	if (flv_path(req, app, name) == 0) {
		if (!get) {
			http_respond_error(c, 405, "use GET");
			return;
		}
		if (!app_name_valid(app) || !stream_name_valid(name)) {
			http_respond_error(c, 400, "app and stream names are 1-128 characters of "
			                           "A-Z a-z 0-9 _ . ~ @ + = - (an app may have levels: "
			                           "live/room1)");
			return;
		}
		flv_viewer_serve(n, c, app, name, req);
		return;
	}
	http_respond_error(c, 404, "not found");
}

void node_metric(struct bytes *b, const char *name, const char *type, const char *help,
                 uint64_t v)
{
	bytes_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
	             (unsigned long long)v);
}
