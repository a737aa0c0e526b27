/* SPDX-License-Identifier: Apache-2.0 */
/* aws_sigv4.c - AWS Signature Version 4 (see aws_sigv4.h). */
#include "manager/aws_sigv4.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/crypto.h"
#include "core/mem.h"

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

void sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	uint8_t md[32];
	unsigned mdlen = 0;
	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, 32, out);
}

static int unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int sigv4_uri_encode(const char *s, size_t len, int keep_slash, char *out, size_t out_size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c) || (keep_slash && c == '/')) {
			if (o + 2 > out_size)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 4 > out_size)
				return -1;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o + 1 > out_size)
		return -1;
	out[o] = '\0';
	return (int)o;
}

/* Percent-decodes s[0..len) (a '+' stays a '+': SigV4 does not treat it as a space), then
 * encodes it the SigV4 way, into a new string. */
static char *reencode(const char *s, size_t len)
{
	char *dec = xmalloc(len + 1);
	size_t d = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
			dec[d++] = (char)(hex_digit(s[i + 1]) * 16 + hex_digit(s[i + 2]));
			i += 2;
		} else {
			dec[d++] = s[i];
		}
	}
	size_t cap = d * 3 + 1;
	char *enc = xmalloc(cap);
	sigv4_uri_encode(dec, d, 0, enc, cap);
	free(dec);
	return enc;
}

struct qparam {
	char *k, *v;
};

static int qcmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->k, y->k);
	return c ? c : strcmp(x->v, y->v);
}

static void canonical_query(const char *q, struct sbuf *out)
{
	if (!q || !*q)
		return;
	size_t n = 1;
	for (const char *p = q; *p; p++)
		n += *p == '&';
	struct qparam *v = xcalloc(n, sizeof(*v));
	size_t k = 0;
	const char *p = q;
	while (*p) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len) {
			const char *eq = memchr(p, '=', len);
			size_t klen = eq ? (size_t)(eq - p) : len;
			v[k].k = reencode(p, klen);
			v[k].v = eq ? reencode(eq + 1, len - klen - 1) : xstrdup("");
			k++;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	qsort(v, k, sizeof(*v), qcmp);
	for (size_t i = 0; i < k; i++) {
		if (i)
			sb_str(out, "&");
		sb_str(out, v[i].k);
		sb_str(out, "=");
		sb_str(out, v[i].v);
		free(v[i].k);
		free(v[i].v);
	}
	free(v);
}

struct hdr {
	char name[64];
	const char *value;
	size_t order;
};

static int hcmp(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* A header value trimmed, with each run of spaces and tabs made one space. */
static void add_trimmed(struct sbuf *b, const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	int space = 0;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
			space = 1;
			continue;
		}
		if (space)
			sb_add(b, " ", 1);
		space = 0;
		sb_add(b, v, 1);
	}
}

int sigv4_authorization(const struct sigv4_request *r, const struct sigv4_key *k,
                        const char *amz_date, char *out, size_t out_size, char *canonical,
                        size_t canonical_size)
{
	if (r->nheaders > SIGV4_HEADERS_MAX || strlen(amz_date) != 16 || amz_date[8] != 'T' ||
	    amz_date[15] != 'Z')
		return -1;
	struct hdr h[SIGV4_HEADERS_MAX];
	for (size_t i = 0; i < r->nheaders; i++) {
		size_t n = strlen(r->headers[i].name);
		if (n == 0 || n >= sizeof(h[i].name))
			return -1;
		for (size_t j = 0; j <= n; j++)
			h[i].name[j] = (char)tolower((unsigned char)r->headers[i].name[j]);
		h[i].value = r->headers[i].value;
		h[i].order = i;
	}
	qsort(h, r->nheaders, sizeof(h[0]), hcmp);

	struct sbuf c = { 0 }, signed_names = { 0 };
	sb_str(&c, r->method);
	sb_str(&c, "\n");
	const char *path = r->path && *r->path ? r->path : "/";
	size_t pcap = strlen(path) * 3 + 1;
	char *penc = xmalloc(pcap);
	sigv4_uri_encode(path, strlen(path), 1, penc, pcap);
	sb_str(&c, penc);
	free(penc);
	sb_str(&c, "\n");
	canonical_query(r->query, &c);
	sb_str(&c, "\n");
	for (size_t i = 0; i < r->nheaders; i++) {
		int repeat = i > 0 && strcmp(h[i].name, h[i - 1].name) == 0;
		if (repeat) {
			sb_str(&c, ",");  /* one line per name, values in the order given */
		} else {
			if (i)
				sb_str(&c, "\n");
			sb_str(&c, h[i].name);
			sb_str(&c, ":");
			if (signed_names.len)
				sb_str(&signed_names, ";");
			sb_str(&signed_names, h[i].name);
		}
		add_trimmed(&c, h[i].value);
	}
	sb_str(&c, "\n\n");
	sb_str(&c, signed_names.p ? signed_names.p : "");
	sb_str(&c, "\n");
	char hash[65];
	sigv4_sha256_hex(r->body ? r->body : "", r->body ? r->body_len : 0, hash);
	sb_str(&c, hash);
	if (canonical)
		snprintf(canonical, canonical_size, "%s", c.p);

	char date[9], scope[256], creq_hash[65];
	memcpy(date, amz_date, 8);
	date[8] = '\0';
	snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date, k->region, k->service);
	sigv4_sha256_hex(c.p, c.len, creq_hash);
	free(c.p);
	char sts[512];
	int stslen = snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s\n%s", amz_date, scope,
	                      creq_hash);

	/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
	size_t sl = strlen(k->secret_key);
	char *k0 = xmalloc(sl + 5);
	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, k->secret_key, sl + 1);
	uint8_t kd[32], kr[32], ks[32], kk[32], sig[32];
	hmac_sha256(k0, sl + 4, date, 8, kd);
	explicit_bzero(k0, sl + 4);
	free(k0);
	hmac_sha256(kd, 32, k->region, strlen(k->region), kr);
	hmac_sha256(kr, 32, k->service, strlen(k->service), ks);
	hmac_sha256(ks, 32, "aws4_request", 12, kk);
	hmac_sha256(kk, 32, sts, (size_t)stslen, sig);
	char sighex[65];
	hex_encode(sig, 32, sighex);
	int n = snprintf(out, out_size, "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
	                 "Signature=%s", k->access_key, scope, signed_names.p ? signed_names.p : "",
	                 sighex);
	free(signed_names.p);
	return n < 0 || (size_t)n >= out_size ? -1 : 0;
}
