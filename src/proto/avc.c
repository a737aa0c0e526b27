/* SPDX-License-Identifier: Apache-2.0 */
/*
 * avc.c - AVCDecoderConfigurationRecord (ISO/IEC 14496-15 5.2.4.1) and the
 * H.264 sequence parameter set (ITU-T H.264 7.3.2.1.1) up to frame cropping.
 *
 * The SPS is exp-Golomb coded with emulation prevention bytes; it is first
 * unescaped into a bounded stack copy, then read with a bit reader whose
 * error is sticky: a read past the end yields zeros and marks the reader
 * failed, and every value that bounds a loop or a size is range-checked
 * before use, so garbage never drives more than a constant amount of work.
 */
#include "proto/avc.h"

#include <stdbool.h>
#include <string.h>

#include "core/bytes.h"
#include "core/err.h"

/*
 * Everything before the VUI fits in far less than this even with all twelve
 * scaling lists and a 255-entry POC cycle (a few KB in the worst case).
 */
#define SPS_MAX_RBSP 4096
#define AVC_MAX_DIMENSION 16384

enum {
	NAL_TYPE_SPS = 7,
	NAL_TYPE_PPS = 8,
};

struct bitreader {
	const uint8_t *p;
	size_t nbits;
	size_t pos;
	bool err;
};

static uint32_t get_bit(struct bitreader *b)
{
	if (b->pos >= b->nbits) {
		b->err = true;
		return 0;
	}
	uint32_t v = (b->p[b->pos >> 3] >> (7 - (b->pos & 7))) & 1;
	b->pos++;
	return v;
}

/* Reads k <= 32 bits, most significant first. */
static uint32_t get_bits(struct bitreader *b, unsigned k)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < k && !b->err; i++)
		v = (v << 1) | get_bit(b);
	return b->err ? 0 : v;
}

/* ue(v): at most 31 leading zeros, so the value fits in 32 bits. */
static uint32_t get_ue(struct bitreader *b)
{
	unsigned zeros = 0;

	while (!b->err && get_bit(b) == 0) {
		if (++zeros > 31) {
			b->err = true;
			return 0;
		}
	}
	if (b->err)
		return 0;
	return ((1u << zeros) - 1) + get_bits(b, zeros);
}

static int64_t get_se(struct bitreader *b)
{
	uint32_t k = get_ue(b);

	return (k & 1) ? (int64_t)(k / 2) + 1 : -(int64_t)(k / 2);
}

/* Removes emulation prevention bytes (00 00 03) after the NAL header byte. */
static size_t unescape_rbsp(const uint8_t *nal, size_t n, uint8_t *out, size_t cap)
{
	size_t m = 0;
	unsigned zeros = 0;

	for (size_t i = 1; i < n && m < cap; i++) {
		if (zeros >= 2 && nal[i] == 3) {
			zeros = 0;
			continue;
		}
		out[m++] = nal[i];
		zeros = nal[i] == 0 ? zeros + 1 : 0;
	}
	return m;
}

static bool is_high_profile(uint8_t profile_idc)
{
	switch (profile_idc) {
	case 100: case 110: case 122: case 244: case 44: case 83: case 86:
	case 118: case 128: case 138: case 139: case 134: case 135:
		return true;
	}
	return false;
}

/* scaling_list(): only skipped, but delta_scale is range-checked (7.4.2.1.1.1). */
static int skip_scaling_list(struct bitreader *b, unsigned size)
{
	int32_t last = 8, next = 8;

	for (unsigned j = 0; j < size && !b->err; j++) {
		if (next != 0) {
			int64_t delta = get_se(b);
			if (delta < -128 || delta > 127)
				return SL_EPROTO;
			next = (int32_t)((last + delta + 256) % 256);
		}
		if (next != 0)
			last = next;
	}
	return b->err ? SL_EPROTO : 0;
}

static int parse_high_fields(struct bitreader *b, struct avc_sps *out, bool *separate_planes)
{
	uint32_t cfi = get_ue(b);
	if (b->err || cfi > 3)
		return SL_EPROTO;
	out->chroma_format_idc = (uint8_t)cfi;
	if (cfi == 3)
		*separate_planes = get_bit(b) != 0;
	uint32_t depth_luma = get_ue(b);
	uint32_t depth_chroma = get_ue(b);
	if (b->err || depth_luma > 6 || depth_chroma > 6)
		return SL_EPROTO;
	out->bit_depth_luma = (uint8_t)(8 + depth_luma);
	out->bit_depth_chroma = (uint8_t)(8 + depth_chroma);
	get_bit(b); /* qpprime_y_zero_transform_bypass_flag */
	if (get_bit(b)) { /* seq_scaling_matrix_present_flag */
		unsigned lists = cfi != 3 ? 8 : 12;
		for (unsigned i = 0; i < lists; i++) {
			if (!get_bit(b))
				continue;
			int rc = skip_scaling_list(b, i < 6 ? 16 : 64);
			if (rc < 0)
				return rc;
		}
	}
	return b->err ? SL_EPROTO : 0;
}

static int skip_poc_fields(struct bitreader *b)
{
	uint32_t poc_type = get_ue(b);
	if (b->err || poc_type > 2)
		return SL_EPROTO;
	if (poc_type == 0) {
		if (get_ue(b) > 12) /* log2_max_pic_order_cnt_lsb_minus4 */
			return SL_EPROTO;
	} else if (poc_type == 1) {
		get_bit(b);  /* delta_pic_order_always_zero_flag */
		get_se(b);   /* offset_for_non_ref_pic */
		get_se(b);   /* offset_for_top_to_bottom_field */
		uint32_t cycle = get_ue(b);
		if (b->err || cycle > 255)
			return SL_EPROTO;
		for (uint32_t i = 0; i < cycle && !b->err; i++)
			get_se(b); /* offset_for_ref_frame[i] */
	}
	return b->err ? SL_EPROTO : 0;
}

/* Frame size from macroblocks minus the cropping window (7.4.2.1.1). */
static int apply_geometry(struct bitreader *b, struct avc_sps *out, bool separate_planes)
{
	uint32_t w_mbs = get_ue(b) + 1;
	uint32_t h_units = get_ue(b) + 1;
	uint32_t frame_mbs_only = get_bit(b);
	if (b->err)
		return SL_EPROTO;
	if (!frame_mbs_only)
		get_bit(b); /* mb_adaptive_frame_field_flag */
	get_bit(b); /* direct_8x8_inference_flag */

	uint64_t width = (uint64_t)w_mbs * 16;
	uint64_t height = (uint64_t)h_units * 16 * (2 - frame_mbs_only);
	if (w_mbs == 0 || h_units == 0 || width > AVC_MAX_DIMENSION ||
	    height > AVC_MAX_DIMENSION)
		return SL_EPROTO;

	uint64_t crop_l = 0, crop_r = 0, crop_t = 0, crop_b = 0;
	if (get_bit(b)) { /* frame_cropping_flag */
		crop_l = get_ue(b);
		crop_r = get_ue(b);
		crop_t = get_ue(b);
		crop_b = get_ue(b);
	}
	if (b->err)
		return SL_EPROTO;

	/* ChromaArrayType 0 (monochrome or separate planes) crops in luma samples. */
	unsigned chroma_array_type = separate_planes ? 0 : out->chroma_format_idc;
	uint64_t unit_x = 1, unit_y = 2 - frame_mbs_only;
	if (chroma_array_type == 1) {
		unit_x = 2;
		unit_y *= 2;
	} else if (chroma_array_type == 2) {
		unit_x = 2;
	}
	uint64_t cx = (crop_l + crop_r) * unit_x;
	uint64_t cy = (crop_t + crop_b) * unit_y;
	if (cx >= width || cy >= height)
		return SL_EPROTO;
	out->width = (uint32_t)(width - cx);
	out->height = (uint32_t)(height - cy);
	out->frame_mbs_only = (uint8_t)frame_mbs_only;
	return 0;
}

int avc_parse_sps(const uint8_t *nal, size_t n, struct avc_sps *out)
{
	uint8_t rbsp[SPS_MAX_RBSP];
	bool separate_planes = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if (n < 1 || (nal[0] & 0x80) || (nal[0] & 0x1f) != NAL_TYPE_SPS)
		return SL_EPROTO;
	size_t m = unescape_rbsp(nal, n, rbsp, sizeof(rbsp));
	struct bitreader b = { .p = rbsp, .nbits = m * 8 };

	out->profile_idc = (uint8_t)get_bits(&b, 8);
	out->constraint_flags = (uint8_t)get_bits(&b, 8);
	out->level_idc = (uint8_t)get_bits(&b, 8);
	if (get_ue(&b) > 31 || b.err) /* seq_parameter_set_id */
		return SL_EPROTO;
	/* Defaults when the profile does not code them (7.4.2.1.1). */
	out->chroma_format_idc = 1;
	out->bit_depth_luma = 8;
	out->bit_depth_chroma = 8;
	if (is_high_profile(out->profile_idc)) {
		rc = parse_high_fields(&b, out, &separate_planes);
		if (rc < 0)
			return rc;
	}
	if (get_ue(&b) > 12 || b.err) /* log2_max_frame_num_minus4 */
		return SL_EPROTO;
	rc = skip_poc_fields(&b);
	if (rc < 0)
		return rc;
	if (get_ue(&b) > 16 || b.err) /* max_num_ref_frames: MaxDpbFrames <= 16 */
		return SL_EPROTO;
	get_bit(&b); /* gaps_in_frame_num_value_allowed_flag */
	return apply_geometry(&b, out, separate_planes);
}

/* Reads count length-prefixed NAL units of the given type into ptrs/lens. */
static int read_param_sets(const uint8_t *p, size_t n, size_t *off, unsigned count,
                           unsigned nal_type, const uint8_t **ptrs, uint16_t *lens)
{
	if (count > AVC_MAX_PARAM_SETS)
		return SL_ELIMIT;
	for (unsigned i = 0; i < count; i++) {
		if (n - *off < 2)
			return SL_EPROTO;
		uint16_t len = rd_u16be(p + *off);
		*off += 2;
		if (len == 0 || n - *off < len)
			return SL_EPROTO;
		if ((p[*off] & 0x1f) != nal_type)
			return SL_EPROTO;
		ptrs[i] = p + *off;
		lens[i] = len;
		*off += len;
	}
	return 0;
}

int avc_parse_config(const uint8_t *p, size_t n, struct avc_config *out)
{
	memset(out, 0, sizeof(*out));
	if (n < 7 || p[0] != 1)
		return SL_EPROTO;
	out->profile = p[1];
	out->compat = p[2];
	out->level = p[3];
	/* Reserved bits are not checked: some encoders write them as zeros. */
	unsigned size_minus1 = p[4] & 0x03;
	if (size_minus1 == 2)
		return SL_EPROTO;
	out->nal_length_size = (uint8_t)(size_minus1 + 1);

	size_t off = 6;
	unsigned nsps = p[5] & 0x1f;
	int rc = read_param_sets(p, n, &off, nsps, NAL_TYPE_SPS, out->sps, out->sps_len);
	if (rc < 0)
		return rc;
	out->nsps = (uint8_t)nsps;
	if (off >= n)
		return SL_EPROTO;
	unsigned npps = p[off++];
	rc = read_param_sets(p, n, &off, npps, NAL_TYPE_PPS, out->pps, out->pps_len);
	if (rc < 0)
		return rc;
	out->npps = (uint8_t)npps;
	/* High-profile records carry chroma/bit-depth/SPS-ext fields here: ignored. */

	if (nsps > 0)
		out->has_sps_info = avc_parse_sps(out->sps[0], out->sps_len[0],
		                                  &out->first_sps) == 0;
	if (!out->has_sps_info)
		memset(&out->first_sps, 0, sizeof(out->first_sps));
	return 0;
}

int avc_write_config(uint8_t *out, size_t cap, const uint8_t *const *sps, const size_t *sps_len,
                     unsigned nsps, const uint8_t *const *pps, const size_t *pps_len,
                     unsigned npps)
{
	if (nsps == 0 || npps == 0 || nsps > AVC_MAX_PARAM_SETS || npps > AVC_MAX_PARAM_SETS ||
	    sps_len[0] < 4)
		return SL_EINVAL;
	size_t need = 7;
	for (unsigned i = 0; i < nsps + npps; i++) {
		size_t l = i < nsps ? sps_len[i] : pps_len[i - nsps];
		if (l > 65535)
			return SL_EINVAL;
		need += 2 + l;
	}
	if (need > cap)
		return SL_ELIMIT;
	uint8_t *p = out;
	*p++ = 1;
	*p++ = sps[0][1];             /* profile, constraint flags, level */
	*p++ = sps[0][2];
	*p++ = sps[0][3];
	*p++ = 0xff;                  /* 4-byte NAL lengths */
	*p++ = (uint8_t)(0xe0 | nsps);
	for (unsigned i = 0; i < nsps + npps; i++) {
		if (i == nsps)
			*p++ = (uint8_t)npps;
		const uint8_t *nal = i < nsps ? sps[i] : pps[i - nsps];
		size_t l = i < nsps ? sps_len[i] : pps_len[i - nsps];
		*p++ = (uint8_t)(l >> 8);
		*p++ = (uint8_t)l;
		memcpy(p, nal, l);
		p += l;
	}
	return (int)(p - out);
}
