/* SPDX-License-Identifier: Apache-2.0 */
/* http_client.c - libcurl multi on the libuv loop (see http_client.h). */
#include "manager/http_client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/list.h"
#include "core/log.h"
#include "core/mem.h"

struct http_client {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	struct list_node reqs;         /* struct hreq in flight */
	unsigned open_handles;         /* the timer and the polls not yet closed */
	int freeing;
};

struct hreq {
	struct list_node link;
	struct http_client *hc;
	CURL *easy;
	struct curl_slist *headers;
	char *body;                    /* a copy: the caller's may go */
	char *resp;
	size_t len, max;
	int too_big;
	char errbuf[CURL_ERROR_SIZE];
	http_client_cb cb;
	void *arg;
};

struct hpoll {
	uv_poll_t poll;
	struct http_client *hc;
	curl_socket_t fd;
};

static void maybe_free_client(struct http_client *hc)
{
	if (hc->freeing && hc->open_handles == 0)
		free(hc);
}

static void poll_closed(uv_handle_t *h)
{
	struct hpoll *p = h->data;
	struct http_client *hc = p->hc;
	free(p);
	hc->open_handles--;
	maybe_free_client(hc);
}

static void timer_closed(uv_handle_t *h)
{
	struct http_client *hc = h->data;
	hc->open_handles--;
	maybe_free_client(hc);
}

static void hreq_free(struct hreq *r)
{
	list_del(&r->link);
	curl_multi_remove_handle(r->hc->multi, r->easy);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->body);
	free(r->resp);
	free(r);
}

static void check_done(struct http_client *hc)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(hc->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct hreq *r = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		CURLcode res = msg->data.result;
		long status = 0;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
		char err[CURL_ERROR_SIZE + 64];
		int rc = 0;
		if (r->too_big) {
			snprintf(err, sizeof(err), "answer larger than %zu bytes", r->max);
			rc = SL_ELIMIT;
		} else if (res != CURLE_OK) {
			snprintf(err, sizeof(err), "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(res));
			rc = SL_EIO;
		} else {
			err[0] = '\0';
		}
		http_client_cb cb = r->cb;
		void *arg = r->arg;
		char *owned = r->resp;
		size_t len = r->len;
		r->resp = NULL;
		hreq_free(r);
		cb(arg, rc, status, owned ? owned : "", len, err);
		free(owned);
	}
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct hpoll *p = h->data;
	int flags = 0;
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	int running;
	curl_multi_socket_action(p->hc->multi, p->fd, flags, &running);
	check_done(p->hc);
}

static void on_timer(uv_timer_t *t)
{
	struct http_client *hc = t->data;
	int running;
	curl_multi_socket_action(hc->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(hc);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)easy;
	struct http_client *hc = userp;
	struct hpoll *p = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (p) {
			uv_poll_stop(&p->poll);
			uv_close((uv_handle_t *)&p->poll, poll_closed);
			if (!hc->freeing)
				curl_multi_assign(hc->multi, s, NULL);
		}
		return 0;
	}
	if (!p) {
		p = xcalloc(1, sizeof(*p));
		p->hc = hc;
		p->fd = s;
		if (uv_poll_init_socket(hc->loop, &p->poll, s) < 0) {
			free(p);
			return -1;
		}
		p->poll.data = p;
		hc->open_handles++;
		curl_multi_assign(hc->multi, s, p);
	}
	int ev = 0;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= UV_READABLE;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= UV_WRITABLE;
	uv_poll_start(&p->poll, ev, on_poll);
	return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	struct http_client *hc = userp;
	if (hc->freeing)
		return 0;
	if (timeout_ms < 0)
		uv_timer_stop(&hc->timer);
	else
		uv_timer_start(&hc->timer, on_timer, (uint64_t)timeout_ms, 0);
	return 0;
}

static size_t write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct hreq *r = userp;
	size_t n = size * nmemb;
	if (r->len + n > r->max) {
		r->too_big = 1;
		return 0;  /* curl fails the transfer */
	}
	r->resp = xrealloc(r->resp, r->len + n + 1);
	memcpy(r->resp + r->len, data, n);
	r->len += n;
	r->resp[r->len] = '\0';
	return n;
}

struct http_client *http_client_new(uv_loop_t *loop)
{
	static int inited;
	if (!inited) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		inited = 1;
	}
	struct http_client *hc = xcalloc(1, sizeof(*hc));
	hc->loop = loop;
	hc->multi = curl_multi_init();
	if (!hc->multi) {
		free(hc);
		return NULL;
	}
	list_init(&hc->reqs);
	uv_timer_init(loop, &hc->timer);
	hc->timer.data = hc;
	hc->open_handles = 1;
	curl_multi_setopt(hc->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(hc->multi, CURLMOPT_SOCKETDATA, hc);
	curl_multi_setopt(hc->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(hc->multi, CURLMOPT_TIMERDATA, hc);
	return hc;
}

void http_client_free(struct http_client *hc)
{
	if (!hc)
		return;
	hc->freeing = 1;
	while (!list_empty(&hc->reqs))
		hreq_free(list_entry(hc->reqs.next, struct hreq, link));
	/* Closes the connections curl keeps (their polls close through socket_cb). */
	curl_multi_cleanup(hc->multi);
	hc->multi = NULL;
	uv_timer_stop(&hc->timer);
	uv_close((uv_handle_t *)&hc->timer, timer_closed);
}

int http_client_send(struct http_client *hc, const struct http_client_req *q,
                     http_client_cb cb, void *arg)
{
	struct hreq *r = xcalloc(1, sizeof(*r));
	r->hc = hc;
	r->cb = cb;
	r->arg = arg;
	r->max = q->max_response ? q->max_response : HTTP_CLIENT_MAX_RESPONSE;
	r->easy = curl_easy_init();
	if (!r->easy) {
		free(r);
		return SL_EIO;
	}
	CURL *e = r->easy;
	curl_easy_setopt(e, CURLOPT_URL, q->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, q->timeout_ms > 0 ? q->timeout_ms : 30000L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/* Cloud APIs are reached over http(s) only; no redirects followed (a signed request
	 * must not be replayed elsewhere). */
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	if (q->ca_file && *q->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, q->ca_file);
	if (q->body) {
		r->body = xmalloc(q->body_len + 1);
		memcpy(r->body, q->body, q->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body_len);
	}
	if (q->method && strcmp(q->method, q->body ? "POST" : "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, q->method);
	/* curl adds "Expect: 100-continue" to large POSTs: a needless round trip here. */
	r->headers = curl_slist_append(NULL, "Expect:");
	for (size_t i = 0; q->headers && q->headers[i]; i++)
		r->headers = curl_slist_append(r->headers, q->headers[i]);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	list_add_tail(&hc->reqs, &r->link);
	if (curl_multi_add_handle(hc->multi, e) != CURLM_OK) {
		list_del(&r->link);
		list_init(&r->link);
		curl_easy_cleanup(e);
		curl_slist_free_all(r->headers);
		free(r->body);
		free(r);
		return SL_EIO;
	}
	return 0;
}
