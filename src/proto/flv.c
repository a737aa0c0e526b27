/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flv.c - FLV file/tag framing and the audio/video tag headers.
 *
 * The same tag-body parsers serve RTMP (whose audio/video messages are FLV
 * tag bodies) and FLV files, so they trust nothing: every length is checked
 * against the input.  Video covers the legacy VideoTagHeader (AVC, plus the
 * widespread unofficial HEVC codec id 12) and the Enhanced RTMP
 * ExVideoTagHeader (veovera enhanced-rtmp v1/v2): IsExHeader bit, 3-bit
 * frame type, VideoPacketType and a FourCC.
 */
#include "proto/flv.h"

#include <string.h>

#include "core/bytes.h"
#include "core/err.h"

/* A header longer than 9 bytes is legal but never written; cap what we skip. */
#define FLV_MAX_DATA_OFFSET 1024

#define FOURCC(a, b, c, d) \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

enum {
	LEGACY_CODEC_AVC = 7,
	LEGACY_CODEC_HEVC = 12,  /* Chinese CDN extension, not in any spec */
	SOUND_FORMAT_MP3 = 2,
	SOUND_FORMAT_EX_HEADER = 9,
	SOUND_FORMAT_AAC = 10,
	SOUND_FORMAT_MP3_8K = 14,
};

enum {
	EX_SEQUENCE_START = 0,
	EX_CODED_FRAMES = 1,
	EX_SEQUENCE_END = 2,
	EX_CODED_FRAMES_X = 3,
	EX_METADATA = 4,
	EX_MPEG2TS_SEQUENCE_START = 5,
	EX_MULTITRACK = 6,
	EX_MODEX = 7,
};

void flv_write_file_header(uint8_t out[FLV_FILE_HEADER_SIZE], int has_audio, int has_video)
{
	out[0] = 'F';
	out[1] = 'L';
	out[2] = 'V';
	out[3] = 1;
	out[4] = (uint8_t)((has_audio ? 0x04 : 0) | (has_video ? 0x01 : 0));
	wr_u32be(out + 5, 9);
	wr_u32be(out + 9, 0);
}

void flv_write_tag_header(uint8_t out[FLV_TAG_HEADER_SIZE], uint8_t type,
                          uint32_t data_size, uint32_t ts_ms)
{
	out[0] = type;
	wr_u24be(out + 1, data_size & 0xffffff);
	wr_u24be(out + 4, ts_ms & 0xffffff);
	out[7] = (uint8_t)(ts_ms >> 24);
	wr_u24be(out + 8, 0);
}

int flv_parse_file_header(const uint8_t *p, size_t n, int *has_audio, int *has_video)
{
	static const uint8_t sig[3] = { 'F', 'L', 'V' };
	size_t have = n < sizeof(sig) ? n : sizeof(sig);

	/* Reject a non-FLV stream from its first byte rather than waiting. */
	if (have > 0 && memcmp(p, sig, have) != 0)
		return SL_EPROTO;
	if (n < 9)
		return SL_EAGAIN;
	if (p[3] != 1)
		return SL_EPROTO;
	uint32_t off = rd_u32be(p + 5);
	if (off < 9 || off > FLV_MAX_DATA_OFFSET)
		return SL_EPROTO;
	if (n < (size_t)off + 4)
		return SL_EAGAIN;
	if (rd_u32be(p + off) != 0)
		return SL_EPROTO;
	if (has_audio)
		*has_audio = (p[4] & 0x04) != 0;
	if (has_video)
		*has_video = (p[4] & 0x01) != 0;
	return (int)off + 4;
}

int flv_parse_tag(const uint8_t *p, size_t n, uint32_t max_size, struct flv_tag *out)
{
	if (n < FLV_TAG_HEADER_SIZE)
		return SL_EAGAIN;
	if (p[0] & 0x20)
		return SL_EUNSUPP;
	uint32_t size = rd_u24be(p + 1);
	if (size > max_size)
		return SL_ELIMIT;
	size_t total = FLV_TAG_HEADER_SIZE + (size_t)size + FLV_TAG_TRAILER_SIZE;
	if (n < total)
		return SL_EAGAIN;
	if (rd_u32be(p + FLV_TAG_HEADER_SIZE + size) != FLV_TAG_HEADER_SIZE + size)
		return SL_EPROTO;
	out->type = p[0] & 0x1f;
	out->ts = rd_u24be(p + 4) | ((uint32_t)p[7] << 24);
	out->size = size;
	out->body = p + FLV_TAG_HEADER_SIZE;
	return (int)total;
}

const char *flv_codec_name(enum flv_codec c)
{
	switch (c) {
	case FLV_CODEC_UNKNOWN: return "unknown";
	case FLV_CODEC_H264: return "h264";
	case FLV_CODEC_HEVC: return "hevc";
	case FLV_CODEC_AV1: return "av1";
	case FLV_CODEC_VP9: return "vp9";
	case FLV_CODEC_AAC: return "aac";
	case FLV_CODEC_MP3: return "mp3";
	case FLV_CODEC_OTHER_AUDIO: return "other-audio";
	case FLV_CODEC_OTHER_VIDEO: return "other-video";
	}
	return "unknown";
}

static int32_t si24(const uint8_t *p)
{
	int32_t v = (int32_t)rd_u24be(p);

	return (v & 0x800000) ? v - 0x1000000 : v;
}

static enum flv_codec codec_from_fourcc(uint32_t fourcc)
{
	switch (fourcc) {
	case FOURCC('a', 'v', 'c', '1'): return FLV_CODEC_H264;
	case FOURCC('h', 'v', 'c', '1'): return FLV_CODEC_HEVC;
	case FOURCC('a', 'v', '0', '1'): return FLV_CODEC_AV1;
	case FOURCC('v', 'p', '0', '9'): return FLV_CODEC_VP9;
	}
	return FLV_CODEC_OTHER_VIDEO;
}

/* A command frame carries one UI8 command instead of a picture. */
static int parse_command(const uint8_t *p, size_t n, struct flv_video *out)
{
	if (n < 2)
		return SL_EPROTO;
	out->data = p + 1;
	out->len = n - 1;
	return 0;
}

static int parse_legacy_video(const uint8_t *p, size_t n, struct flv_video *out)
{
	out->frame_type = p[0] >> 4;
	out->codec_id = p[0] & 0x0f;
	if (out->frame_type < FLV_FRAME_KEY || out->frame_type > FLV_FRAME_INFO)
		return SL_EPROTO;
	if (out->codec_id == LEGACY_CODEC_AVC)
		out->codec = FLV_CODEC_H264;
	else if (out->codec_id == LEGACY_CODEC_HEVC)
		out->codec = FLV_CODEC_HEVC;
	else
		out->codec = FLV_CODEC_OTHER_VIDEO;

	/*
	 * Command frames are skipped by every demuxer we know of whatever the
	 * codec, so do not insist on an AVCPacketType before the command byte.
	 */
	if (out->frame_type == FLV_FRAME_INFO)
		return parse_command(p, n, out);

	if (out->codec == FLV_CODEC_OTHER_VIDEO) {
		out->is_frame = 1;
		out->data = p + 1;
		out->len = n - 1;
		return 0;
	}
	if (n < 5)
		return SL_EPROTO;
	out->packet_type = p[1];
	switch (p[1]) {
	case 0:
		out->is_seq_header = 1;
		break;
	case 1:
		out->is_frame = 1;
		break;
	case 2:
		out->is_seq_end = 1;
		break;
	default:
		return SL_EPROTO;
	}
	out->cts = si24(p + 2);
	out->data = p + 5;
	out->len = n - 5;
	return 0;
}

static int parse_ex_video(const uint8_t *p, size_t n, struct flv_video *out)
{
	uint8_t pkt = p[0] & 0x0f;
	size_t off = 5;

	out->enhanced = 1;
	out->frame_type = (p[0] >> 4) & 0x07;
	out->packet_type = pkt;
	/* Multitrack and ModEx change the layout; later values are reserved. */
	if (pkt >= EX_MULTITRACK)
		return SL_EUNSUPP;
	/* Metadata ignores the frame type; otherwise Command means no FourCC. */
	if (pkt != EX_METADATA) {
		if (out->frame_type == FLV_FRAME_INFO)
			return parse_command(p, n, out);
		if (out->frame_type < FLV_FRAME_KEY || out->frame_type > FLV_FRAME_INFO)
			return SL_EPROTO;
	}
	if (n < 5)
		return SL_EPROTO;
	out->fourcc = rd_u32be(p + 1);
	out->codec = codec_from_fourcc(out->fourcc);
	switch (pkt) {
	case EX_SEQUENCE_START:
		out->is_seq_header = 1;
		break;
	case EX_CODED_FRAMES:
		out->is_frame = 1;
		/* Only the codecs with B-frame reordering in FLV carry an SI24. */
		if (out->codec == FLV_CODEC_H264 || out->codec == FLV_CODEC_HEVC) {
			if (n < 8)
				return SL_EPROTO;
			out->cts = si24(p + 5);
			off = 8;
		}
		break;
	case EX_SEQUENCE_END:
		out->is_seq_end = 1;
		break;
	case EX_CODED_FRAMES_X:
		out->is_frame = 1;
		break;
	case EX_METADATA:
	case EX_MPEG2TS_SEQUENCE_START:
		break;
	}
	out->data = p + off;
	out->len = n - off;
	return 0;
}

int flv_parse_video(const uint8_t *p, size_t n, struct flv_video *out)
{
	memset(out, 0, sizeof(*out));
	if (n < 1)
		return SL_EPROTO;
	if (p[0] & 0x80)
		return parse_ex_video(p, n, out);
	return parse_legacy_video(p, n, out);
}

int flv_parse_audio(const uint8_t *p, size_t n, struct flv_audio *out)
{
	memset(out, 0, sizeof(*out));
	if (n < 1)
		return SL_EPROTO;
	out->sound_format = p[0] >> 4;
	out->rate_index = (p[0] >> 2) & 0x03;
	out->sample_size = (p[0] >> 1) & 0x01;
	out->stereo = p[0] & 0x01;
	switch (out->sound_format) {
	case SOUND_FORMAT_EX_HEADER:
		return SL_EUNSUPP;
	case SOUND_FORMAT_AAC:
		out->codec = FLV_CODEC_AAC;
		if (n < 2)
			return SL_EPROTO;
		if (p[1] > 1)
			return SL_EPROTO;
		out->is_seq_header = p[1] == 0;
		out->data = p + 2;
		out->len = n - 2;
		return 0;
	case SOUND_FORMAT_MP3:
	case SOUND_FORMAT_MP3_8K:
		out->codec = FLV_CODEC_MP3;
		break;
	default:
		out->codec = FLV_CODEC_OTHER_AUDIO;
		break;
	}
	out->data = p + 1;
	out->len = n - 1;
	return 0;
}
