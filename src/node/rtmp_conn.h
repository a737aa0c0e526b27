/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtmp_conn.h - one RTMP client connection on the node (private to
 * rtmp_conn.c, which does its I/O, and rtmp_commands.c, which answers its
 * commands).
 *
 * Lifetime: the node's list and conn table hold the connection from accept
 * until the socket's close callback, which frees it; nothing frees it while
 * a callback runs on it.  A connection that must go after saying something
 * (an error status, a stream's end) is "finished": its pending writes are
 * flushed, then it closes; a peer that does not read them is closed anyway
 * after a short grace.
 */
#ifndef SLUICE_NODE_RTMP_CONN_H
#define SLUICE_NODE_RTMP_CONN_H

#include "core/bytes.h"
#include "core/conn.h"
#include "core/io_stream.h"
#include "media/fanout.h"
#include "media/stream.h"
#include "node/node.h"
#include "proto/rtmp_chunk.h"
#include "proto/rtmp_handshake.h"

enum rtmp_conn_state {
	RC_HANDSHAKE,    /* RTMP handshake in progress */
	RC_CONNECTING,   /* handshake done, waiting for the connect command */
	RC_READY,        /* connected: may publish or play */
	RC_PUBLISHING,
	RC_PLAYING,
	RC_FINISHING,    /* flushing its last words */
	RC_CLOSED,
};

struct rtmp_conn {
	struct conn base;
	struct node *node;
	struct io_stream io;              /* its socket: RTMP plain, RTMPS over TLS */
	struct list_node link;            /* node->rtmp_conns */
	enum rtmp_conn_state state;
	uint64_t state_since_ms;
	uint64_t last_rx_ms;
	uint64_t last_media_ms;

	struct rtmp_hs *hs;               /* only during the handshake */
	struct rtmp_reader reader;
	uint32_t peer_window;             /* ack window the peer asked for; 0: none */
	uint64_t acked_bytes;             /* bytes_in at our last acknowledgement */
	uint32_t next_stream_id;
	unsigned ignored_types_logged;    /* bit per reason, to log each once */

	char app[STREAM_NAME_MAX + 1];
	char app_token[160];              /* token given as connect's app?token= */
	char stream_name[STREAM_NAME_MAX + 1];

	struct stream *pub;               /* the stream this connection publishes (registry's) */
	struct stream *play;              /* the stream it plays (a reference held) */
	uint32_t play_msid;
	/* another node of the cluster (cluster_auth.h) */
	char cluster_nonce[33];          /* ours, until it answers; spent on the first answer */
	char cluster_name[129];          /* the name it gave in connect */
	char cluster_via[512];           /* the nodes its request came through (itself last) */
	uint8_t cluster_asked;           /* connect said it is a cluster node */
	uint8_t cluster_peer;            /* it proved it holds the secret */
	uint8_t cluster_control;         /* its membership/event link */
	struct fanout_viewer viewer;

	/* Its share of the node's limits (node.h): charged here, given back when it goes. */
	char ipkey[IPLIMIT_KEY_MAX];      /* its address (IPv6: the /64) */
	uint64_t partial_charged;         /* reader.partial_alloc as last charged */
	uint8_t counts_as_publisher;      /* in node->publishers and publishers_by_ip */
	struct token_bucket commands;     /* rtmp-command-rate */

	unsigned writes_pending;
	uint64_t write_bytes_pending;
	uv_shutdown_t shutdown_req;
};

/* Queues bytes to the peer (takes ownership of the contents of *b, leaving it empty). */
void rtmp_conn_send(struct rtmp_conn *c, struct bytes *b);
/* Flushes what is queued, then closes; reason is logged. */
void rtmp_conn_finish(struct rtmp_conn *c, const char *reason);
/* Closes now. */
void rtmp_conn_close(struct rtmp_conn *c, const char *reason);
void rtmp_conn_set_state(struct rtmp_conn *c, enum rtmp_conn_state st);

/* Handles one complete message from the peer (rtmp_commands.c). Returns 0 or a negative
 * error that closes the connection. Takes ownership of msg->body. */
int rtmp_conn_dispatch(struct rtmp_conn *c, struct rtmp_msg *msg);
/*
 * Charges what the reader now holds in partial messages to the node and the
 * connection's address; 0, or SL_ELIMIT when that goes over partial-bytes-max
 * or partial-bytes-per-ip (the caller closes the connection).
 */
int rtmp_conn_charge_partial(struct rtmp_conn *c);
/* Tears down publishing/playing state (called before the connection goes). */
void rtmp_conn_leave(struct rtmp_conn *c);

#endif
