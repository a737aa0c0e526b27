/* SPDX-License-Identifier: Apache-2.0 */
/* flv_tap.c - a fan-out viewer read back as FLV tags (see flv_tap.h). */
#include "node/flv_tap.h"

#include <string.h>
#include <sys/socket.h>

#include "proto/flv.h"

/*
 * Takes whole chunks ("%x\r\n" FLV-tag "\r\n", as media_msg.c packages
 * them) from t->buf.  Returns 0, or -1 if the bytes are not what the
 * fan-out writes (a bug, not a peer).
 */
static int take_tags(struct flv_tap *t)
{
	size_t off = 0;
	while (t->buf.len - off >= 3 && !t->closing) {
		const uint8_t *p = t->buf.data + off;
		size_t avail = t->buf.len - off, i = 0, size = 0;
		while (i < avail && i < 9 && p[i] != '\r') {
			uint8_t ch = p[i];
			unsigned d = ch >= '0' && ch <= '9' ? (unsigned)(ch - '0')
			           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10u : 16u;
			if (d > 15)
				return -1;
			size = size * 16 + d;
			i++;
		}
		if (i + 1 >= avail)
			break;
		if (p[i] != '\r' || p[i + 1] != '\n' || i == 0)
			return -1;
		size_t need = i + 2 + size + 2;
		if (avail < need)
			break;
		const uint8_t *tag = p + i + 2;
		off += need;
		if (size == FLV_FILE_HEADER_SIZE && tag[0] == 'F')
			continue;                  /* the FLV file header every viewer starts with */
		if (size < FLV_TAG_HEADER_SIZE + FLV_TAG_TRAILER_SIZE)
			return -1;
		uint32_t blen = rd_u24be(tag + 1);
		if ((size_t)blen + FLV_TAG_HEADER_SIZE + FLV_TAG_TRAILER_SIZE != size)
			return -1;
		uint32_t ts = rd_u24be(tag + 4) | ((uint32_t)tag[7] << 24);
		t->on_tag(t->arg, tag[0], ts, tag + FLV_TAG_HEADER_SIZE, blen);
	}
	if (t->closing)
		return 0;                      /* a tag's owner closed us: buf is gone */
	if (off) {
		memmove(t->buf.data, t->buf.data + off, t->buf.len - off);
		t->buf.len -= off;
	}
	return 0;
}

static void pipe_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct flv_tap *t = h->data;
	(void)hint;
	bytes_reserve(&t->buf, FLV_TAP_READ_CHUNK);
	buf->base = (char *)t->buf.data + t->buf.len;
	buf->len = t->buf.cap - t->buf.len;
}

static void pipe_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct flv_tap *t = st->data;
	(void)buf;
	if (t->closing)
		return;
	if (nread < 0) {
		t->on_fail(t->arg, "viewer pipe closed");
		return;
	}
	t->buf.len += (size_t)nread;
	if (take_tags(t) < 0)
		t->on_fail(t->arg, "bad FLV from the fan-out");
}

void flv_tap_read(struct flv_tap *t, int on)
{
	if (t->reading == on || t->closing || !t->pipes_open)
		return;
	t->reading = on;
	if (on)
		uv_read_start((uv_stream_t *)&t->pipe_r, pipe_alloc, pipe_read);
	else
		uv_read_stop((uv_stream_t *)&t->pipe_r);
}

int flv_tap_start(struct flv_tap *t, struct stream *s, const struct fanout_viewer_ops *ops,
                  void *owner, flv_tap_tag_cb on_tag, flv_tap_fail_cb on_fail, void *arg)
{
	int fds[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
		return -1;
	memset(t, 0, sizeof(*t));
	uv_pipe_init(s->fanout.loop, &t->pipe_w.u.pipe, 0);
	uv_pipe_init(s->fanout.loop, &t->pipe_r, 0);
	t->pipe_w.u.pipe.data = t->pipe_r.data = t;
	t->pipes_open = 2;
	uv_pipe_open(&t->pipe_w.u.pipe, fds[0]);
	uv_pipe_open(&t->pipe_r, fds[1]);
	bytes_init(&t->buf);
	t->on_tag = on_tag;
	t->on_fail = on_fail;
	t->arg = arg;
	flv_tap_read(t, 1);
	fanout_viewer_start(&s->fanout, &t->v, &t->pipe_w, WIRE_FLV, ops, owner,
	                    &t->fanout_bytes);
	return 0;
}

static void pipe_closed(uv_handle_t *h)
{
	struct flv_tap *t = h->data;
	if (--t->pipes_open == 0 && t->done)
		t->done(t->arg);
}

void flv_tap_close(struct flv_tap *t, void (*done)(void *arg), void *arg)
{
	if (t->closing)
		return;
	t->closing = 1;
	bytes_free(&t->buf);
	t->arg = arg;
	if (!t->pipes_open) {
		done(arg);
		return;
	}
	/* The viewer's memory must outlive an in-flight write: done once both are closed. */
	fanout_viewer_stop(&t->v);
	t->done = done;
	uv_close(&t->pipe_w.u.handle, pipe_closed);
	uv_close((uv_handle_t *)&t->pipe_r, pipe_closed);
}
