/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtp_dts.h - decode times for video whose transport carries presentation
 * times only (RTP), in decode order, as FLV and every packager want them:
 * rising, and never after the frame's presentation time.
 *
 * With B-frames a frame is shown at most `depth` places before its place in
 * decode order, so the smallest presentation time not yet used, once
 * depth + 1 are known, rises and is never after the frame's own: frame n of
 * decode order gets the presentation time of frame n - depth of display
 * order, and nothing is held back.  depth starts where the caller says (2 fits x264's
 * default B-pyramid) and grows, up to RTP_DTS_MAX_DEPTH, when a frame shows
 * it was too small (that frame's decode time is then after its
 * presentation).  Without B-frames every frame gets a constant offset of
 * depth frames, which players take as it is.  Pure; milliseconds in and out.
 */
#ifndef SLUICE_PROTO_RTP_DTS_H
#define SLUICE_PROTO_RTP_DTS_H

#include <stdint.h>

#define RTP_DTS_MAX_DEPTH 4

struct rtp_dts {
	uint32_t pend[RTP_DTS_MAX_DEPTH + 1];  /* presentation times not yet used, ascending */
	unsigned npend, depth;
	int have;
	uint32_t last;
};

/* depth: reordering assumed at first (at most RTP_DTS_MAX_DEPTH). */
void rtp_dts_init(struct rtp_dts *d, unsigned depth);

/*
 * The decode time of the next frame in decode order, whose presentation
 * time is pts.  The first frames' come up to depth ms before their
 * presentation times: callers start their timeline RTP_DTS_MAX_DEPTH ms in.
 */
uint32_t rtp_dts_next(struct rtp_dts *d, uint32_t pts);

#endif
