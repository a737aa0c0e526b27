/* SPDX-License-Identifier: Apache-2.0 */
/*
 * aws_sigv4.h - AWS Signature Version 4 (pure: strings in, the
 * Authorization header's value out; no clock, no I/O).
 *
 * Written from the published algorithm: a canonical request (method, URI-
 * encoded path, sorted and encoded query, lower-cased trimmed headers sorted
 * by name, the signed header names, the payload's SHA-256), a string to sign
 * ("AWS4-HMAC-SHA256", the time, the scope DATE/REGION/SERVICE/aws4_request,
 * the canonical request's SHA-256), and the signature: HMAC-SHA256 with a
 * key derived from the secret through the date, region, service and
 * "aws4_request".  Checked against the published test suite vectors
 * (tests/unit/test_aws_sigv4.c).
 *
 * The path is taken as already normalized (no "." or ".." segments, no
 * doubled slashes): the EC2 Query API only ever uses "/".
 */
#ifndef SLUICE_MANAGER_AWS_SIGV4_H
#define SLUICE_MANAGER_AWS_SIGV4_H

#include <stddef.h>

#define SIGV4_HEADERS_MAX 16

struct sigv4_header {
	const char *name, *value;
};

struct sigv4_request {
	const char *method;            /* "GET", "POST" */
	const char *path;              /* raw (UTF-8 allowed); encoded here */
	const char *query;             /* "a=b&c=d" as sent (percent-encoded), or NULL */
	/* Every header to sign; must include host and x-amz-date (and x-amz-security-token
	 * with temporary credentials). */
	const struct sigv4_header *headers;
	size_t nheaders;
	const void *body;
	size_t body_len;
};

struct sigv4_key {
	const char *access_key, *secret_key;
	const char *region, *service;
};

/*
 * Writes "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." into out.
 * amz_date is the x-amz-date value (YYYYMMDDTHHMMSSZ).  Returns 0, or -1 if a limit is
 * passed (more than SIGV4_HEADERS_MAX headers, a malformed date, out too small).
 * canonical (may be NULL) receives the canonical request, for tests and debugging.
 */
int sigv4_authorization(const struct sigv4_request *r, const struct sigv4_key *k,
                        const char *amz_date, char *out, size_t out_size, char *canonical,
                        size_t canonical_size);

/* URI-encodes s per SigV4 (unreserved A-Z a-z 0-9 - . _ ~ kept; '/' kept if keep_slash;
 * everything else %XX upper-case).  Returns the length written, or -1 if out is too small. */
int sigv4_uri_encode(const char *s, size_t len, int keep_slash, char *out, size_t out_size);

/* Hex SHA-256 of data (65 bytes with the NUL). */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);

#endif
