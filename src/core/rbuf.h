/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rbuf.h - refcounted, immutable-once-shared byte blocks.
 *
 * Media bytes are packaged once and then shared by every viewer that sends
 * them: each in-flight write holds a reference, and the block is freed when
 * the last reference goes.  The event loop is single-threaded, so the count
 * is a plain integer.
 *
 * An rbuf is written only by its creator, before the first rbuf_ref().
 */
#ifndef SLUICE_CORE_RBUF_H
#define SLUICE_CORE_RBUF_H

#include <stddef.h>
#include <stdint.h>

struct rbuf {
	uint32_t refs;
	uint32_t len;    /* bytes in use */
	uint32_t cap;    /* bytes allocated after the header */
	uint8_t data[];
};

/* A new block of cap bytes, len 0, one reference (the caller's). */
struct rbuf *rbuf_new(size_t cap);
/* A new block holding a copy of p[0..n). */
struct rbuf *rbuf_from(const void *p, size_t n);
/* Grows an unshared block (refs == 1) to at least cap bytes; may move it. */
struct rbuf *rbuf_grow(struct rbuf *b, size_t cap);

static inline struct rbuf *rbuf_ref(struct rbuf *b)
{
	b->refs++;
	return b;
}

void rbuf_unref(struct rbuf *b);

#endif
