/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdnotify.h - tells systemd how the service is doing (Type=notify units).
 *
 * The protocol is one unix datagram of "KEY=VALUE" lines to the socket named
 * by $NOTIFY_SOCKET (a path, or "@name" for an abstract socket).  We write it
 * ourselves rather than link libsystemd: it is a few lines, and the binary
 * stays free of a dependency that non-systemd hosts do not have.
 *
 * Without $NOTIFY_SOCKET (not started by systemd) every call does nothing.
 */
#ifndef SLUICE_CORE_SDNOTIFY_H
#define SLUICE_CORE_SDNOTIFY_H

/*
 * Takes $NOTIFY_SOCKET and removes it from the environment, so processes we
 * start (the manager's local nodes) do not notify in our name.  Called by the
 * first send when not before; the manager calls it before it starts any node.
 */
void sd_notify_init(void);

/*
 * Sends state (e.g. "READY=1\nSTATUS=listening").  Returns 1 when sent, 0
 * when there is no $NOTIFY_SOCKET, -1 when it could not be sent (a bad
 * socket name or a send error; callers log it, the service goes on).
 */
int sd_notify_send(const char *state);

/* The usual states.  READY=1 once listening; around a config reload,
 * RELOADING=1 (with MONOTONIC_USEC, as systemd 253+ asks) and READY=1 again;
 * STOPPING=1 when shutting down. */
int sd_notify_ready(void);
int sd_notify_reloading(void);
int sd_notify_stopping(void);

#endif
