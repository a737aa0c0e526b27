/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bytes.h - a growable byte vector for building output, and big-endian
 * load/store helpers for parsing wire formats.
 *
 * A struct bytes owns its storage.  Appends grow it (aborting on OOM);
 * callers that build from untrusted input bound what they append first.
 */
#ifndef SLUICE_CORE_BYTES_H
#define SLUICE_CORE_BYTES_H

#include <stddef.h>
#include <stdint.h>

struct bytes {
	uint8_t *data;
	size_t len;
	size_t cap;
};

void bytes_init(struct bytes *b);
void bytes_free(struct bytes *b);
void bytes_reserve(struct bytes *b, size_t extra);
/* Returns a pointer to n new bytes at the end (contents undefined). */
uint8_t *bytes_extend(struct bytes *b, size_t n);
void bytes_append(struct bytes *b, const void *p, size_t n);
void bytes_put_u8(struct bytes *b, uint8_t v);
void bytes_put_u16be(struct bytes *b, uint16_t v);
void bytes_put_u24be(struct bytes *b, uint32_t v);
void bytes_put_u32be(struct bytes *b, uint32_t v);
void bytes_put_u32le(struct bytes *b, uint32_t v);
void bytes_put_str(struct bytes *b, const char *s);
void bytes_printf(struct bytes *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void bytes_clear(struct bytes *b);

static inline uint16_t rd_u16be(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t rd_u24be(const uint8_t *p)
{
	return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
}

static inline uint32_t rd_u32be(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

static inline uint32_t rd_u32le(const uint8_t *p)
{
	return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[1] << 8) | p[0];
}

static inline uint64_t rd_u64be(const uint8_t *p)
{
	return ((uint64_t)rd_u32be(p) << 32) | rd_u32be(p + 4);
}

static inline void wr_u16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr_u24be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static inline void wr_u32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void wr_u32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void wr_u64be(uint8_t *p, uint64_t v)
{
	wr_u32be(p, (uint32_t)(v >> 32));
	wr_u32be(p + 4, (uint32_t)v);
}

#endif
