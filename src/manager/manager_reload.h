/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manager_reload.h - SIGHUP (`systemctl reload sluice-manager`): re-reads the
 * config file and applies log-level, admin-token, public-routing, dead-after,
 * launch-timeout and drain-timeout without a restart.  Every other key needs
 * one (logged as config_needs_restart; the running value stays).  A bad config
 * is logged (config_reload_failed) and the running one kept whole.
 */
#ifndef SLUICE_MANAGER_MANAGER_RELOAD_H
#define SLUICE_MANAGER_MANAGER_RELOAD_H

#include "manager/manager.h"

extern const char *const manager_reload_keys[];

void manager_reload_start(struct manager *m, int argc, char **argv);
void manager_reload_stop(void);
int manager_reload(struct manager *m);

#endif
