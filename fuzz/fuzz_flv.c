/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_flv.c - libFuzzer target for FLV framing and tag bodies.
 *
 * Walks the input as an FLV file: the file header, then tag after tag until
 * one is incomplete or refused, parsing every audio/video body and any
 * AVC or AAC sequence header with the avc/aac parsers, as the FLV reader
 * and the RTMP publisher path would.  An input that is not an FLV file is
 * parsed as one RTMP audio and one video message body instead.  Checked:
 * every pointer handed back lies inside its input, tag sizes add up, the
 * headers the writers produce match what was parsed, the same tag parses
 * the same with bytes behind it, and a tag one byte short is SL_EAGAIN.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "proto/aac.h"
#include "proto/avc.h"
#include "proto/flv.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define MAX_TAG (1u << 20)

static int inside(const void *ptr, size_t len, const uint8_t *p, size_t n)
{
	const uint8_t *q = ptr;
	return q != NULL && q >= p && len <= n && (size_t)(q - p) <= n - len;
}

static void check_avc_config(const uint8_t *p, size_t n)
{
	struct avc_config c;

	if (avc_parse_config(p, n, &c) != 0)
		return;
	CHECK(c.nal_length_size == 1 || c.nal_length_size == 2 || c.nal_length_size == 4);
	CHECK(c.nsps <= AVC_MAX_PARAM_SETS && c.npps <= AVC_MAX_PARAM_SETS);
	for (unsigned i = 0; i < c.nsps; i++)
		CHECK(c.sps_len[i] > 0 && inside(c.sps[i], c.sps_len[i], p, n));
	for (unsigned i = 0; i < c.npps; i++)
		CHECK(c.pps_len[i] > 0 && inside(c.pps[i], c.pps_len[i], p, n));
	if (c.has_sps_info) {
		CHECK(c.first_sps.width >= 1 && c.first_sps.width <= 16384);
		CHECK(c.first_sps.height >= 1 && c.first_sps.height <= 16384);
	}
}

static void check_aac_config(const uint8_t *p, size_t n)
{
	struct aac_config c;
	uint8_t adts[AAC_ADTS_HEADER_SIZE];

	if (aac_parse_asc(p, n, &c) != 0)
		return;
	CHECK(c.sample_rate > 0);
	if (aac_write_adts(adts, &c, 100) == 0)
		CHECK(adts[0] == 0xff && adts[1] == 0xf1);
}

static void check_video(const uint8_t *p, size_t n)
{
	struct flv_video v;

	if (flv_parse_video(p, n, &v) != 0)
		return;
	CHECK(v.len == 0 || inside(v.data, v.len, p, n));
	CHECK(v.data == NULL || v.data + v.len == p + n);
	/* Metadata ignores the frame type, so any 3-bit value comes back there. */
	CHECK(v.frame_type <= (v.enhanced && v.packet_type == 4 ? 7 : FLV_FRAME_INFO));
	CHECK(v.cts >= -0x800000 && v.cts <= 0x7fffff);
	CHECK(!(v.is_frame && v.is_seq_header) && !(v.is_frame && v.is_seq_end));
	if (v.frame_type == FLV_FRAME_INFO && (!v.enhanced || v.packet_type != 4))
		CHECK(!v.is_frame);
	CHECK(v.enhanced ? v.codec_id == 0 : v.fourcc == 0);
	CHECK(flv_codec_name(v.codec)[0] != '\0');
	if (v.is_seq_header && v.codec == FLV_CODEC_H264)
		check_avc_config(v.data, v.len);
}

static void check_audio(const uint8_t *p, size_t n)
{
	struct flv_audio a;

	if (flv_parse_audio(p, n, &a) != 0)
		return;
	CHECK(a.len == 0 || inside(a.data, a.len, p, n));
	CHECK(a.data + a.len == p + n);
	CHECK(a.rate_index <= 3 && a.sample_size <= 1 && a.stereo <= 1);
	CHECK(!a.is_seq_header || a.codec == FLV_CODEC_AAC);
	CHECK(flv_codec_name(a.codec)[0] != '\0');
	if (a.is_seq_header)
		check_aac_config(a.data, a.len);
}

static void check_tag(const uint8_t *p, size_t n, int used, const struct flv_tag *t)
{
	uint8_t hdr[FLV_TAG_HEADER_SIZE];
	struct flv_tag again;

	CHECK((size_t)used == FLV_TAG_HEADER_SIZE + t->size + FLV_TAG_TRAILER_SIZE);
	CHECK((size_t)used <= n && t->size <= MAX_TAG);
	CHECK(t->type < 32 && t->body == p + FLV_TAG_HEADER_SIZE);
	/* The writer reproduces the header, bar the reserved bits and stream id. */
	flv_write_tag_header(hdr, t->type, t->size, t->ts);
	CHECK(hdr[0] == (p[0] & 0x1f) && memcmp(hdr + 1, p + 1, 7) == 0);
	/* Exactly the tag parses the same; a byte less is not there yet. */
	CHECK(flv_parse_tag(p, (size_t)used, MAX_TAG, &again) == used);
	CHECK(again.ts == t->ts && again.size == t->size && again.type == t->type);
	CHECK(flv_parse_tag(p, (size_t)used - 1, MAX_TAG, &again) == SL_EAGAIN);
	/* A limit just under the size is refused. */
	if (t->size > 0)
		CHECK(flv_parse_tag(p, n, t->size - 1, &again) == SL_ELIMIT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int has_audio, has_video;
	int rc = flv_parse_file_header(data, size, &has_audio, &has_video);

	if (rc <= 0) {
		check_video(data, size);
		check_audio(data, size);
		return 0;
	}
	CHECK(rc >= FLV_FILE_HEADER_SIZE && (size_t)rc <= size);
	if (rc == FLV_FILE_HEADER_SIZE) {
		uint8_t hdr[FLV_FILE_HEADER_SIZE];
		flv_write_file_header(hdr, has_audio, has_video);
		CHECK(memcmp(hdr, data, 4) == 0 && hdr[4] == (data[4] & 0x05));
		CHECK(memcmp(hdr + 5, data + 5, 8) == 0);
	}

	size_t off = (size_t)rc;
	while (off < size) {
		struct flv_tag t;
		const uint8_t *p = data + off;
		size_t n = size - off;

		rc = flv_parse_tag(p, n, MAX_TAG, &t);
		if (rc <= 0)
			break;
		check_tag(p, n, rc, &t);
		if (t.type == FLV_TAG_VIDEO)
			check_video(t.body, t.size);
		else if (t.type == FLV_TAG_AUDIO)
			check_audio(t.body, t.size);
		off += (size_t)rc;
	}
	return 0;
}
