/* SPDX-License-Identifier: Apache-2.0 */
/* sendbatch.c - many sockets' writes in one system call (see sendbatch.h). */
#include "core/sendbatch.h"

#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "core/mem.h"

#ifdef SLUICE_HAVE_URING
#include <liburing.h>

_Static_assert(SENDBATCH_MAX <= 64, "ring_run tracks the slots in a 64-bit mask");

struct sendbatch_ring {
	struct io_uring ring;
	int has_send;   /* IORING_OP_SEND (Linux 5.6+); sendmsg came first (5.3) */
};

static int send_supported(struct io_uring *ring)
{
	struct io_uring_probe *p = io_uring_get_probe_ring(ring);
	if (!p)
		return 0;
	int ok = io_uring_opcode_supported(p, IORING_OP_SEND);
	io_uring_free_probe(p);
	return ok;
}

static struct sendbatch_ring *ring_open(void)
{
	struct sendbatch_ring *r = xcalloc(1, sizeof(*r));
	/* SUBMIT_ALL (Linux 5.18+): one request failing at submission does not stop the rest.
	 * Without it (older kernels) ring_run still never lets a left-over entry go out. */
	int rc = io_uring_queue_init(SENDBATCH_MAX, &r->ring, IORING_SETUP_SUBMIT_ALL);
	if (rc == -EINVAL)
		rc = io_uring_queue_init(SENDBATCH_MAX, &r->ring, 0);
	if (rc < 0) {
		log_info("sendbatch", "io_uring unavailable (%s): one write call per viewer",
		         strerror(-rc));
		free(r);
		return NULL;
	}
	/* Lets each submit skip looking up the ring's own descriptor (Linux 5.18+; optional). */
	(void)io_uring_register_ring_fd(&r->ring);
	r->has_send = send_supported(&r->ring);
	return r;
}

static void ring_close(struct sendbatch_ring *r)
{
	io_uring_queue_exit(&r->ring);
	free(r);
}

/*
 * Runs the batch through the ring and fills every result.  If the ring
 * fails it is closed (later runs send one by one): slots it never took come back
 * -EAGAIN (nothing sent; the caller queues them), slots it took but whose
 * outcome is lost -EIO (the caller drops that viewer rather than guess).
 */
static void ring_run(struct sendbatch *sb)
{
	struct io_uring *ring = &sb->ring->ring;
	for (unsigned i = 0; i < sb->n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
		/* The ring holds SENDBATCH_MAX and is empty between runs, so there is always one. */
		/* MSG_DONTWAIT: a full socket answers -EAGAIN at once instead of waiting in the ring.
		 * One buffer goes as a plain send: no msghdr or iovec array for the kernel to copy. */
		const struct msghdr *m = &sb->msg[i];
		int fd = sb->fd[i];
		if (m->msg_iovlen == 1 && sb->ring->has_send)
			io_uring_prep_send(sqe, fd, m->msg_iov[0].iov_base, m->msg_iov[0].iov_len,
			                   MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			io_uring_prep_sendmsg(sqe, fd, m, MSG_DONTWAIT | MSG_NOSIGNAL);
		io_uring_sqe_set_data64(sqe, i);
		sb->result[i] = -EAGAIN;
	}
	int rc;
	do {
		rc = io_uring_submit(ring);
	} while (rc == -EINTR);
	sb->calls++;
	/* What the kernel did not take stays -EAGAIN (nothing sent), and the ring is not used
	 * again: those entries must never go out later. */
	unsigned taken = sb->n - io_uring_sq_ready(ring);
	int failed = rc < 0 || taken < sb->n;
	/* Non-blocking sends complete inside the submit; reap them all before returning, since
	 * the caller's buffers must not be in use afterwards. */
	uint64_t reaped = 0;   /* bit i: slot i's result is in (SENDBATCH_MAX is 64) */
	for (unsigned done = 0; done < taken; done++) {
		struct io_uring_cqe *cqe;
		do {
			rc = io_uring_wait_cqe(ring, &cqe);
		} while (rc == -EINTR);
		if (rc < 0) {
			for (unsigned i = 0; i < taken; i++)
				if (!(reaped & (1ull << i)))
					sb->result[i] = -EIO;
			failed = 1;
			break;
		}
		uint64_t slot = io_uring_cqe_get_data64(cqe);
		if (slot < sb->n) {
			sb->result[slot] = cqe->res;
			reaped |= 1ull << slot;
		}
		io_uring_cqe_seen(ring, cqe);
	}
	if (failed) {
		log_warn("sendbatch", "io_uring failed (%s): back to one write call per viewer",
		         strerror(rc < 0 ? -rc : EIO));
		ring_close(sb->ring);
		sb->ring = NULL;
	}
}
#else
struct sendbatch_ring {
	int unused;
};

static struct sendbatch_ring *ring_open(void)
{
	return NULL;
}

static void ring_close(struct sendbatch_ring *r)
{
	(void)r;
}

static void ring_run(struct sendbatch *sb)
{
	(void)sb; /* never called: there is no ring */
}
#endif

void sendbatch_init(struct sendbatch *sb, int use_uring)
{
	memset(sb, 0, sizeof(*sb));
	if (use_uring)
		sb->ring = ring_open();
}

void sendbatch_free(struct sendbatch *sb)
{
	if (sb->ring)
		ring_close(sb->ring);
	sb->ring = NULL;
}

int sendbatch_uses_uring(const struct sendbatch *sb)
{
	return sb->ring != NULL;
}

unsigned sendbatch_add(struct sendbatch *sb, int fd, const struct iovec *iov, unsigned niov)
{
	unsigned i = sb->n++;
	sb->fd[i] = fd;
	memset(&sb->msg[i], 0, sizeof(sb->msg[i]));
	sb->msg[i].msg_iov = (struct iovec *)iov;
	sb->msg[i].msg_iovlen = niov;
	sb->result[i] = 0;
	return i;
}

void sendbatch_run(struct sendbatch *sb)
{
	if (sb->n == 0)
		return;
	sb->runs++;
	sb->writes += sb->n;
	if (sb->ring) {
		ring_run(sb);
	} else {
		for (unsigned i = 0; i < sb->n; i++) {
			ssize_t w;
			do {
				w = sendmsg(sb->fd[i], &sb->msg[i], MSG_DONTWAIT | MSG_NOSIGNAL);
			} while (w < 0 && errno == EINTR);
			sb->result[i] = w < 0 ? -errno : w;
			sb->calls++;
		}
	}
	sb->n = 0;
}
