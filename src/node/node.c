/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node.c - `sluice node`: reads the settings, starts the RTMP and HTTP
 * listeners, runs the once-a-second housekeeping, and shuts down cleanly
 * on SIGTERM/SIGINT (viewers are told their streams ended, then sockets
 * close; whatever has not closed after a few seconds is closed anyway).
 */
#include "node/node.h"
#include "node/whep_http.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/name.h"
#include "core/options_doc.h"
#include "core/sdnotify.h"
#include "core/tls.h"
#include "media/media_msg.h"
#include "node/hls_http.h"
#include "node/manager_link.h"
#include "node/node_reload.h"
#include "node/rtmp_conn.h"
#include "node/rtsp_server.h"
#include "node/srt_server.h"

#define SHUTDOWN_GRACE_MS 3000

static const char usage[] =
	"usage: sluice node [options]\n\n"
	"Runs a media node: publishers push RTMP to rtmp://HOST:RTMP_PORT/APP/STREAM;\n"
	"viewers play the same URL over RTMP, or http://HOST:HTTP_PORT/APP/STREAM.flv.\n"
	"HTTP also serves /healthz, /metrics and the JSON API under /api/v1.\n"
	"Check a config without starting: sluice node --config FILE --check-config.";

static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void tick_cb(uv_timer_t *t)
{
	struct node *n = t->data;
	uint64_t now = uv_now(n->loop);
	sysstat_sample(&n->sys);
	sysload_sample(&n->load);
	uint64_t in = conn_table_bytes_in(&n->conns), out = conn_table_bytes_out(&n->conns);
	n->bw_in_bps = (in - n->last_bytes_in) * 8;
	n->bw_out_bps = (out - n->last_bytes_out) * 8;
	n->last_bytes_in = in;
	n->last_bytes_out = out;
	stream_registry_tick(&n->streams, now);
	rtmp_server_sweep(n, now);
	srt_server_sweep(n, now);
	rtsp_server_sweep(n, now);
}

/* What the node lends its cluster half for the links other nodes opened to it
 * (cluster_host.h): those links are RTMP connections. */
static void cluster_link_send(void *ctx, void *link, struct bytes *b)
{
	(void)ctx;
	rtmp_conn_send(link, b);
}

static uint32_t cluster_link_chunk_size(void *ctx)
{
	(void)ctx;
	return media_rtmp_chunk_size();
}

static int cluster_node_stopping(void *ctx)
{
	return ((struct node *)ctx)->stopping;
}

static const struct cluster_link_ops cluster_link_ops = {
	cluster_link_send, cluster_link_chunk_size, cluster_node_stopping,
};

/* The cluster's settings, from the node's (the strings stay the config's); again
 * after a reload, since the cluster reads them where they are used. */
void node_cluster_settings(struct node *n)
{
	const struct node_config *cfg = n->cfg;
	struct cluster_settings *cs = &n->cluster_cfg;
	cs->role = cfg->role;
	cs->clustering = cfg->clustering;
	cs->origins = cfg->origins;
	cs->secret = cfg->cluster_secret;
	cs->public_host = cfg->public_host;
	cs->bind = cfg->bind;
	cs->rtmp_port = (int)(cfg->public_rtmp_port ? cfg->public_rtmp_port : cfg->rtmp_port);
	cs->http_port = (int)(cfg->public_http_port ? cfg->public_http_port : cfg->http_port);
	cs->private_node = cfg->private_node;
	cs->retry_interval_ms = cfg->retry_interval;
	cs->upstream_timeout_ms = cfg->upstream_timeout;
	cs->linger_ms = cfg->linger;
	cs->pull_idle_ms = cfg->pull_idle;
	cs->max_pulls = (unsigned)cfg->max_pulls;
	cs->pull_rate = (unsigned)cfg->pull_rate;
	cs->pull_miss_hold_ms = cfg->pull_miss_hold;
	cs->pull_miss_hold_max_ms = cfg->pull_miss_hold_max;
	cs->rtmp_limits = &n->rtmp_limits;
	cs->tls = n->cluster_tls;
}

static int cluster_setup(struct node *n, char *err, size_t err_size)
{
	if (node_cluster_tls_init(n, err, err_size) < 0)
		return -1;
	node_cluster_settings(n);
	struct cluster_host host = {
		.loop = n->loop, .name = n->name, .cfg = &n->cluster_cfg, .streams = &n->streams,
		.ops = &cluster_link_ops, .ctx = n,
	};
	return cluster_init(&n->cluster, &host, err, err_size);
}

static void close_any(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void force_close_cb(uv_timer_t *t)
{
	log_warn("shutdown_forced", "reason=\"connections still open after %d ms\"",
	         SHUTDOWN_GRACE_MS);
	uv_walk(t->loop, close_any, NULL);
}

static uv_timer_t force_timer;

static void node_stop(struct node *n, const char *why)
{
	if (n->stopping)
		return;
	n->stopping = 1;
	sd_notify_stopping();
	node_reload_stop();
	log_info("shutting_down", "reason=%s streams=%zu connections=%u", why,
	         n->streams.map.count, n->conns.count);
	uv_close((uv_handle_t *)&n->sig_term, NULL);
	uv_close((uv_handle_t *)&n->sig_int, NULL);
	cluster_stop(&n->cluster);
	manager_link_stop();
	hls_server_stop(n);
	whep_stop(n);
	stream_registry_close(&n->streams);
	rtmp_server_stop(n);
	srt_server_stop(n);
	rtsp_server_stop(n);
	if (n->http)
		http_server_stop(n->http);
	node_tls_stop(n);
	/* The tick keeps running to enforce the finishing grace, but no longer holds the loop. */
	uv_unref((uv_handle_t *)&n->tick);
	uv_timer_init(n->loop, &force_timer);
	uv_timer_start(&force_timer, force_close_cb, SHUTDOWN_GRACE_MS, 0);
	uv_unref((uv_handle_t *)&force_timer);
}

static void signal_cb(uv_signal_t *h, int signum)
{
	node_stop(h->data, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/*
 * Without --name a node is "HOST-BIND-PORT" (or "HOST-PORT" on a wildcard bind): the host
 * name alone is shared by every node of a machine, and an edge whose pulls carry its
 * origin's name is taken for a loop.  The listening address is unique on a machine and
 * stable for the process.  Characters a name may not have become '.'.
 */
static void default_name(char *out, size_t size, const char *bind, int64_t port)
{
	char host[64];
	if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
		snprintf(host, sizeof(host), "sluice");
	host[sizeof(host) - 1] = '\0';
	if (!bind || !*bind || strcmp(bind, "0.0.0.0") == 0 || strcmp(bind, "::") == 0)
		snprintf(out, size, "%s-%lld", host, (long long)port);
	else
		snprintf(out, size, "%.63s-%.45s-%lld", host, bind, (long long)port);
	for (char *p = out; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("_.~@+=-", *p)))
			*p = '.';
	if (out[0] == '.')
		out[0] = '_';
}

static int configure(struct node *n, struct node_config *cfg, int argc, char **argv)
{
	struct opt_error err;
	memset(cfg, 0, sizeof(*cfg));
	if (options_defaults(node_options, cfg, &err) < 0) {
		fprintf(stderr, "sluice node: %s\n", err.msg);
		return 2;
	}
	int rc = options_parse_args(node_options, cfg, argc, argv, &err);
	if (rc == 1) {
		options_print_help(stdout, usage, node_options);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "sluice node: %s\n", err.msg);
		return 2;
	}
	if ((uint64_t)cfg->rtmp_port == (uint64_t)cfg->http_port) {
		fprintf(stderr, "sluice node: rtmp-port and http-port must differ (both %lld)\n",
		        (long long)cfg->rtmp_port);
		return 2;
	}
	if (cfg->viewer_lag_skip >= cfg->viewer_lag_drop) {
		fprintf(stderr, "sluice node: viewer-lag-skip (%llu ms) must be less than "
		        "viewer-lag-drop (%llu ms)\n", (unsigned long long)cfg->viewer_lag_skip,
		        (unsigned long long)cfg->viewer_lag_drop);
		return 2;
	}
	if (cfg->name && *cfg->name)
		snprintf(n->name, sizeof(n->name), "%s", cfg->name);
	else
		default_name(n->name, sizeof(n->name), cfg->bind, cfg->rtmp_port);
	if (!stream_name_valid(n->name)) {
		fprintf(stderr, "sluice node: name: '%s' must be 1-128 characters of "
		        "A-Z a-z 0-9 _ . ~ @ + = -\n", n->name);
		return 2;
	}
	log_set_level((enum log_level)log_level_parse(cfg->log_level));
	return -1;
}

int node_main(int argc, char **argv)
{
	static struct node_config cfg;
	/* --check-config: everything a start checks, then "ok" (or the error, exit 2), no bind. */
	int check_only = options_take_flag(&argc, argv, "--check-config");
	struct node *n = xcalloc(1, sizeof(*n));
	int rc = configure(n, &cfg, argc, argv);
	char cerr[300];
	n->cfg = &cfg;
	n->loop = uv_default_loop();
	if (rc < 0 && (cluster_setup(n, cerr, sizeof(cerr)) < 0 ||
	               manager_link_init(n, cerr, sizeof(cerr)) < 0)) {
		fprintf(stderr, "sluice node: %s\n", cerr);
		rc = 2;
	}
	if (rc < 0 && check_only) {
		printf("ok\n");
		rc = 0;
	}
	if (rc >= 0) {
		tls_client_free(n->cluster_tls);
		options_free(node_options, &cfg);
		free(n);
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();

	n->started_mono_ms = uv_now(n->loop);
	n->started_wall_ms = clock_wall_ms();
	sysstat_init(&n->sys);
	sysload_init(&n->load);
	conn_table_init(&n->conns, (uint32_t)cfg.max_connections);
	conn_table_set_ip_limits(&n->conns, (uint32_t)cfg.max_connections_per_ip,
	                         (uint32_t)cfg.conn_rate_per_ip, (uint32_t)cfg.conn_burst_per_ip);
	media_set_rtmp_chunk_size((uint32_t)cfg.rtmp_chunk_size);
	n->rtmp_limits.max_chunk_size = (uint32_t)cfg.max_chunk_size;
	n->rtmp_limits.max_message_size = (uint32_t)cfg.max_message_size;
	n->rtmp_limits.max_chunk_streams = (uint32_t)cfg.max_chunk_streams;
	ipcount_init(&n->publishers_by_ip);
	ipcount_init(&n->partial_by_ip);
	struct fanout_config fcfg = {
		.lag_skip_ms = cfg.viewer_lag_skip,
		.lag_drop_ms = cfg.viewer_lag_drop,
		.send_timeout_ms = cfg.send_timeout,
		.max_bytes = cfg.stream_buffer_max,
		.max_msgs = (uint64_t)cfg.stream_messages_max,
		.batch_bytes = 1u << 20,
		.gop_cache = cfg.gop_cache,
		.merge_ms = cfg.viewer_write_merge,
		.audio_hold_ms = cfg.viewer_audio_hold,
		.batch_sends = cfg.io_uring,
	};
	stream_registry_init(&n->streams, n->loop, &fcfg);
	n->streams.max_streams = (size_t)cfg.max_streams;

	int status = 0;
	if (rtmp_server_start(n) < 0) {
		status = 1;
		goto out;
	}
	if (srt_server_start(n) < 0) {
		status = 1;
		uv_close((uv_handle_t *)&n->rtmp_listener, NULL);
		goto out;
	}
	if (rtsp_server_start(n) < 0) {
		status = 1;
		srt_server_stop(n);
		uv_close((uv_handle_t *)&n->rtmp_listener, NULL);
		goto out;
	}
	struct http_server_config hcfg = {
		.bind = cfg.bind,
		.port = (int)cfg.http_port,
		.max_head_bytes = cfg.http_max_header,
		.request_timeout_ms = cfg.http_request_timeout,
		.keepalive_timeout_ms = cfg.idle_timeout,
		.send_timeout_ms = cfg.send_timeout,
		.cors = cfg.cors,
		.conns = &n->conns,
		.handler = node_http_handle,
		.ctx = n,
	};
	if (http_server_start(n->loop, &hcfg, &n->http) < 0) {
		n->http = NULL;
		status = 1;
		uv_close((uv_handle_t *)&n->rtmp_listener, NULL);
		goto out;
	}
	if (node_tls_start(n, &hcfg) < 0) {
		status = 1;
		uv_close((uv_handle_t *)&n->rtmp_listener, NULL);
		http_server_stop(n->http);
		n->http = NULL;
		node_tls_stop(n);
		stream_registry_close(&n->streams);
		goto out;
	}
	if (whep_start(n) < 0) {
		status = 1;
		uv_close((uv_handle_t *)&n->rtmp_listener, NULL);
		http_server_stop(n->http);
		n->http = NULL;
		stream_registry_close(&n->streams);
		goto out;
	}
	uv_timer_init(n->loop, &n->tick);
	n->tick.data = n;
	uv_timer_start(&n->tick, tick_cb, 1000, 1000);
	cluster_start(&n->cluster);
	manager_link_start(n);
	uv_signal_init(n->loop, &n->sig_term);
	uv_signal_init(n->loop, &n->sig_int);
	n->sig_term.data = n->sig_int.data = n;
	uv_signal_start(&n->sig_term, signal_cb, SIGTERM);
	uv_signal_start(&n->sig_int, signal_cb, SIGINT);
	node_reload_start(n, argc, argv);

	if ((!cfg.api_token || !*cfg.api_token) && strcmp(cfg.bind, "127.0.0.1") != 0 &&
	    strncmp(cfg.bind, "127.", 4) != 0)
		log_warn("api_open", "reason=\"no api-token set: anyone who reaches the HTTP "
		         "port can read the API and metrics, and kick clients unless cluster-secret is "
		         "set (then calls that change state are refused)\"");
	log_info("node_started", "name=%s version=%s rtmp=%s:%lld http=%s:%lld publish_auth=%s "
	         "play_auth=%s", n->name, SLUICE_VERSION, cfg.bind, (long long)cfg.rtmp_port,
	         cfg.bind, (long long)cfg.http_port,
	         cfg.publish_secret && *cfg.publish_secret ? "on" : "off",
	         cfg.play_secret && *cfg.play_secret ? "on" : "off");
	sd_notify_ready();
	uv_run(n->loop, UV_RUN_DEFAULT);
	log_info("node_stopped", "name=%s", n->name);
out:
	if (!n->stopping) {
		uv_walk(n->loop, close_any, NULL);
		uv_run(n->loop, UV_RUN_DEFAULT);
	}
	uv_loop_close(n->loop);
	tls_server_free(n->tls);
	tls_client_free(n->cluster_tls);
	conn_table_free(&n->conns);
	ipcount_free(&n->publishers_by_ip);
	ipcount_free(&n->partial_by_ip);
	options_free(node_options, &cfg);
	free(n);
	return status;
}
