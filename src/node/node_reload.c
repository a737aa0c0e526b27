/* SPDX-License-Identifier: Apache-2.0 */
/* node_reload.c - applying a re-read config to a running node (see node_reload.h). */
#include "node/node_reload.h"

#include <stdio.h>

#include "core/config_reload.h"
#include "core/log.h"

const char *const node_reload_keys[] = {
	"log-level",
	"max-connections", "max-connections-per-ip", "conn-rate-per-ip", "conn-burst-per-ip",
	"handshake-timeout", "idle-timeout", "publish-timeout", "send-timeout",
	"http-request-timeout",
	"viewer-lag-skip", "viewer-lag-drop",
	"publish-secret", "play-secret", "api-token", "metrics-token", "metrics-stream-labels",
	"retry-interval", "upstream-timeout", "linger", "pull-idle", "hls-idle",
	"max-publishers", "max-publishers-per-ip", "max-streams", "partial-bytes-max",
	"partial-bytes-per-ip", "rtmp-command-rate", "rtmp-command-burst", "stream-messages-max",
	"max-pulls", "pull-rate", "pull-miss-hold", "pull-miss-hold-max",
	"cpu-limit", "memory-limit",
	"rtsp-session-timeout", "rtsp-max-request", "rtsp-viewer-buffer",
	"tls-cert", "tls-key",
	NULL
};

static struct config_reloader rl;

/* The checks across keys that involve a reloadable one (node.c's configure() makes
 * the same at start). */
static int check(const void *next, char *err, size_t n)
{
	const struct node_config *cfg = next;
	if (cfg->viewer_lag_skip >= cfg->viewer_lag_drop) {
		snprintf(err, n, "viewer-lag-skip (%llu ms) must be less than viewer-lag-drop "
		         "(%llu ms)", (unsigned long long)cfg->viewer_lag_skip,
		         (unsigned long long)cfg->viewer_lag_drop);
		return -1;
	}
	return 0;
}

/* Puts the live config's values where the running parts keep their own copies. */
static void apply(void *ctx)
{
	struct node *n = ctx;
	const struct node_config *c = n->cfg;
	log_set_level((enum log_level)log_level_parse(c->log_level));
	n->conns.max = (uint32_t)c->max_connections;
	/* In place, not conn_table_set_ip_limits: that would forget what each address holds. */
	n->conns.ip.max_conns = (uint32_t)c->max_connections_per_ip;
	n->conns.ip.rate = (uint32_t)c->conn_rate_per_ip;
	n->conns.ip.burst = c->conn_burst_per_ip ? (uint32_t)c->conn_burst_per_ip
	                                         : (uint32_t)c->conn_rate_per_ip;
	/* Every stream's fan-out borrows the registry's config. */
	n->streams.fcfg.lag_skip_ms = c->viewer_lag_skip;
	n->streams.fcfg.lag_drop_ms = c->viewer_lag_drop;
	n->streams.fcfg.send_timeout_ms = c->send_timeout;
	n->streams.fcfg.max_msgs = (uint64_t)c->stream_messages_max;
	n->streams.max_streams = (size_t)c->max_streams;
	node_cluster_settings(n);
	cluster_settings_changed(&n->cluster);
	if (n->http)
		http_server_set_timeouts(n->http, c->http_request_timeout, c->idle_timeout,
		                         c->send_timeout);
	node_tls_reload(n);
}

int node_reload(struct node *n)
{
	(void)n;
	return config_reloader_run(&rl);
}

void node_reload_start(struct node *n, int argc, char **argv)
{
	rl = (struct config_reloader){
		.defs = node_options, .keys = node_reload_keys, .cfg_size = sizeof(struct node_config),
		.live = n->cfg, .check = check, .apply = apply, .ctx = n,
	};
	config_reloader_start(&rl, n->loop, argc, argv);
}

void node_reload_stop(void)
{
	config_reloader_stop(&rl);
}
