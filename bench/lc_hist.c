/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lc_hist.c - what the bench tools share (lc.h): the latency histogram, fixed
 * 100 us bins up to 60 s, so p50/p99 cost nothing per sample and are exact
 * to a bin (sluice-load keeps lag in it; sluice-nodesim and sluice-httpload
 * keep request latency), and a server process's CPU time.
 */
#include <stdio.h>
#include <string.h>

#include "bench/lc.h"
#include "core/mem.h"

void lc_hist_init(struct lc_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->bins = xcalloc(LC_HIST_BINS, sizeof(*h->bins));
}

void lc_hist_add(struct lc_hist *h, uint64_t us)
{
	uint64_t bin = us / LC_HIST_BIN_US;
	if (bin >= LC_HIST_BINS)
		h->over++;
	else
		h->bins[bin]++;
	h->count++;
	if (us > h->max_us)
		h->max_us = us;
}

uint64_t lc_hist_quantile(const struct lc_hist *h, double q)
{
	if (!h->count)
		return 0;
	uint64_t want = (uint64_t)(q * (double)(h->count - 1)) + 1;
	uint64_t seen = 0;
	for (uint64_t b = 0; b < LC_HIST_BINS; b++) {
		seen += h->bins[b];
		if (seen >= want)
			return b * LC_HIST_BIN_US + LC_HIST_BIN_US / 2;
	}
	return h->max_us;
}

uint64_t lc_proc_cpu_ticks(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* After "pid (comm)": state is field 3, utime 14, stime 15. */
	unsigned long long ut = 0, st = 0;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	return ut + st;
}
