/* SPDX-License-Identifier: Apache-2.0 */
/* json_get.c - reading fields of untrusted JSON objects (see json_get.h). */
#include "core/json_get.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

int jfield_fail(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return SL_EINVAL;
}

void jfield_describe(json_t *v, char *out, size_t n)
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

void jfield_path(char *out, size_t n, const char *prefix, const char *field)
{
	if (prefix && *prefix)
		snprintf(out, n, "%s.%s", prefix, field);
	else
		snprintf(out, n, "%s", field);
}

int jfield_int(json_t *obj, const char *key, const char *prefix, int64_t min, int64_t max,
               int required, int64_t *out, char *err, size_t n)
{
	char path[160], got[48];
	jfield_path(path, sizeof(path), prefix, key);
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		if (required)
			return jfield_fail(err, n, "%s: required (an integer from %lld to %lld)", path,
			            (long long)min, (long long)max);
		return 0;
	}
	int64_t x;
	if (json_is_integer(v)) {
		x = (int64_t)json_integer_value(v);
	} else if (json_is_real(v)) {
		/* Red5's provisioning scripts write 40.0: a whole number is an integer. */
		double d = json_real_value(v);
		if (!(d >= -9.0e18 && d <= 9.0e18) || d != (double)(int64_t)d) {
			jfield_describe(v, got, sizeof(got));
			return jfield_fail(err, n, "%s: expected an integer from %lld to %lld, got %s", path,
			            (long long)min, (long long)max, got);
		}
		x = (int64_t)d;
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t len = json_string_length(v);
		char *end;
		errno = 0;
		long long ll = (len > 0 && len <= 19 && strlen(s) == len) ? strtoll(s, &end, 10) : 0;
		if (len == 0 || len > 19 || strlen(s) != len || errno || *end ||
		    !((s[0] >= '0' && s[0] <= '9') || s[0] == '-')) {
			jfield_describe(v, got, sizeof(got));
			return jfield_fail(err, n, "%s: expected an integer from %lld to %lld, got %s", path,
			            (long long)min, (long long)max, got);
		}
		x = ll;
	} else {
		jfield_describe(v, got, sizeof(got));
		return jfield_fail(err, n, "%s: expected an integer from %lld to %lld, got %s", path,
		            (long long)min, (long long)max, got);
	}
	if (x < min || x > max)
		return jfield_fail(err, n, "%s: %lld is out of range (%lld to %lld)", path, (long long)x,
		            (long long)min, (long long)max);
	*out = x;
	return 0;
}

int jfield_str(json_t *obj, const char *key, const char *prefix, size_t max, int required,
               char *out, size_t out_size, char *err, size_t n)
{
	char path[160], got[48];
	jfield_path(path, sizeof(path), prefix, key);
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v)) {
		if (required)
			return jfield_fail(err, n, "%s: required", path);
		return 0;
	}
	if (!json_is_string(v)) {
		jfield_describe(v, got, sizeof(got));
		return jfield_fail(err, n, "%s: expected a string, got %s", path, got);
	}
	size_t len = json_string_length(v);
	const char *s = json_string_value(v);
	if (len > max || len >= out_size)
		return jfield_fail(err, n, "%s: longer than %zu characters", path, max);
	if (strlen(s) != len)
		return jfield_fail(err, n, "%s: contains a NUL character", path);
	memcpy(out, s, len + 1);
	return 0;
}

int jfield_bool(json_t *obj, const char *key, const char *prefix, int *out, char *err,
                size_t n)
{
	char path[160], got[48];
	jfield_path(path, sizeof(path), prefix, key);
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
	jfield_describe(v, got, sizeof(got));
	return jfield_fail(err, n, "%s: expected true or false, got %s", path, got);
}
