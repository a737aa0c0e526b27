/* SPDX-License-Identifier: Apache-2.0 */
/* dash_mpd.c - the DASH manifest over the fMP4 packager's segments (see dash_mpd.h). */
#include "hls/dash_mpd.h"

#include <stdio.h>
#include <time.h>

#include "hls/hls_playlist.h"

/* ISO 8601 UTC with milliseconds, as xs:dateTime wants it. */
static void put_time(struct bytes *out, uint64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char buf[40];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	bytes_printf(out, "%s.%03uZ", buf, (unsigned)(ms % 1000));
}

static void put_duration(struct bytes *out, const char *attr, uint64_t ms)
{
	bytes_printf(out, " %s=\"PT%llu.%03uS\"", attr, (unsigned long long)(ms / 1000),
	             (unsigned)(ms % 1000));
}

int dash_mpd_build(const struct hls_stream *h, uint64_t now_ms, const char *q,
                   struct bytes *out)
{
	if (!h->cfg.fmp4)
		return -1;
	uint64_t first = 0, last = 0;
	if (!hls_playlist_window(h, &first, &last))
		return 0;
	/* From the newest discontinuity or init change on: one timeline, one init. */
	uint64_t from = last;
	const struct hls_segment *ls = hls_stream_segment(h, last);
	while (from > first) {
		const struct hls_segment *s = hls_stream_segment(h, from);
		const struct hls_segment *p = hls_stream_segment(h, from - 1);
		if (s->discontinuity || p->init_id != ls->init_id)
			break;
		from--;
	}
	const struct hls_segment *fs = hls_stream_segment(h, from);
	if (!fs->init_id)
		return 0;
	uint64_t max_dur = 0, total = 0, bytes = 0;
	for (uint64_t m = from; m <= last; m++) {
		const struct hls_segment *s = hls_stream_segment(h, m);
		max_dur = s->dur_ms > max_dur ? s->dur_ms : max_dur;
		total += s->dur_ms;
		bytes += s->bytes;
	}
	/* Media time (ms) of a segment is start_ms + HLS_TS_OFFSET_MS: the fragments' tfdt. */
	uint64_t media0 = ls->start_ms + HLS_TS_OFFSET_MS;
	uint64_t ast = ls->wall_ms > media0 ? ls->wall_ms - media0 : 0;
	uint64_t bandwidth = total ? bytes * 8000 / total : 0;

	bytes_put_str(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	              "<MPD xmlns=\"urn:mpeg:dash:schema:mpd:2011\" "
	              "profiles=\"urn:mpeg:dash:profile:isoff-live:2011\" type=\"dynamic\"");
	bytes_put_str(out, " availabilityStartTime=\"");
	put_time(out, ast);
	bytes_put_str(out, "\" publishTime=\"");
	put_time(out, now_ms);
	bytes_put_str(out, "\"");
	/* Reload about every segment; keep the window the playlist keeps. */
	put_duration(out, "minimumUpdatePeriod", h->cfg.segment_ms);
	put_duration(out, "minBufferTime", h->cfg.segment_ms);
	put_duration(out, "timeShiftBufferDepth", total);
	put_duration(out, "suggestedPresentationDelay", 2 * (uint64_t)h->cfg.segment_ms);
	put_duration(out, "maxSegmentDuration", max_dur);
	bytes_put_str(out, ">\n");
	int ll = h->cfg.part_ms > 0 && h->cfg.part_ms < h->cfg.segment_ms;
	if (ll)
		/* Low-latency DASH: players aim this far behind live (a segment and a part). */
		bytes_printf(out, " <ServiceDescription id=\"0\">\n  <Latency target=\"%u\" "
		             "min=\"%u\" max=\"%u\"/>\n </ServiceDescription>\n",
		             h->cfg.segment_ms + h->cfg.part_ms, h->cfg.segment_ms,
		             3 * h->cfg.segment_ms);
	bytes_put_str(out, " <Period id=\"0\" start=\"PT0S\">\n");
	/* Both tracks are cut from the same segments: one timeline, one bandwidth estimate each. */
	for (int track = 1; track <= 2; track++) {
		int video = track == 1;
		if (video ? !h->have_avc : !h->have_aac)
			continue;
		bytes_printf(out, "  <AdaptationSet id=\"%d\" contentType=\"%s\" mimeType=\"%s/mp4\" "
		             "segmentAlignment=\"true\" startWithSAP=\"1\">\n", track,
		             video ? "video" : "audio", video ? "video" : "audio");
		bytes_printf(out, "   <Representation id=\"%s\" bandwidth=\"%llu\" codecs=\"",
		             video ? "video" : "audio", (unsigned long long)(bandwidth ? bandwidth : 1));
		if (video)
			bytes_printf(out, "avc1.%02x%02x%02x", h->avc.profile, h->avc.compat,
			             h->avc.level);
		else
			bytes_printf(out, "mp4a.40.%u", h->aac.object_type);
		bytes_put_str(out, "\"");
		if (video && h->avc.has_sps_info)
			bytes_printf(out, " width=\"%u\" height=\"%u\"", h->avc.first_sps.width,
			             h->avc.first_sps.height);
		if (!video)
			bytes_printf(out, " audioSamplingRate=\"%u\"", h->aac.sample_rate);
		bytes_put_str(out, ">\n");
		const char *t = video ? "v" : "a";
		/* $Time$, not $Number$: stable names whatever a player makes of the numbering. */
		bytes_printf(out, "    <SegmentTemplate timescale=\"1000\" "
		             "initialization=\"init-%u-%s.mp4%s\" media=\"seg-t$Time$-%s.m4s%s\"",
		             fs->init_id, t, q, t, q);
		/*
		 * LL: the next segment may be asked for once its first part exists (a segment
		 * minus a part early); the node then sends it part by part as they complete.
		 */
		if (ll)
			bytes_printf(out, " availabilityTimeOffset=\"%.3f\" "
			             "availabilityTimeComplete=\"false\"",
			             (h->cfg.segment_ms - h->cfg.part_ms) / 1000.0);
		bytes_put_str(out, ">\n     <SegmentTimeline>\n");
		for (uint64_t m = from; m <= last; m++) {
			const struct hls_segment *s = hls_stream_segment(h, m);
			bytes_printf(out, "      <S t=\"%llu\" d=\"%u\"/>\n",
			             (unsigned long long)(s->start_ms + HLS_TS_OFFSET_MS), s->dur_ms);
		}
		bytes_put_str(out, "     </SegmentTimeline>\n    </SegmentTemplate>\n"
		              "   </Representation>\n  </AdaptationSet>\n");
	}
	bytes_put_str(out, " </Period>\n <UTCTiming schemeIdUri=\"urn:mpeg:dash:utc:direct:2014\" value=\"");
	put_time(out, now_ms);
	bytes_put_str(out, "\"/>\n</MPD>\n");
	return (int)(last - from + 1);
}
