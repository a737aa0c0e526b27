/* SPDX-License-Identifier: Apache-2.0 */
/* log.c - structured logging (see log.h). */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core/clock.h"

static enum log_level min_level = LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level lvl)
{
	min_level = lvl;
}

enum log_level log_get_level(void)
{
	return min_level;
}

int log_level_parse(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

static void emit(enum log_level lvl, const char *event, uint64_t suppressed,
                 const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void emit(enum log_level lvl, const char *event, uint64_t suppressed,
                 const char *fmt, va_list ap)
{
	char line[2048];
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	int n = snprintf(line, sizeof(line),
	                 "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s event=%s",
	                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	                 tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000),
	                 level_names[lvl], event);
	if (n < 0)
		return;
	if (fmt && *fmt && (size_t)n < sizeof(line) - 2) {
		line[n++] = ' ';
		int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		if (m > 0)
			n += m;
	}
	if (suppressed && (size_t)n < sizeof(line) - 2) {
		int m = snprintf(line + n, sizeof(line) - (size_t)n, " suppressed=%llu",
		                 (unsigned long long)suppressed);
		if (m > 0)
			n += m;
	}
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	fwrite(line, 1, (size_t)n, stderr);
}

void log_emit(enum log_level lvl, const char *event, const char *fmt, ...)
{
	if (lvl < min_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	emit(lvl, event, 0, fmt, ap);
	va_end(ap);
}

void log_limited(struct log_throttle *lim, uint32_t per_sec, enum log_level lvl,
                 const char *event, const char *fmt, ...)
{
	uint64_t suppressed = 0;
	if (lvl < min_level || !log_throttle_pass(lim, clock_mono_ms(), per_sec, &suppressed))
		return;
	va_list ap;
	va_start(ap, fmt);
	emit(lvl, event, suppressed, fmt, ap);
	va_end(ap);
}

static const char *escape(const char *s, char *out, size_t n, int text)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (n == 0)
		return out;
	if (!s)
		s = "";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int plain = text ? c >= 0x20 && c < 0x7f && c != '\\'
		                 : c > 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '=';
		size_t need = plain ? 1 : 4;
		if (o + need + 4 > n) { /* room for "..." and NUL */
			if (o + 4 <= n) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (plain) {
			out[o++] = (char)c;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

const char *log_escape(const char *s, char *out, size_t n)
{
	return escape(s, out, n, 0);
}

const char *log_escape_text(const char *s, char *out, size_t n)
{
	return escape(s, out, n, 1);
}
