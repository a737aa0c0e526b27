/* SPDX-License-Identifier: Apache-2.0 */
/* manager_reply.c - the stream manager's answers to a node (see manager_reply.h). */
#include "node/manager_reply.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/net.h"

static void copy_str(char *dst, size_t n, const json_t *v)
{
	const char *s = json_string_value(v);
	size_t len = s ? json_string_length(v) : 0;
	if (!s || len >= n || memchr(s, '\0', len))
		return;
	memcpy(dst, s, len + 1);
}

/* Keeps the hints whose key is "app/stream" and value is host[:port]; NULL if none. */
static json_t *valid_hints(const json_t *in)
{
	if (!json_is_object(in))
		return NULL;
	json_t *out = json_object();
	const char *key;
	json_t *v;
	size_t kept = 0;
	json_object_foreach((json_t *)in, key, v) {
		if (kept == MANAGER_REPLY_HINTS_MAX)
			break;
		const char *place = json_string_value(v);
		const char *slash = strchr(key, '/');
		char host[256];
		int port;
		if (!place || !slash || slash == key || !slash[1] || strchr(slash + 1, '/') ||
		    strlen(key) > 257 || json_string_length(v) != strlen(place) ||
		    net_split_hostport(place, host, sizeof(host), &port, 1935) < 0 || !host[0] ||
		    port < 1 || port > 65535)
			continue;
		json_object_set(out, key, v);
		kept++;
	}
	if (kept == 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* The X-Sluice-Signature header among the head's lines, when it is 64 hex digits. */
static void find_signature(const char *head, size_t n, char out[NODE_SIGN_HEX])
{
	static const char name[] = "x-sluice-signature:";
	const size_t nl = sizeof(name) - 1;
	out[0] = '\0';
	const char *p = head, *end = head + n;
	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		const char *le = eol ? eol : end;
		if ((size_t)(le - p) > nl && strncasecmp(p, name, nl) == 0) {
			const char *v = p + nl;
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			const char *ve = le;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if ((size_t)(ve - v) != NODE_SIGN_HEX - 1)
				return;
			for (const char *q = v; q < ve; q++)
				if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f')))
					return;
			memcpy(out, v, NODE_SIGN_HEX - 1);
			out[NODE_SIGN_HEX - 1] = '\0';
			return;
		}
		p = eol ? eol + 2 : end;
	}
}

int manager_reply_parse(const char *p, size_t n, struct manager_reply *out)
{
	memset(out, 0, sizeof(*out));
	int status = 0;
	if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') ||
	    p[8] != ' ')
		return -1;
	for (int i = 9; i < 12; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		status = status * 10 + (p[i] - '0');
	}
	if (status < 100 || status > 599 || (n > 12 && p[12] != ' ' && p[12] != '\r'))
		return -1;
	out->status = status;
	const char *sep = memmem(p, n, "\r\n\r\n", 4);
	const char *body = sep ? sep + 4 : p + n;
	size_t blen = (size_t)(p + n - body);
	find_signature(p, (size_t)((sep ? sep + 2 : p + n) - p), out->sig);
	out->body_off = (size_t)(body - p);
	out->body_len = blen;
	json_t *o = json_loadb(body, blen, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return 0;
	}
	if (status == 200) {
		copy_str(out->state, sizeof(out->state), json_object_get(o, "state"));
		copy_str(out->origins, sizeof(out->origins), json_object_get(o, "origins"));
		out->hints = valid_hints(json_object_get(o, "streamOrigins"));
		out->drain = json_is_true(json_object_get(o, "drain"));
		copy_str(out->nonce, sizeof(out->nonce), json_object_get(o, "keyNonce"));
		if (out->nonce[0] && !node_nonce_valid(out->nonce))
			out->nonce[0] = '\0';
	} else {
		copy_str(out->error, sizeof(out->error), json_object_get(o, "error"));
	}
	json_decref(o);
	return 0;
}

void manager_reply_free(struct manager_reply *r)
{
	json_decref(r->hints);
	r->hints = NULL;
}

int manager_reply_verify(const char *p, size_t n, const struct manager_reply *r,
                         const char *key, const char *req_sig)
{
	if (!r->sig[0] || !key || !*key || r->body_off + r->body_len > n)
		return 0;
	return node_answer_check(key, r->status, req_sig, p + r->body_off, r->body_len, r->sig);
}
