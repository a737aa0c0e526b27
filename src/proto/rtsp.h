/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtsp.h - RTSP 1.0 (RFC 2326) as a server reads and writes it: requests,
 * the interleaved "$" frames that share the connection with them, the
 * Transport header, the request URL, and responses.
 *
 * Pure: bytes in, a request (pointing into the input) or an error out;
 * nothing allocates.  Every size is bounded: the request head
 * (max_head, at most RTSP_HEAD_MAX), the header count (RTSP_MAX_HEADERS), a
 * body (max_body), so a hostile peer costs a fixed amount of parsing.
 */
#ifndef SLUICE_PROTO_RTSP_H
#define SLUICE_PROTO_RTSP_H

#include <stddef.h>
#include <stdint.h>

#include "core/name.h"

#define RTSP_HEAD_MAX 16384      /* request line and headers, hard ceiling */
#define RTSP_MAX_HEADERS 32
#define RTSP_TOKEN_MAX 160       /* ?token= value */
#define RTSP_CONTROL_MAX 64      /* the track part of a SETUP URL ("trackID=0") */

struct rtsp_span {
	const char *p;
	size_t n;
};

struct rtsp_request {
	struct rtsp_span method, url;
	unsigned nheaders;
	struct rtsp_span name[RTSP_MAX_HEADERS], value[RTSP_MAX_HEADERS];
	const uint8_t *body;     /* Content-Length bytes after the head (NULL when none) */
	size_t body_len;
	long cseq;               /* -1 when absent */
};

/*
 * Parses one request at p[0..n).  Returns the bytes it takes (head and
 * body) when whole, SL_EAGAIN when more is needed, SL_EPROTO when it is not
 * an RTSP/1.0 request, SL_ELIMIT when the head passes max_head, the headers
 * RTSP_MAX_HEADERS or the body max_body.  An RTSP/2.0 request is
 * SL_EUNSUPP (answer 505).
 */
int rtsp_request_parse(const uint8_t *p, size_t n, size_t max_head, size_t max_body,
                       struct rtsp_request *out);

/* The value of header name (case-insensitive), or NULL; *len set when found. */
const char *rtsp_header(const struct rtsp_request *r, const char *name, size_t *len);

/* 1 when the request's method is m (exact, as RTSP methods are case-sensitive). */
int rtsp_method_is(const struct rtsp_request *r, const char *m);

/*
 * An interleaved frame at p[0..n) ("$", channel, 16-bit length, data).
 * Returns the frame's total size when whole (*channel, *data, *len set),
 * SL_EAGAIN when more is needed, SL_EPROTO when p[0] is not '$'.
 */
int rtsp_interleaved_parse(const uint8_t *p, size_t n, uint8_t *channel, const uint8_t **data,
                           size_t *len);
/* Writes the 4-byte frame header for len bytes on channel (len <= 65535). */
void rtsp_interleaved_header(uint8_t out[4], uint8_t channel, size_t len);

struct rtsp_transport {
	int tcp;                 /* RTP/AVP/TCP (interleaved) */
	int multicast;           /* asked for; we refuse it */
	int record;              /* mode=record (or mode="RECORD") */
	int has_interleaved;
	uint8_t interleaved[2];
	int has_client_port;
	uint16_t client_port[2];
};

/*
 * Picks the first transport spec of a Transport header value we can serve
 * (RTP/AVP over UDP unicast with client_port, or RTP/AVP/TCP).  Returns 0,
 * SL_EPROTO when the value is malformed, SL_EUNSUPP when no spec is one we
 * serve (answer 461).
 */
int rtsp_transport_parse(const char *v, size_t n, struct rtsp_transport *out);

struct rtsp_url {
	char app[STREAM_NAME_MAX + 1];
	char name[STREAM_NAME_MAX + 1];
	char control[RTSP_CONTROL_MAX];  /* "" for the stream itself */
	char token[RTSP_TOKEN_MAX];      /* "" when none */
};

/*
 * Parses a request URL: rtsp://HOST[:PORT]/APP/STREAM[/CONTROL][?token=T],
 * also the form players build by appending the control to a URL with a
 * query (.../STREAM?token=T/CONTROL), or "*".  Returns 0 (for "*" app and
 * name are ""), or SL_EPROTO (not rtsp://, no APP/STREAM, a name that
 * app_name_valid()/stream_name_valid() refuses, a token or control too long).
 */
int rtsp_url_parse(const char *url, size_t n, struct rtsp_url *out);

/* The reason phrase of a status code we send ("OK", "Not Found", ...). */
const char *rtsp_reason(int status);

#endif
