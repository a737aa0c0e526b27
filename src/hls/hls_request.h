/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hls_request.h - what an HLS request asks for, from its path and query:
 *
 *   /APP/STREAM/                  the watch page (APP may have levels: /live/room1/STREAM/)
 *   /APP/STREAM/index.m3u8        the media playlist [?_HLS_msn=M[&_HLS_part=P]]
 *   /APP/STREAM/seg-M.ts          segment M (MPEG-TS; seg-M.m4s: fMP4)
 *   /APP/STREAM/part-M.P.ts       part P of segment M (part-M.P.m4s: fMP4)
 *   /APP/STREAM/init-I.mp4        fMP4 initialization segment I
 *   /APP/STREAM/manifest.mpd      the DASH manifest (hls/dash_mpd.h)
 *   /APP/STREAM/init-I-v.mp4, init-I-a.mp4, seg-tT-v.m4s, seg-tT-a.m4s
 *                                 one track of them (DASH; hls/fmp4_split.h); T is the
 *                                 segment's start on the media timeline in ms ($Time$)
 *
 * Pure parsing of untrusted bytes: no I/O, no allocation.
 */
#ifndef SLUICE_HLS_HLS_REQUEST_H
#define SLUICE_HLS_HLS_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define HLS_NAME_MAX 128
#define HLS_PART_INDEX_MAX 999

enum hls_file { HLS_PAGE, HLS_PLAYLIST, HLS_SEGMENT, HLS_PART, HLS_INIT, HLS_MPD };
enum hls_container { HLS_TS, HLS_FMP4 };

struct hls_request {
	char app[HLS_NAME_MAX + 1];
	char name[HLS_NAME_MAX + 1];
	enum hls_file file;
	enum hls_container container;  /* segments and parts: by the extension */
	uint64_t msn;               /* segment and part requests; the id of an init */
	unsigned part;
	unsigned track;             /* init and fMP4 segments: 0 both, 1 video (-v), 2 audio (-a) */
	int by_time;                /* seg-tT: msn holds the start time T, not an MSN */
	int block;                  /* playlist: _HLS_msn given */
	uint64_t block_msn;
	int block_part_given;
	unsigned block_part;
};

/*
 * Parses a request path.  Returns 0, SL_ENOTFOUND if the path is not of an
 * HLS shape (other routes may want it), or SL_EPROTO for an HLS shape with
 * bad numbers.  App and stream are 1..128 bytes without '/' (the caller
 * checks the name rules); the app may have levels ("live/room1"), the stream has none.
 */
int hls_parse_path(const char *path, size_t len, struct hls_request *out);

/*
 * Reads the blocking-reload parameters from a query string into out.
 * Returns 0, or SL_EPROTO for a bad number, or _HLS_part without _HLS_msn.
 */
int hls_parse_query(const char *query, size_t len, struct hls_request *out);

#endif
