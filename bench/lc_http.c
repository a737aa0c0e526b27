/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lc_http.c - sluice-load's HTTP-FLV viewers: GET, read the response head,
 * undo chunked transfer coding if used, and split the FLV body into tags
 * with sluice's own FLV parser.
 */
#include <string.h>
#include <strings.h>

#include "bench/lc.h"
#include "core/err.h"
#include "proto/flv.h"

enum { HS_HEAD, HS_BODY };
enum { CS_SIZE, CS_SIZE_LF, CS_DATA, CS_DATA_CR, CS_DATA_LF, CS_DONE };

#define HEAD_MAX 16384
#define TAG_MAX (16u << 20)

void lc_http_begin(struct lc_client *c)
{
	char req[1024];
	int n = snprintf(req, sizeof(req),
	                 "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: sluice-load\r\n"
	                 "Accept: */*\r\n\r\n", c->url.path, c->url.host, c->url.port);
	if (n < 0 || (size_t)n >= sizeof(req)) {
		lc_client_fail(c, "request too long");
		return;
	}
	bytes_init(&c->hbuf);
	c->hstate = HS_HEAD;
	lc_client_send(c, (const uint8_t *)req, (size_t)n);
}

/* FLV body bytes, after any chunked coding: collects whole tags. */
static void flv_bytes(struct lc_client *c, const uint8_t *p, size_t n)
{
	bytes_append(&c->hbuf, p, n);
	size_t off = 0;
	const uint8_t *d = c->hbuf.data;
	size_t len = c->hbuf.len;
	if (!c->flv_header_done) {
		int a, v;
		int rc = flv_parse_file_header(d, len, &a, &v);
		if (rc == SL_EAGAIN)
			return;
		if (rc < 0) {
			lc_client_fail(c, "flv: bad file header");
			return;
		}
		off = (size_t)rc;
		c->flv_header_done = 1;
	}
	while (off < len && !c->closed) {
		struct flv_tag t;
		int rc = flv_parse_tag(d + off, len - off, TAG_MAX, &t);
		if (rc == SL_EAGAIN)
			break;
		if (rc < 0) {
			lc_client_fail(c, "flv: %s", sl_strerror(rc));
			return;
		}
		lc_on_tag(c, t.type, t.ts, t.body, t.size);
		off += (size_t)rc;
	}
	if (c->closed)
		return;
	memmove(c->hbuf.data, c->hbuf.data + off, len - off);
	c->hbuf.len = len - off;
}

static int hexval(uint8_t ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Undoes chunked transfer coding, passing data through to flv_bytes(). */
static void chunked_bytes(struct lc_client *c, const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n && !c->closed) {
		switch (c->cstate) {
		case CS_SIZE: {
			int h = hexval(p[i]);
			if (h >= 0) {
				if (c->chunk_left > TAG_MAX) {
					lc_client_fail(c, "http: chunk too large");
					return;
				}
				c->chunk_left = c->chunk_left * 16 + (uint64_t)h;
			} else if (p[i] == '\r') {
				c->cstate = CS_SIZE_LF;
			} else if (p[i] != ';' && p[i] != ' ') {
				lc_client_fail(c, "http: bad chunk size");
				return;
			}
			i++;
			break;
		}
		case CS_SIZE_LF:
			if (p[i++] != '\n') {
				lc_client_fail(c, "http: bad chunk line");
				return;
			}
			if (c->chunk_left == 0) {
				c->cstate = CS_DONE;
				lc_client_fail(c, "stream ended (last chunk)");
				return;
			}
			c->cstate = CS_DATA;
			break;
		case CS_DATA: {
			size_t take = n - i;
			if (take > c->chunk_left)
				take = (size_t)c->chunk_left;
			flv_bytes(c, p + i, take);
			i += take;
			c->chunk_left -= take;
			if (c->chunk_left == 0)
				c->cstate = CS_DATA_CR;
			break;
		}
		case CS_DATA_CR:
			c->cstate = p[i++] == '\r' ? CS_DATA_LF : CS_DONE;
			if (c->cstate == CS_DONE)
				lc_client_fail(c, "http: chunk not followed by CRLF");
			break;
		case CS_DATA_LF:
			if (p[i++] != '\n') {
				lc_client_fail(c, "http: chunk not followed by CRLF");
				return;
			}
			c->cstate = CS_SIZE;
			break;
		default:
			return;
		}
	}
}

static void body_bytes(struct lc_client *c, const uint8_t *p, size_t n)
{
	if (c->chunked)
		chunked_bytes(c, p, n);
	else
		flv_bytes(c, p, n);
}

void lc_http_data(struct lc_client *c, const uint8_t *p, size_t n)
{
	if (c->hstate == HS_BODY) {
		body_bytes(c, p, n);
		return;
	}
	size_t before = c->hbuf.len;
	bytes_append(&c->hbuf, p, n);
	const uint8_t *d = c->hbuf.data;
	size_t len = c->hbuf.len;
	size_t end = 0;
	for (size_t i = before >= 3 ? before - 3 : 0; i + 4 <= len; i++) {
		if (memcmp(d + i, "\r\n\r\n", 4) == 0) {
			end = i + 4;
			break;
		}
	}
	if (!end) {
		if (len > HEAD_MAX)
			lc_client_fail(c, "http: response head too long");
		return;
	}
	if (len < 12 || memcmp(d, "HTTP/1.", 7) != 0) {
		lc_client_fail(c, "http: not an HTTP response");
		return;
	}
	if (memcmp(d + 9, "200", 3) != 0) {
		lc_client_fail(c, "http: status %.3s", (const char *)d + 9);
		return;
	}
	/* Transfer-Encoding: chunked, anywhere in the head (case-insensitive). */
	for (size_t i = 0; i + 26 <= end; i++) {
		if ((d[i] == '\n') && strncasecmp((const char *)d + i + 1, "transfer-encoding:", 18) == 0) {
			size_t j = i + 19;
			while (j < end && d[j] != '\r') {
				if (j + 7 <= end && strncasecmp((const char *)d + j, "chunked", 7) == 0)
					c->chunked = 1;
				j++;
			}
		}
	}
	c->hstate = HS_BODY;
	c->connected = 1;
	size_t rest = len - end;
	uint8_t tmp[4096];
	struct bytes carry;
	bytes_init(&carry);
	if (rest > sizeof(tmp))
		bytes_append(&carry, d + end, rest);
	else
		memcpy(tmp, d + end, rest);
	c->hbuf.len = 0;
	if (rest)
		body_bytes(c, carry.data ? carry.data : tmp, rest);
	bytes_free(&carry);
}
