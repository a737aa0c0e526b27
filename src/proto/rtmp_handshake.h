/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtmp_handshake.h - the RTMP handshake, server and client side.
 *
 * Server: accepts both the simple handshake (C1 echoed in S2) and the
 * "complex" digest handshake that Flash-era clients (librtmp, OBS, ffmpeg)
 * send; when C1 carries a valid client digest, S1 and S2 carry the digests
 * those clients verify.  Client: sends a simple handshake, which every
 * server we pull from (sluice, nginx-rtmp, SRS) accepts.
 *
 * Bytes in, bytes to send out; no I/O, so it can be fuzzed.
 */
#ifndef SLUICE_PROTO_RTMP_HANDSHAKE_H
#define SLUICE_PROTO_RTMP_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"

#define RTMP_HS_SIZE 1536

enum rtmp_hs_state {
	RTMP_HS_SERVER_WAIT_C0C1,
	RTMP_HS_SERVER_WAIT_C2,
	RTMP_HS_CLIENT_WAIT_S0S1S2,
	RTMP_HS_DONE,
	RTMP_HS_FAILED,                   /* a feed returned an error; it returns it again */
};

struct rtmp_hs {
	enum rtmp_hs_state state;
	size_t have;                      /* bytes collected toward the current step */
	uint8_t buf[1 + 2 * RTMP_HS_SIZE];
	uint8_t c1[RTMP_HS_SIZE];         /* client: the C1 we sent */
	int complex;                      /* server: client used the digest scheme */
	int err;                          /* the error, once state is RTMP_HS_FAILED */
};

/* Starts a server-side handshake. */
void rtmp_hs_server_init(struct rtmp_hs *hs);

/* Starts a client-side handshake and appends C0 and C1 to out. */
void rtmp_hs_client_init(struct rtmp_hs *hs, struct bytes *out);

/*
 * Feeds bytes from the peer.  *used gets how many of them the handshake
 * consumed (the rest already belong to the chunk stream).  Bytes to send
 * (S0S1S2 for a server, C2 for a client) are appended to out.
 * Returns SL_EAGAIN while more is needed, 0 once the handshake is done,
 * SL_EPROTO for a bad version byte (only 3 is accepted; 6, encrypted RTMPE,
 * is refused as SL_EUNSUPP).  The version byte is checked as soon as it
 * arrives, and *used then counts up to it.  After an error every later call returns the same error; after
 * 0, a later call returns SL_EINVAL: 0 is returned exactly once.  *used is
 * always set and never more than n.
 */
int rtmp_hs_feed(struct rtmp_hs *hs, const uint8_t *p, size_t n, size_t *used,
                 struct bytes *out);

#endif
