/* SPDX-License-Identifier: Apache-2.0 */
/* sysstat.h - this process's CPU use and resident memory, for stats and admission. */
#ifndef SLUICE_CORE_SYSSTAT_H
#define SLUICE_CORE_SYSSTAT_H

#include <stdint.h>

struct sysstat {
	uint64_t last_cpu_us;     /* user+system at the last sample */
	uint64_t last_wall_us;
	double cpu_percent;       /* of one core, over the last interval */
	uint64_t cpu_total_us;
	uint64_t rss_bytes;
};

void sysstat_init(struct sysstat *s);
/* Takes a sample; call about once a second. */
void sysstat_sample(struct sysstat *s);

#endif
