/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtc.h - WebRTC playback transport of a node: ICE-lite on one shared UDP
 * port, DTLS-SRTP, and the per-stream RTP feeds its sessions watch.
 *
 * One UDP socket, bound to the node's address, carries every session: STUN
 * checks find their session by our ufrag in USERNAME, and once a check with
 * valid integrity arrived the peer's address maps to it, so DTLS, SRTP and
 * SRTCP datagrams (RFC 7983 demultiplexing) go to it as well.  We are the
 * ICE-lite, DTLS-server side: the browser checks and nominates, we answer.
 * A session ends on DELETE, when its stream ends, when DTLS does not finish
 * within dtls_timeout_ms, or when no check arrived for consent_timeout_ms
 * (consent freshness, RFC 7675).
 *
 * See docs/webrtc.md for the design and its limits.
 */
#ifndef SLUICE_WEBRTC_RTC_H
#define SLUICE_WEBRTC_RTC_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/bytes.h"

struct stream;
struct rtc_server;

#define RTC_SESSION_ID_LEN 32     /* hex characters of a resource id */

struct rtc_config {
	const char *bind_ip;          /* the UDP socket's address (the node's bind address) */
	int port;                     /* UDP port (shared by every session) */
	int port_min, port_max;       /* port-range mode: each session binds its own port in
	                               * [port_min, port_max]; 0, 0: every session on port */
	const char *public_ip;        /* advertised in candidates */
	unsigned max_sessions;        /* at once, per node */
	unsigned max_sessions_per_ip;
	uint64_t dtls_timeout_ms;     /* from the offer to DTLS done */
	uint64_t consent_timeout_ms;  /* no valid check for this long: the session ends */
	uint64_t sr_interval_ms;      /* RTCP sender reports */
	uint64_t keyframe_ms;         /* WHIP: a PLI when the publisher's last keyframe is older */
};

struct rtc_stats {
	uint64_t sessions_total, sessions_now;
	uint64_t refused_full, refused_per_ip, refused_sdp;
	uint64_t stun_bad, stun_ok;
	uint64_t dtls_failed, dtls_timeouts, consent_timeouts;
	uint64_t bytes_out, packets_out;
	uint64_t nacks, retransmits, plis, firs;
	uint64_t rtx_stale;           /* NACKed sequences from before a renumbering, or not sent */
	uint64_t rtx_refused;         /* NACKed packets not resent: the viewer's RTC_RTX_PER_SEC */
	uint64_t rtcp_refused;        /* SRTCP from a session's fifth sender SSRC, not read */
	uint64_t send_errors, skips;
	uint64_t refused_ports;       /* port-range mode: no free port */
};

/* Starts the UDP socket.  NULL with a reason in err (port taken, no OpenSSL). */
struct rtc_server *rtc_server_new(uv_loop_t *loop, const struct rtc_config *cfg,
                                  char *err, size_t errlen);
/* Ends every session and closes the socket (the loop must run for the close). */
void rtc_server_free(struct rtc_server *srv);

/*
 * Answers an SDP offer for stream s: a new session watching it.  Returns 0
 * with *answer (malloc'ed SDP) and id (NUL-terminated, RTC_SESSION_ID_LEN
 * hex); SL_EPROTO/SL_ELIMIT/SL_EUNSUPP for a bad offer, SL_EFULL when a
 * session limit is reached, with a reason in err fit for the client.
 */
int rtc_session_create(struct rtc_server *srv, struct stream *s, const char *offer,
                       size_t len, const char *peer_ip, char **answer,
                       char id[RTC_SESSION_ID_LEN + 1], char *err, size_t errlen);
/* Ends session id (WHEP DELETE).  0, or SL_ENOTFOUND. */
int rtc_session_delete(struct rtc_server *srv, const char *id);
/* 1 if session id exists, watches (publisher 0) or publishes (1) app/name: a session's URL
 * must name what it is, so one path cannot end another's sessions. */
int rtc_session_at(struct rtc_server *srv, const char *id, const char *app, const char *name,
                   int publisher);

/* WebRTC viewers of stream s now. */
unsigned rtc_stream_viewers(struct rtc_server *srv, const struct stream *s);
const struct rtc_stats *rtc_server_stats(const struct rtc_server *srv);
/* Prometheus lines for /metrics. */
void rtc_metrics(const struct rtc_server *srv, struct bytes *b);

/* ---- WHIP: a session that publishes (rtc_ingest.c) ---- */

/* What the node hears from a publishing session. */
struct rtc_publish_ops {
	/*
	 * The session ended (DELETE, DTLS close, ICE consent lost, timeout, node
	 * closing): the stream must end now, as when an RTMP publisher leaves.
	 * Called once, from within rtc_session_end(); the session is gone after.
	 */
	void (*ended)(void *arg, const char *reason);
};

struct rtc_ingest_stats {
	uint64_t sessions_total;
	uint64_t packets_in, bytes_in;
	uint64_t video_frames, keyframes, audio_packets;
	uint64_t nacks_sent, plis_sent, rrs_sent;
	uint64_t lost, reordered, dropped_frames;
	uint64_t refused_ssrcs;      /* SRTP from a fifth sender SSRC, not read */
	uint64_t audio_off;          /* publishers whose Opus could not become AAC */
	uint64_t opus_passed;        /* Opus packets passed through to the stream's WHEP viewers */
	uint64_t ts_jumps;           /* RTP time steps past RTP_TIME_MAX_STEP_S, rebased */
};

/*
 * Answers a WHIP offer (sendonly/sendrecv; H.264 packetization-mode=1
 * and/or Opus) with a recvonly answer: a new session publishing into s,
 * whose media it appends (stream_media) as an RTMP publisher's.  s is
 * borrowed: the caller keeps it live until ops->ended.  Returns as
 * rtc_session_create().
 */
int rtc_publish_create(struct rtc_server *srv, struct stream *s, const char *offer, size_t len,
                       const char *peer_ip, const struct rtc_publish_ops *ops, void *arg,
                       char **answer, char id[RTC_SESSION_ID_LEN + 1], char *err,
                       size_t errlen);
const struct rtc_ingest_stats *rtc_ingest_stats(const struct rtc_server *srv);

#endif
