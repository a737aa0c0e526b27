/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_antmedia.c - Ant Media Server's cluster paths on the manager, in Ant
 * Media's field names, from what the manager already holds (docs/api.md):
 *
 *   GET /rest/v2/cluster-nodes                 [ClusterNode], one per node the manager knows
 *   GET /rest/v2/cluster-nodes/{id}            ClusterNode
 *   GET /rest/v2/cluster-nodes/count           {"number": N}
 *   GET /rest/v2/cluster-nodes/list/{offset}/{size}   a page of the list
 *   GET /rest/v2/system-resources-info         the cluster's totals and the nodes' machine load
 *
 * A ClusterNode is {"id", "ip", "lastUpdateTime", "status": ALIVE|DEAD, "cpu", "memory"}
 * (cpu and memory as Ant Media writes them: strings of percentages), with sluice's role,
 * group, state and ports added.  The admin token guards them, like /api/v1.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "manager/manager.h"

#define AM_PAGE_MAX 1000   /* nodes one paged answer lists */

static json_t *cluster_node(const struct mnode *nd)
{
	char cpu[16], mem[16];
	snprintf(cpu, sizeof(cpu), "%.0f", nd->rep.sys_cpu_percent);
	snprintf(mem, sizeof(mem), "%.0f", nd->rep.mem_percent);
	/* Ant Media has two states: a node is ALIVE while it reports, DEAD after. */
	const char *status = nd->state == NS_DEAD || nd->last_seen_ms == 0 ? "DEAD" : "ALIVE";
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:i, s:i, s:b}",
	                 "id", nd->id, "ip", nd->place.host,
	                 "lastUpdateTime", (json_int_t)nd->last_seen_ms, "status", status,
	                 "cpu", cpu, "memory", mem, "dbQueryAverageTimeMs", 0,
	                 "role", mrole_name(nd->role), "group", nd->group,
	                 "state", node_state_name(nd->state), "rtmpPort", nd->place.rtmp_port,
	                 "httpPort", nd->place.http_port, "overloaded", nd->rep.overloaded[0] != 0);
}

static json_t *resources(struct manager *m)
{
	int64_t viewers = 0, publishers = 0, conns = 0;
	double cpu = 0, mem = 0;
	unsigned alive = 0, live = 0, overloaded = 0;
	struct list_node *it;
	list_for_each(it, &m->nodes) {
		struct mnode *nd = list_entry(it, struct mnode, link);
		if (nd->state != NS_ALIVE && nd->state != NS_DRAINING)
			continue;
		alive++;
		viewers += nd->rep.viewers;
		publishers += nd->rep.publishers;
		conns += nd->rep.connections;
		cpu += nd->rep.sys_cpu_percent;
		mem += nd->rep.mem_percent;
		overloaded += nd->rep.overloaded[0] != 0;
		for (unsigned i = 0; i < nd->rep.nstreams; i++)
			live += nd->rep.streams[i].publishing != 0;
	}
	return json_pack("{s:{s:i}, s:i, s:I, s:I, s:I, s:i, s:i, s:i, s:{s:i, s:f, s:f, s:i}}",
	                 "cpuUsage", "systemCPULoad", alive ? (int)(cpu / alive + 0.5) : 0,
	                 "totalLiveStreamSize", (int)live, "totalViewers", (json_int_t)viewers,
	                 "totalPublishers", (json_int_t)publishers,
	                 "totalConnections", (json_int_t)conns,
	                 "localWebRTCViewers", 0, "localHLSViewers", 0, "localDASHViewers", 0,
	                 "cluster", "aliveNodes", (int)alive,
	                 "meanCpuPercent", alive ? cpu / alive : 0.0,
	                 "meanMemoryPercent", alive ? mem / alive : 0.0,
	                 "overloadedNodes", (int)overloaded);
}

int mgr_antmedia_handle(struct manager *m, struct http_conn *c, const struct http_request *req)
{
	static const char base[] = "/rest/v2/";
	char rest[200];
	if (req->path_len < sizeof(base) - 1 || memcmp(req->path, base, sizeof(base) - 1) != 0 ||
	    http_url_decode(req->path + sizeof(base) - 1, req->path_len - (sizeof(base) - 1), rest,
	                    sizeof(rest), 0) < 0)
		return 0;
	if (!mgr_authorized(m, req)) {
		http_add_header(c, "WWW-Authenticate", "Bearer");
		http_respond_error(c, 401, "missing or wrong admin token");
		return 1;
	}
	if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
		http_respond_error(c, 405, "use GET");
		return 1;
	}
	if (strcmp(rest, "system-resources-info") == 0) {
		http_respond_json(c, 200, resources(m));
		return 1;
	}
	if (strcmp(rest, "cluster-nodes") == 0) {
		json_t *arr = json_array();
		struct list_node *it;
		list_for_each(it, &m->nodes)
			json_array_append_new(arr, cluster_node(list_entry(it, struct mnode, link)));
		http_respond_json(c, 200, arr);
		return 1;
	}
	unsigned off, size;
	char tail;
	if (sscanf(rest, "cluster-nodes/list/%u/%u%c", &off, &size, &tail) == 2) {
		/* Ant Media's paged form: nodes [off, off + size), at most AM_PAGE_MAX. */
		json_t *arr = json_array();
		unsigned i = 0;
		struct list_node *it;
		list_for_each(it, &m->nodes) {
			if (i >= off && json_array_size(arr) < size && json_array_size(arr) < AM_PAGE_MAX)
				json_array_append_new(arr, cluster_node(list_entry(it, struct mnode, link)));
			i++;
		}
		http_respond_json(c, 200, arr);
		return 1;
	}
	if (strcmp(rest, "cluster-nodes/count") == 0) {
		http_respond_json(c, 200, json_pack("{s:i}", "number", (int)m->nnodes));
		return 1;
	}
	if (strncmp(rest, "cluster-nodes/", 14) == 0) {
		struct mnode *nd = mgr_node_find(m, rest + 14);
		if (!nd) {
			http_respond_error(c, 404, "no cluster node of that id");
			return 1;
		}
		http_respond_json(c, 200, cluster_node(nd));
		return 1;
	}
	return 0;
}
