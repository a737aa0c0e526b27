/* SPDX-License-Identifier: Apache-2.0 */
/*
 * watch_page.h - the watch page a person opens to see a stream:
 * /APP/STREAM/ answers the page (the same for every stream: its script
 * finds the playlist beside it), /player/watch.js and /player/hls.js its
 * scripts.  All are embedded in the binary (web_assets.h) and sent by
 * reference.
 */
#ifndef SLUICE_NODE_WATCH_PAGE_H
#define SLUICE_NODE_WATCH_PAGE_H

#include "core/http_server.h"

/* Answers the watch page. */
void watch_page_serve(struct http_conn *c);

/* Answers the publish page (/APP/STREAM/publish: camera and microphone over WHIP). */
void publish_page_serve(struct http_conn *c);

/* Answers /player/... and returns 1; returns 0 for any other path. */
int watch_page_serve_asset(struct http_conn *c, const struct http_request *req);

#endif
