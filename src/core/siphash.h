/* SPDX-License-Identifier: Apache-2.0 */
/*
 * siphash.h - SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash.
 *
 * Hash tables keyed by names a peer chooses (stream names, addresses) use it with a
 * random key, so nobody outside the process can pick names that all land in one slot.
 */
#ifndef SLUICE_CORE_SIPHASH_H
#define SLUICE_CORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash_key {
	uint64_t k0, k1;
};

uint64_t siphash24(const struct siphash_key *key, const void *data, size_t len);

#endif
