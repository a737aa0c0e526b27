/* SPDX-License-Identifier: Apache-2.0 */
/* whep_http.h - WHEP signalling on the node's HTTP port (see whep_http.c, docs/webrtc.md). */
#ifndef SLUICE_NODE_WHEP_HTTP_H
#define SLUICE_NODE_WHEP_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct node;
struct http_conn;
struct http_request;

#define WHEP_SR_INTERVAL_MS 1000   /* RTCP sender reports to each WebRTC viewer */

/* Starts the WebRTC transport when the webrtc setting is on: 0, or -1 (logged). */
int whep_start(struct node *n);
/* Ends every session; before the streams are closed. */
void whep_stop(struct node *n);
/* Answers a WHEP request; 0 if the path is not a WHEP one. */
int whep_http_handle(struct node *n, struct http_conn *c, const struct http_request *req,
                     const uint8_t *body, size_t body_len);

/* Shared with WHIP (whip_http.c): */
/* Splits "/app/name" + suffix + "[/id]"; 1 when the path is one (suffix "/whep" or "/whip"). */
int whep_split_path(const struct http_request *req, const char *suffix, char *app, char *name,
                    char *id, size_t idsz);
/* The CORS headers a WHEP/WHIP answer carries (methods: "POST, OPTIONS", ...). */
void whep_cors(struct http_conn *c, const char *methods);
/* The token: ?token=... or "Authorization: Bearer ..." (what WHIP and WHEP clients send). */
void whep_token(const struct http_request *req, char *out, size_t n);
/* "ip:port" -> "ip". */
void whep_peer_ip(const char *peer, char *out, size_t n);
/* Answers POST /APP/STREAM<suffix> (the offer, through offer()) and OPTIONS, DELETE, PATCH
 * of /APP/STREAM<suffix>/ID: WHEP and WHIP share all but what an offer does.  0 when the
 * path is not one. */
typedef void (*whep_offer_fn)(struct node *n, struct http_conn *c, const struct http_request *req,
                              const char *app, const char *name, const uint8_t *body, size_t len);
int whep_route(struct node *n, struct http_conn *c, const struct http_request *req,
               const uint8_t *body, size_t body_len, const char *suffix, whep_offer_fn offer);

#endif
