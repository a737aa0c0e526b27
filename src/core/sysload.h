/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sysload.h - the machine's CPU load and memory use (not this process's:
 * core/sysstat.h has that), as Ant Media's admission limits read them: the
 * share of all cores busy over the last sample interval, and the share of
 * memory in use (total less available).
 *
 * The parsers are pure (the text of /proc/stat and /proc/meminfo in, numbers
 * out); sysload_sample() reads the files.  Where they cannot be read, the
 * values stay at 0 and `known` at 0, so limits never refuse on a guess.
 */
#ifndef SLUICE_CORE_SYSLOAD_H
#define SLUICE_CORE_SYSLOAD_H

#include <stddef.h>
#include <stdint.h>

struct sysload {
	uint64_t last_busy, last_total;  /* jiffies at the last sample */
	double cpu_percent;              /* of all cores, over the last interval */
	double mem_percent;              /* in use, of total */
	uint64_t mem_total_bytes, mem_available_bytes;
	unsigned cpus;
	int known;                       /* a CPU interval and memory have been read */
};

/* The aggregate "cpu " line: busy (all but idle and iowait) and total jiffies; 0 or -1. */
int sysload_parse_stat(const char *text, size_t len, uint64_t *busy, uint64_t *total,
                       unsigned *cpus);
/* MemTotal and MemAvailable in bytes; 0 or -1. */
int sysload_parse_meminfo(const char *text, size_t len, uint64_t *total, uint64_t *available);
/* Busy share between two samples, 0-100 (0 when no time passed). */
double sysload_cpu_between(uint64_t busy0, uint64_t total0, uint64_t busy1, uint64_t total1);

void sysload_init(struct sysload *s);
/* Reads /proc/stat and /proc/meminfo; call about once a second. */
void sysload_sample(struct sysload *s);

#endif
