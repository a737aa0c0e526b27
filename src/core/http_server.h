/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_server.h - a small HTTP/1.1 server on libuv: keep-alive, pipelining
 * answered in order, bounded heads and bodies, timeouts for slow and idle
 * peers, and a streaming mode that hands a connection's socket to a media
 * viewer (HTTP-FLV) while still noticing when the peer goes away.
 *
 * Back-pressure: a connection has at most one response in flight; reading
 * pauses until it is written, so a pipelining flood costs one buffer.
 */
#ifndef SLUICE_CORE_HTTP_SERVER_H
#define SLUICE_CORE_HTTP_SERVER_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "core/conn.h"
#include "core/io_stream.h"
#include "core/http_parser.h"
#include "core/rbuf.h"

struct http_server;
struct http_conn;

/* Called once per complete request; must answer with http_respond*() or
 * http_stream_begin(), now or later.  body is valid only during the call. */
typedef void (*http_handler_fn)(void *ctx, struct http_conn *c,
                                const struct http_request *req,
                                const uint8_t *body, size_t body_len);

struct http_server_config {
	const char *bind;
	int port;
	size_t max_head_bytes;         /* 0: 8 KiB */
	size_t max_body_bytes;         /* 0: 1 MiB */
	uint64_t request_timeout_ms;   /* whole request must arrive within; 0: 10 s */
	uint64_t keepalive_timeout_ms; /* idle between requests; 0: 30 s */
	uint64_t send_timeout_ms;      /* a response write may take; 0: 30 s */
	int cors;                      /* add Access-Control-Allow-Origin: * */
	struct conn_table *conns;      /* shared with other protocols; required */
	struct tls_server *tls;        /* HTTPS with this certificate (tls.h); NULL: plain HTTP */
	http_handler_fn handler;
	void *ctx;
};

int http_server_start(uv_loop_t *loop, const struct http_server_config *cfg,
                      struct http_server **out);
/* Stops listening and closes every connection; frees the server once they are gone. */
void http_server_stop(struct http_server *s);
/* Changes the three timeouts of a running server (a config reload); 0 keeps one as it is.
 * Open connections are held to the new values from the next sweep on. */
void http_server_set_timeouts(struct http_server *s, uint64_t request_ms, uint64_t keepalive_ms,
                              uint64_t send_ms);

/* Adds a header to the next response on c ("Name: value", no CRLF). */
void http_add_header(struct http_conn *c, const char *name, const char *value);
void http_respond(struct http_conn *c, int status, const char *content_type,
                  const void *body, size_t len);
/*
 * One piece of a response body sent by reference, without a copy: data must
 * stay valid until the write ends, which a reference on hold guarantees
 * (hold NULL: the data is static, like an embedded file).
 */
struct http_body_ref {
	const void *data;
	size_t len;
	struct rbuf *hold;
};
#define HTTP_BODY_REFS_MAX 64
/*
 * Like http_respond, with the body the concatenation of n pieces (at most
 * HTTP_BODY_REFS_MAX) written from where they are: each hold gains a
 * reference until the write is done.
 */
void http_respond_refs(struct http_conn *c, int status, const char *content_type,
                       const struct http_body_ref *refs, size_t n);
/* Sends json (compact, with a trailing newline); takes the caller's reference. */
void http_respond_json(struct http_conn *c, int status, json_t *json);
/* {"error": message} with the given status. */
void http_respond_error(struct http_conn *c, int status, const char *message);

/*
 * Starts a streamed response (chunked transfer encoding, no keep-alive) and
 * returns the stream: the caller then writes chunk-framed bytes to it
 * directly with io_write (io_stream.h: plain or TLS alike).  Bytes the peer sends afterwards are discarded.  on_close(arg)
 * is called once when the connection closes for any reason.
 */
struct io_stream *http_stream_begin(struct http_conn *c, int status, const char *content_type,
                                    void (*on_close)(void *arg), void *arg);
/* Ends a streamed response (the last chunk) and closes after it is sent. */
void http_stream_end(struct http_conn *c);

void http_conn_close(struct http_conn *c, const char *reason);
struct conn *http_conn_base(struct http_conn *c);
/*
 * For a request answered later (held): while it is held, reads go on so that
 * a peer that closes is noticed at once; then the connection closes and
 * on_close(arg) is called once.  Bytes the peer pipelines meanwhile are kept
 * (within the buffered-ahead limit) for after the answer.  Call with on_close
 * NULL to stop watching before answering.  Only while c owes its answer.
 */
void http_conn_watch(struct http_conn *c, void (*on_close)(void *arg), void *arg);

#endif
