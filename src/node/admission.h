/* SPDX-License-Identifier: Apache-2.0 */
/*
 * admission.h - a node refuses new publishers and viewers while the machine
 * is above its CPU or memory limit (cpu-limit, memory-limit; Ant Media's
 * server.cpu_limit / server.memory_limit, 75 % by default), says so in its
 * stats, /metrics and heartbeats, and answers Ant Media's
 * /rest/v2/system-resources-info and /rest/v2/cluster-nodes from what it holds.
 */
#ifndef SLUICE_NODE_ADMISSION_H
#define SLUICE_NODE_ADMISSION_H

#include <jansson.h>
#include <stddef.h>

#include "core/bytes.h"
#include "core/http_server.h"
#include "node/node.h"

enum overload { OVERLOAD_NONE, OVERLOAD_CPU, OVERLOAD_MEMORY };

/* Whether the machine is at or above a limit now (OVERLOAD_NONE until measured). */
enum overload node_overload(const struct node *n);
/* 0 when a new publisher or viewer (what: "publish", "play") may come in; otherwise -1
 * with why set to the message for the client, the refusal counted and logged (throttled). */
int node_admit(struct node *n, const char *what, const char *peer, char *why, size_t why_size);
/*
 * 0 when one more publisher from the address ipkey (iplimit_key) fits max-publishers and
 * max-publishers-per-ip; otherwise -1 with *limit set to the setting's name and the
 * refusal counted (publish_refused, publish_refused_limit).  For SRT and RTSP.
 */
int node_publisher_room(struct node *n, const char *ipkey, const char **limit);
/* {"cpuLimit", "memoryLimit", "systemCpuPercent", "memoryPercent", "overloaded", "refused"} */
/*
 * A publisher begins or ends, whatever its protocol: the node's and its address's publisher
 * counts that node_publisher_room checks (and stats.publishes on begin).  Each begin is
 * matched by exactly one end; the caller keeps the flag that says it began.
 */
void node_publisher_begin(struct node *n, const char *ipkey);
void node_publisher_end(struct node *n, const char *ipkey);
json_t *node_admission_json(const struct node *n);
/* Prometheus lines for /metrics. */
void node_admission_metrics(const struct node *n, struct bytes *b);
/* Answers /rest/v2/... on the node; 1 if the path was one of Ant Media's. */
int node_antmedia_handle(struct node *n, struct http_conn *c, const struct http_request *req);

#endif
