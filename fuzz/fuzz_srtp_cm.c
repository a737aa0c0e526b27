/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_srtp_cm.c - libFuzzer target for the SRTP receiving half (srtp_cm_unprotect).
 *
 * Checked: arbitrary bytes are refused (SL_EPROTO, SL_EAUTH) or, should a tag ever match,
 * give a length inside the input; a refused packet is left unchanged.  And when the input
 * parses as RTP, protecting it and unprotecting the result gives it back exactly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "proto/rtp.h"
#include "proto/srtp_cm.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[30] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Fresh contexts per input: the numbering they keep would make a run depend on the
	 * inputs before it. */
	struct srtp_cm tx, rx;
	if (size > 4096)
		return 0;
	CHECK(srtp_cm_init(&tx, key, key + 16) == 0 && srtp_cm_init(&rx, key, key + 16) == 0);
	uint8_t buf[4096 + SRTP_CM_TAG_LEN];
	memcpy(buf, data, size);
	int rc = srtp_cm_unprotect(&rx, buf, size);
	CHECK(rc == SL_EPROTO || rc == SL_EAUTH || (rc >= 0 && (size_t)rc + SRTP_CM_TAG_LEN == size));
	if (rc < 0)
		CHECK(memcmp(buf, data, size) == 0);

	struct rtp_header h;
	if (rtp_parse(data, size, &h) == 0 && !h.padding) {
		memcpy(buf, data, size);
		int n = srtp_cm_protect(&tx, buf, size, sizeof(buf));
		CHECK(n == (int)(size + SRTP_CM_TAG_LEN));
		CHECK(srtp_cm_unprotect(&rx, buf, (size_t)n) == (int)size);
		CHECK(memcmp(buf, data, size) == 0);
	}
	srtp_cm_free(&tx);
	srtp_cm_free(&rx);
	return 0;
}
