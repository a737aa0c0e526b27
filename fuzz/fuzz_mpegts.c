/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_mpegts.c - libFuzzer target for the transport stream demuxer.
 *
 * The input is fed twice: whole, and split at a point taken from its first
 * byte; both runs must deliver the same frames (the demuxer may not care
 * how the network cut the bytes).  Every frame must be well formed: an AVC
 * frame is a list of 4-byte-length NAL units that adds up exactly, a config
 * comes before any frame of its kind, and no PES packet passes the cap.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/bytes.h"
#include "core/err.h"
#include "proto/mpegts.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define MAX_PES 65536

struct seen {
	uint64_t frames, bytes, hash;
	int avc_config, aac_config;
};

static void on_frame(void *arg, const struct mpegts_frame *f)
{
	struct seen *s = arg;
	CHECK(f->len <= MAX_PES);
	s->frames++;
	s->bytes += f->len;
	for (size_t i = 0; i < f->len; i++)
		s->hash = s->hash * 31 + f->data[i];
	s->hash = s->hash * 31 + f->dts_ms + (uint64_t)f->kind;
	switch (f->kind) {
	case MPEGTS_AVC_CONFIG:
		CHECK(f->len >= 11 && f->data[0] == 1);
		s->avc_config = 1;
		break;
	case MPEGTS_AAC_CONFIG:
		CHECK(f->len == 2);
		s->aac_config = 1;
		break;
	case MPEGTS_AVC_FRAME: {
		CHECK(s->avc_config);
		size_t i = 0;
		while (i < f->len) {
			CHECK(f->len - i >= 5);
			size_t n = rd_u32be(f->data + i);
			CHECK(n >= 1 && n <= f->len - i - 4);
			i += 4 + n;
		}
		break;
	}
	case MPEGTS_AAC_FRAME:
		CHECK(s->aac_config && f->len > 0);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen a = { 0 }, b = { 0 };
	struct mpegts_demux d;

	mpegts_demux_init(&d, MAX_PES, on_frame, &a);
	int rc1 = mpegts_demux_feed(&d, data, size);
	CHECK(rc1 == 0 || rc1 == SL_EUNSUPP);
	mpegts_demux_flush(&d);
	mpegts_demux_free(&d);

	size_t cut = size ? (size_t)data[0] * 7 % (size + 1) : 0;
	mpegts_demux_init(&d, MAX_PES, on_frame, &b);
	int rc2 = mpegts_demux_feed(&d, data, cut);
	CHECK(rc2 == 0 || rc2 == SL_EUNSUPP);
	rc2 = mpegts_demux_feed(&d, data + cut, size - cut);
	CHECK(rc2 == rc1);
	mpegts_demux_flush(&d);
	mpegts_demux_free(&d);

	CHECK(a.frames == b.frames && a.bytes == b.bytes && a.hash == b.hash);
	return 0;
}
