/* node_reload.c - applying a re-read config to a running node (see node_reload.h). */
#include "node/node_reload.h"

#include <signal.h>
#include <string.h>

#include "core/config_reload.h"
#include "core/log.h"
#include "core/sdnotify.h"

const char *const node_reload_keys[] = {
	"log-level",
	"max-connections", "max-connections-per-ip", "conn-rate-per-ip", "conn-burst-per-ip",
	"handshake-timeout", "idle-timeout", "publish-timeout", "send-timeout",
	"http-request-timeout",
	"viewer-lag-skip", "viewer-lag-drop",
	"publish-secret", "play-secret", "api-token", "metrics-token", "metrics-stream-labels",
	"retry-interval", "upstream-timeout", "linger", "pull-idle", "hls-idle",
	"cpu-limit", "memory-limit",
	NULL
};

static struct {
	struct node *n;
	int argc;
	char **argv;
	uv_signal_t sig;
	int started;
} rl;

/* Reads the config as a start would; 0, or -1 with err set. */
static int load(struct node_config *cfg, char *err, size_t n)
{
	struct opt_error oe;
	memset(cfg, 0, sizeof(*cfg));
	if (options_defaults(node_options, cfg, &oe) < 0 ||
	    options_parse_args(node_options, cfg, rl.argc, rl.argv, &oe) < 0) {
		snprintf(err, n, "%s", oe.msg);
		return -1;
	}
	/* The checks across keys that involve a reloadable one (node.c's configure() makes
	 * the same at start). */
	if (cfg->viewer_lag_skip >= cfg->viewer_lag_drop) {
		snprintf(err, n, "viewer-lag-skip (%llu ms) must be less than viewer-lag-drop "
		         "(%llu ms)", (unsigned long long)cfg->viewer_lag_skip,
		         (unsigned long long)cfg->viewer_lag_drop);
		return -1;
	}
	return 0;
}

/* Puts the live config's values where the running parts keep their own copies. */
static void apply(struct node *n)
{
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
	if (n->http)
		http_server_set_timeouts(n->http, c->http_request_timeout, c->idle_timeout,
		                         c->send_timeout);
}

int node_reload(struct node *n)
{
	const char *path = n->cfg->config ? n->cfg->config : "-";
	char ep[300];
	log_info("config_reloading", "file=%s", log_escape(path, ep, sizeof(ep)));
	sd_notify_reloading();
	struct node_config next;
	char err[600];
	int rc = load(&next, err, sizeof(err));
	if (rc < 0) {
		config_log_reload_failed(path, err);
	} else {
		struct reload_result res;
		config_apply_reload(node_options, n->cfg, &next, node_reload_keys, &res);
		apply(n);
		log_info("config_reloaded_all", "file=%s applied=%u need_restart=%u", ep,
		         res.applied, res.need_restart);
	}
	options_free(node_options, &next);
	sd_notify_ready();
	return rc;
}

static void hup_cb(uv_signal_t *h, int signum)
{
	(void)h;
	(void)signum;
	node_reload(rl.n);
}

void node_reload_start(struct node *n, int argc, char **argv)
{
	rl.n = n;
	rl.argc = argc;
	rl.argv = argv;
	uv_signal_init(n->loop, &rl.sig);
	uv_signal_start(&rl.sig, hup_cb, SIGHUP);
	rl.started = 1;
}

void node_reload_stop(void)
{
	if (rl.started && !uv_is_closing((uv_handle_t *)&rl.sig))
		uv_close((uv_handle_t *)&rl.sig, NULL);
	rl.started = 0;
}
