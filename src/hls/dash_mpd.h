/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dash_mpd.h - an MPEG-DASH manifest (ISO/IEC 23009-1, live profile) over
 * the CMAF segments the fMP4 HLS packager already makes: no second
 * packaging.  /APP/STREAM/manifest.mpd lists the same seg-M.m4s files and
 * init-I.mp4 the HLS playlist lists, with a SegmentTimeline of their exact
 * durations (segments start on keyframes, so they vary).
 *
 * DASH players take one track per Representation, so video and audio are
 * two Adaptation Sets whose URLs (seg-M-v.m4s, seg-M-a.m4s, init-I-v.mp4,
 * init-I-a.mp4) name one track of the same segments (hls/fmp4_split.h).
 * The timeline's times are the fragments' decode
 * times in ms (tfdt), so availabilityStartTime is the wall clock at media
 * time 0 and a segment is available when it is complete.  Only segments
 * since the newest discontinuity or initialization change are listed (one
 * Period, one initialization segment).  A UTCTiming element carries the
 * server's clock directly (urn:mpeg:dash:utc:direct:2014), so players need
 * no other time source.
 *
 * Pure: the packager's state in, XML out.
 */
#ifndef SLUICE_HLS_DASH_MPD_H
#define SLUICE_HLS_DASH_MPD_H

#include <stdint.h>

#include "core/bytes.h"
#include "hls/hls_stream.h"

/*
 * Appends the manifest for h at wall clock now_ms; q is appended to every
 * URL ("" or "?token=...").  Returns the number of segments listed (0: no
 * manifest yet, nothing appended), or -1 when h is not fMP4.
 */
int dash_mpd_build(const struct hls_stream *h, uint64_t now_ms, const char *q,
                   struct bytes *out);

#endif
