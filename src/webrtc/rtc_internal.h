/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtc_internal.h - what the session code (rtc_server.c) and the per-stream
 * feeds (rtc_feed.c) share.  Not for use outside src/webrtc/.
 */
#ifndef SLUICE_WEBRTC_RTC_INTERNAL_H
#define SLUICE_WEBRTC_RTC_INTERNAL_H

#include <openssl/ssl.h>
#include <srtp2/srtp.h>

#include "proto/srtp_cm.h"

#include "core/list.h"
#include "core/ratelimit.h"
#include "core/strmap.h"
#include "proto/avc.h"
#include "proto/sdp.h"
#include "webrtc/dtls_cert.h"
#include "webrtc/rtc.h"

#define RTC_MTU 1200              /* UDP payload we send at most (DTLS records, RTP) */
#define RTC_SRTP_OVERHEAD 16      /* auth tag (10) with room to spare */
#define RTC_GOP_MAX_PACKETS 4096  /* packets a feed keeps since its last keyframe */
#define RTC_GOP_MAX_BYTES (4u * 1024 * 1024)
#define RTC_TICK_MS 100           /* DTLS retransmissions, timeouts, sender reports */

struct rtc_feed;

enum rtc_state { RTC_ICE, RTC_DTLS, RTC_MEDIA, RTC_CLOSED };

/* What one sending track of a session has sent: for its header patch and its sender reports. */
struct rtc_track {
	uint32_t ssrc;
	uint8_t pt;
	uint32_t clock;               /* RTP clock rate */
	int sent_any;
	uint16_t last_seq;
	uint32_t last_rtp_ts;
	uint64_t last_send_us;        /* wall clock of the last packet, to extrapolate SR times */
	uint32_t packets, octets;
};

struct rtc_session {
	struct rtc_server *srv;
	char id[RTC_SESSION_ID_LEN + 1];
	char path[2 * STREAM_NAME_MAX + 2];  /* "app/name" of its stream: its URL must name it */
	char ufrag[9];                /* ours */
	char pwd[33];
	char remote_ufrag[SDP_MAX_TOKEN];
	char peer_ip[64];             /* of the HTTP request, for the per-address limit */
	char addr_key[64];            /* the ICE peer's "ip:port" once known */
	struct sockaddr_storage peer;
	int has_peer;
	uv_udp_t *sock;               /* what it sends on: the shared socket, or own_sock */
	uv_udp_t own_sock;            /* port-range mode (webrtc-ports): a socket of its own */
	int has_own_sock;
	int port;                     /* the port of its candidate */
	enum rtc_state state;
	uint64_t created_ms, last_check_ms;
	uint8_t remote_fp[DTLS_FP_LEN];
	SSL *ssl;
	BIO *rbio, *wbio;
	srtp_t srtp_out, srtp_in;
	struct srtp_cm rtp_out;           /* RTP is protected by ours (proto/srtp_cm.h: per-packet cost) */
	int srtp_ready;

	/* Media: a video track, and an audio one when the offer's Opus was accepted. */
	struct rtc_feed *feed;
	struct list_node feed_link;
	struct rtc_track video, audio;
	int audio_on;
	int wait_key;                 /* send no video until the next keyframe */
	uint16_t seq_delta;           /* video: our seq = the feed's - seq_delta (skips leave no gap) */
	uint16_t renum_seq;           /* video: our first seq under the current seq_delta */
	uint32_t ts_delta;            /* video: our RTP time = the feed's + ts_delta (restarts keep it rising) */
	uint64_t last_pli_ms;
	uint64_t rtx_second_ms;          /* NACK retransmissions: the second being counted */
	uint32_t rtx_in_second;          /* and how many went out in it (RTC_RTX_PER_SEC) */
	uint32_t rtcp_ssrcs[4];          /* the SRTCP senders seen (libsrtp keeps state for each) */
	unsigned nrtcp_ssrcs;
	uint64_t last_sr_ms;
	uint64_t bytes_out;
	/* WHIP: a publishing session's receive side (rtc_ingest.c); NULL for a viewer. */
	struct rtc_ingest *ingest;
	uint32_t rtp_ssrcs[4];           /* the SRTP senders seen (libsrtp keeps state for each) */
	unsigned nrtp_ssrcs;
};

struct rtc_server {
	uv_loop_t *loop;
	struct rtc_config cfg;
	uv_udp_t udp;
	uv_timer_t tick;
	struct dtls_identity ident;
	struct strmap by_id;          /* resource id -> session */
	struct strmap by_ufrag;       /* our ufrag -> session */
	struct strmap by_addr;        /* "ip:port" -> session */
	struct strmap per_ip;         /* HTTP peer ip -> count (as (void *)(uintptr_t)) */
	struct strmap feeds;          /* stream pointer as hex -> struct rtc_feed */
	struct strmap publishers;     /* stream pointer as hex -> the WHIP ingest publishing it */
	struct rtc_stats stats;
	struct rtc_ingest_stats istats;  /* WHIP sessions */
	struct log_throttle log_lim;
	int next_port;                /* port-range mode: where the search for a free port starts */
	uint8_t rx[2048];
	uint8_t tx[RTC_MTU + 64];
};

/* Sends p[0..n) to the session's peer (plain; SRTP already applied). 0 or -1. */
int rtc_send_raw(struct rtc_session *s, const uint8_t *p, size_t n);
/*
 * Patches the track's PT and SSRC, seq and the RTP time plus ts_delta into a copy of
 * the shared packet, protects and sends it.  0, -1, or -2 when the socket is full.
 */
int rtc_send_rtp(struct rtc_session *s, struct rtc_track *t, const uint8_t *pkt, size_t n,
                 uint16_t seq, uint32_t ts_delta);
/* Protects an RTCP packet and sends it. */
int rtc_send_rtcp(struct rtc_session *s, const uint8_t *pkt, size_t n);
/* Ends a session now (logs reason). */
void rtc_session_end(struct rtc_session *s, const char *reason);

/* Feeds (rtc_feed.c). */
struct rtc_feed *rtc_feed_get(struct rtc_server *srv, struct stream *st);
void rtc_feed_attach(struct rtc_feed *f, struct rtc_session *s);  /* media starts */
void rtc_feed_detach(struct rtc_feed *f, struct rtc_session *s);  /* frees the feed when last */
uint8_t rtc_feed_profile_idc(const struct rtc_feed *f);
void rtc_feed_on_rtcp(struct rtc_session *s, const uint8_t *p, size_t n);
void rtc_feed_tick(struct rtc_server *srv, uint64_t now_ms);
unsigned rtc_feed_viewers(const struct rtc_feed *f);
/* 1 when the feed can give Opus: a transcoder is built in and the stream's audio is AAC (or not known yet). */
int rtc_feed_audio_possible(struct rtc_feed *f);
struct rtc_feed *rtc_feed_find(struct rtc_server *srv, const struct stream *st);
/* The key of st in feeds and publishers. */
void rtc_stream_key(const struct stream *st, char *out, size_t n);
/*
 * WHIP: an Opus packet of stream st's publisher, at rtp_ts on the 48 kHz clock of the
 * stream's millisecond timeline, passed through as is to the stream's WebRTC viewers (no
 * AAC round trip) when a WHIP publisher sends st Opus.
 */
void rtc_feed_opus_in(struct rtc_server *srv, const struct stream *st, const uint8_t *opus,
                      size_t n, uint32_t rtp_ts);

/* WHIP ingest (rtc_ingest.c): a publishing session's media side. */
struct rtc_ingest *rtc_ingest_new(struct rtc_session *s, struct stream *st, int video_pt,
                                  int audio_pt, const struct rtc_publish_ops *ops, void *arg);
void rtc_ingest_rtp(struct rtc_session *s, uint8_t *p, size_t n);   /* SRTP, unprotected here */
void rtc_ingest_rtcp(struct rtc_session *s, const uint8_t *p, size_t n);
void rtc_ingest_tick(struct rtc_session *s, uint64_t now_ms);
/* 1 when the publisher sends Opus. */
int rtc_ingest_has_opus(const struct rtc_ingest *g);
/* A WebRTC viewer joined with no keyframe cached: ask the publisher for one (PLI). */
void rtc_ingest_want_keyframe(struct rtc_ingest *g);
/* Frees the ingest and tells the node (ops->ended). */
void rtc_ingest_end(struct rtc_session *s, const char *reason);

#endif
