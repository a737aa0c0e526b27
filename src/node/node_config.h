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

	/* RTMP protocol limits */
	int64_t rtmp_chunk_size;        /* what we send with */
	int64_t max_chunk_size;         /* largest the peer may set */
	uint64_t max_message_size;
	int64_t max_chunk_streams;

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

	/* HTTP */
	uint64_t http_max_header;
	uint64_t http_request_timeout;
	int cors;

	/* access */
	char *publish_secret;
	char *play_secret;
	char *api_token;
};

extern const struct option_def node_options[];

#endif
