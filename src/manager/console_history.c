/* SPDX-License-Identifier: Apache-2.0 */
/* console_history.c - the console's chart rings (see console_history.h). */
#include "manager/console_history.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/mem.h"

void console_history_init(struct console_history *h, uint64_t interval_ms)
{
	memset(h, 0, sizeof(*h));
	if (!interval_ms)
		interval_ms = 1000;
	uint64_t n = (CONSOLE_HISTORY_WINDOW_MS + interval_ms - 1) / interval_ms;
	h->npoints = n > CONSOLE_HISTORY_POINTS_MAX ? CONSOLE_HISTORY_POINTS_MAX :
	             n < 2 ? 2 : (unsigned)n;
	h->t_ms = xcalloc(h->npoints, sizeof(*h->t_ms));
}

static void series_free(struct console_series *s)
{
	free(s->viewers);
	free(s->bw_out_bps);
	free(s->cpu);
	memset(s, 0, sizeof(*s));
}

void console_history_free(struct console_history *h)
{
	for (unsigned i = 0; i < CONSOLE_SERIES_MAX; i++)
		series_free(&h->series[i]);
	free(h->t_ms);
	h->t_ms = NULL;
}

static float *nan_array(unsigned n)
{
	float *a = xcalloc(n, sizeof(*a));
	for (unsigned i = 0; i < n; i++)
		a[i] = NAN;
	return a;
}

void console_history_tick(struct console_history *h, uint64_t now_ms)
{
	h->head = h->filled ? (h->head + 1) % h->npoints : 0;
	if (h->filled < h->npoints)
		h->filled++;
	h->sample_no++;
	h->t_ms[h->head] = now_ms;
	for (unsigned i = 0; i < CONSOLE_SERIES_MAX; i++) {
		struct console_series *s = &h->series[i];
		if (!s->name[0])
			continue;
		/* Unseen for a whole window: nothing of it is left to draw. */
		if (h->sample_no - s->last_sample >= h->npoints) {
			series_free(s);
			continue;
		}
		s->viewers[h->head] = s->bw_out_bps[h->head] = s->cpu[h->head] = NAN;
	}
}

static struct console_series *find_or_add(struct console_history *h,
                                          enum console_series_kind kind, const char *name)
{
	struct console_series *free_slot = NULL;
	for (unsigned i = 0; i < CONSOLE_SERIES_MAX; i++) {
		struct console_series *s = &h->series[i];
		if (!s->name[0]) {
			if (!free_slot)
				free_slot = s;
		} else if (s->kind == kind && strcmp(s->name, name) == 0) {
			return s;
		}
	}
	if (!free_slot)
		return NULL;
	free_slot->kind = kind;
	snprintf(free_slot->name, sizeof(free_slot->name), "%s", name);
	free_slot->viewers = nan_array(h->npoints);
	free_slot->bw_out_bps = nan_array(h->npoints);
	free_slot->cpu = nan_array(h->npoints);
	return free_slot;
}

static void set(float *a, unsigned i, double v, int add)
{
	a[i] = (float)(add && !isnan(a[i]) ? a[i] + v : v);
}

int console_history_put(struct console_history *h, enum console_series_kind kind,
                        const char *name, double viewers, double bw_out_bps, double cpu,
                        int add)
{
	if (!h->filled || !name[0])
		return -1;
	struct console_series *s = find_or_add(h, kind, name);
	if (!s) {
		h->dropped++;
		return -1;
	}
	s->last_sample = h->sample_no;
	set(s->viewers, h->head, viewers, add);
	if (bw_out_bps >= 0)
		set(s->bw_out_bps, h->head, bw_out_bps, add);
	if (cpu >= 0)
		set(s->cpu, h->head, cpu, add);
	return 0;
}

static json_t *values(const struct console_history *h, const float *a)
{
	json_t *arr = json_array();
	unsigned first = (h->head + h->npoints + 1 - h->filled) % h->npoints;
	for (unsigned k = 0; k < h->filled; k++) {
		float v = a[(first + k) % h->npoints];
		/* Counts and bit rates as integers, CPU to a hundredth: a float printed in full
		 * ("0.40000000596046448") would triple the answer's size for nothing. */
		json_t *x = isnan(v) ? json_null() :
		            v == floorf(v) && fabsf(v) < 1e15f ? json_integer((json_int_t)v) :
		            json_real(round((double)v * 100.0) / 100.0);
		json_array_append_new(arr, x);
	}
	return arr;
}

json_t *console_history_json(const struct console_history *h)
{
	static const char *const kinds[] = { "group", "node", "stream" };
	json_t *t = json_array();
	unsigned first = (h->head + h->npoints + 1 - h->filled) % h->npoints;
	for (unsigned k = 0; k < h->filled; k++)
		json_array_append_new(t, json_integer((json_int_t)h->t_ms[(first + k) % h->npoints]));
	json_t *series = json_array();
	for (unsigned i = 0; i < CONSOLE_SERIES_MAX; i++) {
		const struct console_series *s = &h->series[i];
		if (!s->name[0])
			continue;
		json_array_append_new(series, json_pack("{s:s, s:s, s:o, s:o, s:o}",
		                      "kind", kinds[s->kind], "name", s->name,
		                      "viewers", values(h, s->viewers),
		                      "bwOutBps", values(h, s->bw_out_bps), "cpu", values(h, s->cpu)));
	}
	return json_pack("{s:o, s:o, s:I}", "t", t, "series", series,
	                 "dropped", (json_int_t)h->dropped);
}
