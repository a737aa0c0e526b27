/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_rtp_time.c - libFuzzer target for what a publisher's RTP timestamps
 * drive in RTSP and WHIP ingest: rtp_time_extend (proto/rtp.h: 32-bit RTP
 * time made stream time, with a rebase past RTP_TIME_MAX_STEP_S) and
 * rtp_dts (proto/rtp_dts.h: decode times from presentation times).
 *
 * Input: [clock][depth] then 4-byte big-endian RTP timestamps.  Checked: no
 * step of extended time exceeds RTP_TIME_MAX_STEP_S of the clock (a rebase
 * is said when one would), and decode times rise strictly (wrap-aware, as
 * the caller's 32-bit milliseconds do); UBSan catches overflow in the math.
 */
#include <stdint.h>
#include <stdlib.h>

#include "proto/rtp.h"
#include "proto/rtp_dts.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	static const uint32_t clocks[] = { 90000, 48000, 44100, 8000, 1000, 1 };
	uint32_t clock = clocks[data[0] % (sizeof(clocks) / sizeof(clocks[0]))];
	struct rtp_dts d;
	rtp_dts_init(&d, data[1] % (RTP_DTS_MAX_DEPTH + 1));
	int64_t ext = 0;
	uint32_t prev = 0;
	int have = 0, have_dts = 0;
	uint32_t last_dts = 0;
	for (size_t pos = 2; pos + 4 <= size; pos += 4) {
		uint32_t ts = (uint32_t)data[pos] << 24 | (uint32_t)data[pos + 1] << 16 |
		              (uint32_t)data[pos + 2] << 8 | data[pos + 3];
		int64_t before = ext;
		int rebased = have ? rtp_time_extend(&ext, &prev, ts, clock) : 0;
		if (!have) {
			prev = ts;
			have = 1;
		}
		int64_t step = ext - before;
		CHECK(rebased || (step <= (int64_t)RTP_TIME_MAX_STEP_S * clock &&
		                  step >= -(int64_t)RTP_TIME_MAX_STEP_S * clock));
		uint32_t ms = (uint32_t)(ext / clock * 1000 + ext % clock * 1000 / clock);
		uint32_t dts = rtp_dts_next(&d, ms);
		CHECK(!have_dts || (int32_t)(dts - last_dts) > 0);
		last_dts = dts;
		have_dts = 1;
	}
	return 0;
}
