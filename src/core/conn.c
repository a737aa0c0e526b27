/* SPDX-License-Identifier: Apache-2.0 */
/* conn.c - the connection table (see conn.h). */
#include "core/conn.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/log.h"

/* Refusal log lines per second, per table: a flood of connections must not flood the log. */
#define REFUSAL_LOG_PER_SEC 10

void conn_table_init(struct conn_table *t, uint32_t max)
{
	memset(t, 0, sizeof(*t));
	list_init(&t->all);
	iplimit_init(&t->ip, 0, 0, 0);
	t->max = max;
	t->next_id = 1;
}

void conn_table_set_ip_limits(struct conn_table *t, uint32_t max_per_ip, uint32_t rate_per_ip,
                              uint32_t burst_per_ip)
{
	iplimit_free(&t->ip);
	iplimit_init(&t->ip, max_per_ip, rate_per_ip, burst_per_ip);
}

void conn_table_free(struct conn_table *t)
{
	iplimit_free(&t->ip);
}

int conn_table_add(struct conn_table *t, struct conn *c, const char *kind,
                   const char *peer, const struct conn_ops *ops)
{
	if (t->max && t->count >= t->max) {
		t->refused++;
		return SL_EFULL;
	}
	char key[IPLIMIT_KEY_MAX];
	iplimit_key(peer, key, sizeof(key));
	int rc = iplimit_admit(&t->ip, key, clock_mono_ms());
	if (rc < 0)
		return rc;
	c->id = t->next_id++;
	c->kind = kind;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->created_ms = clock_wall_ms();
	c->bytes_in = c->bytes_out = 0;
	c->ops = ops;
	list_add_tail(&t->all, &c->link);
	t->count++;
	t->accepted++;
	return 0;
}

void conn_table_remove(struct conn_table *t, struct conn *c)
{
	if (!list_linked(&c->link))
		return;
	list_del(&c->link);
	t->count--;
	char key[IPLIMIT_KEY_MAX];
	iplimit_key(c->peer, key, sizeof(key));
	iplimit_release(&t->ip, key, clock_mono_ms());
	t->bytes_in_closed += c->bytes_in;
	t->bytes_out_closed += c->bytes_out;
}

const char *conn_refusal_reason(int rc)
{
	switch (rc) {
	case 0:
		return "shutting down";
	case SL_EFULL:
		return "connection limit";
	case SL_ELIMIT:
		return "per-ip connection limit";
	case SL_EAGAIN:
		return "per-ip connection rate";
	default:
		return sl_strerror(rc);
	}
}

void conn_table_log_refusal(struct conn_table *t, const char *protocol, const char *peer,
                            int rc)
{
	uint64_t suppressed = 0;
	if (!log_throttle_pass(&t->refusal_log, clock_mono_ms(), REFUSAL_LOG_PER_SEC, &suppressed))
		return;
	char limit[48] = "";
	if (rc == SL_EFULL)
		snprintf(limit, sizeof(limit), " limit=%u", t->max);
	else if (rc == SL_ELIMIT)
		snprintf(limit, sizeof(limit), " limit=%u", t->ip.max_conns);
	else if (rc == SL_EAGAIN)
		snprintf(limit, sizeof(limit), " limit=%u/s burst=%u", t->ip.rate, t->ip.burst);
	log_warn("connection_refused", "protocol=%s peer=%s reason=\"%s\"%s suppressed=%llu",
	         protocol, peer, conn_refusal_reason(rc), limit, (unsigned long long)suppressed);
}

struct conn *conn_table_find(struct conn_table *t, uint64_t id)
{
	struct list_node *n;
	list_for_each(n, &t->all) {
		struct conn *c = list_entry(n, struct conn, link);
		if (c->id == id)
			return c;
	}
	return NULL;
}

uint64_t conn_table_bytes_in(const struct conn_table *t)
{
	uint64_t sum = t->bytes_in_closed;
	const struct list_node *n;
	list_for_each(n, &t->all)
		sum += list_entry(n, struct conn, link)->bytes_in;
	return sum;
}

uint64_t conn_table_bytes_out(const struct conn_table *t)
{
	uint64_t sum = t->bytes_out_closed;
	const struct list_node *n;
	list_for_each(n, &t->all)
		sum += list_entry(n, struct conn, link)->bytes_out;
	return sum;
}

json_t *conn_to_json(struct conn *c)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer((json_int_t)c->id));
	json_object_set_new(o, "protocol", json_string(c->kind));
	json_object_set_new(o, "peer", json_string(c->peer));
	json_object_set_new(o, "connected_ms", json_integer((json_int_t)c->created_ms));
	json_object_set_new(o, "bytes_in", json_integer((json_int_t)c->bytes_in));
	json_object_set_new(o, "bytes_out", json_integer((json_int_t)c->bytes_out));
	if (c->ops && c->ops->describe)
		c->ops->describe(c, o);
	return o;
}
