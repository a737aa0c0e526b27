/* SPDX-License-Identifier: Apache-2.0 */
/* sysstat.c - CPU and memory of this process (see sysstat.h). */
#include "core/sysstat.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/clock.h"

static uint64_t cpu_us(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
	       (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
}

static uint64_t rss(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f)
		return 0;
	unsigned long long size = 0, resident = 0;
	int n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	return n == 2 ? resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

void sysstat_init(struct sysstat *s)
{
	memset(s, 0, sizeof(*s));
	s->last_cpu_us = cpu_us();
	s->last_wall_us = clock_mono_us();
	s->cpu_total_us = s->last_cpu_us;
	s->rss_bytes = rss();
}

void sysstat_sample(struct sysstat *s)
{
	uint64_t c = cpu_us(), w = clock_mono_us();
	if (w > s->last_wall_us)
		s->cpu_percent = 100.0 * (double)(c - s->last_cpu_us) / (double)(w - s->last_wall_us);
	s->last_cpu_us = c;
	s->last_wall_us = w;
	s->cpu_total_us = c;
	s->rss_bytes = rss();
}
