/* SPDX-License-Identifier: Apache-2.0 */
/* config_reload.c - moves the reloadable keys of a re-read config into the live one. */
#include "core/config_reload.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/options_doc.h"
#include "core/sdnotify.h"

int config_key_listed(const char *const *list, const char *name)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(list[i], name) == 0)
			return 1;
	return 0;
}

static int is_secret(const char *name)
{
	return strstr(name, "secret") || strstr(name, "token");
}

void config_apply_reload(const struct option_def *defs, void *cur, void *next,
                         const char *const *reloadable, struct reload_result *res)
{
	memset(res, 0, sizeof(*res));
	for (const struct option_def *d = defs; d->name; d++) {
		if (strcmp(d->name, "config") == 0 || options_value_equal(d, cur, next))
			continue;
		if (!config_key_listed(reloadable, d->name)) {
			res->need_restart++;
			log_warn("config_needs_restart", "key=%s reason=\"changed in the config, but "
			         "only a restart applies it; the running value stays\"", d->name);
			continue;
		}
		res->applied++;
		if (is_secret(d->name)) {
			log_info("config_reloaded", "key=%s old=(hidden) new=(hidden)", d->name);
		} else {
			char a[256], b[256], ea[300], eb[300];
			options_value_text(d, cur, a, sizeof(a));
			options_value_text(d, next, b, sizeof(b));
			log_info("config_reloaded", "key=%s old=%s new=%s", d->name,
			         log_escape(a, ea, sizeof(ea)), log_escape(b, eb, sizeof(eb)));
		}
		options_value_swap(d, cur, next);
	}
}

void config_log_reload_failed(const char *path, const char *err)
{
	char safe[600], ep[300];
	size_t i;
	for (i = 0; err[i] && i < sizeof(safe) - 1; i++) {
		unsigned char c = (unsigned char)err[i];
		safe[i] = (c < 0x20 || c == '"' || c == '\\' || c >= 0x7f) ? '?' : (char)c;
	}
	safe[i] = '\0';
	log_error("config_reload_failed", "file=%s error=\"%s\" reason=\"the running config "
	          "stays\"", log_escape(path, ep, sizeof(ep)), safe);
}

/* Reads the config as a start would (defaults, the file, then the same flags). */
static int load(struct config_reloader *r, void *cfg, char *err, size_t n)
{
	struct opt_error oe;
	if (options_defaults(r->defs, cfg, &oe) < 0 ||
	    options_parse_args(r->defs, cfg, r->argc, r->argv, &oe) < 0) {
		snprintf(err, n, "%s", oe.msg);
		return -1;
	}
	return r->check ? r->check(cfg, err, n) : 0;
}

static const struct option_def *find_def(const struct option_def *defs, const char *name)
{
	for (const struct option_def *d = defs; d->name; d++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

int config_reloader_run(struct config_reloader *r)
{
	char ep[300];
	/* The file named at start (the --config string); "-" when there is none. */
	const char *path = "-";
	const struct option_def *cd = find_def(r->defs, "config");
	if (cd && cd->type == OPT_STRING) {
		const char *s = *(char *const *)((const char *)r->live + cd->offset);
		if (s && s[0])
			path = s;
	}
	log_info("config_reloading", "file=%s", log_escape(path, ep, sizeof(ep)));
	sd_notify_reloading();
	void *next = xcalloc(1, r->cfg_size);
	char err[600];
	int rc = load(r, next, err, sizeof(err));
	if (rc < 0) {
		config_log_reload_failed(path, err);
	} else {
		struct reload_result res;
		config_apply_reload(r->defs, r->live, next, r->keys, &res);
		if (r->apply)
			r->apply(r->ctx);
		log_info("config_reloaded_all", "file=%s applied=%u need_restart=%u", ep,
		         res.applied, res.need_restart);
	}
	options_free(r->defs, next);
	free(next);
	sd_notify_ready();
	return rc;
}

static void hup_cb(uv_signal_t *h, int signum)
{
	(void)signum;
	config_reloader_run(h->data);
}

void config_reloader_start(struct config_reloader *r, uv_loop_t *loop, int argc, char **argv)
{
	r->argc = argc;
	r->argv = argv;
	uv_signal_init(loop, &r->sig);
	r->sig.data = r;
	uv_signal_start(&r->sig, hup_cb, SIGHUP);
	r->started = 1;
}

void config_reloader_stop(struct config_reloader *r)
{
	if (r->started && !uv_is_closing((uv_handle_t *)&r->sig))
		uv_close((uv_handle_t *)&r->sig, NULL);
	r->started = 0;
}
