/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node_config.h - every setting of `sluice node`: flag, config-file key and
 * --help text come from the one table in node_config.c.
 */
#ifndef SLUICE_NODE_NODE_CONFIG_H
#define SLUICE_NODE_NODE_CONFIG_H

#include <stdint.h>

#include "core/options.h"

struct node_config {
	char *config;
	char *bind;
	int64_t rtmp_port;
	int64_t http_port;
	char *name;
	char *log_level;
	int64_t max_connections;
	int64_t max_connections_per_ip;  /* 0: no limit */
	int64_t conn_rate_per_ip;        /* new connections per second; 0: no limit */
	int64_t conn_burst_per_ip;

	/* RTMP protocol limits */
	int64_t rtmp_chunk_size;        /* what we send with */
	int64_t max_chunk_size;         /* largest the peer may set */
	uint64_t max_message_size;
	int64_t max_chunk_streams;
	int64_t rtmp_command_rate;      /* commands per second per connection; 0: no limit */
	int64_t rtmp_command_burst;
	int64_t max_publishers;         /* per node */
	int64_t max_publishers_per_ip;  /* 0: no limit */
	int64_t max_streams;            /* live streams (published and pulled) per node */
	uint64_t partial_bytes_max;     /* in partial RTMP messages, all connections */
	uint64_t partial_bytes_per_ip;  /* the same, one address's connections; 0: no limit */

	/* timeouts */
	uint64_t handshake_timeout;
	uint64_t idle_timeout;
	uint64_t publish_timeout;
	uint64_t send_timeout;

	/* fan-out */
	int gop_cache;
	uint64_t viewer_lag_skip;
	uint64_t viewer_lag_drop;
	uint64_t stream_buffer_max;
	int64_t stream_messages_max;
	uint64_t viewer_write_merge;
	uint64_t viewer_audio_hold;
	int io_uring;

	/* HTTP */
	uint64_t http_max_header;
	uint64_t http_request_timeout;
	int cors;

	/* access */
	char *publish_secret;
	char *play_secret;
	char *api_token;
	char *metrics_token;             /* NULL: api-token guards /metrics */
	int metrics_stream_labels;

	/* clustering (docs/clustering.md) */
	char *role;                      /* standalone, origin, edge, relay */
	char *origins;                   /* upstreams: "host[:port],..." */
	char *cluster_secret;
	int clustering;
	char *public_host;               /* NULL: the bind address */
	int64_t public_rtmp_port;        /* 0: rtmp-port */
	int64_t public_http_port;        /* 0: http-port */
	int private_node;
	int publish_only;
	uint64_t retry_interval;
	uint64_t upstream_timeout;
	uint64_t linger;
	uint64_t pull_idle;
	int64_t max_pulls;               /* pulls at once; 0: no limit */
	int64_t pull_rate;               /* new pulls a second; 0: no limit */
	uint64_t pull_miss_hold;         /* a name no upstream has is not pulled again for this */
	uint64_t pull_miss_hold_max;     /* ... doubling each miss in a row up to this */

	/* stream manager (src/node/manager_link.c) */
	char *manager;                   /* http://HOST:PORT; NULL: not managed */
	char *group;                     /* node group to join */

	/* HLS (docs/hls.md) */
	uint64_t hls_segment;            /* target segment duration */
	uint64_t hls_part;               /* LL-HLS part target; 0: no parts */
	int64_t hls_window;              /* segments in the playlist */
	uint64_t hls_idle;               /* packaging stops this long after the last request */
	char *hls_format;                /* "fmp4" (CMAF) or "ts" */
	uint64_t hls_buffer_max;         /* packaged bytes one stream holds */

	/* admission by machine load (src/node/admission.c), Ant Media's server.cpu_limit and
	 * server.memory_limit */
	int64_t cpu_limit;               /* percent of all cores; 100: never refuse */
	int64_t memory_limit;            /* percent of memory in use; 100: never refuse */
	/* WebRTC playback, WHEP (docs/webrtc.md) */
	int webrtc;
	int64_t webrtc_port;             /* UDP; 0: the same number as http-port */
	char *webrtc_ports;              /* "LOW-HIGH": a port per session; NULL/empty: all on webrtc_port */
	char *webrtc_public_ip;          /* advertised candidate; NULL/empty: the bind address */
	int64_t webrtc_max_sessions;
	int64_t webrtc_max_sessions_per_ip;
	uint64_t webrtc_dtls_timeout;
	uint64_t webrtc_consent_timeout;
	uint64_t whip_keyframe_interval; /* WHIP: a PLI when the last keyframe is older; 0: never */
	/* SRT (docs/srt.md) */
	int srt;                         /* listen for SRT callers */
	int64_t srt_port;                /* UDP */
	uint64_t srt_latency;            /* SRTO_LATENCY */
	char *srt_passphrase;            /* NULL: no encryption */
	uint64_t srt_buffer;             /* SRTO_RCVBUF / SRTO_SNDBUF per socket */
	uint64_t srt_viewer_buffer;      /* TS bytes one viewer may hold for libsrt */
	/* RTSP (docs/rtsp.md) */
	int64_t rtsp_port;               /* TCP; 0: no RTSP listener */
	int64_t rtsp_udp_port;           /* RTP over UDP on it, RTCP on +1; 0: TCP interleaved only */
	uint64_t rtsp_session_timeout;
	uint64_t rtsp_max_request;       /* request line and headers */
	uint64_t rtsp_viewer_buffer;     /* bytes one TCP viewer may have unsent */
	/* TLS (src/node/node_tls.c, docs/security.md) */
	char *tls_cert;                  /* NULL: no HTTPS, no RTMPS */
	char *tls_key;
	int64_t https_port;              /* 0: none */
	int64_t rtmps_port;              /* 0: none */
	char *manager_ca_file;           /* NULL: the system's CAs */
	char *manager_client_cert;
	char *manager_client_key;
	int cluster_tls;                 /* pull over RTMPS */
	char *cluster_ca_file;           /* NULL: the system's CAs */
};

extern const struct option_def node_options[];

#endif
