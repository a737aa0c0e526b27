/* manager_reload.c - applying a re-read config to a running manager (see manager_reload.h). */
#include "manager/manager_reload.h"

#include <signal.h>
#include <string.h>

#include "core/config_reload.h"
#include "core/log.h"
#include "core/sdnotify.h"

/* Each is read where it is used (m->cfg->...), so moving it into the live config applies it. */
const char *const manager_reload_keys[] = {
	"log-level", "admin-token", "public-routing", "dead-after", "launch-timeout",
	"drain-timeout", NULL
};

static struct {
	struct manager *m;
	int argc;
	char **argv;
	uv_signal_t sig;
	int started;
} rl;

static int load(struct manager_config *cfg, char *err, size_t n)
{
	struct opt_error oe;
	memset(cfg, 0, sizeof(*cfg));
	if (options_defaults(manager_options, cfg, &oe) < 0 ||
	    options_parse_args(manager_options, cfg, rl.argc, rl.argv, &oe) < 0) {
		snprintf(err, n, "%s", oe.msg);
		return -1;
	}
	/* The start's check on the one reloadable key it checks (manager.c's check_config). */
	if (!cfg->admin_token || strlen(cfg->admin_token) < 8) {
		snprintf(err, n, "admin-token: required, at least 8 characters (the REST API is "
		         "never open)");
		return -1;
	}
	return 0;
}

int manager_reload(struct manager *m)
{
	const char *path = m->cfg->config ? m->cfg->config : "-";
	char ep[300];
	log_info("config_reloading", "file=%s", log_escape(path, ep, sizeof(ep)));
	sd_notify_reloading();
	struct manager_config next;
	char err[600];
	int rc = load(&next, err, sizeof(err));
	if (rc < 0) {
		config_log_reload_failed(path, err);
	} else {
		struct reload_result res;
		config_apply_reload(manager_options, m->cfg, &next, manager_reload_keys, &res);
		log_set_level((enum log_level)log_level_parse(m->cfg->log_level));
		log_info("config_reloaded_all", "file=%s applied=%u need_restart=%u", ep,
		         res.applied, res.need_restart);
	}
	options_free(manager_options, &next);
	sd_notify_ready();
	return rc;
}

static void hup_cb(uv_signal_t *h, int signum)
{
	(void)h;
	(void)signum;
	manager_reload(rl.m);
}

void manager_reload_start(struct manager *m, int argc, char **argv)
{
	rl.m = m;
	rl.argc = argc;
	rl.argv = argv;
	uv_signal_init(m->loop, &rl.sig);
	uv_signal_start(&rl.sig, hup_cb, SIGHUP);
	rl.started = 1;
}

void manager_reload_stop(void)
{
	if (rl.started && !uv_is_closing((uv_handle_t *)&rl.sig))
		uv_close((uv_handle_t *)&rl.sig, NULL);
	rl.started = 0;
}
