/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log.h - structured logs: one event per line, key=value, to stderr.
 *
 *   ts=2026-11-22T18:07:00.123Z level=info event=publish_start client=7 app=live stream=cam1
 *
 * The event name comes first so lines grep well; the format string carries
 * the rest.  Values that come from peers (names, user agents) must go
 * through log_escape() so a hostile byte cannot forge a line.  Secrets and
 * tokens are never passed here.
 */
#ifndef SLUICE_CORE_LOG_H
#define SLUICE_CORE_LOG_H

#include <stddef.h>

#include "core/ratelimit.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Parses "debug", "info", "warn" or "error"; returns -1 if none. */
int log_level_parse(const char *s);

void log_emit(enum log_level lvl, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...) \
	do { if (log_get_level() <= LOG_DEBUG) log_emit(LOG_DEBUG, ev, __VA_ARGS__); } while (0)
#define log_info(ev, ...) log_emit(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_emit(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_emit(LOG_ERROR, ev, __VA_ARGS__)

/*
 * Throttled lines, for events a peer can trigger at will (refusals): at most
 * per_sec lines a second pass through one limiter; the rest are counted, and
 * the next line that passes ends with " suppressed=N".  log_limited() takes
 * the limiter; log_throttled() keeps one per call site.
 */
#define LOG_THROTTLE_PER_SEC 10 /* the usual rate for a refusal's line */
void log_limited(struct log_throttle *lim, uint32_t per_sec, enum log_level lvl,
                 const char *event, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define log_throttled(lvl, ev, ...) \
	do { \
		static struct log_throttle log_site_; \
		log_limited(&log_site_, LOG_THROTTLE_PER_SEC, lvl, ev, __VA_ARGS__); \
	} while (0)

/*
 * Writes s into out (size n) as a log-safe value: printable ASCII other
 * than '"' '\\' and '=' and space is copied; anything else becomes \xHH.
 * Long values are cut with "...".  Returns out.
 */
const char *log_escape(const char *s, char *out, size_t n);

/*
 * Like log_escape for text shown to a person (sluice ctl's tables): spaces
 * and '"' '=' are kept; control bytes (terminal escapes), DEL, '\\' and
 * bytes over 0x7f become \xHH, so a peer-chosen name cannot move the
 * cursor, recolour or rewrite the operator's terminal.
 */
const char *log_escape_text(const char *s, char *out, size_t n);

#endif
