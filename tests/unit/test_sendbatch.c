/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_sendbatch.c - batched writes over real socket pairs, through io_uring
 * and through the writev fallback: each write's result is what a writev's
 * would be (all of it, part of it on a full socket, -EAGAIN when it takes
 * nothing, -EPIPE when the peer is gone), and the bytes arrive in order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/sendbatch.h"

static void pair(int sv[2], int small)
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (small) {
		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
		setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
}

static void run_batch(int use_uring)
{
	struct sendbatch sb;
	sendbatch_init(&sb, use_uring);
	if (use_uring && !sendbatch_uses_uring(&sb)) {
		sendbatch_free(&sb);
		skip(); /* this kernel refuses io_uring */
	}
	int ok[2], full[2], gone[2];
	pair(ok, 0);
	pair(full, 4096);
	pair(gone, 0);
	close(gone[1]);
	static uint8_t big[1 << 20];
	memset(big, 'x', sizeof(big));
	/* Fill one socket until it takes nothing more. */
	while (write(full[0], big, 65536) > 0)
		;

	static const char a[] = "hello, ", b[] = "viewer";
	struct iovec two[2] = { { (void *)a, 7 }, { (void *)b, 6 } };
	struct iovec one[1] = { { big, sizeof(big) } };
	unsigned s_ok = sendbatch_add(&sb, ok[0], two, 2);
	unsigned s_full = sendbatch_add(&sb, full[0], two, 2);
	unsigned s_gone = sendbatch_add(&sb, gone[0], two, 2);
	unsigned s_part = sendbatch_add(&sb, ok[0], one, 1);
	assert_int_equal(sb.n, 4);
	sendbatch_run(&sb);
	assert_int_equal(sb.n, 0);
	assert_int_equal(sb.result[s_ok], 13);
	assert_int_equal(sb.result[s_full], -EAGAIN);
	assert_int_equal(sb.result[s_gone], -EPIPE);
	/* A megabyte does not fit a socket buffer: part of it, as writev would. */
	assert_true(sb.result[s_part] > 0 && sb.result[s_part] < (ssize_t)sizeof(big));
	/* In order: the first write, then the part of the megabyte the socket took. */
	static uint8_t got[1 << 20];
	size_t n = 0;
	ssize_t r;
	while ((r = read(ok[1], got + n, sizeof(got) - n)) > 0)
		n += (size_t)r;
	assert_int_equal(n, 13 + (size_t)sb.result[s_part]);
	assert_memory_equal(got, "hello, viewer", 13);
	for (size_t i = 13; i < n; i++)
		assert_int_equal(got[i], 'x');
	assert_int_equal(sb.writes, 4);
	assert_int_equal(sb.runs, 1);
	if (use_uring)
		assert_int_equal(sb.calls, 1);
	else
		assert_int_equal(sb.calls, 4);

	/* A full batch, then the next one. */
	for (unsigned i = 0; i < SENDBATCH_MAX; i++) {
		assert_false(sendbatch_full(&sb));
		sendbatch_add(&sb, gone[0], two, 1);
	}
	assert_true(sendbatch_full(&sb));
	sendbatch_run(&sb);
	for (unsigned i = 0; i < SENDBATCH_MAX; i++)
		assert_int_equal(sb.result[i], -EPIPE);

	sendbatch_free(&sb);
	close(ok[0]);
	close(ok[1]);
	close(full[0]);
	close(full[1]);
	close(gone[0]);
}

static void test_uring(void **state)
{
	(void)state;
	run_batch(1);
}

static void test_writev_fallback(void **state)
{
	(void)state;
	run_batch(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uring),
		cmocka_unit_test(test_writev_fallback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
