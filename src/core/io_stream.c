/* SPDX-License-Identifier: Apache-2.0 */
/* io_stream.c - plain or TLS, one set of calls (see io_stream.h). */
#include "core/io_stream.h"

#include "core/tls.h"

int io_try_write(struct io_stream *s, const uv_buf_t bufs[], unsigned n)
{
	if (s->tls)
		return tls_io_try_write(s->tls, bufs, n);
	return uv_try_write(&s->u.stream, bufs, n);
}

int io_write(struct io_stream *s, uv_write_t *req, const uv_buf_t bufs[], unsigned n,
             uv_write_cb cb)
{
	if (s->tls)
		return tls_io_write(s->tls, req, bufs, n, cb);
	return uv_write(req, &s->u.stream, bufs, n, cb);
}

int io_read_start(struct io_stream *s, uv_alloc_cb alloc_cb, uv_read_cb read_cb)
{
	if (s->tls)
		return tls_io_read_start(s->tls, alloc_cb, read_cb);
	return uv_read_start(&s->u.stream, alloc_cb, read_cb);
}

int io_read_stop(struct io_stream *s)
{
	if (s->tls)
		return tls_io_read_stop(s->tls);
	return uv_read_stop(&s->u.stream);
}

int io_shutdown(struct io_stream *s, uv_shutdown_t *req, uv_shutdown_cb cb)
{
	if (s->tls)
		return tls_io_shutdown(s->tls, req, cb);
	return uv_shutdown(req, &s->u.stream, cb);
}

void io_close(struct io_stream *s, uv_close_cb cb)
{
	if (s->tls)
		tls_io_close(s->tls, cb);
	else
		uv_close(&s->u.handle, cb);
}

int io_is_closing(struct io_stream *s)
{
	return uv_is_closing(&s->u.handle);
}

size_t io_write_queue_size(struct io_stream *s)
{
	if (s->tls)
		return tls_io_write_queue_size(s->tls);
	return uv_stream_get_write_queue_size(&s->u.stream);
}

int io_fd(struct io_stream *s)
{
	uv_os_fd_t fd = -1;
	if (uv_fileno(&s->u.handle, &fd) != 0)
		return -1;
	return fd;
}

int io_seal(struct io_stream *s, const uv_buf_t bufs[], unsigned n, uv_buf_t *cipher)
{
	if (!s->tls)
		return UV_EINVAL;
	return tls_io_seal(s->tls, bufs, n, cipher);
}

void io_sealed_sent(struct io_stream *s, ssize_t result)
{
	if (s->tls)
		tls_io_sealed_sent(s->tls, result);
}
