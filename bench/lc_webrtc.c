/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lc_webrtc.c - sluice-load's WebRTC viewers: everything a real WHEP player
 * does that costs the server or the viewer, and nothing a browser would not.
 *
 *   1. WHEP: POST an SDP offer (recvonly H.264 packetization-mode 1, and Opus
 *      unless --whep-no-audio) over the client's TCP connection; the answer
 *      gives the node's ICE credentials, fingerprint and host candidate.
 *   2. ICE: from a UDP socket of its own, STUN binding requests with
 *      USE-CANDIDATE and the node's ice-pwd as MESSAGE-INTEGRITY, repeated
 *      until answered; later every LC_RTC_CONSENT_US for consent freshness.
 *   3. DTLS client (OpenSSL, memory BIOs, DTLS-SRTP): the node's certificate
 *      is checked against the answer's fingerprint, the SRTP keys exported.
 *   4. Every packet SRTP-unprotected, as a real viewer must (RTP by our
 *      proto/srtp_cm, far cheaper than Debian's NSS-based libsrtp2,
 *      or with --whep-libsrtp by libsrtp2; SRTCP by libsrtp2); RTP
 *      sequence gaps counted per track (what a player would NACK); H.264
 *      depacketized (h264_depack) and each access unit handed to the common
 *      frame accounting (lc_media.c), which finds the publisher's SEI stamp:
 *      the lag is measured exactly as for RTMP viewers.  A jump of the video
 *      RTP timestamp by more than LC_RTC_SKIP_TS is pictures lost whole: the
 *      node skipping this viewer to a keyframe (it rewrites sequence numbers
 *      so no gap shows), or many packets lost in a row.
 *   5. An RTCP receiver report every LC_RTC_RR_US, SRTCP-protected.
 *
 * One certificate (made with the node's own dtls_identity code) serves all
 * viewers, as one browser's serves all its peer connections.
 */
#include <jansson.h>
#include <stdarg.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <srtp2/srtp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench/lc.h"
#include "core/bytes.h"
#include "core/err.h"
#include "core/mem.h"
#include "proto/h264_rtp.h"
#include "proto/rtcp.h"
#include "proto/rtp.h"
#include "proto/sdp.h"
#include "proto/srtp_cm.h"
#include "proto/stun.h"
#include "webrtc/dtls_cert.h"

#define LC_RTC_MTU 1200
#define LC_RTC_HEAD_MAX 16384
#define LC_RTC_ANSWER_MAX SDP_MAX_BYTES
#define LC_RTC_STUN_RETRY_US 100000     /* ICE check repeated until answered ... */
#define LC_RTC_STUN_TRIES 100           /* ... this often (10 s, the node's DTLS timeout) */
#define LC_RTC_CONSENT_US 5000000       /* consent freshness, as browsers do */
#define LC_RTC_DTLS_US 10000000         /* ICE answered to DTLS done, or the viewer gives up */
#define LC_RTC_RR_US 1000000            /* receiver reports */
#define LC_RTC_TICK_MS 20
#define LC_RTC_AU_MAX (512 * 1024)      /* the largest access unit depacketized */
/* A jump of the video RTP time by more (250 ms) means pictures lost whole: the node
 * skipping us to a keyframe, or a run of packets lost at our socket. */
#define LC_RTC_SKIP_TS (90000 / 4)
#define LC_RTC_RCVBUF (1 << 20)         /* each viewer's UDP receive buffer */
/* One recvmmsg call reads up to this many datagrams (libuv reads 64 KiB slots). */
#define LC_RTC_MMSG 16

enum { RTC_HTTP, RTC_ICE, RTC_DTLS, RTC_MEDIA, RTC_DEAD };

struct lc_rtc_track {
	uint32_t ssrc;
	int have;
	uint16_t max_seq;
	uint32_t cycles;          /* sequence number wraps, for the extended highest */
	uint64_t packets;
	uint64_t gaps;            /* sequence numbers never seen: what a player would NACK */
	uint64_t late;            /* older than the highest seen (reordered or repeated) */
};

struct lc_rtc {
	int state;
	uv_udp_t udp;
	int udp_open;
	struct sockaddr_in peer;
	char ufrag[9], pwd[33];                    /* ours */
	char rufrag[SDP_MAX_TOKEN], rpwd[SDP_MAX_TOKEN];
	uint8_t rfp[SDP_FP_LEN];
	uint8_t video_pt, audio_pt;
	int has_audio;
	/* HTTP */
	int http_status;
	size_t body_len;
	/* ICE */
	uint8_t tid[STUN_TID_LEN];
	int stun_tries;
	uint64_t next_stun_us;
	uint64_t ice_done_us, dtls_done_us;
	/* DTLS, SRTP */
	SSL *ssl;
	BIO *rbio, *wbio;
	srtp_t srtp_in, srtp_out;
	struct srtp_cm rtp_in;                     /* RTP, unless --whep-libsrtp */
	int srtp_ready;
	uint32_t ssrc;                             /* ours, in receiver reports */
	uint64_t next_rr_us;
	/* media */
	struct lc_rtc_track video, audio;
	struct h264_depack depack;
	uint8_t *au;
	uint32_t last_vts;
	int have_vts;
	uint64_t skips;
	uint64_t srtp_errors, rtcp_in;
};

struct lc_rtc_shared {
	SSL_CTX *ctx;
	uint8_t fingerprint[DTLS_FP_LEN];
	uv_timer_t tick;
	uint8_t *udpbuf;                           /* LC_RTC_MMSG slots of 64 KiB */
};

static void rtc_fail(struct lc_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void rtc_fail(struct lc_client *c, const char *fmt, ...)
{
	struct lc_rtc *r = c->rtc;
	char msg[96];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lc_client_fail(c, "%s", msg);
	c->closed = 1;
	if (r->state == RTC_DEAD)
		return;
	r->state = RTC_DEAD;
	if (r->udp_open) {
		uv_udp_recv_stop(&r->udp);
		uv_close((uv_handle_t *)&r->udp, NULL);
	}
}

static void random_text(char *out, size_t n)
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint8_t rnd[64];
	RAND_bytes(rnd, (int)n);
	for (size_t i = 0; i < n; i++)
		out[i] = al[rnd[i] % (sizeof(al) - 1)];
	out[n] = '\0';
}

/* ---- WHEP over HTTP ---------------------------------------------------- */

void lc_whep_begin(struct lc_client *c)
{
	struct lc_rtc *r = c->rtc;
	const struct lc_rtc_shared *sh = c->lc->rtcs;
	random_text(r->ufrag, 8);
	random_text(r->pwd, 32);
	char fp[3 * DTLS_FP_LEN];
	for (int i = 0; i < DTLS_FP_LEN; i++)
		snprintf(fp + 3 * i, 4, "%02X%s", sh->fingerprint[i], i + 1 < DTLS_FP_LEN ? ":" : "");
	char sdp[2048];
	int audio = !c->lc->o.whep_no_audio;
	int n = snprintf(sdp, sizeof(sdp),
		"v=0\r\no=- %d 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
		"a=group:BUNDLE 0%s\r\n"
		"a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\na=setup:active\r\n"
		"m=video 9 UDP/TLS/RTP/SAVPF 102\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=recvonly\r\n"
		"a=rtcp-mux\r\na=rtpmap:102 H264/90000\r\na=rtcp-fb:102 nack\r\n"
		"a=rtcp-fb:102 nack pli\r\n"
		"a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
		"%s",
		c->id, audio ? " 1" : "", r->ufrag, r->pwd, fp,
		audio ? "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"
		        "a=recvonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
		        "a=fmtp:111 minptime=10;useinbandfec=1\r\n" : "");
	char head[1024];
	int h = snprintf(head, sizeof(head),
		"POST %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: sluice-load\r\n"
		"Content-Type: application/sdp\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		c->url.path, c->url.host, c->url.port, n);
	if (n < 0 || (size_t)n >= sizeof(sdp) || h < 0 || (size_t)h >= sizeof(head)) {
		rtc_fail(c, "%s", "whep: request too long");
		return;
	}
	bytes_init(&c->hbuf);
	lc_client_send(c, (const uint8_t *)head, (size_t)h);
	lc_client_send(c, (const uint8_t *)sdp, (size_t)n);
}

static void close_http(struct lc_client *c)
{
	if (c->open && !c->closed) {
		io_read_stop(&c->io);
		io_close(&c->io, NULL);
	}
	c->open = 0;   /* the TCP part is over; c->closed now speaks of the WebRTC session */
	bytes_free(&c->hbuf);
}

/* The host candidate of the answer's first m-line: "a=candidate:F 1 udp PRIO IP PORT typ host". */
static int answer_candidate(const char *sdp, struct sockaddr_in *sa)
{
	const char *p = strstr(sdp, "a=candidate:");
	if (!p)
		return -1;
	char ip[64];
	unsigned port;
	char transport[8];
	if (sscanf(p, "a=candidate:%*s %*u %7s %*u %63s %u typ", transport, ip, &port) != 3 ||
	    strcasecmp(transport, "udp") != 0 || port == 0 || port > 65535)
		return -1;
	return uv_ip4_addr(ip, (int)port, sa) == 0 ? 0 : -1;
}

static void start_ice(struct lc_client *c);

static void got_answer(struct lc_client *c, const char *sdp, size_t len)
{
	struct lc_rtc *r = c->rtc;
	struct sdp_offer *a = xcalloc(1, sizeof(*a));
	char err[128];
	if (sdp_offer_parse(sdp, len, a, err, sizeof(err)) != 0) {
		rtc_fail(c, "whep: bad answer: %s", err);
		free(a);
		return;
	}
	snprintf(r->rufrag, sizeof(r->rufrag), "%s", a->ice_ufrag);
	snprintf(r->rpwd, sizeof(r->rpwd), "%s", a->ice_pwd);
	memcpy(r->rfp, a->fingerprint, SDP_FP_LEN);
	for (unsigned i = 0; i < a->nmedia; i++) {
		const struct sdp_media *m = &a->media[i];
		if (m->port == 0 || !m->nformats)
			continue;
		if (m->kind == SDP_VIDEO)
			r->video_pt = m->fmt[0].pt;
		else if (m->kind == SDP_AUDIO) {
			r->audio_pt = m->fmt[0].pt;
			r->has_audio = 1;
		}
	}
	free(a);
	if (!r->video_pt) {
		rtc_fail(c, "%s", "whep: the answer sends no video");
		return;
	}
	if (answer_candidate(sdp, &r->peer) < 0) {
		rtc_fail(c, "%s", "whep: no usable host candidate in the answer");
		return;
	}
	close_http(c);
	start_ice(c);
}

void lc_whep_data(struct lc_client *c, const uint8_t *p, size_t n)
{
	struct lc_rtc *r = c->rtc;
	if (r->state != RTC_HTTP)
		return;
	bytes_append(&c->hbuf, p, n);
	const char *d = (const char *)c->hbuf.data;
	size_t len = c->hbuf.len;
	const char *end = memmem(d, len, "\r\n\r\n", 4);
	if (!end) {
		if (len > LC_RTC_HEAD_MAX)
			rtc_fail(c, "%s", "whep: response head too long");
		return;
	}
	size_t head = (size_t)(end - d) + 4;
	if (len < 12 || memcmp(d, "HTTP/1.", 7) != 0) {
		rtc_fail(c, "%s", "whep: not an HTTP response");
		return;
	}
	if (memcmp(d + 9, "201", 3) != 0) {
		char st[4] = { d[9], d[10], d[11], 0 };
		rtc_fail(c, "whep: status %s", st);
		return;
	}
	if (!r->body_len) {
		for (const char *q = d; q && q < d + head; q = memchr(q, '\n', (size_t)(d + head - q))) {
			if (*q == '\n')
				q++;
			if (strncasecmp(q, "content-length:", 15) == 0) {
				r->body_len = strtoul(q + 15, NULL, 10);
				break;
			}
		}
		if (!r->body_len || r->body_len > LC_RTC_ANSWER_MAX) {
			rtc_fail(c, "%s", "whep: answer without a usable Content-Length");
			return;
		}
	}
	if (len - head < r->body_len)
		return;
	char *sdp = xmalloc(r->body_len + 1);
	memcpy(sdp, d + head, r->body_len);
	sdp[r->body_len] = '\0';
	got_answer(c, sdp, r->body_len);
	free(sdp);
}

/* ---- ICE and DTLS ------------------------------------------------------ */

static void udp_send(struct lc_client *c, const uint8_t *p, size_t n)
{
	struct lc_rtc *r = c->rtc;
	uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
	/* A datagram the socket cannot take now is lost, as it would be on a network. */
	(void)uv_udp_try_send(&r->udp, &b, 1, (const struct sockaddr *)&r->peer);
}

static void send_check(struct lc_client *c, int use_candidate)
{
	struct lc_rtc *r = c->rtc;
	char user[2 * SDP_MAX_TOKEN + 2];
	snprintf(user, sizeof(user), "%s:%s", r->rufrag, r->ufrag);
	/* A repeated check is a retransmission of one transaction (RFC 8489 6.2.1): its answer
	 * may come after we repeated it, when the node is slow, and must still count. */
	if (r->state != RTC_ICE || r->stun_tries <= 1)
		RAND_bytes(r->tid, sizeof(r->tid));
	uint64_t tiebreak;
	RAND_bytes((uint8_t *)&tiebreak, sizeof(tiebreak));
	uint8_t out[STUN_MAX_MSG];
	size_t n = stun_build_request(out, sizeof(out), r->tid, user, 0x6e7f1eff, 1, tiebreak,
	                              use_candidate, r->rpwd, strlen(r->rpwd));
	if (n)
		udp_send(c, out, n);
}

/* Sends what DTLS wrote, in datagrams of whole records no larger than LC_RTC_MTU. */
static void dtls_flush(struct lc_client *c)
{
	struct lc_rtc *r = c->rtc;
	uint8_t buf[16384];
	int n;
	while ((n = BIO_read(r->wbio, buf, sizeof(buf))) > 0) {
		size_t off = 0, start = 0;
		while (off + 13 <= (size_t)n) {
			size_t rec = 13 + rd_u16be(buf + off + 11);
			if (off + rec > (size_t)n)
				break;
			if (off > start && off + rec - start > LC_RTC_MTU) {
				udp_send(c, buf + start, off - start);
				start = off;
			}
			off += rec;
		}
		if ((size_t)n > start)
			udp_send(c, buf + start, (size_t)n - start);
	}
}

static int srtp_setup(struct lc_rtc *r)
{
	const SRTP_PROTECTION_PROFILE *prof = SSL_get_selected_srtp_profile(r->ssl);
	if (!prof || prof->id != SRTP_AES128_CM_SHA1_80)
		return -1;
	uint8_t km[60];
	if (SSL_export_keying_material(r->ssl, km, sizeof(km), "EXTRACTOR-dtls_srtp", 19,
	                               NULL, 0, 0) != 1)
		return -1;
	/* client key, server key, client salt, server salt (RFC 5764 4.2); we are the client. */
	uint8_t out_key[30], in_key[30];
	memcpy(out_key, km, 16);
	memcpy(in_key, km + 16, 16);
	memcpy(out_key + 16, km + 32, 14);
	memcpy(in_key + 16, km + 46, 14);
	srtp_policy_t pol;
	memset(&pol, 0, sizeof(pol));
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
	pol.ssrc.type = ssrc_any_inbound;
	pol.key = in_key;
	pol.window_size = 1024;
	/* NACK retransmissions repeat a sequence number; without them this never fires. */
	pol.allow_repeat_tx = 1;
	if (srtp_create(&r->srtp_in, &pol) != srtp_err_status_ok)
		return -1;
	pol.ssrc.type = ssrc_any_outbound;
	pol.key = out_key;
	if (srtp_create(&r->srtp_out, &pol) != srtp_err_status_ok ||
	    srtp_cm_init(&r->rtp_in, in_key, in_key + 16) != 0)
		return -1;
	r->srtp_ready = 1;
	return 0;
}

static void dtls_input(struct lc_client *c, const uint8_t *p, size_t n)
{
	struct lc_rtc *r = c->rtc;
	if (!r->ssl)
		return;
	BIO_write(r->rbio, p, (int)n);
	if (r->state == RTC_DTLS) {
		int rc = SSL_do_handshake(r->ssl);
		dtls_flush(c);
		if (rc == 1) {
			if (!dtls_peer_fp_ok(r->ssl, r->rfp)) {
				rtc_fail(c, "%s", "dtls: the node's certificate does not match its fingerprint");
				return;
			}
			if (srtp_setup(r) != 0) {
				rtc_fail(c, "%s", "dtls: no DTLS-SRTP keys");
				return;
			}
			r->state = RTC_MEDIA;
			r->dtls_done_us = lc_now_us();
			r->next_rr_us = r->dtls_done_us + LC_RTC_RR_US;
			c->connected = 1;
		} else {
			int e = SSL_get_error(r->ssl, rc);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				char why[160];
				ERR_error_string_n(ERR_get_error(), why, sizeof(why));
				ERR_clear_error();
				rtc_fail(c, "dtls: %s", why);
			}
		}
		return;
	}
	uint8_t buf[512];
	int rc = SSL_read(r->ssl, buf, sizeof(buf));
	if (rc <= 0 && SSL_get_error(r->ssl, rc) == SSL_ERROR_ZERO_RETURN) {
		ERR_clear_error();
		rtc_fail(c, "%s", "the node closed DTLS");
		return;
	}
	dtls_flush(c);
	ERR_clear_error();
}

static void stun_input(struct lc_client *c, const uint8_t *p, size_t n)
{
	struct lc_rtc *r = c->rtc;
	struct stun_msg m;
	if (stun_parse(p, n, &m) != 0)
		return;
	if (m.type == STUN_BINDING_ERROR) {
		rtc_fail(c, "%s", "ice: the node refused our check");
		return;
	}
	if (m.type != STUN_BINDING_SUCCESS || memcmp(m.tid, r->tid, STUN_TID_LEN) != 0 ||
	    !stun_check_integrity(p, n, &m, r->rpwd, strlen(r->rpwd)))
		return;
	if (r->state != RTC_ICE)
		return;
	r->ice_done_us = lc_now_us();
	r->next_stun_us = r->ice_done_us + LC_RTC_CONSENT_US;
	r->state = RTC_DTLS;
	r->ssl = SSL_new(c->lc->rtcs->ctx);
	r->rbio = BIO_new(BIO_s_mem());
	r->wbio = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(r->rbio, -1);
	SSL_set_bio(r->ssl, r->rbio, r->wbio);
	SSL_set_connect_state(r->ssl);
	DTLS_set_link_mtu(r->ssl, LC_RTC_MTU);
	SSL_do_handshake(r->ssl);
	dtls_flush(c);
	ERR_clear_error();
}

/* ---- media ------------------------------------------------------------- */

static void track_seq(struct lc_client *c, struct lc_rtc_track *t, const struct rtp_header *h)
{
	t->packets++;
	if (!t->have || t->ssrc != h->ssrc) {
		t->have = 1;
		t->ssrc = h->ssrc;
		t->max_seq = h->seq;
		return;
	}
	int d = rtp_seq_diff(h->seq, t->max_seq);
	if (d > 0) {
		if (c->lc->measuring)
			t->gaps += (uint64_t)(d - 1);
		if (h->seq < t->max_seq)
			t->cycles++;
		t->max_seq = h->seq;
	} else {
		t->late++;
	}
}

static void video_packet(struct lc_client *c, const struct rtp_header *h, uint64_t now)
{
	struct lc_rtc *r = c->rtc;
	track_seq(c, &r->video, h);
	if (r->have_vts && h->timestamp != r->last_vts &&
	    (uint32_t)(h->timestamp - r->last_vts) > LC_RTC_SKIP_TS &&
	    (uint32_t)(h->timestamp - r->last_vts) < 0x80000000u && c->lc->measuring)
		r->skips++;
	r->last_vts = h->timestamp;
	r->have_vts = 1;
	if (h->payload_len == 0)
		return;
	int rc = h264_depack_push(&r->depack, h->payload, h->payload_len, h->seq, h->timestamp,
	                          h->marker);
	if (rc == 1)
		lc_on_video_frame(c, h->timestamp / 90, r->depack.keyframe, r->depack.buf,
		                  r->depack.len, 4, now);
}

static void media_input(struct lc_client *c, uint8_t *p, size_t n)
{
	struct lc_rtc *r = c->rtc;
	if (!r->srtp_ready)
		return;
	int len = (int)n;
	uint64_t now = lc_now_us();
	if (c->st.ttfb_us < 0)
		c->st.ttfb_us = (int64_t)(now - c->st.connect_start_us);
	if (rtp_is_rtcp(p, n)) {
		if (srtp_unprotect_rtcp(r->srtp_in, p, &len) != srtp_err_status_ok)
			r->srtp_errors++;
		else
			r->rtcp_in++;
		return;
	}
	if (c->lc->o.whep_libsrtp ? srtp_unprotect(r->srtp_in, p, &len) != srtp_err_status_ok :
	    (len = srtp_cm_unprotect(&r->rtp_in, p, n)) < 0) {
		r->srtp_errors++;
		return;
	}
	struct rtp_header h;
	if (rtp_parse(p, (size_t)len, &h) != 0)
		return;
	if (h.payload_type == r->video_pt) {
		video_packet(c, &h, now);
	} else if (r->has_audio && h.payload_type == r->audio_pt) {
		track_seq(c, &r->audio, &h);
		c->st.audio_frames++;
	}
}

static void on_udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct lc_client *c = h->data;
	(void)hint;
	/* One buffer for every socket: each read's datagrams are consumed before the next. */
	*buf = uv_buf_init((char *)c->lc->rtcs->udpbuf, LC_RTC_MMSG * 64 * 1024);
}

static void on_udp(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
                   unsigned flags)
{
	struct lc_client *c = u->data;
	struct lc_rtc *r = c->rtc;
	(void)flags;
	if (nread <= 0 || !from || r->state == RTC_DEAD)
		return;
	c->st.bytes += (uint64_t)nread;
	if (c->lc->measuring)
		c->st.window_bytes += (uint64_t)nread;
	uint8_t *p = (uint8_t *)buf->base;
	size_t n = (size_t)nread;
	/* RFC 7983: the first byte tells STUN, DTLS and SRTP apart. */
	if (p[0] < 4)
		stun_input(c, p, n);
	else if (p[0] >= 20 && p[0] <= 63)
		dtls_input(c, p, n);
	else if (p[0] >= 128 && p[0] <= 191)
		media_input(c, p, n);
}

static void start_ice(struct lc_client *c)
{
	struct lc_rtc *r = c->rtc;
	int rc = uv_udp_init_ex(c->lc->loop, &r->udp, AF_INET | UV_UDP_RECVMMSG);
	if (rc < 0) {
		rtc_fail(c, "udp: %s", uv_strerror(rc));
		return;
	}
	r->udp_open = 1;
	r->udp.data = c;
	struct sockaddr_in any;
	uv_ip4_addr("127.0.0.1", 0, &any);
	if ((rc = uv_udp_bind(&r->udp, (const struct sockaddr *)&any, 0)) < 0 ||
	    (rc = uv_udp_recv_start(&r->udp, on_udp_alloc, on_udp)) < 0) {
		rtc_fail(c, "udp: %s", uv_strerror(rc));
		return;
	}
	/* Room for a GOP burst (a new viewer is sent the cached GOP at once) and for this
	 * process being scheduled late, so the client's own delays do not show as loss. */
	int rcvbuf = LC_RTC_RCVBUF;
	if ((rc = uv_recv_buffer_size((uv_handle_t *)&r->udp, &rcvbuf)) < 0) {
		rtc_fail(c, "udp: %s", uv_strerror(rc));
		return;
	}
	r->state = RTC_ICE;
	r->stun_tries = 1;
	r->next_stun_us = lc_now_us() + LC_RTC_STUN_RETRY_US;
	send_check(c, 1);
}

static void send_rr(struct lc_client *c)
{
	struct lc_rtc *r = c->rtc;
	struct rtcp_report_block rb[2];
	size_t nb = 0;
	const struct lc_rtc_track *tr[2] = { &r->video, &r->audio };
	for (int i = 0; i < 2; i++) {
		if (!tr[i]->have)
			continue;
		memset(&rb[nb], 0, sizeof(rb[nb]));
		rb[nb].ssrc = tr[i]->ssrc;
		rb[nb].highest_seq = (tr[i]->cycles << 16) | tr[i]->max_seq;
		uint64_t lost = tr[i]->gaps;
		rb[nb].cumulative_lost = (int32_t)(lost > 0x7fffff ? 0x7fffff : lost);
		nb++;
	}
	uint8_t pkt[256];
	int n = rtcp_write_rr(pkt, sizeof(pkt) - SRTP_MAX_TRAILER_LEN - 4, r->ssrc, rb, nb);
	if (n <= 0)
		return;
	if (srtp_protect_rtcp(r->srtp_out, pkt, &n) != srtp_err_status_ok)
		return;
	udp_send(c, pkt, (size_t)n);
}

static void tick_cb(uv_timer_t *t)
{
	struct lc *lc = t->data;
	uint64_t now = lc_now_us();
	for (int i = 0; i < lc->nviewers; i++) {
		struct lc_client *c = &lc->viewers[i];
		struct lc_rtc *r = c->rtc;
		if (!r || r->state == RTC_HTTP || r->state == RTC_DEAD)
			continue;
		if (r->state == RTC_ICE && now >= r->next_stun_us) {
			if (r->stun_tries++ >= LC_RTC_STUN_TRIES) {
				rtc_fail(c, "%s", "ice: no answer to our checks");
				continue;
			}
			r->next_stun_us = now + LC_RTC_STUN_RETRY_US;
			send_check(c, 1);
		} else if (r->state == RTC_DTLS) {
			if (now - r->ice_done_us > LC_RTC_DTLS_US) {
				rtc_fail(c, "%s", "dtls: no handshake in 10 s");
				continue;
			}
			if (DTLSv1_handle_timeout(r->ssl) > 0)
				dtls_flush(c);
		} else if (r->state == RTC_MEDIA) {
			if (now >= r->next_stun_us) {
				r->next_stun_us = now + LC_RTC_CONSENT_US;
				send_check(c, 0);
			}
			if (now >= r->next_rr_us) {
				r->next_rr_us = now + LC_RTC_RR_US;
				send_rr(c);
			}
		}
	}
}

/* The node's certificate is checked against the answer's fingerprint after the handshake. */
static int accept_any(int ok, X509_STORE_CTX *store)
{
	(void)ok;
	(void)store;
	return 1;
}

int lc_webrtc_init(struct lc *lc)
{
	struct lc_rtc_shared *sh = xcalloc(1, sizeof(*sh));
	struct dtls_identity id;
	char err[160];
	if (srtp_init() != srtp_err_status_ok || dtls_identity_init(&id, err, sizeof(err)) != 0) {
		fprintf(stderr, "sluice-load: WebRTC setup failed\n");
		return -1;
	}
	sh->ctx = SSL_CTX_new(DTLS_client_method());
	if (!sh->ctx ||
	    SSL_CTX_use_certificate(sh->ctx, SSL_CTX_get0_certificate(id.ctx)) != 1 ||
	    SSL_CTX_use_PrivateKey(sh->ctx, SSL_CTX_get0_privatekey(id.ctx)) != 1 ||
	    SSL_CTX_set_tlsext_use_srtp(sh->ctx, "SRTP_AES128_CM_SHA1_80") != 0) {
		fprintf(stderr, "sluice-load: DTLS client context failed\n");
		return -1;
	}
	memcpy(sh->fingerprint, id.fingerprint, DTLS_FP_LEN);
	dtls_identity_free(&id);
	SSL_CTX_set_min_proto_version(sh->ctx, DTLS1_2_VERSION);
	SSL_CTX_set_verify(sh->ctx, SSL_VERIFY_PEER, accept_any);
	SSL_CTX_set_options(sh->ctx, SSL_OP_NO_QUERY_MTU);
	SSL_CTX_set_read_ahead(sh->ctx, 1);
	sh->udpbuf = xmalloc(LC_RTC_MMSG * 64 * 1024);
	uv_timer_init(lc->loop, &sh->tick);
	sh->tick.data = lc;
	uv_timer_start(&sh->tick, tick_cb, LC_RTC_TICK_MS, LC_RTC_TICK_MS);
	uv_unref((uv_handle_t *)&sh->tick);
	lc->rtcs = sh;
	for (int i = 0; i < lc->nviewers; i++) {
		struct lc_client *c = &lc->viewers[i];
		if (c->role != LC_PLAY_WHEP)
			continue;
		struct lc_rtc *r = xcalloc(1, sizeof(*r));
		r->au = xmalloc(LC_RTC_AU_MAX);
		h264_depack_init(&r->depack, r->au, LC_RTC_AU_MAX);
		RAND_bytes((uint8_t *)&r->ssrc, sizeof(r->ssrc));
		c->rtc = r;
	}
	return 0;
}

/* ---- report ------------------------------------------------------------ */

void lc_webrtc_report(struct lc *lc, struct json_t *out)
{
	if (!lc->rtcs)
		return;
	uint64_t vpk = 0, apk = 0, vgap = 0, agap = 0, late = 0, skips = 0, srtp_err = 0, rtcp = 0;
	uint64_t dropped = 0, units = 0, media = 0, with_gaps = 0, with_skips = 0;
	uint64_t *setup = xcalloc((size_t)lc->nviewers + 1, sizeof(uint64_t));
	size_t nsetup = 0;
	for (int i = 0; i < lc->nviewers; i++) {
		const struct lc_client *c = &lc->viewers[i];
		const struct lc_rtc *r = c->rtc;
		if (!r)
			continue;
		vpk += r->video.packets;
		apk += r->audio.packets;
		vgap += r->video.gaps;
		agap += r->audio.gaps;
		late += r->video.late + r->audio.late;
		skips += r->skips;
		srtp_err += r->srtp_errors;
		rtcp += r->rtcp_in;
		dropped += r->depack.dropped_units;
		units += r->depack.units;
		media += r->state == RTC_MEDIA;
		with_gaps += r->video.gaps + r->audio.gaps > 0;
		with_skips += r->skips > 0;
		if (r->dtls_done_us)
			setup[nsetup++] = r->dtls_done_us - c->st.connect_start_us;
	}
	json_t *w = json_object();
	json_object_set_new(w, "viewers_in_media", json_integer((json_int_t)media));
	json_object_set_new(w, "video_packets", json_integer((json_int_t)vpk));
	json_object_set_new(w, "audio_packets", json_integer((json_int_t)apk));
	json_object_set_new(w, "gaps_in_window", json_integer((json_int_t)(vgap + agap)));
	json_object_set_new(w, "video_gaps_in_window", json_integer((json_int_t)vgap));
	json_object_set_new(w, "viewers_with_gaps", json_integer((json_int_t)with_gaps));
	json_object_set_new(w, "late_or_repeated", json_integer((json_int_t)late));
	json_object_set_new(w, "jumps_in_window", json_integer((json_int_t)skips));
	json_object_set_new(w, "viewers_with_jumps", json_integer((json_int_t)with_skips));
	json_object_set_new(w, "access_units", json_integer((json_int_t)units));
	json_object_set_new(w, "access_units_dropped", json_integer((json_int_t)dropped));
	json_object_set_new(w, "srtp_errors", json_integer((json_int_t)srtp_err));
	json_object_set_new(w, "rtcp_in", json_integer((json_int_t)rtcp));
	/* POST sent -> SRTP keys: WHEP, ICE and DTLS. */
	json_object_set_new(w, "setup_ms", lc_json_dist(setup, nsetup, 1e-3));
	json_object_set_new(out, "webrtc", w);
	free(setup);
}
