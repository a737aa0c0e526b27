/* SPDX-License-Identifier: Apache-2.0 */
/* net.c - socket helpers (see net.h). */
#include "core/net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"

int net_addr(const char *host, int port, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0)
		return 0;
	if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) == 0)
		return 0;
	return SL_EINVAL;
}

int net_listen(uv_loop_t *loop, uv_tcp_t *tcp, const char *host, int port, int backlog,
               uv_connection_cb cb, const char *what)
{
	struct sockaddr_storage addr;
	if (net_addr(host, port, &addr) < 0) {
		log_error("listen_failed", "what=%s addr=%s port=%d error=\"not a numeric IP address\"",
		          what, host, port);
		return UV_EINVAL;
	}
	uv_tcp_init(loop, tcp);
	int rc = uv_tcp_bind(tcp, (const struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)tcp, backlog, cb);
	if (rc < 0) {
		log_error("listen_failed", "what=%s addr=%s port=%d error=\"%s\"", what, host, port,
		          uv_strerror(rc));
		return rc;
	}
	log_info("listening", "what=%s addr=%s port=%d", what, host, port);
	return 0;
}

void net_peer_name(uv_tcp_t *tcp, char *buf, size_t n)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "?";
	int port = 0;
	if (uv_tcp_getpeername(tcp, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *a = (struct sockaddr_in *)&ss;
			uv_ip4_name(a, ip, sizeof(ip));
			port = ntohs(a->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
			uv_ip6_name(a, ip, sizeof(ip));
			port = ntohs(a->sin6_port);
		}
	}
	if (ss.ss_family == AF_INET6)
		snprintf(buf, n, "[%s]:%d", ip, port);
	else
		snprintf(buf, n, "%s:%d", ip, port);
}

int net_split_hostport(const char *s, char *host, size_t host_size, int *port, int default_port)
{
	const char *colon;
	size_t hlen;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close)
			return SL_EINVAL;
		hlen = (size_t)(close - s - 1);
		s++;
		colon = close[1] == ':' ? close + 1 : NULL;
		if (!colon && close[1])
			return SL_EINVAL;
	} else {
		colon = strrchr(s, ':');
		hlen = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (hlen == 0 || hlen >= host_size)
		return SL_EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	*port = default_port;
	if (colon) {
		char *end;
		long p = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || *end || p < 1 || p > 65535)
			return SL_EINVAL;
		*port = (int)p;
	}
	return 0;
}
