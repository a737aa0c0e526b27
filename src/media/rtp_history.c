/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtp_history.c - a ring of shared RTP packets indexed by seq & mask.
 *
 * The ring has a power-of-two number of slots, a divisor of 65536, so
 * seq & mask keeps naming the same slot across the 16-bit wrap.  Each slot
 * remembers the full sequence number of its packet; the live window is
 * [oldest, newest] in sequence space.  A put moves newest forward, evicting
 * whatever the window leaves behind and then, while over the byte bound,
 * the oldest packets.  Work per put is bounded by the number of slots it
 * skips, amortised O(1) for a steady stream.
 */
#include "media/rtp_history.h"

#include <stdlib.h>

#include "core/mem.h"
#include "core/rbuf.h"
#include "proto/rtp.h"

struct slot {
	struct rbuf *pkt;        /* one reference, or NULL */
	uint16_t seq;
};

struct rtp_history {
	struct slot *slots;
	size_t mask;             /* slots - 1 */
	size_t max_bytes;
	size_t count, bytes;
	uint16_t oldest, newest; /* meaningful when count > 0 */
};

static void clear_slot(struct rtp_history *h, struct slot *s)
{
	if (!s->pkt)
		return;
	h->count--;
	h->bytes -= s->pkt->len;
	rbuf_unref(s->pkt);
	s->pkt = NULL;
}

static void clear_all(struct rtp_history *h)
{
	for (size_t i = 0; i <= h->mask; i++)
		clear_slot(h, &h->slots[i]);
}

struct rtp_history *rtp_history_new(size_t max_packets, size_t max_bytes)
{
	if (max_packets == 0)
		max_packets = RTP_HISTORY_DEFAULT_PACKETS;
	if (max_packets > RTP_HISTORY_MAX_PACKETS)
		max_packets = RTP_HISTORY_MAX_PACKETS;
	size_t slots = 1;
	while (slots < max_packets)
		slots <<= 1;
	struct rtp_history *h = xcalloc(1, sizeof(*h));
	h->slots = xcalloc(slots, sizeof(*h->slots));
	h->mask = slots - 1;
	h->max_bytes = max_bytes ? max_bytes : RTP_HISTORY_DEFAULT_BYTES;
	return h;
}

void rtp_history_free(struct rtp_history *h)
{
	if (!h)
		return;
	clear_all(h);
	free(h->slots);
	free(h);
}

/* Moves oldest forward past empty slots (the window must hold a packet). */
static void advance_oldest(struct rtp_history *h)
{
	while (h->count > 0) {
		struct slot *s = &h->slots[h->oldest & h->mask];
		if (s->pkt && s->seq == h->oldest)
			return;
		h->oldest++;
	}
}

void rtp_history_put(struct rtp_history *h, uint16_t seq, struct rbuf *pkt)
{
	if (h->count > 0) {
		int ahead = rtp_seq_diff(seq, h->newest);
		if (ahead <= 0 || (size_t)ahead > h->mask) {
			/* Backwards (a restart) or a jump past the whole ring: nothing kept is useful. */
			clear_all(h);
		} else {
			/* Slots between newest and seq hold packets a ring-length older: evict. */
			for (uint16_t s = (uint16_t)(h->newest + 1); s != (uint16_t)(seq + 1); s++)
				clear_slot(h, &h->slots[s & h->mask]);
		}
	}
	if (pkt->len > h->max_bytes)
		return;
	if (h->count == 0)
		h->oldest = seq;
	h->newest = seq;
	struct slot *sl = &h->slots[seq & h->mask];
	sl->pkt = rbuf_ref(pkt);
	sl->seq = seq;
	h->count++;
	h->bytes += pkt->len;
	advance_oldest(h);
	while (h->bytes > h->max_bytes) {
		clear_slot(h, &h->slots[h->oldest & h->mask]);
		advance_oldest(h);
	}
}

struct rbuf *rtp_history_get(const struct rtp_history *h, uint16_t seq)
{
	const struct slot *s = &h->slots[seq & h->mask];
	return s->pkt && s->seq == seq ? s->pkt : NULL;
}

size_t rtp_history_count(const struct rtp_history *h)
{
	return h->count;
}

size_t rtp_history_bytes(const struct rtp_history *h)
{
	return h->bytes;
}
