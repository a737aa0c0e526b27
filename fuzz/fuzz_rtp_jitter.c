/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_rtp_jitter.c - libFuzzer target for the receive reorder buffer
 * (media/rtp_jitter.c): what a hostile or broken sender's sequence numbers
 * can make it do.
 *
 * The input is a run of 5-byte operations: [op][seq hi][seq lo][len][dt].
 * op % 4: 0-1 push a packet of len bytes whose first two bytes are its
 * sequence number, 2 pop, 3 ask for the missing numbers; dt advances the
 * clock.  Checked: a packet handed out carries the payload pushed for its
 * number; numbers come out rising (16-bit wrap-aware) between restarts; the
 * buffer never holds more than its capacity; the NACK list names numbers
 * not held, each within the window; everything is freed (ASan).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/rtp_jitter.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_jitter j;
	rtp_jitter_init(&j, 64, 50);
	uint64_t now = 0, resets = 0;
	int have_last = 0;
	uint16_t last = 0;
	uint8_t payload[256];
	for (size_t pos = 0; pos + 5 <= size; pos += 5) {
		const uint8_t *op = data + pos;
		uint16_t seq = (uint16_t)(op[1] << 8 | op[2]);
		now += op[4];
		switch (op[0] % 4) {
		case 0:
		case 1: {
			size_t len = op[3] < 2 ? 2 : op[3];
			memset(payload, 0x5a, len);
			payload[0] = (uint8_t)(seq >> 8);
			payload[1] = (uint8_t)seq;
			int rc = rtp_jitter_push(&j, seq, seq, op[0] & 1, payload, len, now);
			CHECK(rc == 0 || rc == 1);
			if (j.resets != resets) {
				resets = j.resets;
				have_last = 0; /* numbering started over */
			}
			break;
		}
		case 2: {
			struct rtp_jitter_pkt p;
			unsigned lost = 0;
			while (rtp_jitter_pop(&j, now, &p, &lost) == 1) {
				CHECK(p.len >= 2 && p.payload[0] == (uint8_t)(p.seq >> 8) &&
				      p.payload[1] == (uint8_t)p.seq);
				CHECK(p.ts == p.seq);
				if (have_last)
					CHECK((int16_t)(uint16_t)(p.seq - last) > 0);
				last = p.seq;
				have_last = 1;
				free(p.payload);
			}
			break;
		}
		default: {
			uint16_t miss[64];
			size_t n = rtp_jitter_missing(&j, now, miss, 64);
			CHECK(n <= 64);
			for (size_t i = 0; i < n; i++) {
				int d = (int16_t)(uint16_t)(miss[i] - j.next);
				CHECK(d >= 0 && d < (int)j.cap);
				CHECK(!j.slot[miss[i] & (j.cap - 1)].used);
			}
			break;
		}
		}
		CHECK(j.held <= j.cap);
	}
	rtp_jitter_free(&j);
	return 0;
}
