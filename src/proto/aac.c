/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aac.c - AAC AudioSpecificConfig (the RTMP/FLV AAC sequence header) and
 * ADTS headers (what MPEG-TS carries in front of every raw AAC frame).
 *
 * Only the leading fields of the ASC are read: object type, sampling rate,
 * channel configuration, and for explicit SBR/PS signalling the extension
 * rate and the core object type, which is what ADTS needs.
 */
#include "proto/aac.h"

#include <stdbool.h>
#include <string.h>

#include "core/err.h"

#define AOT_ESCAPE 31
#define AOT_SBR 5
#define AOT_PS 29
#define AOT_ER_BSAC 22
#define RATE_INDEX_EXPLICIT 15
#define ADTS_MAX_FRAME 0x1fff

static const uint32_t rate_table[13] = {
	96000, 88200, 64000, 48000, 44100, 32000, 24000,
	22050, 16000, 12000, 11025, 8000, 7350,
};

/* Channel counts per channelConfiguration; 0 = reserved (8..10, 15). */
static const uint8_t channel_table[16] = {
	0, 1, 2, 3, 4, 5, 6, 8, 0, 0, 0, 7, 8, 24, 8, 0,
};

struct bitreader {
	const uint8_t *p;
	size_t nbits;
	size_t pos;
	bool err;
};

/* Reads k <= 32 bits; past the end sets err and yields 0. */
static uint32_t get_bits(struct bitreader *b, unsigned k)
{
	uint32_t v = 0;

	if (b->err || b->nbits - b->pos < k) {
		b->err = true;
		return 0;
	}
	for (unsigned i = 0; i < k; i++, b->pos++)
		v = (v << 1) | ((b->p[b->pos >> 3] >> (7 - (b->pos & 7))) & 1);
	return v;
}

static uint32_t get_object_type(struct bitreader *b)
{
	uint32_t aot = get_bits(b, 5);

	return aot == AOT_ESCAPE ? 32 + get_bits(b, 6) : aot;
}

/* samplingFrequencyIndex with its 24-bit escape; 0 for reserved values. */
static uint32_t get_rate(struct bitreader *b, uint8_t *index)
{
	uint32_t idx = get_bits(b, 4);

	*index = (uint8_t)idx;
	if (idx == RATE_INDEX_EXPLICIT)
		return get_bits(b, 24);
	return idx < 13 ? rate_table[idx] : 0;
}

int aac_parse_asc(const uint8_t *p, size_t n, struct aac_config *out)
{
	struct bitreader b = { .p = p, .nbits = n * 8 };
	uint8_t ext_index;

	memset(out, 0, sizeof(*out));
	uint32_t aot = get_object_type(&b);
	out->sample_rate = get_rate(&b, &out->rate_index);
	out->channel_config = (uint8_t)get_bits(&b, 4);
	if (b.err || aot == 0 || out->sample_rate == 0)
		return SL_EPROTO;
	out->channels = channel_table[out->channel_config];
	if (out->channel_config != 0 && out->channels == 0)
		return SL_EPROTO;
	out->object_type = (uint8_t)aot;
	out->core_object_type = (uint8_t)aot;
	if (aot == AOT_SBR || aot == AOT_PS) {
		out->ext_sample_rate = get_rate(&b, &ext_index);
		uint32_t core = get_object_type(&b);
		if (core == AOT_ER_BSAC)
			get_bits(&b, 4); /* extensionChannelConfiguration */
		if (b.err || out->ext_sample_rate == 0 || core == 0 ||
		    core == AOT_SBR || core == AOT_PS)
			return SL_EPROTO;
		out->core_object_type = (uint8_t)core;
	}
	return 0;
}

int aac_write_adts(uint8_t out[AAC_ADTS_HEADER_SIZE], const struct aac_config *c,
                   size_t payload_len)
{
	unsigned aot = c->core_object_type ? c->core_object_type : c->object_type;

	/* ADTS profile is 2 bits: Main, LC, SSR, LTP only. */
	if (aot < 1 || aot > 4 || c->rate_index > 12 ||
	    c->channel_config < 1 || c->channel_config > 7 ||
	    payload_len > ADTS_MAX_FRAME - AAC_ADTS_HEADER_SIZE)
		return SL_EINVAL;
	unsigned profile = aot - 1;
	unsigned len = (unsigned)payload_len + AAC_ADTS_HEADER_SIZE;

	out[0] = 0xff;
	out[1] = 0xf1; /* MPEG-4, layer 0, no CRC */
	out[2] = (uint8_t)((profile << 6) | ((unsigned)c->rate_index << 2) |
	                   (c->channel_config >> 2));
	out[3] = (uint8_t)(((c->channel_config & 3u) << 6) | (len >> 11));
	out[4] = (uint8_t)(len >> 3);
	out[5] = (uint8_t)(((len & 7) << 5) | 0x1f); /* buffer fullness 0x7ff: VBR */
	out[6] = 0xfc;                               /* one raw data block */
	return 0;
}
