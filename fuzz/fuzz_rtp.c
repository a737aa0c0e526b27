/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_rtp.c - libFuzzer target for the RTP header parser.
 *
 * Checked: a parsed packet's header, payload and padding add up to the
 * input exactly, every pointer lies inside it, and writing the parsed
 * header back gives the input's header bytes unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "proto/rtp.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_header h;
	int rc = rtp_parse(data, size, &h);
	CHECK(rc == 0 || rc == SL_EPROTO);
	if (rc != 0)
		return 0;
	CHECK(h.version == 2 && h.payload_type < 128 && h.csrc_count <= RTP_MAX_CSRC);
	CHECK(h.header_len + h.payload_len + h.pad_len == size);
	CHECK(h.payload == data + h.header_len);
	CHECK(h.padding ? h.pad_len >= 1 : h.pad_len == 0);
	if (h.extension)
		CHECK(h.ext_len % 4 == 0 && h.ext + h.ext_len == h.payload);

	uint8_t out[RTP_HEADER_SIZE + 4 * RTP_MAX_CSRC + 4 + 4 * 0xffff];
	int n = rtp_write_header(out, sizeof(out), &h);
	CHECK(n >= 0 && (size_t)n == h.header_len);
	CHECK(memcmp(out, data, h.header_len) == 0);
	return 0;
}
