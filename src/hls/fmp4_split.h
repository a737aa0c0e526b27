/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fmp4_split.h - one track out of what fmp4_mux.c writes, for DASH.
 *
 * Our CMAF fragments carry video and audio together (one moof with a traf
 * per track, one mdat with the video samples then the audio ones), which is
 * what HLS wants.  DASH players take one track per Representation, so a
 * DASH request for one track gets the same fragments cut down: each moof
 * keeps its mfhd and the traf of that track (its trun's data offset moved
 * to the new, shorter moof), and the mdat keeps that track's samples.  An
 * initialization segment is cut the same way (the other trak and trex go).
 * The samples are the packager's; nothing is re-encoded or re-timed.
 *
 * Pure and defensive (every box length and sample size is checked against
 * the input): bytes in, bytes appended or SL_EPROTO out.
 */
#ifndef SLUICE_HLS_FMP4_SPLIT_H
#define SLUICE_HLS_FMP4_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"

/*
 * Appends track_id's part of p[0..n), a run of moof + mdat pairs.  A pair
 * without that track adds nothing.  Returns 0, or SL_EPROTO (nothing
 * appended then).
 */
int fmp4_split_fragments(const uint8_t *p, size_t n, uint32_t track_id, struct bytes *out);

/*
 * Appends an initialization segment (ftyp + moov) with only track_id's trak
 * and trex.  Returns 0, SL_ENOTFOUND if the init has no such track, or
 * SL_EPROTO.
 */
int fmp4_split_init(const uint8_t *p, size_t n, uint32_t track_id, struct bytes *out);

#endif
