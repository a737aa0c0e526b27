/* SPDX-License-Identifier: Apache-2.0 */
/* test_sysload.c - /proc/stat and /proc/meminfo parsing, CPU share between samples. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/sysload.h"

static const char stat_text[] =
	"cpu  100 10 50 800 40 0 0 0 0 0\n"
	"cpu0 50 5 25 400 20 0 0 0 0 0\n"
	"cpu1 50 5 25 400 20 0 0 0 0 0\n"
	"intr 12345\n";

static void test_stat(void **state)
{
	(void)state;
	uint64_t busy, total;
	unsigned cpus;
	assert_int_equal(sysload_parse_stat(stat_text, strlen(stat_text), &busy, &total, &cpus), 0);
	assert_int_equal(total, 1000);
	assert_int_equal(busy, 160);   /* idle and iowait are not busy */
	assert_int_equal(cpus, 2);
	assert_int_equal(sysload_parse_stat("intr 1\n", 7, &busy, &total, &cpus), -1);
	assert_int_equal(sysload_parse_stat("cpu  1 2\n", 9, &busy, &total, &cpus), -1);
	const char *huge = "cpu  99999999999999999999999 1 1 1\n";
	assert_int_equal(sysload_parse_stat(huge, strlen(huge), &busy, &total, &cpus), -1);
}

static void test_between(void **state)
{
	(void)state;
	assert_true(sysload_cpu_between(100, 1000, 850, 2000) == 75.0);
	assert_true(sysload_cpu_between(100, 1000, 100, 1000) == 0.0);   /* no time passed */
	assert_true(sysload_cpu_between(200, 1000, 100, 2000) == 0.0);   /* counters went back */
}

static void test_meminfo(void **state)
{
	(void)state;
	const char *t = "MemTotal:       1000 kB\nMemFree:         100 kB\n"
	                "MemAvailable:    250 kB\n";
	uint64_t total, avail;
	assert_int_equal(sysload_parse_meminfo(t, strlen(t), &total, &avail), 0);
	assert_int_equal(total, 1024000);
	assert_int_equal(avail, 256000);
	const char *no_avail = "MemTotal: 1000 kB\n";
	assert_int_equal(sysload_parse_meminfo(no_avail, strlen(no_avail), &total, &avail), -1);
	const char *zero = "MemTotal: 0 kB\nMemAvailable: 0 kB\n";
	assert_int_equal(sysload_parse_meminfo(zero, strlen(zero), &total, &avail), -1);
}

static void test_sample_reads_this_machine(void **state)
{
	(void)state;
	struct sysload s;
	sysload_init(&s);
	sysload_sample(&s);
	assert_true(s.mem_total_bytes > 0);
	assert_true(s.mem_percent > 0 && s.mem_percent <= 100);
	assert_true(s.cpu_percent >= 0 && s.cpu_percent <= 100);
	assert_true(s.cpus >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_between),
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_sample_reads_this_machine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
