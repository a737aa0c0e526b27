/* SPDX-License-Identifier: Apache-2.0 */
/* node_config.c - the settings table of `sluice node` (see node_config.h). */
#include "node/node_config.h"

#include <stddef.h>

#define OFF(f) offsetof(struct node_config, f)

static const char *const log_levels[] = { "debug", "info", "warn", "error", NULL };
static const char *const roles[] = { "standalone", "origin", "edge", "relay", NULL };
static const char *const hls_formats[] = { "fmp4", "ts", NULL };

const struct option_def node_options[] = {
	{ "config", OPT_STRING, OFF(config), NULL, 0, 0, NULL, "FILE",
	  "read settings from FILE first (key = value lines)" },
	{ "bind", OPT_STRING, OFF(bind), "0.0.0.0", 0, 0, NULL, "ADDR",
	  "address the RTMP and HTTP listeners bind to" },
	{ "rtmp-port", OPT_INT, OFF(rtmp_port), "1935", 1, 65535, NULL, "PORT",
	  "RTMP port (publish and play)" },
	{ "http-port", OPT_INT, OFF(http_port), "5080", 1, 65535, NULL, "PORT",
	  "HTTP port (HTTP-FLV playback, API, metrics)" },
	{ "name", OPT_STRING, OFF(name), "", 0, 0, NULL, "NAME",
	  "node name in the cluster, the API and logs; unique per node, 1-128 of A-Z a-z 0-9 "
	  "_ . ~ @ + = - (default: HOST-BIND-PORT, or HOST-PORT on a wildcard bind)" },
	{ "log-level", OPT_ENUM, OFF(log_level), "info", 0, 0, log_levels, "LEVEL",
	  "least severe log level written" },
	{ "max-connections", OPT_INT, OFF(max_connections), "10000", 1, 1000000, NULL, NULL,
	  "client connections (RTMP and HTTP) accepted at once; more are refused" },
	{ "max-connections-per-ip", OPT_INT, OFF(max_connections_per_ip), "2000", 0, 1000000, NULL,
	  NULL, "connections one address (IPv6: one /64) may hold at once; more are refused; "
	  "0: no limit" },
	{ "conn-rate-per-ip", OPT_INT, OFF(conn_rate_per_ip), "200", 0, 1000000, NULL, NULL,
	  "new connections per second one address may open (token bucket); faster ones are "
	  "refused; 0: no limit" },
	{ "conn-burst-per-ip", OPT_INT, OFF(conn_burst_per_ip), "400", 1, 1000000, NULL, NULL,
	  "new connections one address may open at once before conn-rate-per-ip applies" },

	{ "rtmp-chunk-size", OPT_INT, OFF(rtmp_chunk_size), "4096", 128, 16777215, NULL, NULL,
	  "chunk size this node sends with" },
	{ "max-chunk-size", OPT_INT, OFF(max_chunk_size), "16777215", 128, 2147483647, NULL, NULL,
	  "largest chunk size a peer may set; larger closes the connection" },
	{ "max-message-size", OPT_BYTES, OFF(max_message_size), "8m", 1024, 16777215, NULL, NULL,
	  "largest RTMP message accepted; larger closes the connection" },
	{ "max-chunk-streams", OPT_INT, OFF(max_chunk_streams), "64", 4, 65599, NULL, NULL,
	  "distinct RTMP chunk streams one connection may use" },
	{ "rtmp-command-rate", OPT_INT, OFF(rtmp_command_rate), "10", 0, 1000000, NULL, NULL,
	  "RTMP commands (play, closeStream, ...) per second one connection may send after its "
	  "burst; faster closes it; 0: no limit" },
	{ "rtmp-command-burst", OPT_INT, OFF(rtmp_command_burst), "50", 1, 1000000, NULL, NULL,
	  "RTMP commands one connection may send at once before rtmp-command-rate applies" },
	{ "max-publishers", OPT_INT, OFF(max_publishers), "1000", 1, 1000000, NULL, NULL,
	  "publishers this node takes at once; more are refused" },
	{ "max-publishers-per-ip", OPT_INT, OFF(max_publishers_per_ip), "16", 0, 1000000, NULL,
	  NULL, "publishers one address (IPv6: one /64) may have at once; more are refused; "
	  "0: no limit" },
	{ "max-streams", OPT_INT, OFF(max_streams), "1000", 1, 1000000, NULL, NULL,
	  "live streams (published or pulled) this node holds at once; more are refused" },
	{ "partial-bytes-max", OPT_BYTES, OFF(partial_bytes_max), "512m", 1048576, 0, NULL, NULL,
	  "bytes all RTMP connections together may hold in partial messages; the connection "
	  "that goes over is closed" },
	{ "partial-bytes-per-ip", OPT_BYTES, OFF(partial_bytes_per_ip), "64m", 0, 0, NULL, NULL,
	  "bytes one address's RTMP connections may hold in partial messages; the connection "
	  "that goes over is closed; 0: no limit" },

	{ "handshake-timeout", OPT_MS, OFF(handshake_timeout), "5s", 100, 600000, NULL, NULL,
	  "time a client has to finish the RTMP handshake and connect" },
	{ "idle-timeout", OPT_MS, OFF(idle_timeout), "30s", 100, 86400000, NULL, NULL,
	  "an RTMP connection neither publishing nor playing, or an HTTP connection between "
	  "requests, is closed after this" },
	{ "publish-timeout", OPT_MS, OFF(publish_timeout), "10s", 100, 3600000, NULL, NULL,
	  "a publisher that sends no media for this long is dropped" },
	{ "send-timeout", OPT_MS, OFF(send_timeout), "10s", 100, 3600000, NULL, NULL,
	  "a viewer, or an HTTP response, whose socket accepts nothing for this long is dropped" },

	{ "gop-cache", OPT_BOOL, OFF(gop_cache), "true", 0, 0, NULL, NULL,
	  "start new viewers on the last keyframe instead of waiting for the next" },
	{ "viewer-lag-skip", OPT_MS, OFF(viewer_lag_skip), "2s", 10, 3600000, NULL, NULL,
	  "a viewer this far behind live skips ahead to the newest keyframe" },
	{ "viewer-lag-drop", OPT_MS, OFF(viewer_lag_drop), "10s", 100, 3600000, NULL, NULL,
	  "a viewer whose backlog is this old is disconnected" },
	{ "viewer-write-merge", OPT_MS, OFF(viewer_write_merge), "30ms", 0, 1000, NULL, NULL,
	  "gather each viewer's writes for up to this long: far fewer TCP segments and less CPU "
	  "per viewer, at most that much more latency per hop (docs/benchmarks.md); 0: the strict "
	  "zero-delay mode, media sent as it arrives" },
	{ "viewer-audio-hold", OPT_MS, OFF(viewer_audio_hold), "0", 0, 1000, NULL, NULL,
	  "0: audio goes out as it arrives; else it waits up to this long to go with the next "
	  "video frame (pictures are never held; about half the writes per viewer, audio up to "
	  "that much later)" },
	{ "io-uring", OPT_BOOL, OFF(io_uring), "true", 0, 0, NULL, NULL,
	  "write to viewers through io_uring, one system call per 64 writes (falls back to one "
	  "write call each where the kernel refuses it)" },
	{ "stream-buffer-max", OPT_BYTES, OFF(stream_buffer_max), "64m", 65536, 0, NULL, NULL,
	  "most bytes a stream's buffer for its viewers (GOP cache and backlog) may cost, "
	  "counting each message's bookkeeping and packaged copies, not only its media" },
	{ "stream-messages-max", OPT_INT, OFF(stream_messages_max), "20000", 100, 10000000, NULL,
	  NULL, "most messages a stream keeps for its viewers; the oldest go first" },

	{ "http-max-header", OPT_BYTES, OFF(http_max_header), "8k", 1024, 1048576, NULL, NULL,
	  "largest HTTP request head accepted" },
	{ "http-request-timeout", OPT_MS, OFF(http_request_timeout), "10s", 100, 600000, NULL, NULL,
	  "time an HTTP client has to send a whole request" },
	{ "cors", OPT_BOOL, OFF(cors), "true", 0, 0, NULL, NULL,
	  "allow browsers on other origins (Access-Control-Allow-Origin: *)" },

	{ "publish-secret", OPT_STRING, OFF(publish_secret), NULL, 0, 0, NULL, "SECRET",
	  "require a signed token to publish (see `sluice token`)" },
	{ "play-secret", OPT_STRING, OFF(play_secret), NULL, 0, 0, NULL, "SECRET",
	  "require a signed token to play" },
	{ "api-token", OPT_STRING, OFF(api_token), NULL, 0, 0, NULL, "TOKEN",
	  "require 'Authorization: Bearer TOKEN' on /api/v1 (and /metrics without metrics-token); "
	  "calls that change state are refused without it when cluster-secret is set" },
	{ "metrics-token", OPT_STRING, OFF(metrics_token), NULL, 0, 0, NULL, "TOKEN",
	  "require 'Authorization: Bearer TOKEN' on /metrics (default: api-token)" },
	{ "metrics-stream-labels", OPT_BOOL, OFF(metrics_stream_labels), "false", 0, 0, NULL, NULL,
	  "per-stream series in /metrics, labelled with stream names (keys, without publish-secret)" },

	{ "role", OPT_ENUM, OFF(role), "standalone", 0, 0, roles, "ROLE",
	  "cluster role: origin takes publishers, edge serves viewers pulling from origins, "
	  "relay pulls from origins and serves edges" },
	{ "origins", OPT_STRING, OFF(origins), NULL, 0, 0, NULL, "HOST[:PORT],...",
	  "the nodes an edge or relay pulls from (origins, or relays), tried in order" },
	{ "cluster-secret", OPT_STRING, OFF(cluster_secret), NULL, 0, 0, NULL, "SECRET",
	  "shared by every node of the cluster; proves membership, never sent" },
	{ "clustering", OPT_BOOL, OFF(clustering), "true", 0, 0, NULL, NULL,
	  "take part in the cluster (role other than standalone)" },
	{ "public-host", OPT_STRING, OFF(public_host), NULL, 0, 0, NULL, "HOST",
	  "host clients are sent to for this node (default: the bind address)" },
	{ "public-rtmp-port", OPT_INT, OFF(public_rtmp_port), "0", 0, 65535, NULL, "PORT",
	  "RTMP port clients are sent to (0: rtmp-port)" },
	{ "public-http-port", OPT_INT, OFF(public_http_port), "0", 0, 65535, NULL, "PORT",
	  "HTTP port clients are sent to (0: http-port)" },
	{ "private", OPT_BOOL, OFF(private_node), "false", 0, 0, NULL, NULL,
	  "never named by /cluster round-robin" },
	{ "publish-only", OPT_BOOL, OFF(publish_only), "false", 0, 0, NULL, NULL,
	  "an origin that serves only cluster pulls, not viewers" },
	{ "retry-interval", OPT_MS, OFF(retry_interval), "1s", 100, 600000, NULL, NULL,
	  "how often an edge retries its upstreams for a stream it lost" },
	{ "upstream-timeout", OPT_MS, OFF(upstream_timeout), "3s", 500, 600000, NULL, NULL,
	  "an upstream that sends nothing for this long is abandoned (frozen peers)" },
	{ "linger", OPT_MS, OFF(linger), "10s", 0, 3600000, NULL, NULL,
	  "viewers of a pulled stream stay connected this long while no upstream has it" },
	{ "pull-idle", OPT_MS, OFF(pull_idle), "3s", 0, 3600000, NULL, NULL,
	  "a pull is dropped this long after its last viewer leaves" },
	{ "max-pulls", OPT_INT, OFF(max_pulls), "1000", 0, 1000000, NULL, NULL,
	  "streams an edge or relay pulls at once; a viewer of one more is told it is not "
	  "found (0: no limit)" },
	{ "pull-rate", OPT_INT, OFF(pull_rate), "20", 0, 100000, NULL, NULL,
	  "new pulls an edge or relay starts a second (a bucket as deep); keep it under the "
	  "origins' conn-rate-per-ip (0: no limit)" },
	{ "pull-miss-hold", OPT_MS, OFF(pull_miss_hold), "1s", 0, 3600000, NULL, NULL,
	  "a stream no upstream has is not pulled again for this long, doubling with each miss "
	  "in a row (0: ask every time)" },
	{ "pull-miss-hold-max", OPT_MS, OFF(pull_miss_hold_max), "30s", 0, 3600000, NULL, NULL,
	  "the longest pull-miss-hold grows to" },
	{ "manager", OPT_STRING, OFF(manager), NULL, 0, 0, NULL, "URL",
	  "stream manager to register with and heartbeat to (http://HOST:PORT)" },
	{ "group", OPT_STRING, OFF(group), NULL, 0, 0, NULL, "NAME",
	  "the manager's node group this node belongs to" },
	{ "hls-segment", OPT_MS, OFF(hls_segment), "2s", 1000, 60000, NULL, NULL,
	  "HLS target segment duration (segments start on keyframes, so a longer GOP makes "
	  "longer segments)" },
	{ "hls-part", OPT_MS, OFF(hls_part), "500ms", 0, 5000, NULL, NULL,
	  "LL-HLS part duration; 0: plain HLS (no parts, preload hints or blocking reloads)" },
	{ "hls-window", OPT_INT, OFF(hls_window), "6", 1, 30, NULL, NULL,
	  "segments an HLS playlist lists (the memory a packaged stream holds)" },
	{ "hls-format", OPT_ENUM, OFF(hls_format), "fmp4", 0, 0, hls_formats, "FORMAT",
	  "HLS segments and parts: fmp4 (CMAF, what Apple's LL-HLS players want) or ts "
	  "(MPEG-TS, for old players)" },
	{ "hls-buffer-max", OPT_BYTES, OFF(hls_buffer_max), "64m", 1048576, 0, NULL, NULL,
	  "most bytes a stream's HLS segments and parts may hold; a segment past a quarter of "
	  "it is cut early (frames dropped until the next keyframe), past it the oldest "
	  "segments go" },
	{ "hls-idle", OPT_MS, OFF(hls_idle), "30s", 1000, 3600000, NULL, NULL,
	  "a stream's HLS packaging stops (its segments are freed) this long after its last "
	  "HLS request" },
	{ "cpu-limit", OPT_INT, OFF(cpu_limit), "75", 1, 100, NULL, NULL,
	  "new publishers and viewers are refused while the machine's CPU load (all cores, "
	  "last second) is at or above this percentage, and routing skips the node; 100: never" },
	{ "memory-limit", OPT_INT, OFF(memory_limit), "75", 1, 100, NULL, NULL,
	  "new publishers and viewers are refused while the machine's memory in use is at or "
	  "above this percentage, and routing skips the node; 100: never" },
	{ "webrtc", OPT_BOOL, OFF(webrtc), "true", 0, 0, NULL, NULL,
	  "WebRTC playback over WHEP (POST /APP/STREAM/whep)" },
	{ "webrtc-port", OPT_INT, OFF(webrtc_port), "0", 0, 65535, NULL, "PORT",
	  "UDP port every WebRTC session shares (ICE, DTLS, SRTP); 0: the number of http-port" },
	{ "webrtc-ports", OPT_STRING, OFF(webrtc_ports), NULL, 0, 0, NULL, "LOW-HIGH",
	  "give each WebRTC session a UDP port of its own from this range instead of the shared "
	  "webrtc-port (for firewalls or balancers that want a port per flow)" },
	{ "webrtc-public-ip", OPT_STRING, OFF(webrtc_public_ip), NULL, 0, 0, NULL, "ADDR",
	  "address put in WebRTC candidates, for a node behind NAT (default: the bind address; "
	  "on a wildcard bind, public-host if it is an address)" },
	{ "webrtc-max-sessions", OPT_INT, OFF(webrtc_max_sessions), "1000", 1, 1000000, NULL, NULL,
	  "WebRTC sessions this node holds at once; more offers are refused (503)" },
	{ "webrtc-max-sessions-per-ip", OPT_INT, OFF(webrtc_max_sessions_per_ip), "50", 0, 1000000,
	  NULL, NULL, "WebRTC sessions one address may hold at once; more are refused (429); "
	  "0: no limit" },
	{ "webrtc-dtls-timeout", OPT_MS, OFF(webrtc_dtls_timeout), "10s", 1000, 600000, NULL, NULL,
	  "time from a WHEP offer to a finished ICE check and DTLS handshake; later, the session "
	  "ends" },
	{ "webrtc-consent-timeout", OPT_MS, OFF(webrtc_consent_timeout), "30s", 1000, 600000, NULL,
	  NULL, "a WebRTC session whose browser sent no ICE consent check for this long ends "
	  "(RFC 7675)" },
	{ "whip-keyframe-interval", OPT_MS, OFF(whip_keyframe_interval), "2s", 0, 60000, NULL, NULL,
	  "a WHIP publisher whose last keyframe is older than this is asked for one (PLI): "
	  "browsers send keyframes only when asked, and HLS segments and new viewers need them; "
	  "0: only at the start and after loss" },
	{ "srt", OPT_BOOL, OFF(srt), "false", 0, 0, NULL, NULL,
	  "listen for SRT callers (publish and play, docs/srt.md) on srt-port" },
	{ "srt-port", OPT_INT, OFF(srt_port), "9710", 1, 65535, NULL, "PORT",
	  "UDP port of the SRT listener" },
	{ "srt-latency", OPT_MS, OFF(srt_latency), "120ms", 20, 10000, NULL, NULL,
	  "SRT latency (SRTO_LATENCY): how long lost packets may be resent for; the higher of "
	  "ours and the caller's applies" },
	{ "srt-passphrase", OPT_STRING, OFF(srt_passphrase), NULL, 0, 0, NULL, "SECRET",
	  "encrypt SRT (AES) with this passphrase, 10-79 characters; callers without it are "
	  "refused" },
	{ "srt-buffer", OPT_BYTES, OFF(srt_buffer), "4m", 65536, 67108864, NULL, NULL,
	  "libsrt's receive and send buffer per SRT connection" },
	{ "srt-viewer-buffer", OPT_BYTES, OFF(srt_viewer_buffer), "2m", 65536, 268435456, NULL,
	  NULL, "MPEG-TS bytes one SRT viewer may have waiting for libsrt's send buffer; past it "
	  "the node stops reading the stream for it (the fan-out's lag rules then apply), past "
	  "twice it the viewer is closed" },
	{ "rtsp-port", OPT_INT, OFF(rtsp_port), "8554", 0, 65535, NULL, "PORT",
	  "TCP port of the RTSP listener (publish and play, docs/rtsp.md); 0: no RTSP" },
	{ "rtsp-udp-port", OPT_INT, OFF(rtsp_udp_port), "8000", 0, 65534, NULL, "PORT",
	  "UDP port RTSP sessions send and receive RTP on (RTCP on the next one), shared by every "
	  "session; 0: RTP interleaved on the RTSP connection only" },
	{ "rtsp-session-timeout", OPT_MS, OFF(rtsp_session_timeout), "60s", 1000, 3600000, NULL,
	  NULL, "an RTSP session that sends nothing (no request, interleaved data or RTCP over UDP) "
	  "for this long ends; players are told it in the Session header" },
	{ "rtsp-max-request", OPT_BYTES, OFF(rtsp_max_request), "8k", 1024, 16384, NULL, NULL,
	  "largest RTSP request line and headers; a larger request is answered 400 and closed" },
	{ "rtsp-viewer-buffer", OPT_BYTES, OFF(rtsp_viewer_buffer), "1m", 65536, 268435456, NULL,
	  NULL, "RTP bytes one RTSP viewer over TCP may have unsent (and the size of its socket's "
	  "send buffer); past it the node stops reading the stream for it, so the fan-out's lag "
	  "rules (skip to a keyframe, drop) apply" },
	/* TLS (docs/security.md#tls) */
	{ "tls-cert", OPT_STRING, OFF(tls_cert), NULL, 0, 0, NULL, "FILE",
	  "PEM certificate (leaf first, then its chain) for HTTPS and RTMPS; with tls-key it "
	  "turns on the https-port and rtmps-port listeners; re-read on SIGHUP (new handshakes "
	  "get the new one, open connections keep theirs)" },
	{ "tls-key", OPT_STRING, OFF(tls_key), NULL, 0, 0, NULL, "FILE",
	  "PEM private key of tls-cert; re-read on SIGHUP" },
	{ "https-port", OPT_INT, OFF(https_port), "5443", 0, 65535, NULL, "PORT",
	  "HTTPS port (everything http-port serves) when tls-cert is set; 0: none" },
	{ "rtmps-port", OPT_INT, OFF(rtmps_port), "1936", 0, 65535, NULL, "PORT",
	  "RTMPS port (RTMP over TLS, publish and play) when tls-cert is set; 0: none" },
	{ "manager-ca-file", OPT_STRING, OFF(manager_ca_file), NULL, 0, 0, NULL, "FILE",
	  "CA certificates (PEM) an https:// manager's certificate must verify against "
	  "(default: the system's); a manager that fails is not talked to" },
	{ "manager-client-cert", OPT_STRING, OFF(manager_client_cert), NULL, 0, 0, NULL, "FILE",
	  "certificate (PEM) this node shows an https:// manager that asks for one" },
	{ "manager-client-key", OPT_STRING, OFF(manager_client_key), NULL, 0, 0, NULL, "FILE",
	  "private key of manager-client-cert" },
	{ "cluster-tls", OPT_BOOL, OFF(cluster_tls), "false", 0, 0, NULL, NULL,
	  "pull from upstreams over RTMPS (origins then name their rtmps-port) with the cluster "
	  "proof bound to the TLS session, so a relayed proof is refused" },
	{ "cluster-ca-file", OPT_STRING, OFF(cluster_ca_file), NULL, 0, 0, NULL, "FILE",
	  "with cluster-tls: CA certificates (PEM) an upstream's certificate must verify against "
	  "(default: the system's)" },
	OPT_END
};
