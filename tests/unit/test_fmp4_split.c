/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_fmp4_split.c - one track out of our fMP4 (DASH): the cut init keeps
 * only that trak and trex; each cut fragment is moof(mfhd, that traf) + an
 * mdat holding exactly that track's sample bytes, with the trun's data
 * offset pointing at them; damage is refused with nothing appended.
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
#include "hls/fmp4_split.h"
#include "proto/aac.h"
#include "proto/avc.h"

static const uint8_t avcc[] = {
	0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9,
	0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x03,
	0x20, 0xf1, 0x42, 0x99, 0x60, 0x01, 0x00, 0x04, 0x68, 0xef, 0xbc, 0xb0,
};
static const uint8_t asc[] = { 0x12, 0x10 };

/* The children of the box whose body is p[0..n), by type, into types[]. */
static int kids(const uint8_t *p, size_t n, char types[][5], const uint8_t **at, int max)
{
	int k = 0;
	size_t i = 0;
	while (i + 8 <= n && k < max) {
		uint32_t len = rd_u32be(p + i);
		assert_true(len >= 8 && len <= n - i);
		memcpy(types[k], p + i + 4, 4);
		types[k][4] = 0;
		at[k] = p + i;
		k++;
		i += len;
	}
	assert_int_equal(i, n);
	return k;
}

static void make_init(struct bytes *b)
{
	struct avc_config avc;
	struct aac_config aac;
	assert_int_equal(avc_parse_config(avcc, sizeof(avcc), &avc), 0);
	assert_int_equal(aac_parse_asc(asc, sizeof(asc), &aac), 0);
	struct fmp4_tracks t = { 1, 1, avcc, sizeof(avcc), &avc, asc, sizeof(asc), &aac };
	assert_int_equal(fmp4_write_init(&t, b), 0);
}

static void test_init(void **state)
{
	(void)state;
	struct bytes in, out;
	bytes_init(&in);
	bytes_init(&out);
	make_init(&in);
	for (uint32_t track = 1; track <= 2; track++) {
		bytes_clear(&out);
		assert_int_equal(fmp4_split_init(in.data, in.len, track, &out), 0);
		char types[8][5];
		const uint8_t *at[8];
		int n = kids(out.data, out.len, types, at, 8);
		assert_int_equal(n, 2);
		assert_string_equal(types[0], "ftyp");
		assert_string_equal(types[1], "moov");
		const uint8_t *moov = at[1];
		n = kids(moov + 8, rd_u32be(moov) - 8, types, at, 8);
		assert_int_equal(n, 3);
		assert_string_equal(types[0], "mvhd");
		assert_string_equal(types[1], "trak");
		assert_string_equal(types[2], "mvex");
		/* tkhd (version 0): track id at 20 */
		assert_int_equal(rd_u32be(at[1] + 8 + 20), track);
		const uint8_t *mvex = at[2];
		n = kids(mvex + 8, rd_u32be(mvex) - 8, types, at, 8);
		assert_int_equal(n, 1);
		assert_string_equal(types[0], "trex");
		assert_int_equal(rd_u32be(at[0] + 12), track);
	}
	bytes_clear(&out);
	assert_int_equal(fmp4_split_init(in.data, in.len, 3, &out), SL_ENOTFOUND);
	assert_int_equal(out.len, 0);
	bytes_free(&in);
	bytes_free(&out);
}

/* A fragment: 3 video samples of bytes 0x10+i, 4 audio samples of bytes 0x50+i. */
static void make_frag(struct bytes *b, uint32_t seq, uint64_t base)
{
	struct fmp4_frag f;
	fmp4_frag_init(&f);
	for (int i = 0; i < 4; i++) {
		uint8_t s[40];
		if (i < 3) {
			/* One AVCC NAL unit: a 4-byte length, then its bytes. */
			memset(s, 0x10 + i, sizeof(s));
			wr_u32be(s, 26 + (uint32_t)i);
			assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_VIDEO, s, 30 + (size_t)i, base +
			                               (uint64_t)i * 3600, 0, i == 0), 0);
		}
		memset(s, 0x50 + i, sizeof(s));
		assert_int_equal(fmp4_frag_add(&f, FMP4_TRACK_AUDIO, s, 10 + (size_t)i,
		                               base / 90 * 44 + (uint64_t)i * 1024, 0, 0), 0);
	}
	assert_int_equal(fmp4_frag_write(&f, seq, base + 3 * 3600, 0, b), 0);
	fmp4_frag_free(&f);
}

/* Checks one cut moof + mdat at p; returns its length. */
static size_t check_pair(const uint8_t *p, size_t n, uint32_t track)
{
	char types[4][5];
	const uint8_t *at[4];
	uint32_t moof_len = rd_u32be(p);
	assert_memory_equal(p + 4, "moof", 4);
	int k = kids(p + 8, moof_len - 8, types, at, 4);
	assert_int_equal(k, 2);
	assert_string_equal(types[0], "mfhd");
	assert_string_equal(types[1], "traf");
	const uint8_t *traf = at[1];
	k = kids(traf + 8, rd_u32be(traf) - 8, types, at, 4);
	assert_string_equal(types[0], "tfhd");
	assert_int_equal(rd_u32be(at[0] + 12), track);
	const uint8_t *trun = NULL;
	for (int i = 0; i < k; i++)
		if (!strcmp(types[i], "trun"))
			trun = at[i];
	assert_non_null(trun);
	/* The data offset points just past the mdat header. */
	assert_int_equal(rd_u32be(trun + 16), moof_len + 8);
	const uint8_t *mdat = p + moof_len;
	assert_memory_equal(mdat + 4, "mdat", 4);
	size_t mlen = rd_u32be(mdat);
	size_t want = track == 1 ? 30 + 31 + 32 : 10 + 11 + 12 + 13;
	assert_int_equal(mlen, 8 + want);
	/* Exactly that track's sample bytes, in order. */
	size_t o = 8;
	for (int i = 0; i < (track == 1 ? 3 : 4); i++) {
		size_t len = (track == 1 ? 30 : 10) + (size_t)i;
		size_t j = 0;
		if (track == 1) {
			assert_int_equal(rd_u32be(mdat + o), len - 4);
			j = 4;
		}
		for (; j < len; j++)
			assert_int_equal(mdat[o + j], (track == 1 ? 0x10 : 0x50) + i);
		o += len;
	}
	assert_true(moof_len + mlen <= n);
	return moof_len + mlen;
}

static void test_fragments(void **state)
{
	(void)state;
	struct bytes in, out;
	bytes_init(&in);
	bytes_init(&out);
	make_frag(&in, 1, 90000);
	make_frag(&in, 2, 90000 + 3 * 3600 * 4);
	for (uint32_t track = 1; track <= 2; track++) {
		bytes_clear(&out);
		assert_int_equal(fmp4_split_fragments(in.data, in.len, track, &out), 0);
		size_t first = check_pair(out.data, out.len, track);
		size_t second = check_pair(out.data + first, out.len - first, track);
		assert_int_equal(first + second, out.len);
	}
	/* A track the fragments lack: nothing, and no error. */
	bytes_clear(&out);
	assert_int_equal(fmp4_split_fragments(in.data, in.len, 7, &out), 0);
	assert_int_equal(out.len, 0);
	/* Cut short anywhere: refused, nothing appended. */
	for (size_t cut = 1; cut < in.len; cut += 7) {
		bytes_clear(&out);
		bytes_put_u8(&out, 0xaa);
		int rc = fmp4_split_fragments(in.data, cut, 1, &out);
		assert_int_equal(rc, SL_EPROTO);
		assert_int_equal(out.len, 1);
	}
	bytes_free(&in);
	bytes_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_fragments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
