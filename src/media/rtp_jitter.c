/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtp_jitter.c - the receive reorder buffer (see rtp_jitter.h).
 *
 * Slots are indexed by sequence number modulo the capacity.  Every used
 * slot lies in [next, next + cap): the delivery point only moves forward,
 * clearing what it passes, so a slot never holds a stale lap's packet.
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"
#include "media/rtp_jitter.h"

static int seq_diff(uint16_t a, uint16_t b)
{
	return (int16_t)(uint16_t)(a - b);
}

void rtp_jitter_init(struct rtp_jitter *j, size_t max_packets, uint64_t max_delay_ms)
{
	memset(j, 0, sizeof(*j));
	if (max_packets == 0)
		max_packets = RTP_JITTER_DEFAULT_PACKETS;
	if (max_packets > RTP_JITTER_MAX_PACKETS)
		max_packets = RTP_JITTER_MAX_PACKETS;
	size_t cap = 16;
	while (cap < max_packets)
		cap <<= 1;
	j->cap = cap;
	j->slot = xcalloc(cap, sizeof(*j->slot));
	j->max_delay_ms = max_delay_ms ? max_delay_ms : RTP_JITTER_DEFAULT_DELAY_MS;
}

static void clear_slot(struct rtp_jitter *j, struct rtp_jitter_slot *s)
{
	if (s->used) {
		free(s->payload);
		j->held--;
	}
	memset(s, 0, sizeof(*s));
}

static void clear_all(struct rtp_jitter *j)
{
	for (size_t i = 0; i < j->cap; i++)
		clear_slot(j, &j->slot[i]);
	j->started = 0;
}

void rtp_jitter_free(struct rtp_jitter *j)
{
	if (!j->slot)
		return;
	clear_all(j);
	free(j->slot);
	j->slot = NULL;
}

static struct rtp_jitter_slot *at(struct rtp_jitter *j, uint16_t seq)
{
	return &j->slot[seq & (j->cap - 1)];
}

int rtp_jitter_push(struct rtp_jitter *j, uint16_t seq, uint32_t ts, int marker,
                    const uint8_t *payload, size_t len, uint64_t now_ms)
{
	if (len > RTP_JITTER_MAX_PAYLOAD) {
		j->refused++;
		return SL_ELIMIT;
	}
	if (j->started) {
		int d = seq_diff(seq, j->next);
		if (d < -RTP_JITTER_RESET_DISTANCE || d > RTP_JITTER_RESET_DISTANCE) {
			/* The sender restarted its numbering (or jumped): start over from here. */
			clear_all(j);
			j->resets++;
		} else if (d < 0) {
			j->late++;
			return 1;
		}
	}
	if (!j->started) {
		j->started = 1;
		j->next = seq;
		j->highest = seq;
	}
	/* Too far ahead for the window: what the window's start holds is given up. */
	while (seq_diff(seq, j->next) >= (int)j->cap) {
		struct rtp_jitter_slot *s = at(j, j->next);
		j->lost++; /* missing, or held but never to be handed out: lost either way */
		clear_slot(j, s);
		j->next++;
	}
	struct rtp_jitter_slot *s = at(j, seq);
	if (s->used) {
		j->duplicates++;
		return 1;
	}
	int dh = seq_diff(seq, j->highest);
	if (dh > 0) {
		/* The numbers skipped are newly missing: no NACK history from an earlier lap. */
		for (uint16_t k = (uint16_t)(j->highest + 1); k != seq; k++) {
			struct rtp_jitter_slot *m = at(j, k);
			m->nacks = 0;
			m->nack_ms = 0;
		}
		j->highest = seq;
	} else if (dh < 0) {
		j->reordered++;
	}
	s->used = 1;
	s->seq = seq;
	s->ts = ts;
	s->marker = (uint8_t)(marker != 0);
	s->arrived_ms = now_ms;
	s->len = len;
	s->payload = xmalloc(len ? len : 1);
	if (len)
		memcpy(s->payload, payload, len);
	j->held++;
	j->received++;
	return 0;
}

static void hand_out(struct rtp_jitter *j, struct rtp_jitter_slot *s, struct rtp_jitter_pkt *out)
{
	out->seq = s->seq;
	out->ts = s->ts;
	out->marker = s->marker;
	out->payload = s->payload;
	out->len = s->len;
	s->payload = NULL;
	s->used = 0;
	j->held--;
	memset(s, 0, sizeof(*s));
	j->next++;
	j->delivered++;
}

int rtp_jitter_pop(struct rtp_jitter *j, uint64_t now_ms, struct rtp_jitter_pkt *out,
                   unsigned *lost)
{
	if (!j->started || j->held == 0)
		return 0;
	struct rtp_jitter_slot *s = at(j, j->next);
	if (s->used && s->seq == j->next) {
		hand_out(j, s, out);
		return 1;
	}
	/* A gap: the first packet held after it says how long it has been waited for. */
	int span = seq_diff(j->highest, j->next);
	for (int k = 1; k <= span; k++) {
		uint16_t seq = (uint16_t)(j->next + k);
		struct rtp_jitter_slot *t = at(j, seq);
		if (!t->used)
			continue;
		if (now_ms - t->arrived_ms < j->max_delay_ms && j->held < j->cap)
			return 0;
		/* Given up: the numbers before it are lost. */
		for (int g = 0; g < k; g++)
			clear_slot(j, at(j, (uint16_t)(j->next + g)));
		j->lost += (uint64_t)k;
		if (lost)
			*lost += (unsigned)k;
		j->next = seq;
		hand_out(j, t, out);
		return 1;
	}
	return 0;
}

size_t rtp_jitter_missing(struct rtp_jitter *j, uint64_t now_ms, uint16_t *seqs, size_t max)
{
	size_t n = 0;
	if (!j->started)
		return 0;
	int span = seq_diff(j->highest, j->next);
	for (int k = 0; k < span && n < max; k++) {
		uint16_t seq = (uint16_t)(j->next + k);
		struct rtp_jitter_slot *s = at(j, seq);
		if (s->used || s->nacks >= RTP_JITTER_MAX_NACKS)
			continue;
		if (s->nacks && now_ms - s->nack_ms < RTP_JITTER_NACK_RETRY_MS)
			continue;
		s->nacks++;
		s->nack_ms = now_ms;
		seqs[n++] = seq;
	}
	return n;
}
