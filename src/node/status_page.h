/* SPDX-License-Identifier: Apache-2.0 */
/*
 * status_page.h - the node's status page at `/`: what the node is, its
 * streams with viewers per protocol and links to their watch pages, its
 * cluster links and its load, for a person.  The page is embedded in the
 * binary (web_assets.h) and draws what /api/v1/node and /api/v1/streams
 * answer, so it shows nothing the API would not (and asks for the API
 * token when the node has one).
 */
#ifndef SLUICE_NODE_STATUS_PAGE_H
#define SLUICE_NODE_STATUS_PAGE_H

#include "core/http_server.h"

/* Answers GET / with the page and returns 1; returns 0 for any other path. */
int status_page_handle(struct http_conn *c, const struct http_request *req);

#endif
