/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtp_history.h - the last RTP packets a stream sent, by sequence number,
 * for answering NACKs (RFC 4585) with retransmissions.
 *
 * Packets are the shared ones (struct rbuf, each one whole RTP packet, the
 * same block every viewer sends), so the history costs a pointer per
 * packet, not a copy.  It is bounded both by packet count and by bytes;
 * the oldest packets go first.  Sequence numbers wrap at 65536; lookups
 * compare the full 16-bit number, so a stale slot never answers for a
 * newer packet.  Single-threaded, like the loop.
 */
#ifndef SLUICE_MEDIA_RTP_HISTORY_H
#define SLUICE_MEDIA_RTP_HISTORY_H

#include <stddef.h>
#include <stdint.h>

struct rbuf;
struct rtp_history;

/* About 2 s of 4 Mbit/s video in 1200-byte packets: longer than any useful NACK round trip. */
#define RTP_HISTORY_DEFAULT_PACKETS 1024
#define RTP_HISTORY_DEFAULT_BYTES (2u * 1024 * 1024)
/* Half the sequence space: beyond it "older" and "newer" stop meaning anything. */
#define RTP_HISTORY_MAX_PACKETS 32768

/*
 * A history of at most max_packets packets (rounded up to a power of two,
 * at most RTP_HISTORY_MAX_PACKETS; 0 means the default) and max_bytes bytes
 * of packets (0 means the default).
 */
struct rtp_history *rtp_history_new(size_t max_packets, size_t max_bytes);
/* Drops every reference the history holds. NULL is fine. */
void rtp_history_free(struct rtp_history *h);

/*
 * Records pkt as sequence number seq, taking a reference of its own (the
 * caller keeps its reference).  seq should be newer than every recorded one;
 * an equal or older seq (a sender restart) is accepted by clearing the
 * history first.  A packet over max_bytes on its own is not kept.  Evicts
 * the oldest packets past either bound.
 */
void rtp_history_put(struct rtp_history *h, uint16_t seq, struct rbuf *pkt);

/* The packet recorded as seq, borrowed (valid until the next put or free), or NULL. */
struct rbuf *rtp_history_get(const struct rtp_history *h, uint16_t seq);

/* Packets and bytes held now. */
size_t rtp_history_count(const struct rtp_history *h);
size_t rtp_history_bytes(const struct rtp_history *h);

#endif
