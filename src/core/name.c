/* SPDX-License-Identifier: Apache-2.0 */
/* name.c - name checks shared by every part (see name.h). */
#include "core/name.h"

#include <string.h>

int stream_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > STREAM_NAME_MAX || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("_.~@+=-", c)))
			return 0;
	}
	return 1;
}

int app_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > STREAM_NAME_MAX)
		return 0;
	char level[STREAM_NAME_MAX + 1];
	for (const char *p = s;;) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		memcpy(level, p, len);
		level[len] = '\0';
		if (!stream_name_valid(level))
			return 0;
		if (!slash)
			return 1;
		p = slash + 1;
	}
}
