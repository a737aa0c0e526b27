/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_amf0.c - libFuzzer target for the AMF0 decoder and encoder.
 *
 * Decodes the input as one RTMP command or data message body.  On success
 * every value is written back with amf0_put_value; the re-encoding must
 * decode again to the same tree (numbers compared bit for bit), be no longer
 * than the input (the encoder only ever shortens: typed objects lose their
 * class name, long strings under 64 KiB become short ones) and re-encode to
 * the same bytes.  Decoding again under tighter limits may only fail with
 * SL_ELIMIT or the error the default limits gave.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/err.h"
#include "proto/amf0.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static void check_value(const struct amf0_value *v)
{
	switch (v->type) {
	case AMF0_STRING:
		CHECK(v->u.str.ptr != NULL && v->u.str.ptr[v->u.str.len] == '\0');
		CHECK(amf0_str(v) == v->u.str.ptr);
		break;
	case AMF0_OBJECT:
	case AMF0_ECMA_ARRAY:
		CHECK((v->u.obj.count == 0) == (v->u.obj.props == NULL));
		for (uint32_t i = 0; i < v->u.obj.count; i++) {
			const struct amf0_prop *p = &v->u.obj.props[i];
			CHECK(p->key != NULL && p->key[p->key_len] == '\0' && p->value);
			CHECK(p->key_len <= UINT16_MAX);
			check_value(p->value); /* depth is bounded by the limits */
		}
		break;
	case AMF0_STRICT_ARRAY:
		CHECK((v->u.arr.count == 0) == (v->u.arr.items == NULL));
		for (uint32_t i = 0; i < v->u.arr.count; i++)
			check_value(v->u.arr.items[i]);
		break;
	case AMF0_NUMBER:
	case AMF0_BOOLEAN:
	case AMF0_NULL:
	case AMF0_UNDEFINED:
	case AMF0_DATE:
		break;
	default:
		abort();
	}
}

static int same_double(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

static int same_value(const struct amf0_value *a, const struct amf0_value *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case AMF0_NUMBER:
	case AMF0_DATE:
		return same_double(a->u.num, b->u.num);
	case AMF0_BOOLEAN:
		return !a->u.boolean == !b->u.boolean;
	case AMF0_STRING:
		return a->u.str.len == b->u.str.len &&
		       memcmp(a->u.str.ptr, b->u.str.ptr, a->u.str.len) == 0;
	case AMF0_OBJECT:
	case AMF0_ECMA_ARRAY:
		if (a->u.obj.count != b->u.obj.count)
			return 0;
		for (uint32_t i = 0; i < a->u.obj.count; i++) {
			const struct amf0_prop *pa = &a->u.obj.props[i], *pb = &b->u.obj.props[i];
			if (pa->key_len != pb->key_len ||
			    memcmp(pa->key, pb->key, pa->key_len) != 0 ||
			    !same_value(pa->value, pb->value))
				return 0;
		}
		return 1;
	case AMF0_STRICT_ARRAY:
		if (a->u.arr.count != b->u.arr.count)
			return 0;
		for (uint32_t i = 0; i < a->u.arr.count; i++)
			if (!same_value(a->u.arr.items[i], b->u.arr.items[i]))
				return 0;
		return 1;
	default:
		return 1;
	}
}

static void encode(const struct amf0_list *l, struct bytes *b)
{
	for (size_t i = 0; i < l->count; i++)
		amf0_put_value(b, amf0_at(l, i));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct amf0_limits tight = { .max_depth = 3, .max_values = 64 };
	struct amf0_list l, l2, lt;
	struct bytes e1, e2;

	int rc = amf0_decode(data, size, NULL, &l);
	CHECK(rc == 0 || rc == SL_EPROTO || rc == SL_ELIMIT || rc == SL_EUNSUPP);

	int rct = amf0_decode(data, size, &tight, &lt);
	CHECK(rct == rc || rct == SL_ELIMIT);
	if (rc == SL_ELIMIT)
		CHECK(rct == SL_ELIMIT);
	amf0_list_free(&lt);

	if (rc != 0) {
		CHECK(l.count == 0 && l.vals == NULL && l.arena == NULL);
		return 0;
	}
	CHECK(l.count <= size);
	for (size_t i = 0; i < l.count; i++)
		check_value(amf0_at(&l, i));
	CHECK(amf0_at(&l, l.count) == NULL);

	bytes_init(&e1);
	encode(&l, &e1);
	CHECK(e1.len <= size);
	CHECK(amf0_decode(e1.data, e1.len, NULL, &l2) == 0);
	CHECK(l2.count == l.count);
	for (size_t i = 0; i < l.count; i++)
		CHECK(same_value(amf0_at(&l, i), amf0_at(&l2, i)));

	bytes_init(&e2);
	encode(&l2, &e2);
	CHECK(e2.len == e1.len && (e1.len == 0 || memcmp(e1.data, e2.data, e1.len) == 0));

	bytes_free(&e2);
	bytes_free(&e1);
	amf0_list_free(&l2);
	amf0_list_free(&l);
	return 0;
}
