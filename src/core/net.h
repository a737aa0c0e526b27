/* SPDX-License-Identifier: Apache-2.0 */
/* net.h - small socket helpers over libuv: addresses, listeners, peer names. */
#ifndef SLUICE_CORE_NET_H
#define SLUICE_CORE_NET_H

#include <stddef.h>
#include <uv.h>

/* Fills *out from a numeric IPv4/IPv6 host and a port.  Returns 0 or SL_EINVAL. */
int net_addr(const char *host, int port, struct sockaddr_storage *out);

/* Binds and listens; logs and returns a negative libuv error on failure. */
int net_listen(uv_loop_t *loop, uv_tcp_t *tcp, const char *host, int port, int backlog,
               uv_connection_cb cb, const char *what);

/* "ip:port" of the peer, or "?" (buf must hold at least 64 bytes). */
void net_peer_name(uv_tcp_t *tcp, char *buf, size_t n);

/* Splits "host[:port]" ("[v6]:port" too) into host and port (default_port if none).
 * Returns 0, or SL_EINVAL. */
int net_split_hostport(const char *s, char *host, size_t host_size, int *port, int default_port);

#endif
