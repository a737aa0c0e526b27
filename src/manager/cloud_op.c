/* SPDX-License-Identifier: Apache-2.0 */
/* cloud_op.c - a cloud controller's calls: start, retry, credentials, end (see cloud_op.h). */
#include "manager/cloud_op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

void cloud_ops_init(struct cloud_ops *s, struct controller *c, uv_loop_t *loop,
                    const struct cloud_api *api, unsigned retries)
{
	memset(s, 0, sizeof(*s));
	s->c = c;
	s->loop = loop;
	s->api = api;
	s->retries = retries;
	list_init(&s->ops);
	list_init(&s->waiting);
}

static const char *op_name(const struct cloud_op *op)
{
	return op->set->api->kind_names[op->kind];
}

static const char *op_node(const struct cloud_op *op)
{
	return op->id[0] ? op->id : "-";
}

static void op_timer_closed(uv_handle_t *h)
{
	struct cloud_op *op = h->data;
	free(op->body);
	free(op->found);
	free(op);
}

/* The op leaves its list now; its memory goes once its timer is closed. */
static void op_free(struct cloud_op *op)
{
	list_del(&op->link);
	if (op->timer_used) {
		uv_close((uv_handle_t *)&op->timer, op_timer_closed);
	} else {
		free(op->body);
		free(op->found);
		free(op);
	}
}

void cloud_ops_close(struct cloud_ops *s)
{
	while (!list_empty(&s->waiting))
		op_free(list_entry(s->waiting.next, struct cloud_op, link));
	while (!list_empty(&s->ops)) {
		struct cloud_op *op = list_entry(s->ops.next, struct cloud_op, link);
		log_warn(s->api->log_abandoned, "call=%s node=%s (the manager is stopping)",
		         op_name(op), op_node(op));
		op_free(op);
	}
}

int cloud_ops_busy(const struct cloud_ops *s)
{
	return !list_empty(&s->ops) || !list_empty(&s->waiting);
}

struct cloud_op *cloud_op_new(struct cloud_ops *s, enum cloud_op_kind kind, const char *id)
{
	struct cloud_op *op = xcalloc(1, sizeof(*op));
	op->set = s;
	op->kind = kind;
	snprintf(op->id, sizeof(op->id), "%s", id ? id : "");
	list_add_tail(&s->ops, &op->link);
	return op;
}

static void send_fire(uv_timer_t *t)
{
	struct cloud_op *op = t->data;
	op->set->api->send(op);
}

static void op_arm(struct cloud_op *op, uint64_t wait_ms)
{
	if (!op->timer_used) {
		uv_timer_init(op->set->loop, &op->timer);
		op->timer.data = op;
		op->timer_used = 1;
	}
	uv_timer_start(&op->timer, send_fire, wait_ms, 0);
}

void cloud_op_start(struct cloud_op *op)
{
	op_arm(op, 0);
}

int cloud_op_wait(struct cloud_op *op)
{
	struct cloud_ops *s = op->set;
	list_del(&op->link);
	list_add_tail(&s->waiting, &op->link);
	if (s->fetching)
		return 0;
	s->fetching = 1;
	return 1;
}

void cloud_ops_creds_done(struct cloud_ops *s, const char *err)
{
	s->fetching = 0;
	/* Only those waiting now: an op that finds the new credentials already stale goes
	 * back to waiting for the next fetch, and must not be taken again in this loop. */
	struct list_node now;
	list_init(&now);
	while (!list_empty(&s->waiting)) {
		struct list_node *it = s->waiting.next;
		list_del(it);
		list_add_tail(&now, it);
	}
	while (!list_empty(&now)) {
		struct cloud_op *op = list_entry(now.next, struct cloud_op, link);
		list_del(&op->link);
		list_add_tail(&s->ops, &op->link);
		if (err)
			cloud_op_fail(op, err);
		else
			s->api->send(op);
	}
}

int cloud_op_retry(struct cloud_op *op, const char *why)
{
	struct cloud_ops *s = op->set;
	if (op->attempt >= s->retries)
		return 0;
	uint64_t wait = (uint64_t)CLOUD_BACKOFF_MS << (op->attempt < 16 ? op->attempt : 16);
	if (wait > CLOUD_BACKOFF_MAX_MS)
		wait = CLOUD_BACKOFF_MAX_MS;
	uint8_t r;
	random_bytes(&r, 1);
	wait += wait * r / 512;   /* up to +50%: retries from many managers spread out */
	char m[900];
	snprintf(m, sizeof(m), "%s %s for %s: %s; try %u of %u in %llu ms", s->api->what,
	         op_name(op), op_node(op), why, op->attempt + 2, s->retries + 1,
	         (unsigned long long)wait);
	s->c->event(s->c, "cloud_retry", op->id[0] ? op->id : NULL, m);
	op->attempt++;
	op_arm(op, wait);
	return 1;
}

void cloud_op_fail(struct cloud_op *op, const char *msg)
{
	struct controller *c = op->set->c;
	char err[900];
	snprintf(err, sizeof(err), "%s %s: %s", op->set->api->what, op_name(op), msg);
	log_warn(op->set->api->log_failed, "call=%s node=%s tries=%u error=\"%s\"", op_name(op),
	         op_node(op), op->attempt + 1, msg);
	if (op->kind == CLOUD_LAUNCH) {
		ctl_seen_launched(c, op->id);
		c->launched(c, op->id, SL_EIO, NULL, err);
	} else if (op->kind == CLOUD_LIST) {
		c->listed(c, SL_EIO, NULL, 0, err);
	} else {
		c->event(c, "terminate_failed", op->id, err);
	}
	op_free(op);
}

void cloud_op_launched(struct cloud_op *op, struct node_place *place)
{
	struct controller *c = op->set->c;
	if (!place->instance[0])
		snprintf(place->instance, sizeof(place->instance), "%s", op->id);
	place->rtmp_port = op->rtmp_port;
	place->http_port = op->http_port;
	ctl_seen_launched(c, op->id);
	c->launched(c, op->id, 0, place, NULL);
	op_free(op);
}

void cloud_op_done(struct cloud_op *op)
{
	op_free(op);
}

void cloud_op_page(struct cloud_op *op, int n, struct ctl_instance *v, const char *next,
                   const char *what, cloud_page_fn set_next)
{
	char m[160];
	if (n < 0) {
		free(v);
		snprintf(m, sizeof(m), "the answer is not %s", what);
		cloud_op_fail(op, m);
		return;
	}
	op->pages++;
	if (n > 0) {
		op->found = xrealloc(op->found, (op->nfound + (size_t)n) * sizeof(*op->found));
		memcpy(op->found + op->nfound, v, (size_t)n * sizeof(*v));
		op->nfound += (size_t)n;
	}
	free(v);
	if (!next[0]) {
		struct controller *c = op->set->c;
		ctl_seen_update(c, op->found, op->nfound);
		c->listed(c, 0, op->found, op->nfound, NULL);
		op_free(op);
		return;
	}
	if (op->pages >= CLOUD_LIST_PAGES_MAX) {
		snprintf(m, sizeof(m), "more than %d pages of %s", CLOUD_LIST_PAGES_MAX, what);
		cloud_op_fail(op, m);
		return;
	}
	set_next(op, next);
	op->attempt = 0;
	op_arm(op, 0);
}

void cloud_safe_text(char *s)
{
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == '"' || *p == '\\')
			*p = '?';
}
