/* SPDX-License-Identifier: Apache-2.0 */
/* fmp4_mux.c - fragmented MP4 (CMAF) packaging of H.264 and AAC (see fmp4_mux.h). */
#include "hls/fmp4_mux.h"

#include <string.h>

#include "core/err.h"
#include "core/mem.h"

/* ---- box writing: the size is patched in when the box is closed ---- */

static size_t box_open(struct bytes *b, const char type[4])
{
	size_t at = b->len;
	uint8_t *p = bytes_extend(b, 8);
	memcpy(p + 4, type, 4);
	return at;
}

static size_t fullbox_open(struct bytes *b, const char type[4], uint8_t version, uint32_t flags)
{
	size_t at = box_open(b, type);
	bytes_put_u32be(b, ((uint32_t)version << 24) | (flags & 0xffffff));
	return at;
}

static void box_close(struct bytes *b, size_t at)
{
	wr_u32be(b->data + at, (uint32_t)(b->len - at));
}

static void put_zeros(struct bytes *b, size_t n)
{
	memset(bytes_extend(b, n), 0, n);
}

static void put_u64be(struct bytes *b, uint64_t v)
{
	wr_u64be(bytes_extend(b, 8), v);
}

/* The unity transformation matrix of mvhd and tkhd. */
static void put_matrix(struct bytes *b)
{
	static const uint32_t m[9] = { 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000 };
	for (size_t i = 0; i < 9; i++)
		bytes_put_u32be(b, m[i]);
}

/* ---- initialization segment ---- */

static void write_ftyp(struct bytes *b)
{
	size_t box = box_open(b, "ftyp");
	bytes_append(b, "iso6", 4);
	bytes_put_u32be(b, 0);             /* minor version */
	bytes_append(b, "iso6cmfcmp41", 12);
	box_close(b, box);
}

static void write_mvhd(struct bytes *b)
{
	size_t box = fullbox_open(b, "mvhd", 0, 0);
	bytes_put_u32be(b, 0);             /* creation time */
	bytes_put_u32be(b, 0);             /* modification time */
	bytes_put_u32be(b, FMP4_MOVIE_TIMESCALE);
	bytes_put_u32be(b, 0);             /* duration: unknown, fragments follow */
	bytes_put_u32be(b, 0x00010000);    /* rate 1.0 */
	bytes_put_u16be(b, 0x0100);        /* volume 1.0 */
	put_zeros(b, 2 + 8);               /* reserved */
	put_matrix(b);
	put_zeros(b, 6 * 4);               /* pre_defined */
	bytes_put_u32be(b, FMP4_TRACK_AUDIO + 1);   /* next_track_ID */
	box_close(b, box);
}

static void write_tkhd(struct bytes *b, uint32_t track_id, int audio, uint32_t width,
                       uint32_t height)
{
	size_t box = fullbox_open(b, "tkhd", 0, 0x000003);   /* enabled, in movie */
	bytes_put_u32be(b, 0);             /* creation time */
	bytes_put_u32be(b, 0);             /* modification time */
	bytes_put_u32be(b, track_id);
	bytes_put_u32be(b, 0);             /* reserved */
	bytes_put_u32be(b, 0);             /* duration */
	put_zeros(b, 8);                   /* reserved */
	bytes_put_u16be(b, 0);             /* layer */
	bytes_put_u16be(b, 0);             /* alternate group */
	bytes_put_u16be(b, audio ? 0x0100 : 0);   /* volume */
	bytes_put_u16be(b, 0);             /* reserved */
	put_matrix(b);
	bytes_put_u32be(b, width << 16);   /* 16.16 fixed point */
	bytes_put_u32be(b, height << 16);
	box_close(b, box);
}

static void write_mdhd(struct bytes *b, uint32_t timescale)
{
	size_t box = fullbox_open(b, "mdhd", 0, 0);
	bytes_put_u32be(b, 0);             /* creation time */
	bytes_put_u32be(b, 0);             /* modification time */
	bytes_put_u32be(b, timescale);
	bytes_put_u32be(b, 0);             /* duration */
	bytes_put_u16be(b, 0x55c4);        /* language "und", 5 bits a letter */
	bytes_put_u16be(b, 0);             /* pre_defined */
	box_close(b, box);
}

static void write_hdlr(struct bytes *b, int audio)
{
	size_t box = fullbox_open(b, "hdlr", 0, 0);
	bytes_put_u32be(b, 0);             /* pre_defined */
	bytes_append(b, audio ? "soun" : "vide", 4);
	put_zeros(b, 12);                  /* reserved */
	const char *name = audio ? "SoundHandler" : "VideoHandler";
	bytes_append(b, name, strlen(name) + 1);
	box_close(b, box);
}

/* dinf with one self-contained data reference: the media is in this file. */
static void write_dinf(struct bytes *b)
{
	size_t dinf = box_open(b, "dinf");
	size_t dref = fullbox_open(b, "dref", 0, 0);
	bytes_put_u32be(b, 1);             /* entry count */
	size_t url = fullbox_open(b, "url ", 0, 0x000001);
	box_close(b, url);
	box_close(b, dref);
	box_close(b, dinf);
}

static void write_avc1(struct bytes *b, const struct fmp4_tracks *t)
{
	size_t box = box_open(b, "avc1");
	put_zeros(b, 6);                   /* reserved */
	bytes_put_u16be(b, 1);             /* data_reference_index */
	put_zeros(b, 2 + 2 + 12);          /* pre_defined, reserved, pre_defined */
	bytes_put_u16be(b, (uint16_t)t->avc->first_sps.width);
	bytes_put_u16be(b, (uint16_t)t->avc->first_sps.height);
	bytes_put_u32be(b, 0x00480000);    /* 72 dpi */
	bytes_put_u32be(b, 0x00480000);
	bytes_put_u32be(b, 0);             /* reserved */
	bytes_put_u16be(b, 1);             /* frame count */
	put_zeros(b, 32);                  /* compressor name: empty Pascal string */
	bytes_put_u16be(b, 0x0018);        /* depth: colour, no alpha */
	bytes_put_u16be(b, 0xffff);        /* pre_defined = -1 */
	size_t avcc = box_open(b, "avcC");
	bytes_append(b, t->avcc, t->avcc_len);
	box_close(b, avcc);
	box_close(b, box);
}

/* An MPEG-4 descriptor header: tag, then the size in 7-bit groups, high first. */
static void put_descriptor(struct bytes *b, uint8_t tag, size_t size)
{
	bytes_put_u8(b, tag);
	int groups = 1;
	while (groups < 4 && size >> (7 * groups))
		groups++;
	for (int i = groups - 1; i >= 0; i--)
		bytes_put_u8(b, (uint8_t)(((size >> (7 * i)) & 0x7f) | (i ? 0x80 : 0)));
}

static size_t descriptor_len(size_t size)
{
	size_t groups = 1;
	while (groups < 4 && size >> (7 * groups))
		groups++;
	return 1 + groups + size;
}

/* esds (ISO/IEC 14496-14 5.6): ES_Descriptor > DecoderConfig > DecoderSpecificInfo = ASC. */
static void write_esds(struct bytes *b, const uint8_t *asc, size_t asc_len)
{
	size_t dsi = descriptor_len(asc_len);
	size_t dcd = descriptor_len(13 + dsi);
	size_t sl = descriptor_len(1);
	size_t box = fullbox_open(b, "esds", 0, 0);
	put_descriptor(b, 0x03, 3 + dcd + sl);   /* ES_Descriptor */
	bytes_put_u16be(b, 0);                    /* ES_ID: 0 in a file */
	bytes_put_u8(b, 0);                       /* no dependency, URL or OCR; priority 0 */
	put_descriptor(b, 0x04, 13 + dsi);        /* DecoderConfigDescriptor */
	bytes_put_u8(b, 0x40);                    /* objectTypeIndication: MPEG-4 Audio */
	bytes_put_u8(b, (0x05 << 2) | 1);         /* streamType audio, upStream 0, reserved 1 */
	bytes_put_u24be(b, 0);                    /* bufferSizeDB */
	bytes_put_u32be(b, 0);                    /* maxBitrate: unknown */
	bytes_put_u32be(b, 0);                    /* avgBitrate: variable */
	put_descriptor(b, 0x05, asc_len);         /* DecoderSpecificInfo */
	bytes_append(b, asc, asc_len);
	put_descriptor(b, 0x06, 1);               /* SLConfigDescriptor */
	bytes_put_u8(b, 0x02);                    /* predefined: MP4 files */
	box_close(b, box);
}

static void write_mp4a(struct bytes *b, const struct fmp4_tracks *t)
{
	uint32_t rate = t->aac->sample_rate;
	size_t box = box_open(b, "mp4a");
	put_zeros(b, 6);                   /* reserved */
	bytes_put_u16be(b, 1);             /* data_reference_index */
	put_zeros(b, 8);                   /* reserved */
	bytes_put_u16be(b, t->aac->channels ? t->aac->channels : 2);
	bytes_put_u16be(b, 16);            /* sample size */
	bytes_put_u16be(b, 0);             /* pre_defined */
	bytes_put_u16be(b, 0);             /* reserved */
	bytes_put_u32be(b, rate <= 0xffff ? rate << 16 : 0);   /* 16.16; the ASC is what counts */
	write_esds(b, t->asc, t->asc_len);
	box_close(b, box);
}

/* A sample table box with no entries (stts, stsc, stco). */
static void write_empty_table(struct bytes *b, const char type[4])
{
	size_t box = fullbox_open(b, type, 0, 0);
	bytes_put_u32be(b, 0);             /* entry count */
	box_close(b, box);
}

/* stbl with the one sample entry and no samples: they all come in fragments. */
static void write_stbl(struct bytes *b, const struct fmp4_tracks *t, int audio)
{
	size_t stbl = box_open(b, "stbl");
	size_t stsd = fullbox_open(b, "stsd", 0, 0);
	bytes_put_u32be(b, 1);             /* entry count */
	if (audio)
		write_mp4a(b, t);
	else
		write_avc1(b, t);
	box_close(b, stsd);
	write_empty_table(b, "stts");
	write_empty_table(b, "stsc");
	size_t stsz = fullbox_open(b, "stsz", 0, 0);
	bytes_put_u32be(b, 0);             /* sample size: they vary */
	bytes_put_u32be(b, 0);             /* sample count */
	box_close(b, stsz);
	write_empty_table(b, "stco");
	box_close(b, stbl);
}

static void write_trak(struct bytes *b, const struct fmp4_tracks *t, int audio)
{
	size_t trak = box_open(b, "trak");
	if (audio)
		write_tkhd(b, FMP4_TRACK_AUDIO, 1, 0, 0);
	else
		write_tkhd(b, FMP4_TRACK_VIDEO, 0, t->avc->first_sps.width,
		           t->avc->first_sps.height);
	size_t mdia = box_open(b, "mdia");
	write_mdhd(b, audio ? t->aac->sample_rate : FMP4_VIDEO_TIMESCALE);
	write_hdlr(b, audio);
	size_t minf = box_open(b, "minf");
	if (audio) {
		size_t smhd = fullbox_open(b, "smhd", 0, 0);
		bytes_put_u16be(b, 0);         /* balance */
		bytes_put_u16be(b, 0);         /* reserved */
		box_close(b, smhd);
	} else {
		size_t vmhd = fullbox_open(b, "vmhd", 0, 0x000001);
		put_zeros(b, 2 + 6);           /* graphics mode copy, opcolor */
		box_close(b, vmhd);
	}
	write_dinf(b);
	write_stbl(b, t, audio);
	box_close(b, minf);
	box_close(b, mdia);
	box_close(b, trak);
}

static void write_trex(struct bytes *b, uint32_t track_id)
{
	size_t box = fullbox_open(b, "trex", 0, 0);
	bytes_put_u32be(b, track_id);
	bytes_put_u32be(b, 1);             /* default sample description index */
	bytes_put_u32be(b, 0);             /* default duration, size, flags: trun says */
	bytes_put_u32be(b, 0);
	bytes_put_u32be(b, 0);
	box_close(b, box);
}

static int check_tracks(const struct fmp4_tracks *t)
{
	if (!t->has_video && !t->has_audio)
		return SL_EINVAL;
	if (t->has_video) {
		if (!t->avcc || t->avcc_len < 7 || t->avcc_len > FMP4_MAX_CONFIG_LEN ||
		    t->avcc[0] != 1 || !t->avc || !t->avc->has_sps_info ||
		    t->avc->first_sps.width == 0 || t->avc->first_sps.height == 0 ||
		    t->avc->first_sps.width > 0xffff || t->avc->first_sps.height > 0xffff)
			return SL_EINVAL;
	}
	if (t->has_audio) {
		if (!t->asc || t->asc_len == 0 || t->asc_len > FMP4_MAX_CONFIG_LEN || !t->aac ||
		    t->aac->sample_rate == 0)
			return SL_EINVAL;
	}
	return 0;
}

int fmp4_write_init(const struct fmp4_tracks *t, struct bytes *out)
{
	int rc = check_tracks(t);
	if (rc < 0)
		return rc;
	write_ftyp(out);
	size_t moov = box_open(out, "moov");
	write_mvhd(out);
	if (t->has_video)
		write_trak(out, t, 0);
	if (t->has_audio)
		write_trak(out, t, 1);
	size_t mvex = box_open(out, "mvex");
	if (t->has_video)
		write_trex(out, FMP4_TRACK_VIDEO);
	if (t->has_audio)
		write_trex(out, FMP4_TRACK_AUDIO);
	box_close(out, mvex);
	box_close(out, moov);
	return 0;
}

/* ---- fragments ---- */

static void track_buf_free(struct fmp4_track_buf *tb)
{
	bytes_free(&tb->data);
	free(tb->samples);
	tb->samples = NULL;
	tb->n = tb->cap = 0;
}

void fmp4_frag_init(struct fmp4_frag *f)
{
	memset(f, 0, sizeof(*f));
	bytes_init(&f->video.data);
	bytes_init(&f->audio.data);
	f->nal_length_size = 4;
}

void fmp4_frag_free(struct fmp4_frag *f)
{
	track_buf_free(&f->video);
	track_buf_free(&f->audio);
}

void fmp4_frag_reset(struct fmp4_frag *f)
{
	bytes_clear(&f->video.data);
	bytes_clear(&f->audio.data);
	f->video.n = 0;
	f->audio.n = 0;
}

size_t fmp4_frag_samples(const struct fmp4_frag *f)
{
	return f->video.n + f->audio.n;
}

/* Whether p[0..n) is a whole number of non-empty NAL units with size-byte length prefixes. */
static int avcc_framing_ok(const uint8_t *p, size_t n, unsigned size)
{
	if (size != 1 && size != 2 && size != 4)
		return 0;
	for (size_t off = 0; off < n;) {
		if (n - off < size)
			return 0;
		size_t len = 0;
		for (unsigned i = 0; i < size; i++)
			len = (len << 8) | p[off + i];
		off += size;
		if (len == 0 || len > n - off)
			return 0;
		off += len;
	}
	return 1;
}

int fmp4_frag_add(struct fmp4_frag *f, int track, const uint8_t *data, size_t len,
                  uint64_t dts, int32_t cts, int key)
{
	struct fmp4_track_buf *tb;
	if (track == FMP4_TRACK_VIDEO)
		tb = &f->video;
	else if (track == FMP4_TRACK_AUDIO)
		tb = &f->audio;
	else
		return SL_EINVAL;
	if (!data || len == 0)
		return SL_EINVAL;
	if (track == FMP4_TRACK_AUDIO && cts != 0)
		return SL_EINVAL;
	if (tb->n > 0) {
		uint64_t prev = tb->samples[tb->n - 1].dts;
		if (dts < prev || dts - prev > UINT32_MAX)
			return SL_EINVAL;
	}
	if (track == FMP4_TRACK_VIDEO && !avcc_framing_ok(data, len, f->nal_length_size))
		return SL_EPROTO;
	size_t used = f->video.data.len + f->audio.data.len;
	if (len > FMP4_FRAG_MAX_BYTES - used || fmp4_frag_samples(f) >= FMP4_FRAG_MAX_SAMPLES)
		return SL_ELIMIT;

	if (tb->n == tb->cap) {
		tb->cap = tb->cap ? 2 * tb->cap : 16;
		tb->samples = xrealloc(tb->samples, tb->cap * sizeof(*tb->samples));
	}
	struct fmp4_sample *s = &tb->samples[tb->n++];
	s->dts = dts;
	s->size = (uint32_t)len;
	s->cts = track == FMP4_TRACK_VIDEO ? cts : 0;
	s->key = track == FMP4_TRACK_AUDIO || key;
	bytes_append(&tb->data, data, len);
	return 0;
}

static uint32_t sample_duration(const struct fmp4_track_buf *tb, size_t i, uint64_t end_dts,
                                uint32_t alone)
{
	const struct fmp4_sample *s = tb->samples;
	if (i + 1 < tb->n)
		return (uint32_t)(s[i + 1].dts - s[i].dts);   /* bounded by fmp4_frag_add */
	if (end_dts > s[i].dts && end_dts - s[i].dts <= UINT32_MAX)
		return (uint32_t)(end_dts - s[i].dts);
	if (i > 0)
		return (uint32_t)(s[i].dts - s[i - 1].dts);
	return alone;
}

/*
 * One traf.  Returns the offset in out of its trun's data_offset field, to
 * be filled in once the moof's size is known.
 */
static size_t write_traf(struct bytes *b, const struct fmp4_track_buf *tb, uint32_t track_id,
                         uint64_t end_dts)
{
	int video = track_id == FMP4_TRACK_VIDEO;
	size_t traf = box_open(b, "traf");
	size_t tfhd = fullbox_open(b, "tfhd", 0, 0x020000);   /* default-base-is-moof */
	bytes_put_u32be(b, track_id);
	box_close(b, tfhd);
	size_t tfdt = fullbox_open(b, "tfdt", 1, 0);
	put_u64be(b, tb->samples[0].dts);
	box_close(b, tfdt);
	/* data offset, sample duration, size, flags (+ composition time offset) */
	uint32_t flags = 0x000001 | 0x000100 | 0x000200 | 0x000400 | (video ? 0x000800 : 0);
	size_t trun = fullbox_open(b, "trun", video ? 1 : 0, flags);
	bytes_put_u32be(b, (uint32_t)tb->n);
	size_t data_offset_at = b->len;
	bytes_put_u32be(b, 0);
	uint32_t alone = video ? FMP4_DEFAULT_VIDEO_DURATION : FMP4_DEFAULT_AUDIO_DURATION;
	for (size_t i = 0; i < tb->n; i++) {
		const struct fmp4_sample *s = &tb->samples[i];
		uint8_t *p = bytes_extend(b, video ? 16 : 12);
		wr_u32be(p, sample_duration(tb, i, end_dts, alone));
		wr_u32be(p + 4, s->size);
		wr_u32be(p + 8, s->key ? FMP4_FLAGS_SYNC : FMP4_FLAGS_NON_SYNC);
		if (video)
			wr_u32be(p + 12, (uint32_t)s->cts);   /* signed in version 1 */
	}
	box_close(b, trun);
	box_close(b, traf);
	return data_offset_at;
}

int fmp4_frag_write(struct fmp4_frag *f, uint32_t seq, uint64_t video_end_dts,
                    uint64_t audio_end_dts, struct bytes *out)
{
	if (fmp4_frag_samples(f) == 0)
		return 0;
	size_t moof = box_open(out, "moof");
	size_t mfhd = fullbox_open(out, "mfhd", 0, 0);
	bytes_put_u32be(out, seq);
	box_close(out, mfhd);
	size_t video_off = 0, audio_off = 0;
	if (f->video.n)
		video_off = write_traf(out, &f->video, FMP4_TRACK_VIDEO, video_end_dts);
	if (f->audio.n)
		audio_off = write_traf(out, &f->audio, FMP4_TRACK_AUDIO, audio_end_dts);
	box_close(out, moof);

	/* Offsets from the moof's first byte; the limits keep them within 31 bits. */
	size_t first = out->len - moof + 8;
	if (f->video.n)
		wr_u32be(out->data + video_off, (uint32_t)first);
	if (f->audio.n)
		wr_u32be(out->data + audio_off, (uint32_t)(first + f->video.data.len));

	size_t mdat = box_open(out, "mdat");
	bytes_append(out, f->video.data.data, f->video.data.len);
	bytes_append(out, f->audio.data.data, f->audio.data.len);
	box_close(out, mdat);
	fmp4_frag_reset(f);
	return 0;
}
