/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_client.h - HTTP(S) requests from the manager's loop, never blocking
 * it: libcurl's multi interface driven by libuv (a uv_poll per socket, one
 * uv_timer for curl's timeouts).  Used by the cloud controllers.
 *
 * Every request has a time limit and a bound on the answer's size; a
 * request that passes either fails with a message.  Like libuv, a call that
 * returns an error never calls its callback; a callback never runs inside
 * http_client_send.
 */
#ifndef SLUICE_MANAGER_HTTP_CLIENT_H
#define SLUICE_MANAGER_HTTP_CLIENT_H

#include <stddef.h>
#include <uv.h>

#define HTTP_CLIENT_MAX_RESPONSE (4u << 20)  /* default bound on an answer's body */

struct http_client;

struct http_client_req {
	const char *method;            /* "GET", "POST", "PUT", "DELETE" */
	const char *url;
	const char *const *headers;    /* "Name: value" strings, NULL-terminated; may be NULL */
	const void *body;
	size_t body_len;
	long timeout_ms;               /* whole request, connect included */
	size_t max_response;           /* 0: HTTP_CLIENT_MAX_RESPONSE */
	const char *ca_file;           /* trust only this CA bundle (a cluster's), or NULL */
};

/* rc 0 with the HTTP status and body (NUL-terminated), or negative (no answer: could not
 * connect, timed out, too large) with err. */
typedef void (*http_client_cb)(void *arg, int rc, long status, const char *body, size_t len,
                               const char *err);

struct http_client *http_client_new(uv_loop_t *loop);
/* Drops requests in flight (their callbacks are not called) and frees the client once
 * its handles are closed. */
void http_client_free(struct http_client *hc);
int http_client_send(struct http_client *hc, const struct http_client_req *r,
                     http_client_cb cb, void *arg);

#endif
