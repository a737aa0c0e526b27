/* SPDX-License-Identifier: Apache-2.0 */
/*
 * console.h - the manager's web console (docs/console.md): the page at
 * `/` and its files under /console/, login with the admin token into a
 * session cookie, the CSRF check on calls the page makes to /api/v1, and
 * the last hour of charts kept in memory.
 *
 * The page itself only reads and calls the REST API (polling it); the
 * manager's API accepts a console session wherever it accepts the admin
 * token (mgr_authorized), with the CSRF token required on every call that
 * changes state.
 */
#ifndef SLUICE_MANAGER_CONSOLE_H
#define SLUICE_MANAGER_CONSOLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/http_server.h"
#include "proto/heartbeat.h"

struct manager;
struct console;

/* Starts the console's sampler on m's loop; settings from m->cfg. */
struct console *console_new(struct manager *m);
/* Stops the sampler; the console is freed once its timer has closed. */
void console_stop(struct console *con);

/*
 * Answers the console's own paths (/, /console/...) and refuses a session-borne call to
 * /api/ that fails the CSRF check; returns 1 when it answered, 0 to let the API go on.
 */
int console_handle(struct manager *m, struct http_conn *c, const struct http_request *req,
                   const uint8_t *body, size_t body_len);

/* 1 when req carries a live console session (and, for a call that changes state, its
 * CSRF token from the same site); else 0.  con may be NULL (no console: 0). */
int console_authorized(struct console *con, const struct http_request *req);

/* Adds a stream report's viewers by protocol into obj's "protocols" object (created when
 * missing; counts summed), for /api/v1/streams.  Nothing when the node sent none. */
void console_protocols_add(json_t *obj, const struct report_stream *rs);

/* Counters for /api/v1/manager: sessions, logins, refusals. */
json_t *console_stats_json(const struct console *con);

#endif
