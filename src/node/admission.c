/* SPDX-License-Identifier: Apache-2.0 */
/* admission.c - refusing new clients above the machine's CPU or memory limit, and Ant
 * Media's resource and cluster-node views of this node (see admission.h). */
#include "node/admission.h"

#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/name.h"

static const char *const overload_names[] = { "none", "cpu", "memory" };

enum overload node_overload(const struct node *n)
{
	const struct sysload *l = &n->load;
	if (!l->known)
		return OVERLOAD_NONE;
	if (n->cfg->cpu_limit < 100 && l->cpu_percent >= (double)n->cfg->cpu_limit)
		return OVERLOAD_CPU;
	if (n->cfg->memory_limit < 100 && l->mem_percent >= (double)n->cfg->memory_limit)
		return OVERLOAD_MEMORY;
	return OVERLOAD_NONE;
}

int node_admit(struct node *n, const char *what, const char *peer, char *why, size_t why_size)
{
	enum overload o = node_overload(n);
	if (o == OVERLOAD_NONE)
		return 0;
	n->overload_refused[o == OVERLOAD_CPU ? 0 : 1]++;
	if (o == OVERLOAD_CPU)
		snprintf(why, why_size, "this node is overloaded: CPU %.0f%% is at or above its "
		         "cpu-limit of %lld%%; try another node", n->load.cpu_percent,
		         (long long)n->cfg->cpu_limit);
	else
		snprintf(why, why_size, "this node is overloaded: memory in use %.0f%% is at or above "
		         "its memory-limit of %lld%%; try another node", n->load.mem_percent,
		         (long long)n->cfg->memory_limit);
	log_throttled(LOG_INFO, "admission_refused", "what=%s peer=%s reason=%s cpu=%.1f "
	              "memory=%.1f", what, peer, overload_names[o], n->load.cpu_percent,
	              n->load.mem_percent);
	return -1;
}

json_t *node_admission_json(const struct node *n)
{
	return json_pack("{s:I, s:I, s:f, s:f, s:b, s:s, s:{s:I, s:I}}",
	                 "cpuLimit", (json_int_t)n->cfg->cpu_limit,
	                 "memoryLimit", (json_int_t)n->cfg->memory_limit,
	                 "systemCpuPercent", n->load.cpu_percent,
	                 "memoryPercent", n->load.mem_percent,
	                 "overloaded", node_overload(n) != OVERLOAD_NONE,
	                 "reason", overload_names[node_overload(n)],
	                 "refused", "cpu", (json_int_t)n->overload_refused[0],
	                 "memory", (json_int_t)n->overload_refused[1]);
}

void node_admission_metrics(const struct node *n, struct bytes *b)
{
	bytes_printf(b, "# HELP sluice_admission_refused_total New publishers and viewers refused "
	             "above cpu-limit or memory-limit.\n# TYPE sluice_admission_refused_total "
	             "counter\n");
	bytes_printf(b, "sluice_admission_refused_total{reason=\"cpu\"} %llu\n",
	             (unsigned long long)n->overload_refused[0]);
	bytes_printf(b, "sluice_admission_refused_total{reason=\"memory\"} %llu\n",
	             (unsigned long long)n->overload_refused[1]);
	bytes_printf(b, "# HELP sluice_overloaded 1 while the machine is above a limit.\n"
	             "# TYPE sluice_overloaded gauge\nsluice_overloaded %d\n",
	             node_overload(n) != OVERLOAD_NONE);
	bytes_printf(b, "# HELP sluice_system_cpu_percent The machine's CPU load (all cores).\n"
	             "# TYPE sluice_system_cpu_percent gauge\nsluice_system_cpu_percent %.1f\n",
	             n->load.cpu_percent);
	bytes_printf(b, "# HELP sluice_system_memory_percent The machine's memory in use.\n"
	             "# TYPE sluice_system_memory_percent gauge\nsluice_system_memory_percent "
	             "%.1f\n", n->load.mem_percent);
}

/* Ant Media's /rest/v2/system-resources-info, with what this node measures. */
static json_t *resources_json(struct node *n)
{
	uint32_t viewers[WIRE_COUNT] = { 0 };
	unsigned live = 0;
	size_t it = 0;
	void *v;
	while (strmap_next(&n->streams.map, &it, NULL, &v)) {
		struct stream *s = v;
		live += s->publisher_id != 0;
		for (int i = 0; i < WIRE_COUNT; i++)
			viewers[i] += s->fanout.nviewers[i];
	}
	const struct sysload *l = &n->load;
	json_t *o = json_pack("{s:{s:I, s:i, s:f}, s:{s:s, s:i}, s:{s:I, s:I, s:I, s:I}, "
	                      "s:{s:I}, s:i, s:i, s:i, s:i, s:i, s:i}",
	                      "cpuUsage", "processCPUTime", (json_int_t)n->sys.cpu_total_us,
	                      "systemCPULoad", (int)(l->cpu_percent + 0.5),
	                      "processCPULoad", n->sys.cpu_percent,
	                      "systemInfo", "osName", "Linux", "processorCount", (int)l->cpus,
	                      "systemMemoryInfo", "totalMemory", (json_int_t)l->mem_total_bytes,
	                      "freeMemory", (json_int_t)l->mem_available_bytes,
	                      "availableMemory", (json_int_t)l->mem_available_bytes,
	                      "inUseMemory", (json_int_t)(l->mem_total_bytes - l->mem_available_bytes),
	                      "processMemoryUsage", "inUseMemory", (json_int_t)n->sys.rss_bytes,
	                      "totalLiveStreamSize", (int)live,
	                      "localWebRTCViewers", 0, "localHLSViewers", 0, "localDASHViewers", 0,
	                      "localRTMPViewers", (int)viewers[WIRE_RTMP],
	                      "localHTTPFLVViewers", (int)viewers[WIRE_FLV]);
	json_object_set_new(o, "admission", node_admission_json(n));
	return o;
}

/* A cluster member as Ant Media's ClusterNode. */
static json_t *member_json(struct node *n, const struct member *m, int self)
{
	uint64_t now = uv_now(n->loop);
	uint64_t age = self ? 0 : now - m->seen_ms;
	char cpu[16] = "", mem[16] = "";
	if (self) {
		snprintf(cpu, sizeof(cpu), "%.0f", n->load.cpu_percent);
		snprintf(mem, sizeof(mem), "%.0f", n->load.mem_percent);
	}
	return json_pack("{s:s, s:s, s:I, s:s, s:s?, s:s?, s:s, s:i, s:i}", "id", m->name,
	                 "ip", m->host, "lastUpdateTime", (json_int_t)(clock_wall_ms() - age),
	                 "status", "ALIVE", "cpu", self ? cpu : NULL, "memory", self ? mem : NULL,
	                 "role", m->role[0] ? m->role : cluster_role_name(n->cluster.role),
	                 "rtmpPort", m->rtmp_port, "httpPort", m->http_port);
}

int node_antmedia_handle(struct node *n, struct http_conn *c, const struct http_request *req)
{
	static const char base[] = "/rest/v2/";
	if (req->path_len < sizeof(base) - 1 || memcmp(req->path, base, sizeof(base) - 1) != 0)
		return 0;
	char rest[160];
	if (http_url_decode(req->path + sizeof(base) - 1, req->path_len - (sizeof(base) - 1), rest,
	                    sizeof(rest), 0) < 0) {
		http_respond_error(c, 404, "no such Ant Media endpoint");
		return 1;
	}
	if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
		http_respond_error(c, 405, "use GET");
		return 1;
	}
	if (strcmp(rest, "system-resources-info") == 0) {
		http_respond_json(c, 200, resources_json(n));
		return 1;
	}
	const struct members *ms = &n->cluster.members;
	struct members alone;
	if (ms->n == 0) {
		/* Not clustered: this node alone. */
		memset(&alone, 0, sizeof(alone));
		const struct node_config *cfg = n->cfg;
		snprintf(alone.m[0].name, sizeof(alone.m[0].name), "%s", n->name);
		snprintf(alone.m[0].host, sizeof(alone.m[0].host), "%s",
		         cfg->public_host && *cfg->public_host ? cfg->public_host : cfg->bind);
		alone.m[0].rtmp_port = (int)(cfg->public_rtmp_port ? cfg->public_rtmp_port
		                                                   : cfg->rtmp_port);
		alone.m[0].http_port = (int)(cfg->public_http_port ? cfg->public_http_port
		                                                   : cfg->http_port);
		alone.n = 1;
		ms = &alone;
	}
	if (strcmp(rest, "cluster-nodes") == 0) {
		json_t *arr = json_array();
		for (unsigned i = 0; i < ms->n; i++)
			json_array_append_new(arr, member_json(n, &ms->m[i], i == 0));
		http_respond_json(c, 200, arr);
		return 1;
	}
	if (strcmp(rest, "cluster-nodes/count") == 0) {
		http_respond_json(c, 200, json_pack("{s:i}", "number", ms->n));
		return 1;
	}
	if (strncmp(rest, "cluster-nodes/", 14) == 0) {
		for (unsigned i = 0; i < ms->n; i++)
			if (strcmp(ms->m[i].name, rest + 14) == 0) {
				http_respond_json(c, 200, member_json(n, &ms->m[i], i == 0));
				return 1;
			}
		http_respond_error(c, 404, "no cluster node of that id");
		return 1;
	}
	http_respond_error(c, 404, "no such Ant Media endpoint");
	return 1;
}

void node_publisher_begin(struct node *n, const char *ipkey)
{
	n->publishers++;
	ipcount_add(&n->publishers_by_ip, ipkey, 1);
	n->stats.publishes++;
}

void node_publisher_end(struct node *n, const char *ipkey)
{
	n->publishers--;
	ipcount_add(&n->publishers_by_ip, ipkey, -1);
}

int node_publisher_room(struct node *n, const char *ipkey, const char **limit)
{
	const struct node_config *cfg = n->cfg;
	enum node_limit_refusal which;
	if (n->publishers >= (uint64_t)cfg->max_publishers) {
		which = LIMIT_PUBLISHERS;
		*limit = "max-publishers";
	} else if (cfg->max_publishers_per_ip &&
	           ipcount_get(&n->publishers_by_ip, ipkey) >= (uint64_t)cfg->max_publishers_per_ip) {
		which = LIMIT_PUBLISHERS_PER_IP;
		*limit = "max-publishers-per-ip";
	} else {
		return 0;
	}
	n->stats.publish_refused++;
	n->stats.publish_refused_limit[which]++;
	return -1;
}

