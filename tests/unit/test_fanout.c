/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_fanout.c - the fan-out buffer over a real socket pair: what a joining viewer is
 * sent and in what order, HTTP-FLV framing, skipping a lagging viewer to the newest
 * keyframe, dropping a stuck one, and the log's bounds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "core/err.h"
#include "media/fanout.h"
#include "proto/rtmp_chunk.h"

struct rig {
	uv_loop_t loop;
	struct io_stream pipe_io;  /* the server side a viewer writes to */
	int peer;                  /* the client side, read directly */
	struct fanout f;
	struct fanout_config cfg;
	struct fanout_viewer v;
	uint64_t bytes_out;
	int drops, ends;
	char reason[64];
};

static void on_drop(struct fanout_viewer *v, const char *reason)
{
	struct rig *r = v->owner;
	r->drops++;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	fanout_viewer_stop(v);
}

static void on_end(struct fanout_viewer *v)
{
	struct rig *r = v->owner;
	r->ends++;
	fanout_viewer_stop(v);
}

static const struct fanout_viewer_ops ops = { on_drop, on_end };

static void rig_init(struct rig *r, int sndbuf)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(uv_loop_init(&r->loop), 0);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (sndbuf) {
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof(sndbuf));
	}
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	uv_pipe_init(&r->loop, &r->pipe_io.u.pipe, 0);
	assert_int_equal(uv_pipe_open(&r->pipe_io.u.pipe, sv[0]), 0);
	r->peer = sv[1];
	r->cfg = (struct fanout_config){ .lag_skip_ms = 1000, .lag_drop_ms = 5000,
	                                 .send_timeout_ms = 5000, .max_bytes = 1u << 20,
	                                 .batch_bytes = 1u << 20, .gop_cache = 1 };
	fanout_init(&r->f, &r->loop, &r->cfg);
}

static void rig_free(struct rig *r)
{
	fanout_viewer_stop(&r->v);
	uv_close((uv_handle_t *)&r->pipe_io.u.pipe, NULL);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	fanout_free(&r->f);
	close(r->peer);
	assert_int_equal(uv_loop_close(&r->loop), 0);
}

static struct media_msg *msg(uint8_t type, uint32_t ts, uint8_t flags, size_t len, uint8_t fill)
{
	struct rbuf *b = rbuf_new(len);
	memset(b->data, fill, len);
	if (type == 9 && len >= 2) { /* a plausible FLV video tag header */
		b->data[0] = (flags & MSG_KEYFRAME) ? 0x17 : 0x27;
		b->data[1] = (flags & MSG_SEQ_HEADER) ? 0 : 1;
	}
	b->len = (uint32_t)len;
	struct media_msg *m = media_msg_new(type, ts, b);
	m->flags = flags;
	return m;
}

/* Reads whatever the viewer was sent and decodes it as RTMP messages. */
static int read_msgs(struct rig *r, struct rtmp_reader *rd, struct rtmp_msg *out, int max)
{
	uint8_t buf[65536];
	int n = 0;
	for (;;) {
		ssize_t got = read(r->peer, buf, sizeof(buf));
		if (got <= 0)
			break;
		size_t off = 0;
		while (off < (size_t)got) {
			size_t used;
			assert_true(n < max);
			int rc = rtmp_reader_feed(rd, buf + off, (size_t)got - off, &used, &out[n]);
			off += used;
			if (rc == SL_EAGAIN)
				break;
			assert_int_equal(rc, 1);
			n++;
		}
	}
	return n;
}

/* Reads what viewers are sent: at the node's chunk size, which a real viewer is told at
 * connect. */
static void viewer_reader(struct rtmp_reader *rd)
{
	rtmp_reader_init(rd, NULL);
	rd->chunk_size = media_rtmp_chunk_size();
}

static void free_msgs(struct rtmp_msg *m, int n)
{
	for (int i = 0; i < n; i++)
		rbuf_unref(m[i].body);
}

static void set_headers(struct rig *r)
{
	fanout_set_header(&r->f, FANOUT_HDR_METADATA, msg(18, 0, MSG_METADATA, 20, 'm'));
	fanout_set_header(&r->f, FANOUT_HDR_VIDEO, msg(9, 0, MSG_SEQ_HEADER | MSG_KEYFRAME, 30, 'v'));
	fanout_set_header(&r->f, FANOUT_HDR_AUDIO, msg(8, 0, MSG_SEQ_HEADER, 4, 'a'));
}

static void test_join_gets_headers_then_gop(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 0);
	set_headers(&r);
	fanout_append(&r.f, msg(9, 500, 0, 100, 1));             /* before the GOP */
	fanout_append(&r.f, msg(9, 1000, MSG_KEYFRAME, 5000, 2));
	fanout_append(&r.f, msg(8, 1010, 0, 200, 3));
	fanout_append(&r.f, msg(9, 1040, 0, 300, 4));
	fanout_viewer_start(&r.f, &r.v, &r.pipe_io, WIRE_RTMP, &ops, &r, &r.bytes_out);

	struct rtmp_reader rd;
	viewer_reader(&rd);
	struct rtmp_msg m[16];
	int n = read_msgs(&r, &rd, m, 16);
	assert_int_equal(n, 6);
	static const uint8_t types[] = { 18, 9, 8, 9, 8, 9 };
	static const uint32_t stamps[] = { 1000, 1000, 1000, 1000, 1010, 1040 };
	for (int i = 0; i < 6; i++) {
		assert_int_equal(m[i].type, types[i]);
		assert_int_equal(m[i].ts, stamps[i]); /* headers restamped to the keyframe */
		assert_int_equal(m[i].msid, 1);
	}
	assert_int_equal(m[3].body->len, 5000);
	assert_int_equal(m[3].body->data[0], 0x17);
	assert_int_equal(r.bytes_out, rd.bytes_in);
	free_msgs(m, n);

	/* Live from here: one message, sent as it arrives. */
	fanout_append(&r.f, msg(8, 1050, 0, 64, 5));
	n = read_msgs(&r, &rd, m, 16);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].ts, 1050);
	free_msgs(m, n);
	assert_int_equal(r.f.nviewers[WIRE_RTMP], 1);
	rtmp_reader_free(&rd);
	rig_free(&r);
}

/* A GOP cached long ago is what a joining viewer asked for: it is sent whole, not skipped. */
static void test_join_on_old_gop_is_not_lag(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 0);
	r.cfg.lag_skip_ms = 50;
	set_headers(&r);
	fanout_append(&r.f, msg(9, 0, MSG_KEYFRAME, 500, 1));
	fanout_append(&r.f, msg(9, 40, 0, 100, 2));
	usleep(120 * 1000); /* the GOP is now older than the skip threshold */
	uv_update_time(&r.loop);
	fanout_append(&r.f, msg(9, 80, 0, 100, 3));
	fanout_viewer_start(&r.f, &r.v, &r.pipe_io, WIRE_RTMP, &ops, &r, &r.bytes_out);

	struct rtmp_reader rd;
	viewer_reader(&rd);
	struct rtmp_msg m[16];
	int n = read_msgs(&r, &rd, m, 16);
	assert_int_equal(n, 6); /* three headers, then keyframe, 40, 80 */
	assert_int_equal(m[3].ts, 0);
	assert_int_equal(m[3].body->data[0], 0x17);
	assert_int_equal(m[5].ts, 80);
	assert_int_equal(r.v.skips, 0);
	assert_int_equal(r.v.lag_base_ms, 0); /* caught up: lag counts from here */
	free_msgs(m, n);
	rtmp_reader_free(&rd);
	rig_free(&r);
}

/* With a flusher, what arrives in one loop turn goes out in one write at the turn's end;
 * with a merge window, only when the window closes. */
static void test_flusher_batches_per_turn_and_window(void **state)
{
	(void)state;
	for (int mode = 0; mode < 3; mode++) {
		int merge = mode == 2;
		struct rig r;
		rig_init(&r, 0);
		r.cfg.merge_ms = merge ? 40 : 0;
		r.cfg.batch_sends = mode == 1;
		struct fanout_flusher fl;
		fanout_flusher_init(&fl, &r.loop, &r.cfg);
		fanout_set_flusher(&r.f, &fl);
		fanout_append(&r.f, msg(9, 0, MSG_KEYFRAME, 100, 1));
		fanout_viewer_start(&r.f, &r.v, &r.pipe_io, WIRE_RTMP, &ops, &r,
		                    &r.bytes_out);
		struct rtmp_reader rd;
		viewer_reader(&rd);
		struct rtmp_msg m[16];
		int n = read_msgs(&r, &rd, m, 16); /* joining sends at once */
		assert_int_equal(n, 1);
		free_msgs(m, n);
		uint64_t before = r.bytes_out;
		fanout_append(&r.f, msg(8, 10, 0, 50, 2));
		fanout_append(&r.f, msg(9, 40, 0, 60, 3));
		fanout_append(&r.f, msg(8, 33, 0, 70, 4));
		assert_int_equal(r.bytes_out, before); /* nothing yet */
		assert_int_equal(read_msgs(&r, &rd, m, 16), 0);
		uv_run(&r.loop, UV_RUN_NOWAIT);
		if (merge) {
			assert_int_equal(r.bytes_out, before); /* the window is still open */
			usleep(60 * 1000);
			uv_run(&r.loop, UV_RUN_NOWAIT);
		}
		n = read_msgs(&r, &rd, m, 16);
		assert_int_equal(n, 3);
		assert_int_equal(m[0].ts, 10);
		assert_int_equal(m[2].ts, 33);
		free_msgs(m, n);
		rtmp_reader_free(&rd);
		fanout_viewer_stop(&r.v);
		fanout_flusher_close(&fl);
		rig_free(&r);
	}
}

static void test_flv_framing(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 0);
	fanout_append(&r.f, msg(9, 0x01020304, MSG_KEYFRAME, 10, 7));
	fanout_viewer_start(&r.f, &r.v, &r.pipe_io, WIRE_FLV, &ops, &r, &r.bytes_out);
	uint8_t buf[256];
	ssize_t n = read(r.peer, buf, sizeof(buf));
	/* chunk 1: the FLV header; chunk 2: one tag (11 + 10 + 4 = 25 = 0x19 bytes) */
	static const uint8_t want[] = {
		'd', '\r', '\n', 'F', 'L', 'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0, '\r', '\n',
		'1', '9', '\r', '\n', 9, 0, 0, 10, 0x02, 0x03, 0x04, 0x01, 0, 0, 0,
	};
	assert_true(n == (ssize_t)(sizeof(want) + 10 + 4 + 2));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(buf[sizeof(want)], 0x17);
	const uint8_t *trailer = buf + sizeof(want) + 10;
	assert_int_equal(rd_u32be(trailer), 21);
	assert_memory_equal(trailer + 4, "\r\n", 2);
	rig_free(&r);
}

static void test_viewer_waits_for_keyframe_without_gop(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 0);
	r.cfg.gop_cache = 0;
	fanout_append(&r.f, msg(9, 0, MSG_KEYFRAME, 50, 1));
	fanout_append(&r.f, msg(9, 40, 0, 50, 2));
	fanout_viewer_start(&r.f, &r.v, &r.pipe_io, WIRE_RTMP, &ops, &r, &r.bytes_out);
	fanout_append(&r.f, msg(9, 80, 0, 50, 3));           /* not a place to start */
	fanout_append(&r.f, msg(9, 120, MSG_KEYFRAME, 50, 4));
	struct rtmp_reader rd;
	viewer_reader(&rd);
	struct rtmp_msg m[8];
	int n = read_msgs(&r, &rd, m, 8);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].ts, 120);
	free_msgs(m, n);
	rtmp_reader_free(&rd);
	rig_free(&r);
}

/* Fills the viewer's socket until a write is left to libuv. */
static uint32_t fill_until_blocked(struct rig *r, uint32_t ts)
{
	for (int i = 0; i < 10000 && !r->v.writing; i++)
		fanout_append(&r->f, msg(9, ts += 40, 0, 4000, 9));
	assert_true(r->v.writing);
	return ts;
}

static void drain(struct rig *r)
{
	uint8_t buf[65536];
	for (int i = 0; i < 200; i++) {
		while (read(r->peer, buf, sizeof(buf)) > 0)
			;
		uv_run(&r->loop, UV_RUN_NOWAIT);
	}
}

static void test_lagging_viewer_skips_to_newest_keyframe(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 4096);
	r.cfg.lag_skip_ms = 50;
	fanout_append(&r.f, msg(9, 0, MSG_KEYFRAME, 100, 1));
	fanout_viewer_start(&r.f, &r.v, &r.pipe_io, WIRE_RTMP, &ops, &r, &r.bytes_out);
	uint32_t ts = fill_until_blocked(&r, 0);
	for (int i = 0; i < 20; i++)
		fanout_append(&r.f, msg(9, ts += 40, 0, 4000, 9));  /* the backlog */
	usleep(80 * 1000);
	uv_update_time(&r.loop);
	fanout_append(&r.f, msg(9, ts += 40, MSG_KEYFRAME, 100, 5));
	uint64_t key_seq = r.f.next_seq - 1;
	assert_int_equal(r.v.skips, 0);
	drain(&r); /* the socket clears: the viewer is far behind, and skips */
	assert_int_equal(r.v.skips, 1);
	assert_int_equal(r.f.skips, 1);
	assert_true(r.v.next_seq > key_seq);
	assert_int_equal(r.drops, 0);
	rig_free(&r);
}

static void test_stuck_viewer_is_dropped(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 4096);
	r.cfg.lag_drop_ms = 100;
	r.cfg.lag_skip_ms = 50;
	fanout_append(&r.f, msg(9, 0, MSG_KEYFRAME, 100, 1));
	fanout_viewer_start(&r.f, &r.v, &r.pipe_io, WIRE_RTMP, &ops, &r, &r.bytes_out);
	fill_until_blocked(&r, 0);
	uv_update_time(&r.loop);
	fanout_tick(&r.f, uv_now(&r.loop), 10000000);
	assert_int_equal(r.drops, 0);
	usleep(150 * 1000);
	uv_update_time(&r.loop);
	fanout_tick(&r.f, uv_now(&r.loop), 10000000);
	assert_int_equal(r.drops, 1);
	assert_string_equal(r.reason, "backlog over limit");
	assert_int_equal(r.f.nviewers[WIRE_RTMP], 0);
	rig_free(&r);
}

/* Bytes the kernel still holds for a viewer count as backlog, at the stream's rate. */
static void test_kernel_queue_counts_as_backlog(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 4096);
	r.cfg.lag_drop_ms = 1000;
	fanout_append(&r.f, msg(9, 0, MSG_KEYFRAME, 100, 1));
	fanout_viewer_start(&r.f, &r.v, &r.pipe_io, WIRE_RTMP, &ops, &r, &r.bytes_out);
	fill_until_blocked(&r, 0);
	uv_update_time(&r.loop);
	/* At 1 kB/s, a full socket buffer is many seconds of stream. */
	fanout_tick(&r.f, uv_now(&r.loop), 1000);
	assert_int_equal(r.drops, 1);
	rig_free(&r);
}

static void test_log_bounded_by_bytes_and_age(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 0);
	r.cfg.max_bytes = 100000;
	r.cfg.lag_drop_ms = 50;
	/* One huge GOP: the byte cap wins over the GOP cache. */
	fanout_append(&r.f, msg(9, 0, MSG_KEYFRAME, 1000, 1));
	for (uint32_t i = 1; i <= 500; i++)
		fanout_append(&r.f, msg(9, i * 40, 0, 1000, 2));
	assert_true(r.f.bytes <= r.cfg.max_bytes);
	assert_false(r.f.has_gop);
	/* A new GOP: older messages go once they pass the horizon. */
	fanout_append(&r.f, msg(9, 30000, MSG_KEYFRAME, 1000, 3));
	assert_true(r.f.has_gop);
	usleep(80 * 1000);
	uv_update_time(&r.loop);
	fanout_append(&r.f, msg(8, 30010, 0, 10, 4));
	assert_int_equal(r.f.first_seq, r.f.gop_seq);
	assert_int_equal(r.f.next_seq - r.f.first_seq, 2);
	rig_free(&r);
}

/*
 * One-byte messages are charged what they cost (blocks, ring slots, wire
 * copies as they are built), and the log holds at most max_msgs of them.
 */
static void test_log_charges_real_cost_and_counts(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 0);
	r.cfg.max_msgs = 1000;
	fanout_append(&r.f, msg(9, 0, MSG_KEYFRAME, 1000, 1));
	for (uint32_t i = 1; i <= 5000; i++)
		fanout_append(&r.f, msg(8, 0, 0, 1, 2));
	assert_int_equal(r.f.next_seq - r.f.first_seq, 1000);
	assert_true(r.f.mask + 1 <= 1024);
	uint64_t before = r.f.bytes;
	assert_true(before >= 1000 * MEDIA_MSG_FIXED_COST);
	/* Packaging for a viewer is charged when it happens... */
	struct media_msg *last = r.f.ring[(r.f.next_seq - 1) & r.f.mask];
	const struct rbuf *w = media_msg_wire(last, WIRE_RTMP);
	assert_int_equal(r.f.bytes, before + MEDIA_WIRE_COST(w));
	/* ...and given back when the message leaves the log. */
	for (uint32_t i = 0; i < 1000; i++)
		fanout_append(&r.f, msg(8, 0, 0, 1, 3));
	assert_int_equal(r.f.bytes, 1000 * (MEDIA_MSG_FIXED_COST + 1));
	/* The byte cap counts the same cost: 100 bytes of payload can fill 100 KB of log. */
	r.cfg.max_msgs = 0;
	r.cfg.max_bytes = 100000;
	for (uint32_t i = 0; i < 5000; i++)
		fanout_append(&r.f, msg(8, 0, 0, 1, 4));
	assert_true(r.f.bytes <= r.cfg.max_bytes);
	assert_true(r.f.next_seq - r.f.first_seq < 100000 / MEDIA_MSG_FIXED_COST + 1);
	rig_free(&r);
}

static void test_end_tells_every_viewer(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 0);
	fanout_viewer_start(&r.f, &r.v, &r.pipe_io, WIRE_RTMP, &ops, &r, &r.bytes_out);
	fanout_end(&r.f);
	assert_int_equal(r.ends, 1);
	assert_int_equal(r.f.nviewers[WIRE_RTMP], 0);
	rig_free(&r);
}

/* With video, audio waits for the next frame (up to the hold) and goes in its write;
 * audio of a stream without video goes at once. */
static void test_audio_rides_with_next_video(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r, 0);
	r.cfg.audio_hold_ms = 40;
	struct fanout_flusher fl;
	fanout_flusher_init(&fl, &r.loop, &r.cfg);
	fanout_set_flusher(&r.f, &fl);
	fanout_append(&r.f, msg(9, 0, MSG_KEYFRAME, 100, 1));
	fanout_viewer_start(&r.f, &r.v, &r.pipe_io, WIRE_RTMP, &ops, &r, &r.bytes_out);
	struct rtmp_reader rd;
	viewer_reader(&rd);
	struct rtmp_msg m[16];
	int n = read_msgs(&r, &rd, m, 16);
	assert_int_equal(n, 1);
	free_msgs(m, n);

	fanout_append(&r.f, msg(8, 10, 0, 50, 2));
	fanout_append(&r.f, msg(8, 31, 0, 50, 3));
	uv_run(&r.loop, UV_RUN_NOWAIT);
	assert_int_equal(read_msgs(&r, &rd, m, 16), 0);      /* held for the picture */
	fanout_append(&r.f, msg(9, 33, 0, 60, 4));
	uv_run(&r.loop, UV_RUN_NOWAIT);
	n = read_msgs(&r, &rd, m, 16);                        /* one write, in order */
	assert_int_equal(n, 3);
	assert_int_equal(m[0].ts, 10);
	assert_int_equal(m[1].ts, 31);
	assert_int_equal(m[2].ts, 33);
	free_msgs(m, n);

	/* No picture comes: the hold runs out and the audio goes alone. */
	fanout_append(&r.f, msg(8, 52, 0, 50, 5));
	uv_run(&r.loop, UV_RUN_NOWAIT);
	assert_int_equal(read_msgs(&r, &rd, m, 16), 0);
	usleep(60 * 1000);
	uv_run(&r.loop, UV_RUN_NOWAIT);
	n = read_msgs(&r, &rd, m, 16);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].ts, 52);
	free_msgs(m, n);

	/* Closing the flusher (node shutdown) sends what is held. */
	fanout_append(&r.f, msg(8, 74, 0, 50, 7));
	assert_int_equal(read_msgs(&r, &rd, m, 16), 0);
	fanout_flusher_close(&fl);
	n = read_msgs(&r, &rd, m, 16);
	assert_int_equal(n, 1);
	assert_int_equal(m[0].ts, 74);
	free_msgs(m, n);
	rtmp_reader_free(&rd);
	fanout_viewer_stop(&r.v);
	rig_free(&r);

	/* Audio only: nothing to wait for. */
	rig_init(&r, 0);
	r.cfg.audio_hold_ms = 40;
	fanout_flusher_init(&fl, &r.loop, &r.cfg);
	fanout_set_flusher(&r.f, &fl);
	fanout_viewer_start(&r.f, &r.v, &r.pipe_io, WIRE_RTMP, &ops, &r, &r.bytes_out);
	viewer_reader(&rd);
	fanout_append(&r.f, msg(8, 10, MSG_KEYFRAME, 50, 6)); /* as stream.c marks audio-only */
	uv_run(&r.loop, UV_RUN_NOWAIT);
	n = read_msgs(&r, &rd, m, 16);
	assert_int_equal(n, 1);
	free_msgs(m, n);
	rtmp_reader_free(&rd);
	fanout_viewer_stop(&r.v);
	fanout_flusher_close(&fl);
	rig_free(&r);
}

/*
 * Batched sends to more viewers than one batch holds (through io_uring, or
 * one sendmsg each where the kernel refuses it: the same code around them):
 * every viewer gets every message, in order; one whose socket is full gets
 * the rest through libuv once it reads; one whose peer is gone is dropped,
 * alone; one whose owner has bytes queued in libuv gets the media after
 * them; and one whose handle is closing is never written to, even when its
 * old descriptor number already belongs to a new connection.
 */
#define MANY 150

struct many {
	uv_loop_t loop;
	struct fanout f;
	struct fanout_config cfg;
	struct fanout_flusher fl;
	struct io_stream pipe_io[MANY];
	int peer[MANY];
	int closed[MANY];
	struct fanout_viewer v[MANY];
	uint64_t bytes_out;
	int drops;
	char reason[MANY][64];
};

static void many_drop(struct fanout_viewer *v, const char *reason)
{
	struct many *m = v->owner;
	m->drops++;
	snprintf(m->reason[v - m->v], sizeof(m->reason[0]), "%s", reason);
	fanout_viewer_stop(v);
}

static const struct fanout_viewer_ops many_ops = { many_drop, on_end };

static size_t read_all(int fd, uint8_t *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;
	while (got < cap && (n = read(fd, buf + got, cap - got)) > 0)
		got += (size_t)n;
	return got;
}

static int reader_fd;
static size_t reader_left;

static void read_filler_cb(uv_check_t *h)
{
	static uint8_t sink[65536];
	while (reader_left > 0) {
		ssize_t r = read(reader_fd, sink, reader_left < sizeof(sink) ? reader_left : sizeof(sink));
		assert_true(r > 0);
		reader_left -= (size_t)r;
	}
	uv_check_stop(h);
}

static void test_batched_sends_reach_every_viewer(void **state)
{
	(void)state;
	static struct many mm;
	struct many *m = &mm;
	memset(m, 0, sizeof(*m));
	assert_int_equal(uv_loop_init(&m->loop), 0);
	m->cfg = (struct fanout_config){ .lag_skip_ms = 10000, .lag_drop_ms = 20000,
	                                 .send_timeout_ms = 20000, .max_bytes = 8u << 20,
	                                 .batch_bytes = 1u << 20, .gop_cache = 1,
	                                 .batch_sends = 1 };
	fanout_init(&m->f, &m->loop, &m->cfg);
	fanout_flusher_init(&m->fl, &m->loop, &m->cfg);
	fanout_set_flusher(&m->f, &m->fl);
	enum { SLOW = 70, GONE = 100, QUEUED = 120, CLOSING = 130 };
	for (int i = 0; i < MANY; i++) {
		int sv[2];
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		if (i == SLOW) {
			int small = 4096;
			setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
			setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		}
		fcntl(sv[1], F_SETFL, O_NONBLOCK);
		uv_pipe_init(&m->loop, &m->pipe_io[i].u.pipe, 0);
		assert_int_equal(uv_pipe_open(&m->pipe_io[i].u.pipe, sv[0]), 0);
		m->peer[i] = sv[1];
	}
	fanout_append(&m->f, msg(9, 0, MSG_KEYFRAME, 100, 1));
	for (int i = 0; i < MANY; i++)
		fanout_viewer_start(&m->f, &m->v[i], &m->pipe_io[i], WIRE_RTMP, &many_ops,
		                    m, &m->bytes_out);
	static uint8_t buf[1 << 20];
	size_t first = read_all(m->peer[0], buf, sizeof(buf));
	for (int i = 1; i < MANY; i++)
		assert_int_equal(read_all(m->peer[i], buf, sizeof(buf)), first);
	uint64_t joined_bytes = m->bytes_out;
	assert_int_equal(joined_bytes, first * MANY);

	close(m->peer[GONE]);
	m->peer[GONE] = -1;

	/* CLOSING's owner closes it (its viewer is stopped only in the close callback), and a
	 * new connection gets the same descriptor number. */
	uv_os_fd_t old_fd;
	assert_int_equal(uv_fileno((uv_handle_t *)&m->pipe_io[CLOSING].u.pipe, &old_fd), 0);
	uv_close((uv_handle_t *)&m->pipe_io[CLOSING].u.pipe, NULL);
	m->closed[CLOSING] = 1;
	int intruder[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, intruder), 0);
	assert_true(intruder[0] == old_fd || intruder[1] == old_fd);
	fcntl(intruder[0], F_SETFL, O_NONBLOCK);
	fcntl(intruder[1], F_SETFL, O_NONBLOCK);

	/* QUEUED's owner sends a control message that its full socket makes libuv queue. */
	size_t filler = 0;
	ssize_t w;
	uv_os_fd_t qfd;
	assert_int_equal(uv_fileno((uv_handle_t *)&m->pipe_io[QUEUED].u.pipe, &qfd), 0);
	while ((w = write(qfd, buf, 4096)) > 0)
		filler += (size_t)w;
	static uv_write_t ctrl_req;
	uv_buf_t ctrl = uv_buf_init("CTRL", 4);
	assert_int_equal(uv_write(&ctrl_req, &m->pipe_io[QUEUED].u.stream, &ctrl, 1, NULL), 0);
	assert_true(uv_stream_get_write_queue_size(&m->pipe_io[QUEUED].u.stream) > 0);

	/* Three messages in one turn, the last larger than the slow viewer's buffers. */
	fanout_append(&m->f, msg(8, 10, 0, 300, 2));
	fanout_append(&m->f, msg(9, 40, 0, 2000, 3));
	fanout_append(&m->f, msg(9, 80, 0, 200000, 4));
	/* Just before the flush (a check handle started later runs first), the peer reads the
	 * filler: the socket has room while libuv still holds CTRL. */
	uv_check_t reader;
	uv_check_init(&m->loop, &reader);
	reader_fd = m->peer[QUEUED];
	reader_left = filler;
	uv_check_start(&reader, read_filler_cb);
	uv_run(&m->loop, UV_RUN_NOWAIT);
	assert_int_equal(reader_left, 0);
	uv_close((uv_handle_t *)&reader, NULL);
	assert_int_equal(m->drops, 2);
	assert_null(m->v[GONE].f);
	assert_true(strstr(m->reason[GONE], "pipe") != NULL);       /* EPIPE */
	assert_null(m->v[CLOSING].f);
	assert_true(strstr(m->reason[CLOSING], "file descriptor") != NULL); /* EBADF */
	assert_int_equal(read(intruder[0], buf, 16), -1);           /* nothing reached it */
	assert_int_equal(read(intruder[1], buf, 16), -1);
	assert_true(m->v[SLOW].writing);

	struct rtmp_reader rd;
	struct rtmp_msg got[8];
	size_t media_bytes = 0;
	for (int i = 0; i < MANY; i++) {
		if (i == GONE || i == CLOSING)
			continue;
		viewer_reader(&rd);
		int n = 0;
		size_t prefix = i == QUEUED ? 4 : 0, prefix_seen = 0;
		for (int spin = 0; spin < 2000 && n < 3; spin++) {
			size_t len = read_all(m->peer[i], buf, sizeof(buf));
			size_t off = 0;
			for (; off < len && prefix_seen < prefix; off++, prefix_seen++)
				assert_int_equal(buf[off], "CTRL"[prefix_seen]);
			if (i == 0)
				media_bytes += len - off;
			while (off < len) {
				size_t used;
				int rc = rtmp_reader_feed(&rd, buf + off, len - off, &used, &got[n]);
				off += used;
				if (rc == SL_EAGAIN)
					break;
				assert_int_equal(rc, 1);
				n++;
			}
			if (n < 3)
				uv_run(&m->loop, UV_RUN_NOWAIT); /* libuv writes the slow one's rest */
		}
		assert_int_equal(n, 3);
		assert_int_equal(got[0].ts, 10);
		assert_int_equal(got[1].ts, 40);
		assert_int_equal(got[2].ts, 80);
		assert_int_equal(got[2].body->len, 200000);
		free_msgs(got, n);
		rtmp_reader_free(&rd);
	}
	assert_false(m->v[SLOW].writing);
	assert_int_equal(m->drops, 2);
	/* Every byte counted once: the viewers that stayed each got what viewer 0 got. */
	assert_int_equal(m->bytes_out - joined_bytes, media_bytes * (MANY - 2));
	assert_true(m->fl.sb.writes >= MANY - 3);
	if (sendbatch_uses_uring(&m->fl.sb))
		assert_true(m->fl.sb.calls < m->fl.sb.writes); /* batched: fewer calls than writes */
	else
		assert_int_equal(m->fl.sb.calls, m->fl.sb.writes);

	for (int i = 0; i < MANY; i++) {
		fanout_viewer_stop(&m->v[i]);
		if (!m->closed[i])
			uv_close((uv_handle_t *)&m->pipe_io[i].u.pipe, NULL);
		if (m->peer[i] >= 0)
			close(m->peer[i]);
	}
	close(intruder[0]);
	close(intruder[1]);
	fanout_flusher_close(&m->fl);
	uv_run(&m->loop, UV_RUN_DEFAULT);
	fanout_free(&m->f);
	assert_int_equal(uv_loop_close(&m->loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_gets_headers_then_gop),
		cmocka_unit_test(test_join_on_old_gop_is_not_lag),
		cmocka_unit_test(test_flusher_batches_per_turn_and_window),
		cmocka_unit_test(test_flv_framing),
		cmocka_unit_test(test_viewer_waits_for_keyframe_without_gop),
		cmocka_unit_test(test_lagging_viewer_skips_to_newest_keyframe),
		cmocka_unit_test(test_stuck_viewer_is_dropped),
		cmocka_unit_test(test_kernel_queue_counts_as_backlog),
		cmocka_unit_test(test_log_bounded_by_bytes_and_age),
		cmocka_unit_test(test_end_tells_every_viewer),
		cmocka_unit_test(test_audio_rides_with_next_video),
		cmocka_unit_test(test_batched_sends_reach_every_viewer),
		cmocka_unit_test(test_log_charges_real_cost_and_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
