/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtc_server.c - WebRTC sessions on one shared UDP port: ICE-lite answers,
 * DTLS over memory BIOs, SRTP contexts from the DTLS keys (see rtc.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "media/stream.h"
#include "proto/sdp.h"
#include "proto/stun.h"
#include "webrtc/rtc_internal.h"

#define SRTP_MASTER_LEN 30        /* AES-128 key (16) + salt (14) */

static int srtp_inited;

static void addr_key(const struct sockaddr *sa, char *out, size_t n)
{
	char ip[64] = "?";
	int port = 0;
	if (sa->sa_family == AF_INET) {
		uv_ip4_name((const struct sockaddr_in *)sa, ip, sizeof(ip));
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		uv_ip6_name((const struct sockaddr_in6 *)sa, ip, sizeof(ip));
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	}
	snprintf(out, n, "%s:%d", ip, port);
}

static void random_token(char *out, size_t len)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint8_t r[64];
	random_bytes(r, len);
	for (size_t i = 0; i < len; i++)
		out[i] = alpha[r[i] % (sizeof(alpha) - 1)];
	out[len] = '\0';
}

int rtc_send_raw(struct rtc_session *s, const uint8_t *p, size_t n)
{
	if (!s->has_peer)
		return -1;
	uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
	int rc = uv_udp_try_send(s->sock, &b, 1, (const struct sockaddr *)&s->peer);
	if (rc < 0) {
		s->srv->stats.send_errors++;
		return rc == UV_EAGAIN ? -2 : -1;
	}
	s->srv->stats.bytes_out += n;
	s->srv->stats.packets_out++;
	s->bytes_out += n;
	return 0;
}

int rtc_send_rtp(struct rtc_session *s, struct rtc_track *t, const uint8_t *pkt, size_t n,
                 uint16_t seq, uint32_t ts_delta)
{
	struct rtc_server *srv = s->srv;
	if (!s->srtp_ready || n < 12 || n + RTC_SRTP_OVERHEAD > sizeof(srv->tx))
		return -1;
	memcpy(srv->tx, pkt, n);
	/* The shared packet carries the feed's numbering; each viewer gets its own PT and SSRC. */
	srv->tx[1] = (uint8_t)((srv->tx[1] & 0x80) | t->pt);
	wr_u16be(srv->tx + 2, seq);
	wr_u32be(srv->tx + 4, rd_u32be(srv->tx + 4) + ts_delta);
	wr_u32be(srv->tx + 8, t->ssrc);
	int len = srtp_cm_protect(&s->rtp_out, srv->tx, n, sizeof(srv->tx));
	if (len < 0)
		return -1;
	int rc = rtc_send_raw(s, srv->tx, (size_t)len);
	if (rc == 0) {
		/* A NACK retransmission resends an older number: the track's position (where new
		 * packets continue, what sender reports say) moves only forward. */
		if (!t->sent_any || (int16_t)(uint16_t)(seq - t->last_seq) > 0) {
			t->last_seq = seq;
			t->last_rtp_ts = rd_u32be(srv->tx + 4);
			t->last_send_us = clock_wall_ms() * 1000;
		}
		t->sent_any = 1;
		t->packets++;
		t->octets += (uint32_t)(n - 12);
	}
	return rc;
}

int rtc_send_rtcp(struct rtc_session *s, const uint8_t *pkt, size_t n)
{
	struct rtc_server *srv = s->srv;
	if (!s->srtp_ready || n + RTC_SRTP_OVERHEAD > sizeof(srv->tx))
		return -1;
	memcpy(srv->tx, pkt, n);
	int len = (int)n;
	if (srtp_protect_rtcp(s->srtp_out, srv->tx, &len) != srtp_err_status_ok)
		return -1;
	return rtc_send_raw(s, srv->tx, (size_t)len);
}

static void per_ip_add(struct rtc_server *srv, const char *ip, int d)
{
	uintptr_t n = (uintptr_t)strmap_get(&srv->per_ip, ip);
	n = (uintptr_t)((intptr_t)n + d);
	if (n == 0)
		strmap_del(&srv->per_ip, ip);
	else
		strmap_put(&srv->per_ip, ip, (void *)n);
}

static void free_session(uv_handle_t *h)
{
	free(h->data);
}

void rtc_session_end(struct rtc_session *s, const char *reason)
{
	struct rtc_server *srv = s->srv;
	log_info("webrtc_session_end", "session=%s peer=%s ice=%s reason=\"%s\" bytes_out=%llu",
	         s->id, s->peer_ip, s->has_peer ? s->addr_key : "-", reason,
	         (unsigned long long)s->bytes_out);
	if (s->ssl && s->state == RTC_MEDIA) {
		(void)BIO_reset(s->wbio); /* nothing stale goes out before the alert */
		SSL_shutdown(s->ssl); /* close_notify, so the browser ends at once */
		uint8_t out[512];
		int n = BIO_read(s->wbio, out, sizeof(out));
		if (n > 0)
			rtc_send_raw(s, out, (size_t)n);
	}
	strmap_del(&srv->by_id, s->id);
	strmap_del(&srv->by_ufrag, s->ufrag);
	if (s->has_peer && strmap_get(&srv->by_addr, s->addr_key) == s)
		strmap_del(&srv->by_addr, s->addr_key);
	per_ip_add(srv, s->peer_ip, -1);
	if (s->feed)
		rtc_feed_detach(s->feed, s);
	if (s->ingest)
		rtc_ingest_end(s, reason); /* the publisher's stream ends with it */
	if (s->ssl)
		SSL_free(s->ssl); /* frees the BIOs too */
	if (s->srtp_out)
		srtp_dealloc(s->srtp_out);
	if (s->srtp_in)
		srtp_dealloc(s->srtp_in);
	srtp_cm_free(&s->rtp_out);
	srv->stats.sessions_now--;
	if (s->has_own_sock)
		uv_close((uv_handle_t *)&s->own_sock, free_session); /* freed when libuv is done */
	else
		free(s);
}

/* Sends what DTLS wrote, in datagrams of whole records no larger than RTC_MTU. */
static void dtls_flush(struct rtc_session *s)
{
	uint8_t buf[16384];
	int n;
	while ((n = BIO_read(s->wbio, buf, sizeof(buf))) > 0) {
		size_t off = 0, start = 0;
		while (off + 13 <= (size_t)n) {
			size_t rec = 13 + rd_u16be(buf + off + 11);
			if (off + rec > (size_t)n)
				break;
			if (off > start && off + rec - start > RTC_MTU) {
				rtc_send_raw(s, buf + start, off - start);
				start = off;
			}
			off += rec;
		}
		if ((size_t)n > start)
			rtc_send_raw(s, buf + start, (size_t)n - start);
	}
}

static int srtp_setup(struct rtc_session *s)
{
	/* The offer and our context allow one profile; the handshake must have agreed on it
	 * (the exporter would give keys even without use_srtp). */
	const SRTP_PROTECTION_PROFILE *prof = SSL_get_selected_srtp_profile(s->ssl);
	if (!prof || prof->id != SRTP_AES128_CM_SHA1_80)
		return -1;
	uint8_t km[2 * SRTP_MASTER_LEN];
	if (SSL_export_keying_material(s->ssl, km, sizeof(km), "EXTRACTOR-dtls_srtp", 19,
	                               NULL, 0, 0) != 1)
		return -1;
	/* client key, server key, client salt, server salt (RFC 5764 4.2); we are the server. */
	uint8_t out_key[SRTP_MASTER_LEN], in_key[SRTP_MASTER_LEN];
	memcpy(in_key, km, 16);
	memcpy(out_key, km + 16, 16);
	memcpy(in_key + 16, km + 32, 14);
	memcpy(out_key + 16, km + 46, 14);
	srtp_policy_t pol;
	memset(&pol, 0, sizeof(pol));
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
	pol.ssrc.type = ssrc_any_outbound;
	pol.key = out_key;
	pol.window_size = 1024;
	pol.allow_repeat_tx = 1; /* NACK retransmissions resend a sequence number */
	if (srtp_create(&s->srtp_out, &pol) != srtp_err_status_ok ||
	    srtp_cm_init(&s->rtp_out, out_key, out_key + 16) != 0)
		return -1;
	pol.ssrc.type = ssrc_any_inbound;
	pol.key = in_key;
	pol.allow_repeat_tx = 0;
	if (srtp_create(&s->srtp_in, &pol) != srtp_err_status_ok)
		return -1;
	s->srtp_ready = 1;
	OPENSSL_cleanse(km, sizeof(km));
	OPENSSL_cleanse(in_key, sizeof(in_key));
	OPENSSL_cleanse(out_key, sizeof(out_key));
	return 0;
}

static void dtls_input(struct rtc_session *s, const uint8_t *p, size_t n)
{
	struct rtc_server *srv = s->srv;
	if (!s->ssl)
		return;
	BIO_write(s->rbio, p, (int)n);
	if (s->state == RTC_DTLS) {
		int rc = SSL_do_handshake(s->ssl);
		dtls_flush(s);
		if (rc == 1) {
			if (!dtls_peer_fp_ok(s->ssl, s->remote_fp)) {
				srv->stats.dtls_failed++;
				rtc_session_end(s, "peer certificate does not match the offer's fingerprint");
				return;
			}
			if (srtp_setup(s) != 0) {
				srv->stats.dtls_failed++;
				rtc_session_end(s, "no DTLS-SRTP keys (profile not agreed)");
				return;
			}
			s->state = RTC_MEDIA;
			log_info("webrtc_session_ready", "session=%s ice=%s", s->id, s->addr_key);
			/* A publisher's first video packet tells its SSRC; the first PLI follows it. */
			if (!s->ingest)
				rtc_feed_attach(s->feed, s);
		} else {
			int e = SSL_get_error(s->ssl, rc);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				char why[160];
				ERR_error_string_n(ERR_get_error(), why, sizeof(why));
				srv->stats.dtls_failed++;
				log_limited(&srv->log_lim, LOG_THROTTLE_PER_SEC, LOG_INFO, "webrtc_dtls_failed",
				            "session=%s reason=\"%s\"", s->id, why);
				ERR_clear_error();
				rtc_session_end(s, "DTLS handshake failed");
			}
		}
		return;
	}
	/* After the handshake DTLS carries only alerts for us (no data channel). */
	uint8_t buf[512];
	int rc = SSL_read(s->ssl, buf, sizeof(buf));
	if (rc <= 0 && SSL_get_error(s->ssl, rc) == SSL_ERROR_ZERO_RETURN) {
		rtc_session_end(s, "peer closed DTLS");
		ERR_clear_error();
		return;
	}
	/* Our last flight may have been lost: the browser's repeated flight makes OpenSSL
	 * write ours again, which must go out. */
	dtls_flush(s);
	ERR_clear_error();
}

static void stun_input(struct rtc_server *srv, uv_udp_t *u, const uint8_t *p, size_t n,
                       const struct sockaddr *from)
{
	struct stun_msg m;
	if (stun_parse(p, n, &m) != 0 || m.type != STUN_BINDING_REQUEST) {
		srv->stats.stun_bad += m.type != STUN_BINDING_INDICATION;
		return;
	}
	if (m.fingerprint_at && !stun_check_fingerprint(p, n, &m)) {
		srv->stats.stun_bad++;
		return;
	}
	/* USERNAME is "our-ufrag:their-ufrag" (RFC 8445 7.2.2). */
	char user[STUN_MAX_USERNAME + 1];
	const uint8_t *colon = m.username ? memchr(m.username, ':', m.username_len) : NULL;
	struct rtc_session *s = NULL;
	if (colon) {
		size_t ul = (size_t)(colon - m.username);
		memcpy(user, m.username, ul);
		user[ul] = '\0';
		s = strmap_get(&srv->by_ufrag, user);
	}
	uint8_t out[256];
	if (!s || !stun_check_integrity(p, n, &m, s->pwd, strlen(s->pwd))) {
		srv->stats.stun_bad++;
		char from_key[64];
		addr_key(from, from_key, sizeof(from_key));
		log_limited(&srv->log_lim, LOG_THROTTLE_PER_SEC, LOG_INFO, "webrtc_stun_refused",
		            "from=%s reason=\"%s\"", from_key,
		            s ? "wrong MESSAGE-INTEGRITY" : "no session has this ufrag");
		/* Unknown ufrag: silence, so a forged source cannot make us reflect at a victim. */
		if (!s)
			return;
		size_t len = stun_build_error(out, sizeof(out), m.tid, 401, "Unauthorized", NULL, 0);
		uv_buf_t b = uv_buf_init((char *)out, (unsigned)len);
		if (len)
			uv_udp_try_send(u, &b, 1, from);
		return;
	}
	srv->stats.stun_ok++;
	s->last_check_ms = uv_now(srv->loop);
	/* The first valid check's address (or a nominated one) carries the session. */
	char key[64];
	addr_key(from, key, sizeof(key));
	if (!s->has_peer || (m.use_candidate && strcmp(key, s->addr_key) != 0)) {
		if (s->has_peer && strmap_get(&srv->by_addr, s->addr_key) == s)
			strmap_del(&srv->by_addr, s->addr_key);
		memcpy(&s->peer, from, from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                                   : sizeof(struct sockaddr_in));
		s->has_peer = 1;
		snprintf(s->addr_key, sizeof(s->addr_key), "%s", key);
		struct rtc_session *old = strmap_put(&srv->by_addr, key, s);
		if (old && old != s) {
			old->has_peer = 0; /* the address moved to a new session */
			rtc_session_end(old, "its ICE address was taken over by a new session");
		}
		log_info("webrtc_ice_connected", "session=%s ice=%s", s->id, key);
	}
	/* Answered where the check came from, on the socket it came to (RFC 8489 6.3.1.1):
	 * each candidate pair's check gets its own answer. */
	size_t len = stun_build_success(out, sizeof(out), m.tid, from, s->pwd, strlen(s->pwd));
	if (len) {
		uv_buf_t b = uv_buf_init((char *)out, (unsigned)len);
		if (uv_udp_try_send(u, &b, 1, from) > 0)
			s->bytes_out += len;
	}
	if (s->state == RTC_ICE) {
		s->state = RTC_DTLS;
		s->ssl = SSL_new(srv->ident.ctx);
		s->rbio = BIO_new(BIO_s_mem());
		s->wbio = BIO_new(BIO_s_mem());
		BIO_set_mem_eof_return(s->rbio, -1);
		SSL_set_bio(s->ssl, s->rbio, s->wbio);
		SSL_set_accept_state(s->ssl);
		DTLS_set_link_mtu(s->ssl, RTC_MTU);
	}
}

/* Datagrams on the shared socket (data: the server) or a session's own (data: the session). */
static void datagram(struct rtc_server *srv, uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
                     const struct sockaddr *from);

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct rtc_server *srv = h->data;
	*buf = uv_buf_init((char *)srv->rx, sizeof(srv->rx));
}

static void on_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
                    unsigned flags)
{
	(void)flags;
	datagram(u->data, u, nread, buf, from);
}

static void on_alloc_own(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct rtc_session *s = h->data;
	*buf = uv_buf_init((char *)s->srv->rx, sizeof(s->srv->rx));
}

static void on_recv_own(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
                        const struct sockaddr *from, unsigned flags)
{
	(void)flags;
	struct rtc_session *s = u->data;
	datagram(s->srv, u, nread, buf, from);
}

static void datagram(struct rtc_server *srv, uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
                     const struct sockaddr *from)
{
	if (nread <= 0 || !from)
		return;
	const uint8_t *p = (const uint8_t *)buf->base;
	size_t n = (size_t)nread;
	/* RFC 7983: 0-3 STUN, 20-63 DTLS, 128-191 RTP/RTCP. */
	if (p[0] < 4) {
		stun_input(srv, u, p, n, from);
		return;
	}
	char key[64];
	addr_key(from, key, sizeof(key));
	struct rtc_session *s = strmap_get(&srv->by_addr, key);
	if (!s)
		return;
	if (p[0] >= 20 && p[0] <= 63) {
		dtls_input(s, p, n);
	} else if (p[0] >= 128 && p[0] <= 191 && s->srtp_ready && n >= 8 && p[1] >= 192 &&
	           p[1] <= 223) {
		/* SRTCP: unprotect in place (rx is ours until the next read). */
		/* libsrtp keeps state per sender SSRC it meets: a browser uses one or two, so a
		 * session that sends more is not followed (its memory would grow without end). */
		uint32_t ssrc = rd_u32be(p + 4);
		unsigned k;
		for (k = 0; k < s->nrtcp_ssrcs && s->rtcp_ssrcs[k] != ssrc; k++)
			;
		size_t cap = sizeof(s->rtcp_ssrcs) / sizeof(s->rtcp_ssrcs[0]);
		if (k == s->nrtcp_ssrcs && k == cap) {
			srv->stats.rtcp_refused++;
			return;
		}
		int len = (int)n;
		if (srtp_unprotect_rtcp(s->srtp_in, (void *)buf->base, &len) == srtp_err_status_ok) {
			if (k == s->nrtcp_ssrcs)
				s->rtcp_ssrcs[s->nrtcp_ssrcs++] = ssrc; /* authentic: remembered */
			if (s->ingest)
				rtc_ingest_rtcp(s, p, (size_t)len);
			else
				rtc_feed_on_rtcp(s, p, (size_t)len);
		}
	} else if (p[0] >= 128 && p[0] <= 191 && s->srtp_ready && s->ingest) {
		rtc_ingest_rtp(s, (uint8_t *)buf->base, n); /* SRTP from a WHIP publisher */
	}
}

static void on_tick(uv_timer_t *t)
{
	struct rtc_server *srv = t->data;
	uint64_t now = uv_now(srv->loop);
	/* Ending a session changes the map: collect the ones to end first. */
	size_t it = 0, nend = 0;
	const char *k;
	void *v;
	struct rtc_session *end[64];
	const char *why[64];
	while (strmap_next(&srv->by_id, &it, &k, &v)) {
		struct rtc_session *s = v;
		const char *reason = NULL;
		if (s->state != RTC_MEDIA && now - s->created_ms > srv->cfg.dtls_timeout_ms) {
			srv->stats.dtls_timeouts++;
			reason = "ICE and DTLS did not finish in time (webrtc-dtls-timeout)";
		} else if (now - s->last_check_ms > srv->cfg.consent_timeout_ms) {
			srv->stats.consent_timeouts++;
			reason = "no ICE consent check in time (webrtc-consent-timeout)";
		} else if (s->state == RTC_DTLS && s->ssl) {
			if (DTLSv1_handle_timeout(s->ssl) > 0)
				dtls_flush(s);
		} else if (s->ingest) {
			rtc_ingest_tick(s, now);
		}
		if (reason && nend < 64) {
			end[nend] = s;
			why[nend++] = reason;
		}
	}
	for (size_t i = 0; i < nend; i++)
		rtc_session_end(end[i], why[i]);
	rtc_feed_tick(srv, now);
}

static void free_failed(uv_handle_t *h)
{
	free(h->data);
}

struct rtc_server *rtc_server_new(uv_loop_t *loop, const struct rtc_config *cfg,
                                  char *err, size_t errlen)
{
	if (!srtp_inited) {
		if (srtp_init() != srtp_err_status_ok) {
			snprintf(err, errlen, "libsrtp2 did not initialise");
			return NULL;
		}
		srtp_inited = 1;
	}
	struct rtc_server *srv = xcalloc(1, sizeof(*srv));
	srv->loop = loop;
	srv->cfg = *cfg;
	if (dtls_identity_init(&srv->ident, err, errlen) != 0) {
		free(srv);
		return NULL;
	}
	struct sockaddr_storage sa;
	if (uv_ip4_addr(cfg->bind_ip, cfg->port, (struct sockaddr_in *)&sa) != 0 &&
	    uv_ip6_addr(cfg->bind_ip, cfg->port, (struct sockaddr_in6 *)&sa) != 0) {
		snprintf(err, errlen, "bad bind address for WebRTC");
		dtls_identity_free(&srv->ident);
		free(srv);
		return NULL;
	}
	uv_udp_init(loop, &srv->udp);
	srv->udp.data = srv;
	int rc = uv_udp_bind(&srv->udp, (struct sockaddr *)&sa, 0);
	if (rc == 0)
		rc = uv_udp_recv_start(&srv->udp, on_alloc, on_recv);
	if (rc != 0) {
		snprintf(err, errlen, "WebRTC UDP port %s:%d: %s", cfg->bind_ip, cfg->port,
		         uv_strerror(rc));
		dtls_identity_free(&srv->ident);
		uv_close((uv_handle_t *)&srv->udp, free_failed);
		return NULL;
	}
	/* Keyframe bursts to many viewers go through this one socket. */
	int sndbuf = 8 * 1024 * 1024;
	uv_send_buffer_size((uv_handle_t *)&srv->udp, &sndbuf);
	strmap_init(&srv->by_id);
	strmap_init(&srv->by_ufrag);
	strmap_init(&srv->by_addr);
	strmap_init(&srv->per_ip);
	strmap_init(&srv->feeds);
	strmap_init(&srv->publishers);
	uv_timer_init(loop, &srv->tick);
	srv->tick.data = srv;
	uv_timer_start(&srv->tick, on_tick, RTC_TICK_MS, RTC_TICK_MS);
	uv_unref((uv_handle_t *)&srv->tick);
	log_info("webrtc_listen", "udp=%s:%d public=%s session_ports=%d-%d", cfg->bind_ip, cfg->port,
	         cfg->public_ip, cfg->port_min, cfg->port_max);
	return srv;
}

static void free_after_close(uv_handle_t *h)
{
	struct rtc_server *srv = h->data;
	if (h == (uv_handle_t *)&srv->udp) {
		uv_close((uv_handle_t *)&srv->tick, free_after_close);
		srv->udp.data = NULL;
		return;
	}
	free(srv);
}

void rtc_server_free(struct rtc_server *srv)
{
	if (!srv)
		return;
	size_t it;
	const char *k;
	void *v;
	while (it = 0, strmap_next(&srv->by_id, &it, &k, &v))
		rtc_session_end(v, "node closing");
	strmap_free(&srv->by_id);
	strmap_free(&srv->by_ufrag);
	strmap_free(&srv->by_addr);
	strmap_free(&srv->per_ip);
	strmap_free(&srv->feeds);
	strmap_free(&srv->publishers);
	dtls_identity_free(&srv->ident);
	uv_timer_stop(&srv->tick);
	uv_close((uv_handle_t *)&srv->udp, free_after_close);
}

/* Port-range mode: binds a socket of the session's own on the next free port of the range. */
static int open_own_socket(struct rtc_server *srv, struct rtc_session *s)
{
	int span = srv->cfg.port_max - srv->cfg.port_min + 1;
	for (int i = 0; i < span; i++) {
		int port = srv->cfg.port_min + (srv->next_port + i) % span;
		struct sockaddr_storage sa;
		memset(&sa, 0, sizeof(sa));
		if (uv_ip4_addr(srv->cfg.bind_ip, port, (struct sockaddr_in *)&sa) != 0 &&
		    uv_ip6_addr(srv->cfg.bind_ip, port, (struct sockaddr_in6 *)&sa) != 0)
			return -1;
		/* Probed with a plain socket, so a taken port costs no libuv handle to close. */
		int fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		socklen_t len = sa.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                         : sizeof(struct sockaddr_in);
		if (bind(fd, (struct sockaddr *)&sa, len) != 0) {
			int e = errno;
			close(fd);
			if (e == EADDRINUSE)
				continue;
			return -1;
		}
		uv_udp_init(srv->loop, &s->own_sock);
		s->own_sock.data = s;
		s->has_own_sock = 1; /* initialised: from now on closed through the loop */
		if (uv_udp_open(&s->own_sock, fd) != 0) {
			close(fd);
			return -1;
		}
		if (uv_udp_recv_start(&s->own_sock, on_alloc_own, on_recv_own) != 0)
			return -1;
		s->sock = &s->own_sock;
		s->port = port;
		srv->next_port = (srv->next_port + i + 1) % span;
		return 0;
	}
	return -1;
}

/* Picks the formats a publisher's offer sends us; 0, or an error with the reason in err. */
static int pick_publish_media(const struct sdp_offer *o, struct sdp_answer_params *ap,
                              int *video_pt, int *audio_pt, char *err, size_t errlen)
{
	int video = -1, audio = -1, video_offered = 0;
	*video_pt = *audio_pt = -1;
	for (unsigned i = 0; i < o->nmedia; i++) {
		const struct sdp_media *m = &o->media[i];
		ap->media[i].format = -1;
		if (m->port == 0 && !m->bundle_only)
			continue;
		if (m->dir != SDP_SENDONLY && m->dir != SDP_SENDRECV)
			continue; /* sends us nothing: answered inactive */
		if (m->kind == SDP_VIDEO && video < 0) {
			video_offered = 1;
			int f = sdp_pick_h264(m, 0);
			if (f >= 0) {
				video = (int)i;
				ap->media[i].format = f;
				*video_pt = m->fmt[f].pt;
			}
		} else if (m->kind == SDP_AUDIO && audio < 0) {
			int f = sdp_pick_opus(m);
			if (f >= 0) {
				audio = (int)i;
				ap->media[i].format = f;
				*audio_pt = m->fmt[f].pt;
			}
		}
	}
	if (video_offered && video < 0) {
		snprintf(err, errlen, "the offer's video has no H.264 with packetization-mode=1: "
		                      "WHIP takes H.264 (and Opus)");
		return SL_EUNSUPP;
	}
	if (video < 0 && audio < 0) {
		snprintf(err, errlen, "the offer sends no H.264 video (packetization-mode=1) and no "
		                      "Opus audio (a sendonly or sendrecv m-line)");
		return SL_EUNSUPP;
	}
	return 0;
}

static int session_create(struct rtc_server *srv, struct stream *st, const char *offer,
                          size_t len, const char *peer_ip, const struct rtc_publish_ops *pub_ops,
                          void *pub_arg, char **answer, char id[RTC_SESSION_ID_LEN + 1],
                          char *err, size_t errlen)
{
	if (srv->stats.sessions_now >= srv->cfg.max_sessions) {
		srv->stats.refused_full++;
		snprintf(err, errlen, "this node holds its most WebRTC sessions (webrtc-max-sessions)");
		return SL_EFULL;
	}
	if (srv->cfg.max_sessions_per_ip &&
	    (uintptr_t)strmap_get(&srv->per_ip, peer_ip) >= srv->cfg.max_sessions_per_ip) {
		srv->stats.refused_per_ip++;
		snprintf(err, errlen, "this address holds its most WebRTC sessions "
		                      "(webrtc-max-sessions-per-ip)");
		return SL_EFULL;
	}
	static struct sdp_offer o; /* large; the loop is single-threaded */
	int rc = sdp_offer_parse(offer, len, &o, err, errlen);
	if (rc != 0) {
		srv->stats.refused_sdp++;
		return rc;
	}
	if (!pub_ops && st->vcodec != FLV_CODEC_UNKNOWN && st->vcodec != FLV_CODEC_H264) {
		srv->stats.refused_sdp++;
		snprintf(err, errlen, "this stream's video is not H.264: WebRTC plays H.264 only");
		return SL_EUNSUPP;
	}
	if (o.setup == SDP_SETUP_PASSIVE) {
		srv->stats.refused_sdp++;
		snprintf(err, errlen, "the node is the DTLS server: offer a=setup:actpass or active");
		return SL_EUNSUPP;
	}
	struct sdp_answer_params ap;
	memset(&ap, 0, sizeof(ap));
	struct rtc_session *s = xcalloc(1, sizeof(*s));
	struct rtc_feed *feed = NULL;
	int can_audio = 0, video_pt = -1, audio_pt = -1;
	if (pub_ops) {
		rc = pick_publish_media(&o, &ap, &video_pt, &audio_pt, err, errlen);
		if (rc != 0) {
			free(s);
			srv->stats.refused_sdp++;
			return rc;
		}
		ap.recvonly = 1;
	} else {
		feed = rtc_feed_get(srv, st);
		int video = -1, audio = -1;
		can_audio = rtc_feed_audio_possible(feed);
		for (unsigned i = 0; i < o.nmedia; i++) {
			ap.media[i].format = -1;
			if (o.media[i].port == 0 && !o.media[i].bundle_only)
				continue; /* refused by the offerer itself */
			if (video < 0 && o.media[i].kind == SDP_VIDEO) {
				int f = sdp_pick_h264(&o.media[i], rtc_feed_profile_idc(feed));
				if (f >= 0) {
					video = (int)i;
					ap.media[i].format = f;
					random_bytes(&s->video.ssrc, sizeof(s->video.ssrc));
					ap.media[i].ssrc = s->video.ssrc;
					s->video.pt = o.media[i].fmt[f].pt;
					s->video.clock = 90000;
				}
			} else if (audio < 0 && o.media[i].kind == SDP_AUDIO && can_audio) {
				/* Opus transcoded from the stream's AAC, once per stream (rtc_feed.c). */
				int f = sdp_pick_opus(&o.media[i]);
				if (f >= 0) {
					audio = (int)i;
					ap.media[i].format = f;
					random_bytes(&s->audio.ssrc, sizeof(s->audio.ssrc));
					ap.media[i].ssrc = s->audio.ssrc;
					s->audio.pt = o.media[i].fmt[f].pt;
					s->audio.clock = 48000;
					s->audio_on = 1;
				}
			}
		}
		if (video < 0) {
			free(s);
			rtc_feed_detach(feed, NULL); /* drops what rtc_feed_get took; frees a feed no one else holds */
			srv->stats.refused_sdp++;
			snprintf(err, errlen, "the offer has no H.264 video with packetization-mode=1");
			return SL_EUNSUPP;
		}
	}
	s->srv = srv;
	s->sock = &srv->udp;
	s->port = srv->cfg.port;
	if (srv->cfg.port_min && open_own_socket(srv, s) != 0) {
		if (s->has_own_sock)
			uv_close((uv_handle_t *)&s->own_sock, free_session);
		else
			free(s);
		if (feed)
			rtc_feed_detach(feed, NULL);
		srv->stats.refused_ports++;
		snprintf(err, errlen, "no free UDP port in webrtc-ports");
		return SL_EFULL;
	}
	uint8_t rid[RTC_SESSION_ID_LEN / 2];
	random_bytes(rid, sizeof(rid));
	hex_encode(rid, sizeof(rid), s->id);
	random_token(s->ufrag, 8);
	random_token(s->pwd, 32);
	snprintf(s->remote_ufrag, sizeof(s->remote_ufrag), "%s", o.ice_ufrag);
	snprintf(s->peer_ip, sizeof(s->peer_ip), "%s", peer_ip);
	memcpy(s->remote_fp, o.fingerprint, DTLS_FP_LEN);
	s->created_ms = s->last_check_ms = uv_now(srv->loop);
	s->state = RTC_ICE;
	list_init(&s->feed_link);
	s->feed = feed;
	snprintf(s->path, sizeof(s->path), "%s/%s", st->app, st->name);
	if (pub_ops)
		s->ingest = rtc_ingest_new(s, st, video_pt, audio_pt, pub_ops, pub_arg);

	ap.ice_ufrag = s->ufrag;
	ap.ice_pwd = s->pwd;
	memcpy(ap.fingerprint, srv->ident.fingerprint, DTLS_FP_LEN);
	ap.cand_ip = srv->cfg.public_ip;
	ap.cand_port = (uint16_t)s->port;
	ap.cname = "sluice";
	random_bytes(&ap.session_id, sizeof(ap.session_id));
	ap.session_id &= 0x7fffffffffffffffull;
	*answer = sdp_answer_build(&o, &ap);
	strmap_put(&srv->by_id, s->id, s);
	strmap_put(&srv->by_ufrag, s->ufrag, s);
	per_ip_add(srv, peer_ip, 1);
	srv->stats.sessions_total++;
	srv->stats.sessions_now++;
	memcpy(id, s->id, RTC_SESSION_ID_LEN + 1);
	char eapp[160], ename[160];
	if (pub_ops)
		log_info("webrtc_session_start", "session=%s peer=%s app=%s stream=%s direction=publish "
		         "video_pt=%d audio_pt=%d", s->id, peer_ip,
		         log_escape(st->app, eapp, sizeof(eapp)),
		         log_escape(st->name, ename, sizeof(ename)), video_pt, audio_pt);
	else
		log_info("webrtc_session_start", "session=%s peer=%s app=%s stream=%s video_pt=%u audio=%s",
		         s->id, peer_ip, log_escape(st->app, eapp, sizeof(eapp)),
		         log_escape(st->name, ename, sizeof(ename)), s->video.pt,
		         s->audio_on ? "opus" : can_audio ? "not offered" : "rejected (no transcoder)");
	return 0;
}

int rtc_session_create(struct rtc_server *srv, struct stream *st, const char *offer,
                       size_t len, const char *peer_ip, char **answer,
                       char id[RTC_SESSION_ID_LEN + 1], char *err, size_t errlen)
{
	return session_create(srv, st, offer, len, peer_ip, NULL, NULL, answer, id, err, errlen);
}

int rtc_publish_create(struct rtc_server *srv, struct stream *st, const char *offer, size_t len,
                       const char *peer_ip, const struct rtc_publish_ops *ops, void *arg,
                       char **answer, char id[RTC_SESSION_ID_LEN + 1], char *err,
                       size_t errlen)
{
	if (!ops) {
		snprintf(err, errlen, "no publisher");
		return SL_EINVAL;
	}
	return session_create(srv, st, offer, len, peer_ip, ops, arg, answer, id, err, errlen);
}

int rtc_session_delete(struct rtc_server *srv, const char *id)
{
	struct rtc_session *s = strmap_get(&srv->by_id, id);
	if (!s)
		return SL_ENOTFOUND;
	rtc_session_end(s, "the client ended it (DELETE)");
	return 0;
}

int rtc_session_at(struct rtc_server *srv, const char *id, const char *app, const char *name,
                   int publisher)
{
	const struct rtc_session *s = strmap_get(&srv->by_id, id);
	if (!s || !s->ingest != !publisher)
		return 0;
	size_t la = strlen(app);
	return strncmp(s->path, app, la) == 0 && s->path[la] == '/' &&
	       strcmp(s->path + la + 1, name) == 0;
}

const struct rtc_stats *rtc_server_stats(const struct rtc_server *srv)
{
	return &srv->stats;
}

unsigned rtc_stream_viewers(struct rtc_server *srv, const struct stream *st)
{
	struct rtc_feed *f = srv ? rtc_feed_find(srv, st) : NULL;
	return f ? rtc_feed_viewers(f) : 0;
}

void rtc_metrics(const struct rtc_server *srv, struct bytes *b)
{
	const struct rtc_stats *x = &srv->stats;
	bytes_printf(b, "# HELP sluice_webrtc_sessions WebRTC (WHEP) sessions now.\n"
	             "# TYPE sluice_webrtc_sessions gauge\nsluice_webrtc_sessions %llu\n",
	             (unsigned long long)x->sessions_now);
	const struct { const char *name, *help; uint64_t v; } c[] = {
		{ "sessions_total", "WebRTC sessions started.", x->sessions_total },
		{ "refused_total{reason=\"full\"}", "WebRTC offers refused.", x->refused_full },
		{ "refused_total{reason=\"per_ip\"}", NULL, x->refused_per_ip },
		{ "refused_total{reason=\"sdp\"}", NULL, x->refused_sdp },
		{ "refused_total{reason=\"ports\"}", NULL, x->refused_ports },
		{ "stun_bad_total", "STUN requests refused (integrity, username, malformed).", x->stun_bad },
		{ "dtls_failed_total", "DTLS handshakes failed (or fingerprint mismatch).", x->dtls_failed },
		{ "timeouts_total{reason=\"dtls\"}", "WebRTC sessions ended by a timeout.", x->dtls_timeouts },
		{ "timeouts_total{reason=\"consent\"}", NULL, x->consent_timeouts },
		{ "bytes_total", "WebRTC bytes sent (SRTP, SRTCP, DTLS, STUN).", x->bytes_out },
		{ "packets_total", "WebRTC datagrams sent.", x->packets_out },
		{ "nacks_total", "Sequence numbers viewers asked again for (NACK).", x->nacks },
		{ "retransmits_total", "Packets resent from the history for a NACK.", x->retransmits },
		{ "retransmits_refused_total", "NACKed packets not resent: the viewer asked for more "
		  "than RTC_RTX_PER_SEC in a second.", x->rtx_refused },
		{ "retransmits_stale_total", "NACKed sequences not resent: sent before the viewer's "
		  "video was renumbered (a restart, a skip), or never sent.", x->rtx_stale },
		{ "rtcp_refused_total", "SRTCP packets not read: a session's sender SSRCs past four.",
		  x->rtcp_refused },
		{ "plis_total", "Picture loss indications received.", x->plis },
		{ "firs_total", "Full intra requests received.", x->firs },
		{ "skips_total", "Viewers skipped to the next keyframe (socket full).", x->skips },
		{ "send_errors_total", "WebRTC datagrams the socket refused.", x->send_errors },
	};
	const struct rtc_ingest_stats *w = &srv->istats;
	const struct { const char *name, *help; uint64_t v; } ci[] = {
		{ "sessions_total", "WHIP publishing sessions started.", w->sessions_total },
		{ "packets_total", "RTP packets received from WHIP publishers.", w->packets_in },
		{ "bytes_total", "RTP bytes received from WHIP publishers.", w->bytes_in },
		{ "video_frames_total", "Video frames a WHIP publisher sent into its stream.", w->video_frames },
		{ "keyframes_total", "Keyframes from WHIP publishers.", w->keyframes },
		{ "audio_packets_total", "Opus packets from WHIP publishers.", w->audio_packets },
		{ "nacks_sent_total", "Sequence numbers asked again of WHIP publishers (NACK).", w->nacks_sent },
		{ "plis_sent_total", "Keyframes asked of WHIP publishers (PLI).", w->plis_sent },
		{ "rrs_sent_total", "RTCP receiver reports sent to WHIP publishers.", w->rrs_sent },
		{ "lost_total", "Video packets given up (not repaired in time).", w->lost },
		{ "reordered_total", "Video packets that arrived out of order.", w->reordered },
		{ "dropped_frames_total", "Video frames dropped (torn by loss, or waiting for a keyframe).",
		  w->dropped_frames },
		{ "refused_ssrcs_total", "SRTP packets not read: a session's sender SSRCs past four.",
		  w->refused_ssrcs },
		{ "audio_off_total", "WHIP publishers whose Opus could not become AAC (no encoder).",
		  w->audio_off },
		{ "opus_passed_total", "Opus packets of WHIP publishers passed as they are to WebRTC "
		  "viewers of the same node.", w->opus_passed },
		{ "rtp_time_jumps_total", "RTP time steps of WHIP publishers over 10 s, taken as a "
		  "restart (rebased).", w->ts_jumps },
	};
	for (size_t i = 0; i < sizeof(ci) / sizeof(ci[0]); i++)
		bytes_printf(b, "# HELP sluice_whip_%s %s\n# TYPE sluice_whip_%s counter\n"
		             "sluice_whip_%s %llu\n", ci[i].name, ci[i].help, ci[i].name, ci[i].name,
		             (unsigned long long)ci[i].v);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		const char *brace = strchr(c[i].name, '{');
		int base = brace ? (int)(brace - c[i].name) : (int)strlen(c[i].name);
		if (c[i].help)
			bytes_printf(b, "# HELP sluice_webrtc_%.*s %s\n# TYPE sluice_webrtc_%.*s counter\n",
			             base, c[i].name, c[i].help, base, c[i].name);
		bytes_printf(b, "sluice_webrtc_%s %llu\n", c[i].name, (unsigned long long)c[i].v);
	}
}
