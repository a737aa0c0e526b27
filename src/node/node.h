/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node.h - the media node: its listeners, connections, streams and the
 * once-a-second housekeeping that enforces timeouts and limits.
 */
#ifndef SLUICE_NODE_NODE_H
#define SLUICE_NODE_NODE_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "cluster/cluster.h"
#include "core/conn.h"
#include "core/http_server.h"
#include "core/list.h"
#include "core/sysload.h"
#include "core/sysstat.h"
#include "media/stream.h"
#include "node/node_config.h"
#include "proto/rtmp_chunk.h"

struct rtc_server;
struct tls_server;
struct bytes;

struct node_stats {
	uint64_t publishes;              /* accepted */
	uint64_t publish_refused;        /* key busy, bad name */
	uint64_t plays;
	uint64_t play_not_found;
	uint64_t auth_refused;           /* missing, bad or expired tokens */
	uint64_t protocol_errors;        /* peers dropped for bad input or limits */
	uint64_t timeouts;               /* peers dropped for silence */
	uint64_t api_refused;            /* API/metrics calls refused (token, cross-site, rate) */
	uint64_t publish_refused_limit[3]; /* enum node_limit_refusal */
	uint64_t partial_closes[2];      /* over partial-bytes-max, partial-bytes-per-ip */
	uint64_t command_rate_closes;    /* over rtmp-command-rate */
};

/* Which publisher limit refused a publish (node_stats.publish_refused_limit). */
enum node_limit_refusal { LIMIT_PUBLISHERS, LIMIT_PUBLISHERS_PER_IP, LIMIT_STREAMS };

struct node {
	uv_loop_t *loop;
	struct node_config *cfg;
	char name[128];
	struct conn_table conns;
	struct stream_registry streams;
	struct rtmp_reader_limits rtmp_limits;

	uv_tcp_t rtmp_listener;
	struct list_node rtmp_conns;     /* struct rtmp_conn, for sweeps */
	struct http_server *http;
	/* TLS (node_tls.c): the certificate, the HTTPS server and the RTMPS listener */
	struct tls_server *tls;          /* NULL: no tls-cert */
	struct http_server *https;
	uv_tcp_t rtmps_listener;
	int rtmps_on;
	struct tls_client *cluster_tls;  /* cluster-tls: how pulls verify upstreams; NULL: plain */

	uv_timer_t tick;
	uv_signal_t sig_term, sig_int;
	uint8_t read_buf[64 * 1024];     /* shared by every RTMP read: consumed before the next */

	uint64_t started_mono_ms;
	uint64_t started_wall_ms;
	struct sysstat sys;
	uint64_t bw_in_bps, bw_out_bps;  /* over the last tick */
	uint64_t last_bytes_in, last_bytes_out;
	struct node_stats stats;
	/* What RTMP peers hold (rtmp_conn.c, rtmp_commands.c), per node and per address. */
	uint32_t publishers;
	struct ipcount publishers_by_ip;
	uint64_t partial_bytes;          /* allocated for partial messages, every connection */
	struct ipcount partial_by_ip;
	struct log_throttle limit_log;   /* publish refusals and partial-bytes closes */
	struct cluster_settings cluster_cfg; /* lent to the cluster (cluster_host.h) */
	struct cluster cluster;
	struct hls_server *hls;          /* HLS packaging (hls_http.c); NULL until first asked */
	struct rtc_server *rtc;          /* WebRTC playback (whep_http.c); NULL when off */
	struct srt_server *srt;          /* SRT listener (srt_server.c); NULL when off */
	struct rtsp_server *rtsp;        /* RTSP listener (rtsp_server.c); NULL when off */
	int stopping;
	int draining;                    /* the stream manager is draining this node */
	struct sysload load;             /* the machine's CPU and memory (admission.c) */
	uint64_t overload_refused[2];    /* publishers and viewers refused: cpu, memory */
};

/* Runs a node until SIGTERM/SIGINT; returns the process exit status. */
int node_main(int argc, char **argv);
/* (Re)fills n->cluster_cfg from n->cfg: at start and after a reload. */
void node_cluster_settings(struct node *n);

/* RTMP listener and connections (rtmp_conn.c). */
int rtmp_server_start(struct node *n);
/* The RTMPS listener on rtmps-port, accepting with n->tls (rtmp_conn.c). */
int rtmps_server_start(struct node *n);
/* HTTPS and RTMPS when tls-cert is set (node_tls.c): 0, or -1 (logged) when they cannot
 * start.  hcfg is the HTTP server's configuration, copied for HTTPS. */
int node_tls_start(struct node *n, const struct http_server_config *hcfg);
void node_tls_stop(struct node *n);
/* With cluster-tls: the client context pulls use (before the cluster starts).  0, or -1 with a
 * message in err. */
int node_cluster_tls_init(struct node *n, char *err, size_t err_size);
/* SIGHUP: reads tls-cert and tls-key again; applies the HTTP timeouts to HTTPS. */
void node_tls_reload(struct node *n);
/* {"https_port", "rtmps_port", "cert_sha256"} of what is served now; null without tls-cert. */
json_t *node_tls_json(struct node *n);
/* Prometheus lines for TLS (handshakes, failures, reloads). */
void node_tls_metrics(struct node *n, struct bytes *b);
void rtmp_server_stop(struct node *n);
void rtmp_server_sweep(struct node *n, uint64_t now_ms);
unsigned rtmp_server_count(struct node *n, int publishers);
/* Prometheus lines for what the RTMP limits on publishers, partial messages and commands did. */
void rtmp_limits_metrics(struct node *n, struct bytes *b);

/* HTTP routes (node_http.c) and the HTTP-FLV viewer (flv_viewer.c). */
void node_http_handle(void *ctx, struct http_conn *c, const struct http_request *req,
                      const uint8_t *body, size_t body_len);
void flv_viewer_serve(struct node *n, struct http_conn *c, const char *app, const char *name,
                      const struct http_request *req);

/* One Prometheus metric with its HELP and TYPE lines (node_http.c), for the protocols'
 * metrics functions. */
void node_metric(struct bytes *b, const char *name, const char *type, const char *help,
                 uint64_t v);

/* Access control shared by RTMP and HTTP (access.c): 0 when allowed. */
int node_check_token(struct node *n, const char *action, const char *app, const char *name,
                     const char *token, const char *peer, uint64_t client_id);

#endif
