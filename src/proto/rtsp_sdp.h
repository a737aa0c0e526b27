/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtsp_sdp.h - the SDP of RTSP: the description a DESCRIBE answers (built
 * from a stream's AVC and AAC sequence headers) and the one an ANNOUNCE
 * brings (parsed into what the depacketizers need: the avcC rebuilt from
 * sprop-parameter-sets, the AAC AudioSpecificConfig from config=).
 *
 * Kept apart from sdp.h, whose parser is WebRTC's (it requires ICE and
 * DTLS attributes no RTSP description has).  Pure and bounded like it:
 * RTSP_SDP_MAX_BYTES of text, RTSP_SDP_MAX_MEDIA m-lines, fixed-size fields.
 */
#ifndef SLUICE_PROTO_RTSP_SDP_H
#define SLUICE_PROTO_RTSP_SDP_H

#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "proto/aac_rtp.h"

#define RTSP_SDP_MAX_BYTES 16384
#define RTSP_SDP_MAX_MEDIA 4
#define RTSP_SDP_MAX_FMTP 1024
#define RTSP_SDP_AVCC_MAX 1024    /* the avcC we rebuild from sprop-parameter-sets */
#define RTSP_SDP_ASC_MAX 64

#define RTSP_PT_H264 96
#define RTSP_PT_AAC 97

enum rtsp_sdp_codec { RTSP_CODEC_OTHER, RTSP_CODEC_H264, RTSP_CODEC_AAC };

struct rtsp_sdp_media {
	int video;                    /* m=video (else audio or other) */
	int audio;
	uint8_t pt;
	enum rtsp_sdp_codec codec;    /* from a=rtpmap: H264, MPEG4-GENERIC */
	uint32_t clock;
	uint8_t channels;
	char control[64];             /* a=control ("" when absent) */
	char fmtp[RTSP_SDP_MAX_FMTP];
};

struct rtsp_sdp {
	unsigned nmedia;
	struct rtsp_sdp_media media[RTSP_SDP_MAX_MEDIA];
};

/*
 * Parses an ANNOUNCE description.  Returns 0, or SL_EPROTO / SL_ELIMIT with
 * a message in err that is safe to send back (no input bytes in it).
 */
int rtsp_sdp_parse(const char *text, size_t len, struct rtsp_sdp *out, char *err, size_t errlen);

/*
 * The avcC (AVCDecoderConfigurationRecord, 4-byte NAL lengths) of an H.264
 * fmtp's sprop-parameter-sets into out[0..cap).  Returns its length,
 * SL_ENOTFOUND when the fmtp has none, SL_EPROTO when they are malformed.
 */
int rtsp_sdp_h264_avcc(const char *fmtp, uint8_t *out, size_t cap);

/*
 * The AudioSpecificConfig (config=, hex) and AU header lengths of an
 * mpeg4-generic fmtp.  Returns the config's length, SL_EPROTO when absent
 * or malformed, SL_EUNSUPP for a mode other than AAC-hbr/AAC-lbr.
 */
int rtsp_sdp_aac_config(const char *fmtp, uint8_t *asc, size_t cap, struct aac_rtp_params *p);

/* What a DESCRIBE tells: either part may be absent (len 0). */
struct rtsp_sdp_stream {
	const uint8_t *avcc;          /* the stream's avcC */
	size_t avcc_len;
	const uint8_t *asc;           /* its AudioSpecificConfig */
	size_t asc_len;
	uint32_t sample_rate;
	uint8_t channels;
	const char *name;             /* s= */
	const char *addr;             /* our address for o= and c= */
};

/*
 * Appends the description: m=video with H264 (packetization-mode=1,
 * profile-level-id, sprop-parameter-sets) as control trackID=0 and
 * m=audio with MPEG4-GENERIC AAC-hbr as trackID=1.  Returns 0, or
 * SL_EPROTO when the avcC cannot be read (then no video line).
 */
int rtsp_sdp_build(struct bytes *b, const struct rtsp_sdp_stream *s);

/* Standard base64 (padded) of p[0..n) into out (4*((n+2)/3)+1 bytes); returns the length. */
size_t rtsp_base64(const uint8_t *p, size_t n, char *out);

#endif
