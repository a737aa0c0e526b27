/* SPDX-License-Identifier: Apache-2.0 */
/*
 * console_history.h - what the console's charts draw: the last hour of
 * viewers, outgoing bandwidth and CPU per group, per node and per stream,
 * sampled at a fixed interval into rings kept in the manager's memory.
 *
 * Bounded: the window is a fixed number of points (an hour at the sample
 * interval, at most CONSOLE_HISTORY_POINTS_MAX) and there are at most
 * CONSOLE_SERIES_MAX series; a series not seen for a whole window gives up
 * its slot, and one that finds no free slot is not kept (counted in
 * `dropped`).  Pure: times come in as arguments.
 */
#ifndef SLUICE_MANAGER_CONSOLE_HISTORY_H
#define SLUICE_MANAGER_CONSOLE_HISTORY_H

#include <jansson.h>
#include <stdint.h>

#define CONSOLE_HISTORY_WINDOW_MS 3600000ull
#define CONSOLE_HISTORY_POINTS_MAX 3600
#define CONSOLE_SERIES_MAX 128
#define CONSOLE_SERIES_NAME_MAX 260

enum console_series_kind { CS_GROUP, CS_NODE, CS_STREAM };

struct console_series {
	enum console_series_kind kind;
	char name[CONSOLE_SERIES_NAME_MAX + 1];  /* "" when the slot is free */
	unsigned last_sample;                    /* sample number it was last seen in */
	float *viewers, *bw_out_bps, *cpu;       /* npoints each; NaN where not seen */
};

struct console_history {
	unsigned npoints;
	unsigned head;          /* slot of the newest point */
	unsigned filled;        /* points taken so far, up to npoints */
	unsigned sample_no;     /* points taken in all (1 after the first) */
	uint64_t *t_ms;         /* wall-clock time of each point */
	struct console_series series[CONSOLE_SERIES_MAX];
	uint64_t dropped;       /* values not kept: every series slot was taken */
};

void console_history_init(struct console_history *h, uint64_t interval_ms);
void console_history_free(struct console_history *h);
/* Opens a new point at now_ms: every series gets NaN there until console_history_put. */
void console_history_tick(struct console_history *h, uint64_t now_ms);
/* Sets (adds to, with add) a series' values at the newest point; a negative bw_out_bps
 * or cpu leaves that one NaN.
 * Returns 0, or -1 when there is no room for a new series. */
int console_history_put(struct console_history *h, enum console_series_kind kind,
                        const char *name, double viewers, double bw_out_bps, double cpu,
                        int add);
/* {"t": [ms...], "series": [{"kind", "name", "viewers": [...], "bwOutBps", "cpu"}]}, oldest
 * point first, null where a series has no value. */
json_t *console_history_json(const struct console_history *h);

#endif
