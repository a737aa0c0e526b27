/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_aac_rtp.c - libFuzzer target for the RFC 3640 AAC depacketizer and a
 * packetize -> depacketize round trip.
 *
 * Byte 0 picks the mode.  Even: byte 1 the AU size length (1..16), byte 2
 * the index lengths, then a run of payloads, each [length (16 bits)]
 * [flags: 1 marker, 2 new timestamp, 4 a lost packet before it][payload]:
 * every frame handed out lies inside the payload or the reassembly buffer.
 * Odd: byte 1 the packet size (5 + 8 * b), the rest one frame; packetized
 * and depacketized, it comes back whole.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/err.h"
#include "proto/aac_rtp.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t buf[4096];
static const uint8_t *cur;
static size_t cur_len;
static size_t frames, back_len;
static uint8_t back[8192];

static void on_frame(void *arg, const uint8_t *f, size_t n, uint32_t ts)
{
	(void)arg;
	(void)ts;
	int in_payload = f >= cur && f + n <= cur + cur_len;
	int in_buf = f >= buf && f + n <= buf + sizeof(buf);
	CHECK(in_payload || in_buf);
	if (n <= sizeof(back)) {
		memcpy(back, f, n);
		back_len = n;
	}
	frames++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	struct aac_rtp_depack d;
	struct aac_rtp_params p;
	frames = 0;
	if (data[0] % 2 == 0) {
		p.size_length = (uint8_t)(data[1] % 16 + 1);
		p.index_length = (uint8_t)(data[2] % 8);
		p.index_delta_length = (uint8_t)(data[2] / 8 % 8);
		aac_rtp_depack_init(&d, &p, buf, sizeof(buf));
		uint16_t seq = 7;
		uint32_t ts = 0;
		size_t pos = 3;
		while (size - pos >= 3) {
			size_t len = rd_u16be(data + pos);
			uint8_t flags = data[pos + 2];
			pos += 3;
			if (len > size - pos)
				len = size - pos;
			if (flags & 2)
				ts += 1024;
			if (flags & 4)
				seq++;
			cur = data + pos;
			cur_len = len;
			int r = aac_rtp_depack_push(&d, cur, len, seq++, ts, flags & 1, on_frame, NULL);
			CHECK(r == 0 || r == SL_EPROTO || r == SL_ELIMIT);
			CHECK(d.len <= d.cap && d.want <= 65535);
			pos += len;
		}
		return 0;
	}
	size_t cap = 5 + 8 * (size_t)data[1];
	const uint8_t *au = data + 2;
	size_t n = size - 2;
	if (n > 8191)
		return 0;
	aac_rtp_params_hbr(&p);
	aac_rtp_depack_init(&d, &p, buf, sizeof(buf));
	static uint8_t pkt[5 + 8 * 255];
	int last = 0, r;
	uint16_t seq = 1;
	back_len = 0;
	for (unsigned f = 0; !last && (r = aac_rtp_pack(au, n, f, pkt, cap, &last)) > 0; f++) {
		CHECK((size_t)r <= cap);
		cur = pkt;
		cur_len = (size_t)r;
		aac_rtp_depack_push(&d, pkt, (size_t)r, seq++, 90, last, on_frame, NULL);
	}
	if (n <= sizeof(buf)) {
		CHECK(frames == 1 && back_len == n);
		CHECK(memcmp(back, au, n) == 0);
	}
	return 0;
}
