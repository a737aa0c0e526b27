/* SPDX-License-Identifier: Apache-2.0 */
/* bytes.c - growable byte vector (see bytes.h). */
#include "core/bytes.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"

void bytes_init(struct bytes *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void bytes_free(struct bytes *b)
{
	free(b->data);
	bytes_init(b);
}

void bytes_clear(struct bytes *b)
{
	b->len = 0;
}

void bytes_reserve(struct bytes *b, size_t extra)
{
	size_t need = b->len + extra;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

uint8_t *bytes_extend(struct bytes *b, size_t n)
{
	bytes_reserve(b, n);
	uint8_t *p = b->data + b->len;
	b->len += n;
	return p;
}

void bytes_append(struct bytes *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	memcpy(bytes_extend(b, n), p, n);
}

void bytes_put_u8(struct bytes *b, uint8_t v)
{
	*bytes_extend(b, 1) = v;
}

void bytes_put_u16be(struct bytes *b, uint16_t v)
{
	wr_u16be(bytes_extend(b, 2), v);
}

void bytes_put_u24be(struct bytes *b, uint32_t v)
{
	wr_u24be(bytes_extend(b, 3), v);
}

void bytes_put_u32be(struct bytes *b, uint32_t v)
{
	wr_u32be(bytes_extend(b, 4), v);
}

void bytes_put_u32le(struct bytes *b, uint32_t v)
{
	wr_u32le(bytes_extend(b, 4), v);
}

void bytes_put_str(struct bytes *b, const char *s)
{
	bytes_append(b, s, strlen(s));
}

void bytes_printf(struct bytes *b, const char *fmt, ...)
{
	/* Reserve a guess first: one formatting pass when it fits, as it nearly always does. */
	bytes_reserve(b, 256);
	size_t room = b->cap - b->len;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf((char *)b->data + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= room) {
		bytes_reserve(b, (size_t)n + 1);
		va_start(ap, fmt);
		vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}
