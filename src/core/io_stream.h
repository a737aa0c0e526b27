/* SPDX-License-Identifier: Apache-2.0 */
/*
 * io_stream.h - one connection's byte stream, plain or TLS, behind the same
 * few calls.
 *
 * A protocol (HTTP, RTMP, a fan-out viewer) keeps a struct io_stream where
 * it used to keep its uv_tcp_t and calls io_write, io_read_start, io_close
 * ... instead of libuv's.  On a plain stream each call is libuv's own,
 * nothing added.  On a TLS stream (io_stream_attach_tls, tls.h) the same
 * calls run through OpenSSL: reads are decrypted before the owner's read
 * callback sees them, writes are encrypted straight from the owner's
 * buffers.  The callbacks keep libuv's types and rules (the handle's data
 * is the owner's; a write's callback runs later, never inside io_write), so
 * code moved onto it keeps its callbacks as they were.
 */
#ifndef SLUICE_CORE_IO_STREAM_H
#define SLUICE_CORE_IO_STREAM_H

#include <stddef.h>
#include <uv.h>

struct tls_conn;

struct io_stream {
	/* First, so a handle's address is its stream's (the TLS layer finds itself so). */
	union {
		uv_handle_t handle;
		uv_stream_t stream;
		uv_tcp_t tcp;
		uv_pipe_t pipe;
	} u;
	struct tls_conn *tls;   /* NULL: plain */
};

static inline uv_stream_t *io_uv(struct io_stream *s) { return &s->u.stream; }
static inline int io_is_tls(const struct io_stream *s) { return s->tls != NULL; }

/* Like uv_try_write: bytes taken (all of them, on TLS), or UV_EAGAIN / an error. */
int io_try_write(struct io_stream *s, const uv_buf_t bufs[], unsigned n);
/* Like uv_write: bufs[i].base must stay valid until cb runs. */
int io_write(struct io_stream *s, uv_write_t *req, const uv_buf_t bufs[], unsigned n,
             uv_write_cb cb);
int io_read_start(struct io_stream *s, uv_alloc_cb alloc_cb, uv_read_cb read_cb);
int io_read_stop(struct io_stream *s);
/* Like uv_shutdown (TLS: says close_notify first). */
int io_shutdown(struct io_stream *s, uv_shutdown_t *req, uv_shutdown_cb cb);
/* Like uv_close; cb gets the stream's handle, whose data is the owner's. */
void io_close(struct io_stream *s, uv_close_cb cb);
int io_is_closing(struct io_stream *s);
/* Bytes written but not yet taken by the kernel (TLS: ciphertext and queued writes). */
size_t io_write_queue_size(struct io_stream *s);
/* The socket's descriptor, or -1.  A plain stream's bytes may be written to it directly
 * (batched sends); a TLS stream's only as io_seal hands them out. */
int io_fd(struct io_stream *s);
/*
 * For a TLS stream written by a batch of sends (core/sendbatch.h): encrypts
 * bufs and returns the plaintext taken (all of it) with the records to send
 * in *cipher, valid until io_sealed_sent, which the caller must call next
 * with what its send returned (bytes, or a negative error; UV_EAGAIN when it
 * took nothing).  What the send left is then written through libuv.
 * UV_EAGAIN when earlier bytes still wait (then use io_write), UV_EINVAL on
 * a plain stream.
 */
int io_seal(struct io_stream *s, const uv_buf_t bufs[], unsigned n, uv_buf_t *cipher);
void io_sealed_sent(struct io_stream *s, ssize_t result);

#endif
