/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hb_view.c - every group's heartbeat view in one walk of the nodes (hb_view.h).
 */
#include "manager/hb_view.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "manager/manager.h"

struct hb_view_slot {
	struct hb_view v;
	size_t nhints;
};

static void views_clear(struct manager *m)
{
	size_t it = 0;
	void *v;
	while (strmap_next(&m->hb_views, &it, NULL, &v)) {
		json_decref(((struct hb_view_slot *)v)->v.hints);
		free(v);
	}
	strmap_free(&m->hb_views);
	strmap_init(&m->hb_views);
}

static struct hb_view_slot *slot_of(struct manager *m, const char *group)
{
	struct hb_view_slot *s = strmap_get(&m->hb_views, group);
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->v.hints = json_object();
		strmap_put(&m->hb_views, group, s);
	}
	return s;
}

/* The same walk as mgr_group_origins and the old per-heartbeat one, for all groups at once
 * (groups deleted meanwhile go with the next rebuild). */
static void views_build(struct manager *m)
{
	views_clear(m);
	struct list_node *it;
	list_for_each(it, &m->nodes) {
		const struct mnode *nd = list_entry(it, struct mnode, link);
		if (nd->role != MROLE_ORIGIN || nd->state == NS_DEAD)
			continue;
		struct hb_view_slot *s = slot_of(m, nd->group);
		char place[96];
		snprintf(place, sizeof(place), "%s:%d", nd->place.host, nd->place.rtmp_port);
		if (nd->place.host[0]) {
			size_t len = strlen(s->v.origins);
			snprintf(s->v.origins + len, sizeof(s->v.origins) - len, "%s%s", len ? "," : "",
			         place);
		}
		if (nd->state != NS_ALIVE && nd->state != NS_DRAINING)
			continue;
		for (unsigned i = 0; i < nd->rep.nstreams && s->nhints < HB_VIEW_STREAMS_MAX; i++) {
			const struct report_stream *rs = &nd->rep.streams[i];
			if (!rs->publishing)
				continue;
			char key[260];
			snprintf(key, sizeof(key), "%s/%s", rs->app, rs->name);
			json_object_set_new(s->v.hints, key, json_string(place));
			s->nhints++;
		}
	}
}

const struct hb_view *hb_view_get(struct manager *m, const char *group)
{
	uint64_t now = clock_mono_ms();
	if (!m->hb_views_ms || now >= m->hb_views_ms + HB_VIEW_MS) {
		views_build(m);
		m->hb_views_ms = now;
	}
	return &slot_of(m, group)->v;
}

void hb_view_free(struct manager *m)
{
	views_clear(m);
	strmap_free(&m->hb_views);
}
