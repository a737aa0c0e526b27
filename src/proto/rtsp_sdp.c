/* SPDX-License-Identifier: Apache-2.0 */
/* rtsp_sdp.c - DESCRIBE's SDP out, ANNOUNCE's SDP in (see rtsp_sdp.h). */
#include "proto/rtsp_sdp.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/crypto.h"
#include "core/err.h"
#include "core/jwt.h"
#include "proto/avc.h"

static int fail(char *err, size_t errlen, int code, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return code;
}

static int copy_field(const char *p, size_t n, char *out, size_t cap)
{
	if (n >= cap)
		return SL_ELIMIT;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static long num(const char **p, const char *end, long max)
{
	long v = -1;
	while (*p < end && **p >= '0' && **p <= '9') {
		v = (v < 0 ? 0 : v * 10) + (**p - '0');
		if (v > max)
			return -1;
		(*p)++;
	}
	return v;
}

/* "m=video 0 RTP/AVP 96": kind and the first format. */
static int parse_m(const char *v, const char *end, struct rtsp_sdp_media *m)
{
	const char *sp = memchr(v, ' ', (size_t)(end - v));
	if (!sp)
		return SL_EPROTO;
	m->video = sp - v == 5 && memcmp(v, "video", 5) == 0;
	m->audio = sp - v == 5 && memcmp(v, "audio", 5) == 0;
	const char *p = sp + 1;
	if (num(&p, end, 65535) < 0 || p >= end || *p != ' ')
		return SL_EPROTO;
	p++;
	const char *proto = p;
	while (p < end && *p != ' ')
		p++;
	if (p - proto < 7 || strncmp(proto, "RTP/AVP", 7) != 0 || p >= end)
		return SL_EPROTO;
	p++;
	long pt = num(&p, end, 127);
	if (pt < 0)
		return SL_EPROTO;
	m->pt = (uint8_t)pt;
	return 0;
}

/* "a=rtpmap:96 H264/90000" or "97 MPEG4-GENERIC/44100/2", for the m-line's format. */
static int parse_rtpmap(const char *v, const char *end, struct rtsp_sdp_media *m)
{
	const char *p = v;
	long pt = num(&p, end, 127);
	if (pt < 0 || p >= end || *p != ' ')
		return SL_EPROTO;
	if ((uint8_t)pt != m->pt)
		return 0;
	p++;
	const char *name = p;
	while (p < end && *p != '/')
		p++;
	size_t nn = (size_t)(p - name);
	if (p >= end)
		return SL_EPROTO;
	p++;
	long clock = num(&p, end, 1000000);
	if (clock <= 0)
		return SL_EPROTO;
	m->clock = (uint32_t)clock;
	if (p < end && *p == '/') {
		p++;
		long ch = num(&p, end, 8);
		if (ch <= 0)
			return SL_EPROTO;
		m->channels = (uint8_t)ch;
	}
	if (nn == 4 && strncasecmp(name, "H264", 4) == 0)
		m->codec = RTSP_CODEC_H264;
	else if (nn == 13 && strncasecmp(name, "MPEG4-GENERIC", 13) == 0)
		m->codec = RTSP_CODEC_AAC;
	return 0;
}

static int parse_attr(const char *a, const char *end, struct rtsp_sdp_media *m)
{
	size_t n = (size_t)(end - a);
	if (!m)
		return 0;
	if (n > 7 && memcmp(a, "rtpmap:", 7) == 0)
		return parse_rtpmap(a + 7, end, m);
	if (n > 5 && memcmp(a, "fmtp:", 5) == 0) {
		const char *p = a + 5;
		long pt = num(&p, end, 127);
		if (pt < 0)
			return SL_EPROTO;
		if ((uint8_t)pt != m->pt)
			return 0;
		while (p < end && *p == ' ')
			p++;
		return copy_field(p, (size_t)(end - p), m->fmtp, sizeof(m->fmtp));
	}
	if (n > 8 && memcmp(a, "control:", 8) == 0)
		return copy_field(a + 8, n - 8, m->control, sizeof(m->control));
	return 0;
}

int rtsp_sdp_parse(const char *text, size_t len, struct rtsp_sdp *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (len > RTSP_SDP_MAX_BYTES)
		return fail(err, errlen, SL_ELIMIT, "description too large");
	if (len < 2 || text[0] != 'v' || text[1] != '=')
		return fail(err, errlen, SL_EPROTO, "not an SDP description (no v= line)");
	if (memchr(text, '\0', len))
		return fail(err, errlen, SL_EPROTO, "NUL in description");
	const char *p = text, *end = text + len;
	struct rtsp_sdp_media *m = NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *next = nl ? nl + 1 : end;
		if (le > p && le[-1] == '\r')
			le--;
		if (le - p >= 2 && p[1] == '=') {
			int rc = 0;
			if (p[0] == 'm') {
				if (out->nmedia >= RTSP_SDP_MAX_MEDIA)
					return fail(err, errlen, SL_ELIMIT, "too many m-lines");
				m = &out->media[out->nmedia++];
				rc = parse_m(p + 2, le, m);
			} else if (p[0] == 'a') {
				rc = parse_attr(p + 2, le, m);
			}
			if (rc == SL_ELIMIT)
				return fail(err, errlen, rc, "an attribute is too long");
			if (rc)
				return fail(err, errlen, rc, "malformed m= or a= line");
		} else if (le != p) {
			return fail(err, errlen, SL_EPROTO, "a line is not <type>=<value>");
		}
		p = next;
	}
	if (out->nmedia == 0)
		return fail(err, errlen, SL_EPROTO, "no m-line");
	return 0;
}

/* The value of key in "a=1; b=2;c=3" (case-insensitive key); NULL when absent. */
static const char *fmtp_get(const char *fmtp, const char *key, size_t *vlen)
{
	size_t kl = strlen(key);
	const char *p = fmtp;
	while (*p) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *e = strchr(p, ';');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n && p[n - 1] == ' ')
			n--;
		if (n > kl && strncasecmp(p, key, kl) == 0 && p[kl] == '=') {
			*vlen = n - kl - 1;
			return p + kl + 1;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return NULL;
}

int rtsp_sdp_h264_avcc(const char *fmtp, uint8_t *out, size_t cap)
{
	size_t vn;
	const char *v = fmtp_get(fmtp, "sprop-parameter-sets", &vn);
	if (!v)
		return SL_ENOTFOUND;
	uint8_t sets[2][AVC_MAX_PARAM_SETS][256];
	size_t lens[2][AVC_MAX_PARAM_SETS];
	unsigned count[2] = { 0, 0 };
	while (vn) {
		const char *c = memchr(v, ',', vn);
		size_t n = c ? (size_t)(c - v) : vn;
		uint8_t nal[256];
		long l = n ? base64url_decode(v, n, nal, sizeof(nal)) : -1;
		if (l <= 0)
			return SL_EPROTO;
		unsigned type = nal[0] & 0x1f;
		int k = type == 7 ? 0 : type == 8 ? 1 : -1;
		if (k >= 0) {
			if (count[k] == AVC_MAX_PARAM_SETS)
				return SL_EPROTO;
			memcpy(sets[k][count[k]], nal, (size_t)l);
			lens[k][count[k]++] = (size_t)l;
		}
		if (!c)
			break;
		vn -= n + 1;
		v = c + 1;
	}
	const uint8_t *sp[AVC_MAX_PARAM_SETS], *pp[AVC_MAX_PARAM_SETS];
	for (unsigned i = 0; i < AVC_MAX_PARAM_SETS; i++) {
		sp[i] = sets[0][i];
		pp[i] = sets[1][i];
	}
	int r = avc_write_config(out, cap, sp, lens[0], count[0], pp, lens[1], count[1]);
	return r == SL_EINVAL ? SL_EPROTO : r;
}

static long fmtp_num(const char *fmtp, const char *key, long dflt)
{
	size_t vn;
	const char *v = fmtp_get(fmtp, key, &vn);
	if (!v)
		return dflt;
	const char *p = v;
	long n = num(&p, v + vn, 16);
	return p == v + vn ? n : -1;
}

int rtsp_sdp_aac_config(const char *fmtp, uint8_t *asc, size_t cap, struct aac_rtp_params *p)
{
	size_t vn;
	const char *mode = fmtp_get(fmtp, "mode", &vn);
	if (mode && !(vn == 7 && (strncasecmp(mode, "AAC-hbr", 7) == 0 ||
	                          strncasecmp(mode, "AAC-lbr", 7) == 0)))
		return SL_EUNSUPP;
	const char *v = fmtp_get(fmtp, "config", &vn);
	if (!v || vn == 0 || vn % 2 || vn / 2 > cap)
		return SL_EPROTO;
	for (size_t i = 0; i < vn / 2; i++) {
		int hi = hex_digit((unsigned char)v[2 * i]), lo = hex_digit((unsigned char)v[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return SL_EPROTO;
		asc[i] = (uint8_t)(hi << 4 | lo);
	}
	long sl = fmtp_num(fmtp, "sizelength", 13), il = fmtp_num(fmtp, "indexlength", 3),
	     dl = fmtp_num(fmtp, "indexdeltalength", 3);
	if (sl <= 0 || il < 0 || dl < 0)
		return SL_EPROTO;
	p->size_length = (uint8_t)sl;
	p->index_length = (uint8_t)il;
	p->index_delta_length = (uint8_t)dl;
	return (int)(vn / 2);
}

size_t rtsp_base64(const uint8_t *p, size_t n, char *out)
{
	/* base64url's alphabet but for two characters, and padded (RFC 4648 4). */
	size_t o = base64url_encode(p, n, out);
	for (size_t i = 0; i < o; i++)
		out[i] = out[i] == '-' ? '+' : out[i] == '_' ? '/' : out[i];
	while (o % 4)
		out[o++] = '=';
	out[o] = '\0';
	return o;
}

int rtsp_sdp_build(struct bytes *b, const struct rtsp_sdp_stream *s)
{
	int rc = 0;
	bytes_printf(b, "v=0\r\no=- 0 0 IN IP4 %s\r\ns=%s\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
	             "a=control:*\r\na=range:npt=now-\r\n", s->addr, s->name);
	struct avc_config avc;
	if (s->avcc_len && avc_parse_config(s->avcc, s->avcc_len, &avc) == 0 && avc.nsps &&
	    avc.npps && avc.sps_len[0] >= 4) {
		bytes_printf(b, "m=video 0 RTP/AVP %d\r\na=rtpmap:%d H264/90000\r\n"
		             "a=fmtp:%d packetization-mode=1;profile-level-id=%02X%02X%02X;"
		             "sprop-parameter-sets=", RTSP_PT_H264, RTSP_PT_H264, RTSP_PT_H264,
		             avc.sps[0][1], avc.sps[0][2], avc.sps[0][3]);
		for (unsigned i = 0; i < avc.nsps + avc.npps; i++) {
			const uint8_t *nal = i < avc.nsps ? avc.sps[i] : avc.pps[i - avc.nsps];
			size_t len = i < avc.nsps ? avc.sps_len[i] : avc.pps_len[i - avc.nsps];
			if (i)
				bytes_put_u8(b, ',');
			bytes_reserve(b, 4 * ((len + 2) / 3) + 1);
			b->len += rtsp_base64(nal, len, (char *)b->data + b->len);
		}
		bytes_printf(b, "\r\na=control:trackID=0\r\n");
	} else if (s->avcc_len) {
		rc = SL_EPROTO;
	}
	if (s->asc_len && s->sample_rate) {
		bytes_printf(b, "m=audio 0 RTP/AVP %d\r\na=rtpmap:%d MPEG4-GENERIC/%u/%u\r\n"
		             "a=fmtp:%d streamtype=5;profile-level-id=1;mode=AAC-hbr;sizelength=13;"
		             "indexlength=3;indexdeltalength=3;config=", RTSP_PT_AAC, RTSP_PT_AAC,
		             s->sample_rate, s->channels ? s->channels : 2, RTSP_PT_AAC);
		for (size_t i = 0; i < s->asc_len; i++)
			bytes_printf(b, "%02X", s->asc[i]);
		bytes_printf(b, "\r\na=control:trackID=1\r\n");
	}
	return rc;
}
