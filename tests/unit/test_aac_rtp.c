/* SPDX-License-Identifier: Apache-2.0 */
/* test_aac_rtp.c - RFC 3640 AAC-hbr: packets out, frames back, fragments, losses, refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "proto/aac_rtp.h"

struct got {
	uint8_t data[8192];
	size_t len[8];
	uint32_t ts[8];
	unsigned n;
};

static void on_frame(void *arg, const uint8_t *f, size_t n, uint32_t ts)
{
	struct got *g = arg;
	if (g->n < 8) {
		memcpy(g->data, f, n);
		g->len[g->n] = n;
		g->ts[g->n] = ts;
	}
	g->n++;
}

static void test_roundtrip(void **state)
{
	(void)state;
	uint8_t au[300], pkt[1400];
	for (size_t i = 0; i < sizeof(au); i++)
		au[i] = (uint8_t)i;
	int last = 0;
	int n = aac_rtp_pack(au, sizeof(au), 0, pkt, sizeof(pkt), &last);
	assert_int_equal(n, 4 + 300);
	assert_true(last);
	assert_int_equal(pkt[1], 16);
	assert_int_equal(aac_rtp_pack(au, sizeof(au), 1, pkt, sizeof(pkt), &last), 0);
	struct aac_rtp_params p;
	aac_rtp_params_hbr(&p);
	uint8_t buf[2048];
	struct aac_rtp_depack d;
	aac_rtp_depack_init(&d, &p, buf, sizeof(buf));
	struct got g = { .n = 0 };
	assert_int_equal(aac_rtp_depack_push(&d, pkt, (size_t)n, 1, 1000, 1, on_frame, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.len[0], 300);
	assert_memory_equal(g.data, au, 300);
	assert_int_equal(g.ts[0], 1000);
}

static void test_fragments(void **state)
{
	(void)state;
	uint8_t au[3000], pkt[1000];
	for (size_t i = 0; i < sizeof(au); i++)
		au[i] = (uint8_t)(i * 7);
	struct aac_rtp_params p;
	aac_rtp_params_hbr(&p);
	uint8_t buf[4096];
	struct aac_rtp_depack d;
	aac_rtp_depack_init(&d, &p, buf, sizeof(buf));
	struct got g = { .n = 0 };
	int last = 0, n;
	uint16_t seq = 100;
	for (unsigned f = 0; !last && (n = aac_rtp_pack(au, sizeof(au), f, pkt, sizeof(pkt), &last)) > 0;
	     f++)
		assert_int_equal(aac_rtp_depack_push(&d, pkt, (size_t)n, seq++, 5, last, on_frame, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.len[0], 3000);
	assert_memory_equal(g.data, au, 3000);
	/* A lost middle fragment drops the frame, and the next one is whole again. */
	g.n = 0;
	last = 0;
	for (unsigned f = 0; !last && (n = aac_rtp_pack(au, sizeof(au), f, pkt, sizeof(pkt), &last)) > 0;
	     f++) {
		if (f == 1) {
			seq++;
			continue;
		}
		aac_rtp_depack_push(&d, pkt, (size_t)n, seq++, 6, last, on_frame, &g);
	}
	assert_int_equal(g.n, 0);
	assert_true(d.dropped >= 1);
	n = aac_rtp_pack(au, 100, 0, pkt, sizeof(pkt), &last);
	assert_int_equal(aac_rtp_depack_push(&d, pkt, (size_t)n, seq++, 7, 1, on_frame, &g), 0);
	assert_int_equal(g.n, 1);
	/* A fragmented frame larger than the buffer is refused. */
	uint8_t small[64];
	aac_rtp_depack_init(&d, &p, small, sizeof(small));
	n = aac_rtp_pack(au, sizeof(au), 0, pkt, sizeof(pkt), &last);
	assert_int_equal(aac_rtp_depack_push(&d, pkt, (size_t)n, 1, 8, 0, on_frame, &g), SL_ELIMIT);
}

static void test_several_aus(void **state)
{
	(void)state;
	/* Two AUs in one payload: headers 2 x 16 bits, sizes 3 and 2. */
	uint8_t pkt[] = { 0, 32, 0, 3 << 3, 0, 2 << 3, 'a', 'b', 'c', 'd', 'e' };
	struct aac_rtp_params p;
	aac_rtp_params_hbr(&p);
	uint8_t buf[64];
	struct aac_rtp_depack d;
	aac_rtp_depack_init(&d, &p, buf, sizeof(buf));
	struct got g = { .n = 0 };
	assert_int_equal(aac_rtp_depack_push(&d, pkt, sizeof(pkt), 1, 2000, 1, on_frame, &g), 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.len[0], 3);
	assert_int_equal(g.len[1], 2);
	assert_int_equal(g.ts[1], 2000 + 1024);
	/* Sizes past the data, header lengths past the payload, nothing at all. */
	uint8_t bad1[] = { 0, 16, 0, 9 << 3, 'a' , 'b' };
	uint8_t bad2[] = { 0, 200, 0, 0 };
	uint8_t bad3[] = { 0, 0, 1 };
	g.n = 0;
	assert_int_equal(aac_rtp_depack_push(&d, bad1, sizeof(bad1), 2, 1, 1, on_frame, &g), 0);
	assert_int_equal(g.n, 0);   /* taken as the first fragment of a 9-byte AU */
	assert_int_equal(aac_rtp_depack_push(&d, bad2, sizeof(bad2), 3, 1, 1, on_frame, &g), SL_EPROTO);
	assert_int_equal(aac_rtp_depack_push(&d, bad3, sizeof(bad3), 4, 1, 1, on_frame, &g), SL_EPROTO);
	assert_int_equal(aac_rtp_depack_push(&d, bad3, 1, 5, 1, 1, on_frame, &g), SL_EPROTO);
	assert_int_equal(g.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_several_aus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
