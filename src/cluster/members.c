/* SPDX-License-Identifier: Apache-2.0 */
/* members.c - the gossiped member table (see members.h). */
#include "cluster/members.h"

#include "core/name.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void members_init(struct members *ms, const struct member *self, uint64_t expire_ms)
{
	memset(ms, 0, sizeof(*ms));
	ms->m[0] = *self;
	ms->n = 1;
	ms->expire_ms = expire_ms;
}

void members_beat(struct members *ms, uint64_t now)
{
	ms->m[0].beat++;
	ms->m[0].seen_ms = now;
}

const struct member *members_find(const struct members *ms, const char *name)
{
	for (unsigned i = 0; i < ms->n; i++)
		if (strcmp(ms->m[i].name, name) == 0)
			return &ms->m[i];
	return NULL;
}

static struct member_tomb *tomb_of(struct members *ms, const char *name)
{
	for (unsigned i = 0; i < ms->ntombs; i++)
		if (strcmp(ms->tombs[i].name, name) == 0)
			return &ms->tombs[i];
	return NULL;
}

int members_merge(struct members *ms, const struct member *in, uint64_t now)
{
	if (!in->name[0] || strcmp(in->name, ms->m[0].name) == 0)
		return 0;
	struct member_tomb *t = tomb_of(ms, in->name);
	if (t) {
		if (in->beat <= t->beat)
			return 0; /* an echo of a member we buried */
		*t = ms->tombs[--ms->ntombs]; /* it beats again: alive */
	}
	struct member *m = (struct member *)members_find(ms, in->name);
	if (m) {
		if (in->beat <= m->beat)
			return 0; /* an echo, or stale */
	} else {
		if (ms->n == MEMBERS_MAX)
			return 0;
		m = &ms->m[ms->n++];
	}
	*m = *in;
	m->seen_ms = now;
	return 1;
}

void members_expire(struct members *ms, uint64_t now)
{
	for (unsigned i = 0; i < ms->ntombs;) {
		if (now > ms->tombs[i].until_ms)
			ms->tombs[i] = ms->tombs[--ms->ntombs];
		else
			i++;
	}
	for (unsigned i = 1; i < ms->n;) {
		if (now - ms->m[i].seen_ms > ms->expire_ms) {
			if (ms->ntombs < MEMBERS_MAX) {
				struct member_tomb *t = &ms->tombs[ms->ntombs++];
				memcpy(t->name, ms->m[i].name, sizeof(t->name));
				t->beat = ms->m[i].beat;
				/* Long enough for every echo to die out along the links. */
				t->until_ms = now + 6 * ms->expire_ms;
			}
			ms->m[i] = ms->m[--ms->n];
		} else {
			i++;
		}
	}
}

static int is_public(const struct member *m)
{
	return !m->private_node &&
	       (strcmp(m->role, "origin") == 0 || strcmp(m->role, "edge") == 0);
}

static int by_name(const void *a, const void *b)
{
	const struct member *const *x = a, *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

const struct member *members_next_public(const struct members *ms, uint64_t *rr)
{
	const struct member *pub[MEMBERS_MAX];
	unsigned n = 0;
	for (unsigned i = 0; i < ms->n; i++)
		if (is_public(&ms->m[i]))
			pub[n++] = &ms->m[i];
	if (!n)
		return NULL;
	/* In name order, so every node walks the same cycle. */
	qsort(pub, n, sizeof(pub[0]), by_name);
	return pub[(*rr)++ % n];
}

void members_put_amf(const struct members *ms, struct bytes *amf)
{
	amf0_put_object_start(amf);
	for (unsigned i = 0; i < ms->n; i++) {
		const struct member *m = &ms->m[i];
		amf0_put_key(amf, m->name);
		amf0_put_object_start(amf);
		amf0_put_prop_string(amf, "role", m->role);
		amf0_put_prop_string(amf, "host", m->host);
		amf0_put_prop_number(amf, "rtmpPort", m->rtmp_port);
		amf0_put_prop_number(amf, "httpPort", m->http_port);
		amf0_put_prop_bool(amf, "private", m->private_node);
		amf0_put_prop_number(amf, "beat", (double)m->beat);
		amf0_put_object_end(amf);
	}
	amf0_put_object_end(amf);
}

static int port_of(const struct amf0_value *v, int *out)
{
	double d;
	if (amf0_num(v, &d) < 0 || !(d >= 1 && d <= 65535))
		return -1;
	*out = (int)d;
	return 0;
}

void members_merge_amf(struct members *ms, const struct amf0_value *obj, uint64_t now)
{
	if (!obj || (obj->type != AMF0_OBJECT && obj->type != AMF0_ECMA_ARRAY))
		return;
	for (uint32_t i = 0; i < obj->u.obj.count; i++) {
		const struct amf0_prop *p = &obj->u.obj.props[i];
		const struct amf0_value *v = p->value;
		struct member m;
		memset(&m, 0, sizeof(m));
		const char *role = amf0_str(amf0_get(v, "role"));
		const char *host = amf0_str(amf0_get(v, "host"));
		double beat;
		if (p->key_len == 0 || p->key_len >= sizeof(m.name) || !role || !host ||
		    strlen(role) >= sizeof(m.role) || strlen(host) >= sizeof(m.host) || !*host ||
		    port_of(amf0_get(v, "rtmpPort"), &m.rtmp_port) < 0 ||
		    port_of(amf0_get(v, "httpPort"), &m.http_port) < 0 ||
		    amf0_num(amf0_get(v, "beat"), &beat) < 0 || !(beat >= 0 && beat < 9e15))
			continue;
		if (strcmp(role, "origin") && strcmp(role, "edge") && strcmp(role, "relay"))
			continue;
		memcpy(m.name, p->key, p->key_len);
		/* Names as connect takes them; hosts without spaces, quotes or control bytes. */
		if (strlen(m.name) != p->key_len || !stream_name_valid(m.name) ||
		    strcspn(host, " \"'\\<>\r\n\t") != strlen(host))
			continue;
		snprintf(m.role, sizeof(m.role), "%s", role);
		snprintf(m.host, sizeof(m.host), "%s", host);
		m.private_node = amf0_true(amf0_get(v, "private"));
		m.beat = (uint64_t)beat;
		members_merge(ms, &m, now);
	}
}
