/* SPDX-License-Identifier: Apache-2.0 */
/*
 * controller.c - what every controller shares: results delivered on the
 * next loop turn, the "what did the last list see" cache that answers
 * running() without blocking, and checks of launch-configuration
 * properties with messages that name the property.
 */
#include "manager/controller.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/mem.h"

struct deferred {
	uv_timer_t timer;
	struct list_node link;          /* in c->reports until delivered or dropped */
	struct controller *c;
	char id[80];
	int rc;
	struct node_place place;
	char err[512];
};

static void deferred_closed(uv_handle_t *h)
{
	free(h->data);
}

static void deferred_fire(uv_timer_t *t)
{
	struct deferred *d = t->data;
	list_del(&d->link);
	uv_close((uv_handle_t *)&d->timer, deferred_closed);
	if (d->c->launched)
		d->c->launched(d->c, d->id, d->rc, d->rc == 0 ? &d->place : NULL, d->err);
}

void ctl_reports_drop(struct controller *c)
{
	if (!c->reports.next)
		return;
	while (!list_empty(&c->reports)) {
		struct deferred *d = list_entry(c->reports.next, struct deferred, link);
		list_del(&d->link);
		uv_close((uv_handle_t *)&d->timer, deferred_closed);
	}
}

void ctl_report_launch(struct controller *c, uv_loop_t *loop, const char *id, int rc,
                       const struct node_place *place, const char *err)
{
	struct deferred *d = xcalloc(1, sizeof(*d));
	if (!c->reports.next)
		list_init(&c->reports);
	list_add_tail(&c->reports, &d->link);
	d->c = c;
	snprintf(d->id, sizeof(d->id), "%s", id);
	d->rc = rc;
	if (place)
		d->place = *place;
	snprintf(d->err, sizeof(d->err), "%s", err ? err : "");
	uv_timer_init(loop, &d->timer);
	d->timer.data = d;
	uv_timer_start(&d->timer, deferred_fire, 0, 0);
}

void ctl_seen_init(struct controller *c)
{
	strmap_init(&c->seen);
	strmap_init(&c->since);
	c->have_list = 0;
}

void ctl_seen_free(struct controller *c)
{
	size_t it = 0;
	void *v;
	while (strmap_next(&c->since, &it, NULL, &v))
		free(v);
	strmap_free(&c->since);
	strmap_free(&c->seen);
}

static void seen_mark(struct controller *c, const char *id, uint64_t when)
{
	uint64_t *t = strmap_get(&c->since, id);
	if (!t) {
		t = xmalloc(sizeof(*t));
		strmap_put(&c->since, id, t);
	}
	*t = when;
}

void ctl_seen_launching(struct controller *c, const char *id)
{
	seen_mark(c, id, UINT64_MAX);  /* in flight: no list can have seen it gone */
}

void ctl_seen_launched(struct controller *c, const char *id)
{
	seen_mark(c, id, clock_wall_ms());
}

void ctl_seen_forget(struct controller *c, const char *id)
{
	free(strmap_del(&c->since, id));
	strmap_del(&c->seen, id);
}

void ctl_seen_list_started(struct controller *c)
{
	c->list_started_ms = clock_wall_ms();
}

void ctl_seen_update(struct controller *c, const struct ctl_instance *v, size_t n)
{
	strmap_free(&c->seen);
	strmap_init(&c->seen);
	for (size_t i = 0; i < n; i++)
		strmap_put(&c->seen, v[i].id, (void *)1);
	/* Launches older than this list are answered by it from now on. */
	size_t it = 0;
	const char *k;
	void *val;
	char **old = xcalloc(c->since.count + 1, sizeof(*old));
	size_t nold = 0;
	while (strmap_next(&c->since, &it, &k, &val))
		if (*(uint64_t *)val < c->list_started_ms)
			old[nold++] = xstrdup(k);
	for (size_t i = 0; i < nold; i++) {
		free(strmap_del(&c->since, old[i]));
		free(old[i]);
	}
	free(old);
	c->have_list = 1;
}

int ctl_list_running(struct controller *c, const char *id, const struct node_place *p)
{
	(void)p;
	return ctl_seen_running(c, id);
}

int ctl_seen_running(struct controller *c, const char *id)
{
	if (!c->have_list || strmap_get(&c->since, id))
		return 1;
	return strmap_get(&c->seen, id) != NULL;
}

int ctl_prop_int(const json_t *props, const char *key, long long lo, long long hi,
                 long long def, long long *out, char *err, size_t err_size)
{
	const json_t *v = props ? json_object_get(props, key) : NULL;
	*out = def;
	if (!v)
		return 0;
	long long x;
	if (json_is_integer(v)) {
		x = (long long)json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		x = strtoll(s, &end, 10);
		if (!*s || *end) {
			snprintf(err, err_size, "properties.%s: expected an integer, got '%.40s'", key, s);
			return SL_EINVAL;
		}
	} else {
		snprintf(err, err_size, "properties.%s: expected an integer", key);
		return SL_EINVAL;
	}
	if (x < lo || x > hi) {
		snprintf(err, err_size, "properties.%s: %lld is out of range (%lld to %lld)", key, x,
		         lo, hi);
		return SL_EINVAL;
	}
	*out = x;
	return 0;
}

static int safe_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       strchr("._/:@+=,-", ch) != NULL;
}

int ctl_prop_str(const json_t *props, const char *key, size_t max, const char *def,
                 const char **out, char *err, size_t err_size)
{
	const json_t *v = props ? json_object_get(props, key) : NULL;
	*out = def;
	if (!v)
		return 0;
	if (!json_is_string(v)) {
		snprintf(err, err_size, "properties.%s: expected a string", key);
		return SL_EINVAL;
	}
	const char *s = json_string_value(v);
	size_t len = strlen(s);
	if (len == 0 || len > max) {
		snprintf(err, err_size, "properties.%s: expected 1 to %zu characters", key, max);
		return SL_EINVAL;
	}
	for (size_t i = 0; i < len; i++)
		if (!safe_char(s[i])) {
			snprintf(err, err_size, "properties.%s: character %zu is not one of "
			         "A-Z a-z 0-9 . _ / : @ + = , -", key, i + 1);
			return SL_EINVAL;
		}
	*out = s;
	return 0;
}

int ctl_prop_only(const json_t *props, const char *const *allowed, char *err, size_t err_size)
{
	if (!props)
		return 0;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)props, k, v) {
		/* Red5 Pro's launch configurations carry their cloud's settings as
		 * {"property": [{"name", "value"}, ...]}: kept and answered back for Red5's
		 * scripts, read by no controller here (docs/api.md). */
		if (strcmp(k, "property") == 0 && json_is_array(v))
			continue;
		int ok = 0;
		for (size_t i = 0; allowed[i]; i++)
			if (strcmp(k, allowed[i]) == 0)
				ok = 1;
		if (!ok) {
			char list[256] = "";
			for (size_t i = 0; allowed[i]; i++) {
				size_t l = strlen(list);
				snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "", allowed[i]);
			}
			snprintf(err, err_size, "properties.%.40s: not a property of this controller "
			         "(it takes: %s)", k, list);
			return SL_EINVAL;
		}
	}
	return 0;
}

char *ctl_boot_script(const struct node_spec *spec, const char *who, const char *manager_url,
                      int rtmp_port, int http_port, const char *ip_cmd)
{
	size_t cap = 8192;
	char *t = xmalloc(cap);
	/* Every value here is ours and checked (names, URL, numbers, a hex token): none can
	 * break out of its quotes. */
	snprintf(t, cap,
	         "#!/bin/sh\n"
	         "# sluice node bootstrap, written by the sluice manager's %s controller.\n"
	         "# It holds a one-time token, not the cluster secret: the token is traded for the\n"
	         "# secret at the manager once, while the node is launching (docs/operations.md).\n"
	         "set -eu\n"
	         "id='%s'\n"
	         "mgr='%s'\n"
	         "tok='%s'\n"
	         "conf=${SLUICE_NODE_CONF:-/etc/sluice/node.conf}\n"
	         "ip=${SLUICE_NODE_IP:-$(%s)}\n"
	         "hm() { openssl dgst -sha256 -mac HMAC -macopt \"$1\" | awk '{print $NF}'; }\n"
	         "ans=''\n"
	         "for i in $(seq 1 30); do\n"
	         "  ms=$(date +%%s%%3N)\n"
	         "  proof=$(printf 'sluice-bootstrap-v1\\n%%s\\n%%s' \"$id\" \"$ms\" | hm \"key:$tok\")\n"
	         "  ans=$(curl -sf -m 5 -X POST -H 'Content-Type: application/json' "
	         "-d \"{\\\"id\\\":\\\"$id\\\",\\\"time\\\":$ms,\\\"proof\\\":\\\"$proof\\\"}\" "
	         "\"$mgr/api/v1/cluster/bootstrap\") && break\n"
	         "  sleep 2\n"
	         "done\n"
	         "[ -n \"$ans\" ] || { echo 'bootstrap: the manager did not answer' >&2; exit 1; }\n"
	         "field() { printf '%%s' \"$ans\" | sed -n \"s/.*\\\"$1\\\":\\\"\\([^\\\"]*\\)\\\".*/\\1/p\"; }\n"
	         "iv=$(field iv); sealed=$(field sealed); mac=$(field mac)\n"
	         "kenc=$(printf '%%s' sluice-bootstrap-enc | hm \"key:$tok\")\n"
	         "kmac=$(printf '%%s' sluice-bootstrap-mac | hm \"key:$tok\")\n"
	         "[ \"$(printf '%%s.%%s' \"$iv\" \"$sealed\" | hm \"hexkey:$kmac\")\" = \"$mac\" ] || "
	         "{ echo 'bootstrap: the answer is not the manager'\"'\"'s' >&2; exit 1; }\n"
	         "secret=$(printf '%%s' \"$sealed\" | openssl base64 -d -A | "
	         "openssl enc -d -aes-256-cbc -K \"$kenc\" -iv \"$iv\")\n"
	         "umask 077\n"
	         "mkdir -p \"$(dirname \"$conf\")\"\n"
	         "cat > \"$conf\" <<'SLUICE_NODE_CONF_END'\n"
	         "name = %s\nrole = %s\ngroup = %s\nmanager = %s\nrtmp-port = %d\nhttp-port = %d\n"
	         "%s%s%s"
	         "SLUICE_NODE_CONF_END\n"
	         "echo \"bind = $ip\" >> \"$conf\"\n"
	         "printf 'cluster-secret = \"%%s\"\\n' \"$(printf '%%s' \"$secret\" | "
	         "sed 's/[\\\\\"]/\\\\&/g')\" >> \"$conf\"\n"
	         "exec \"${SLUICE_BIN:-sluice}\" node --config \"$conf\" --name \"$id\"\n",
	         who, spec->id, manager_url, spec->bootstrap_token ? spec->bootstrap_token : "",
	         ip_cmd, spec->id, spec->role, spec->group, manager_url, rtmp_port, http_port,
	         spec->origins && *spec->origins ? "origins = " : "",
	         spec->origins && *spec->origins ? spec->origins : "",
	         spec->origins && *spec->origins ? "\n" : "");
	return t;
}
