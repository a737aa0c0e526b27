/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config_reload.h - applying a re-read config to a running process (SIGHUP).
 *
 * The process parses its config afresh into a second struct (defaults, the
 * file, then the same flags as at start, so flags still win), validates it as
 * a start would, and hands both to config_apply_reload.  Only the keys the
 * caller lists as reloadable move into the live config; a changed key that
 * needs a restart is logged and left as it was.  Nothing is applied when the
 * new config is bad: the caller logs the error and keeps the old one.
 */
#ifndef SLUICE_CORE_CONFIG_RELOAD_H
#define SLUICE_CORE_CONFIG_RELOAD_H

#include <uv.h>

#include "core/options.h"

struct reload_result {
	unsigned applied;         /* keys changed and now in force */
	unsigned need_restart;    /* keys changed in the file but not applied */
};

/* 1 when name is in the NULL-terminated list. */
int config_key_listed(const char *const *list, const char *name);

/*
 * For each key of defs (but "config") whose value differs between cur and
 * next: listed in reloadable, its value moves into cur and is logged as event
 * config_reloaded key=K old=V new=V (values of keys naming a secret or token
 * are never logged, only "changed"); not listed, it is logged as
 * config_needs_restart key=K and cur keeps its value.  next is left holding
 * what cur held; free it with options_free.
 */
void config_apply_reload(const struct option_def *defs, void *cur, void *next,
                         const char *const *reloadable, struct reload_result *res);

/* Logs event config_reload_failed with the error a start would print (bytes that could
 * forge a line or end the quoted value shown as '?'). */
void config_log_reload_failed(const char *path, const char *err);

/*
 * A process's SIGHUP handling: what differs between the node and the manager
 * is which keys move, the checks across keys a start makes, and where running
 * parts keep copies of values; reading, comparing, logging and telling
 * systemd are the same and live here.
 */
struct config_reloader {
	const struct option_def *defs;
	const char *const *keys;      /* reloadable, NULL-terminated */
	size_t cfg_size;              /* sizeof the config struct defs describe */
	void *live;                   /* the running config */
	/* The start's checks across keys on a freshly read config; 0, or -1 with err set. */
	int (*check)(const void *next, char *err, size_t n);
	/* After keys moved: puts live values where running parts keep copies. */
	void (*apply)(void *ctx);
	void *ctx;
	/* private */
	int argc;
	char **argv;
	uv_signal_t sig;
	int started;
};

/* Remembers the command line (argv must outlive r) and reloads on SIGHUP. */
void config_reloader_start(struct config_reloader *r, uv_loop_t *loop, int argc, char **argv);
void config_reloader_stop(struct config_reloader *r);
/* Reloads now; 0 when the new config was read (and what may change applied), -1 if not. */
int config_reloader_run(struct config_reloader *r);

#endif
