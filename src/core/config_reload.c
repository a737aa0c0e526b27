/* config_reload.c - moves the reloadable keys of a re-read config into the live one. */
#include "core/config_reload.h"

#include <string.h>

#include "core/log.h"
#include "core/options_doc.h"

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
