/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lc.h - sluice-load, the benchmark load client: shared types.
 *
 * One process, one libuv loop: an optional publisher pushing a prepared FLV
 * file at real time over RTMP, and N viewers playing over RTMP or HTTP-FLV.
 * The publisher puts its send time (CLOCK_MONOTONIC, us) into every video
 * frame as an H.264 SEI NAL (user_data_unregistered with our UUID); servers
 * pass video payloads untouched, so a viewer's lag is exactly now - stamp on
 * this machine, whatever the server does to RTMP timestamps.  Audio cannot
 * carry a stamp: the publisher remembers when it sent each audio timestamp,
 * and a viewer's audio lag is now minus that, which is exact for a server
 * that passes timestamps through (sluice) and unmatched where one rewrites
 * them (the report counts those).
 */
#ifndef SLUICE_BENCH_LC_H
#define SLUICE_BENCH_LC_H

#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "core/bytes.h"
#include "core/io_stream.h"
#include "proto/rtmp_chunk.h"
#include "proto/rtmp_handshake.h"

/* The SEI payload: UUID (16 bytes) then the send time as 16 hex digits, so no
 * byte is 0 and the NAL needs no emulation prevention. */
#define LC_SEI_UUID_LEN 16
#define LC_SEI_STAMP_LEN 16
#define LC_SEI_PAYLOAD_LEN (LC_SEI_UUID_LEN + LC_SEI_STAMP_LEN)
#define LC_SEI_NAL_LEN (3 + LC_SEI_PAYLOAD_LEN + 1)   /* header, type, size, payload, trailing */
extern const uint8_t lc_sei_uuid[LC_SEI_UUID_LEN];

/* Lag histogram: 100 us bins up to 60 s, exact enough for p50/p99. */
#define LC_HIST_BIN_US 100
#define LC_HIST_BINS 600000

struct lc_hist {
	uint32_t *bins;
	uint64_t count, over;
	uint64_t max_us;
};

void lc_hist_init(struct lc_hist *h);
void lc_hist_add(struct lc_hist *h, uint64_t us);
/* The q-quantile (0..1) in microseconds; 0 when empty. */
uint64_t lc_hist_quantile(const struct lc_hist *h, double q);
/* A process's user + system CPU time in clock ticks (/proc/PID/stat); 0 if unreadable. */
uint64_t lc_proc_cpu_ticks(int pid);

enum lc_role { LC_PLAY_RTMP, LC_PLAY_FLV, LC_PLAY_WHEP, LC_PUBLISH, LC_PLAY_SRT };

struct lc_url {
	char host[64];
	int port;
	char app[160];       /* rtmp: first path segment */
	char stream[320];    /* rtmp: the rest, query included */
	char path[512];      /* http: path and query */
	char tc_url[600];    /* rtmp: rtmp://host:port/app */
	int tls;             /* rtmps:// or https:// */
};

/* Parses rtmp[s]://HOST[:PORT]/APP/STREAM or http[s]://HOST[:PORT]/PATH; 0 or SL_EINVAL. */
int lc_url_parse(const char *s, struct lc_url *u);

struct lc_stats {
	uint64_t bytes;
	uint64_t video_frames, audio_frames, keyframes;
	uint64_t connect_start_us;
	int64_t ttff_us;           /* connect start -> first video keyframe; -1 none yet */
	int64_t ttfb_us;           /* connect start -> first media message; -1 none yet */
	uint64_t last_video_us;    /* arrival of the last video frame */
	uint32_t stalls;           /* gaps between video frames over stall_ms */
	uint64_t stall_us;         /* time spent in those gaps beyond stall_ms */
	uint64_t lag_n;
	double lag_sum_us;
	uint64_t lag_max_us, lag_last_us;
	uint64_t frames_unstamped; /* video frames without our SEI */
	uint64_t negative_lag;     /* stamps from the future: a bug somewhere */
	uint32_t first_video_ts, last_video_ts;
	int have_video_ts;
	uint64_t window_bytes, window_frames;  /* inside the measurement window */
	uint64_t segs_at_start, seg_bytes_at_start; /* the kernel's counts when the window opened */
	int segs_known;            /* both ends of the window were read */
	uint64_t window_segs, window_seg_bytes;     /* TCP data segments (and bytes) in the window */
	char error[96];            /* the first error, if any */
};

struct lc;

struct lc_client {
	struct lc *lc;
	int id;
	enum lc_role role;
	struct io_stream io;       /* plain, or TLS for rtmps:// and https:// */
	uv_connect_t creq;
	int open;                  /* tcp handle initialised */
	int connected;             /* play/publish started */
	int closed;
	struct lc_url url;
	struct lc_stats st;
	uint8_t nal_len_size;      /* AVC NALU length size, from the sequence header */
	FILE *dump;                /* received tags written as FLV (viewer 0, --dump) */
	/* RTMP */
	struct rtmp_hs hs;
	int hs_done;
	struct rtmp_reader rd;
	int rstate;
	uint32_t msid;
	uint32_t out_chunk;
	uint32_t ack_win;
	uint64_t acked;
	/* HTTP-FLV */
	int hstate;
	struct bytes hbuf;         /* response head, then FLV bytes awaiting a whole tag */
	int chunked;
	int cstate;
	uint64_t chunk_left;
	int flv_header_done;
	/* WebRTC (lc_webrtc.c): the WHEP POST goes over tcp above, then this. */
	struct lc_rtc *rtc;
	/* SRT (lc_srt.c): viewers, and the publisher of an srt:// --publish URL. */
	struct lc_srt_conn *srt;
};

struct lc_opts {
	const char *rtmp_url, *flv_url, *publish_url, *file, *dump, *whep_url;
	int rtmp_viewers, flv_viewers, whep_viewers;
	int whep_no_audio;
	int whep_libsrtp;           /* RTP decrypted by libsrtp2 instead of proto/srtp_cm */
	double warmup_s, settle_s, duration_s, ramp_per_s, timeout_s;
	uint64_t stall_ms;
	int server_pid;
	int per_viewer;
	const char *tls_ca;        /* CA file rtmps:// and https:// servers are verified with */
	const char *srt_url;       /* srt://H:P?streamid=... the SRT viewers play */
	int srt_viewers;
	int srt_latency_ms;        /* SRTO_LATENCY of every SRT socket */
};

struct lc_file_tag {
	uint8_t type;
	uint32_t ts;
	const uint8_t *body;
	uint32_t len;
};

/* Audio carries no stamp; its send times are kept by timestamp (about 3 minutes of AAC). */
#define LC_AUDIO_SENT 8192

struct lc_sent {
	uint32_t ts;
	uint64_t us;
};

struct lc_publisher {
	struct lc_client c;
	uint8_t *file;
	size_t file_len;
	struct lc_file_tag *tags;
	size_t ntags;
	uint32_t file_span_ms;     /* duration of one pass of the file */
	size_t next;               /* next tag to send */
	uint64_t loop_offset_ms;
	uint64_t start_us;
	uv_timer_t pace;
	int started;
	uint64_t frames_sent;
	uint8_t nal_len_size;
	struct lc_sent audio_sent[LC_AUDIO_SENT];   /* ring, timestamps increasing */
	uint64_t naudio_sent;
};

struct lc {
	uv_loop_t *loop;
	struct lc_opts o;
	struct lc_client *viewers;
	int nviewers, started_viewers;
	struct lc_publisher pub;
	int have_pub;
	struct lc_hist lag;
	struct lc_hist audio_lag;  /* by RTMP timestamp: exact only where a server keeps them */
	uint64_t audio_unmatched;  /* audio in the window whose timestamp the publisher never sent */
	int measuring;
	uint64_t t0_us;
	uint64_t window_start_us, window_end_us;
	uint64_t srv_cpu0_ticks, srv_cpu1_ticks;
	uint64_t srv_wait0_ns, srv_wait1_ns;  /* its main thread's time runnable but not running */
	uint64_t self_cpu0_us, self_cpu1_us;
	uv_timer_t phase, ramp, deadline;
	uint8_t readbuf[256 * 1024];
	int readbuf_busy;
	struct tls_client *tls;    /* for rtmps:// and https:// URLs */
	struct lc_rtc_shared *rtcs;  /* WebRTC viewers' common state (lc_webrtc.c) */
	struct lc_srt_shared *srt;   /* SRT sockets' common state (lc_srt.c) */
};

uint64_t lc_now_us(void);

/* Connections (lc_net.c). */
/* Starts c's clocks and resolves its address (0, or SL_EINVAL and c failed). */
int lc_client_begin(struct lc_client *c, struct sockaddr_in *sa);
int lc_client_connect(struct lc_client *c);
/* Sends bytes, copying whatever the socket does not take at once. */
void lc_client_send(struct lc_client *c, const uint8_t *p, size_t n);
void lc_client_fail(struct lc_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
size_t lc_client_write_queue(const struct lc_client *c);

/* RTMP sessions (lc_rtmp.c). */
void lc_rtmp_begin(struct lc_client *c);
void lc_rtmp_data(struct lc_client *c, const uint8_t *p, size_t n);
/* Publisher: sends one media or data message on the publishing stream. */
void lc_rtmp_send_media(struct lc_client *c, uint8_t type, uint32_t ts, const uint8_t *body,
                        size_t len);

/* HTTP-FLV viewers (lc_http.c). */
void lc_http_begin(struct lc_client *c);
void lc_http_data(struct lc_client *c, const uint8_t *p, size_t n);

/* WebRTC viewers over WHEP (lc_webrtc.c): once before any starts, 0 or -1 with a message. */
int lc_webrtc_init(struct lc *lc);
void lc_whep_begin(struct lc_client *c);
void lc_whep_data(struct lc_client *c, const uint8_t *p, size_t n);
/* Their totals in the report (packets, gaps, skips, handshake times). */
struct json_t;
void lc_webrtc_report(struct lc *lc, struct json_t *r);

/* SRT (lc_srt.c): srt://HOST:PORT?streamid=ID (the id kept in u->path); 0 or SL_EINVAL. */
int lc_srt_url_parse(const char *s, struct lc_url *u);
/* Once before any SRT socket; 0 or -1 with a message. */
int lc_srt_init(struct lc *lc, int latency_ms);
/* Connects c (a viewer, or the publisher) over SRT; it plays, or publishes once connected. */
int lc_srt_connect(struct lc_client *c);
void lc_srt_close(struct lc_client *c);
/* Publisher: muxes one FLV-bodied message into MPEG-TS and sends it. */
void lc_srt_send_media(struct lc_client *c, uint8_t type, uint32_t ts, const uint8_t *body,
                       size_t len);

/* The window opens / closes for c's segment count (lc_net.c). */
void lc_client_segs_start(struct lc_client *c);
void lc_client_segs_end(struct lc_client *c);

/* Media accounting (lc_media.c): one received audio, video or data message. */
void lc_on_tag(struct lc_client *c, uint8_t type, uint32_t ts, const uint8_t *body, size_t len);

/* The publisher (lc_publish.c). */
int lc_pub_load(struct lc_publisher *p, const char *path);
void lc_pub_start(struct lc *lc);
/* When the publisher sent the audio message with timestamp ts: 1 and *us, or 0. */
int lc_pub_audio_sent_at(const struct lc_publisher *p, uint32_t ts, uint64_t *us);
/* Builds a video body with our SEI stamped first; returns its length (out holds len+64). */
size_t lc_sei_stamp(const uint8_t *body, size_t len, uint8_t nal_len_size, uint64_t now_us,
                    uint8_t *out);
/* Finds our stamp in a video body; 1 and *stamp_us when found, else 0. */
int lc_sei_find(const uint8_t *body, size_t len, uint8_t nal_len_size, uint64_t *stamp_us);
/* The same in bare NAL units, each behind a big-endian length of nal_len_size bytes. */
int lc_sei_find_nalus(const uint8_t *p, size_t len, uint8_t nal_len_size, uint64_t *stamp_us);
/* One received video frame (NAL units as above; NULL when not H.264): frames, first
 * keyframe, stalls, and lag from our stamp.  RTMP/FLV and WebRTC viewers alike. */
void lc_on_video_frame(struct lc_client *c, uint32_t ts, int keyframe, const uint8_t *nalus,
                       size_t len, uint8_t nal_len_size, uint64_t now);

/* The report (lc_report.c). */
void lc_report(struct lc *lc);
/* Sorts v and returns its q-quantile (0..1, nearest rank); 0 when n is 0. */
uint64_t lc_quantile(uint64_t *v, size_t n, double q);
/* {"n", "min", "p50", "p90", "max"} of v[0..n) times scale (sorts v). */
struct json_t *lc_json_dist(uint64_t *v, size_t n, double scale);

#endif
