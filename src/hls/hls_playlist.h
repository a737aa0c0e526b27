/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hls_playlist.h - the media playlist of an HLS stream (RFC 8216, and the
 * LL-HLS additions of RFC 8216bis when parts are on): the sliding window of
 * complete segments, parts of the newest ones, the open segment's parts and
 * a preload hint for the next part.  Clients that ignore the LL tags play
 * the segments as plain HLS.
 */
#ifndef SLUICE_HLS_HLS_PLAYLIST_H
#define SLUICE_HLS_HLS_PLAYLIST_H

#include <stdint.h>

#include "core/bytes.h"
#include "hls/hls_stream.h"

/* Complete segments whose parts are still listed (the newest ones). */
#define HLS_PLAYLIST_PART_SEGMENTS 2

/*
 * Appends the playlist to out.  uri_query ("" or "?token=...") is appended
 * to every URI so access tokens reach segment requests.  Returns the number
 * of complete segments listed (0: nothing playable yet).
 */
unsigned hls_playlist_build(const struct hls_stream *h, const char *uri_query, struct bytes *out);

/* The window: first and last complete MSN listed; 0 if none is complete. */
int hls_playlist_window(const struct hls_stream *h, uint64_t *first, uint64_t *last);

#endif
