/* SPDX-License-Identifier: Apache-2.0 */
/* fmp4_split.c - one track out of our fMP4 fragments and inits (see fmp4_split.h). */
#include "hls/fmp4_split.h"

#include <string.h>

#include "core/err.h"

struct box {
	const uint8_t *p;     /* the whole box, header included */
	size_t len;
	char type[5];
	size_t hdr;           /* 8 (32-bit sizes only: we write no other) */
};

/* The box at p[0..n): 0, or SL_EPROTO. */
static int box_at(const uint8_t *p, size_t n, struct box *b)
{
	if (n < 8)
		return SL_EPROTO;
	uint32_t len = rd_u32be(p);
	if (len < 8 || len > n)
		return SL_EPROTO;
	b->p = p;
	b->len = len;
	memcpy(b->type, p + 4, 4);
	b->type[4] = 0;
	b->hdr = 8;
	return 0;
}

/* The first child of type t in parent's body (from offset skip): 0 or SL_ENOTFOUND/EPROTO. */
static int child(const struct box *parent, size_t skip, const char *t, struct box *out)
{
	size_t i = parent->hdr + skip;
	while (i < parent->len) {
		struct box b;
		if (box_at(parent->p + i, parent->len - i, &b) < 0)
			return SL_EPROTO;
		if (memcmp(b.type, t, 4) == 0) {
			*out = b;
			return 0;
		}
		i += b.len;
	}
	return SL_ENOTFOUND;
}

static void put_header(struct bytes *out, size_t len, const char *type)
{
	bytes_put_u32be(out, (uint32_t)len);
	bytes_append(out, type, 4);
}

/* The track id in a traf's tfhd, or 0. */
static uint32_t traf_track(const struct box *traf)
{
	struct box tfhd;
	if (child(traf, 0, "tfhd", &tfhd) < 0 || tfhd.len < 16)
		return 0;
	return rd_u32be(tfhd.p + 12);
}

/* Sum of the sample sizes a trun lists, or -1 (it must list sizes: ours always do). */
static int64_t trun_bytes(const struct box *trun, int32_t *data_offset, size_t *offset_at)
{
	if (trun->len < 16)
		return -1;
	uint32_t flags = rd_u32be(trun->p + 8) & 0xffffff;
	uint32_t count = rd_u32be(trun->p + 12);
	if (!(flags & 0x001) || !(flags & 0x200))
		return -1;     /* no data offset or no sample sizes: not what we write */
	size_t pos = 16;
	*offset_at = pos;
	if (trun->len < pos + 4)
		return -1;
	*data_offset = (int32_t)rd_u32be(trun->p + pos);
	pos += 4;
	if (flags & 0x004)
		pos += 4;      /* first_sample_flags */
	if (pos > trun->len)
		return -1;
	size_t per = 0, size_at = 0;
	if (flags & 0x100)
		per += 4;
	size_at = per;
	per += 4;          /* the size */
	if (flags & 0x400)
		per += 4;
	if (flags & 0x800)
		per += 4;
	if (count > (trun->len - pos) / per)
		return -1;
	int64_t total = 0;
	for (uint32_t k = 0; k < count; k++)
		total += rd_u32be(trun->p + pos + (size_t)k * per + size_at);
	return total;
}

/* One moof + mdat pair: appends track_id's part, or nothing.  0 or SL_EPROTO. */
static int split_pair(const struct box *moof, const struct box *mdat, uint32_t track_id,
                      struct bytes *out)
{
	struct box mfhd, traf;
	if (child(moof, 0, "mfhd", &mfhd) < 0)
		return SL_EPROTO;
	size_t i = moof->hdr;
	int found = 0;
	while (i < moof->len) {
		if (box_at(moof->p + i, moof->len - i, &traf) < 0)
			return SL_EPROTO;
		i += traf.len;
		if (memcmp(traf.type, "traf", 4) == 0 && traf_track(&traf) == track_id) {
			found = 1;
			break;
		}
	}
	if (!found)
		return 0;
	struct box trun;
	if (child(&traf, 0, "trun", &trun) < 0)
		return SL_EPROTO;
	int32_t off;
	size_t off_at;
	int64_t size = trun_bytes(&trun, &off, &off_at);
	/* default-base-is-moof: the offset counts from the moof's first byte, into its mdat. */
	if (size < 0 || off < 0 || (size_t)off < moof->len + mdat->hdr ||
	    (uint64_t)off - moof->len + (uint64_t)size > mdat->len)
		return SL_EPROTO;
	size_t new_moof = 8 + mfhd.len + traf.len;
	put_header(out, new_moof, "moof");
	bytes_append(out, mfhd.p, mfhd.len);
	/* The traf as it was, but for the trun's data offset. */
	size_t trun_in_traf = (size_t)(trun.p - traf.p);
	size_t before = trun_in_traf + off_at;
	bytes_append(out, traf.p, before);
	bytes_put_u32be(out, (uint32_t)(new_moof + 8));
	bytes_append(out, traf.p + before + 4, traf.len - before - 4);
	put_header(out, 8 + (size_t)size, "mdat");
	bytes_append(out, mdat->p + ((size_t)off - moof->len), (size_t)size);
	return 0;
}

int fmp4_split_fragments(const uint8_t *p, size_t n, uint32_t track_id, struct bytes *out)
{
	size_t start = out->len, i = 0;
	while (i < n) {
		struct box moof, mdat;
		if (box_at(p + i, n - i, &moof) < 0 || memcmp(moof.type, "moof", 4) != 0)
			goto bad;
		i += moof.len;
		if (box_at(p + i, n - i, &mdat) < 0 || memcmp(mdat.type, "mdat", 4) != 0)
			goto bad;
		i += mdat.len;
		if (split_pair(&moof, &mdat, track_id, out) < 0)
			goto bad;
	}
	return 0;
bad:
	out->len = start;
	return SL_EPROTO;
}

/* The track id in a trak's tkhd, or 0. */
static uint32_t trak_track(const struct box *trak)
{
	struct box tkhd;
	if (child(trak, 0, "tkhd", &tkhd) < 0 || tkhd.len < 32)
		return 0;
	return tkhd.p[8] == 1 ? rd_u32be(tkhd.p + 28) : rd_u32be(tkhd.p + 20);
}

/* mvex with only track_id's trex, appended. */
static int put_mvex(const struct box *mvex, uint32_t track_id, struct bytes *out)
{
	size_t at = out->len;
	put_header(out, 0, "mvex");
	size_t i = mvex->hdr;
	while (i < mvex->len) {
		struct box b;
		if (box_at(mvex->p + i, mvex->len - i, &b) < 0)
			return SL_EPROTO;
		i += b.len;
		if (memcmp(b.type, "trex", 4) == 0 && (b.len < 16 || rd_u32be(b.p + 12) != track_id))
			continue;
		bytes_append(out, b.p, b.len);
	}
	wr_u32be(out->data + at, (uint32_t)(out->len - at));
	return 0;
}

int fmp4_split_init(const uint8_t *p, size_t n, uint32_t track_id, struct bytes *out)
{
	size_t start = out->len, i = 0;
	int found = 0;
	while (i < n) {
		struct box top;
		if (box_at(p + i, n - i, &top) < 0)
			goto bad;
		i += top.len;
		if (memcmp(top.type, "moov", 4) != 0) {
			bytes_append(out, top.p, top.len);
			continue;
		}
		size_t at = out->len;
		put_header(out, 0, "moov");
		size_t j = top.hdr;
		while (j < top.len) {
			struct box b;
			if (box_at(top.p + j, top.len - j, &b) < 0)
				goto bad;
			j += b.len;
			if (memcmp(b.type, "trak", 4) == 0) {
				if (trak_track(&b) != track_id)
					continue;
				found = 1;
			}
			if (memcmp(b.type, "mvex", 4) == 0) {
				if (put_mvex(&b, track_id, out) < 0)
					goto bad;
				continue;
			}
			bytes_append(out, b.p, b.len);
		}
		wr_u32be(out->data + at, (uint32_t)(out->len - at));
	}
	if (!found) {
		out->len = start;
		return SL_ENOTFOUND;
	}
	return 0;
bad:
	out->len = start;
	return SL_EPROTO;
}
