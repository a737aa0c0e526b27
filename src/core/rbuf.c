/* SPDX-License-Identifier: Apache-2.0 */
/* rbuf.c - refcounted byte blocks (see rbuf.h). */
#include "core/rbuf.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

struct rbuf *rbuf_new(size_t cap)
{
	if (cap > UINT32_MAX)
		abort(); /* callers bound sizes long before this */
	struct rbuf *b = xmalloc(sizeof(*b) + cap);
	b->refs = 1;
	b->len = 0;
	b->cap = (uint32_t)cap;
	return b;
}

struct rbuf *rbuf_from(const void *p, size_t n)
{
	struct rbuf *b = rbuf_new(n);
	if (n)
		memcpy(b->data, p, n);
	b->len = (uint32_t)n;
	return b;
}

struct rbuf *rbuf_grow(struct rbuf *b, size_t cap)
{
	if (b->refs != 1 || cap > UINT32_MAX)
		abort(); /* growing a shared block is a bug */
	if (cap <= b->cap)
		return b;
	b = xrealloc(b, sizeof(*b) + cap);
	b->cap = (uint32_t)cap;
	return b;
}

void rbuf_unref(struct rbuf *b)
{
	if (b && --b->refs == 0)
		free(b);
}
