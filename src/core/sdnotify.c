/* SPDX-License-Identifier: Apache-2.0 */
/* sdnotify.c - systemd readiness notifications without libsystemd (see sdnotify.h). */
#include "core/sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static struct {
	int taken;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	int bad;                  /* set but unusable: every send fails */
} notify;

void sd_notify_init(void)
{
	const char *p = getenv("NOTIFY_SOCKET");
	notify.taken = 1;
	notify.bad = 0;
	notify.path[0] = '\0';
	if (p && *p) {
		if (strlen(p) >= sizeof(notify.path))
			notify.bad = 1;
		else
			snprintf(notify.path, sizeof(notify.path), "%s", p);
	}
	unsetenv("NOTIFY_SOCKET");
}

int sd_notify_send(const char *state)
{
	if (!notify.taken)
		sd_notify_init();
	if (notify.bad)
		return -1;
	const char *path = notify.path;
	if (!*path)
		return 0;
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	size_t len = strlen(path);
	/* Only absolute paths and abstract names are valid; anything else is a bad environment. */
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace: the name is not NUL-terminated */
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	                              (path[0] == '@' ? 0 : 1));
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ssize_t n;
	do {
		n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	} while (n < 0 && errno == EINTR);
	close(fd);
	return n == (ssize_t)strlen(state) ? 1 : -1;
}

int sd_notify_ready(void)
{
	return sd_notify_send("READY=1\nSTATUS=serving");
}

int sd_notify_reloading(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	char msg[96];
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
	         (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
	return sd_notify_send(msg);
}

int sd_notify_stopping(void)
{
	return sd_notify_send("STOPPING=1\nSTATUS=stopping");
}
