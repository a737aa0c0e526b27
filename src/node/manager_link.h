/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manager_link.h - a node's link to the stream manager (`manager` and
 * `group` settings): it registers, then sends a signed heartbeat with its
 * stats every second, over a small HTTP/1.1 client on the node's own loop
 * (nothing blocks).  When the manager is away the node keeps streaming and
 * retries every second; when it answers again the node registers again.
 */
#ifndef SLUICE_NODE_MANAGER_LINK_H
#define SLUICE_NODE_MANAGER_LINK_H

#include <stddef.h>

struct node;

/* Checks the settings (manager needs group and cluster-secret); -1 with err set. */
int manager_link_init(struct node *n, char *err, size_t err_size);
/* Starts the heartbeat when a manager is configured (no-op otherwise). */
void manager_link_start(struct node *n);
/* Stops it (node shutdown). */
void manager_link_stop(void);

#endif
