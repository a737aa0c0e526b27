/* SPDX-License-Identifier: Apache-2.0 */
/* test_rtsp.c - RTSP requests, interleaved frames, Transport, URLs and the RTSP SDP. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/bytes.h"
#include "core/err.h"
#include "proto/avc.h"
#include "proto/rtsp.h"
#include "proto/rtsp_sdp.h"

static int req(const char *s, struct rtsp_request *r)
{
	return rtsp_request_parse((const uint8_t *)s, strlen(s), 4096, 1024, r);
}

static void test_request(void **state)
{
	(void)state;
	struct rtsp_request r;
	const char *opt = "OPTIONS rtsp://h:8554/live/a RTSP/1.0\r\nCSeq: 7\r\nUser-Agent: x\r\n\r\n";
	assert_int_equal(req(opt, &r), (int)strlen(opt));
	assert_true(rtsp_method_is(&r, "OPTIONS"));
	assert_false(rtsp_method_is(&r, "options"));
	assert_int_equal(r.cseq, 7);
	size_t n;
	const char *ua = rtsp_header(&r, "user-agent", &n);
	assert_non_null(ua);
	assert_int_equal(n, 1);
	assert_null(rtsp_header(&r, "Session", NULL));
	/* Not all here yet: the head, then the body. */
	assert_int_equal(rtsp_request_parse((const uint8_t *)opt, strlen(opt) - 2, 4096, 0, &r),
	                 SL_EAGAIN);
	const char *ann = "ANNOUNCE rtsp://h/live/a RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 5\r\n\r\nv=0\r\n";
	assert_int_equal(rtsp_request_parse((const uint8_t *)ann, strlen(ann) - 1, 4096, 1024, &r),
	                 SL_EAGAIN);
	assert_int_equal(req(ann, &r), (int)strlen(ann));
	assert_int_equal(r.body_len, 5);
	assert_memory_equal(r.body, "v=0\r\n", 5);
	/* Two pipelined: the first is taken alone. */
	char two[256];
	snprintf(two, sizeof(two), "%s%s", opt, opt);
	assert_int_equal(req(two, &r), (int)strlen(opt));
	/* Bare LF line ends are accepted. */
	assert_int_equal(req("OPTIONS * RTSP/1.0\nCSeq: 1\n\n", &r), 28);
}

static void test_request_refused(void **state)
{
	(void)state;
	struct rtsp_request r;
	assert_int_equal(req("OPTIONS * HTTP/1.1\r\n\r\n", &r), SL_EPROTO);
	assert_int_equal(req("OPTIONS * RTSP/2.0\r\n\r\n", &r), SL_EUNSUPP);
	assert_int_equal(req("OPTIONS  * RTSP/1.0\r\n\r\n", &r), SL_EPROTO);
	assert_int_equal(req("OPTIONS * RTSP/1.0\r\nNoColon\r\n\r\n", &r), SL_EPROTO);
	assert_int_equal(req("OPTIONS * RTSP/1.0\r\nCSeq: x\r\n\r\n", &r), SL_EPROTO);
	assert_int_equal(req("OPTIONS * RTSP/1.0\r\n folded\r\n\r\n", &r), SL_EPROTO);
	assert_int_equal(req("ANNOUNCE * RTSP/1.0\r\nContent-Length: 5000\r\n\r\n", &r), SL_ELIMIT);
	/* Too many headers, a head over the limit (even unterminated). */
	char many[2048] = "OPTIONS * RTSP/1.0\r\n";
	for (int i = 0; i < RTSP_MAX_HEADERS + 1; i++)
		strcat(many, "A: b\r\n");
	strcat(many, "\r\n");
	assert_int_equal(req(many, &r), SL_ELIMIT);
	char big[5000];
	memset(big, 'a', sizeof(big));
	memcpy(big, "OPTIONS * RTSP/1.0\r\nX: ", 23);
	assert_int_equal(rtsp_request_parse((const uint8_t *)big, sizeof(big), 4096, 0, &r),
	                 SL_ELIMIT);
	assert_int_equal(rtsp_request_parse((const uint8_t *)big, 100, 4096, 0, &r), SL_EAGAIN);
}

static void test_interleaved(void **state)
{
	(void)state;
	uint8_t f[8] = { '$', 1, 0, 4, 9, 8, 7, 6 };
	uint8_t ch;
	const uint8_t *d;
	size_t n;
	assert_int_equal(rtsp_interleaved_parse(f, 8, &ch, &d, &n), 8);
	assert_int_equal(ch, 1);
	assert_int_equal(n, 4);
	assert_int_equal(d[0], 9);
	assert_int_equal(rtsp_interleaved_parse(f, 7, &ch, &d, &n), SL_EAGAIN);
	assert_int_equal(rtsp_interleaved_parse(f, 3, &ch, &d, &n), SL_EAGAIN);
	f[0] = 'R';
	assert_int_equal(rtsp_interleaved_parse(f, 8, &ch, &d, &n), SL_EPROTO);
	uint8_t h[4];
	rtsp_interleaved_header(h, 3, 1400);
	assert_int_equal(h[0], '$');
	assert_int_equal(h[1], 3);
	assert_int_equal((h[2] << 8) | h[3], 1400);
}

static int tp(const char *s, struct rtsp_transport *t)
{
	return rtsp_transport_parse(s, strlen(s), t);
}

static void test_transport(void **state)
{
	(void)state;
	struct rtsp_transport t;
	assert_int_equal(tp("RTP/AVP/TCP;unicast;interleaved=2-3", &t), 0);
	assert_true(t.tcp);
	assert_true(t.has_interleaved);
	assert_int_equal(t.interleaved[0], 2);
	assert_int_equal(t.interleaved[1], 3);
	assert_int_equal(tp("RTP/AVP;unicast;client_port=5000-5001;mode=\"RECORD\"", &t), 0);
	assert_false(t.tcp);
	assert_true(t.record);
	assert_int_equal(t.client_port[0], 5000);
	assert_int_equal(t.client_port[1], 5001);
	/* The first spec we can serve wins. */
	assert_int_equal(tp("RTP/AVP;multicast, RTP/AVP/TCP;interleaved=0-1", &t), 0);
	assert_true(t.tcp);
	assert_int_equal(tp("RTP/AVP;multicast;port=5000-5001", &t), SL_EUNSUPP);
	assert_int_equal(tp("RAW/RAW/UDP;client_port=5000-5001", &t), SL_EUNSUPP);
	assert_int_equal(tp("RTP/AVP;unicast", &t), SL_EUNSUPP);          /* UDP with no ports */
	assert_int_equal(tp("RTP/AVP;client_port=70000-70001", &t), SL_EPROTO);
	assert_int_equal(tp("RTP/AVP/TCP;interleaved=a-b", &t), SL_EPROTO);
	assert_int_equal(tp("", &t), SL_EPROTO);
}

static int url(const char *s, struct rtsp_url *u)
{
	return rtsp_url_parse(s, strlen(s), u);
}

static void test_url(void **state)
{
	(void)state;
	struct rtsp_url u;
	assert_int_equal(url("rtsp://h:8554/live/cam", &u), 0);
	assert_string_equal(u.app, "live");
	assert_string_equal(u.name, "cam");
	assert_string_equal(u.control, "");
	assert_int_equal(url("rtsp://h/live/cam/trackID=1?token=1.abc", &u), 0);
	assert_string_equal(u.name, "cam");
	assert_string_equal(u.control, "trackID=1");
	assert_string_equal(u.token, "1.abc");
	/* ffmpeg appends the control after the query. */
	assert_int_equal(url("rtsp://h/live/cam?token=9.x/streamid=0", &u), 0);
	assert_string_equal(u.control, "streamid=0");
	assert_string_equal(u.token, "9.x");
	assert_int_equal(url("rtsp://h/a/b/cam/", &u), 0);
	assert_string_equal(u.app, "a/b");
	assert_string_equal(u.name, "cam");
	assert_int_equal(url("*", &u), 0);
	assert_string_equal(u.app, "");
	assert_int_equal(url("http://h/live/cam", &u), SL_EPROTO);
	assert_int_equal(url("rtsp://h/cam", &u), SL_EPROTO);
	assert_int_equal(url("rtsp://h", &u), SL_EPROTO);
	assert_int_equal(url("rtsp://h/live/../x", &u), SL_EPROTO);
	assert_int_equal(url("rtsp://h/live/c%20m", &u), SL_EPROTO);
}

static const char announce[] =
	"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
	"a=tool:libavformat\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
	"a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QADazZQUH7ARAAAAMAEAAAAwMg8UKZYA==,"
	"aO+8sA==; profile-level-id=64000D\r\na=control:streamid=0\r\n"
	"m=audio 0 RTP/AVP 97\r\nb=AS:64\r\na=rtpmap:97 MPEG4-GENERIC/44100/2\r\n"
	"a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;"
	"indexdeltalength=3; config=121056E500\r\na=control:streamid=1\r\n";

static void test_sdp_announce(void **state)
{
	(void)state;
	struct rtsp_sdp s;
	char err[100];
	assert_int_equal(rtsp_sdp_parse(announce, strlen(announce), &s, err, sizeof(err)), 0);
	assert_int_equal(s.nmedia, 2);
	assert_true(s.media[0].video);
	assert_int_equal(s.media[0].codec, RTSP_CODEC_H264);
	assert_int_equal(s.media[0].pt, 96);
	assert_string_equal(s.media[0].control, "streamid=0");
	assert_true(s.media[1].audio);
	assert_int_equal(s.media[1].codec, RTSP_CODEC_AAC);
	assert_int_equal(s.media[1].clock, 44100);
	assert_int_equal(s.media[1].channels, 2);
	uint8_t avcc[RTSP_SDP_AVCC_MAX];
	int n = rtsp_sdp_h264_avcc(s.media[0].fmtp, avcc, sizeof(avcc));
	assert_true(n > 0);
	struct avc_config ac;
	assert_int_equal(avc_parse_config(avcc, (size_t)n, &ac), 0);
	assert_int_equal(ac.nsps, 1);
	assert_int_equal(ac.npps, 1);
	assert_int_equal(ac.nal_length_size, 4);
	assert_int_equal(ac.profile, 0x64);
	assert_int_equal(ac.level, 0x0d);
	uint8_t asc[8];
	struct aac_rtp_params p;
	assert_int_equal(rtsp_sdp_aac_config(s.media[1].fmtp, asc, sizeof(asc), &p), 5);
	assert_int_equal(asc[0], 0x12);
	assert_int_equal(p.size_length, 13);
	assert_int_equal(p.index_length, 3);
	assert_int_equal(rtsp_sdp_aac_config("mode=CELP-cbr;config=1210", asc, sizeof(asc), &p),
	                 SL_EUNSUPP);
	assert_int_equal(rtsp_sdp_aac_config("mode=AAC-hbr", asc, sizeof(asc), &p), SL_EPROTO);
	assert_int_equal(rtsp_sdp_aac_config("config=12G0", asc, sizeof(asc), &p), SL_EPROTO);
	assert_int_equal(rtsp_sdp_h264_avcc("packetization-mode=1", avcc, sizeof(avcc)),
	                 SL_ENOTFOUND);
	assert_int_equal(rtsp_sdp_h264_avcc("sprop-parameter-sets=!!!", avcc, sizeof(avcc)),
	                 SL_EPROTO);
	assert_int_equal(rtsp_sdp_h264_avcc("sprop-parameter-sets=aO+8sA==", avcc, sizeof(avcc)),
	                 SL_EPROTO);        /* a PPS and no SPS */
	/* Refusals. */
	assert_int_equal(rtsp_sdp_parse("x=1\r\n", 5, &s, err, sizeof(err)), SL_EPROTO);
	assert_int_equal(rtsp_sdp_parse("v=0\r\n", 5, &s, err, sizeof(err)), SL_EPROTO);
	assert_int_equal(rtsp_sdp_parse("v=0\r\nm=video x\r\n", 16, &s, err, sizeof(err)),
	                 SL_EPROTO);
	char many[512] = "v=0\r\n";
	for (int i = 0; i < RTSP_SDP_MAX_MEDIA + 1; i++)
		strcat(many, "m=audio 0 RTP/AVP 0\r\n");
	assert_int_equal(rtsp_sdp_parse(many, strlen(many), &s, err, sizeof(err)), SL_ELIMIT);
}

static void test_sdp_build(void **state)
{
	(void)state;
	/* The announce's parameter sets, rebuilt as an avcC, described again. */
	struct rtsp_sdp s;
	assert_int_equal(rtsp_sdp_parse(announce, strlen(announce), &s, NULL, 0), 0);
	uint8_t avcc[RTSP_SDP_AVCC_MAX];
	int n = rtsp_sdp_h264_avcc(s.media[0].fmtp, avcc, sizeof(avcc));
	uint8_t asc[2] = { 0x12, 0x10 };
	struct rtsp_sdp_stream d = { .avcc = avcc, .avcc_len = (size_t)n, .asc = asc, .asc_len = 2,
	                             .sample_rate = 44100, .channels = 2, .name = "cam",
	                             .addr = "127.0.0.1" };
	struct bytes b;
	bytes_init(&b);
	assert_int_equal(rtsp_sdp_build(&b, &d), 0);
	bytes_put_u8(&b, 0);
	const char *t = (const char *)b.data;
	assert_non_null(strstr(t, "m=video 0 RTP/AVP 96\r\n"));
	assert_non_null(strstr(t, "profile-level-id=64000D;"));
	assert_non_null(strstr(t, "sprop-parameter-sets=Z2QADazZQUH7ARAAAAMAEAAAAwMg8UKZYA==,aO+8sA==\r\n"));
	assert_non_null(strstr(t, "a=rtpmap:97 MPEG4-GENERIC/44100/2\r\n"));
	assert_non_null(strstr(t, "config=1210\r\na=control:trackID=1\r\n"));
	/* And what we wrote parses back. */
	assert_int_equal(rtsp_sdp_parse(t, strlen(t), &s, NULL, 0), 0);
	assert_int_equal(s.nmedia, 2);
	assert_string_equal(s.media[0].control, "trackID=0");
	bytes_free(&b);
	char out[16];
	assert_int_equal(rtsp_base64((const uint8_t *)"ab", 2, out), 4);
	assert_string_equal(out, "YWI=");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_request_refused),
		cmocka_unit_test(test_interleaved),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_sdp_announce),
		cmocka_unit_test(test_sdp_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
