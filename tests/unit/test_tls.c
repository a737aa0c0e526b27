/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_tls.c - the TLS layer under io_stream, over real loopback sockets on
 * a libuv loop: 4 MiB written in many writes (some before the handshake
 * ends) come back whole and in order through an echo server that pauses its
 * reads after every read (so decrypted bytes wait and are delivered when it
 * reads again); both ends derive the same exporter value; a client that
 * does not trust the certificate fails with a reason, and so does one checking
 * an address (with an IPv6 zone) the certificate does not carry; a peer that
 * floods key updates and never reads is no longer read past a bound; a reload
 * takes a good pair and refuses a mismatched one, keeping the old, and two
 * contexts reload together or not at all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/io_stream.h"
#include "core/tls.h"

#define TOTAL (4u << 20)
#define PIECE 65536

static char dir[64];

/* A self-signed certificate for IP 127.0.0.1 (its own CA) in dir/NAME.pem and NAME.key. */
static void make_cert(const char *name)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)getpid());
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	char path[128];
	snprintf(path, sizeof(path), "%s/%s.pem", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	PEM_write_X509(f, x);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(key);
}

static const char *file(const char *name, const char *ext)
{
	static char bufs[4][128];
	static int i;
	char *b = bufs[i++ % 4];
	snprintf(b, 128, "%s/%s.%s", dir, name, ext);
	return b;
}

/* ---- an echo server that reads one piece at a time ---- */

struct echo {
	uv_loop_t *loop;
	uv_tcp_t listener;
	struct tls_server *tls;
	struct io_stream io;
	int accepted, closed;
	int small_sndbuf;           /* the kernel holds little of what we send */
	int sink;                   /* reads and answers nothing */
	uint64_t echoed;
	uint8_t exporter[TLS_EXPORTER_LEN];
	int have_exporter;
};

struct echo_write {
	uv_write_t req;
	struct echo *e;
	char data[];
};

static void echo_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)h;
	(void)hint;
	static char buf[4096]; /* small: several reads per record, the rest waits in OpenSSL */
	*b = uv_buf_init(buf, sizeof(buf));
}

static void echo_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b);

static void echo_written(uv_write_t *req, int status)
{
	struct echo_write *w = (struct echo_write *)req;
	struct echo *e = w->e;
	free(w);
	/* Reading again only now: what was decrypted meanwhile must still arrive. */
	if (status == 0 && !e->closed)
		io_read_start(&e->io, echo_alloc, echo_read);
}

static void echo_closed(uv_handle_t *h)
{
	struct echo *e = h->data;
	e->closed = 2;
}

static void echo_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct echo *e = st->data;
	if (n == 0)
		return;
	if (n < 0) {
		e->closed = 1;
		io_close(&e->io, echo_closed);
		return;
	}
	if (!e->have_exporter)
		e->have_exporter = io_stream_tls_exporter(&e->io, e->exporter) == 0;
	if (e->sink) {
		e->echoed += (uint64_t)n; /* taken, never answered: the reading goes on */
		return;
	}
	io_read_stop(&e->io);
	struct echo_write *w = malloc(sizeof(*w) + (size_t)n);
	w->e = e;
	memcpy(w->data, b->base, (size_t)n);
	uv_buf_t out = uv_buf_init(w->data, (unsigned)n);
	e->echoed += (uint64_t)n;
	assert_int_equal(io_write(&e->io, &w->req, &out, 1, echo_written), 0);
}

static void on_conn(uv_stream_t *server, int status)
{
	struct echo *e = server->data;
	assert_int_equal(status, 0);
	uv_tcp_init(e->loop, &e->io.u.tcp);
	e->io.u.tcp.data = e;
	e->io.tls = NULL;
	assert_int_equal(uv_accept(server, io_uv(&e->io)), 0);
	assert_int_equal(io_stream_attach_tls_server(&e->io, e->tls), 0);
	if (e->small_sndbuf) {
		int v = 4096;
		uv_send_buffer_size((uv_handle_t *)io_uv(&e->io), &v);
	}
	e->accepted = 1;
	io_read_start(&e->io, echo_alloc, echo_read);
}

static int echo_start(struct echo *e, uv_loop_t *loop, struct tls_server *tls)
{
	memset(e, 0, sizeof(*e));
	e->loop = loop;
	e->tls = tls;
	struct sockaddr_in a;
	uv_ip4_addr("127.0.0.1", 0, &a);
	uv_tcp_init(loop, &e->listener);
	e->listener.data = e;
	assert_int_equal(uv_tcp_bind(&e->listener, (const struct sockaddr *)&a, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&e->listener, 8, on_conn), 0);
	int len = sizeof(a);
	uv_tcp_getsockname(&e->listener, (struct sockaddr *)&a, &len);
	return ntohs(a.sin_port);
}

/* ---- a client that writes TOTAL bytes and checks what comes back ---- */

struct client {
	uv_loop_t *loop;
	struct io_stream io;
	uv_connect_t creq;
	struct tls_client *tls;
	uint8_t *sent;
	uint64_t got, written_cbs;
	unsigned writes;
	int mismatch, error, closed;
	uv_write_t wreq[TOTAL / PIECE];
};

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 2654435761u >> 13);
}

static void cli_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)h;
	(void)hint;
	static char buf[TLS_READ_MAX];
	*b = uv_buf_init(buf, sizeof(buf));
}

static void cli_closed(uv_handle_t *h)
{
	struct client *c = h->data;
	c->closed = 1;
}

static void cli_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct client *c = st->data;
	if (n == 0)
		return;
	if (n < 0) {
		c->error = (int)n;
		io_close(&c->io, cli_closed);
		return;
	}
	for (ssize_t i = 0; i < n; i++)
		if ((uint8_t)b->base[i] != pattern(c->got + (uint64_t)i))
			c->mismatch = 1;
	c->got += (uint64_t)n;
	if (c->got == TOTAL)
		io_close(&c->io, cli_closed);
}

static void cli_written(uv_write_t *req, int status)
{
	struct client *c = req->data;
	if (status == 0)
		c->written_cbs++;
}

/* The name the client checks the server's certificate against. */
static const char *cli_host = "127.0.0.1";

static void cli_connected(uv_connect_t *req, int status)
{
	struct client *c = req->data;
	assert_int_equal(status, 0);
	assert_int_equal(io_stream_attach_tls_client(&c->io, c->tls, cli_host), 0);
	/* Every piece is written now, before the handshake is done: they wait for it. */
	for (unsigned i = 0; i < TOTAL / PIECE; i++) {
		uv_buf_t b = uv_buf_init((char *)c->sent + (size_t)i * PIECE, PIECE);
		c->wreq[i].data = c;
		if (io_write(&c->io, &c->wreq[i], &b, 1, cli_written) == 0)
			c->writes++;
	}
	io_read_start(&c->io, cli_alloc, cli_read);
}

static void client_start(struct client *c, uv_loop_t *loop, struct tls_client *tls, int port)
{
	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->tls = tls;
	c->sent = malloc(TOTAL);
	for (uint64_t i = 0; i < TOTAL; i++)
		c->sent[i] = pattern(i);
	uv_tcp_init(loop, &c->io.u.tcp);
	c->io.u.tcp.data = c;
	struct sockaddr_in a;
	uv_ip4_addr("127.0.0.1", port, &a);
	c->creq.data = c;
	assert_int_equal(uv_tcp_connect(&c->creq, &c->io.u.tcp, (const struct sockaddr *)&a,
	                                cli_connected), 0);
}

static void deadline_cb(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

/* Runs the loop until *flag is set, or seconds pass. */
static void run_until(uv_loop_t *loop, int *flag, int seconds)
{
	uv_timer_t deadline;
	int late = 0;
	uv_timer_init(loop, &deadline);
	deadline.data = &late;
	uv_timer_start(&deadline, deadline_cb, (uint64_t)seconds * 1000, 0);
	while (!*flag && !late)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&deadline, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

static void close_all(uv_loop_t *loop, struct echo *e, struct client *c)
{
	if (e->accepted && !e->closed)
		io_close(&e->io, echo_closed);
	if (!c->closed)
		io_close(&c->io, cli_closed);
	uv_close((uv_handle_t *)&e->listener, NULL);
	while (uv_run(loop, UV_RUN_NOWAIT))
		;
	assert_int_equal(uv_loop_close(loop), 0);
	free(c->sent);
}

static void test_echo_4mib(void **state)
{
	(void)state;
	char err[300];
	struct tls_server *srv = tls_server_new(file("a", "pem"), file("a", "key"), err, sizeof(err));
	assert_non_null(srv);
	struct tls_client *cli = tls_client_new(file("a", "pem"), NULL, NULL, err, sizeof(err));
	assert_non_null(cli);
	uv_loop_t loop;
	uv_loop_init(&loop);
	static struct echo e;
	static struct client c;
	int port = echo_start(&e, &loop, srv);
	client_start(&c, &loop, cli, port);
	run_until(&loop, &c.closed, 30);
	assert_int_equal(c.error, 0);
	assert_int_equal(c.got, TOTAL);
	assert_int_equal(c.mismatch, 0);
	assert_int_equal(c.writes, TOTAL / PIECE);
	assert_int_equal(c.written_cbs, TOTAL / PIECE);
	assert_int_equal(e.echoed, TOTAL);
	assert_true(e.have_exporter);
	assert_true(tls_stats.handshakes >= 2);
	close_all(&loop, &e, &c);
	tls_client_free(cli);
	tls_server_free(srv);
}

/* The client side's exporter, read as soon as its first echo arrives. */
static uint8_t cli_exporter[TLS_EXPORTER_LEN];
static int cli_have_exporter;

static void exp_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct client *c = st->data;
	if (n > 0 && !cli_have_exporter)
		cli_have_exporter = io_stream_tls_exporter(&c->io, cli_exporter) == 0;
	cli_read(st, n, b);
}

static void exp_connected(uv_connect_t *req, int status)
{
	struct client *c = req->data;
	assert_int_equal(status, 0);
	assert_int_equal(io_stream_attach_tls_client(&c->io, c->tls, "127.0.0.1"), 0);
	uint8_t early[TLS_EXPORTER_LEN];
	assert_int_equal(io_stream_tls_exporter(&c->io, early), -1); /* no handshake yet */
	uv_buf_t b = uv_buf_init((char *)c->sent, PIECE);
	c->wreq[0].data = c;
	assert_int_equal(io_write(&c->io, &c->wreq[0], &b, 1, cli_written), 0);
	io_read_start(&c->io, cli_alloc, exp_read);
}

static void test_exporter_matches(void **state)
{
	(void)state;
	char err[300];
	struct tls_server *srv = tls_server_new(file("a", "pem"), file("a", "key"), err, sizeof(err));
	struct tls_client *cli = tls_client_new(file("a", "pem"), NULL, NULL, err, sizeof(err));
	assert_non_null(srv);
	assert_non_null(cli);
	uv_loop_t loop;
	uv_loop_init(&loop);
	static struct echo e;
	static struct client c;
	int port = echo_start(&e, &loop, srv);
	memset(&c, 0, sizeof(c));
	c.loop = &loop;
	c.tls = cli;
	c.sent = calloc(1, PIECE);
	for (uint64_t i = 0; i < PIECE; i++)
		c.sent[i] = pattern(i);
	uv_tcp_init(&loop, &c.io.u.tcp);
	c.io.u.tcp.data = &c;
	struct sockaddr_in a;
	uv_ip4_addr("127.0.0.1", port, &a);
	c.creq.data = &c;
	uv_tcp_connect(&c.creq, &c.io.u.tcp, (const struct sockaddr *)&a, exp_connected);
	run_until(&loop, &cli_have_exporter, 10);
	run_until(&loop, &e.have_exporter, 10);
	assert_true(cli_have_exporter && e.have_exporter);
	assert_memory_equal(cli_exporter, e.exporter, TLS_EXPORTER_LEN);
	char hex[2 * TLS_EXPORTER_LEN + 1];
	assert_int_equal(io_stream_tls_binding(&c.io, hex), 0);
	assert_int_equal(strlen(hex), 2 * TLS_EXPORTER_LEN);
	close_all(&loop, &e, &c);
	tls_client_free(cli);
	tls_server_free(srv);
}

/* A client trusting ca_name's certificate, checking host, fails against a server of a's. */
static void client_fails(const char *ca_name, const char *host)
{
	char err[300];
	struct tls_server *srv = tls_server_new(file("a", "pem"), file("a", "key"), err, sizeof(err));
	struct tls_client *cli = tls_client_new(file(ca_name, "pem"), NULL, NULL, err, sizeof(err));
	assert_non_null(srv);
	assert_non_null(cli);
	uv_loop_t loop;
	uv_loop_init(&loop);
	static struct echo e;
	static struct client c;
	uint64_t failures = tls_stats.handshake_failures;
	int port = echo_start(&e, &loop, srv);
	cli_host = host;
	client_start(&c, &loop, cli, port);
	run_until(&loop, &c.closed, 10);
	cli_host = "127.0.0.1";
	assert_true(c.error < 0);
	assert_int_equal(c.got, 0);
	assert_int_equal(c.written_cbs, 0);
	assert_true(tls_stats.handshake_failures > failures);
	close_all(&loop, &e, &c);
	tls_client_free(cli);
	tls_server_free(srv);
}

static void test_untrusted_certificate_fails(void **state)
{
	(void)state;
	/* The client trusts b only: a's certificate does not verify. */
	client_fails("b", "127.0.0.1");
}

/* An address the certificate does not carry, with a zone the certificate cannot name: the
 * check must run on fe80::1 and fail, never be skipped. */
static void test_other_address_with_zone_fails(void **state)
{
	(void)state;
	client_fails("a", "fe80::1%lo");
}

/* A child that asks for key updates (each answered by OpenSSL on its own), a byte of data
 * between them (OpenSSL refuses more than 32 in a row), and never reads; *done counts them. */
static void key_update_flood(int port, volatile uint64_t *done)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int v = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		_exit(2);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		_exit(3);
	for (int i = 0; i < 2000000; i++) {
		if (SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED) != 1 || SSL_do_handshake(ssl) != 1 ||
		    SSL_write(ssl, "x", 1) != 1)
			_exit(0);
		(*done)++;
	}
	_exit(0);
}

static void pause_seen(uv_timer_t *t)
{
	struct { uint64_t before; int seen; } *w = t->data;
	if (tls_stats.read_pauses > w->before)
		w->seen = 1;
}

static void quiet(uv_timer_t *t)
{
	*(int *)t->data = 1;
}

/* OpenSSL's own answers to a peer that never reads stop our reading past a bound: what the
 * peer sends then waits in the kernel, not in our memory. */
static void test_unread_key_updates_stop_reading(void **state)
{
	(void)state;
	char err[300];
	struct tls_server *srv = tls_server_new(file("a", "pem"), file("a", "key"), err, sizeof(err));
	assert_non_null(srv);
	uv_loop_t loop;
	uv_loop_init(&loop);
	static struct echo e;
	int port = echo_start(&e, &loop, srv);
	e.small_sndbuf = 1;
	e.sink = 1;
	volatile uint64_t *done = mmap(NULL, sizeof(*done), PROT_READ | PROT_WRITE,
	                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(done != MAP_FAILED);
	*done = 0;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		key_update_flood(port, done);
	struct { uint64_t before; int seen; } w = { tls_stats.read_pauses, 0 };
	uv_timer_t poll;
	uv_timer_init(&loop, &poll);
	poll.data = &w;
	uv_timer_start(&poll, pause_seen, 20, 20);
	run_until(&loop, &w.seen, 20);
	/* Paused: in half a second more we take little more from the peer (what OpenSSL held
	 * already), where reading on would take a hundred thousand key updates. */
	uint64_t at_pause = e.echoed;
	int later = 0;
	uv_timer_t wait;
	uv_timer_init(&loop, &wait);
	wait.data = &later;
	uv_timer_start(&wait, quiet, 500, 0);
	run_until(&loop, &later, 5);
	uint64_t more = e.echoed - at_pause, sent = *done;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	uv_close((uv_handle_t *)&poll, NULL);
	uv_close((uv_handle_t *)&wait, NULL);
	munmap((void *)done, sizeof(*done));
	assert_true(w.seen);
	print_message("key updates read: %llu before the pause, %llu in 0.5 s after (%llu sent)\n",
	              (unsigned long long)at_pause, (unsigned long long)more,
	              (unsigned long long)sent);
	assert_true(more < 5000);
	if (e.accepted && !e.closed)
		io_close(&e.io, echo_closed);
	uv_close((uv_handle_t *)&e.listener, NULL);
	while (uv_run(&loop, UV_RUN_NOWAIT))
		;
	assert_int_equal(uv_loop_close(&loop), 0);
	tls_server_free(srv);
}

static void test_files_and_reload(void **state)
{
	(void)state;
	char err[300], fp_a[65], fp_b[65], fp[65];
	assert_null(tls_server_new(file("missing", "pem"), file("a", "key"), err, sizeof(err)));
	assert_non_null(strstr(err, "missing.pem"));
	assert_null(tls_server_new(file("a", "pem"), file("b", "key"), err, sizeof(err)));
	assert_non_null(strstr(err, "b.key")); /* the key of another certificate */
	assert_null(tls_client_new(file("missing", "pem"), NULL, NULL, err, sizeof(err)));
	struct tls_server *s = tls_server_new(file("a", "pem"), file("a", "key"), err, sizeof(err));
	assert_non_null(s);
	tls_server_fingerprint(s, fp_a);
	assert_int_equal(strlen(fp_a), 64);
	assert_int_equal(tls_server_reload(s, file("b", "pem"), file("a", "key"), err,
	                                   sizeof(err)), -1);
	tls_server_fingerprint(s, fp);
	assert_string_equal(fp, fp_a); /* a failed reload keeps what is served */
	assert_int_equal(tls_server_reload(s, file("b", "pem"), file("b", "key"), err,
	                                   sizeof(err)), 0);
	tls_server_fingerprint(s, fp_b);
	assert_string_not_equal(fp_b, fp_a);
	assert_int_equal(tls_server_require_clients(s, file("missing", "pem"), err, sizeof(err)),
	                 -1);
	assert_int_equal(tls_server_require_clients(s, file("a", "pem"), err, sizeof(err)), 0);
	tls_server_free(s);

	/* Two contexts reload together: the second's client CA file is gone, so neither changes. */
	struct tls_server *both[2];
	for (int i = 0; i < 2; i++) {
		both[i] = tls_server_new(file("a", "pem"), file("a", "key"), err, sizeof(err));
		assert_non_null(both[i]);
	}
	char ca[128];
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	FILE *in = fopen(file("a", "pem"), "r"), *out = fopen(ca, "w");
	char buf[8192];
	size_t got = fread(buf, 1, sizeof(buf), in);
	fwrite(buf, 1, got, out);
	fclose(in);
	fclose(out);
	assert_int_equal(tls_server_require_clients(both[1], ca, err, sizeof(err)), 0);
	unlink(ca);
	assert_int_equal(tls_server_reload_all(both, 2, file("b", "pem"), file("b", "key"), err,
	                                       sizeof(err)), -1);
	for (int i = 0; i < 2; i++) {
		tls_server_fingerprint(both[i], fp);
		assert_string_equal(fp, fp_a);
		tls_server_free(both[i]);
	}
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sluice-test-tls-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	make_cert("a");
	make_cert("b");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_4mib),
		cmocka_unit_test(test_exporter_matches),
		cmocka_unit_test(test_untrusted_certificate_fails),
		cmocka_unit_test(test_other_address_with_zone_fails),
		cmocka_unit_test(test_unread_key_updates_stop_reading),
		cmocka_unit_test(test_files_and_reload),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	const char *names[] = { "a.pem", "a.key", "b.pem", "b.key" };
	for (size_t i = 0; i < 4; i++) {
		char p[128];
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
	return rc;
}
