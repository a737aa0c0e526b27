/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lc_tcpinfo.c - what the kernel counted on a viewer's socket.  Kept apart:
 * <linux/tcp.h> has the counters glibc's <netinet/tcp.h> lacks, and the two
 * headers cannot be included together.
 */
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "bench/lc_tcpinfo.h"

int lc_tcp_received(int fd, uint64_t *segs, uint64_t *bytes)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    len < offsetof(struct tcp_info, tcpi_data_segs_in) + sizeof(ti.tcpi_data_segs_in))
		return -1;
	*segs = ti.tcpi_data_segs_in;
	*bytes = ti.tcpi_bytes_received;
	return 0;
}
