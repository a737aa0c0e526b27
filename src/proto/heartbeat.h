/* SPDX-License-Identifier: Apache-2.0 */
/*
 * heartbeat.h - what a node says about itself to the stream manager at
 * registration and in each heartbeat: a JSON object, built by the node and
 * parsed by the manager (pure: bytes in, struct out and back; no I/O).
 *
 *   {"id": "edge-1", "group": "g1", "role": "edge", "host": "10.0.0.5",
 *    "rtmpPort": 1935, "httpPort": 5080, "connections": 12, "publishers": 0,
 *    "viewers": 11, "bandwidthInBps": 0, "bandwidthOutBps": 0, "cpuPercent": 3.5,
 *    "memoryRssBytes": 0, "systemCpuPercent": 40.5, "memoryPercent": 30.1, "overloaded": "",
 *    "streams": [{"app": "live", "name": "a", "publishing": false, "viewers": 11,
 *                 "protocols": {"rtmp": 9, "flv": 2, "hls": 3}}]}
 *
 * The parser refuses anything else with a message naming the field (numbers
 * may also be strings of digits); parse(build(x)) == x.
 */
#ifndef SLUICE_PROTO_HEARTBEAT_H
#define SLUICE_PROTO_HEARTBEAT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Node ids and group names: 1-64 characters of A-Z a-z 0-9 . _ - */
#define HEARTBEAT_NAME_MAX 64
/* Streams kept from one report; the rest are ignored. */
#define HEARTBEAT_MAX_STREAMS 1024

/* Viewers of a stream by protocol ("rtmp", "flv", "hls", ...): optional in a report, as
 * "protocols": {"rtmp": 2, "hls": 1}; names 1-15 of a-z 0-9 -, at most this many. */
#define HEARTBEAT_MAX_PROTOCOLS 8

struct report_protocol {
	char name[16];
	int64_t viewers;
};

struct report_stream {
	char app[129], name[129];
	int publishing;                /* a publisher is on this node (not a pull) */
	int64_t viewers;
	unsigned nprotocols;
	struct report_protocol protocols[HEARTBEAT_MAX_PROTOCOLS];
};

struct node_report {
	char id[HEARTBEAT_NAME_MAX + 1];
	char group[HEARTBEAT_NAME_MAX + 1];
	char role[16];                 /* origin, edge, relay or standalone */
	char host[64];
	int64_t rtmp_port, http_port;
	int64_t srt_port;              /* 0: no SRT listener (optional field srtPort) */
	int64_t rtsp_port;             /* 0: no RTSP listener (optional field rtspPort) */
	int64_t rtmps_port, https_port; /* 0: none (optional fields rtmpsPort, httpsPort) */
	int64_t connections, publishers, viewers;
	int64_t bw_in_bps, bw_out_bps;
	double cpu_percent;
	int64_t rss_bytes;
	unsigned nstreams;
	struct report_stream *streams; /* nstreams of them; free with node_report_free */
	/* the machine's load and the node's admission limits ("systemCpuPercent",
	 * "memoryPercent", "overloaded": "" or "cpu" or "memory"); optional */
	double sys_cpu_percent, mem_percent;
	char overloaded[8];
};

/* Returns 0 (free with node_report_free), or SL_EINVAL with err naming the field. */
int node_report_parse(const char *text, size_t len, struct node_report *out, char *err,
                      size_t n);
void node_report_free(struct node_report *r);
json_t *node_report_to_json(const struct node_report *r);
/* The body a node sends: compact JSON text (free() it); NULL only if out of memory. */
char *node_report_build(const struct node_report *r);

#endif
