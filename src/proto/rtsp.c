/* SPDX-License-Identifier: Apache-2.0 */
/* rtsp.c - RTSP 1.0 requests, interleaved frames, Transport and URLs (see rtsp.h). */
#include "proto/rtsp.h"

#include <string.h>
#include <strings.h>

#include "core/err.h"

static int span_ieq(struct rtsp_span s, const char *lit)
{
	size_t n = strlen(lit);
	return s.n == n && strncasecmp(s.p, lit, n) == 0;
}

static int is_token_char(unsigned char c)
{
	return c > 32 && c < 127;
}

/* Position of "\r\n\r\n" (or "\n\n") ending the head in p[0..n), or 0 when not there. */
static size_t head_end(const uint8_t *p, size_t n, size_t *term)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] != '\n')
			continue;
		if (p[i + 1] == '\n') {
			*term = 2;
			return i;
		}
		if (p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n') {
			*term = 3;
			return i;
		}
	}
	return 0;
}

static long parse_decimal(const char *p, size_t n, long max)
{
	long v = 0;
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
		if (v > max)
			return -1;
	}
	return v;
}

static void trim(const char **p, size_t *n)
{
	while (*n && (**p == ' ' || **p == '\t')) {
		(*p)++;
		(*n)--;
	}
	while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t' || (*p)[*n - 1] == '\r'))
		(*n)--;
}

int rtsp_request_parse(const uint8_t *p, size_t n, size_t max_head, size_t max_body,
                       struct rtsp_request *out)
{
	memset(out, 0, sizeof(*out));
	out->cseq = -1;
	if (max_head == 0 || max_head > RTSP_HEAD_MAX)
		max_head = RTSP_HEAD_MAX;
	size_t term = 0;
	size_t scan = n < max_head ? n : max_head;
	size_t end = head_end(p, scan, &term);
	if (end == 0) {
		/* A lone CRLF between requests (RFC 2326 allows it) has no head yet either. */
		if (n >= max_head)
			return SL_ELIMIT;
		return SL_EAGAIN;
	}
	if (memchr(p, '\0', end))
		return SL_EPROTO;
	/* Request line: METHOD SP URL SP RTSP/1.0 */
	const char *s = (const char *)p;
	const char *le = memchr(s, '\n', end + 1);
	size_t llen = (size_t)(le - s);
	if (llen && s[llen - 1] == '\r')
		llen--;
	const char *sp1 = memchr(s, ' ', llen);
	if (!sp1 || sp1 == s)
		return SL_EPROTO;
	const char *rest = sp1 + 1;
	size_t rlen = llen - (size_t)(rest - s);
	const char *sp2 = memchr(rest, ' ', rlen);
	if (!sp2 || sp2 == rest)
		return SL_EPROTO;
	const char *ver = sp2 + 1;
	size_t vlen = llen - (size_t)(ver - s);
	for (const char *q = s; q < sp1; q++)
		if (!is_token_char((unsigned char)*q))
			return SL_EPROTO;
	for (const char *q = rest; q < sp2; q++)
		if (!is_token_char((unsigned char)*q))
			return SL_EPROTO;
	if (vlen == 8 && memcmp(ver, "RTSP/2.0", 8) == 0)
		return SL_EUNSUPP;
	if (vlen != 8 || memcmp(ver, "RTSP/1.0", 8) != 0)
		return SL_EPROTO;
	out->method = (struct rtsp_span){ s, (size_t)(sp1 - s) };
	out->url = (struct rtsp_span){ rest, (size_t)(sp2 - rest) };
	/* Headers: one per line, no folding (RFC 2326 allows it; no client we know sends it). */
	const char *q = le + 1;
	const char *hend = s + end + 1;
	long clen = 0;
	while (q < hend) {
		const char *nl = memchr(q, '\n', (size_t)(hend - q));
		if (!nl)
			nl = hend;
		size_t ln = (size_t)(nl - q);
		if (ln && q[ln - 1] == '\r')
			ln--;
		if (ln == 0)
			break;
		if (q[0] == ' ' || q[0] == '\t')
			return SL_EPROTO;
		const char *colon = memchr(q, ':', ln);
		if (!colon || colon == q)
			return SL_EPROTO;
		if (out->nheaders >= RTSP_MAX_HEADERS)
			return SL_ELIMIT;
		struct rtsp_span name = { q, (size_t)(colon - q) };
		for (size_t i = 0; i < name.n; i++)
			if (!is_token_char((unsigned char)name.p[i]))
				return SL_EPROTO;
		const char *v = colon + 1;
		size_t vn = ln - (size_t)(v - q);
		trim(&v, &vn);
		out->name[out->nheaders] = name;
		out->value[out->nheaders] = (struct rtsp_span){ v, vn };
		out->nheaders++;
		if (span_ieq(name, "Content-Length")) {
			clen = parse_decimal(v, vn, 1L << 30);
			if (clen < 0)
				return SL_EPROTO;
		} else if (span_ieq(name, "CSeq")) {
			out->cseq = parse_decimal(v, vn, 2147483647L);
			if (out->cseq < 0)
				return SL_EPROTO;
		}
		q = nl + 1;
	}
	size_t head = end + term;
	if ((size_t)clen > max_body)
		return SL_ELIMIT;
	if (n - head < (size_t)clen)
		return SL_EAGAIN;
	if (clen) {
		out->body = p + head;
		out->body_len = (size_t)clen;
	}
	return (int)(head + (size_t)clen);
}

const char *rtsp_header(const struct rtsp_request *r, const char *name, size_t *len)
{
	for (unsigned i = 0; i < r->nheaders; i++)
		if (span_ieq(r->name[i], name)) {
			if (len)
				*len = r->value[i].n;
			return r->value[i].p;
		}
	return NULL;
}

int rtsp_method_is(const struct rtsp_request *r, const char *m)
{
	size_t n = strlen(m);
	return r->method.n == n && memcmp(r->method.p, m, n) == 0;
}

int rtsp_interleaved_parse(const uint8_t *p, size_t n, uint8_t *channel, const uint8_t **data,
                           size_t *len)
{
	if (n == 0)
		return SL_EAGAIN;
	if (p[0] != '$')
		return SL_EPROTO;
	if (n < 4)
		return SL_EAGAIN;
	size_t l = ((size_t)p[2] << 8) | p[3];
	if (n < 4 + l)
		return SL_EAGAIN;
	*channel = p[1];
	*data = p + 4;
	*len = l;
	return (int)(4 + l);
}

void rtsp_interleaved_header(uint8_t out[4], uint8_t channel, size_t len)
{
	out[0] = '$';
	out[1] = channel;
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
}

/* "a-b" or "a" into two numbers no greater than max. */
static int parse_pair(const char *v, size_t n, long max, long out[2])
{
	const char *dash = memchr(v, '-', n);
	size_t n1 = dash ? (size_t)(dash - v) : n;
	out[0] = parse_decimal(v, n1, max);
	if (out[0] < 0)
		return SL_EPROTO;
	if (!dash) {
		out[1] = out[0] + 1 > max ? max : out[0] + 1;
		return 0;
	}
	out[1] = parse_decimal(dash + 1, n - n1 - 1, max);
	return out[1] < 0 ? SL_EPROTO : 0;
}

/* One transport spec (no commas): 0 when we can serve it, SL_EUNSUPP when not. */
static int parse_spec(const char *s, size_t n, struct rtsp_transport *t)
{
	memset(t, 0, sizeof(*t));
	int first = 1, unicast = 1;
	while (n) {
		const char *semi = memchr(s, ';', n);
		size_t pn = semi ? (size_t)(semi - s) : n;
		const char *p = s;
		size_t len = pn;
		trim(&p, &len);
		if (first) {
			if (len == 7 && strncasecmp(p, "RTP/AVP", 7) == 0)
				t->tcp = 0;
			else if (len == 11 && strncasecmp(p, "RTP/AVP/UDP", 11) == 0)
				t->tcp = 0;
			else if (len == 11 && strncasecmp(p, "RTP/AVP/TCP", 11) == 0)
				t->tcp = 1;
			else
				return SL_EUNSUPP;
			first = 0;
		} else if (len == 9 && strncasecmp(p, "multicast", 9) == 0) {
			unicast = 0;
		} else if (len > 12 && strncasecmp(p, "interleaved=", 12) == 0) {
			long v[2];
			if (parse_pair(p + 12, len - 12, 255, v) < 0)
				return SL_EPROTO;
			t->has_interleaved = 1;
			t->interleaved[0] = (uint8_t)v[0];
			t->interleaved[1] = (uint8_t)v[1];
		} else if (len > 12 && strncasecmp(p, "client_port=", 12) == 0) {
			long v[2];
			if (parse_pair(p + 12, len - 12, 65535, v) < 0 || v[0] == 0)
				return SL_EPROTO;
			t->has_client_port = 1;
			t->client_port[0] = (uint16_t)v[0];
			t->client_port[1] = (uint16_t)v[1];
		} else if (len > 5 && strncasecmp(p, "mode=", 5) == 0) {
			const char *m = p + 5;
			size_t mn = len - 5;
			if (mn >= 2 && m[0] == '"' && m[mn - 1] == '"') {
				m++;
				mn -= 2;
			}
			t->record = mn == 6 && strncasecmp(m, "record", 6) == 0;
		}
		/* unicast, ttl, ssrc, destination, source...: nothing we act on */
		if (!semi)
			break;
		n -= pn + 1;
		s = semi + 1;
	}
	t->multicast = !unicast;
	if (first || !unicast)
		return SL_EUNSUPP;
	if (!t->tcp && !t->has_client_port)
		return SL_EUNSUPP;
	return 0;
}

int rtsp_transport_parse(const char *v, size_t n, struct rtsp_transport *out)
{
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return SL_EPROTO;
	int bad = 0;
	while (n) {
		const char *comma = memchr(v, ',', n);
		size_t sn = comma ? (size_t)(comma - v) : n;
		int rc = parse_spec(v, sn, out);
		if (rc == 0)
			return 0;
		if (rc == SL_EPROTO)
			bad = 1;
		if (!comma)
			break;
		n -= sn + 1;
		v = comma + 1;
	}
	memset(out, 0, sizeof(*out));
	return bad ? SL_EPROTO : SL_EUNSUPP;
}

static int copy_str(const char *p, size_t n, char *out, size_t cap)
{
	if (n >= cap)
		return SL_EPROTO;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static int is_control(const char *p, size_t n)
{
	return (n > 8 && strncasecmp(p, "trackID=", 8) == 0) ||
	       (n > 9 && strncasecmp(p, "streamid=", 9) == 0);
}

/* The value of key in a query "a=1&b=2" into out ("" when absent). */
static int query_get(const char *q, size_t n, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	out[0] = '\0';
	while (n) {
		const char *amp = memchr(q, '&', n);
		size_t pn = amp ? (size_t)(amp - q) : n;
		if (pn > kl && memcmp(q, key, kl) == 0 && q[kl] == '=')
			return copy_str(q + kl + 1, pn - kl - 1, out, cap);
		if (!amp)
			break;
		n -= pn + 1;
		q = amp + 1;
	}
	return 0;
}

int rtsp_url_parse(const char *url, size_t n, struct rtsp_url *out)
{
	memset(out, 0, sizeof(*out));
	if (n == 1 && url[0] == '*')
		return 0;
	if (n < 7 || strncasecmp(url, "rtsp://", 7) != 0)
		return SL_EPROTO;
	const char *p = url + 7, *end = url + n;
	const char *slash = memchr(p, '/', (size_t)(end - p));
	if (!slash)
		return SL_EPROTO;
	p = slash + 1;
	const char *qm = memchr(p, '?', (size_t)(end - p));
	const char *path_end = qm ? qm : end;
	const char *query = qm ? qm + 1 : end;
	const char *query_end = end;
	/* A control a player appended after the query: ".../STREAM?token=T/trackID=0". */
	const char *ctl = NULL, *ctl_end = NULL;
	if (qm) {
		const char *qs = memchr(query, '/', (size_t)(end - query));
		if (qs) {
			query_end = qs;
			ctl = qs + 1;
			ctl_end = end;
		}
	}
	size_t plen = (size_t)(path_end - p);
	while (plen && p[plen - 1] == '/')
		plen--;
	/* The last segment is the control when it looks like one and none came after the query. */
	const char *last = p + plen;
	while (last > p && last[-1] != '/')
		last--;
	if (!ctl && last > p && is_control(last, (size_t)(p + plen - last))) {
		ctl = last;
		ctl_end = p + plen;
		plen = (size_t)(last - 1 - p);
	}
	if (ctl) {
		size_t cn = (size_t)(ctl_end - ctl);
		while (cn && ctl[cn - 1] == '/')
			cn--;
		if (copy_str(ctl, cn, out->control, sizeof(out->control)) < 0 ||
		    memchr(out->control, '/', cn) || memchr(out->control, '\0', cn))
			return SL_EPROTO;
	}
	/* APP/STREAM: the stream is the last segment, the app all before it. */
	const char *sn = p + plen;
	while (sn > p && sn[-1] != '/')
		sn--;
	if (sn == p)
		return SL_EPROTO;
	if (copy_str(p, (size_t)(sn - 1 - p), out->app, sizeof(out->app)) < 0 ||
	    copy_str(sn, (size_t)(p + plen - sn), out->name, sizeof(out->name)) < 0)
		return SL_EPROTO;
	if (!app_name_valid(out->app) || !stream_name_valid(out->name))
		return SL_EPROTO;
	if (query_get(query, (size_t)(query_end - query), "token", out->token,
	              sizeof(out->token)) < 0)
		return SL_EPROTO;
	return 0;
}

const char *rtsp_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 413: return "Request Entity Too Large";
	case 415: return "Unsupported Media Type";
	case 453: return "Not Enough Bandwidth";
	case 454: return "Session Not Found";
	case 455: return "Method Not Valid in This State";
	case 459: return "Aggregate Operation Not Allowed";
	case 461: return "Unsupported Transport";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "RTSP Version Not Supported";
	default: return "Error";
	}
}
