/* SPDX-License-Identifier: Apache-2.0 */
/* whip_http.h - WHIP signalling (publishing over WebRTC) on the node's HTTP port (whip_http.c). */
#ifndef SLUICE_NODE_WHIP_HTTP_H
#define SLUICE_NODE_WHIP_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct node;
struct http_conn;
struct http_request;

/* Answers a WHIP request (POST /APP/STREAM/whip, DELETE/PATCH .../whip/ID); 0 if not one. */
int whip_http_handle(struct node *n, struct http_conn *c, const struct http_request *req,
                     const uint8_t *body, size_t body_len);

#endif
