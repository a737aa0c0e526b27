/* SPDX-License-Identifier: Apache-2.0 */
/* heartbeat.c - a node's report to the stream manager (see heartbeat.h). */
#include "proto/heartbeat.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json_get.h"
#include "core/mem.h"

static int name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > HEARTBEAT_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* "protocols": {"rtmp": 2, ...}, optional (older nodes do not send it). */
static int get_protocols(json_t *s, const char *prefix, struct report_stream *rs, char *err,
                         size_t n)
{
	json_t *o = json_object_get(s, "protocols");
	if (!o)
		return 0;
	char p[64];
	jfield_path(p, sizeof(p), prefix, "protocols");
	if (!json_is_object(o))
		return jfield_fail(err, n, "%s: expected an object of viewer counts", p);
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		size_t kl = strlen(k);
		if (kl == 0 || kl > 15 || strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789-") != kl)
			return jfield_fail(err, n, "%s: protocol names are 1-15 of a-z 0-9 -", p);
		if (rs->nprotocols == HEARTBEAT_MAX_PROTOCOLS)
			return jfield_fail(err, n, "%s: at most %d protocols", p, HEARTBEAT_MAX_PROTOCOLS);
		struct report_protocol *rp = &rs->protocols[rs->nprotocols];
		snprintf(rp->name, sizeof(rp->name), "%s", k);
		int rc = jfield_int(o, k, p, 0, INT32_MAX, 1, &rp->viewers, err, n);
		if (rc)
			return rc;
		rs->nprotocols++;
	}
	return 0;
}

static int get_name(json_t *obj, const char *key, char *out, char *err, size_t n)
{
	out[0] = '\0';
	int rc = jfield_str(obj, key, NULL, HEARTBEAT_NAME_MAX, 1, out, HEARTBEAT_NAME_MAX + 1, err, n);
	if (rc < 0)
		return rc;
	if (!name_valid(out))
		return jfield_fail(err, n, "%s: must be 1-64 characters of A-Z a-z 0-9 . _ -", key);
	return 0;
}

static int role_valid(const char *r)
{
	return strcmp(r, "origin") == 0 || strcmp(r, "edge") == 0 || strcmp(r, "relay") == 0 ||
	       strcmp(r, "standalone") == 0;
}

int node_report_parse(const char *text, size_t len, struct node_report *out, char *err,
                      size_t n)
{
	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return jfield_fail(err, n, "malformed JSON at line %d column %d: %s", je.line, je.column,
		            je.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return jfield_fail(err, n, "the body must be a JSON object");
	}
	json_t *o = root;
	int rc = get_name(o, "id", out->id, err, n);
	if (!rc)
		rc = get_name(o, "group", out->group, err, n);
	if (!rc)
		rc = jfield_str(o, "role", NULL, 15, 1, out->role, sizeof(out->role), err, n);
	if (!rc && !role_valid(out->role))
		rc = jfield_fail(err, n, "role: expected origin, edge, relay or standalone");
	if (!rc)
		rc = jfield_str(o, "host", NULL, 63, 1, out->host, sizeof(out->host), err, n);
	/* The host goes into URLs, headers and other nodes' boot scripts: a name or an address. */
	if (!rc && strspn(out->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                             "0123456789.:-_[]") != strlen(out->host))
		rc = jfield_fail(err, n, "host: expected a host name or an address");
	if (!rc)
		rc = jfield_int(o, "rtmpPort", NULL, 1, 65535, 1, &out->rtmp_port, err, n);
	if (!rc)
		rc = jfield_int(o, "httpPort", NULL, 1, 65535, 1, &out->http_port, err, n);
	if (!rc)
		rc = jfield_int(o, "srtPort", NULL, 0, 65535, 0, &out->srt_port, err, n);
	if (!rc)
		rc = jfield_int(o, "rtspPort", NULL, 0, 65535, 0, &out->rtsp_port, err, n);
	if (!rc)
		rc = jfield_int(o, "rtmpsPort", NULL, 0, 65535, 0, &out->rtmps_port, err, n);
	if (!rc)
		rc = jfield_int(o, "httpsPort", NULL, 0, 65535, 0, &out->https_port, err, n);
	if (!rc)
		rc = jfield_int(o, "connections", NULL, 0, INT32_MAX, 0, &out->connections, err, n);
	if (!rc)
		rc = jfield_int(o, "publishers", NULL, 0, INT32_MAX, 0, &out->publishers, err, n);
	if (!rc)
		rc = jfield_int(o, "viewers", NULL, 0, INT32_MAX, 0, &out->viewers, err, n);
	if (!rc)
		rc = jfield_int(o, "bandwidthInBps", NULL, 0, INT64_MAX, 0, &out->bw_in_bps, err, n);
	if (!rc)
		rc = jfield_int(o, "bandwidthOutBps", NULL, 0, INT64_MAX, 0, &out->bw_out_bps, err, n);
	if (!rc)
		rc = jfield_int(o, "memoryRssBytes", NULL, 0, INT64_MAX, 0, &out->rss_bytes, err, n);
	if (rc)
		goto done;
	json_t *cpu = json_object_get(o, "cpuPercent");
	if (cpu && !json_is_number(cpu)) {
		rc = jfield_fail(err, n, "cpuPercent: expected a number");
		goto done;
	}
	out->cpu_percent = cpu ? json_number_value(cpu) : 0;
	if (!(out->cpu_percent >= 0 && out->cpu_percent <= 100000)) {
		rc = jfield_fail(err, n, "cpuPercent: out of range");
		goto done;
	}
	const char *pcts[2] = { "systemCpuPercent", "memoryPercent" };
	double *pv[2] = { &out->sys_cpu_percent, &out->mem_percent };
	for (int i = 0; i < 2; i++) {
		json_t *v = json_object_get(o, pcts[i]);
		if (v && !json_is_number(v)) {
			rc = jfield_fail(err, n, "%s: expected a number", pcts[i]);
			goto done;
		}
		*pv[i] = v ? json_number_value(v) : 0;
		if (!(*pv[i] >= 0 && *pv[i] <= 100)) {
			rc = jfield_fail(err, n, "%s: out of range (0 to 100)", pcts[i]);
			goto done;
		}
	}
	rc = jfield_str(o, "overloaded", NULL, 7, 0, out->overloaded, sizeof(out->overloaded), err, n);
	if (!rc && out->overloaded[0] && strcmp(out->overloaded, "cpu") != 0 &&
	    strcmp(out->overloaded, "memory") != 0)
		rc = jfield_fail(err, n, "overloaded: expected \"\", \"cpu\" or \"memory\"");
	if (rc)
		goto done;
	json_t *streams = json_object_get(o, "streams");
	if (streams && !json_is_array(streams)) {
		rc = jfield_fail(err, n, "streams: expected an array");
		goto done;
	}
	size_t cnt = json_array_size(streams);
	if (cnt > HEARTBEAT_MAX_STREAMS)
		cnt = HEARTBEAT_MAX_STREAMS;
	if (cnt)
		out->streams = xcalloc(cnt, sizeof(*out->streams));
	for (size_t i = 0; i < cnt; i++) {
		json_t *s = json_array_get(streams, i);
		char p[48];
		snprintf(p, sizeof(p), "streams[%zu]", i);
		struct report_stream *rs = &out->streams[i];
		if (!json_is_object(s)) {
			rc = jfield_fail(err, n, "%s: expected an object", p);
			goto done;
		}
		rc = jfield_str(s, "app", p, 128, 1, rs->app, sizeof(rs->app), err, n);
		if (!rc)
			rc = jfield_str(s, "name", p, 128, 1, rs->name, sizeof(rs->name), err, n);
		if (!rc)
			rc = jfield_bool(s, "publishing", p, &rs->publishing, err, n);
		if (!rc)
			rc = jfield_int(s, "viewers", p, 0, INT32_MAX, 0, &rs->viewers, err, n);
		if (!rc)
			rc = get_protocols(s, p, rs, err, n);
		if (!rc && (!rs->app[0] || !rs->name[0]))
			rc = jfield_fail(err, n, "%s: app and name must not be empty", p);
		if (rc)
			goto done;
		out->nstreams++;
	}
done:
	json_decref(root);
	if (rc)
		node_report_free(out);
	return rc;
}

void node_report_free(struct node_report *r)
{
	free(r->streams);
	r->streams = NULL;
	r->nstreams = 0;
}

json_t *node_report_to_json(const struct node_report *r)
{
	json_t *streams = json_array();
	for (unsigned i = 0; i < r->nstreams; i++) {
		const struct report_stream *rs = &r->streams[i];
		json_t *s = json_pack("{s:s, s:s, s:b, s:I}", "app", rs->app, "name", rs->name,
		                      "publishing", rs->publishing, "viewers", (json_int_t)rs->viewers);
		if (rs->nprotocols) {
			json_t *pr = json_object();
			for (unsigned k = 0; k < rs->nprotocols && k < HEARTBEAT_MAX_PROTOCOLS; k++)
				json_object_set_new(pr, rs->protocols[k].name,
				                    json_integer((json_int_t)rs->protocols[k].viewers));
			json_object_set_new(s, "protocols", pr);
		}
		json_array_append_new(streams, s);
	}
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:o}",
	                 "id", r->id, "group", r->group, "role", r->role, "host", r->host,
	                 "rtmpPort", (json_int_t)r->rtmp_port, "httpPort", (json_int_t)r->http_port,
	                 "connections", (json_int_t)r->connections,
	                 "publishers", (json_int_t)r->publishers, "viewers", (json_int_t)r->viewers,
	                 "bandwidthInBps", (json_int_t)r->bw_in_bps,
	                 "bandwidthOutBps", (json_int_t)r->bw_out_bps, "cpuPercent", r->cpu_percent,
	                 "memoryRssBytes", (json_int_t)r->rss_bytes, "streams", streams);
	if (o) {
		json_object_set_new(o, "systemCpuPercent", json_real(r->sys_cpu_percent));
		json_object_set_new(o, "memoryPercent", json_real(r->mem_percent));
		json_object_set_new(o, "overloaded", json_string(r->overloaded));
	}
	if (o && r->srt_port > 0)
		json_object_set_new(o, "srtPort", json_integer((json_int_t)r->srt_port));
	if (o && r->rtsp_port > 0)
		json_object_set_new(o, "rtspPort", json_integer((json_int_t)r->rtsp_port));
	if (o && r->rtmps_port > 0)
		json_object_set_new(o, "rtmpsPort", json_integer((json_int_t)r->rtmps_port));
	if (o && r->https_port > 0)
		json_object_set_new(o, "httpsPort", json_integer((json_int_t)r->https_port));
	return o;
}

char *node_report_build(const struct node_report *r)
{
	json_t *j = node_report_to_json(r);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}
