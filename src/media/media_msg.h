/* SPDX-License-Identifier: Apache-2.0 */
/*
 * media_msg.h - one message of a live stream (audio, video or script data),
 * shared by reference by every viewer that sends it.
 *
 * The body is the FLV/RTMP tag body as the publisher sent it.  Each wire
 * format's bytes (RTMP chunks, HTTP-FLV chunked tag) are built the first time
 * a viewer of that format needs them and then shared: packaging happens once
 * per message and format, never per viewer.
 */
#ifndef SLUICE_MEDIA_MEDIA_MSG_H
#define SLUICE_MEDIA_MEDIA_MSG_H

#include <stdint.h>

#include "core/rbuf.h"

enum wire_format {
	WIRE_RTMP,
	WIRE_FLV,      /* HTTP-FLV: FLV tag inside one HTTP chunk */
	WIRE_COUNT,
};

enum {
	MSG_KEYFRAME = 1,     /* a video keyframe (or any audio frame of an audio-only stream) */
	MSG_SEQ_HEADER = 2,   /* decoder configuration */
	MSG_METADATA = 4,     /* onMetaData */
};

struct media_msg {
	uint32_t refs;
	uint8_t type;                  /* RTMP message type: 8, 9 or 18 */
	uint8_t flags;
	uint32_t ts;                   /* ms on the stream's timeline */
	uint64_t seq;                  /* position in the stream's log */
	uint64_t arrival_ms;           /* loop time it arrived */
	struct rbuf *body;
	struct rbuf *wire[WIRE_COUNT]; /* built on first use */
	uint64_t *charge;              /* while in a stream's log: its byte count (see below) */
};

/*
 * What a message really costs the node, charged to the log that holds it:
 * its blocks (message, body, each packaged wire copy, with the allocator's
 * header on each) and two ring slots (the ring doubles).  A wire copy built
 * while the message is in a log is added to *charge when it is built, so a
 * stream of one-byte messages is charged ~100 bytes each, not one.
 */
#define MEDIA_ALLOC_OVERHEAD 16        /* what malloc adds to each block, about */
#define MEDIA_MSG_FIXED_COST (sizeof(struct media_msg) + sizeof(struct rbuf) + \
                              2 * MEDIA_ALLOC_OVERHEAD + 2 * sizeof(void *))
#define MEDIA_WIRE_COST(w) (sizeof(struct rbuf) + MEDIA_ALLOC_OVERHEAD + (w)->cap)

static inline uint64_t media_msg_cost(const struct media_msg *m)
{
	uint64_t c = MEDIA_MSG_FIXED_COST + m->body->cap;
	for (int i = 0; i < WIRE_COUNT; i++)
		if (m->wire[i])
			c += MEDIA_WIRE_COST(m->wire[i]);
	return c;
}

/* Sets the chunk size RTMP packaging uses (the size every viewer was told). */
void media_set_rtmp_chunk_size(uint32_t size);
uint32_t media_rtmp_chunk_size(void);

/* A new message holding body (takes the caller's reference); one reference. */
struct media_msg *media_msg_new(uint8_t type, uint32_t ts, struct rbuf *body);
/* A copy sharing m's body but stamped with another timestamp. */
struct media_msg *media_msg_restamp(const struct media_msg *m, uint32_t ts);

static inline struct media_msg *media_msg_ref(struct media_msg *m)
{
	m->refs++;
	return m;
}

void media_msg_unref(struct media_msg *m);

/* The message packaged for format f (built now if needed). */
const struct rbuf *media_msg_wire(struct media_msg *m, enum wire_format f);

/* Bytes that start every HTTP-FLV response body: the FLV header as one chunk. */
extern const uint8_t media_flv_preamble[];
extern const size_t media_flv_preamble_len;

#endif
