/* SPDX-License-Identifier: Apache-2.0 */
/* test_siphash.c - SipHash-2-4 against the paper's test vectors, and the map's use of it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/siphash.h"
#include "core/strmap.h"

/* Key 00 01 .. 0f; message 00 01 .. (n-1), from the paper's appendix. */
static uint64_t vector_hash(size_t n)
{
	struct siphash_key key = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
	unsigned char msg[64] = {0};
	for (size_t i = 0; i < n; i++)
		msg[i] = (unsigned char)i;
	return siphash24(&key, msg, n);
}

static void test_reference_vectors(void **state)
{
	(void)state;
	assert_true(vector_hash(0) == 0x726fdb47dd0e0e31ull);
	assert_true(vector_hash(15) == 0xa129ca6149be45e5ull);
}

/* Every length from 0 to 63 gives a different value: the tail and length byte both count. */
static void test_lengths_differ(void **state)
{
	(void)state;
	uint64_t seen[64];
	for (size_t n = 0; n < 64; n++) {
		seen[n] = vector_hash(n);
		for (size_t j = 0; j < n; j++)
			assert_true(seen[j] != seen[n]);
	}
}

/* Two maps draw different keys, so the same names land in a different order in each: what
 * collides in one process (or one map) tells a peer nothing about another. */
static void test_maps_are_seeded_apart(void **state)
{
	(void)state;
	struct strmap a, b;
	strmap_init(&a);
	strmap_init(&b);
	char key[32];
	for (uintptr_t i = 1; i <= 8; i++) {
		snprintf(key, sizeof(key), "live/s%lu", (unsigned long)i);
		strmap_put(&a, key, (void *)i);
		strmap_put(&b, key, (void *)i);
	}
	assert_true(a.seed.k0 != b.seed.k0 || a.seed.k1 != b.seed.k1);
	int same_order = 1;
	size_t ia = 0, ib = 0;
	void *va, *vb;
	while (strmap_next(&a, &ia, NULL, &va) && strmap_next(&b, &ib, NULL, &vb))
		if (va != vb)
			same_order = 0;
	assert_false(same_order); /* 1 in 8! that two random keys agree; never seen */
	strmap_free(&a);
	strmap_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_vectors),
		cmocka_unit_test(test_lengths_differ),
		cmocka_unit_test(test_maps_are_seeded_apart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
