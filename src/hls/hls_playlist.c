/* SPDX-License-Identifier: Apache-2.0 */
/* hls_playlist.c - HLS / LL-HLS media playlists (see hls_playlist.h). */
#include "hls/hls_playlist.h"

#include <time.h>

int hls_playlist_window(const struct hls_stream *h, uint64_t *first, uint64_t *last)
{
	unsigned n = hls_stream_complete_count(h);
	if (n == 0)
		return 0;
	*last = h->next_msn - 1 - (h->open ? 1u : 0u);
	*first = n > h->cfg.window ? *last + 1 - h->cfg.window : h->first_msn;
	return 1;
}

static void put_date(struct bytes *out, uint64_t wall_ms)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	bytes_printf(out, "#EXT-X-PROGRAM-DATE-TIME:%04d-%02d-%02dT%02d:%02d:%02d.%03uZ\n",
	             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	             tm.tm_sec, (unsigned)(wall_ms % 1000));
}

static const char *ext(const struct hls_stream *h)
{
	return h->cfg.fmp4 ? "m4s" : "ts";
}

static void put_parts(struct bytes *out, const struct hls_stream *h,
                      const struct hls_segment *s, const char *q)
{
	for (unsigned i = 0; i < s->nparts; i++)
		bytes_printf(out, "#EXT-X-PART:DURATION=%.3f,URI=\"part-%llu.%u.%s%s\"%s\n",
		             s->parts[i].dur_ms / 1000.0, (unsigned long long)s->msn, i, ext(h), q,
		             s->parts[i].independent ? ",INDEPENDENT=YES" : "");
}

/* fMP4: EXT-X-MAP before the first segment and wherever the init changes. */
static void put_map(struct bytes *out, const struct hls_stream *h,
                    const struct hls_segment *s, uint32_t *listed_init, const char *q)
{
	if (!h->cfg.fmp4 || !s->init_id || s->init_id == *listed_init)
		return;
	bytes_printf(out, "#EXT-X-MAP:URI=\"init-%u.mp4%s\"\n", s->init_id, q);
	*listed_init = s->init_id;
}

unsigned hls_playlist_build(const struct hls_stream *h, const char *q, struct bytes *out)
{
	uint64_t first = 0, last = 0;
	int any = hls_playlist_window(h, &first, &last);
	int ll = h->cfg.part_ms > 0;
	uint64_t target = h->cfg.segment_ms > h->max_dur_ms ? h->cfg.segment_ms : h->max_dur_ms;
	uint64_t disc = h->disc_seq;
	for (uint64_t m = h->first_msn; any && m < first; m++)
		disc += hls_stream_segment(h, m)->discontinuity;

	bytes_put_str(out, "#EXTM3U\n#EXT-X-VERSION:6\n");
	/* RFC 8216 4.3.3.1: every EXTINF, rounded to the nearest integer, is at most this. */
	bytes_printf(out, "#EXT-X-TARGETDURATION:%llu\n",
	             (unsigned long long)(target < 1000 ? 1000 : target + 500) / 1000);
	bytes_printf(out, "#EXT-X-MEDIA-SEQUENCE:%llu\n",
	             (unsigned long long)(any ? first : h->next_msn - (h->open ? 1u : 0u)));
	bytes_printf(out, "#EXT-X-DISCONTINUITY-SEQUENCE:%llu\n", (unsigned long long)disc);
	bytes_put_str(out, "#EXT-X-INDEPENDENT-SEGMENTS\n");
	if (ll) {
		/* Three part targets behind live: the hold-back RFC 8216bis recommends. */
		bytes_printf(out, "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=%.3f\n",
		             3 * h->cfg.part_ms / 1000.0);
		bytes_printf(out, "#EXT-X-PART-INF:PART-TARGET=%.3f\n", h->cfg.part_ms / 1000.0);
	}
	unsigned listed = 0;
	uint32_t listed_init = 0;
	for (uint64_t m = first; any && m <= last; m++) {
		const struct hls_segment *s = hls_stream_segment(h, m);
		if (s->discontinuity)
			bytes_put_str(out, "#EXT-X-DISCONTINUITY\n");
		put_map(out, h, s, &listed_init, q);
		put_date(out, s->wall_ms);
		if (ll && m + HLS_PLAYLIST_PART_SEGMENTS > last)
			put_parts(out, h, s, q);
		bytes_printf(out, "#EXTINF:%.3f,\nseg-%llu.%s%s\n", s->dur_ms / 1000.0,
		             (unsigned long long)m, ext(h), q);
		listed++;
	}
	if (!ll)
		return listed;
	const struct hls_segment *open = hls_stream_open_segment(h);
	if (open && open->nparts > 0) {
		if (open->discontinuity)
			bytes_put_str(out, "#EXT-X-DISCONTINUITY\n");
		put_map(out, h, open, &listed_init, q);
		put_date(out, open->wall_ms);
		put_parts(out, h, open, q);
	}
	if (open)
		bytes_printf(out, "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part-%llu.%u.%s%s\"\n",
		             (unsigned long long)open->msn, open->nparts, ext(h), q);
	return listed;
}
