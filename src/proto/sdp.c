/* SPDX-License-Identifier: Apache-2.0 */
/* sdp.c - WHEP offer parser and ICE-lite answer builder (see sdp.h). */
#include "proto/sdp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/bytes.h"
#include "core/crypto.h"
#include "core/err.h"

static int fail(char *err, size_t errlen, int code, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return code;
}

/* Copies the token [p, p+n) into out (size outsz); refuses over-long or control bytes. */
static int copy_token(const char *p, size_t n, char *out, size_t outsz)
{
	if (n >= outsz)
		return SL_ELIMIT;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			return SL_EPROTO;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* Parses a decimal number of at most max from [*p, end); advances *p. */
static int parse_uint(const char **p, const char *end, unsigned long max, unsigned long *out)
{
	const char *s = *p;
	unsigned long v = 0;
	if (s >= end || *s < '0' || *s > '9')
		return SL_EPROTO;
	while (s < end && *s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return SL_ELIMIT;
		s++;
	}
	*p = s;
	*out = v;
	return 0;
}

/* "sha-256 AB:CD:..." -> 32 bytes.  Other hash functions are refused (SL_EUNSUPP). */
static int parse_fingerprint(const char *v, size_t n, uint8_t out[SDP_FP_LEN])
{
	if (n < 8 || strncasecmp(v, "sha-256 ", 8) != 0)
		return SL_EUNSUPP;
	v += 8;
	n -= 8;
	if (n != SDP_FP_LEN * 3 - 1)
		return SL_EPROTO;
	for (size_t i = 0; i < SDP_FP_LEN; i++) {
		int hi = hex_digit(v[i * 3]), lo = hex_digit(v[i * 3 + 1]);
		if (hi < 0 || lo < 0 || (i + 1 < SDP_FP_LEN && v[i * 3 + 2] != ':'))
			return SL_EPROTO;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static struct sdp_format *find_format(struct sdp_media *m, unsigned long pt)
{
	for (unsigned i = 0; i < m->nformats; i++)
		if (m->fmt[i].pt == pt)
			return &m->fmt[i];
	return NULL;
}

/* Reads key=value pairs of an fmtp for what we use (H.264 and rtx). */
static void parse_fmtp_params(struct sdp_format *f)
{
	const char *s = f->fmtp;
	while (*s) {
		while (*s == ' ' || *s == ';')
			s++;
		const char *k = s;
		while (*s && *s != '=' && *s != ';')
			s++;
		size_t klen = (size_t)(s - k);
		if (*s != '=')
			continue;
		s++;
		const char *v = s;
		while (*s && *s != ';')
			s++;
		size_t vlen = (size_t)(s - v);
		if (klen == 18 && strncasecmp(k, "packetization-mode", klen) == 0 && vlen == 1)
			f->pmode = v[0] - '0';
		else if (klen == 16 && strncasecmp(k, "profile-level-id", klen) == 0 && vlen == 6) {
			uint32_t id = 0;
			int ok = 1;
			for (size_t i = 0; i < 6; i++) {
				int h = hex_digit(v[i]);
				if (h < 0)
					ok = 0;
				id = id << 4 | (uint32_t)(h < 0 ? 0 : h);
			}
			if (ok)
				f->profile_level_id = id;
		} else if (klen == 3 && strncasecmp(k, "apt", 3) == 0) {
			unsigned long apt;
			const char *p = v;
			if (parse_uint(&p, v + vlen, 127, &apt) == 0 && p == v + vlen)
				f->apt = (int)apt;
		}
	}
}

/* m=<kind> <port> <proto> <fmt>... */
static int parse_mline(const char *v, const char *end, struct sdp_media *m)
{
	const char *sp = memchr(v, ' ', (size_t)(end - v));
	if (!sp)
		return SL_EPROTO;
	int rc = copy_token(v, (size_t)(sp - v), m->kind_name, sizeof(m->kind_name));
	if (rc)
		return rc;
	m->kind = strcmp(m->kind_name, "audio") == 0 ? SDP_AUDIO :
	          strcmp(m->kind_name, "video") == 0 ? SDP_VIDEO : SDP_OTHER;
	const char *p = sp + 1;
	unsigned long port;
	if ((rc = parse_uint(&p, end, 65535, &port)) != 0)
		return rc;
	m->port = (uint16_t)port;
	if (p < end && *p == '/') { /* port/count: accepted, count ignored */
		unsigned long cnt;
		p++;
		if ((rc = parse_uint(&p, end, 65535, &cnt)) != 0)
			return rc;
	}
	if (p >= end || *p != ' ')
		return SL_EPROTO;
	p++;
	sp = memchr(p, ' ', (size_t)(end - p));
	const char *pe = sp ? sp : end;
	if ((rc = copy_token(p, (size_t)(pe - p), m->proto, sizeof(m->proto))) != 0)
		return rc;
	p = pe;
	m->dir = SDP_SENDRECV;
	while (p < end) {
		if (*p == ' ') {
			p++;
			continue;
		}
		unsigned long pt;
		if (m->kind == SDP_OTHER) { /* "webrtc-datachannel" etc.: formats are not numbers */
			while (p < end && *p != ' ')
				p++;
			continue;
		}
		if ((rc = parse_uint(&p, end, 127, &pt)) != 0)
			return rc;
		if (p < end && *p != ' ')
			return SL_EPROTO;
		if (m->nformats >= SDP_MAX_FORMATS)
			return SL_ELIMIT;
		if (find_format(m, pt))
			continue;
		struct sdp_format *f = &m->fmt[m->nformats++];
		f->pt = (uint8_t)pt;
		f->apt = -1;
	}
	return 0;
}

/* a=rtpmap:<pt> <name>/<clock>[/<channels>] */
static int parse_rtpmap(const char *v, const char *end, struct sdp_media *m)
{
	unsigned long pt, clock, ch = 0;
	int rc;
	if ((rc = parse_uint(&v, end, 127, &pt)) != 0)
		return rc;
	if (v >= end || *v != ' ')
		return SL_EPROTO;
	v++;
	const char *slash = memchr(v, '/', (size_t)(end - v));
	if (!slash)
		return SL_EPROTO;
	struct sdp_format *f = find_format(m, pt);
	if (!f)
		return 0; /* a map for a format the m-line does not list: ignored */
	if ((rc = copy_token(v, (size_t)(slash - v), f->codec, sizeof(f->codec))) != 0)
		return rc;
	const char *p = slash + 1;
	if ((rc = parse_uint(&p, end, 10000000, &clock)) != 0)
		return rc;
	if (p < end && *p == '/') {
		p++;
		if ((rc = parse_uint(&p, end, 255, &ch)) != 0)
			return rc;
	}
	if (p != end)
		return SL_EPROTO;
	f->clock = (uint32_t)clock;
	f->channels = (uint8_t)ch;
	return 0;
}

/* a=fmtp:<pt> <params>  and  a=rtcp-fb:<pt|*> <type> [<param>] */
static int parse_fmtp(const char *v, const char *end, struct sdp_media *m)
{
	unsigned long pt;
	int rc;
	if ((rc = parse_uint(&v, end, 127, &pt)) != 0)
		return rc;
	if (v >= end || *v != ' ')
		return SL_EPROTO;
	v++;
	struct sdp_format *f = find_format(m, pt);
	if (!f)
		return 0;
	if ((rc = copy_token(v, (size_t)(end - v), f->fmtp, sizeof(f->fmtp))) != 0)
		return rc;
	parse_fmtp_params(f);
	return 0;
}

static unsigned fb_bit(const char *v, size_t n)
{
	static const struct { const char *s; unsigned bit; } names[] = {
		{ "nack", SDP_FB_NACK }, { "nack pli", SDP_FB_PLI }, { "ccm fir", SDP_FB_FIR },
		{ "transport-cc", SDP_FB_TWCC }, { "goog-remb", SDP_FB_REMB },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].s) == n && memcmp(names[i].s, v, n) == 0)
			return names[i].bit;
	return 0;
}

static int parse_rtcp_fb(const char *v, const char *end, struct sdp_media *m)
{
	int rc;
	unsigned long pt = 0;
	int all = 0;
	if (v < end && *v == '*') {
		all = 1;
		v++;
	} else if ((rc = parse_uint(&v, end, 127, &pt)) != 0) {
		return rc;
	}
	if (v >= end || *v != ' ')
		return SL_EPROTO;
	v++;
	unsigned bit = fb_bit(v, (size_t)(end - v));
	for (unsigned i = 0; i < m->nformats; i++)
		if (all || m->fmt[i].pt == pt)
			m->fmt[i].fb |= bit;
	return 0;
}

static int attr_is(const char *a, size_t alen, const char *name, const char **val)
{
	size_t n = strlen(name);
	if (alen < n || memcmp(a, name, n) != 0)
		return 0;
	if (alen == n) {
		*val = a + n;
		return 1;
	}
	if (a[n] != ':')
		return 0;
	*val = a + n + 1;
	return 1;
}

/* One a= line, at session level (m == NULL) or in m-line m. */
static int parse_attr(const char *a, const char *end, struct sdp_offer *o, struct sdp_media *m,
                      char *err, size_t errlen)
{
	size_t alen = (size_t)(end - a);
	const char *v;
	int rc = 0;
	if (attr_is(a, alen, "ice-ufrag", &v)) {
		if (!o->ice_ufrag[0])
			rc = copy_token(v, (size_t)(end - v), o->ice_ufrag, sizeof(o->ice_ufrag));
	} else if (attr_is(a, alen, "ice-pwd", &v)) {
		if (!o->ice_pwd[0])
			rc = copy_token(v, (size_t)(end - v), o->ice_pwd, sizeof(o->ice_pwd));
	} else if (attr_is(a, alen, "fingerprint", &v)) {
		if (!o->has_fingerprint) {
			rc = parse_fingerprint(v, (size_t)(end - v), o->fingerprint);
			if (rc == SL_EUNSUPP)
				rc = 0; /* another hash may follow; only sha-256 is required */
			else if (rc == 0)
				o->has_fingerprint = 1;
		}
	} else if (attr_is(a, alen, "setup", &v)) {
		size_t n = (size_t)(end - v);
		enum sdp_setup s = n == 7 && memcmp(v, "actpass", 7) == 0 ? SDP_SETUP_ACTPASS :
		                   n == 6 && memcmp(v, "active", 6) == 0 ? SDP_SETUP_ACTIVE :
		                   n == 7 && memcmp(v, "passive", 7) == 0 ? SDP_SETUP_PASSIVE :
		                   SDP_SETUP_NONE;
		if (s == SDP_SETUP_NONE)
			return fail(err, errlen, SL_EPROTO, "bad a=setup");
		if (o->setup == SDP_SETUP_NONE)
			o->setup = s;
	} else if (!m && attr_is(a, alen, "group", &v)) {
		size_t n = (size_t)(end - v);
		if (n > 7 && memcmp(v, "BUNDLE ", 7) == 0 && !o->bundle[0])
			rc = copy_token(v + 7, n - 7, o->bundle, sizeof(o->bundle));
	} else if (m && attr_is(a, alen, "mid", &v)) {
		rc = copy_token(v, (size_t)(end - v), m->mid, sizeof(m->mid));
	} else if (m && attr_is(a, alen, "rtpmap", &v)) {
		rc = parse_rtpmap(v, end, m);
	} else if (m && attr_is(a, alen, "fmtp", &v)) {
		rc = parse_fmtp(v, end, m);
	} else if (m && attr_is(a, alen, "rtcp-fb", &v)) {
		rc = parse_rtcp_fb(v, end, m);
	} else if (m && attr_is(a, alen, "rtcp-mux", &v) && v == end) {
		m->rtcp_mux = 1;
	} else if (m && attr_is(a, alen, "bundle-only", &v) && v == end) {
		m->bundle_only = 1;
	} else if (m && attr_is(a, alen, "sendrecv", &v) && v == end) {
		m->dir = SDP_SENDRECV;
	} else if (m && attr_is(a, alen, "sendonly", &v) && v == end) {
		m->dir = SDP_SENDONLY;
	} else if (m && attr_is(a, alen, "recvonly", &v) && v == end) {
		m->dir = SDP_RECVONLY;
	} else if (m && attr_is(a, alen, "inactive", &v) && v == end) {
		m->dir = SDP_INACTIVE;
	}
	if (rc == SL_ELIMIT)
		return fail(err, errlen, rc, "an attribute is too long");
	if (rc)
		return fail(err, errlen, rc, "malformed attribute");
	return 0;
}

int sdp_offer_parse(const char *text, size_t len, struct sdp_offer *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	if (len > SDP_MAX_BYTES)
		return fail(err, errlen, SL_ELIMIT, "offer too large");
	if (len < 2 || text[0] != 'v' || text[1] != '=')
		return fail(err, errlen, SL_EPROTO, "not an SDP offer (no v= line)");
	const char *p = text, *end = text + len;
	struct sdp_media *m = NULL;
	unsigned lines = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *next = nl ? nl + 1 : end;
		if (le > p && le[-1] == '\r')
			le--;
		if (le == p) { /* blank line (a trailing one is common) */
			p = next;
			continue;
		}
		if (++lines > SDP_MAX_LINES)
			return fail(err, errlen, SL_ELIMIT, "too many lines");
		if (le - p < 2 || p[1] != '=')
			return fail(err, errlen, SL_EPROTO, "a line is not <type>=<value>");
		if (memchr(p, '\0', (size_t)(le - p)))
			return fail(err, errlen, SL_EPROTO, "NUL in offer");
		const char *v = p + 2;
		int rc;
		switch (p[0]) {
		case 'm':
			if (o->nmedia >= SDP_MAX_MEDIA)
				return fail(err, errlen, SL_ELIMIT, "too many m-lines");
			m = &o->media[o->nmedia++];
			rc = parse_mline(v, le, m);
			if (rc == SL_ELIMIT)
				return fail(err, errlen, rc, "too many formats on an m-line");
			if (rc)
				return fail(err, errlen, rc, "malformed m-line");
			break;
		case 'a':
			if ((rc = parse_attr(v, le, o, m, err, errlen)) != 0)
				return rc;
			break;
		default:
			break; /* o=, s=, t=, c=, b=: nothing we need */
		}
		p = next;
	}
	if (o->nmedia == 0)
		return fail(err, errlen, SL_EPROTO, "no m-line");
	if (!o->ice_ufrag[0] || !o->ice_pwd[0])
		return fail(err, errlen, SL_EPROTO, "no ICE credentials (a=ice-ufrag, a=ice-pwd)");
	if (!o->has_fingerprint)
		return fail(err, errlen, SL_EPROTO, "no sha-256 DTLS fingerprint");
	return 0;
}

int sdp_pick_h264(const struct sdp_media *m, uint8_t want_profile_idc)
{
	int best = -1, best_score = -1;
	if (m->kind != SDP_VIDEO)
		return -1;
	for (unsigned i = 0; i < m->nformats; i++) {
		const struct sdp_format *f = &m->fmt[i];
		if (strcasecmp(f->codec, "H264") != 0 || f->clock != 90000 || f->pmode != 1)
			continue;
		uint8_t idc = (uint8_t)(f->profile_level_id >> 16);
		uint8_t iop = (uint8_t)(f->profile_level_id >> 8);
		int score = 1;
		if (want_profile_idc && idc == want_profile_idc)
			score = 3;
		else if (idc == 0x42 && (iop & 0x40))
			score = 2;
		if (score > best_score) {
			best_score = score;
			best = (int)i;
		}
	}
	return best;
}

int sdp_pick_opus(const struct sdp_media *m)
{
	if (m->kind != SDP_AUDIO)
		return -1;
	for (unsigned i = 0; i < m->nformats; i++) {
		const struct sdp_format *f = &m->fmt[i];
		if (strcasecmp(f->codec, "opus") == 0 && f->clock == 48000 && f->channels == 2)
			return (int)i;
	}
	return -1;
}

static void fingerprint_hex(const uint8_t fp[SDP_FP_LEN], char out[SDP_FP_LEN * 3])
{
	static const char hx[] = "0123456789ABCDEF";
	for (size_t i = 0; i < SDP_FP_LEN; i++) {
		out[i * 3] = hx[fp[i] >> 4];
		out[i * 3 + 1] = hx[fp[i] & 15];
		out[i * 3 + 2] = i + 1 < SDP_FP_LEN ? ':' : '\0';
	}
}

char *sdp_answer_build(const struct sdp_offer *o, const struct sdp_answer_params *p)
{
	if (!p->ice_ufrag || !p->ice_pwd || !p->cand_ip || !p->cname || o->nmedia > SDP_MAX_MEDIA)
		return NULL;
	char fp[SDP_FP_LEN * 3];
	fingerprint_hex(p->fingerprint, fp);
	struct bytes b;
	bytes_init(&b);
	bytes_printf(&b, "v=0\r\no=- %llu 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n",
	             (unsigned long long)p->session_id);
	/* BUNDLE lists the accepted m-lines only: a rejected one leaves the group (RFC 9143). */
	bytes_put_str(&b, "a=group:BUNDLE");
	for (unsigned i = 0; i < o->nmedia; i++)
		if (p->media[i].format >= 0)
			bytes_printf(&b, " %s", o->media[i].mid);
	bytes_put_str(&b, "\r\na=msid-semantic: WMS sluice\r\n");
	int first = 1;
	for (unsigned i = 0; i < o->nmedia; i++) {
		const struct sdp_media *m = &o->media[i];
		const struct sdp_answer_media *am = &p->media[i];
		if (am->format < 0 || (unsigned)am->format >= m->nformats) {
			/* Refused: port 0.  Some stacks (GStreamer's webrtcbin) still want the
			 * transport attributes on every m-line, so they are given here too. */
			bytes_printf(&b, "m=%s 0 %s %u\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\n",
			             m->kind_name, m->proto, m->nformats ? m->fmt[0].pt : 0, m->mid);
			bytes_printf(&b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", p->ice_ufrag, p->ice_pwd);
			bytes_printf(&b, "a=fingerprint:sha-256 %s\r\na=setup:passive\r\na=inactive\r\n", fp);
			continue;
		}
		const struct sdp_format *f = &m->fmt[am->format];
		/* Only the first bundled line carries the real port; the rest share it. */
		bytes_printf(&b, "m=%s %u %s %u\r\nc=IN IP4 %s\r\n", m->kind_name,
		             first ? p->cand_port : 9, m->proto, f->pt, p->cand_ip);
		first = 0;
		bytes_printf(&b, "a=mid:%s\r\n", m->mid);
		bytes_printf(&b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", p->ice_ufrag, p->ice_pwd);
		bytes_printf(&b, "a=fingerprint:sha-256 %s\r\na=setup:passive\r\n", fp);
		bytes_printf(&b, "a=candidate:1 1 udp 2130706431 %s %u typ host\r\na=end-of-candidates\r\n",
		             p->cand_ip, p->cand_port);
		if (p->recvonly)
			bytes_put_str(&b, m->dir == SDP_SENDONLY || m->dir == SDP_SENDRECV ?
			                  "a=recvonly\r\n" : "a=inactive\r\n");
		else
			bytes_put_str(&b, m->dir == SDP_SENDONLY || m->dir == SDP_INACTIVE ?
			                  "a=inactive\r\n" : "a=sendonly\r\n");
		bytes_put_str(&b, "a=rtcp-mux\r\n");
		if (f->channels)
			bytes_printf(&b, "a=rtpmap:%u %s/%u/%u\r\n", f->pt, f->codec, f->clock, f->channels);
		else
			bytes_printf(&b, "a=rtpmap:%u %s/%u\r\n", f->pt, f->codec, f->clock);
		if (f->fmtp[0])
			bytes_printf(&b, "a=fmtp:%u %s\r\n", f->pt, f->fmtp);
		if (f->fb & SDP_FB_NACK)
			bytes_printf(&b, "a=rtcp-fb:%u nack\r\n", f->pt);
		if (f->fb & SDP_FB_PLI)
			bytes_printf(&b, "a=rtcp-fb:%u nack pli\r\n", f->pt);
		if (f->fb & SDP_FB_FIR)
			bytes_printf(&b, "a=rtcp-fb:%u ccm fir\r\n", f->pt);
		if (p->recvonly)
			continue; /* nothing of ours is sent on a receiving line: no msid, no ssrc */
		const char *track = m->kind == SDP_VIDEO ? "video" : m->kind == SDP_AUDIO ? "audio" : "other";
		bytes_printf(&b, "a=msid:sluice %s\r\n", track);
		bytes_printf(&b, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:sluice %s\r\n",
		             am->ssrc, p->cname, am->ssrc, track);
	}
	bytes_put_u8(&b, 0);
	return (char *)b.data;
}
