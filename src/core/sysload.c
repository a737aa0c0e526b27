/* SPDX-License-Identifier: Apache-2.0 */
/* sysload.c - machine CPU load and memory use (see sysload.h). */
#include "core/sysload.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Parses up to max unsigned decimal fields after p (stopping at a newline). */
static int fields(const char *p, const char *end, uint64_t *out, int max)
{
	int n = 0;
	while (p < end && *p != '\n' && n < max) {
		while (p < end && *p == ' ')
			p++;
		if (p >= end || *p < '0' || *p > '9')
			break;
		uint64_t v = 0;
		while (p < end && *p >= '0' && *p <= '9') {
			if (v > (UINT64_MAX - 9) / 10)
				return -1;
			v = v * 10 + (uint64_t)(*p - '0');
			p++;
		}
		out[n++] = v;
	}
	return n;
}

int sysload_parse_stat(const char *text, size_t len, uint64_t *busy, uint64_t *total,
                       unsigned *cpus)
{
	const char *p = text, *end = text + len;
	int found = 0;
	unsigned ncpu = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (le - p > 4 && memcmp(p, "cpu ", 4) == 0) {
			/* user nice system idle iowait irq softirq steal (guest is inside user) */
			uint64_t f[8] = { 0 };
			int n = fields(p + 4, le, f, 8);
			if (n < 4)
				return -1;
			uint64_t t = 0;
			for (int i = 0; i < n; i++) {
				if (t + f[i] < t)
					return -1;
				t += f[i];
			}
			*total = t;
			*busy = t - f[3] - (n > 4 ? f[4] : 0);
			found = 1;
		} else if (le - p > 3 && memcmp(p, "cpu", 3) == 0 && p[3] >= '0' && p[3] <= '9') {
			ncpu++;
		}
		p = nl ? nl + 1 : end;
	}
	if (cpus)
		*cpus = ncpu;
	return found ? 0 : -1;
}

static int meminfo_field(const char *text, size_t len, const char *key, uint64_t *out)
{
	size_t kl = strlen(key);
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if ((size_t)(le - p) > kl && memcmp(p, key, kl) == 0 && p[kl] == ':') {
			uint64_t v;
			if (fields(p + kl + 1, le, &v, 1) != 1 || v > UINT64_MAX / 1024)
				return -1;
			*out = v * 1024;   /* the file says kB */
			return 0;
		}
		p = nl ? nl + 1 : end;
	}
	return -1;
}

int sysload_parse_meminfo(const char *text, size_t len, uint64_t *total, uint64_t *available)
{
	if (meminfo_field(text, len, "MemTotal", total) < 0 || *total == 0 ||
	    meminfo_field(text, len, "MemAvailable", available) < 0)
		return -1;
	if (*available > *total)
		*available = *total;
	return 0;
}

double sysload_cpu_between(uint64_t busy0, uint64_t total0, uint64_t busy1, uint64_t total1)
{
	if (total1 <= total0 || busy1 < busy0)
		return 0;
	double pct = 100.0 * (double)(busy1 - busy0) / (double)(total1 - total0);
	return pct > 100 ? 100 : pct;
}

static size_t read_file(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t r = read(fd, buf, n - 1);
	close(fd);
	return r > 0 ? (size_t)r : 0;
}

void sysload_init(struct sysload *s)
{
	memset(s, 0, sizeof(*s));
	sysload_sample(s);
	s->known = 0;   /* the first sample only starts the CPU interval */
}

void sysload_sample(struct sysload *s)
{
	char buf[16384];
	size_t n = read_file("/proc/stat", buf, sizeof(buf));
	uint64_t busy, total, mt, ma;
	unsigned cpus;
	int cpu_ok = 0;
	if (n && sysload_parse_stat(buf, n, &busy, &total, &cpus) == 0) {
		if (s->last_total) {
			s->cpu_percent = sysload_cpu_between(s->last_busy, s->last_total, busy, total);
			cpu_ok = 1;
		}
		s->last_busy = busy;
		s->last_total = total;
		s->cpus = cpus;
	}
	n = read_file("/proc/meminfo", buf, sizeof(buf));
	if (n && sysload_parse_meminfo(buf, n, &mt, &ma) == 0) {
		s->mem_total_bytes = mt;
		s->mem_available_bytes = ma;
		s->mem_percent = 100.0 * (double)(mt - ma) / (double)mt;
		s->known = cpu_ok;
	}
}
