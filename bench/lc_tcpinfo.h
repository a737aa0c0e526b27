/* SPDX-License-Identifier: Apache-2.0 */
/* lc_tcpinfo.h - what the kernel counted arriving on a socket. */
#ifndef SLUICE_BENCH_LC_TCPINFO_H
#define SLUICE_BENCH_LC_TCPINFO_H

#include <stddef.h>
#include <stdint.h>

/* TCP segments with data, and their bytes, this socket received so far (Linux 4.6+):
 * 0, or -1.  The kernel keeps the segment count in 32 bits. */
int lc_tcp_received(int fd, uint64_t *segs, uint64_t *bytes);

#endif
