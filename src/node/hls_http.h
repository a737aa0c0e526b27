/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hls_http.h - HLS and LL-HLS playback on a node: packaging runs once per
 * stream while anyone asks for it, and HTTP requests for playlists,
 * segments and parts are answered from memory (see docs/hls.md).
 */
#ifndef SLUICE_NODE_HLS_HTTP_H
#define SLUICE_NODE_HLS_HTTP_H

#include "core/http_server.h"

struct node;
struct hls_server;

/*
 * Answers the request if its path is an HLS one (/APP/STREAM/...), now or
 * later (blocking playlist reloads and preload hints are held).  Returns 1
 * if it took the request, 0 if the path is not HLS's.
 */
int hls_http_handle(struct node *n, struct http_conn *c, const struct http_request *req);

/* Node shutdown: drops held requests and every stream's packaging. */
void hls_server_stop(struct node *n);

/* Totals over every stream packaged: frames and sequence headers the packager refused. */
void hls_http_counters(struct node *n, uint64_t *frames_dropped, uint64_t *configs_refused);

/* Requests held now (blocking reloads, parts not there yet) and those refused at a limit. */
void hls_http_held(struct node *n, uint64_t *held, uint64_t *refused);

#endif
