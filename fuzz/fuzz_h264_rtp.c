/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_h264_rtp.c - libFuzzer target for the H.264 RTP depacketizer and a
 * packetize -> depacketize round trip.
 *
 * Input byte 0 picks the mode.  Even: the rest is a run of RTP payloads,
 * each as [length (16 bits)][flags: 1 marker, 2 new timestamp, 4 a lost
 * packet before it][payload], fed to the depacketizer; every access unit
 * it completes must be well-formed AVCC (4-byte lengths covering it
 * exactly, no empty NAL) inside its buffer.  Odd: byte 1 picks the AVCC
 * length size (1, 2, 4), byte 2 the payload size (16 + 8 * b), the rest is
 * an access unit; if the packetizer accepts it, every payload respects the
 * size, only the last has the marker, and depacketizing them gives the
 * unit back (AUDs and unsendable NALs dropped, SPS+PPS in front when it
 * holds an IDR).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/err.h"
#include "proto/avc.h"
#include "proto/h264_rtp.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)
#define AU_CAP 65536

static uint8_t au_buf[AU_CAP];
static uint8_t want[AU_CAP + 64];
static uint8_t pkt[16 + 8 * 255];

static void check_avcc(const uint8_t *p, size_t n)
{
	size_t pos = 0;
	while (pos < n) {
		CHECK(n - pos >= 5);
		size_t l = rd_u32be(p + pos);
		CHECK(l >= 1 && l <= n - pos - 4);
		pos += 4 + l;
	}
}

static void depack_mode(const uint8_t *data, size_t size)
{
	struct h264_depack d;
	h264_depack_init(&d, au_buf, sizeof(au_buf));
	uint16_t seq = 1000;
	uint32_t ts = 0;
	size_t pos = 0;
	while (size - pos >= 3) {
		size_t len = rd_u16be(data + pos);
		uint8_t flags = data[pos + 2];
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		if (flags & 2)
			ts += 3000;
		if (flags & 4)
			seq++;
		int rc = h264_depack_push(&d, data + pos, len, seq++, ts, flags & 1);
		CHECK(rc == 0 || rc == 1 || rc == SL_EPROTO || rc == SL_ELIMIT);
		CHECK(d.len <= d.cap);
		if (rc == 1)
			check_avcc(d.buf, d.len);
		pos += len;
	}
}

static const uint8_t sps[] = { 0x67, 0x42, 0xc0, 0x1f, 0x8c, 0x8d, 0x40, 0x50, 0x1e, 0xd0 };
static const uint8_t pps[] = { 0x68, 0xce, 0x3c, 0x80 };

static void pack_mode(const uint8_t *data, size_t size)
{
	if (size < 3)
		return;
	static const uint8_t sizes[] = { 1, 2, 4 };
	uint8_t ls = sizes[data[1] % 3];
	size_t mtu = 16 + 8 * (size_t)data[2];
	const uint8_t *au = data + 3;
	size_t n = size - 3;
	if (n > AU_CAP / 2)
		return;
	struct avc_config c;
	memset(&c, 0, sizeof(c));
	c.nal_length_size = ls;
	c.nsps = c.npps = 1;
	c.sps[0] = sps;
	c.sps_len[0] = sizeof(sps);
	c.pps[0] = pps;
	c.pps_len[0] = sizeof(pps);

	struct h264_packer pk;
	h264_pack_init(&pk, au, n, ls, &c, mtu);
	/* What must come back: SPS+PPS if IDR, then every non-AUD NAL, with 4-byte lengths. */
	size_t wl = 0, pos = 0;
	int idr = h264_au_is_idr(au, n, ls);
	if (idr) {
		wr_u32be(want, sizeof(sps));
		memcpy(want + 4, sps, sizeof(sps));
		wr_u32be(want + 4 + sizeof(sps), sizeof(pps));
		memcpy(want + 8 + sizeof(sps), pps, sizeof(pps));
		wl = 8 + sizeof(sps) + sizeof(pps);
	}
	int framing_ok = 1;
	while (pos < n) {
		if (n - pos < ls) { framing_ok = 0; break; }
		size_t l = ls == 1 ? au[pos] : ls == 2 ? rd_u16be(au + pos) : rd_u32be(au + pos);
		if (l == 0 || l > n - pos - ls) { framing_ok = 0; break; }
		uint8_t h = au[pos + ls], type = h & 0x1f;
		if (!(h & 0x80) && type >= 1 && type <= 23 && type != H264_NAL_AUD) {
			wr_u32be(want + wl, (uint32_t)l);
			memcpy(want + wl + 4, au + pos + ls, l);
			wl += 4 + l;
		}
		pos += ls + l;
	}

	struct h264_depack d;
	h264_depack_init(&d, au_buf, sizeof(au_buf));
	int marker, rc, got = 0;
	uint16_t seq = 65500;
	size_t packets = 0;
	while ((rc = h264_pack_next(&pk, pkt, sizeof(pkt), &marker)) > 0) {
		CHECK(framing_ok);
		CHECK((size_t)rc <= mtu);
		CHECK(got == 0);
		packets++;
		int dr = h264_depack_push(&d, pkt, (size_t)rc, seq++, 90000, marker);
		CHECK(dr >= 0);
		if (dr == 1)
			got = 1;
		CHECK(dr == marker);
	}
	if (!framing_ok) {
		CHECK(rc == SL_EPROTO && packets == 0);
		return;
	}
	CHECK(rc == 0);
	if (packets == 0) {
		CHECK(wl == 0);
		return;
	}
	CHECK(got);
	CHECK(d.len == wl && memcmp(d.buf, want, wl) == 0);
	CHECK(d.keyframe == idr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		pack_mode(data, size);
	else
		depack_mode(data + 1, size - 1);
	return 0;
}
