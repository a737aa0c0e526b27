/* SPDX-License-Identifier: Apache-2.0 */
/* ts_mux.c - MPEG-TS packaging of H.264 and AAC for HLS (see ts_mux.h). */
#include "hls/ts_mux.h"

#include <string.h>

#include "core/err.h"
#include "proto/mpegts.h"   /* mpegts_crc32: the demuxer's and the muxer's one CRC */

void ts_mux_init(struct ts_mux *m, int has_video, int has_audio)
{
	memset(m, 0, sizeof(*m));
	m->has_video = has_video;
	m->has_audio = has_audio;
}

/* One packet holding a PSI section (pointer field 0), stuffed with 0xff. */
static void write_section(struct bytes *out, uint16_t pid, uint8_t *cc, const uint8_t *sec,
                          size_t len)
{
	uint8_t *p = bytes_extend(out, TS_PACKET_SIZE);
	p[0] = 0x47;
	p[1] = (uint8_t)(0x40 | (pid >> 8));
	p[2] = (uint8_t)pid;
	p[3] = (uint8_t)(0x10 | (*cc & 0x0f));
	*cc = (uint8_t)((*cc + 1) & 0x0f);
	p[4] = 0; /* pointer field */
	memcpy(p + 5, sec, len);
	uint32_t crc = mpegts_crc32(sec, len);
	wr_u32be(p + 5 + len, crc);
	memset(p + 9 + len, 0xff, TS_PACKET_SIZE - 9 - len);
}

void ts_mux_write_psi(struct ts_mux *m, struct bytes *out)
{
	static const uint8_t pat[] = {
		0x00, 0xb0, 0x0d,               /* table 0, syntax 1, length 13 */
		0x00, 0x01, 0xc1, 0x00, 0x00,   /* ts id 1, version 0, current, section 0/0 */
		0x00, 0x01,                     /* program 1 */
		0xe0 | (TS_PID_PMT >> 8), TS_PID_PMT & 0xff,
	};
	write_section(out, TS_PID_PAT, &m->cc_pat, pat, sizeof(pat));

	uint8_t pmt[32];
	size_t n = 0;
	unsigned nes = (m->has_video ? 1u : 0u) + (m->has_audio ? 1u : 0u);
	uint16_t pcr_pid = m->has_video || !m->has_audio ? TS_PID_VIDEO : TS_PID_AUDIO;
	pmt[n++] = 0x02;
	pmt[n++] = 0xb0;
	pmt[n++] = (uint8_t)(13 + 5 * nes);
	pmt[n++] = 0x00;
	pmt[n++] = 0x01;                  /* program 1 */
	pmt[n++] = 0xc1;
	pmt[n++] = 0x00;
	pmt[n++] = 0x00;
	pmt[n++] = (uint8_t)(0xe0 | (pcr_pid >> 8));
	pmt[n++] = (uint8_t)pcr_pid;
	pmt[n++] = 0xf0;                  /* no program descriptors */
	pmt[n++] = 0x00;
	if (m->has_video) {
		pmt[n++] = TS_STREAM_H264;
		pmt[n++] = 0xe0 | (TS_PID_VIDEO >> 8);
		pmt[n++] = TS_PID_VIDEO & 0xff;
		pmt[n++] = 0xf0;
		pmt[n++] = 0x00;
	}
	if (m->has_audio) {
		pmt[n++] = TS_STREAM_AAC_ADTS;
		pmt[n++] = 0xe0 | (TS_PID_AUDIO >> 8);
		pmt[n++] = TS_PID_AUDIO & 0xff;
		pmt[n++] = 0xf0;
		pmt[n++] = 0x00;
	}
	write_section(out, TS_PID_PMT, &m->cc_pmt, pmt, n);
}

/* A 5-byte PTS or DTS field: the 4-bit prefix, then 33 bits with marker bits. */
static void put_timestamp(uint8_t *p, uint8_t prefix, uint64_t t)
{
	t &= TS_CLOCK_MASK;
	p[0] = (uint8_t)((prefix << 4) | ((t >> 29) & 0x0e) | 1);
	p[1] = (uint8_t)(t >> 22);
	p[2] = (uint8_t)(((t >> 14) & 0xfe) | 1);
	p[3] = (uint8_t)(t >> 7);
	p[4] = (uint8_t)(((t << 1) & 0xfe) | 1);
}

static size_t pes_header(uint8_t *h, int video, size_t es_len, uint64_t pts, uint64_t dts)
{
	int with_dts = video && ((pts - dts) & TS_CLOCK_MASK) != 0;
	size_t hlen = with_dts ? 10 : 5;
	h[0] = 0x00;
	h[1] = 0x00;
	h[2] = 0x01;
	h[3] = video ? 0xe0 : 0xc0;
	size_t pes_len = 3 + hlen + es_len;
	/* Video PES may exceed 16 bits; 0 means "unbounded", which video may use. */
	wr_u16be(h + 4, video || pes_len > 0xffff ? 0 : (uint16_t)pes_len);
	h[6] = 0x80;
	h[7] = with_dts ? 0xc0 : 0x80;
	h[8] = (uint8_t)hlen;
	put_timestamp(h + 9, with_dts ? 0x3 : 0x2, pts);
	if (with_dts)
		put_timestamp(h + 14, 0x1, dts);
	return 9 + hlen;
}

void ts_mux_write_pes(struct ts_mux *m, struct bytes *out, int video, const uint8_t *es,
                      size_t n, uint64_t pts, uint64_t dts, int key)
{
	uint8_t hdr[20];
	size_t hlen = pes_header(hdr, video, n, pts, dts);
	uint16_t pid = video ? TS_PID_VIDEO : TS_PID_AUDIO;
	uint8_t *cc = video ? &m->cc_video : &m->cc_audio;
	int pcr_here = video || !m->has_video;
	size_t total = hlen + n, done = 0;
	int first = 1;

	while (done < total) {
		uint8_t af[TS_PACKET_SIZE];
		size_t af_len = 0;              /* adaptation field bytes after its length byte */
		int has_af = 0;
		if (first && (pcr_here || key)) {
			has_af = 1;
			af[0] = (uint8_t)((key ? 0x40 : 0) | (pcr_here ? 0x10 : 0));
			af_len = 1;
			if (pcr_here) {
				uint64_t pcr = (dts + (1ull << 33) - 9000) & TS_CLOCK_MASK;
				af[1] = (uint8_t)(pcr >> 25);
				af[2] = (uint8_t)(pcr >> 17);
				af[3] = (uint8_t)(pcr >> 9);
				af[4] = (uint8_t)(pcr >> 1);
				af[5] = (uint8_t)(((pcr & 1) << 7) | 0x7e);
				af[6] = 0x00;
				af_len = 7;
			}
		}
		size_t room = 184 - (has_af ? 1 + af_len : 0);
		size_t left = total - done;
		if (left < room) {
			size_t stuff = room - left;
			if (!has_af) {
				has_af = 1;
				if (stuff == 1) {
					af_len = 0;
				} else {
					af[0] = 0x00;
					memset(af + 1, 0xff, stuff - 2);
					af_len = stuff - 1;
				}
			} else {
				memset(af + af_len, 0xff, stuff);
				af_len += stuff;
			}
			room = left;
		}
		uint8_t *p = bytes_extend(out, TS_PACKET_SIZE);
		p[0] = 0x47;
		p[1] = (uint8_t)((first ? 0x40 : 0) | (pid >> 8));
		p[2] = (uint8_t)pid;
		p[3] = (uint8_t)((has_af ? 0x30 : 0x10) | (*cc & 0x0f));
		*cc = (uint8_t)((*cc + 1) & 0x0f);
		size_t o = 4;
		if (has_af) {
			p[o++] = (uint8_t)af_len;
			memcpy(p + o, af, af_len);
			o += af_len;
		}
		/* room bytes of payload: PES header first, then the elementary stream. */
		size_t take = room;
		while (take > 0) {
			size_t k;
			if (done < hlen) {
				k = hlen - done < take ? hlen - done : take;
				memcpy(p + o, hdr + done, k);
			} else {
				k = take;
				memcpy(p + o, es + (done - hlen), k);
			}
			o += k;
			done += k;
			take -= k;
		}
		first = 0;
	}
}

static void put_nal(struct bytes *out, const uint8_t *nal, size_t len)
{
	static const uint8_t start[4] = { 0, 0, 0, 1 };
	bytes_append(out, start, 4);
	bytes_append(out, nal, len);
}

int ts_avcc_to_annexb(const uint8_t *p, size_t n, unsigned nal_length_size,
                      const struct avc_config *cfg, int key, struct bytes *out)
{
	if (nal_length_size != 1 && nal_length_size != 2 && nal_length_size != 4)
		return SL_EPROTO;
	/* Check the framing first so a bad frame appends nothing. */
	int has_sps = 0;
	for (size_t off = 0; off < n;) {
		if (n - off < nal_length_size)
			return SL_EPROTO;
		size_t len = 0;
		for (unsigned i = 0; i < nal_length_size; i++)
			len = (len << 8) | p[off + i];
		off += nal_length_size;
		if (len == 0 || len > n - off)
			return SL_EPROTO;
		if ((p[off] & 0x1f) == 7)
			has_sps = 1;
		off += len;
	}
	static const uint8_t aud[2] = { 0x09, 0xf0 };
	put_nal(out, aud, sizeof(aud));
	if (key && !has_sps && cfg) {
		for (unsigned i = 0; i < cfg->nsps; i++)
			put_nal(out, cfg->sps[i], cfg->sps_len[i]);
		for (unsigned i = 0; i < cfg->npps; i++)
			put_nal(out, cfg->pps[i], cfg->pps_len[i]);
	}
	for (size_t off = 0; off < n;) {
		size_t len = 0;
		for (unsigned i = 0; i < nal_length_size; i++)
			len = (len << 8) | p[off + i];
		off += nal_length_size;
		if ((p[off] & 0x1f) != 9)
			put_nal(out, p + off, len);
		off += len;
	}
	return 0;
}
