/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_fmp4_mux.c - the fragmented-MP4 packager: box nesting and order of
 * the initialization segment, the avcC and esds contents, moof/mdat with
 * mfhd, tfhd, tfdt and trun fields (data offsets that land on the first
 * sample byte, durations, sizes, flags, composition offsets), tracks
 * without samples left out, empty fragments, and rejected input.
 *
 * The checks walk the output with a small box reader of their own, which
 * asserts that every box's size nests exactly inside its parent.  Beyond
 * these tests the output was checked with ffprobe/ffmpeg on an FLV fixture
 * (320x240 H.264 + AAC), which decoded without errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/bytes.h"
#include "core/err.h"
#include "hls/fmp4_mux.h"
#include "proto/aac.h"
#include "proto/avc.h"

/* The x264 avcC of the e2e fixture (320x240 High@1.3), from its FLV sequence header. */
static const uint8_t fixture_avcc[] = {
	0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9,
	0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03,
	0x20, 0xf1, 0x42, 0x99, 0x60, 0x01, 0x00, 0x04, 0x68, 0xef, 0xbc, 0xb0, 0xfd, 0xf8,
	0xf8, 0x00,
};
/* AAC-LC, 44.1 kHz, stereo. */
static const uint8_t fixture_asc[] = { 0x12, 0x10 };

/* ---- a box reader for the checks ---- */

struct box {
	char type[5];
	const uint8_t *start;   /* the size field */
	size_t size;
	const uint8_t *body;    /* after the 8-byte header */
	size_t body_len;
};

/* Bytes between a box's header and its first child, for the boxes that have children. */
static int child_offset(const char *type)
{
	static const char *const plain[] = {
		"moov", "trak", "mdia", "minf", "dinf", "stbl", "mvex", "moof", "traf",
	};
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (strcmp(type, plain[i]) == 0)
			return 0;
	if (strcmp(type, "stsd") == 0 || strcmp(type, "dref") == 0)
		return 8;       /* version, flags, entry count */
	if (strcmp(type, "avc1") == 0)
		return 78;      /* VisualSampleEntry fields */
	if (strcmp(type, "mp4a") == 0)
		return 28;      /* AudioSampleEntry fields */
	return -1;
}

/* Reads the boxes of p[0..n), asserting that they fill it exactly.  Returns how many. */
static size_t read_boxes(const uint8_t *p, size_t n, struct box *out, size_t max)
{
	size_t count = 0, off = 0;
	while (off < n) {
		assert_true(n - off >= 8);
		size_t size = rd_u32be(p + off);
		assert_true(size >= 8);
		assert_true(size <= n - off);
		assert_true(count < max);
		struct box *b = &out[count++];
		memcpy(b->type, p + off + 4, 4);
		b->type[4] = 0;
		b->start = p + off;
		b->size = size;
		b->body = p + off + 8;
		b->body_len = size - 8;
		off += size;
	}
	assert_int_equal(off, n);
	return count;
}

/* The children of a box that has them. */
static size_t children(const struct box *parent, struct box *out, size_t max)
{
	int skip = child_offset(parent->type);
	assert_true(skip >= 0);
	assert_true(parent->body_len >= (size_t)skip);
	return read_boxes(parent->body + skip, parent->body_len - (size_t)skip, out, max);
}

/* Every box under p[0..n), recursively, nests exactly; returns the number of boxes. */
static size_t check_tree(const uint8_t *p, size_t n)
{
	struct box b[16];
	size_t count = read_boxes(p, n, b, 16), total = count;
	for (size_t i = 0; i < count; i++) {
		int skip = child_offset(b[i].type);
		if (skip >= 0) {
			assert_true(b[i].body_len >= (size_t)skip);
			total += check_tree(b[i].body + skip, b[i].body_len - (size_t)skip);
		}
	}
	return total;
}

/* Asserts that the box's children are exactly the given types, in order ("" ends the list). */
static size_t expect_children(const struct box *parent, const char *const *types,
                              struct box *out, size_t max)
{
	size_t n = children(parent, out, max), i = 0;
	for (; types[i][0]; i++) {
		assert_true(i < n);
		assert_string_equal(out[i].type, types[i]);
	}
	assert_int_equal(i, n);
	return n;
}

/* The first child of the given type (by path, "mdia/minf/stbl"). */
static struct box find(const struct box *parent, const char *path)
{
	struct box kids[16], cur = *parent;
	while (*path) {
		const char *slash = strchr(path, '/');
		size_t len = slash ? (size_t)(slash - path) : strlen(path);
		size_t n = children(&cur, kids, 16), i;
		for (i = 0; i < n; i++)
			if (strlen(kids[i].type) == len && memcmp(kids[i].type, path, len) == 0)
				break;
		assert_true(i < n);
		cur = kids[i];
		path += len + (slash ? 1 : 0);
	}
	return cur;
}

/* ---- inputs ---- */

struct fixture {
	struct avc_config avc;
	struct aac_config aac;
	struct fmp4_tracks t;
};

static void make_tracks(struct fixture *fx, int video, int audio)
{
	memset(fx, 0, sizeof(*fx));
	assert_int_equal(avc_parse_config(fixture_avcc, sizeof(fixture_avcc), &fx->avc), 0);
	assert_int_equal(aac_parse_asc(fixture_asc, sizeof(fixture_asc), &fx->aac), 0);
	fx->t.has_video = video;
	fx->t.has_audio = audio;
	fx->t.avcc = fixture_avcc;
	fx->t.avcc_len = sizeof(fixture_avcc);
	fx->t.avc = &fx->avc;
	fx->t.asc = fixture_asc;
	fx->t.asc_len = sizeof(fixture_asc);
	fx->t.aac = &fx->aac;
}

/* ---- initialization segment ---- */

static const char *const moov_av[] = { "mvhd", "trak", "trak", "mvex", "" };
static const char *const trak_kids[] = { "tkhd", "mdia", "" };
static const char *const mdia_kids[] = { "mdhd", "hdlr", "minf", "" };
static const char *const minf_video[] = { "vmhd", "dinf", "stbl", "" };
static const char *const minf_audio[] = { "smhd", "dinf", "stbl", "" };
static const char *const stbl_kids[] = { "stsd", "stts", "stsc", "stsz", "stco", "" };
static const char *const mvex_av[] = { "trex", "trex", "" };

/* Checks one trak: ids, timescale, handler, empty tables.  Returns its stsd entry. */
static struct box check_trak(const struct box *trak, uint32_t id, uint32_t timescale,
                             const char *handler, const char *entry)
{
	struct box k[16];
	expect_children(trak, trak_kids, k, 16);
	const struct box tkhd = k[0];
	assert_int_equal(tkhd.body_len, 84);
	assert_int_equal(rd_u32be(tkhd.body), 0x00000003);   /* v0, enabled + in movie */
	assert_int_equal(rd_u32be(tkhd.body + 12), id);

	struct box mdia = k[1];
	expect_children(&mdia, mdia_kids, k, 16);
	assert_int_equal(rd_u32be(k[0].body + 12), timescale);   /* mdhd */
	assert_int_equal(rd_u16be(k[0].body + 20), 0x55c4);      /* "und" */
	assert_memory_equal(k[1].body + 8, handler, 4);           /* hdlr */

	struct box minf = k[2];
	expect_children(&minf, strcmp(handler, "vide") == 0 ? minf_video : minf_audio, k, 16);
	struct box dref = find(&k[1], "dref");
	assert_int_equal(rd_u32be(dref.body + 4), 1);
	struct box url = find(&dref, "url ");
	assert_int_equal(url.body_len, 4);
	assert_int_equal(rd_u32be(url.body), 1);                  /* self-contained */

	struct box stbl = k[2];
	expect_children(&stbl, stbl_kids, k, 16);
	assert_int_equal(rd_u32be(k[0].body + 4), 1);             /* stsd: one entry */
	assert_int_equal(k[1].body_len, 8);                       /* stts: no entries */
	assert_int_equal(rd_u32be(k[1].body + 4), 0);
	assert_int_equal(k[2].body_len, 8);                       /* stsc */
	assert_int_equal(rd_u32be(k[2].body + 4), 0);
	assert_int_equal(k[3].body_len, 12);                      /* stsz */
	assert_int_equal(rd_u32be(k[3].body + 8), 0);
	assert_int_equal(k[4].body_len, 8);                       /* stco */
	assert_int_equal(rd_u32be(k[4].body + 4), 0);
	struct box stsd = k[0];
	struct box e[4];
	assert_int_equal(children(&stsd, e, 4), 1);
	assert_string_equal(e[0].type, entry);
	assert_int_equal(rd_u16be(e[0].body + 6), 1);             /* data_reference_index */
	return e[0];
}

static void test_init_layout(void **state)
{
	(void)state;
	struct fixture fx;
	make_tracks(&fx, 1, 1);
	struct bytes b;
	bytes_init(&b);
	assert_int_equal(fmp4_write_init(&fx.t, &b), 0);
	check_tree(b.data, b.len);

	struct box top[4];
	assert_int_equal(read_boxes(b.data, b.len, top, 4), 2);
	assert_string_equal(top[0].type, "ftyp");
	assert_int_equal(top[0].body_len, 20);
	assert_memory_equal(top[0].body, "iso6\0\0\0\0iso6cmfcmp41", 20);
	assert_string_equal(top[1].type, "moov");

	struct box k[16];
	expect_children(&top[1], moov_av, k, 16);
	const struct box mvhd = k[0];
	assert_int_equal(mvhd.body_len, 100);
	assert_int_equal(rd_u32be(mvhd.body + 12), FMP4_MOVIE_TIMESCALE);
	assert_int_equal(rd_u32be(mvhd.body + 96), 3);            /* next_track_ID */

	struct box avc1 = check_trak(&k[1], FMP4_TRACK_VIDEO, FMP4_VIDEO_TIMESCALE, "vide", "avc1");
	struct box tkhd = find(&k[1], "tkhd");
	assert_int_equal(rd_u32be(tkhd.body + 76), 320u << 16);
	assert_int_equal(rd_u32be(tkhd.body + 80), 240u << 16);
	assert_int_equal(rd_u16be(tkhd.body + 36), 0);            /* video: volume 0 */
	assert_int_equal(rd_u16be(avc1.body + 24), 320);
	assert_int_equal(rd_u16be(avc1.body + 26), 240);
	assert_int_equal(rd_u16be(avc1.body + 74), 0x0018);       /* depth */
	struct box e[4];
	assert_int_equal(children(&avc1, e, 4), 1);
	assert_string_equal(e[0].type, "avcC");
	assert_int_equal(e[0].body_len, sizeof(fixture_avcc));
	assert_memory_equal(e[0].body, fixture_avcc, sizeof(fixture_avcc));

	struct box mp4a = check_trak(&k[2], FMP4_TRACK_AUDIO, 44100, "soun", "mp4a");
	tkhd = find(&k[2], "tkhd");
	assert_int_equal(rd_u16be(tkhd.body + 36), 0x0100);
	assert_int_equal(rd_u32be(tkhd.body + 76), 0);
	assert_int_equal(rd_u16be(mp4a.body + 16), 2);            /* channel count */
	assert_int_equal(rd_u16be(mp4a.body + 18), 16);           /* sample size */
	assert_int_equal(rd_u32be(mp4a.body + 24), 44100u << 16);

	struct box mvex = k[3], trex[4];
	expect_children(&mvex, mvex_av, trex, 4);
	for (uint32_t i = 0; i < 2; i++) {
		assert_int_equal(trex[i].body_len, 24);
		assert_int_equal(rd_u32be(trex[i].body + 4), i + 1);   /* track_ID */
		assert_int_equal(rd_u32be(trex[i].body + 8), 1);       /* sample description */
	}
	bytes_free(&b);
}

/* Reads an expandable descriptor header; returns the body, *len its size. */
static const uint8_t *descriptor(const uint8_t *p, uint8_t tag, size_t *len)
{
	assert_int_equal(p[0], tag);
	size_t n = 0, i = 1;
	do {
		n = (n << 7) | (p[i] & 0x7f);
	} while (p[i++] & 0x80 && i < 5);
	*len = n;
	return p + i;
}

static void test_init_esds_carries_asc(void **state)
{
	(void)state;
	struct fixture fx;
	make_tracks(&fx, 1, 1);
	struct bytes b;
	bytes_init(&b);
	assert_int_equal(fmp4_write_init(&fx.t, &b), 0);
	struct box top[2];
	read_boxes(b.data, b.len, top, 2);
	struct box k[16];
	children(&top[1], k, 16);
	struct box esds = find(&k[2], "mdia/minf/stbl/stsd/mp4a/esds");
	assert_int_equal(rd_u32be(esds.body), 0);                 /* version 0, flags 0 */

	size_t es_len, dcd_len, dsi_len, sl_len;
	const uint8_t *es = descriptor(esds.body + 4, 0x03, &es_len);
	assert_int_equal(es + es_len, esds.body + esds.body_len);  /* fills the box */
	assert_int_equal(es[2], 0);                               /* no optional fields */
	const uint8_t *dcd = descriptor(es + 3, 0x04, &dcd_len);
	assert_int_equal(dcd[0], 0x40);                           /* MPEG-4 Audio */
	assert_int_equal(dcd[1], 0x15);                           /* audio stream, reserved 1 */
	const uint8_t *dsi = descriptor(dcd + 13, 0x05, &dsi_len);
	assert_int_equal(dsi_len, sizeof(fixture_asc));
	assert_memory_equal(dsi, fixture_asc, sizeof(fixture_asc));
	assert_int_equal(dsi + dsi_len, dcd + dcd_len);           /* DecoderConfig ends there */
	const uint8_t *sl = descriptor(dcd + dcd_len, 0x06, &sl_len);
	assert_int_equal(sl_len, 1);
	assert_int_equal(sl[0], 0x02);
	assert_int_equal(sl + 1, es + es_len);
	bytes_free(&b);
}

static void test_init_long_asc_uses_long_descriptor_sizes(void **state)
{
	(void)state;
	struct fixture fx;
	make_tracks(&fx, 0, 1);
	uint8_t asc[200];
	memset(asc, 0, sizeof(asc));
	memcpy(asc, fixture_asc, 2);
	fx.t.asc = asc;
	fx.t.asc_len = sizeof(asc);
	struct bytes b;
	bytes_init(&b);
	assert_int_equal(fmp4_write_init(&fx.t, &b), 0);
	check_tree(b.data, b.len);
	struct box top[2];
	read_boxes(b.data, b.len, top, 2);
	struct box esds = find(&top[1], "trak/mdia/minf/stbl/stsd/mp4a/esds");
	size_t es_len, dcd_len, dsi_len;
	const uint8_t *es = descriptor(esds.body + 4, 0x03, &es_len);
	assert_int_equal(es + es_len, esds.body + esds.body_len);
	const uint8_t *dcd = descriptor(es + 3, 0x04, &dcd_len);
	const uint8_t *dsi = descriptor(dcd + 13, 0x05, &dsi_len);
	assert_int_equal(dsi_len, sizeof(asc));
	assert_memory_equal(dsi, asc, sizeof(asc));
	bytes_free(&b);
}

static void test_init_single_track(void **state)
{
	(void)state;
	struct fixture fx;
	struct bytes b;
	struct box top[2], k[16];
	static const char *const one[] = { "mvhd", "trak", "mvex", "" };
	static const char *const one_trex[] = { "trex", "" };

	make_tracks(&fx, 1, 0);
	fx.t.asc = NULL;                  /* not looked at without audio */
	fx.t.aac = NULL;
	bytes_init(&b);
	assert_int_equal(fmp4_write_init(&fx.t, &b), 0);
	check_tree(b.data, b.len);
	read_boxes(b.data, b.len, top, 2);
	expect_children(&top[1], one, k, 16);
	check_trak(&k[1], FMP4_TRACK_VIDEO, FMP4_VIDEO_TIMESCALE, "vide", "avc1");
	struct box trex[2];
	expect_children(&k[2], one_trex, trex, 2);
	assert_int_equal(rd_u32be(trex[0].body + 4), FMP4_TRACK_VIDEO);

	make_tracks(&fx, 0, 1);
	fx.t.avcc = NULL;
	fx.t.avc = NULL;
	bytes_clear(&b);
	assert_int_equal(fmp4_write_init(&fx.t, &b), 0);
	check_tree(b.data, b.len);
	read_boxes(b.data, b.len, top, 2);
	expect_children(&top[1], one, k, 16);
	check_trak(&k[1], FMP4_TRACK_AUDIO, 44100, "soun", "mp4a");
	expect_children(&k[2], one_trex, trex, 2);
	assert_int_equal(rd_u32be(trex[0].body + 4), FMP4_TRACK_AUDIO);
	bytes_free(&b);
}

static void test_init_rejects_unusable_input(void **state)
{
	(void)state;
	struct fixture fx;
	struct bytes b;
	bytes_init(&b);
	make_tracks(&fx, 0, 0);
	assert_int_equal(fmp4_write_init(&fx.t, &b), SL_EINVAL);

	make_tracks(&fx, 1, 1);
	fx.aac.sample_rate = 0;
	assert_int_equal(fmp4_write_init(&fx.t, &b), SL_EINVAL);
	make_tracks(&fx, 1, 1);
	fx.t.asc = NULL;
	assert_int_equal(fmp4_write_init(&fx.t, &b), SL_EINVAL);
	make_tracks(&fx, 1, 1);
	fx.t.asc_len = 0;
	assert_int_equal(fmp4_write_init(&fx.t, &b), SL_EINVAL);
	make_tracks(&fx, 1, 1);
	fx.t.aac = NULL;
	assert_int_equal(fmp4_write_init(&fx.t, &b), SL_EINVAL);

	make_tracks(&fx, 1, 1);
	fx.t.avcc = NULL;
	assert_int_equal(fmp4_write_init(&fx.t, &b), SL_EINVAL);
	make_tracks(&fx, 1, 1);
	fx.t.avcc_len = 6;
	assert_int_equal(fmp4_write_init(&fx.t, &b), SL_EINVAL);
	make_tracks(&fx, 1, 1);
	fx.t.avc = NULL;
	assert_int_equal(fmp4_write_init(&fx.t, &b), SL_EINVAL);
	make_tracks(&fx, 1, 1);
	fx.avc.has_sps_info = 0;          /* no picture size */
	assert_int_equal(fmp4_write_init(&fx.t, &b), SL_EINVAL);
	make_tracks(&fx, 1, 1);
	uint8_t v2[sizeof(fixture_avcc)];
	memcpy(v2, fixture_avcc, sizeof(v2));
	v2[0] = 2;                        /* configurationVersion must be 1 */
	fx.t.avcc = v2;
	assert_int_equal(fmp4_write_init(&fx.t, &b), SL_EINVAL);
	assert_int_equal(b.len, 0);       /* nothing appended by any of them */
	bytes_free(&b);
}

/* ---- fragments ---- */

struct traf_facts {
	uint32_t track_id, tfhd_flags;
	uint64_t base;
	uint8_t trun_version;
	uint32_t trun_flags, count;
	int32_t data_offset;
	const uint8_t *samples;   /* the per-sample records */
};

static struct traf_facts read_traf(const struct box *traf)
{
	static const char *const kids[] = { "tfhd", "tfdt", "trun", "" };
	struct box k[4];
	struct traf_facts t;
	expect_children(traf, kids, k, 4);
	assert_int_equal(k[0].body_len, 8);
	t.tfhd_flags = rd_u32be(k[0].body) & 0xffffff;
	t.track_id = rd_u32be(k[0].body + 4);
	assert_int_equal(k[1].body_len, 12);
	assert_int_equal(k[1].body[0], 1);                /* tfdt version 1: 64-bit time */
	t.base = rd_u64be(k[1].body + 4);
	t.trun_version = k[2].body[0];
	t.trun_flags = rd_u32be(k[2].body) & 0xffffff;
	t.count = rd_u32be(k[2].body + 4);
	t.data_offset = (int32_t)rd_u32be(k[2].body + 8);
	t.samples = k[2].body + 12;
	size_t per = t.trun_flags & 0x800 ? 16 : 12;
	assert_int_equal(k[2].body_len, 12 + per * t.count);
	return t;
}

static const uint8_t au_key[] = { 0, 0, 0, 3, 0x65, 0x88, 0x84 };
static const uint8_t au_p1[] = { 0, 0, 0, 2, 0x41, 0x9a };
static const uint8_t au_p2[] = { 0, 0, 0, 4, 0x41, 0x9b, 0x01, 0x02, 0, 0, 0, 1, 0x0c };
static const uint8_t aac_frames[4][5] = {
	{ 0x21, 0x10, 0x01 }, { 0x21, 0x10, 0x02, 0x03 }, { 0x21, 0x10, 0x04, 0x05, 0x06 },
	{ 0x21, 0x11 },
};
static const size_t aac_lens[4] = { 3, 4, 5, 2 };

static void test_fragment_both_tracks(void **state)
{
	(void)state;
	struct fmp4_frag f;
	struct bytes b;
	fmp4_frag_init(&f);
	bytes_init(&b);
	/* A keyframe shown later, a frame shown before its decode time, a plain one. */
	uint64_t v0 = 1ull << 33;         /* past 32 bits: tfdt must be 64-bit */
	assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_VIDEO, au_key, sizeof(au_key), v0, 6006, 1), 0);
	assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_VIDEO, au_p1, sizeof(au_p1), v0 + 3003,
	                               -3003, 0), 0);
	assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_VIDEO, au_p2, sizeof(au_p2), v0 + 6006, 0, 0), 0);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_AUDIO, aac_frames[i], aac_lens[i],
		                               44100 + 1024 * i, 0, 0), 0);
	assert_int_equal(fmp4_frag_samples(&f), 7);

	assert_int_equal(fmp4_frag_write(&f, 7, v0 + 9500, 44100 + 4000, &b), 0);
	assert_int_equal(fmp4_frag_samples(&f), 0);
	check_tree(b.data, b.len);

	struct box top[2], k[4];
	assert_int_equal(read_boxes(b.data, b.len, top, 2), 2);
	assert_string_equal(top[0].type, "moof");
	assert_string_equal(top[1].type, "mdat");
	static const char *const moof_kids[] = { "mfhd", "traf", "traf", "" };
	expect_children(&top[0], moof_kids, k, 4);
	assert_int_equal(k[0].body_len, 8);
	assert_int_equal(rd_u32be(k[0].body + 4), 7);     /* sequence number */

	size_t video_bytes = sizeof(au_key) + sizeof(au_p1) + sizeof(au_p2);
	assert_int_equal(top[1].body_len, video_bytes + 3 + 4 + 5 + 2);

	struct traf_facts v = read_traf(&k[1]);
	assert_int_equal(v.track_id, FMP4_TRACK_VIDEO);
	assert_int_equal(v.tfhd_flags, 0x020000);         /* default-base-is-moof only */
	assert_true(v.base == v0);
	assert_int_equal(v.trun_version, 1);
	assert_int_equal(v.trun_flags, 0x000f01);
	assert_int_equal(v.count, 3);
	/* The data offset lands on the first byte of the mdat's body, the keyframe. */
	assert_ptr_equal(top[0].start + v.data_offset, top[1].body);
	assert_memory_equal(top[0].start + v.data_offset, au_key, sizeof(au_key));
	const uint32_t want_v[3][4] = {
		{ 3003, sizeof(au_key), FMP4_FLAGS_SYNC, 6006 },
		{ 3003, sizeof(au_p1), FMP4_FLAGS_NON_SYNC, (uint32_t)-3003 },
		{ 3494, sizeof(au_p2), FMP4_FLAGS_NON_SYNC, 0 },   /* until video_end_dts */
	};
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < 4; j++)
			assert_int_equal(rd_u32be(v.samples + 16 * i + 4 * j), want_v[i][j]);

	struct traf_facts a = read_traf(&k[2]);
	assert_int_equal(a.track_id, FMP4_TRACK_AUDIO);
	assert_int_equal(a.tfhd_flags, 0x020000);
	assert_true(a.base == 44100);
	assert_int_equal(a.trun_version, 0);
	assert_int_equal(a.trun_flags, 0x000701);         /* no composition offsets */
	assert_int_equal(a.count, 4);
	assert_int_equal(a.data_offset, v.data_offset + (int32_t)video_bytes);
	const uint8_t *ap = top[0].start + a.data_offset;
	for (size_t i = 0; i < 4; i++) {
		assert_memory_equal(ap, aac_frames[i], aac_lens[i]);
		ap += aac_lens[i];
		assert_int_equal(rd_u32be(a.samples + 12 * i), i < 3 ? 1024 : 4000 - 3 * 1024);
		assert_int_equal(rd_u32be(a.samples + 12 * i + 4), aac_lens[i]);
		assert_int_equal(rd_u32be(a.samples + 12 * i + 8), FMP4_FLAGS_SYNC);
	}
	assert_ptr_equal(ap, b.data + b.len);

	fmp4_frag_free(&f);
	bytes_free(&b);
}

/* The duration of the last sample of the first traf of a moof + mdat. */
static uint32_t last_duration(const uint8_t *p, size_t n)
{
	struct box top[2], k[4];
	read_boxes(p, n, top, 2);
	children(&top[0], k, 4);
	struct traf_facts t = read_traf(&k[1]);
	return rd_u32be(t.samples + (t.count - 1) * (t.trun_flags & 0x800 ? 16 : 12));
}

static void test_last_duration_fallbacks(void **state)
{
	(void)state;
	struct fmp4_frag f;
	struct bytes b;
	fmp4_frag_init(&f);
	bytes_init(&b);

	/* End not after the last sample: the one before it sets the length. */
	fmp4_frag_add(&f, FMP4_TRACK_VIDEO, au_key, sizeof(au_key), 1000, 0, 1);
	fmp4_frag_add(&f, FMP4_TRACK_VIDEO, au_p1, sizeof(au_p1), 4600, 0, 0);
	assert_int_equal(fmp4_frag_write(&f, 1, 4600, 0, &b), 0);
	assert_int_equal(last_duration(b.data, b.len), 3600);

	/* Alone, with no usable end: the defaults. */
	bytes_clear(&b);
	fmp4_frag_add(&f, FMP4_TRACK_VIDEO, au_key, sizeof(au_key), 1000, 0, 1);
	assert_int_equal(fmp4_frag_write(&f, 2, 0, 0, &b), 0);
	assert_int_equal(last_duration(b.data, b.len), FMP4_DEFAULT_VIDEO_DURATION);
	bytes_clear(&b);
	fmp4_frag_add(&f, FMP4_TRACK_AUDIO, aac_frames[0], aac_lens[0], 5000, 0, 0);
	assert_int_equal(fmp4_frag_write(&f, 3, 0, 5000, &b), 0);
	assert_int_equal(last_duration(b.data, b.len), FMP4_DEFAULT_AUDIO_DURATION);

	/* An end 2^32 ticks or more away does not fit: same fallback. */
	bytes_clear(&b);
	fmp4_frag_add(&f, FMP4_TRACK_AUDIO, aac_frames[0], aac_lens[0], 5000, 0, 0);
	assert_int_equal(fmp4_frag_write(&f, 4, 0, 5000 + (1ull << 32), &b), 0);
	assert_int_equal(last_duration(b.data, b.len), FMP4_DEFAULT_AUDIO_DURATION);

	/* Alone with an end after it: the end wins. */
	bytes_clear(&b);
	fmp4_frag_add(&f, FMP4_TRACK_AUDIO, aac_frames[0], aac_lens[0], 5000, 0, 0);
	assert_int_equal(fmp4_frag_write(&f, 5, 0, 5000 + 1023, &b), 0);
	assert_int_equal(last_duration(b.data, b.len), 1023);

	fmp4_frag_free(&f);
	bytes_free(&b);
}

static void test_track_without_samples_omitted(void **state)
{
	(void)state;
	struct fmp4_frag f;
	struct bytes b;
	fmp4_frag_init(&f);
	bytes_init(&b);
	assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_AUDIO, aac_frames[1], aac_lens[1], 2048, 0, 0), 0);
	assert_int_equal(fmp4_frag_write(&f, 42, 0, 3072, &b), 0);
	check_tree(b.data, b.len);
	struct box top[2], k[4];
	assert_int_equal(read_boxes(b.data, b.len, top, 2), 2);
	static const char *const moof_kids[] = { "mfhd", "traf", "" };
	expect_children(&top[0], moof_kids, k, 4);
	assert_int_equal(rd_u32be(k[0].body + 4), 42);
	struct traf_facts a = read_traf(&k[1]);
	assert_int_equal(a.track_id, FMP4_TRACK_AUDIO);
	assert_true(a.base == 2048);
	assert_int_equal(a.data_offset, (int32_t)top[0].size + 8);
	assert_ptr_equal(top[0].start + a.data_offset, top[1].body);
	assert_int_equal(top[1].body_len, aac_lens[1]);
	fmp4_frag_free(&f);
	bytes_free(&b);
}

static void test_empty_fragment_writes_nothing(void **state)
{
	(void)state;
	struct fmp4_frag f;
	struct bytes b;
	fmp4_frag_init(&f);
	bytes_init(&b);
	assert_int_equal(fmp4_frag_write(&f, 1, 0, 0, &b), 0);
	assert_int_equal(b.len, 0);
	/* Written once, it is empty again, and reusable: the next one starts afresh. */
	fmp4_frag_add(&f, FMP4_TRACK_VIDEO, au_key, sizeof(au_key), 0, 0, 1);
	assert_int_equal(fmp4_frag_write(&f, 1, 3000, 0, &b), 0);
	size_t first = b.len;
	assert_int_equal(fmp4_frag_write(&f, 2, 3000, 0, &b), 0);
	assert_int_equal(b.len, first);
	fmp4_frag_add(&f, FMP4_TRACK_VIDEO, au_p1, sizeof(au_p1), 3000, 0, 0);
	assert_int_equal(fmp4_frag_write(&f, 2, 6000, 0, &b), 0);
	struct box top[2], k[4];
	read_boxes(b.data + first, b.len - first, top, 2);
	children(&top[0], k, 4);
	assert_int_equal(rd_u32be(k[0].body + 4), 2);
	struct traf_facts v = read_traf(&k[1]);
	assert_true(v.base == 3000);
	assert_int_equal(v.count, 1);
	assert_memory_equal(top[1].body, au_p1, sizeof(au_p1));
	/* Reset drops what was gathered. */
	fmp4_frag_add(&f, FMP4_TRACK_AUDIO, aac_frames[0], aac_lens[0], 0, 0, 0);
	fmp4_frag_reset(&f);
	assert_int_equal(fmp4_frag_samples(&f), 0);
	size_t len = b.len;
	assert_int_equal(fmp4_frag_write(&f, 3, 0, 0, &b), 0);
	assert_int_equal(b.len, len);
	fmp4_frag_free(&f);
	bytes_free(&b);
}

static void test_add_rejects_bad_samples(void **state)
{
	(void)state;
	struct fmp4_frag f;
	fmp4_frag_init(&f);
	assert_int_equal(fmp4_frag_add(&f, 0, au_key, sizeof(au_key), 0, 0, 1), SL_EINVAL);
	assert_int_equal(fmp4_frag_add(&f, 3, au_key, sizeof(au_key), 0, 0, 1), SL_EINVAL);
	assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_VIDEO, au_key, 0, 0, 0, 1), SL_EINVAL);
	assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_VIDEO, NULL, 5, 0, 0, 1), SL_EINVAL);
	assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_AUDIO, aac_frames[0], 3, 0, 1, 0), SL_EINVAL);
	/* Every truncation of an access unit, and a zero length, are malformed. */
	for (size_t n = 1; n < sizeof(au_key); n++)
		assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_VIDEO, au_key, n, 0, 0, 1), SL_EPROTO);
	static const uint8_t zero[] = { 0, 0, 0, 0 };
	assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_VIDEO, zero, 4, 0, 0, 1), SL_EPROTO);
	assert_int_equal(fmp4_frag_samples(&f), 0);

	/* Time runs forward within a track, in steps that fit 32 bits; tracks are separate. */
	assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_VIDEO, au_key, sizeof(au_key), 9000, 0, 1), 0);
	assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_VIDEO, au_p1, sizeof(au_p1), 8999, 0, 0),
	                 SL_EINVAL);
	assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_VIDEO, au_p1, sizeof(au_p1),
	                               9000 + (1ull << 32), 0, 0), SL_EINVAL);
	assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_AUDIO, aac_frames[0], 3, 100, 0, 0), 0);
	assert_int_equal(fmp4_frag_samples(&f), 2);

	/* Other length sizes, when the avcC says so. */
	static const uint8_t two[] = { 0, 2, 0x41, 0x9a };
	assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_VIDEO, two, sizeof(two), 12000, 0, 0),
	                 SL_EPROTO);
	f.nal_length_size = 2;
	assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_VIDEO, two, sizeof(two), 12000, 0, 0), 0);
	f.nal_length_size = 3;
	assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_VIDEO, two, sizeof(two), 15000, 0, 0),
	                 SL_EPROTO);
	fmp4_frag_free(&f);
}

static void test_add_limits(void **state)
{
	(void)state;
	struct fmp4_frag f;
	fmp4_frag_init(&f);
	uint8_t one = 0x21;
	for (uint32_t i = 0; i < FMP4_FRAG_MAX_SAMPLES; i++)
		assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_AUDIO, &one, 1, i, 0, 0), 0);
	assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_AUDIO, &one, 1, FMP4_FRAG_MAX_SAMPLES, 0, 0),
	                 SL_ELIMIT);
	fmp4_frag_reset(&f);
	/* The byte limit is checked before anything is read or copied. */
	assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_AUDIO, &one, (size_t)FMP4_FRAG_MAX_BYTES + 1,
	                               0, 0, 0), SL_ELIMIT);
	assert_int_equal(fmp4_frag_samples(&f), 0);
	fmp4_frag_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_layout),
		cmocka_unit_test(test_init_esds_carries_asc),
		cmocka_unit_test(test_init_long_asc_uses_long_descriptor_sizes),
		cmocka_unit_test(test_init_single_track),
		cmocka_unit_test(test_init_rejects_unusable_input),
		cmocka_unit_test(test_fragment_both_tracks),
		cmocka_unit_test(test_last_duration_fallbacks),
		cmocka_unit_test(test_track_without_samples_omitted),
		cmocka_unit_test(test_empty_fragment_writes_nothing),
		cmocka_unit_test(test_add_rejects_bad_samples),
		cmocka_unit_test(test_add_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
