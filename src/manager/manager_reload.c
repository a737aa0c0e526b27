/* SPDX-License-Identifier: Apache-2.0 */
/* manager_reload.c - applying a re-read config to a running manager (see manager_reload.h). */
#include "manager/manager_reload.h"

#include <stdio.h>
#include <string.h>

#include "core/config_reload.h"
#include "core/log.h"
#include "manager/manager_tls.h"

/* Each is read where it is used (m->cfg->...), so moving it into the live config applies it. */
const char *const manager_reload_keys[] = {
	"log-level", "admin-token", "public-routing", "dead-after", "launch-timeout",
	"drain-timeout", "tls-cert", "tls-key", NULL
};

static struct config_reloader rl;

/* The start's check on the one reloadable key it checks (manager.c's check_config). */
static int check(const void *next, char *err, size_t n)
{
	const struct manager_config *cfg = next;
	if (!cfg->admin_token || strlen(cfg->admin_token) < 8) {
		snprintf(err, n, "admin-token: required, at least 8 characters (the REST API is "
		         "never open)");
		return -1;
	}
	return 0;
}

static void apply(void *ctx)
{
	struct manager *m = ctx;
	log_set_level((enum log_level)log_level_parse(m->cfg->log_level));
	manager_tls_reload(m);
}

int manager_reload(struct manager *m)
{
	(void)m;
	return config_reloader_run(&rl);
}

void manager_reload_start(struct manager *m, int argc, char **argv)
{
	rl = (struct config_reloader){
		.defs = manager_options, .keys = manager_reload_keys,
		.cfg_size = sizeof(struct manager_config), .live = m->cfg, .check = check,
		.apply = apply, .ctx = m,
	};
	config_reloader_start(&rl, m->loop, argc, argv);
}

void manager_reload_stop(void)
{
	config_reloader_stop(&rl);
}
