/* SPDX-License-Identifier: Apache-2.0 */
/*
 * amf0.c - AMF0 decoder and encoder (see amf0.h).
 *
 * The decoder walks nested values with an explicit stack of open containers
 * instead of recursion, so a hostile nesting depth costs heap bounded by
 * max_depth, never C stack.  The children of open containers collect on one
 * scratch stack and are copied into the arena, at their exact number, when
 * their container closes.  Declared counts (the ECMA array hint, the strict
 * array length) are never used to size anything: every value read consumes
 * at least one input byte and every property at least three, so memory is
 * O(input) whatever the input says.
 *
 * The arena is a chain of blocks that only grows; the whole tree is freed
 * at once.  Small messages (every RTMP command) fit in the first block, and
 * the scratch and container stacks start on the C stack, so decoding a
 * command costs one malloc.
 */
#include "proto/amf0.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

/* Wire markers, including those that decode to another type or not at all. */
enum {
	M_NUMBER = 0x00,
	M_BOOLEAN = 0x01,
	M_STRING = 0x02,
	M_OBJECT = 0x03,
	M_MOVIECLIP = 0x04,
	M_NULL = 0x05,
	M_UNDEFINED = 0x06,
	M_REFERENCE = 0x07,
	M_ECMA_ARRAY = 0x08,
	M_OBJECT_END = 0x09,
	M_STRICT_ARRAY = 0x0a,
	M_DATE = 0x0b,
	M_LONG_STRING = 0x0c,
	M_UNSUPPORTED = 0x0d,
	M_RECORDSET = 0x0e,
	M_XML_DOCUMENT = 0x0f,
	M_TYPED_OBJECT = 0x10,
	M_AVMPLUS = 0x11,
};

#define DEFAULT_MAX_DEPTH 32u
#define DEFAULT_MAX_VALUES 65536u
#define SCRATCH_INLINE 32
#define FRAMES_INLINE 16
#define FIRST_BLOCK_MIN 128u
#define FIRST_BLOCK_MAX 16384u

/* ---- arena ---- */

struct arena_block {
	struct arena_block *next;
	size_t cap;
	size_t used;
	max_align_t data[];
};

struct arena {
	struct arena_block *head;
	size_t next_cap;
};

static void arena_free_chain(struct arena_block *b)
{
	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
}

static void *arena_alloc_slow(struct arena *a, size_t size)
{
	size_t cap = a->next_cap > size ? a->next_cap : size;
	if (cap > SIZE_MAX - sizeof(struct arena_block))
		abort();
	struct arena_block *b = xmalloc(sizeof(*b) + cap);
	b->next = a->head;
	b->cap = cap;
	b->used = size;
	a->head = b;
	/* Doubling keeps the block count logarithmic and the waste under half. */
	if (a->next_cap <= SIZE_MAX / 4)
		a->next_cap *= 2;
	return b->data;
}

/* align is a power of two no larger than alignof(max_align_t). */
static inline void *arena_alloc(struct arena *a, size_t size, size_t align)
{
	struct arena_block *b = a->head;
	if (b) {
		size_t off = (b->used + align - 1) & ~(align - 1);
		if (off <= b->cap && size <= b->cap - off) {
			b->used = off + size;
			return (unsigned char *)b->data + off;
		}
	}
	return arena_alloc_slow(a, size);
}

static void *arena_array(struct arena *a, size_t n, size_t size, size_t align)
{
	if (n == 0)
		return NULL;
	if (n > SIZE_MAX / size)
		abort(); /* cannot happen: n is bounded by the input length */
	return arena_alloc(a, n * size, align);
}

/* ---- decoder ---- */

/* An open container: its value, where its children start on the scratch
 * stack, and for a strict array how many items are still to come. */
struct frame {
	struct amf0_value *v;
	size_t base;
	uint32_t left;
};

struct dec {
	const uint8_t *p;
	const uint8_t *end;
	struct arena ar;
	struct amf0_prop *scr;
	size_t nscr, capscr;
	struct frame *fr;
	size_t nfr, capfr;
	size_t nvalues, max_values;
	size_t max_depth;
	struct amf0_prop scr_inline[SCRATCH_INLINE];
	struct frame fr_inline[FRAMES_INLINE];
};

static size_t avail(const struct dec *d)
{
	return (size_t)(d->end - d->p);
}

/* Grows an inline-first stack; elements are copied out of the inline buffer
 * the first time it overflows. */
static void *grow_stack(void *cur, const void *inline_buf, size_t *cap, size_t elem)
{
	size_t ncap = *cap * 2;
	void *n;
	if (cur == inline_buf) {
		n = xmalloc(ncap * elem);
		memcpy(n, cur, *cap * elem);
	} else {
		n = xrealloc(cur, ncap * elem);
	}
	*cap = ncap;
	return n;
}

static struct amf0_prop *scratch_push(struct dec *d)
{
	if (d->nscr == d->capscr)
		d->scr = grow_stack(d->scr, d->scr_inline, &d->capscr, sizeof(*d->scr));
	return &d->scr[d->nscr++];
}

static int count_value(struct dec *d)
{
	if (d->nvalues >= d->max_values)
		return SL_ELIMIT;
	d->nvalues++;
	return 0;
}

/* Copies len bytes into the arena with a NUL after them. */
static int read_bytes(struct dec *d, size_t len, const char **out)
{
	if (avail(d) < len)
		return SL_EPROTO;
	char *s = arena_alloc(&d->ar, len + 1, 1);
	memcpy(s, d->p, len);
	s[len] = '\0';
	d->p += len;
	*out = s;
	return 0;
}

static double load_double(const uint8_t *p)
{
	uint64_t bits = rd_u64be(p);
	double v;
	memcpy(&v, &bits, sizeof(v));
	return v;
}

static int open_container(struct dec *d, struct amf0_value *v, enum amf0_type type,
                          uint32_t left)
{
	if (d->nfr >= d->max_depth)
		return SL_ELIMIT;
	if (d->nfr == d->capfr)
		d->fr = grow_stack(d->fr, d->fr_inline, &d->capfr, sizeof(*d->fr));
	v->type = type;
	if (type == AMF0_STRICT_ARRAY) {
		v->u.arr.items = NULL;
		v->u.arr.count = 0;
	} else {
		v->u.obj.props = NULL;
		v->u.obj.count = 0;
	}
	d->fr[d->nfr++] = (struct frame){ .v = v, .base = d->nscr, .left = left };
	return 0;
}

static void close_container(struct dec *d)
{
	struct frame *f = &d->fr[d->nfr - 1];
	struct amf0_value *v = f->v;
	size_t n = d->nscr - f->base;
	const struct amf0_prop *kids = d->scr + f->base;

	if (v->type == AMF0_STRICT_ARRAY) {
		struct amf0_value **items = arena_array(&d->ar, n, sizeof(*items),
		                                         alignof(struct amf0_value *));
		for (size_t i = 0; i < n; i++)
			items[i] = kids[i].value;
		v->u.arr.items = items;
		v->u.arr.count = (uint32_t)n; /* at most the declared u32 count */
	} else {
		struct amf0_prop *props = arena_array(&d->ar, n, sizeof(*props),
		                                      alignof(struct amf0_prop));
		if (n)
			memcpy(props, kids, n * sizeof(*props));
		v->u.obj.props = props;
		v->u.obj.count = (uint32_t)n; /* n * 2 <= max_values, an unsigned */
	}
	d->nscr = f->base;
	d->nfr--;
}

/* Reads one value into v; a container is opened, its children come later. */
static int read_value(struct dec *d, struct amf0_value *v)
{
	uint32_t len;
	int rc = count_value(d);
	if (rc < 0)
		return rc;
	if (avail(d) < 1)
		return SL_EPROTO;
	uint8_t marker = *d->p++;

	switch (marker) {
	case M_NUMBER:
		if (avail(d) < 8)
			return SL_EPROTO;
		v->type = AMF0_NUMBER;
		v->u.num = load_double(d->p);
		d->p += 8;
		return 0;
	case M_BOOLEAN:
		if (avail(d) < 1)
			return SL_EPROTO;
		v->type = AMF0_BOOLEAN;
		v->u.boolean = *d->p++ != 0;
		return 0;
	case M_STRING:
		if (avail(d) < 2)
			return SL_EPROTO;
		len = rd_u16be(d->p);
		d->p += 2;
		v->type = AMF0_STRING;
		v->u.str.len = len;
		return read_bytes(d, len, &v->u.str.ptr);
	case M_LONG_STRING:
	case M_XML_DOCUMENT:
		if (avail(d) < 4)
			return SL_EPROTO;
		len = rd_u32be(d->p);
		d->p += 4;
		v->type = AMF0_STRING;
		v->u.str.len = len;
		return read_bytes(d, len, &v->u.str.ptr);
	case M_NULL:
		v->type = AMF0_NULL;
		return 0;
	case M_UNDEFINED:
		v->type = AMF0_UNDEFINED;
		return 0;
	case M_DATE:
		/* The 16-bit time zone is reserved (should be 0) and dropped. */
		if (avail(d) < 10)
			return SL_EPROTO;
		v->type = AMF0_DATE;
		v->u.num = load_double(d->p);
		d->p += 10;
		return 0;
	case M_OBJECT:
		return open_container(d, v, AMF0_OBJECT, 0);
	case M_TYPED_OBJECT:
		if (avail(d) < 2)
			return SL_EPROTO;
		len = rd_u16be(d->p);
		if (avail(d) - 2 < len)
			return SL_EPROTO;
		d->p += 2 + (size_t)len;
		return open_container(d, v, AMF0_OBJECT, 0);
	case M_ECMA_ARRAY:
		/* The count is only a hint: properties run to the end marker. */
		if (avail(d) < 4)
			return SL_EPROTO;
		d->p += 4;
		return open_container(d, v, AMF0_ECMA_ARRAY, 0);
	case M_STRICT_ARRAY:
		if (avail(d) < 4)
			return SL_EPROTO;
		len = rd_u32be(d->p);
		d->p += 4;
		return open_container(d, v, AMF0_STRICT_ARRAY, len);
	case M_MOVIECLIP:
	case M_REFERENCE:
	case M_UNSUPPORTED:
	case M_RECORDSET:
	case M_AVMPLUS:
		return SL_EUNSUPP;
	case M_OBJECT_END: /* only valid after an empty key inside an object */
	default:
		return SL_EPROTO;
	}
}

/* Reads the next key of the open object; returns 1 at its end marker. */
static int read_key(struct dec *d, struct amf0_prop *prop)
{
	if (avail(d) < 2)
		return SL_EPROTO;
	uint16_t len = rd_u16be(d->p);
	d->p += 2;
	if (len == 0 && avail(d) >= 1 && *d->p == M_OBJECT_END) {
		d->p++;
		return 1;
	}
	int rc = count_value(d);
	if (rc < 0)
		return rc;
	prop->key_len = len;
	if (len == 0) {
		prop->key = ""; /* tolerated; no need to spend arena on it */
		return 0;
	}
	return read_bytes(d, len, &prop->key);
}

static int decode_all(struct dec *d)
{
	for (;;) {
		struct amf0_prop prop = { .key = NULL, .key_len = 0, .value = NULL };

		if (d->nfr == 0) {
			if (d->p == d->end)
				return 0;
		} else {
			struct frame *f = &d->fr[d->nfr - 1];
			if (f->v->type == AMF0_STRICT_ARRAY) {
				if (f->left == 0) {
					close_container(d);
					continue;
				}
				f->left--;
			} else {
				int rc = read_key(d, &prop);
				if (rc < 0)
					return rc;
				if (rc == 1) {
					close_container(d);
					continue;
				}
			}
		}
		/* Pushed before reading so that a container's children, which
		 * start above it on the scratch stack, do not include it. */
		prop.value = arena_alloc(&d->ar, sizeof(struct amf0_value),
		                         alignof(struct amf0_value));
		*scratch_push(d) = prop;
		int rc = read_value(d, prop.value);
		if (rc < 0)
			return rc;
	}
}

int amf0_decode(const uint8_t *p, size_t n, const struct amf0_limits *lim,
                struct amf0_list *out)
{
	struct dec d;

	out->vals = NULL;
	out->count = 0;
	out->arena = NULL;

	if (n == 0)
		return 0; /* nothing to decode (p may be NULL) */
	d.p = p;
	d.end = p + n;
	d.max_depth = lim && lim->max_depth ? lim->max_depth : DEFAULT_MAX_DEPTH;
	d.max_values = lim && lim->max_values ? lim->max_values : DEFAULT_MAX_VALUES;
	d.nvalues = 0;
	d.scr = d.scr_inline;
	d.nscr = 0;
	d.capscr = SCRATCH_INLINE;
	d.fr = d.fr_inline;
	d.nfr = 0;
	d.capfr = FRAMES_INLINE;
	/* The decoded tree of a typical command is about three times its size. */
	d.ar.head = NULL;
	d.ar.next_cap = n < (FIRST_BLOCK_MAX - FIRST_BLOCK_MIN) / 4 ?
	                FIRST_BLOCK_MIN + 4 * n : FIRST_BLOCK_MAX;

	int rc = decode_all(&d);
	if (rc == 0) {
		struct amf0_value **vals = arena_array(&d.ar, d.nscr, sizeof(*vals),
		                                       alignof(struct amf0_value *));
		for (size_t i = 0; i < d.nscr; i++)
			vals[i] = d.scr[i].value;
		out->vals = vals;
		out->count = d.nscr;
		out->arena = d.ar.head;
	} else {
		arena_free_chain(d.ar.head);
	}
	if (d.scr != d.scr_inline)
		free(d.scr);
	if (d.fr != d.fr_inline)
		free(d.fr);
	return rc;
}

void amf0_list_free(struct amf0_list *l)
{
	if (!l)
		return;
	arena_free_chain(l->arena);
	l->vals = NULL;
	l->count = 0;
	l->arena = NULL;
}

/* ---- lookups ---- */

const struct amf0_value *amf0_at(const struct amf0_list *l, size_t i)
{
	if (!l || i >= l->count)
		return NULL;
	return l->vals[i];
}

/* The first property with that key wins. */
const struct amf0_value *amf0_get(const struct amf0_value *obj, const char *key)
{
	if (!obj || !key || (obj->type != AMF0_OBJECT && obj->type != AMF0_ECMA_ARRAY))
		return NULL;
	size_t len = strlen(key);
	for (uint32_t i = 0; i < obj->u.obj.count; i++) {
		const struct amf0_prop *pr = &obj->u.obj.props[i];
		if (pr->key_len == len && memcmp(pr->key, key, len) == 0)
			return pr->value;
	}
	return NULL;
}

const char *amf0_str(const struct amf0_value *v)
{
	if (!v || v->type != AMF0_STRING)
		return NULL;
	return v->u.str.ptr;
}

int amf0_num(const struct amf0_value *v, double *out)
{
	if (!v || v->type != AMF0_NUMBER)
		return -1;
	*out = v->u.num;
	return 0;
}

int amf0_true(const struct amf0_value *v)
{
	return v && v->type == AMF0_BOOLEAN && v->u.boolean;
}

/* ---- encoder ---- */

static void put_double(struct bytes *b, uint8_t marker, double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	uint8_t *p = bytes_extend(b, 9);
	p[0] = marker;
	wr_u64be(p + 1, bits);
}

void amf0_put_number(struct bytes *b, double v)
{
	put_double(b, M_NUMBER, v);
}

void amf0_put_bool(struct bytes *b, int v)
{
	uint8_t *p = bytes_extend(b, 2);
	p[0] = M_BOOLEAN;
	p[1] = v ? 1 : 0;
}

void amf0_put_string_n(struct bytes *b, const char *s, size_t n)
{
	if (n <= UINT16_MAX) {
		uint8_t *p = bytes_extend(b, 3);
		p[0] = M_STRING;
		wr_u16be(p + 1, (uint16_t)n);
	} else {
		if (n > UINT32_MAX)
			abort(); /* not representable; callers bound what they send */
		uint8_t *p = bytes_extend(b, 5);
		p[0] = M_LONG_STRING;
		wr_u32be(p + 1, (uint32_t)n);
	}
	bytes_append(b, s, n);
}

void amf0_put_string(struct bytes *b, const char *s)
{
	amf0_put_string_n(b, s, strlen(s));
}

void amf0_put_null(struct bytes *b)
{
	bytes_put_u8(b, M_NULL);
}

void amf0_put_undefined(struct bytes *b)
{
	bytes_put_u8(b, M_UNDEFINED);
}

void amf0_put_object_start(struct bytes *b)
{
	bytes_put_u8(b, M_OBJECT);
}

void amf0_put_ecma_start(struct bytes *b, uint32_t count_hint)
{
	uint8_t *p = bytes_extend(b, 5);
	p[0] = M_ECMA_ARRAY;
	wr_u32be(p + 1, count_hint);
}

static void put_key_n(struct bytes *b, const char *key, size_t n)
{
	if (n > UINT16_MAX)
		abort(); /* keys are our own names or decoded ones, never this long */
	bytes_put_u16be(b, (uint16_t)n);
	bytes_append(b, key, n);
}

void amf0_put_key(struct bytes *b, const char *key)
{
	put_key_n(b, key, strlen(key));
}

void amf0_put_object_end(struct bytes *b)
{
	uint8_t *p = bytes_extend(b, 3);
	p[0] = 0;
	p[1] = 0;
	p[2] = M_OBJECT_END;
}

void amf0_put_prop_string(struct bytes *b, const char *key, const char *s)
{
	amf0_put_key(b, key);
	amf0_put_string(b, s);
}

void amf0_put_prop_number(struct bytes *b, const char *key, double v)
{
	amf0_put_key(b, key);
	amf0_put_number(b, v);
}

void amf0_put_prop_bool(struct bytes *b, const char *key, int v)
{
	amf0_put_key(b, key);
	amf0_put_bool(b, v);
}

/* Writes v, or for a container only its head; returns 1 for a container. */
static int put_head(struct bytes *b, const struct amf0_value *v)
{
	uint8_t *p;

	switch (v->type) {
	case AMF0_NUMBER:
		amf0_put_number(b, v->u.num);
		return 0;
	case AMF0_BOOLEAN:
		amf0_put_bool(b, v->u.boolean);
		return 0;
	case AMF0_STRING:
		amf0_put_string_n(b, v->u.str.ptr, v->u.str.len);
		return 0;
	case AMF0_NULL:
		amf0_put_null(b);
		return 0;
	case AMF0_UNDEFINED:
		amf0_put_undefined(b);
		return 0;
	case AMF0_DATE:
		put_double(b, M_DATE, v->u.num);
		bytes_put_u16be(b, 0);
		return 0;
	case AMF0_OBJECT:
		amf0_put_object_start(b);
		return 1;
	case AMF0_ECMA_ARRAY:
		amf0_put_ecma_start(b, v->u.obj.count);
		return 1;
	case AMF0_STRICT_ARRAY:
		p = bytes_extend(b, 5);
		p[0] = M_STRICT_ARRAY;
		wr_u32be(p + 1, v->u.arr.count);
		return 1;
	}
	abort(); /* not a type this module creates */
}

/* Iterative like the decoder, so any tree it produced can be written back. */
void amf0_put_value(struct bytes *b, const struct amf0_value *v)
{
	struct wframe {
		const struct amf0_value *v;
		uint32_t next;
	};
	struct wframe inl[FRAMES_INLINE];
	struct wframe *st = inl;
	size_t n = 0, cap = FRAMES_INLINE;

	if (!put_head(b, v))
		return;
	st[n++] = (struct wframe){ v, 0 };
	while (n) {
		struct wframe *f = &st[n - 1];
		const struct amf0_value *c = f->v, *child;

		if (c->type == AMF0_STRICT_ARRAY) {
			if (f->next == c->u.arr.count) {
				n--;
				continue;
			}
			child = c->u.arr.items[f->next++];
		} else {
			if (f->next == c->u.obj.count) {
				amf0_put_object_end(b);
				n--;
				continue;
			}
			const struct amf0_prop *pr = &c->u.obj.props[f->next++];
			put_key_n(b, pr->key, pr->key_len);
			child = pr->value;
		}
		if (!put_head(b, child))
			continue;
		if (n == cap)
			st = grow_stack(st, inl, &cap, sizeof(*st));
		st[n++] = (struct wframe){ child, 0 };
	}
	if (st != inl)
		free(st);
}
