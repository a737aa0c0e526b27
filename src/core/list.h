/* SPDX-License-Identifier: Apache-2.0 */
/*
 * list.h - intrusive doubly-linked lists.
 *
 * Connections, viewers and streams embed a struct list_node, so joining or
 * leaving a list never allocates and removal is O(1).
 */
#ifndef SLUICE_CORE_LIST_H
#define SLUICE_CORE_LIST_H

#include <stddef.h>

struct list_node {
	struct list_node *prev, *next;
};

#define LIST_INIT(name) { &(name), &(name) }

static inline void list_init(struct list_node *head)
{
	head->prev = head->next = head;
}

static inline int list_empty(const struct list_node *head)
{
	return head->next == head;
}

/* A node that is in no list points at itself (after list_init or list_del). */
static inline int list_linked(const struct list_node *n)
{
	return n->next != n && n->next != NULL;
}

static inline void list_add_tail(struct list_node *head, struct list_node *n)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static inline void list_del(struct list_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define list_entry(ptr, type, member) container_of(ptr, type, member)

/* Iterates safely against removal of the current node. */
#define list_for_each_safe(pos, tmp, head) \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); \
	     (pos) = (tmp), (tmp) = (pos)->next)

#define list_for_each(pos, head) \
	for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

#endif
