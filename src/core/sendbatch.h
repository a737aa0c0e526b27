/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sendbatch.h - writes to many sockets in one system call.
 *
 * A fan-out writes the same new media to every viewer; one writev per
 * viewer makes the system-call crossing a large share of the cost.  A send
 * batch queues up to SENDBATCH_MAX writes (socket, iovecs) and runs them
 * all with one io_uring_enter: each is a non-blocking sendmsg (a plain send
 * when it is one buffer), done before the call returns, so the result of
 * every write is known at once, exactly as a writev's would be (bytes taken,
 * or -errno; -EAGAIN when the socket takes nothing).  Nothing stays in
 * flight: the caller's buffers are free again when sendbatch_run returns.
 *
 * Where io_uring is missing or refused (an old kernel, a sandbox), the same
 * calls do one sendmsg per write; sendbatch_uses_uring() says which.  Either
 * way a write never raises SIGPIPE and never blocks.
 */
#ifndef SLUICE_CORE_SENDBATCH_H
#define SLUICE_CORE_SENDBATCH_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#define SENDBATCH_MAX 64

struct sendbatch_ring;

struct sendbatch {
	struct sendbatch_ring *ring;   /* NULL: one sendmsg each */
	unsigned n;
	int fd[SENDBATCH_MAX];
	struct msghdr msg[SENDBATCH_MAX];
	ssize_t result[SENDBATCH_MAX];
	unsigned long long runs, writes, calls;   /* counters: batches, writes, system calls */
};

/* Sets up the ring when use_uring and the kernel allows it; else one sendmsg per write. */
void sendbatch_init(struct sendbatch *sb, int use_uring);
void sendbatch_free(struct sendbatch *sb);
int sendbatch_uses_uring(const struct sendbatch *sb);
/* 1 when no more writes fit before sendbatch_run. */
static inline int sendbatch_full(const struct sendbatch *sb) { return sb->n == SENDBATCH_MAX; }
/* Queues a write; returns its slot.  iov must stay valid until sendbatch_run returns. */
unsigned sendbatch_add(struct sendbatch *sb, int fd, const struct iovec *iov, unsigned niov);
/* Runs the queued writes; result[slot] is then bytes written or -errno.  Empties the batch. */
void sendbatch_run(struct sendbatch *sb);

#endif
