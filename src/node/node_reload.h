/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node_reload.h - SIGHUP (`systemctl reload sluice-node`): re-reads the
 * config file and applies what can change without dropping a client.
 *
 * Reloadable (node_reload_keys): log-level; max-connections and the per-address
 * limits; the handshake, idle, publish, send and HTTP request timeouts; the
 * viewer lag limits; publish-secret, play-secret, api-token, metrics-token;
 * metrics-stream-labels; the cluster's retry-interval, upstream-timeout,
 * linger and pull-idle; hls-idle; the publisher, stream, partial-message,
 * RTMP command-rate and message-count limits; the pull gate (max-pulls,
 * pull-rate, pull-miss-hold, pull-miss-hold-max).  Every other key needs a restart: a change
 * to one is logged (config_needs_restart) and the running value stays.
 *
 * The new config is read as at start (defaults, the file, then the same
 * flags, which still win) and checked; a bad one is logged
 * (config_reload_failed, with the same message a start would print) and the
 * old config stays whole.  systemd is told RELOADING=1, then READY=1.
 */
#ifndef SLUICE_NODE_NODE_RELOAD_H
#define SLUICE_NODE_NODE_RELOAD_H

#include "node/node.h"

extern const char *const node_reload_keys[];

/* Remembers the command line (argv must outlive the node) and handles SIGHUP. */
void node_reload_start(struct node *n, int argc, char **argv);
/* Stops handling SIGHUP (the node is shutting down). */
void node_reload_stop(void);
/* Reloads now; 0 when the new config was read (and what may change applied), -1 if not. */
int node_reload(struct node *n);

#endif
