/* SPDX-License-Identifier: Apache-2.0 */
/*
 * flv_tap.h - a fan-out viewer whose FLV tags come back to us as calls, for
 * protocols that repackage each message per viewer (RTSP's RTP).
 *
 * The fan-out writes to a uv stream; a tap gives it one end of a socketpair
 * (HTTP-FLV wire format) and reads the other, handing every tag to a
 * callback.  So the fan-out's rules apply unchanged (start on the cached
 * GOP, skip to a keyframe past lag-skip, drop past lag-drop), and when the
 * owner cannot send (its socket is full) it pauses the tap: the backlog then
 * builds in the fan-out's accounting like any slow viewer's.
 */
#ifndef SLUICE_NODE_FLV_TAP_H
#define SLUICE_NODE_FLV_TAP_H

#include <stdint.h>
#include <uv.h>

#include "core/bytes.h"
#include "core/io_stream.h"
#include "media/fanout.h"
#include "media/stream.h"

#define FLV_TAP_READ_CHUNK (64u * 1024)

/* One FLV tag: type 8 (audio), 9 (video) or 18 (data), its timestamp and body. */
typedef void (*flv_tap_tag_cb)(void *arg, uint8_t type, uint32_t ts, const uint8_t *body,
                               size_t len);
/* The pipe failed or carried what the fan-out never writes: the owner closes. */
typedef void (*flv_tap_fail_cb)(void *arg, const char *reason);

struct flv_tap {
	struct fanout_viewer v;
	struct io_stream pipe_w;      /* the fan-out's side (io_stream.h: never TLS) */
	uv_pipe_t pipe_r;
	int pipes_open;
	int reading, closing;
	struct bytes buf;              /* wire bytes read, not yet whole tags */
	uint64_t fanout_bytes;         /* what the fan-out wrote for us */
	flv_tap_tag_cb on_tag;
	flv_tap_fail_cb on_fail;
	void *arg;
	void (*done)(void *arg);
};

/*
 * Starts a viewer of s (the caller holds a stream reference meanwhile);
 * ops/owner are the fan-out viewer's (drop, end).  0, or -1 (no socketpair).
 */
int flv_tap_start(struct flv_tap *t, struct stream *s, const struct fanout_viewer_ops *ops,
                  void *owner, flv_tap_tag_cb on_tag, flv_tap_fail_cb on_fail, void *arg);
/* Stops or resumes reading (backpressure from the owner's socket). */
void flv_tap_read(struct flv_tap *t, int on);
/* Detaches from the fan-out and closes the pipes; done(arg) once they are closed
 * (at once when the tap never started: a zeroed tap may be closed). */
void flv_tap_close(struct flv_tap *t, void (*done)(void *arg), void *arg);

#endif
