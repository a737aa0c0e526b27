/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls.h - TLS over libuv streams, with OpenSSL.
 *
 * A tls_server holds the certificate and key a listener hands out; it can
 * be reloaded (SIGHUP) while connections run: new handshakes get the new
 * certificate, open connections keep the context they started with (each
 * SSL holds a reference to its SSL_CTX).  A tls_client holds what a
 * connecting side verifies the peer with (a CA file) and, optionally, its
 * own certificate.
 *
 * Attaching TLS to an io_stream (io_stream.h) makes every io_* call on it
 * go through OpenSSL: the record layer is OpenSSL's, over a memory BIO for
 * what arrives and a small BIO of ours for what leaves, which sends each
 * record straight to the socket while the socket takes it (no copy of the
 * ciphertext) and keeps only what it refuses for a libuv write.
 *
 * Defaults: TLS 1.2 and 1.3 only; TLS 1.2 with ECDHE key exchange and AEAD
 * ciphers only (TLS_CIPHERS_12); TLS 1.3's three AEAD suites (TLS_SUITES_13);
 * our order first (AES-128-GCM, ChaCha20 for clients that ask for it first);
 * no renegotiation, no compression.  Kernel TLS is not used (see
 * docs/security.md).
 *
 * Single-threaded: everything here runs on the thread of the loop.
 */
#ifndef SLUICE_CORE_TLS_H
#define SLUICE_CORE_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "core/io_stream.h"

/* TLS 1.2's cipher list: forward secrecy (ECDHE) and AEAD only, in the order we prefer. */
#define TLS_CIPHERS_12 "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
/* TLS 1.3's suites (all AEAD), AES-128-GCM first: the cheapest per byte with AES-NI. */
#define TLS_SUITES_13 "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:" \
	"TLS_CHACHA20_POLY1305_SHA256"
/* Plaintext one read delivers at most (one TLS record is at most 16 KiB). */
#define TLS_READ_MAX (64 * 1024)
/* Label of the keying material a cluster proof is bound to (RFC 5705 / 8446 7.5). */
#define TLS_EXPORTER_LABEL "EXPORTER-sluice-cluster-auth"
#define TLS_EXPORTER_LEN 32

struct tls_server;
struct tls_client;

/* Counters for /metrics, over the process. */
struct tls_stats {
	uint64_t handshakes;          /* completed, both sides */
	uint64_t handshake_failures;  /* a peer that spoke no TLS, or one we refused */
	uint64_t reloads, reload_failures;
	uint64_t read_pauses;         /* reading stopped: a peer left TLS_SELF_UNSENT_MAX unread */
};
extern struct tls_stats tls_stats;

/*
 * Loads cert_file (PEM, the chain after the leaf) and key_file.  Returns NULL
 * with a message in err when either cannot be read or they do not match.
 */
struct tls_server *tls_server_new(const char *cert_file, const char *key_file, char *err,
                                  size_t err_size);
/*
 * From now on (this context and every reloaded one) clients must show a
 * certificate that verifies against client_ca_file, or the handshake fails.
 * 0, or -1 with a message in err (the file cannot be read).
 */
int tls_server_require_clients(struct tls_server *s, const char *client_ca_file, char *err,
                               size_t err_size);
/*
 * Loads the files again (they may be other files); on success new handshakes
 * use them.  On failure the old certificate stays and err says why.  0 or -1.
 */
int tls_server_reload(struct tls_server *s, const char *cert_file, const char *key_file,
                      char *err, size_t err_size);
/* The same for n (at most TLS_RELOAD_MAX) contexts of the same files: all change, or none. */
#define TLS_RELOAD_MAX 4
int tls_server_reload_all(struct tls_server *const *s, size_t n, const char *cert_file,
                          const char *key_file, char *err, size_t err_size);
void tls_server_free(struct tls_server *s);
/* SHA-256 of the certificate now served, as lowercase hex (65 bytes). */
void tls_server_fingerprint(const struct tls_server *s, char out[65]);

/*
 * A client context: peers are verified against ca_file (NULL: the system's
 * store); cert_file/key_file (both or neither) are presented when a server
 * asks.  NULL with a message in err on failure.
 */
struct tls_client *tls_client_new(const char *ca_file, const char *cert_file,
                                  const char *key_file, char *err, size_t err_size);
void tls_client_free(struct tls_client *c);

/* Makes s (accepted, not yet reading) a TLS server side.  0, or -1 when OpenSSL fails. */
int io_stream_attach_tls_server(struct io_stream *s, struct tls_server *srv);
/*
 * Makes s (connected, not yet reading) a TLS client of host (checked against
 * the certificate, and sent as SNI when it is a name).  The handshake starts
 * at once; the owner's first read sees the server's first bytes.
 */
int io_stream_attach_tls_client(struct io_stream *s, struct tls_client *cli, const char *host);
/*
 * Once the handshake is done: TLS_EXPORTER_LEN bytes both ends of this TLS
 * session derive alike and nobody else can (a relay with its own TLS has
 * other values on each side).  0, or -1 (no TLS, no handshake yet).
 */
int io_stream_tls_exporter(struct io_stream *s, uint8_t out[TLS_EXPORTER_LEN]);
/* The exporter value as hex for a TLS stream, "" for a plain one: what a proof is bound to
 * (cluster_auth.h).  0, or -1 for a TLS stream whose handshake is not done. */
int io_stream_tls_binding(struct io_stream *s, char out[2 * TLS_EXPORTER_LEN + 1]);
/* Why the last handshake or record failed, for a log line ("" if none known). */
const char *io_stream_tls_error(struct io_stream *s);

/*
 * A blocking TLS client on a connected socket, for command-line tools
 * (`sluice ctl`): the handshake is done and the peer verified as
 * io_stream_attach_tls_client does, or NULL with the reason in err.  Reads
 * return 0 at the end (a peer that closes without close_notify ends it too:
 * HTTP's own framing says whether the answer was whole).
 */
struct tls_blocking;
struct tls_blocking *tls_blocking_open(struct tls_client *cli, int fd, const char *host,
                                       char *err, size_t err_size);
/* Bytes written (all of them) or -1. */
ssize_t tls_blocking_write(struct tls_blocking *b, const void *p, size_t n);
/* Bytes read, 0 at the end, -1 on an error. */
ssize_t tls_blocking_read(struct tls_blocking *b, void *p, size_t n);
/* Frees it (the socket stays the caller's). */
void tls_blocking_free(struct tls_blocking *b);

/* The TLS side of io_stream.c's calls (same contracts as theirs). */
int tls_io_try_write(struct tls_conn *t, const uv_buf_t bufs[], unsigned n);
int tls_io_seal(struct tls_conn *t, const uv_buf_t bufs[], unsigned n, uv_buf_t *cipher);
void tls_io_sealed_sent(struct tls_conn *t, ssize_t result);
int tls_io_write(struct tls_conn *t, uv_write_t *req, const uv_buf_t bufs[], unsigned n,
                 uv_write_cb cb);
int tls_io_read_start(struct tls_conn *t, uv_alloc_cb alloc_cb, uv_read_cb read_cb);
int tls_io_read_stop(struct tls_conn *t);
int tls_io_shutdown(struct tls_conn *t, uv_shutdown_t *req, uv_shutdown_cb cb);
void tls_io_close(struct tls_conn *t, uv_close_cb cb);
size_t tls_io_write_queue_size(const struct tls_conn *t);

#endif
