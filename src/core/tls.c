/* SPDX-License-Identifier: Apache-2.0 */
/* tls.c - TLS over libuv streams with OpenSSL (see tls.h). */
#include "core/tls.h"

#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/bytes.h"
#include "core/crypto.h"
#include "core/list.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/net.h"

struct tls_stats tls_stats;

/* Ciphertext unsent up to the last bytes OpenSSL wrote on its own (alerts, KeyUpdate replies,
 * handshake flights) past which we stop reading the socket: a peer that never reads could
 * otherwise make them grow without end.  The owner's own writes are the owner's to bound. */
#define TLS_SELF_UNSENT_MAX (256u * 1024)

struct tls_server {
	SSL_CTX *ctx;
	char *client_ca;            /* NULL: no client certificates asked for */
};

struct tls_client {
	SSL_CTX *ctx;
};

/* An owner's write: done once the ciphertext up to `end` has left. */
struct tls_wreq {
	struct list_node link;
	uv_write_t *req;
	uv_write_cb cb;
	uv_buf_t *bufs;             /* kept only while the handshake is not done */
	unsigned n;
	int encrypted;
	uint64_t end;               /* t->produced after its last record */
};

/* Ciphertext the socket did not take at once, handed to libuv. */
struct tls_out {
	uv_write_t w;
	struct tls_conn *t;
	uint8_t *data;
	size_t len;
};

struct tls_conn {
	SSL *ssl;
	BIO *rbio;                  /* ciphertext received, not yet decrypted */
	struct io_stream *io;
	int fd;
	uv_alloc_cb alloc_cb;       /* the owner's */
	uv_read_cb read_cb;
	uint8_t reading;            /* the owner wants reads */
	uint8_t uv_reading;         /* we read the socket */
	uint8_t hs_done, hs_failed, closing, rd_done;
	uint8_t corked;             /* records gather in out, for one send (tls_io_seal) */
	int rd_err;                 /* the read side's end (UV_EOF, an error) to tell the owner */
	int err;                    /* a write failed: later writes fail with it */
	uint64_t produced, sent;    /* ciphertext bytes made, and taken by the kernel */
	uint64_t self_end;          /* produced after the last bytes OpenSSL wrote on its own */
	uint8_t owner_writing;      /* inside SSL_write for the owner */
	uint8_t paused_unsent;      /* reading stopped: TLS_SELF_UNSENT_MAX */
	struct bytes out;           /* ciphertext the socket refused, not yet handed to libuv */
	unsigned inflight;          /* our writes libuv holds */
	struct list_node writes;    /* struct tls_wreq, oldest first */
	uv_idle_t kick;             /* deferred work: write completions, buffered plaintext */
	int handles;                /* the stream's and kick's closes still to come */
	uv_close_cb close_cb;
	char why[160];
};

/* ---- contexts ---- */

static BIO_METHOD *out_method;

static void ssl_error_text(char *out, size_t n, const char *what, const char *file)
{
	unsigned long e = ERR_peek_last_error();
	char reason[160] = "unknown error";
	if (e)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	if (file)
		snprintf(out, n, "%s %s: %s", what, file, reason);
	else
		snprintf(out, n, "%s: %s", what, reason);
}

static void common_settings(SSL_CTX *ctx)
{
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12);
	SSL_CTX_set_ciphersuites(ctx, TLS_SUITES_13);
	/* Our order, AES-128-GCM first: every viewer's bytes are encrypted, and it is the
	 * cheapest AEAD with AES-NI; a client that puts ChaCha20 first (no AES in hardware)
	 * still gets it. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
	                    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
	/* A write the socket half took goes on from where the caller's buffer now is. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/* Keys must be unencrypted: OpenSSL would otherwise prompt on the terminal, blocking the loop
 * (on a SIGHUP reload too).  No password: an encrypted key fails to load, with a reason. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

static int load_pair(SSL_CTX *ctx, const char *cert_file, const char *key_file, char *err,
                     size_t err_size)
{
	SSL_CTX_set_default_passwd_cb(ctx, no_password);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		ssl_error_text(err, err_size, "cannot use certificate file", cert_file);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		ssl_error_text(err, err_size, "cannot use key file", key_file);
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ssl_error_text(err, err_size, "key does not match certificate", cert_file);
		return -1;
	}
	return 0;
}

static int verify_clients(SSL_CTX *ctx, const char *ca_file, char *err, size_t err_size)
{
	STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca_file);
	if (!names || SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
		sk_X509_NAME_pop_free(names, X509_NAME_free);
		ssl_error_text(err, err_size, "cannot load client CA file", ca_file);
		return -1;
	}
	SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	/* With client certificates OpenSSL resumes a session only under a context id. */
	static const unsigned char sid_ctx[] = "sluice";
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	return 0;
}

static SSL_CTX *server_ctx(const char *cert_file, const char *key_file, const char *client_ca,
                           char *err, size_t err_size)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		ssl_error_text(err, err_size, "cannot make a TLS context", NULL);
		return NULL;
	}
	common_settings(ctx);
	if (load_pair(ctx, cert_file, key_file, err, err_size) < 0 ||
	    (client_ca && verify_clients(ctx, client_ca, err, err_size) < 0)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

struct tls_server *tls_server_new(const char *cert_file, const char *key_file, char *err,
                                  size_t err_size)
{
	SSL_CTX *ctx = server_ctx(cert_file, key_file, NULL, err, err_size);
	if (!ctx)
		return NULL;
	struct tls_server *s = xcalloc(1, sizeof(*s));
	s->ctx = ctx;
	return s;
}

int tls_server_reload_all(struct tls_server *const *s, size_t n, const char *cert_file,
                          const char *key_file, char *err, size_t err_size)
{
	SSL_CTX *ctx[TLS_RELOAD_MAX];
	if (n > TLS_RELOAD_MAX) {
		snprintf(err, err_size, "more than %d contexts to reload", TLS_RELOAD_MAX);
		return -1;
	}
	/* Every new context first: one that fails leaves all as they were, none half-reloaded. */
	for (size_t i = 0; i < n; i++) {
		ctx[i] = server_ctx(cert_file, key_file, s[i]->client_ca, err, err_size);
		if (!ctx[i]) {
			while (i--)
				SSL_CTX_free(ctx[i]);
			tls_stats.reload_failures++;
			return -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		/* Open connections hold references to the old context; it goes with the last. */
		SSL_CTX_free(s[i]->ctx);
		s[i]->ctx = ctx[i];
		tls_stats.reloads++;
	}
	return 0;
}

int tls_server_reload(struct tls_server *s, const char *cert_file, const char *key_file,
                      char *err, size_t err_size)
{
	return tls_server_reload_all(&s, 1, cert_file, key_file, err, err_size);
}

int tls_server_require_clients(struct tls_server *s, const char *client_ca_file, char *err,
                               size_t err_size)
{
	if (verify_clients(s->ctx, client_ca_file, err, err_size) < 0)
		return -1;
	free(s->client_ca);
	s->client_ca = xstrdup(client_ca_file);
	return 0;
}

void tls_server_free(struct tls_server *s)
{
	if (!s)
		return;
	SSL_CTX_free(s->ctx);
	free(s->client_ca);
	free(s);
}

void tls_server_fingerprint(const struct tls_server *s, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	X509 *x = SSL_CTX_get0_certificate(s->ctx);
	if (!x || X509_digest(x, EVP_sha256(), md, &len) != 1 || len != 32) {
		out[0] = '\0';
		return;
	}
	hex_encode(md, len, out);
}

struct tls_client *tls_client_new(const char *ca_file, const char *cert_file,
                                  const char *key_file, char *err, size_t err_size)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		ssl_error_text(err, err_size, "cannot make a TLS context", NULL);
		return NULL;
	}
	common_settings(ctx);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	/* A certificate in the CA file anchors trust even if it is not self-signed (as curl
	 * does): a server's own certificate, or an intermediate, may be what is pinned. */
	X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx), X509_V_FLAG_PARTIAL_CHAIN);
	int ok = ca_file && *ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
	                             : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		ssl_error_text(err, err_size, "cannot load CA file", ca_file ? ca_file : "(system)");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (cert_file && *cert_file && load_pair(ctx, cert_file, key_file, err, err_size) < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	struct tls_client *c = xcalloc(1, sizeof(*c));
	c->ctx = ctx;
	return c;
}

void tls_client_free(struct tls_client *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

/* ---- the write BIO: records straight to the socket while it takes them ---- */

static int out_write(BIO *b, const char *data, int len)
{
	struct tls_conn *t = BIO_get_data(b);
	size_t n = (size_t)len;
	t->produced += n;
	if (!t->owner_writing)
		t->self_end = t->produced;
	if (t->err || t->closing) {
		t->sent += n; /* dropped: every write fails from here on */
		return len;
	}
	/* Only while nothing is queued ahead of it, so the bytes keep their order. */
	if (!t->corked && !t->out.len && !t->inflight && t->fd >= 0 &&
	    uv_stream_get_write_queue_size(&t->io->u.stream) == 0) {
		ssize_t w;
		do
			w = send(t->fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (w < 0 && errno == EINTR);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			t->err = uv_translate_sys_error(errno);
			t->sent += n;
			return len;
		}
		if (w > 0) {
			t->sent += (uint64_t)w;
			data += w;
			n -= (size_t)w;
		}
	}
	if (n)
		bytes_append(&t->out, data, n);
	return len;
}

static long out_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int out_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static int out_destroy(BIO *b)
{
	(void)b;
	return 1;
}

static void init_once(void)
{
	if (out_method)
		return;
	out_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sluice-out");
	BIO_meth_set_write(out_method, out_write);
	BIO_meth_set_ctrl(out_method, out_ctrl);
	BIO_meth_set_create(out_method, out_create);
	BIO_meth_set_destroy(out_method, out_destroy);
}

/* ---- a connection ---- */

static int set_peer_name(SSL *ssl, const char *host);

static void pump(struct tls_conn *t);
static void complete_writes(struct tls_conn *t);

static uv_stream_t *stream_of(struct tls_conn *t)
{
	return &t->io->u.stream;
}

static void note_error(struct tls_conn *t, const char *what)
{
	long v = SSL_get_verify_result(t->ssl);
	if (v != X509_V_OK && !SSL_is_server(t->ssl)) {
		snprintf(t->why, sizeof(t->why), "%s: certificate verify failed: %s", what,
		         X509_verify_cert_error_string(v));
		ERR_clear_error();
		return;
	}
	ssl_error_text(t->why, sizeof(t->why), what, NULL);
}

const char *io_stream_tls_error(struct io_stream *s)
{
	return s->tls ? s->tls->why : "";
}

static void kick_cb(uv_idle_t *h)
{
	struct tls_conn *t = h->data;
	uv_idle_stop(h);
	complete_writes(t);
	if (t->reading)
		pump(t);
}

/* Runs deferred work on the next loop turn: never inside the owner's call. */
static void kick(struct tls_conn *t)
{
	if (!t->closing)
		uv_idle_start(&t->kick, kick_cb);
}

static void tls_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	/* One loop thread; tls_read hands the bytes to OpenSSL before the next read. */
	static char rbuf[TLS_READ_MAX];
	(void)h;
	(void)suggested;
	buf->base = rbuf;
	buf->len = sizeof(rbuf);
}

static void tls_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);

static int self_unsent_over(const struct tls_conn *t)
{
	return t->self_end > t->sent && t->self_end - t->sent > TLS_SELF_UNSENT_MAX;
}

/* We read the socket while the handshake runs, then only while the owner reads; never while
 * what OpenSSL answered on its own waits unsent past TLS_SELF_UNSENT_MAX. */
static void update_reading(struct tls_conn *t)
{
	int over = self_unsent_over(t);
	if (over && !t->paused_unsent)
		tls_stats.read_pauses++;
	t->paused_unsent = (uint8_t)over;
	int want = !t->closing && !t->rd_err && (!t->hs_done || t->reading) && !over;
	if (want && !t->uv_reading) {
		if (uv_read_start(stream_of(t), tls_alloc, tls_read) == 0)
			t->uv_reading = 1;
	} else if (!want && t->uv_reading) {
		uv_read_stop(stream_of(t));
		t->uv_reading = 0;
	}
}

/* Tells the owner the read side ended (once, when it reads). */
static void deliver_end(struct tls_conn *t)
{
	if (!t->reading || t->rd_done || !t->rd_err || t->closing)
		return;
	t->rd_done = 1;
	uv_buf_t b = uv_buf_init(NULL, 0);
	t->read_cb(stream_of(t), t->rd_err, &b);
}

static void flush_out(struct tls_conn *t);

static void encrypt_queued(struct tls_conn *t);

static void handshake(struct tls_conn *t)
{
	ERR_clear_error();
	int rc = SSL_do_handshake(t->ssl);
	flush_out(t);
	if (rc == 1) {
		t->hs_done = 1;
		tls_stats.handshakes++;
		encrypt_queued(t);
		update_reading(t);
		return;
	}
	int e = SSL_get_error(t->ssl, rc);
	if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && !t->rd_err)
		return;
	tls_stats.handshake_failures++;
	t->hs_failed = 1;
	if (e == SSL_ERROR_WANT_READ)
		snprintf(t->why, sizeof(t->why), "handshake: peer closed");
	else
		note_error(t, "handshake");
	char peer[64];
	net_peer_name(&t->io->u.tcp, peer, sizeof(peer));
	log_throttled(LOG_INFO, "tls_handshake_failed", "peer=%s side=%s error=\"%s\"", peer,
	              SSL_is_server(t->ssl) ? "server" : "client", t->why);
	if (!t->rd_err || t->rd_err == UV_EOF)
		t->rd_err = UV_EPROTO;
	t->err = t->err ? t->err : UV_EPROTO;
	update_reading(t);
	complete_writes(t);
	deliver_end(t);
}

/* Decrypts what arrived and hands it to the owner while it reads. */
static void pump(struct tls_conn *t)
{
	if (t->closing)
		return;
	if (!t->hs_done) {
		if (t->hs_failed)
			deliver_end(t);
		else
			handshake(t);
		if (!t->hs_done)
			return;
	}
	while (t->reading && !t->closing && !t->rd_done) {
		uv_buf_t b = uv_buf_init(NULL, 0);
		t->alloc_cb(&t->io->u.handle, TLS_READ_MAX, &b);
		if (!b.base || !b.len) {
			t->read_cb(stream_of(t), UV_ENOBUFS, &b);
			return;
		}
		ERR_clear_error();
		int n = SSL_read(t->ssl, b.base, b.len > INT_MAX ? INT_MAX : (int)b.len);
		if (n > 0) {
			t->read_cb(stream_of(t), n, &b);
			continue;
		}
		int e = SSL_get_error(t->ssl, n);
		flush_out(t); /* a read may answer (a key update, an alert) */
		if (e == SSL_ERROR_WANT_READ && !t->rd_err) {
			t->read_cb(stream_of(t), 0, &b); /* gives the buffer back, as libuv does */
			return;
		}
		if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_WANT_READ) {
			if (!t->rd_err)
				t->rd_err = UV_EOF;
		} else {
			note_error(t, "record");
			t->rd_err = UV_EPROTO;
			log_debug("tls_record_error", "error=\"%s\"", t->why);
		}
		t->read_cb(stream_of(t), 0, &b);
		update_reading(t);
		deliver_end(t);
		return;
	}
}

static void tls_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct tls_conn *t = ((struct io_stream *)st)->tls;
	if (nread == 0)
		return;
	if (nread < 0) {
		t->rd_err = (int)nread;
		update_reading(t);
	} else {
		BIO_write(t->rbio, buf->base, (int)nread);
	}
	pump(t);
	update_reading(t);
}

/* Hands the ciphertext the socket refused to libuv, which writes it in order. */
static void out_done(uv_write_t *w, int status)
{
	struct tls_out *o = container_of(w, struct tls_out, w);
	struct tls_conn *t = o->t;
	t->inflight--;
	if (status < 0 && !t->err)
		t->err = status;
	t->sent += o->len;
	free(o->data);
	free(o);
	if (t->paused_unsent)
		update_reading(t);
	complete_writes(t);
}

/* Hands out's bytes from off on to libuv (those before off were sent). */
static void flush_out_from(struct tls_conn *t, size_t off)
{
	if (off >= t->out.len || t->closing) {
		t->out.len = 0;
		return;
	}
	struct tls_out *o = xmalloc(sizeof(*o));
	o->t = t;
	o->data = t->out.data; /* the buffer changes hands: no copy */
	o->len = t->out.len - off;
	bytes_init(&t->out);
	uv_buf_t b = uv_buf_init((char *)o->data + off, (unsigned)o->len);
	int rc = uv_write(&o->w, stream_of(t), &b, 1, out_done);
	if (rc < 0) {
		if (!t->err)
			t->err = rc;
		t->sent += o->len;
		free(o->data);
		free(o);
		kick(t);
		return;
	}
	t->inflight++;
}

static void flush_out(struct tls_conn *t)
{
	if (t->out.len)
		flush_out_from(t, 0);
}

static int encrypt(struct tls_conn *t, const uv_buf_t *bufs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (!bufs[i].len)
			continue;
		ERR_clear_error();
		t->owner_writing = 1;
		int rc = SSL_write(t->ssl, bufs[i].base, (int)bufs[i].len);
		t->owner_writing = 0;
		if (rc <= 0) {
			note_error(t, "write");
			if (!t->err)
				t->err = UV_EPROTO;
			return t->err;
		}
	}
	return t->err;
}

static void encrypt_queued(struct tls_conn *t)
{
	struct list_node *n;
	list_for_each(n, &t->writes) {
		struct tls_wreq *w = list_entry(n, struct tls_wreq, link);
		if (w->encrypted)
			continue;
		encrypt(t, w->bufs, w->n);
		free(w->bufs);
		w->bufs = NULL;
		w->encrypted = 1;
		w->end = t->produced;
	}
	flush_out(t);
	kick(t);
}

/* Calls back the owner's writes whose bytes all left (or all of them, after an error). */
static void complete_writes(struct tls_conn *t)
{
	while (!list_empty(&t->writes)) {
		struct tls_wreq *w = list_entry(t->writes.next, struct tls_wreq, link);
		if (!t->err && !(w->encrypted && t->sent >= w->end))
			return;
		list_del(&w->link);
		uv_write_t *req = w->req;
		uv_write_cb cb = w->cb;
		free(w->bufs);
		free(w);
		if (cb)
			cb(req, t->err);
	}
}

static int has_unencrypted(struct tls_conn *t)
{
	return !list_empty(&t->writes) &&
	       !list_entry(t->writes.prev, struct tls_wreq, link)->encrypted;
}

/*
 * Encrypts bufs when nothing waits ahead of them (corked: the records gather in out).
 * Returns the plaintext taken (all of it), or UV_EAGAIN / an error.
 */
static int encrypt_now(struct tls_conn *t, const uv_buf_t bufs[], unsigned n, int corked)
{
	if (t->closing)
		return UV_EPIPE;
	if (t->err)
		return t->err;
	if (!t->hs_done || !list_empty(&t->writes) || t->out.len || t->inflight)
		return UV_EAGAIN;
	size_t total = 0;
	for (unsigned i = 0; i < n; i++)
		total += bufs[i].len;
	if (total > INT_MAX)
		return UV_EINVAL;
	t->corked = (uint8_t)corked;
	int rc = encrypt(t, bufs, n);
	t->corked = 0;
	return rc < 0 ? rc : (int)total;
}

int tls_io_seal(struct tls_conn *t, const uv_buf_t bufs[], unsigned n, uv_buf_t *cipher)
{
	size_t before = t->out.len; /* records of earlier calls (a KeyUpdate reply, an alert) */
	int taken = encrypt_now(t, bufs, n, 1);
	if (taken < 0) {
		/* Only this call's records are dropped: losing earlier ones would break the
		 * record sequence.  Those go to libuv, so the next seal finds out empty. */
		t->sent += t->out.len - before;
		t->out.len = before;
		flush_out(t);
		return taken;
	}
	*cipher = uv_buf_init((char *)t->out.data, (unsigned)t->out.len);
	return taken;
}

void tls_io_sealed_sent(struct tls_conn *t, ssize_t result)
{
	size_t len = t->out.len;
	if (result < 0 && result != UV_EAGAIN) {
		if (!t->err)
			t->err = (int)result;
		t->sent += len;
		t->out.len = 0;
		return;
	}
	size_t w = result > 0 ? (size_t)result : 0;
	t->sent += w;
	/* What the socket refused waits in libuv; the next seal or try says EAGAIN till then. */
	flush_out_from(t, w);
}

int tls_io_try_write(struct tls_conn *t, const uv_buf_t bufs[], unsigned n)
{
	if (n <= 1 || t->fd < 0) {
		/* One buffer: its records go straight from OpenSSL's buffer to the socket. */
		int taken = encrypt_now(t, bufs, n, 0);
		if (taken >= 0)
			flush_out(t); /* what the socket refused; the next try says EAGAIN till then */
		return taken;
	}
	/* Several: their records gathered (one copy of the ciphertext) cost one send, not one
	 * each. */
	uv_buf_t c;
	int taken = tls_io_seal(t, bufs, n, &c);
	if (taken < 0)
		return taken;
	ssize_t w;
	do
		w = send(t->fd, c.base, c.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (w < 0 && errno == EINTR);
	tls_io_sealed_sent(t, w >= 0 ? w : (errno == EAGAIN || errno == EWOULDBLOCK)
	                                   ? UV_EAGAIN : uv_translate_sys_error(errno));
	return t->err ? t->err : taken;
}

int tls_io_write(struct tls_conn *t, uv_write_t *req, const uv_buf_t bufs[], unsigned n,
                 uv_write_cb cb)
{
	if (t->closing)
		return UV_EPIPE;
	if (t->err)
		return t->err;
	struct tls_wreq *w = xcalloc(1, sizeof(*w));
	w->req = req;
	w->cb = cb;
	req->handle = stream_of(t);
	if (t->hs_done && !has_unencrypted(t)) {
		int rc = encrypt(t, bufs, n);
		if (rc < 0) {
			free(w);
			return rc;
		}
		w->encrypted = 1;
		w->end = t->produced;
	} else {
		w->bufs = xmalloc((n ? n : 1) * sizeof(*bufs));
		memcpy(w->bufs, bufs, n * sizeof(*bufs));
		w->n = n;
	}
	list_add_tail(&t->writes, &w->link);
	flush_out(t);
	/* A write the socket took whole completes on the next turn (never inside this call);
	 * one waiting in libuv completes when libuv is done with it. */
	if (w->encrypted && (t->sent >= w->end || t->err))
		kick(t);
	return 0;
}

int tls_io_read_start(struct tls_conn *t, uv_alloc_cb alloc_cb, uv_read_cb read_cb)
{
	if (t->closing)
		return UV_EINVAL;
	t->alloc_cb = alloc_cb;
	t->read_cb = read_cb;
	t->reading = 1;
	update_reading(t);
	/* Plaintext or an end left over from when the owner paused: delivered next turn. */
	if ((t->hs_done && (BIO_pending(t->rbio) > 0 || SSL_has_pending(t->ssl))) ||
	    (t->rd_err && !t->rd_done))
		kick(t);
	return 0;
}

int tls_io_read_stop(struct tls_conn *t)
{
	t->reading = 0;
	update_reading(t);
	return 0;
}

int tls_io_shutdown(struct tls_conn *t, uv_shutdown_t *req, uv_shutdown_cb cb)
{
	if (t->hs_done && !t->err && !t->closing) {
		ERR_clear_error();
		SSL_shutdown(t->ssl); /* close_notify, so the peer knows the end is not a cut */
		flush_out(t);
	}
	return uv_shutdown(req, stream_of(t), cb);
}

static void release(struct tls_conn *t)
{
	if (--t->handles > 0)
		return;
	SSL_free(t->ssl); /* frees both BIOs */
	bytes_free(&t->out);
	free(t);
}

static void kick_closed(uv_handle_t *h)
{
	release(h->data);
}

static void stream_closed(uv_handle_t *h)
{
	struct io_stream *io = (struct io_stream *)h;
	struct tls_conn *t = io->tls;
	/* libuv cancelled our own writes before this; the owner's left go the same way. */
	if (!t->err)
		t->err = UV_ECANCELED;
	complete_writes(t);
	uv_close_cb cb = t->close_cb;
	io->tls = NULL;
	if (cb)
		cb(h); /* may free io */
	release(t);
}

void tls_io_close(struct tls_conn *t, uv_close_cb cb)
{
	if (t->closing)
		return;
	t->closing = 1;
	t->close_cb = cb;
	t->reading = 0;
	uv_idle_stop(&t->kick);
	uv_close((uv_handle_t *)&t->kick, kick_closed);
	uv_close(&t->io->u.handle, stream_closed);
}

size_t tls_io_write_queue_size(const struct tls_conn *t)
{
	size_t queued = (size_t)(t->produced - t->sent);
	const struct list_node *n;
	list_for_each(n, &t->writes) {
		const struct tls_wreq *w = list_entry(n, struct tls_wreq, link);
		for (unsigned i = 0; !w->encrypted && i < w->n; i++)
			queued += w->bufs[i].len;
	}
	return queued;
}

static struct tls_conn *attach(struct io_stream *s, SSL_CTX *ctx)
{
	init_once();
	SSL *ssl = SSL_new(ctx);
	if (!ssl)
		return NULL;
	struct tls_conn *t = xcalloc(1, sizeof(*t));
	t->ssl = ssl;
	t->io = s;
	uv_os_fd_t fd = -1;
	t->fd = uv_fileno(&s->u.handle, &fd) == 0 ? fd : -1;
	t->rbio = BIO_new(BIO_s_mem());
	BIO *wbio = BIO_new(out_method);
	if (!t->rbio || !wbio) {
		BIO_free(t->rbio);
		BIO_free(wbio);
		SSL_free(ssl);
		free(t);
		return NULL;
	}
	BIO_set_mem_eof_return(t->rbio, -1); /* empty means "more to come", not the end */
	BIO_set_data(wbio, t);
	SSL_set_bio(ssl, t->rbio, wbio);
	bytes_init(&t->out);
	list_init(&t->writes);
	uv_idle_init(s->u.handle.loop, &t->kick);
	t->kick.data = t;
	t->handles = 2;
	s->tls = t;
	return t;
}

int io_stream_attach_tls_server(struct io_stream *s, struct tls_server *srv)
{
	struct tls_conn *t = attach(s, srv->ctx);
	if (!t)
		return -1;
	SSL_set_accept_state(t->ssl);
	update_reading(t);
	return 0;
}

int io_stream_attach_tls_client(struct io_stream *s, struct tls_client *cli, const char *host)
{
	struct tls_conn *t = attach(s, cli->ctx);
	if (!t)
		return -1;
	SSL_set_connect_state(t->ssl);
	if (set_peer_name(t->ssl, host) < 0) {
		/* Fails as a handshake would: the owner's read and writes end with EPROTO. */
		ssl_error_text(t->why, sizeof(t->why), "cannot check the peer's name", NULL);
		tls_stats.handshake_failures++;
		t->hs_failed = 1;
		t->rd_err = t->err = UV_EPROTO;
		log_throttled(LOG_INFO, "tls_handshake_failed", "side=client error=\"%s\"", t->why);
		return 0;
	}
	update_reading(t);
	handshake(t); /* the ClientHello leaves now */
	return 0;
}

int io_stream_tls_exporter(struct io_stream *s, uint8_t out[TLS_EXPORTER_LEN])
{
	struct tls_conn *t = s->tls;
	if (!t || !t->hs_done)
		return -1;
	return SSL_export_keying_material(t->ssl, out, TLS_EXPORTER_LEN, TLS_EXPORTER_LABEL,
	                                  strlen(TLS_EXPORTER_LABEL), NULL, 0, 0) == 1 ? 0 : -1;
}

int io_stream_tls_binding(struct io_stream *s, char out[2 * TLS_EXPORTER_LEN + 1])
{
	out[0] = '\0';
	if (!s->tls)
		return 0;
	uint8_t v[TLS_EXPORTER_LEN];
	if (io_stream_tls_exporter(s, v) < 0)
		return -1;
	hex_encode(v, sizeof(v), out);
	return 0;
}

struct tls_blocking {
	SSL *ssl;
};

/* The name or address the peer's certificate must carry.  -1 when OpenSSL would not take it:
 * going on would connect with no identity check at all. */
static int set_peer_name(SSL *ssl, const char *host)
{
	struct sockaddr_storage ss;
	if (net_addr(host, 0, &ss) == 0) {
		/* A certificate names no zone: "fe80::1%eth0" is checked as fe80::1. */
		char ip[INET6_ADDRSTRLEN];
		size_t len = strcspn(host, "%");
		if (len >= sizeof(ip))
			return -1;
		memcpy(ip, host, len);
		ip[len] = '\0';
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip) == 1 ? 0 : -1;
	}
	return SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1 ? 0 : -1;
}

struct tls_blocking *tls_blocking_open(struct tls_client *cli, int fd, const char *host,
                                       char *err, size_t err_size)
{
	SSL *ssl = SSL_new(cli->ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		ssl_error_text(err, err_size, "TLS setup", NULL);
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (set_peer_name(ssl, host) < 0) {
		ssl_error_text(err, err_size, "cannot check the peer's name", host);
		SSL_free(ssl);
		return NULL;
	}
	ERR_clear_error();
	if (SSL_connect(ssl) != 1) {
		long v = SSL_get_verify_result(ssl);
		if (v != X509_V_OK)
			snprintf(err, err_size, "TLS handshake: certificate verify failed: %s",
			         X509_verify_cert_error_string(v));
		else
			ssl_error_text(err, err_size, "TLS handshake", NULL);
		SSL_free(ssl);
		return NULL;
	}
	struct tls_blocking *b = xcalloc(1, sizeof(*b));
	b->ssl = ssl;
	return b;
}

ssize_t tls_blocking_write(struct tls_blocking *b, const void *p, size_t n)
{
	size_t done = 0;
	return SSL_write_ex(b->ssl, p, n, &done) == 1 ? (ssize_t)done : -1;
}

ssize_t tls_blocking_read(struct tls_blocking *b, void *p, size_t n)
{
	size_t got = 0;
	if (SSL_read_ex(b->ssl, p, n, &got) == 1)
		return (ssize_t)got;
	int e = SSL_get_error(b->ssl, 0);
	return e == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

void tls_blocking_free(struct tls_blocking *b)
{
	if (!b)
		return;
	SSL_free(b->ssl);
	free(b);
}
