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
