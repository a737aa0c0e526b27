/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtmp_chunk.h - the RTMP chunk stream: reassembly of incoming chunks into
 * messages, and chunking of outgoing messages.
 *
 * The reader is a pure state machine: bytes in, whole messages out, no I/O.
 * It applies Set Chunk Size and Abort itself (they change how the following
 * bytes parse) and still returns them, so the session can log them.
 *
 * Bounds: a declared message length is never trusted for allocation.  A
 * partial message grows as its bytes arrive; the number of chunk streams,
 * the size of one message and the bytes held in partial messages are all
 * capped by struct rtmp_reader_limits.
 */
#ifndef SLUICE_PROTO_RTMP_CHUNK_H
#define SLUICE_PROTO_RTMP_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "core/rbuf.h"

struct rtmp_msg {
	uint8_t type;
	uint32_t ts;         /* absolute, ms (wraps at 2^32 as the protocol does) */
	uint32_t msid;       /* message stream id */
	uint32_t csid;       /* chunk stream it arrived on */
	struct rbuf *body;   /* owned by whoever received the message; len = length */
};

struct rtmp_reader_limits {
	uint32_t max_chunk_size;     /* largest Set Chunk Size accepted; 0: 0xffffff */
	uint32_t max_message_size;   /* largest message; 0: 8 MiB */
	uint32_t max_chunk_streams;  /* distinct chunk stream ids per connection; 0: 64 */
	uint32_t max_pending_bytes;  /* bytes held in partial messages; 0: 2 x max message */
};

struct rtmp_chunk_stream;

struct rtmp_reader {
	struct rtmp_reader_limits lim;
	uint32_t chunk_size;            /* the peer's current chunk size */
	uint64_t bytes_in;              /* every byte fed, for acknowledgements */
	struct rtmp_chunk_stream *cs;   /* array of known chunk streams */
	uint32_t ncs, cs_cap;
	uint64_t pending_bytes;         /* sum of partial message bytes held */
	uint64_t partial_alloc;         /* bytes allocated for them (grows with what arrives) */
	/* the chunk being read */
	uint8_t hdr[18];
	uint8_t hdr_have;
	uint32_t chunk_left;            /* payload bytes left in the current chunk */
	struct rtmp_chunk_stream *cur;
};

void rtmp_reader_init(struct rtmp_reader *r, const struct rtmp_reader_limits *lim);
void rtmp_reader_free(struct rtmp_reader *r);

/*
 * Consumes bytes from p[0..n) until one message completes or the input runs
 * out.  *used gets the bytes consumed.  Returns 1 with *out filled when a
 * message completed (the caller owns out->body), SL_EAGAIN when all input was
 * consumed without completing one, or an error: SL_EPROTO (malformed: chunk
 * size 0, continuation of an unknown chunk stream), SL_ELIMIT (a limit hit).
 * After an error the reader must not be fed again.
 */
int rtmp_reader_feed(struct rtmp_reader *r, const uint8_t *p, size_t n,
                     size_t *used, struct rtmp_msg *out);

/* Bytes rtmp_chunk_encode() writes for one message. */
size_t rtmp_chunk_encoded_size(uint32_t csid, uint32_t ts, size_t len, uint32_t chunk_size);

/*
 * Writes one message as chunks into dst (rtmp_chunk_encoded_size() bytes):
 * a type-0 header first, so the message depends on no earlier state of the
 * chunk stream and can be shared by every receiver, then type-3 headers.
 * Timestamps >= 0xffffff use the extended field, repeated on every chunk
 * as ffmpeg and librtmp expect.  Returns the bytes written.
 */
size_t rtmp_chunk_encode(uint8_t *dst, uint32_t csid, uint8_t type, uint32_t msid,
                         uint32_t ts, const uint8_t *body, size_t len,
                         uint32_t chunk_size);

/* Appends one chunked message to out. */
void rtmp_chunk_append(struct bytes *out, uint32_t csid, uint8_t type, uint32_t msid,
                       uint32_t ts, const uint8_t *body, size_t len, uint32_t chunk_size);

#endif
