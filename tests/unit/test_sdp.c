/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sdp.c - a Chromium WHEP offer parses into what the answer needs; the
 * answer is ICE-lite, passive, sendonly, with our candidate and one format;
 * malformed and over-limit offers are refused with a reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "proto/sdp.h"

static char *load(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/fuzz/corpora/sdp/%s", SOURCE_ROOT, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[65536];
	*len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void test_chromium_offer(void **state)
{
	(void)state;
	size_t len;
	const char *s = load("chromium_whep.sdp", &len);
	static struct sdp_offer o;
	char err[128];
	assert_int_equal(sdp_offer_parse(s, len, &o, err, sizeof(err)), 0);
	assert_string_equal(o.ice_ufrag, "EsAw");
	assert_string_equal(o.ice_pwd, "bP+XJMM09aR8AiX1jdukzR6Y");
	assert_true(o.has_fingerprint);
	assert_int_equal(o.fingerprint[0], 0xDA);
	assert_int_equal(o.fingerprint[31], 0x91);
	assert_int_equal(o.setup, SDP_SETUP_ACTPASS);
	assert_string_equal(o.bundle, "0 1");
	assert_int_equal(o.nmedia, 2);
	assert_int_equal(o.media[0].kind, SDP_AUDIO);
	assert_int_equal(o.media[0].dir, SDP_RECVONLY);
	assert_true(o.media[0].rtcp_mux);
	assert_string_equal(o.media[1].mid, "1");
	assert_int_equal(o.media[1].nformats, 25);
	assert_false(o.media[1].bundle_only);

	int a = sdp_pick_opus(&o.media[0]);
	assert_int_equal(o.media[0].fmt[a].pt, 111);
	/* High profile wanted and offered (pt 112, mode 1). */
	int v = sdp_pick_h264(&o.media[1], 0x64);
	assert_int_equal(o.media[1].fmt[v].pt, 112);
	/* Nothing matching: constrained baseline with mode 1 (pt 106), never mode 0. */
	v = sdp_pick_h264(&o.media[1], 0x58);
	assert_int_equal(o.media[1].fmt[v].pt, 106);
	assert_int_equal(o.media[1].fmt[v].pmode, 1);
	assert_int_equal(o.media[1].fmt[v].profile_level_id, 0x42e01f);
	assert_int_equal(o.media[1].fmt[v].fb, SDP_FB_NACK | SDP_FB_PLI | SDP_FB_FIR | SDP_FB_TWCC | SDP_FB_REMB);
	assert_int_equal(o.media[1].fmt[v + 1].apt, 106);

	struct sdp_answer_params p = {
		.ice_ufrag = "uFrg", .ice_pwd = "pwdpwdpwdpwdpwdpwdpwdpwd", .cand_ip = "192.0.2.7",
		.cand_port = 41000, .cname = "sluice", .session_id = 42,
	};
	p.media[0].format = -1; /* audio rejected */
	p.media[1].format = v;
	p.media[1].ssrc = 1234;
	char *ans = sdp_answer_build(&o, &p);
	assert_non_null(ans);
	assert_non_null(strstr(ans, "a=ice-lite\r\n"));
	assert_non_null(strstr(ans, "a=group:BUNDLE 1\r\n"));
	assert_non_null(strstr(ans, "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\n"));
	/* Even the refused line carries the fingerprint (webrtcbin wants it on every line). */
	const char *fp = strstr(ans, "a=fingerprint:");
	assert_non_null(fp);
	assert_true(fp < strstr(ans, "m=video"));
	assert_non_null(strstr(ans, "m=video 41000 UDP/TLS/RTP/SAVPF 106\r\n"));
	assert_non_null(strstr(ans, "a=candidate:1 1 udp 2130706431 192.0.2.7 41000 typ host\r\n"));
	assert_non_null(strstr(ans, "a=setup:passive\r\n"));
	assert_non_null(strstr(ans, "a=sendonly\r\n"));
	assert_non_null(strstr(ans, "a=rtpmap:106 H264/90000\r\n"));
	assert_non_null(strstr(ans, "a=rtcp-fb:106 nack pli\r\n"));
	assert_non_null(strstr(ans, "a=ssrc:1234 cname:sluice\r\n"));
	/* The answer is itself valid SDP to our parser, with our credentials. */
	static struct sdp_offer back;
	assert_int_equal(sdp_offer_parse(ans, strlen(ans), &back, err, sizeof(err)), 0);
	assert_string_equal(back.ice_ufrag, "uFrg");
	assert_int_equal(back.setup, SDP_SETUP_PASSIVE);
	assert_int_equal(back.media[1].dir, SDP_SENDONLY);
	free(ans);
}

/* WHIP: a publisher's sendonly offer gets a recvonly answer with nothing of ours to send. */
static void test_whip_answer(void **state)
{
	(void)state;
	static const char offer[] =
		"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
		"a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef0123456789\r\n"
		"a=fingerprint:sha-256 AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:"
		"AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB\r\na=setup:actpass\r\n"
		"m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\n"
		"a=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtpmap:97 H264/90000\r\n"
		"a=rtcp-fb:97 nack\r\na=rtcp-fb:97 nack pli\r\n"
		"a=fmtp:97 packetization-mode=1;profile-level-id=42e01f\r\n"
		"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendrecv\r\n"
		"a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n";
	static struct sdp_offer o;
	char err[128];
	assert_int_equal(sdp_offer_parse(offer, sizeof(offer) - 1, &o, err, sizeof(err)), 0);
	assert_int_equal(o.media[0].dir, SDP_SENDONLY);
	assert_int_equal(o.media[1].dir, SDP_SENDRECV);
	int v = sdp_pick_h264(&o.media[0], 0), a = sdp_pick_opus(&o.media[1]);
	assert_int_equal(o.media[0].fmt[v].pt, 97);
	struct sdp_answer_params p = {
		.ice_ufrag = "uFrg", .ice_pwd = "pwdpwdpwdpwdpwdpwdpwdpwd", .cand_ip = "192.0.2.7",
		.cand_port = 5080, .cname = "sluice", .session_id = 7, .recvonly = 1,
	};
	p.media[0].format = v;
	p.media[1].format = a;
	char *ans = sdp_answer_build(&o, &p);
	assert_non_null(ans);
	assert_non_null(strstr(ans, "a=group:BUNDLE 0 1\r\n"));
	assert_non_null(strstr(ans, "m=video 5080 UDP/TLS/RTP/SAVPF 97\r\n"));
	assert_non_null(strstr(ans, "a=rtcp-fb:97 nack pli\r\n"));
	assert_null(strstr(ans, "a=sendonly"));
	assert_null(strstr(ans, "a=ssrc:"));
	assert_null(strstr(ans, "a=msid:"));
	/* Both lines receive: sendonly and sendrecv offers alike. */
	const char *r1 = strstr(ans, "a=recvonly\r\n");
	assert_non_null(r1);
	assert_non_null(strstr(r1 + 1, "a=recvonly\r\n"));
	static struct sdp_offer back;
	assert_int_equal(sdp_offer_parse(ans, strlen(ans), &back, err, sizeof(err)), 0);
	assert_int_equal(back.media[0].dir, SDP_RECVONLY);
	assert_int_equal(back.media[1].dir, SDP_RECVONLY);
	free(ans);
}

static void test_bundle_only(void **state)
{
	(void)state;
	/* Max-bundle offers (webrtcbin, some players) give every line but the first port 0. */
	const char *s = "v=0\r\na=ice-ufrag:a\r\na=ice-pwd:b\r\na=group:BUNDLE v a\r\n"
	                "a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
	                "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n"
	                "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v\r\n"
	                "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=mid:a\r\na=bundle-only\r\n"
	                "a=rtpmap:111 opus/48000/2\r\n";
	static struct sdp_offer o;
	char err[128];
	assert_int_equal(sdp_offer_parse(s, strlen(s), &o, err, sizeof(err)), 0);
	assert_false(o.media[0].bundle_only);
	assert_true(o.media[1].bundle_only);
	assert_int_equal(o.media[1].port, 0);
	assert_int_equal(sdp_pick_opus(&o.media[1]), 0);
}

static void test_refusals(void **state)
{
	(void)state;
	static struct sdp_offer o;
	char err[128];
	assert_int_equal(sdp_offer_parse("hello", 5, &o, err, sizeof(err)), SL_EPROTO);
	const char *noice = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n";
	assert_int_equal(sdp_offer_parse(noice, strlen(noice), &o, err, sizeof(err)), SL_EPROTO);
	assert_non_null(strstr(err, "ICE"));
	const char *nofp = "v=0\r\na=ice-ufrag:a\r\na=ice-pwd:b\r\nm=video 9 X 96\r\n";
	assert_int_equal(sdp_offer_parse(nofp, strlen(nofp), &o, err, sizeof(err)), SL_EPROTO);
	assert_non_null(strstr(err, "fingerprint"));
	const char *badpt = "v=0\r\nm=video 9 X 300\r\n";
	assert_int_equal(sdp_offer_parse(badpt, strlen(badpt), &o, err, sizeof(err)), SL_ELIMIT);
	const char *badfp = "v=0\r\na=fingerprint:sha-256 00:11\r\n";
	assert_int_equal(sdp_offer_parse(badfp, strlen(badfp), &o, err, sizeof(err)), SL_EPROTO);

	/* Over the limits: size, m-lines, formats per line, token length. */
	static char big[SDP_MAX_BYTES + 16];
	memset(big, 'x', sizeof(big));
	memcpy(big, "v=0\r\n", 5);
	assert_int_equal(sdp_offer_parse(big, sizeof(big), &o, err, sizeof(err)), SL_ELIMIT);
	char many[2048] = "v=0\r\n";
	for (int i = 0; i < SDP_MAX_MEDIA + 1; i++)
		strcat(many, "m=video 9 X 96\r\n");
	assert_int_equal(sdp_offer_parse(many, strlen(many), &o, err, sizeof(err)), SL_ELIMIT);
	char fmts[1024] = "v=0\r\nm=video 9 X";
	for (int i = 0; i < SDP_MAX_FORMATS + 1; i++)
		snprintf(fmts + strlen(fmts), sizeof(fmts) - strlen(fmts), " %d", i);
	strcat(fmts, "\r\n");
	assert_int_equal(sdp_offer_parse(fmts, strlen(fmts), &o, err, sizeof(err)), SL_ELIMIT);
	char longu[SDP_MAX_TOKEN + 64] = "v=0\r\na=ice-ufrag:";
	memset(longu + strlen(longu), 'u', SDP_MAX_TOKEN);
	assert_int_equal(sdp_offer_parse(longu, strlen(longu), &o, err, sizeof(err)), SL_ELIMIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chromium_offer),
		cmocka_unit_test(test_whip_answer),
		cmocka_unit_test(test_bundle_only),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
