/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_auth.h - the one bearer-token check for HTTP APIs (the node's
 * api-token and metrics-token, the manager's admin-token), and the checks a
 * mutating call must pass so that a web page cannot make a visitor's
 * browser send it.
 *
 * A token is accepted as "Authorization: Bearer TOKEN" (scheme case-blind)
 * or as ?accessToken=TOKEN, compared in constant time.  What an unset token
 * means is the caller's policy, not this check's: http_bearer_ok() never
 * accepts when want is NULL or empty.
 */
#ifndef SLUICE_CORE_HTTP_AUTH_H
#define SLUICE_CORE_HTTP_AUTH_H

#include "core/http_parser.h"

/* Longest token accepted through ?accessToken= (longer ones never match). */
#define HTTP_AUTH_TOKEN_MAX 255

/* 1 when req carries want (non-empty) as a bearer token or ?accessToken=; else 0. */
int http_bearer_ok(const struct http_request *req, const char *want);

/*
 * Why a state-changing request must be refused as one a browser may have
 * sent on behalf of another site, or NULL when it may go on: its body is not
 * declared application/json (a form or text/plain body needs no CORS
 * preflight; DELETE, which always does, is exempt), or Sec-Fetch-Site says
 * cross-site or same-site, or its Origin is not http(s)://<its Host> (API
 * clients such as curl send no Origin; a page on another origin always does).
 */
const char *http_cross_site_refusal(const struct http_request *req);

/* Longest "Authorization: Basic ..." value read (longer ones are refused). */
#define HTTP_BASIC_MAX 600

/*
 * An Authorization value "Basic BASE64(user:password)" (scheme case-blind;
 * standard or URL-safe base64): 0 with user and password, each
 * NUL-terminated within its size, or -1 when it is not Basic, not base64,
 * longer than HTTP_BASIC_MAX, holds a NUL byte, has no ':' or an empty user,
 * or a part does not fit.  Pure (fuzz/fuzz_http_basic.c).
 */
int http_basic_parse(const char *value, size_t len, char *user, size_t user_size, char *pass,
                     size_t pass_size);

#endif
