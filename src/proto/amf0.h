/* SPDX-License-Identifier: Apache-2.0 */
/*
 * amf0.h - AMF0 encoding and decoding (RTMP commands and script data).
 *
 * Decoding turns untrusted bytes into a tree of values held in one arena
 * owned by a struct amf0_list; nesting depth and the total number of values
 * are bounded, so a hostile message costs at most O(input) memory and can
 * never recurse without limit.  Strings are copied into the arena and are
 * NUL-terminated (their length is kept too: AMF strings may hold NULs).
 *
 * Encoding appends to a struct bytes.
 */
#ifndef SLUICE_PROTO_AMF0_H
#define SLUICE_PROTO_AMF0_H

#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"

enum amf0_type {
	AMF0_NUMBER = 0x00,
	AMF0_BOOLEAN = 0x01,
	AMF0_STRING = 0x02,      /* also long string (0x0c) and XML document (0x0f) */
	AMF0_OBJECT = 0x03,      /* also typed object (0x10): class name dropped */
	AMF0_NULL = 0x05,
	AMF0_UNDEFINED = 0x06,
	AMF0_ECMA_ARRAY = 0x08,
	AMF0_STRICT_ARRAY = 0x0a,
	AMF0_DATE = 0x0b,
};

struct amf0_value;

struct amf0_prop {
	const char *key;         /* NUL-terminated, in the arena */
	uint32_t key_len;
	struct amf0_value *value;
};

struct amf0_value {
	enum amf0_type type;
	union {
		double num;      /* NUMBER; DATE: ms since the epoch */
		int boolean;
		struct {
			const char *ptr; /* NUL-terminated, in the arena */
			uint32_t len;
		} str;
		struct {         /* OBJECT, ECMA_ARRAY */
			struct amf0_prop *props;
			uint32_t count;
		} obj;
		struct {         /* STRICT_ARRAY */
			struct amf0_value **items;
			uint32_t count;
		} arr;
	} u;
};

struct amf0_limits {
	unsigned max_depth;      /* nesting of objects/arrays; 0 means 32 */
	unsigned max_values;     /* every value and property counts; 0 means 65536 */
};

/* The top-level values of one message, and the arena that holds them. */
struct amf0_list {
	struct amf0_value **vals;
	size_t count;
	void *arena;             /* private */
};

/*
 * Decodes every top-level value in p[0..n).  Returns 0 and fills *out (free
 * it with amf0_list_free), or SL_EPROTO for malformed or truncated input,
 * SL_ELIMIT when depth or value count is exceeded, SL_EUNSUPP for types we
 * do not accept (reference 0x07, AMF3 switch 0x11, movieclip, recordset).
 * On error *out is left empty (nothing to free, but freeing is harmless).
 */
int amf0_decode(const uint8_t *p, size_t n, const struct amf0_limits *lim,
                struct amf0_list *out);
void amf0_list_free(struct amf0_list *l);

/* The i-th top-level value, or NULL past the end. */
const struct amf0_value *amf0_at(const struct amf0_list *l, size_t i);
/* Property of an OBJECT or ECMA_ARRAY by key, or NULL. */
const struct amf0_value *amf0_get(const struct amf0_value *obj, const char *key);
/* The string of a STRING value, or NULL if v is NULL or not a string. */
const char *amf0_str(const struct amf0_value *v);
/* Writes the number of a NUMBER value to *out; returns 0, or -1 if not a number. */
int amf0_num(const struct amf0_value *v, double *out);
/* Nonzero when v is a BOOLEAN true. */
int amf0_true(const struct amf0_value *v);

/* Encoding.  Strings longer than 65535 bytes are written as long strings. */
void amf0_put_number(struct bytes *b, double v);
void amf0_put_bool(struct bytes *b, int v);
void amf0_put_string(struct bytes *b, const char *s);
void amf0_put_string_n(struct bytes *b, const char *s, size_t n);
void amf0_put_null(struct bytes *b);
void amf0_put_undefined(struct bytes *b);
void amf0_put_object_start(struct bytes *b);
void amf0_put_ecma_start(struct bytes *b, uint32_t count_hint);
/* A property key inside an object or ECMA array; follow it with one value. */
void amf0_put_key(struct bytes *b, const char *key);
/* Ends an object or ECMA array (the 00 00 09 marker). */
void amf0_put_object_end(struct bytes *b);
/* Shorthands for key + value. */
void amf0_put_prop_string(struct bytes *b, const char *key, const char *s);
void amf0_put_prop_number(struct bytes *b, const char *key, double v);
void amf0_put_prop_bool(struct bytes *b, const char *key, int v);
/* Re-encodes a decoded value (round trip). */
void amf0_put_value(struct bytes *b, const struct amf0_value *v);

#endif
