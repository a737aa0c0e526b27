/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flv.h - FLV container framing and the audio/video tag headers that RTMP
 * and FLV share (including Enhanced RTMP's extended video header).
 *
 * RTMP audio/video message bodies are exactly FLV tag bodies, so the same
 * parsers serve the RTMP publisher path, HTTP-FLV, and the FLV file reader
 * used by tests and benchmarks.  Nothing here allocates or does I/O.
 */
#ifndef SLUICE_PROTO_FLV_H
#define SLUICE_PROTO_FLV_H

#include <stddef.h>
#include <stdint.h>

enum {
	FLV_TAG_AUDIO = 8,
	FLV_TAG_VIDEO = 9,
	FLV_TAG_SCRIPT = 18,
};

#define FLV_FILE_HEADER_SIZE 13 /* 9-byte header + PreviousTagSize0 */
#define FLV_TAG_HEADER_SIZE 11
#define FLV_TAG_TRAILER_SIZE 4  /* PreviousTagSize after each tag */

/* Writes the 9-byte FLV header plus a zero PreviousTagSize0. */
void flv_write_file_header(uint8_t out[FLV_FILE_HEADER_SIZE], int has_audio, int has_video);
/* Writes an 11-byte tag header (timestamp with its extension byte; stream id 0). */
void flv_write_tag_header(uint8_t out[FLV_TAG_HEADER_SIZE], uint8_t type,
                          uint32_t data_size, uint32_t ts_ms);

/*
 * Parses an FLV file header; returns bytes used (13, or more when DataOffset
 * says the header is longer than 9 bytes), SL_EAGAIN or SL_EPROTO.
 */
int flv_parse_file_header(const uint8_t *p, size_t n, int *has_audio, int *has_video);

struct flv_tag {
	uint8_t type;          /* FLV_TAG_* (other values are passed through) */
	uint32_t ts;           /* ms, extension byte applied */
	uint32_t size;         /* body size */
	const uint8_t *body;   /* points into the input */
};

/*
 * Parses one tag with its trailing PreviousTagSize from p[0..n).  Returns
 * bytes used, SL_EAGAIN if the tag is not all there, SL_EPROTO if malformed
 * (including a PreviousTagSize that disagrees), SL_ELIMIT if size > max_size,
 * SL_EUNSUPP for an encrypted (Filter bit) tag.  The two reserved bits of the
 * type byte are ignored.  Size and filter are checked as soon as the 11-byte
 * header is there, before waiting for the body.
 */
int flv_parse_tag(const uint8_t *p, size_t n, uint32_t max_size, struct flv_tag *out);

enum flv_codec {
	FLV_CODEC_UNKNOWN = 0,
	FLV_CODEC_H264,
	FLV_CODEC_HEVC,
	FLV_CODEC_AV1,
	FLV_CODEC_VP9,
	FLV_CODEC_AAC,
	FLV_CODEC_MP3,
	FLV_CODEC_OTHER_AUDIO,
	FLV_CODEC_OTHER_VIDEO,
};

const char *flv_codec_name(enum flv_codec c);

enum flv_frame_type {
	FLV_FRAME_KEY = 1,
	FLV_FRAME_INTER = 2,
	FLV_FRAME_DISPOSABLE = 3,
	FLV_FRAME_GENERATED_KEY = 4,
	FLV_FRAME_INFO = 5,     /* video info/command frame: not a picture */
};

struct flv_video {
	enum flv_codec codec;
	uint8_t frame_type;      /* enum flv_frame_type */
	uint8_t codec_id;        /* legacy 4-bit codec id; 0 for enhanced */
	uint32_t fourcc;         /* enhanced: 'hvc1', 'av01', 'vp09', 'avc1'; else 0 */
	int enhanced;            /* Enhanced RTMP ExVideoTagHeader */
	int is_seq_header;       /* decoder configuration record follows */
	int is_seq_end;
	int is_frame;            /* coded picture data follows */
	uint8_t packet_type;     /* legacy AVCPacketType or enhanced VideoPacketType */
	int32_t cts;             /* composition time offset, ms (signed 24-bit) */
	const uint8_t *data;     /* after the tag header (config record or NALUs) */
	size_t len;
};

/*
 * Parses a video tag body.  Returns 0, SL_EPROTO if too short or malformed,
 * SL_EUNSUPP for Enhanced RTMP multitrack and ModEx packets.  A command frame
 * (FLV_FRAME_INFO) has is_frame = 0 and data at its command byte.
 */
int flv_parse_video(const uint8_t *p, size_t n, struct flv_video *out);

struct flv_audio {
	enum flv_codec codec;
	uint8_t sound_format;    /* 10 = AAC, 2 = MP3, ... */
	uint8_t rate_index;      /* 0..3: 5.5, 11, 22, 44 kHz (header field) */
	uint8_t sample_size;     /* 0 = 8 bit, 1 = 16 bit */
	uint8_t stereo;
	int is_seq_header;       /* AAC AudioSpecificConfig follows */
	const uint8_t *data;     /* after the header */
	size_t len;
};

/*
 * Parses an audio tag body.  Returns 0, SL_EPROTO if too short or malformed,
 * SL_EUNSUPP for Enhanced RTMP audio (sound format 9, ExAudioTagHeader).
 */
int flv_parse_audio(const uint8_t *p, size_t n, struct flv_audio *out);

#endif
