/* conn.c - the connection table (see conn.h). */
#include "core/conn.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"

void conn_table_init(struct conn_table *t, uint32_t max)
{
	memset(t, 0, sizeof(*t));
	list_init(&t->all);
	t->max = max;
	t->next_id = 1;
}

int conn_table_add(struct conn_table *t, struct conn *c, const char *kind,
                   const char *peer, const struct conn_ops *ops)
{
	if (t->max && t->count >= t->max) {
		t->refused++;
		return SL_EFULL;
	}
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
	t->bytes_in_closed += c->bytes_in;
	t->bytes_out_closed += c->bytes_out;
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
