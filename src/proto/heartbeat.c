/* heartbeat.c - a node's report to the stream manager (see heartbeat.h). */
#include "proto/heartbeat.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/mem.h"

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return SL_EINVAL;
}

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

/* A short, printable rendering of a bad value for messages. */
static void describe(json_t *v, char *out, size_t n)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!s)
		snprintf(out, n, "?");
	else if (strlen(s) > 40)
		snprintf(out, n, "%.37s...", s);
	else
		snprintf(out, n, "%s", s);
	free(s);
}

static void field_path(char *out, size_t n, const char *prefix, const char *field)
{
	if (prefix && *prefix)
		snprintf(out, n, "%s.%s", prefix, field);
	else
		snprintf(out, n, "%s", field);
}

/* An integer written as a JSON integer or as a string of digits. */
static int get_int(json_t *obj, const char *key, const char *prefix, int64_t min, int64_t max,
                   int required, int64_t *out, char *err, size_t n)
{
	char path[160], got[48];
	field_path(path, sizeof(path), prefix, key);
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		if (required)
			return fail(err, n, "%s: required (an integer from %lld to %lld)", path,
			            (long long)min, (long long)max);
		return 0;
	}
	int64_t x;
	if (json_is_integer(v)) {
		x = (int64_t)json_integer_value(v);
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);
		char *end = NULL;
		errno = 0;
		long long ll = (len > 0 && len <= 19 && strlen(s) == len) ? strtoll(s, &end, 10) : 0;
		if (len == 0 || len > 19 || strlen(s) != len || errno || !end || *end ||
		    !((s[0] >= '0' && s[0] <= '9') || s[0] == '-')) {
			describe(v, got, sizeof(got));
			return fail(err, n, "%s: expected an integer from %lld to %lld, got %s", path,
			            (long long)min, (long long)max, got);
		}
		x = ll;
	} else {
		describe(v, got, sizeof(got));
		return fail(err, n, "%s: expected an integer from %lld to %lld, got %s", path,
		            (long long)min, (long long)max, got);
	}
	if (x < min || x > max)
		return fail(err, n, "%s: %lld is out of range (%lld to %lld)", path, (long long)x,
		            (long long)min, (long long)max);
	*out = x;
	return 0;
}

static int get_str(json_t *obj, const char *key, const char *prefix, size_t max, int required,
                   char *out, size_t out_size, char *err, size_t n)
{
	char path[160], got[48];
	field_path(path, sizeof(path), prefix, key);
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		if (required)
			return fail(err, n, "%s: required", path);
		return 0;
	}
	if (!json_is_string(v)) {
		describe(v, got, sizeof(got));
		return fail(err, n, "%s: expected a string, got %s", path, got);
	}
	size_t len = json_string_length(v);
	const char *s = json_string_value(v);
	if (len > max || len >= out_size)
		return fail(err, n, "%s: longer than %zu characters", path, max);
	if (strlen(s) != len)
		return fail(err, n, "%s: contains a NUL character", path);
	memcpy(out, s, len + 1);
	return 0;
}

static int get_name(json_t *obj, const char *key, char *out, char *err, size_t n)
{
	out[0] = '\0';
	int rc = get_str(obj, key, NULL, HEARTBEAT_NAME_MAX, 1, out, HEARTBEAT_NAME_MAX + 1, err, n);
	if (rc < 0)
		return rc;
	if (!name_valid(out))
		return fail(err, n, "%s: must be 1-64 characters of A-Z a-z 0-9 . _ -", key);
	return 0;
}

static int get_bool(json_t *obj, const char *key, const char *prefix, int *out, char *err,
                    size_t n)
{
	char path[160], got[48];
	field_path(path, sizeof(path), prefix, key);
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (json_is_string(v) && strcmp(json_string_value(v), "true") == 0) {
		*out = 1;
		return 0;
	}
	if (json_is_string(v) && strcmp(json_string_value(v), "false") == 0) {
		*out = 0;
		return 0;
	}
	describe(v, got, sizeof(got));
	return fail(err, n, "%s: expected true or false, got %s", path, got);
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
		return fail(err, n, "malformed JSON at line %d column %d: %s", je.line, je.column,
		            je.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return fail(err, n, "the body must be a JSON object");
	}
	json_t *o = root;
	int rc = get_name(o, "id", out->id, err, n);
	if (!rc)
		rc = get_name(o, "group", out->group, err, n);
	if (!rc)
		rc = get_str(o, "role", NULL, 15, 1, out->role, sizeof(out->role), err, n);
	if (!rc && !role_valid(out->role))
		rc = fail(err, n, "role: expected origin, edge, relay or standalone");
	if (!rc)
		rc = get_str(o, "host", NULL, 63, 1, out->host, sizeof(out->host), err, n);
	if (!rc)
		rc = get_int(o, "rtmpPort", NULL, 1, 65535, 1, &out->rtmp_port, err, n);
	if (!rc)
		rc = get_int(o, "httpPort", NULL, 1, 65535, 1, &out->http_port, err, n);
	if (!rc)
		rc = get_int(o, "srtPort", NULL, 0, 65535, 0, &out->srt_port, err, n);
	if (!rc)
		rc = get_int(o, "connections", NULL, 0, INT32_MAX, 0, &out->connections, err, n);
	if (!rc)
		rc = get_int(o, "publishers", NULL, 0, INT32_MAX, 0, &out->publishers, err, n);
	if (!rc)
		rc = get_int(o, "viewers", NULL, 0, INT32_MAX, 0, &out->viewers, err, n);
	if (!rc)
		rc = get_int(o, "bandwidthInBps", NULL, 0, INT64_MAX, 0, &out->bw_in_bps, err, n);
	if (!rc)
		rc = get_int(o, "bandwidthOutBps", NULL, 0, INT64_MAX, 0, &out->bw_out_bps, err, n);
	if (!rc)
		rc = get_int(o, "memoryRssBytes", NULL, 0, INT64_MAX, 0, &out->rss_bytes, err, n);
	if (rc)
		goto done;
	json_t *cpu = json_object_get(o, "cpuPercent");
	if (cpu && !json_is_number(cpu)) {
		rc = fail(err, n, "cpuPercent: expected a number");
		goto done;
	}
	out->cpu_percent = cpu ? json_number_value(cpu) : 0;
	if (!(out->cpu_percent >= 0 && out->cpu_percent <= 100000)) {
		rc = fail(err, n, "cpuPercent: out of range");
		goto done;
	}
	json_t *streams = json_object_get(o, "streams");
	if (streams && !json_is_array(streams)) {
		rc = fail(err, n, "streams: expected an array");
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
			rc = fail(err, n, "%s: expected an object", p);
			goto done;
		}
		rc = get_str(s, "app", p, 128, 1, rs->app, sizeof(rs->app), err, n);
		if (!rc)
			rc = get_str(s, "name", p, 128, 1, rs->name, sizeof(rs->name), err, n);
		if (!rc)
			rc = get_bool(s, "publishing", p, &rs->publishing, err, n);
		if (!rc)
			rc = get_int(s, "viewers", p, 0, INT32_MAX, 0, &rs->viewers, err, n);
		if (!rc && (!rs->app[0] || !rs->name[0]))
			rc = fail(err, n, "%s: app and name must not be empty", p);
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
	for (unsigned i = 0; i < r->nstreams; i++)
		json_array_append_new(streams, json_pack("{s:s, s:s, s:b, s:I}", "app",
		                      r->streams[i].app, "name", r->streams[i].name, "publishing",
		                      r->streams[i].publishing, "viewers",
		                      (json_int_t)r->streams[i].viewers));
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:I, s:o}",
	                 "id", r->id, "group", r->group, "role", r->role, "host", r->host,
	                 "rtmpPort", (json_int_t)r->rtmp_port, "httpPort", (json_int_t)r->http_port,
	                 "connections", (json_int_t)r->connections,
	                 "publishers", (json_int_t)r->publishers, "viewers", (json_int_t)r->viewers,
	                 "bandwidthInBps", (json_int_t)r->bw_in_bps,
	                 "bandwidthOutBps", (json_int_t)r->bw_out_bps, "cpuPercent", r->cpu_percent,
	                 "memoryRssBytes", (json_int_t)r->rss_bytes, "streams", streams);
	if (j && r->srt_port > 0)
		json_object_set_new(j, "srtPort", json_integer((json_int_t)r->srt_port));
	return j;
}

char *node_report_build(const struct node_report *r)
{
	json_t *j = node_report_to_json(r);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	return s;
}
