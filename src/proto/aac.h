/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aac.h - AAC AudioSpecificConfig (RTMP/FLV sequence header) and ADTS
 * framing (for MPEG-TS packaging).
 */
#ifndef SLUICE_PROTO_AAC_H
#define SLUICE_PROTO_AAC_H

#include <stddef.h>
#include <stdint.h>

struct aac_config {
	uint8_t object_type;     /* 2 = AAC-LC, 5 = SBR (HE-AAC), 29 = PS ... */
	uint8_t rate_index;      /* 0..12, or 15 when explicit */
	uint32_t sample_rate;    /* Hz; of the core AAC stream for SBR/PS */
	uint8_t channel_config;  /* 0..7, 11..14 */
	uint8_t channels;        /* derived from channel_config (0 when 0) */
	/*
	 * For explicit SBR/PS signalling (object_type 5 or 29) the underlying
	 * object type (2 for HE-AAC) and the SBR output rate; for every other
	 * stream core_object_type == object_type and ext_sample_rate == 0.
	 */
	uint8_t core_object_type;
	uint32_t ext_sample_rate;
};

/*
 * Parses an AudioSpecificConfig (ISO/IEC 14496-3 1.6.2.1) up to the
 * channel configuration and, for SBR/PS, the extension rate and core object
 * type.  Returns 0 or SL_EPROTO (reserved indexes, object type 0, short).
 */
int aac_parse_asc(const uint8_t *p, size_t n, struct aac_config *out);

#define AAC_ADTS_HEADER_SIZE 7

/*
 * Writes a 7-byte ADTS header (no CRC) for one raw AAC frame of payload_len
 * bytes.  The profile is core_object_type - 1 (object_type when the core is
 * 0), so HE-AAC goes out as AAC-LC at the core rate with implicit SBR, as
 * every muxer does.  Returns 0, or SL_EINVAL if the frame is too large or
 * the config cannot be expressed (profile over 3, explicit rate, channel
 * configuration 0 or over 7).
 */
int aac_write_adts(uint8_t out[AAC_ADTS_HEADER_SIZE], const struct aac_config *c,
                   size_t payload_len);

#endif
