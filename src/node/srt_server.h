/* SPDX-License-Identifier: Apache-2.0 */
/*
 * srt_server.h - SRT ingest and playback (libsrt) on its own UDP port.
 *
 * libsrt runs its own threads and has its own readiness API (srt_epoll),
 * which a uv loop cannot poll.  One waiter thread blocks in
 * srt_epoll_uwait() and, when a socket is ready, wakes the loop with a
 * uv_async and then waits on a semaphore until the loop has handled every
 * ready socket (srt_server.c).  So every SRT socket and every node
 * structure is touched from the loop thread only, nothing spins, and a wake
 * costs one async round trip.  The waiter touches no socket itself.
 *
 * A caller's stream id (proto/srt_streamid.h) says publish or play.  A
 * publisher's transport stream is demuxed (proto/mpegts.h) into the same
 * FLV-bodied media messages an RTMP publisher makes (srt_conn.c); a viewer
 * is an HTTP-FLV fan-out viewer on one end of a socketpair, whose messages
 * are muxed into MPEG-TS with the HLS packager's muxer (hls/ts_mux.h) and
 * sent with srt_sendmsg: the fan-out's lag and backlog rules apply to it as
 * to any viewer, and what waits for libsrt's send buffer is bounded
 * (srt-viewer-buffer).
 */
#ifndef SLUICE_NODE_SRT_SERVER_H
#define SLUICE_NODE_SRT_SERVER_H

#include <uv.h>

#include "core/bytes.h"
#include "core/conn.h"
#include "core/io_stream.h"
#include "hls/ts_flv.h"
#include "media/fanout.h"
#include "node/flv_tap.h"
#include "node/node.h"
#include "proto/aac.h"
#include "proto/avc.h"
#include "proto/mpegts.h"

#define SRT_READ_MAX 1500          /* one live-mode message (payload 1316) fits */
#define SRT_SEND_CHUNK 1316        /* 7 TS packets: libsrt's live payload size */

struct srt_server;

struct srt_conn {
	struct conn base;
	struct srt_server *srv;
	int sock;                      /* SRTSOCKET (srt/srt.h is kept out of headers: its syslog.h
	                                  defines LOG_DEBUG and LOG_INFO, which core/log.h uses) */
	char key[24];                  /* the socket map's key */
	char ipkey[64];
	char app[STREAM_NAME_MAX + 1];
	char name[STREAM_NAME_MAX + 1];
	int publishing, playing, closing;
	int undecided;                 /* plain APP/STREAM: publish if it sends media */
	uint64_t accepted_ms;
	char token[160];
	int counts_as_publisher;
	struct stream *stream;         /* a reference while publishing or playing */
	uint64_t last_media_ms;
	uint64_t max_frame;            /* max-message-size: one PES packet */
	void (*on_done)(struct srt_conn *c);

	/* publishing */
	struct mpegts_demux demux;

	/* playing: a fan-out viewer read back as FLV tags (flv_tap.h) */
	struct flv_tap tap;
	struct bytes out;              /* TS bytes not yet taken by libsrt */
	size_t out_off;
	int want_out;                  /* subscribed to SRT_EPOLL_OUT */
	struct ts_flv mux;             /* the tags into MPEG-TS */
};

struct srt_stats {
	uint64_t accepted;
	uint64_t bad_streamid;         /* refused in the handshake (counted by libsrt's thread) */
	uint64_t publishes, plays;
	uint64_t unsupported;          /* HEVC and other codecs we cannot carry */
	uint64_t refused;              /* admitted callers then refused (token, role, limit, ...) */
	uint64_t viewer_overflows;     /* viewers closed over srt-viewer-buffer */
	uint64_t ts_cc_errors, ts_pes_dropped;
};

/* Starts the listener when srt = true; 0, or -1 (logged). */
int srt_server_start(struct node *n);
void srt_server_stop(struct node *n);
/* Once a second: publishers silent past publish-timeout are dropped. */
void srt_server_sweep(struct node *n, uint64_t now_ms);
/* Prometheus lines (nothing when SRT is off). */
void srt_server_metrics(struct node *n, struct bytes *b);

/* srt_conn.c: the media paths, called by srt_server.c on the loop thread. */
void srt_conn_publish_start(struct srt_conn *c);
/* Reads what libsrt holds for a publisher; -1 when the connection must close. */
int srt_conn_publish_read(struct srt_conn *c);
/* Starts a viewer on stream s (takes a reference of its own); -1 on failure. */
int srt_conn_play_start(struct srt_conn *c, struct stream *s);
/* The socket can take more: sends what waits; -1 when the connection must close. */
int srt_conn_play_flush(struct srt_conn *c);
/* Frees the media state; for a viewer, closes the pipes (done() once both are closed). */
void srt_conn_media_close(struct srt_conn *c, void (*done)(struct srt_conn *c));

/* srt_server.c, for srt_conn.c */
void srt_conn_close(struct srt_conn *c, const char *reason);
void srt_conn_want_out(struct srt_conn *c, int on);
struct srt_stats *srt_conn_stats(struct srt_conn *c);
uint64_t srt_viewer_buffer(struct srt_conn *c);

#endif
