/* SPDX-License-Identifier: Apache-2.0 */
/* watch_page.c - the watch page and its scripts (see watch_page.h). */
#include "node/watch_page.h"

#include <string.h>

#include "node/web_assets.h"

/* The page runs only its own scripts and plays media from this node (hls.js feeds MSE
 * from blob: URLs and may run its transmuxer in a blob: worker). */
#define PAGE_CSP "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " \
                 "media-src 'self' blob:; worker-src 'self' blob:; connect-src 'self'; " \
                 "img-src 'self' data:; frame-ancestors *"

static const struct web_asset *find(const char *url, size_t len)
{
	for (const struct web_asset *a = web_assets; a->url; a++)
		if (strlen(a->url) == len && memcmp(a->url, url, len) == 0)
			return a;
	return NULL;
}

static void send_asset(struct http_conn *c, const struct web_asset *a, const char *cache)
{
	if (!a->present) {
		http_respond_error(c, 503, "the player was not built into this binary: build with "
		                           "`make` (it installs hls.js from npm into web/)");
		return;
	}
	http_add_header(c, "Cache-Control", cache);
	http_add_header(c, "X-Content-Type-Options", "nosniff");
	struct http_body_ref body = { a->data, a->len, NULL };
	http_respond_refs(c, 200, a->content_type, &body, 1);
}

void watch_page_serve(struct http_conn *c)
{
	const struct web_asset *a = find("page", 4);
	http_add_header(c, "Content-Security-Policy", PAGE_CSP);
	http_add_header(c, "Referrer-Policy", "no-referrer");
	send_asset(c, a, "no-cache");
}

/* The publish page shows the camera's own picture (a MediaStream) and POSTs to ./whip. */
#define PUBLISH_CSP "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " \
                    "media-src 'self' blob: mediastream:; connect-src 'self'; " \
                    "img-src 'self' data:; frame-ancestors 'self'"

void publish_page_serve(struct http_conn *c)
{
	const struct web_asset *a = find("publish", 7);
	http_add_header(c, "Content-Security-Policy", PUBLISH_CSP);
	http_add_header(c, "Referrer-Policy", "no-referrer");
	/* getUserMedia asks for the camera and microphone from this page only. */
	http_add_header(c, "Permissions-Policy", "camera=(self), microphone=(self)");
	send_asset(c, a, "no-cache");
}

int watch_page_serve_asset(struct http_conn *c, const struct http_request *req)
{
	static const char prefix[] = "/player/";
	if (req->path_len < sizeof(prefix) - 1 ||
	    memcmp(req->path, prefix, sizeof(prefix) - 1) != 0)
		return 0;
	const struct web_asset *a = find(req->path, req->path_len);
	if (!a) {
		http_respond_error(c, 404, "no such player file");
		return 1;
	}
	if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
		http_respond_error(c, 405, "use GET");
		return 1;
	}
	/* Not immutable: the URL stays the same when an upgrade brings a new player. */
	send_asset(c, a, "max-age=600");
	return 1;
}
