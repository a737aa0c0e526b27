/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_rtsp.c - libFuzzer target for what an RTSP client sends: requests,
 * interleaved frames, the Transport header, request URLs and ANNOUNCE SDP.
 *
 * The input is parsed as a connection's byte stream the way rtsp_server.c
 * walks it (interleaved frames and requests, CR/LF between them); every
 * request taken must lie inside the input and its Transport, URL and body
 * (as SDP, with the H.264 and AAC parameters of each m-line) are parsed
 * too.  Whatever the parsers accept must hold their invariants.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/name.h"
#include "proto/rtsp.h"
#include "proto/rtsp_sdp.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_sdp(const uint8_t *p, size_t n)
{
	static struct rtsp_sdp s;
	char err[100];
	if (rtsp_sdp_parse((const char *)p, n, &s, err, sizeof(err)) < 0)
		return;
	CHECK(s.nmedia >= 1 && s.nmedia <= RTSP_SDP_MAX_MEDIA);
	for (unsigned i = 0; i < s.nmedia; i++) {
		uint8_t avcc[RTSP_SDP_AVCC_MAX], asc[RTSP_SDP_ASC_MAX];
		struct aac_rtp_params ap;
		int r = rtsp_sdp_h264_avcc(s.media[i].fmtp, avcc, sizeof(avcc));
		CHECK(r <= (int)sizeof(avcc));
		CHECK(r == SL_ENOTFOUND || r == SL_EPROTO || r == SL_ELIMIT || (r >= 7 && avcc[0] == 1));
		r = rtsp_sdp_aac_config(s.media[i].fmtp, asc, sizeof(asc), &ap);
		CHECK(r <= (int)sizeof(asc));
		CHECK(strlen(s.media[i].fmtp) < sizeof(s.media[i].fmtp));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	while (off < size) {
		const uint8_t *p = data + off;
		size_t avail = size - off;
		if (p[0] == '\r' || p[0] == '\n') {
			off++;
			continue;
		}
		if (p[0] == '$') {
			uint8_t ch;
			const uint8_t *d;
			size_t n;
			int r = rtsp_interleaved_parse(p, avail, &ch, &d, &n);
			if (r < 0)
				break;
			CHECK((size_t)r == n + 4 && (size_t)r <= avail && d == p + 4);
			off += (size_t)r;
			continue;
		}
		struct rtsp_request req;
		int r = rtsp_request_parse(p, avail, 2048, RTSP_SDP_MAX_BYTES, &req);
		if (r < 0)
			break;
		CHECK(r > 0 && (size_t)r <= avail);
		CHECK(req.nheaders <= RTSP_MAX_HEADERS);
		CHECK((const uint8_t *)req.url.p >= p && (const uint8_t *)req.url.p + req.url.n <= p + r);
		struct rtsp_url u;
		if (rtsp_url_parse(req.url.p, req.url.n, &u) == 0 && u.app[0]) {
			CHECK(app_name_valid(u.app) && stream_name_valid(u.name));
			CHECK(strlen(u.token) < sizeof(u.token) && strlen(u.control) < sizeof(u.control));
		}
		size_t tn;
		const char *tv = rtsp_header(&req, "Transport", &tn);
		struct rtsp_transport t;
		if (tv && rtsp_transport_parse(tv, tn, &t) == 0)
			CHECK(t.tcp || t.has_client_port);
		if (req.body) {
			CHECK(req.body + req.body_len == p + r);
			check_sdp(req.body, req.body_len);
		}
		off += (size_t)r;
	}
	return 0;
}
