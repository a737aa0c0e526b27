/* SPDX-License-Identifier: Apache-2.0 */
/* test_sdnotify.c - the systemd notification datagram: path and abstract sockets, no socket. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/sdnotify.h"

/* Binds a datagram socket at name ("@x": abstract) and returns it. */
static int listen_at(const char *name)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	size_t len = strlen(name);
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	                              (name[0] == '@' ? 0 : 1));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, salen), 0);
	return fd;
}

static void expect_datagram(int fd, const char *prefix)
{
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_true(strncmp(buf, prefix, strlen(prefix)) == 0);
}

static void test_path_socket(void **state)
{
	(void)state;
	char path[64];
	snprintf(path, sizeof(path), "/tmp/sluice-sdnotify-%d.sock", (int)getpid());
	unlink(path);
	int fd = listen_at(path);
	setenv("NOTIFY_SOCKET", path, 1);
	sd_notify_init();
	assert_null(getenv("NOTIFY_SOCKET")); /* children must not inherit it */
	assert_int_equal(sd_notify_ready(), 1);
	expect_datagram(fd, "READY=1");
	assert_int_equal(sd_notify_reloading(), 1);
	expect_datagram(fd, "RELOADING=1\nMONOTONIC_USEC=");
	assert_int_equal(sd_notify_stopping(), 1);
	expect_datagram(fd, "STOPPING=1");
	close(fd);
	unlink(path);
}

static void test_abstract_socket(void **state)
{
	(void)state;
	char name[64];
	snprintf(name, sizeof(name), "@sluice-sdnotify-test-%d", (int)getpid());
	int fd = listen_at(name);
	setenv("NOTIFY_SOCKET", name, 1);
	sd_notify_init();
	assert_int_equal(sd_notify_send("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	close(fd);
}

static void test_no_socket_does_nothing(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	sd_notify_init();
	assert_int_equal(sd_notify_ready(), 0);
}

static void test_bad_socket_fails_quietly(void **state)
{
	(void)state;
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	sd_notify_init();
	assert_int_equal(sd_notify_ready(), -1);
	setenv("NOTIFY_SOCKET", "/nonexistent/dir/sock", 1);
	sd_notify_init();
	assert_int_equal(sd_notify_ready(), -1);
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longname, 1);
	sd_notify_init();
	assert_int_equal(sd_notify_ready(), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_socket),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_no_socket_does_nothing),
		cmocka_unit_test(test_bad_socket_fails_quietly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
