/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdp.h - the part of SDP (RFC 8866) a WHEP offer uses, and our answer.
 *
 * A WHEP player (Chromium, GStreamer webrtcbin, OBS-era tools) sends an offer
 * with one BUNDLE group, an audio and a video m-line (recvonly), ICE
 * credentials, a sha-256 DTLS fingerprint and its codecs.  The parser is pure
 * (text in, struct or error out) and bounded: the text, the m-lines, the
 * formats of each and every token have a fixed maximum, so a hostile offer
 * costs no more than SDP_MAX_BYTES of parsing and a fixed-size struct.
 * What it does not need (extmap, ssrc-group, simulcast) it skips.
 *
 * The answer builder writes an ICE-lite answer: our candidates, fingerprint,
 * setup:passive (we are the DTLS server), one chosen format per m-line (port
 * 0 for a rejected one), sendonly, rtcp-mux and an a=ssrc per sending line.
 */
#ifndef SLUICE_PROTO_SDP_H
#define SLUICE_PROTO_SDP_H

#include <stddef.h>
#include <stdint.h>

#define SDP_MAX_BYTES 32768   /* an offer larger than this is refused (Chromium's is ~5 KB) */
#define SDP_MAX_LINES 1024
#define SDP_MAX_MEDIA 8
#define SDP_MAX_FORMATS 48    /* payload types per m-line (Chromium offers ~30 for video) */
#define SDP_MAX_TOKEN 256     /* ufrag, pwd, fmtp, mid: longer is refused */
#define SDP_FP_LEN 32         /* sha-256 */

enum sdp_kind { SDP_AUDIO, SDP_VIDEO, SDP_OTHER };
enum sdp_dir { SDP_SENDRECV, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };
enum sdp_setup { SDP_SETUP_NONE, SDP_SETUP_ACTPASS, SDP_SETUP_ACTIVE, SDP_SETUP_PASSIVE };

/* rtcp-fb bits of one payload type. */
#define SDP_FB_NACK 0x1
#define SDP_FB_PLI  0x2
#define SDP_FB_FIR  0x4
#define SDP_FB_TWCC 0x8
#define SDP_FB_REMB 0x10

struct sdp_format {
	uint8_t pt;
	char codec[32];        /* encoding name as offered, e.g. "H264", "opus" */
	uint32_t clock;
	uint8_t channels;      /* 0 when not given */
	unsigned fb;           /* SDP_FB_* */
	char fmtp[SDP_MAX_TOKEN];
	int pmode;             /* H.264 packetization-mode (0 when absent) */
	uint32_t profile_level_id; /* H.264, 0 when absent */
	int apt;               /* rtx: the associated payload type, -1 otherwise */
};

struct sdp_media {
	enum sdp_kind kind;
	char kind_name[16];
	uint16_t port;
	char proto[32];
	char mid[64];
	enum sdp_dir dir;
	int rtcp_mux;
	int bundle_only;       /* a=bundle-only: port 0 yet part of the BUNDLE (RFC 8843 6) */
	unsigned nformats;
	struct sdp_format fmt[SDP_MAX_FORMATS];
};

struct sdp_offer {
	char ice_ufrag[SDP_MAX_TOKEN];
	char ice_pwd[SDP_MAX_TOKEN];
	uint8_t fingerprint[SDP_FP_LEN];
	int has_fingerprint;
	enum sdp_setup setup;
	char bundle[SDP_MAX_TOKEN];   /* the mids of a=group:BUNDLE, space-separated */
	unsigned nmedia;
	struct sdp_media media[SDP_MAX_MEDIA];
};

/*
 * Parses an offer.  Returns 0, or SL_EPROTO / SL_ELIMIT / SL_EUNSUPP with a
 * message in err (safe to show a client: no offer bytes in it).  Requires ICE
 * credentials and a sha-256 fingerprint (session- or media-level; the first
 * bundled m-line's apply to all).
 */
int sdp_offer_parse(const char *text, size_t len, struct sdp_offer *out, char *err, size_t errlen);

/*
 * Picks the H.264 format to send on a video m-line: packetization-mode=1,
 * preferring the offered profile_idc equal to want_profile_idc (0: any),
 * then constrained baseline (42e0..), then the first.  Returns its index
 * or -1 if none is offered.
 */
int sdp_pick_h264(const struct sdp_media *m, uint8_t want_profile_idc);
/* Picks Opus/48000/2 on an audio m-line; index or -1. */
int sdp_pick_opus(const struct sdp_media *m);

struct sdp_answer_media {
	int format;            /* index into the offer's m-line formats; -1 rejects it (port 0) */
	uint32_t ssrc;
};

struct sdp_answer_params {
	const char *ice_ufrag;         /* ours */
	const char *ice_pwd;
	uint8_t fingerprint[SDP_FP_LEN];
	const char *cand_ip;           /* advertised host candidate (public address setting) */
	uint16_t cand_port;
	const char *cname;
	uint64_t session_id;
	struct sdp_answer_media media[SDP_MAX_MEDIA]; /* one per offered m-line */
	int recvonly;                  /* WHIP: we receive (a=recvonly, no a=ssrc of ours) */
};

/* Builds the answer; a NUL-terminated string the caller frees, or NULL on a bad argument. */
char *sdp_answer_build(const struct sdp_offer *o, const struct sdp_answer_params *p);

#endif
