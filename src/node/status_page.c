/* SPDX-License-Identifier: Apache-2.0 */
/* status_page.c - the node's status page (see status_page.h). */
#include "node/status_page.h"

#include <string.h>

#include "node/web_assets.h"

/* Only its own script and style; it talks only to this node and is framed by nobody. */
#define STATUS_CSP "default-src 'none'; script-src 'self'; style-src 'self'; " \
                   "connect-src 'self'; img-src 'self' data:; form-action 'self'; " \
                   "base-uri 'none'; frame-ancestors 'none'"

int status_page_handle(struct http_conn *c, const struct http_request *req)
{
	if (req->path_len != 1 || req->path[0] != '/')
		return 0;
	if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
		http_respond_error(c, 405, "use GET");
		return 1;
	}
	const struct web_asset *a = NULL;
	for (const struct web_asset *w = web_assets; w->url; w++)
		if (strcmp(w->url, "status") == 0)
			a = w;
	if (!a || !a->present) {
		http_respond_error(c, 503, "the status page was not built into this binary");
		return 1;
	}
	http_add_header(c, "Content-Security-Policy", STATUS_CSP);
	http_add_header(c, "X-Frame-Options", "DENY");
	http_add_header(c, "Referrer-Policy", "no-referrer");
	http_add_header(c, "X-Content-Type-Options", "nosniff");
	http_add_header(c, "Cache-Control", "no-cache");
	struct http_body_ref body = { a->data, a->len, NULL };
	http_respond_refs(c, 200, a->content_type, &body, 1);
	return 1;
}
