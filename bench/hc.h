/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hc.h - the bench tools' HTTP/1.1 client connection (sluice-nodesim,
 * sluice-httpload): one request at a time on one TCP connection, kept open
 * (keep-alive) or closed after each answer, as the caller asks.  Answers
 * are framed by Content-Length or by the close; chunked coding is refused
 * (neither the manager, nginx nor haproxy use it for these answers).
 *
 * The struct lives as long as its owner's array: a closed connection is
 * re-opened by the next request.  Nothing here allocates per request
 * beyond the two growing buffers.
 */
#ifndef SLUICE_BENCH_HC_H
#define SLUICE_BENCH_HC_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/bytes.h"

/* An answer's head and body together may be at most this long. */
#define HC_RESPONSE_MAX (4u << 20)

struct hc_conn;

/* The answer: status (0 when err is set), the whole response as received (head and body,
 * for parsers that take both), where the body starts and its length.  err: why there is
 * no answer ("connect: ...", "closed", "timeout", ...), else NULL. */
typedef void (*hc_done_fn)(struct hc_conn *c, int status, const uint8_t *resp, size_t resp_len,
                           size_t body_off, size_t body_len, const char *err);

struct hc_conn {
	uv_loop_t *loop;
	struct sockaddr_in addr;
	struct sockaddr_in src;        /* bound before connecting when src.sin_family is set */
	uv_tcp_t tcp;
	uv_connect_t creq;
	uv_write_t wreq;
	int open;                  /* the tcp handle is initialised (closing included) */
	int closing;
	int connected;
	int reading;               /* uv_read_start done on this connection */
	int ending;                /* answered with Connection: close: waiting for the server's end */
	int busy;                  /* a request is out */
	int keepalive;             /* keep the connection after an answer that allows it */
	int srv_close;             /* this answer said Connection: close */
	size_t head_len;           /* 0 until the head is in */
	int64_t content_length;    /* -1: until the close */
	uint64_t start_us;         /* when the request was issued (monotonic) */
	uint64_t connects;         /* TCP connections made */
	struct bytes out, in;
	hc_done_fn done;
	void (*on_closed)(struct hc_conn *c);  /* optional: the connection has closed */
	void *data;                /* the owner's */
};

/* Monotonic microseconds. */
uint64_t hc_now_us(void);

/* Parses "http://IPV4:PORT[/path]" into addr and path (at least "/"); 0 or -1. */
int hc_parse_url(const char *url, struct sockaddr_in *addr, char *path, size_t path_size);

void hc_init(struct hc_conn *c, uv_loop_t *loop, const struct sockaddr_in *addr, int keepalive);
/* Sends the request bytes (a whole HTTP/1.1 request, copied); done is called once with the
 * answer or the error (before this returns when the connect fails at once).  -1 if one is
 * already out or the connection is still closing. */
int hc_request(struct hc_conn *c, const void *req, size_t len, hc_done_fn done);
/* 1 when a request may be sent now. */
int hc_ready(const struct hc_conn *c);
/* A request out (or a server's close awaited) for longer than limit_us is given up: the
 * request with err, the connection closed.  1 if it was. */
int hc_expire(struct hc_conn *c, uint64_t now_us, uint64_t limit_us, const char *err);
/* Abandons the request out (done is called with err) and closes the connection. */
void hc_abort(struct hc_conn *c, const char *err);
/* Closes the connection; the buffers go when it has closed (hc_free after the loop ran). */
void hc_close(struct hc_conn *c);
void hc_free(struct hc_conn *c);

#endif
