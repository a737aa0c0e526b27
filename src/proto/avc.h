/* SPDX-License-Identifier: Apache-2.0 */
/*
 * avc.h - H.264 pieces the server must understand: the decoder configuration
 * record (avcC) carried in RTMP/FLV sequence headers, and the SPS fields that
 * give picture size, profile and level.  Bytes in, facts or an error out.
 */
#ifndef SLUICE_PROTO_AVC_H
#define SLUICE_PROTO_AVC_H

#include <stddef.h>
#include <stdint.h>

struct avc_sps {
	uint8_t profile_idc;
	uint8_t constraint_flags;
	uint8_t level_idc;
	uint32_t width;          /* after cropping */
	uint32_t height;
	uint8_t chroma_format_idc;   /* 0 = monochrome, 1 = 4:2:0, 2 = 4:2:2, 3 = 4:4:4 */
	uint8_t bit_depth_luma;      /* 8..14 */
	uint8_t bit_depth_chroma;
	uint8_t frame_mbs_only;      /* 0: coded as fields (interlaced) possible */
};

#define AVC_MAX_PARAM_SETS 8

struct avc_config {
	uint8_t profile;
	uint8_t compat;
	uint8_t level;
	uint8_t nal_length_size;         /* 1, 2 or 4 */
	uint8_t nsps, npps;
	const uint8_t *sps[AVC_MAX_PARAM_SETS];  /* NAL units, pointing into the input */
	uint16_t sps_len[AVC_MAX_PARAM_SETS];
	const uint8_t *pps[AVC_MAX_PARAM_SETS];
	uint16_t pps_len[AVC_MAX_PARAM_SETS];
	struct avc_sps first_sps;        /* parsed from sps[0] when present */
	int has_sps_info;
};

/*
 * Parses an AVCDecoderConfigurationRecord.  Returns 0, SL_EPROTO, or
 * SL_ELIMIT when it holds more than AVC_MAX_PARAM_SETS SPSs or PPSs.  The
 * record is accepted even when sps[0] cannot be parsed (has_sps_info = 0):
 * its framing is what a muxer needs, the SPS facts are informational.
 */
int avc_parse_config(const uint8_t *p, size_t n, struct avc_config *out);

/*
 * Parses an SPS NAL unit (starting with its NAL header byte, emulation
 * prevention bytes still in place).  Returns 0 or SL_EPROTO (also for
 * values out of the spec's ranges and pictures over 16384 pixels a side).
 * Only the fields up to frame cropping are read; the VUI is not.
 */
int avc_parse_sps(const uint8_t *nal, size_t n, struct avc_sps *out);

/*
 * Writes an AVCDecoderConfigurationRecord with 4-byte NAL lengths for the
 * parameter sets sps[0..nsps) and pps[0..npps) (NAL units, header byte
 * first) into out[0..cap); profile, compatibility and level come from
 * sps[0].  Returns its length, or SL_EINVAL (no SPS or PPS, sps[0] under 4
 * bytes, more than AVC_MAX_PARAM_SETS of either, a set over 65535 bytes)
 * or SL_ELIMIT (cap too small).
 */
int avc_write_config(uint8_t *out, size_t cap, const uint8_t *const *sps, const size_t *sps_len,
                     unsigned nsps, const uint8_t *const *pps, const size_t *pps_len,
                     unsigned npps);

#endif
