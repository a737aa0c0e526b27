/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpegts.c - the transport stream demuxer (see mpegts.h).
 *
 * Every length read from the input is checked against what is left of the
 * packet or buffer before it is used; a packet that does not add up is
 * skipped, and a PES packet that lost one of its TS packets is dropped
 * whole, so damage never reaches a decoder half-formed.
 */
#include <string.h>

#include "core/err.h"
#include "proto/avc.h"
#include "proto/mpegts.h"

#define PID_PAT 0x0000
#define PID_NULL 0x1fff
#define CLOCK_MASK ((1ull << 33) - 1)
#define ST_AAC_ADTS 0x0f
#define ST_H264 0x1b
#define ST_HEVC 0x24

static const uint32_t adts_rates[13] = {
	96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
};

uint32_t mpegts_crc32(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint32_t)p[i] << 24;
		for (int b = 0; b < 8; b++)
			crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04c11db7u : crc << 1;
	}
	return crc;
}

void mpegts_demux_init(struct mpegts_demux *d, size_t max_pes, mpegts_frame_cb cb, void *arg)
{
	memset(d, 0, sizeof(*d));
	d->max_pes = max_pes ? max_pes : MPEGTS_PES_MAX_DEFAULT;
	d->cb = cb;
	d->arg = arg;
	bytes_init(&d->video.buf);
	bytes_init(&d->audio.buf);
	bytes_init(&d->scratch);
}

void mpegts_demux_free(struct mpegts_demux *d)
{
	bytes_free(&d->video.buf);
	bytes_free(&d->audio.buf);
	bytes_free(&d->scratch);
}

/* A 33-bit clock to ms on our timeline: unwrapped against the last one seen. */
static uint32_t clock_ms(struct mpegts_demux *d, uint64_t raw)
{
	raw &= CLOCK_MASK;
	if (!d->have_clock) {
		d->have_clock = 1;
		d->ext = (int64_t)raw;
		d->origin = (int64_t)raw;
	} else {
		/* The shorter way round the 33-bit circle: forwards or (B-frames, audio) back. */
		int64_t delta = (int64_t)((raw - d->last_raw) & CLOCK_MASK);
		if (delta >= (int64_t)(1ull << 32))
			delta -= (int64_t)(1ull << 33);
		d->ext += delta;
	}
	d->last_raw = raw;
	int64_t ms = (d->ext - d->origin) / 90;
	return ms < 0 ? 0 : (uint32_t)ms;
}

static int read_clock(const uint8_t *p, uint64_t *out)
{
	/* '001x' or '0011'/'0001' prefix nibble, then 3+15+15 bits with marker bits. */
	if (!(p[0] & 1) || !(p[2] & 1) || !(p[4] & 1))
		return -1;
	*out = ((uint64_t)(p[0] >> 1 & 7) << 30) | ((uint64_t)rd_u16be(p + 1) >> 1 << 15) |
	       (rd_u16be(p + 3) >> 1);
	return 0;
}

static void emit(struct mpegts_demux *d, enum mpegts_frame_kind kind, const uint8_t *data,
                 size_t len, uint32_t dts_ms, int32_t cts_ms, int key)
{
	struct mpegts_frame f = { kind, data, len, dts_ms, cts_ms, key };
	d->stats.frames++;
	d->cb(d->arg, &f);
}

/* Finds the next Annex B start code at or after i; returns its index and sets *sc_len. */
static size_t next_start(const uint8_t *p, size_t n, size_t i, size_t *sc_len)
{
	for (; i + 3 <= n; i++) {
		if (p[i] == 0 && p[i + 1] == 0) {
			if (p[i + 2] == 1) {
				*sc_len = 3;
				return i;
			}
			if (i + 4 <= n && p[i + 2] == 0 && p[i + 3] == 1) {
				*sc_len = 4;
				return i;
			}
		}
	}
	*sc_len = 0;
	return n;
}

static void avc_send_config(struct mpegts_demux *d, uint32_t dts_ms)
{
	if (d->sps_len < 4 || d->pps_len == 0)
		return;
	uint8_t rec[11 + 2 * MPEGTS_PARAM_SET_MAX];
	const uint8_t *sps = d->sps, *pps = d->pps;
	int k = avc_write_config(rec, sizeof(rec), &sps, &d->sps_len, 1, &pps, &d->pps_len, 1);
	if (k < 0)
		return;
	d->avc_config_sent = 1;
	emit(d, MPEGTS_AVC_CONFIG, rec, (size_t)k, dts_ms, 0, 0);
}

/* Keeps a parameter set; returns 1 when it differs from the one held. */
static int keep_param_set(uint8_t *dst, size_t *dst_len, const uint8_t *nal, size_t n)
{
	if (n > MPEGTS_PARAM_SET_MAX)
		return 0;     /* not one we can carry: keep the old one */
	if (n == *dst_len && memcmp(dst, nal, n) == 0)
		return 0;
	memcpy(dst, nal, n);
	*dst_len = n;
	return 1;
}

static void avc_access_unit(struct mpegts_demux *d, const uint8_t *es, size_t n,
                            uint32_t dts_ms, int32_t cts_ms)
{
	struct bytes *out = &d->scratch;
	bytes_clear(out);
	int key = 0, changed = 0;
	size_t sc, i = next_start(es, n, 0, &sc);
	while (i < n) {
		size_t start = i + sc, sc2;
		size_t end = next_start(es, n, start, &sc2);
		size_t len = end - start;
		/* Trailing zero bytes belong to the next start code, not this NAL unit. */
		while (len > 0 && es[start + len - 1] == 0)
			len--;
		if (len > 0) {
			const uint8_t *nal = es + start;
			unsigned type = nal[0] & 0x1f;
			if (type == 7)
				changed |= keep_param_set(d->sps, &d->sps_len, nal, len);
			else if (type == 8)
				changed |= keep_param_set(d->pps, &d->pps_len, nal, len);
			else if (type != 9) {   /* access unit delimiters are the muxer's business */
				if (type == 5)
					key = 1;
				bytes_put_u32be(out, (uint32_t)len);
				bytes_append(out, nal, len);
			}
		}
		i = end;
		sc = sc2;
	}
	if (changed || (!d->avc_config_sent && key))
		avc_send_config(d, dts_ms);
	/* Frames before the first configuration cannot be decoded by anyone: drop them. */
	if (!d->avc_config_sent || out->len == 0)
		return;
	emit(d, MPEGTS_AVC_FRAME, out->data, out->len, dts_ms, cts_ms, key);
}

static void aac_frames(struct mpegts_demux *d, const uint8_t *es, size_t n, uint32_t pts_ms)
{
	size_t i = 0;
	unsigned frame_no = 0;
	while (i + 7 <= n) {
		const uint8_t *h = es + i;
		if (h[0] != 0xff || (h[1] & 0xf6) != 0xf0) {
			d->stats.sync_losses++;
			return;   /* the rest of this PES is not ADTS we can frame */
		}
		int crc = !(h[1] & 1);
		unsigned profile = h[2] >> 6;
		unsigned rate = (h[2] >> 2) & 0x0f;
		unsigned chan = ((h[2] & 1) << 2) | (h[3] >> 6);
		size_t flen = ((size_t)(h[3] & 3) << 11) | ((size_t)h[4] << 3) | (h[5] >> 5);
		size_t hlen = crc ? 9 : 7;
		unsigned blocks = (h[6] & 3) + 1u;
		if (rate > 12 || flen < hlen || flen > n - i)
			return;
		/* AudioSpecificConfig: object type (profile + 1), rate index, channels. */
		uint8_t asc[2] = { (uint8_t)(((profile + 1) << 3) | (rate >> 1)),
		                   (uint8_t)(((rate & 1) << 7) | (chan << 3)) };
		if (!d->aac_config_sent || memcmp(asc, d->asc, 2) != 0) {
			memcpy(d->asc, asc, 2);
			d->aac_config_sent = 1;
			emit(d, MPEGTS_AAC_CONFIG, asc, 2, pts_ms, 0, 0);
		}
		/* Frames after the first in one PES are 1024 samples apart each. */
		uint32_t ms = pts_ms + (uint32_t)((uint64_t)frame_no * 1024 * 1000 / adts_rates[rate]);
		if (flen > hlen)
			emit(d, MPEGTS_AAC_FRAME, h + hlen, flen - hlen, ms, 0, 1);
		frame_no += blocks;
		i += flen;
	}
}

/* A PES packet is complete: parse its header and deliver what it carries. */
static void pes_done(struct mpegts_demux *d, struct mpegts_pes *s)
{
	int video = s == &d->video;
	const uint8_t *p = s->buf.data;
	size_t n = s->buf.len;
	s->started = 0;
	if (s->corrupt || n < 9 || p[0] || p[1] || p[2] != 1 || (p[6] & 0xc0) != 0x80) {
		d->stats.pes_dropped++;
		return;
	}
	if (s->expect && n < s->expect) {
		d->stats.pes_dropped++;   /* cut short: its end was lost */
		return;
	}
	if (s->expect && n > s->expect)
		n = s->expect;
	unsigned flags = p[7] >> 6;
	size_t hlen = 9u + p[8];
	if (hlen > n || (flags & 2) == 0 || (flags == 3 ? 19u : 14u) > hlen) {
		d->stats.pes_dropped++;
		return;
	}
	uint64_t pts, dts;
	if (read_clock(p + 9, &pts) < 0 || (flags == 3 && read_clock(p + 14, &dts) < 0)) {
		d->stats.pes_dropped++;
		return;
	}
	if (flags != 3)
		dts = pts;
	uint32_t dts_ms = clock_ms(d, dts);
	/* pts - dts on the 33-bit circle; a negative or absurd offset is treated as none. */
	int64_t cts = (int64_t)((pts - dts) & CLOCK_MASK);
	if (cts >= (int64_t)(1ull << 32))
		cts -= (int64_t)(1ull << 33);
	int32_t cts_ms = cts > 0 && cts < 90 * 10000 ? (int32_t)(cts / 90) : 0;
	if (video)
		avc_access_unit(d, p + hlen, n - hlen, dts_ms, cts_ms);
	else
		aac_frames(d, p + hlen, n - hlen, dts_ms);
}

static void pes_payload(struct mpegts_demux *d, struct mpegts_pes *s, int pusi, uint8_t cc,
                        const uint8_t *p, size_t n)
{
	if (n == 0)
		pusi = 0;   /* nothing to start a PES with */
	if (s->cc_valid && cc == s->cc) {
		return;   /* a duplicate packet (allowed once by the standard) */
	}
	if (s->cc_valid && cc != ((s->cc + 1) & 0x0f)) {
		d->stats.cc_errors++;
		if (s->started)
			s->corrupt = 1;
	}
	s->cc = cc;
	s->cc_valid = 1;
	if (pusi) {
		if (s->started)
			pes_done(d, s);
		bytes_clear(&s->buf);
		s->started = 1;
		s->corrupt = 0;
		s->expect = n >= 6 ? rd_u16be(p + 4) : 0;
		if (s->expect)
			s->expect += 6;
	}
	if (!s->started)
		return;   /* joined mid-packet: wait for the next start */
	if (s->buf.len + n > d->max_pes) {
		d->stats.pes_dropped++;
		s->started = 0;
		bytes_clear(&s->buf);
		return;
	}
	bytes_append(&s->buf, p, n);
	if (s->expect && s->buf.len >= s->expect)
		pes_done(d, s);
}

/* Returns the section body [table_id .. before CRC] length, or -1. */
static int psi_section(const uint8_t *p, size_t n, int pusi, const uint8_t **sec)
{
	if (!pusi || n < 1)
		return -1;
	size_t ptr = p[0];
	if (1 + ptr + 3 > n)
		return -1;
	const uint8_t *s = p + 1 + ptr;
	size_t left = n - 1 - ptr;
	size_t slen = rd_u16be(s + 1) & 0x0fff;
	if (!(s[1] & 0x80) || slen < 9 || 3 + slen > left)
		return -1;
	if (mpegts_crc32(s, 3 + slen) != 0)
		return -1;    /* a CRC over data and CRC leaves zero */
	*sec = s;
	return (int)(3 + slen - 4);
}

static void parse_pat(struct mpegts_demux *d, const uint8_t *p, size_t n, int pusi)
{
	const uint8_t *s;
	int len = psi_section(p, n, pusi, &s);
	if (len < 0 || s[0] != 0x00)
		return;
	for (int i = 8; i + 4 <= len; i += 4) {
		uint16_t prog = rd_u16be(s + i);
		uint16_t pid = rd_u16be(s + i + 2) & 0x1fff;
		if (prog != 0) {   /* program 0 is the network PID */
			if (pid != PID_PAT && pid != PID_NULL)
				d->pmt_pid = pid;
			return;
		}
	}
}

static void set_pid(struct mpegts_pes *s, uint16_t pid)
{
	if (s->pid == pid)
		return;
	s->pid = pid;
	s->started = 0;
	s->cc_valid = 0;
	bytes_clear(&s->buf);
}

static void parse_pmt(struct mpegts_demux *d, const uint8_t *p, size_t n, int pusi)
{
	const uint8_t *s;
	int len = psi_section(p, n, pusi, &s);
	if (len < 12 || s[0] != 0x02)
		return;
	size_t info = rd_u16be(s + 10) & 0x0fff;
	size_t i = 12 + info;
	uint16_t vpid = 0, apid = 0;
	int hevc = 0;
	while (i + 5 <= (size_t)len) {
		uint8_t type = s[i];
		uint16_t pid = rd_u16be(s + i + 1) & 0x1fff;
		size_t es_info = rd_u16be(s + i + 3) & 0x0fff;
		if (type == ST_H264 && !vpid)
			vpid = pid;
		else if (type == ST_HEVC)
			hevc = 1;
		else if (type == ST_AAC_ADTS && !apid)
			apid = pid;
		i += 5 + es_info;
	}
	if (vpid == PID_PAT || vpid == d->pmt_pid || vpid == PID_NULL)
		vpid = 0;
	if (apid == PID_PAT || apid == d->pmt_pid || apid == PID_NULL || apid == vpid)
		apid = 0;
	d->hevc = hevc && !vpid;
	set_pid(&d->video, vpid);
	set_pid(&d->audio, apid);
	d->video_type = vpid ? ST_H264 : 0;
	d->audio_type = apid ? ST_AAC_ADTS : 0;
}

static void packet(struct mpegts_demux *d, const uint8_t *p)
{
	d->stats.packets++;
	if (p[1] & 0x80)
		return;   /* transport_error_indicator: the link said it is damaged */
	int pusi = (p[1] & 0x40) != 0;
	uint16_t pid = rd_u16be(p + 1) & 0x1fff;
	unsigned afc = (p[3] >> 4) & 3;
	uint8_t cc = p[3] & 0x0f;
	size_t off = 4;
	if (afc & 2) {
		size_t alen = p[4];
		if (alen > MPEGTS_PACKET_SIZE - 5)
			return;
		off = 5 + alen;
	}
	if (!(afc & 1))
		return;   /* no payload: the continuity counter does not move */
	/* A payload flag with the adaptation field filling the packet still counts. */
	const uint8_t *pl = p + (off < MPEGTS_PACKET_SIZE ? off : MPEGTS_PACKET_SIZE);
	size_t n = off < MPEGTS_PACKET_SIZE ? MPEGTS_PACKET_SIZE - off : 0;
	if (pid == PID_PAT)
		parse_pat(d, pl, n, pusi);
	else if (d->pmt_pid && pid == d->pmt_pid)
		parse_pmt(d, pl, n, pusi);
	else if (d->video.pid && pid == d->video.pid)
		pes_payload(d, &d->video, pusi, cc, pl, n);
	else if (d->audio.pid && pid == d->audio.pid)
		pes_payload(d, &d->audio, pusi, cc, pl, n);
}

int mpegts_demux_feed(struct mpegts_demux *d, const uint8_t *p, size_t n)
{
	if (d->ncarry) {
		size_t take = MPEGTS_PACKET_SIZE - d->ncarry;
		if (take > n)
			take = n;
		memcpy(d->carry + d->ncarry, p, take);
		d->ncarry += take;
		p += take;
		n -= take;
		if (d->ncarry < MPEGTS_PACKET_SIZE)
			return d->hevc ? SL_EUNSUPP : 0;
		d->ncarry = 0;
		if (d->carry[0] == 0x47)
			packet(d, d->carry);
		else
			d->stats.sync_losses++;
	}
	while (n > 0) {
		if (p[0] != 0x47) {
			d->stats.sync_losses++;
			p++;
			n--;
			continue;
		}
		if (n < MPEGTS_PACKET_SIZE) {
			memcpy(d->carry, p, n);
			d->ncarry = n;
			break;
		}
		packet(d, p);
		p += MPEGTS_PACKET_SIZE;
		n -= MPEGTS_PACKET_SIZE;
	}
	return d->hevc ? SL_EUNSUPP : 0;
}

void mpegts_demux_flush(struct mpegts_demux *d)
{
	if (d->video.started)
		pes_done(d, &d->video);
	if (d->audio.started)
		pes_done(d, &d->audio);
}
