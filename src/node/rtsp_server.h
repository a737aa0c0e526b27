/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtsp_server.h - RTSP 1.0 publish (ANNOUNCE/SETUP/RECORD) and play
 * (DESCRIBE/SETUP/PLAY) on its own TCP port, RTP interleaved on that
 * connection or over UDP on one shared port pair.
 *
 * rtsp_server.c owns the listener, the connections (one RTSP session each:
 * the session ends with its connection), admission to the connection table
 * and the UDP sockets; rtsp_requests.c what each request means (tokens,
 * sessions, publisher limits).
 * rtsp_play.c turns a stream's messages into RTP for a viewer:
 * it is a fan-out viewer through a tap (flv_tap.h), so the fan-out's lag
 * rules apply, and packetizes per viewer, because each viewer has its own
 * position in the log (skips), its own sequence numbers, SSRC and
 * channels; packetizing is a copy of bytes the fan-out shares anyway.
 * rtsp_publish.c depacketizes a publisher's RTP (proto/h264_rtp.h,
 * proto/aac_rtp.h) into the FLV-bodied messages an RTMP publisher makes.
 */
#ifndef SLUICE_NODE_RTSP_SERVER_H
#define SLUICE_NODE_RTSP_SERVER_H

#include <uv.h>

#include "core/bytes.h"
#include "core/conn.h"
#include "core/strmap.h"
#include "node/flv_tap.h"
#include "node/node.h"
#include "proto/aac.h"
#include "proto/aac_rtp.h"
#include "proto/avc.h"
#include "proto/h264_rtp.h"
#include "proto/rtsp.h"
#include "proto/rtsp_sdp.h"

#define RTSP_TRACKS 2              /* 0: video, 1: audio */
#define RTSP_RTP_MTU 1400          /* RTP packet we send at most (header included) */
#define RTSP_DESCRIBE_WAIT_MS 3000 /* a DESCRIBE waits this long for a stream's headers */
#define RTSP_MAX_AU (2u * 1024 * 1024)   /* a published H.264 access unit */
#define RTSP_MAX_AAC_AU 8192
#define RTSP_REORDER_START 2       /* B-frame reordering assumed of a publisher at first (rtp_dts.h) */

enum rtsp_state { RTSP_INIT, RTSP_READY, RTSP_PLAYING, RTSP_RECORDING };

struct rtsp_conn;

struct rtsp_track {
	int setup;
	int tcp;
	uint8_t ch[2];                 /* interleaved channels: RTP, RTCP */
	struct sockaddr_storage rtp_addr, rtcp_addr;  /* UDP: the client's ports */
	char rtp_key[64], rtcp_key[64];               /* "ip:port" in the server's peer map */
	uint32_t ssrc;
	uint16_t seq;
	uint32_t clock;
	uint32_t ts_base;              /* random RTP time offset */
	int sent_any;
	uint32_t last_rtp_ts;
	uint32_t packets, octets;
	/* publish: this track's m-line */
	uint32_t in_ssrc;              /* UDP: the SSRC of the first packet; others are dropped */
	int in_ssrc_set;
	uint8_t pt;
	int media;                     /* index into the announced SDP */
	int have_base;
	uint32_t first_rtp_ts;
	int64_t unwrapped;             /* RTP time since the first packet */
	uint32_t prev_rtp_ts;
	uint64_t base_ms;              /* stream time of the first packet */
};

struct rtsp_publish;               /* rtsp_publish.c */

struct rtsp_conn {
	struct conn base;
	struct rtsp_server *srv;
	uv_tcp_t tcp;
	char ipkey[64];
	char ip[INET6_ADDRSTRLEN];
	struct bytes in;               /* received, not yet parsed */
	uint64_t accepted_ms, last_rx_ms;
	enum rtsp_state state;
	int closing, reading;
	int read_paused;               /* answers unread past RTSP_REPLY_QUEUE_MAX */
	int closes_pending;            /* handles whose close callback has not run */
	char host[160];                /* "rtsp://HOST:PORT" of the first request naming a stream */
	char session[24];              /* "" until the first SETUP */
	char app[STREAM_NAME_MAX + 1];
	char name[STREAM_NAME_MAX + 1];
	int play_ok, publish_ok;       /* the token passed for app/name */
	struct rtsp_track track[RTSP_TRACKS];
	uint64_t requests;

	/* DESCRIBE waiting for the stream's sequence headers */
	uv_timer_t wait;
	int wait_init;
	struct stream *waiting;        /* a reference while waiting */
	long wait_cseq;
	uint64_t wait_since;

	/* playing */
	struct stream *stream;         /* a reference while playing (or publishing) */
	struct flv_tap tap;
	int tap_started;
	struct bytes avc_rec;
	struct avc_config avc;
	int has_avc;
	struct aac_config aac;
	int has_aac;
	struct bytes out;              /* interleaved frames not yet handed to libuv */
	int paused;                    /* PAUSE: media read and dropped */
	int wait_key;                  /* after a PAUSE: no video until a keyframe */
	uint64_t skips;

	/* publishing */
	struct rtsp_sdp *sdp;          /* the ANNOUNCE description */
	struct rtsp_publish *pub;
	int counts_as_publisher;
	uint64_t last_media_ms;
};

struct rtsp_stats {
	uint64_t accepted, requests, bad_requests;
	uint64_t describes, plays, publishes;
	uint64_t refused;              /* token, not live, limits, transport */
	uint64_t udp_sent, udp_send_drops, udp_unknown;
	uint64_t udp_foreign_ssrc;     /* UDP publish datagrams of another SSRC than the first */
	uint64_t viewer_pauses;        /* times a TCP viewer's socket was full (rtsp-viewer-buffer) */
	uint64_t read_pauses;          /* times a client's unread answers stopped its reading */
	uint64_t rtp_in, rtp_bad, au_dropped;
	uint64_t ts_jumps;             /* RTP time steps past RTP_TIME_MAX_STEP_S, rebased */
	uint64_t timeouts;
};

struct rtsp_server {
	struct node *n;
	uv_tcp_t listener;
	uv_udp_t rtp, rtcp;
	int udp_on;
	int closes_pending;            /* handles whose close callback has not run */
	struct strmap conns;           /* "%llu" id -> struct rtsp_conn */
	struct strmap peers;           /* "ip:port" -> struct rtsp_conn (UDP tracks) */
	struct rtsp_stats stats;
	struct log_throttle refuse_log;
	uint8_t udp_buf[2048];
};

/* Starts the listener when rtsp-port is not 0; 0, or -1 (logged). */
int rtsp_server_start(struct node *n);
void rtsp_server_stop(struct node *n);
/* Once a second: session and publish timeouts, sender reports. */
void rtsp_server_sweep(struct node *n, uint64_t now_ms);
void rtsp_server_metrics(struct node *n, struct bytes *b);

/* rtsp_server.c, for the media halves */
void rtsp_conn_close(struct rtsp_conn *c, const char *reason);
/* Sends one RTP (rtcp 0) or RTCP (1) packet on track t: interleaved or UDP. */
void rtsp_conn_send(struct rtsp_conn *c, int t, int rtcp, const uint8_t *p, size_t n);
/* Hands what rtsp_conn_send gathered to the socket. */
void rtsp_conn_flush(struct rtsp_conn *c);
/* Handles the requests and frames received and not yet handled (stops while a DESCRIBE
 * waits for its stream's headers). */
void rtsp_conn_parse(struct rtsp_conn *c);
/* An answer: status, headers in extra ("Name: value\r\n"..., may be NULL), a body. */
void rtsp_respond(struct rtsp_conn *c, int status, long cseq, const char *extra,
                  const char *ctype, const void *body, size_t blen);
/* An error answer with a Reason header, logged (throttled) and counted. */
void rtsp_refuse(struct rtsp_conn *c, int status, long cseq, const char *reason);

/* rtsp_requests.c: one request; 1 when the connection goes on after it. */
int rtsp_request_handle(struct rtsp_conn *c, const struct rtsp_request *r);

/* rtsp_play.c */
/* Starts the viewer; appends the RTP-Info header line (tracks' first seq and rtptime, with
 * control URLs under base) for the PLAY answer. */
int rtsp_play_start(struct rtsp_conn *c, struct stream *s, struct bytes *rtp_info,
                    const char *base);
void rtsp_play_stop(struct rtsp_conn *c, void (*done)(void *arg));
/* The TCP write queue went down: reading may resume. */
void rtsp_play_drained(struct rtsp_conn *c);

/* rtsp_publish.c */
/* Prepares depacketizers for the announced tracks; -1 with why for the client. */
int rtsp_publish_prepare(struct rtsp_conn *c, char *why, size_t n);
/* RECORD was accepted: the buffers for frames are allocated. */
void rtsp_publish_begin(struct rtsp_conn *c);
/* One RTP packet on track t (from a frame or a datagram). */
void rtsp_publish_rtp(struct rtsp_conn *c, int t, const uint8_t *p, size_t n);
void rtsp_publish_free(struct rtsp_conn *c);
/* The track (0 video, 1 audio) the announced m-line media feeds, or -1. */
int rtsp_publish_track_of(const struct rtsp_conn *c, unsigned media);

#endif
