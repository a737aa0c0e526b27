/* SPDX-License-Identifier: Apache-2.0 */
/*
 * httpload.c - sluice-httpload: a closed-loop HTTP/1.1 GET load for the
 * manager tier's routing figures (docs/benchmarks.md).  C connections each
 * send a request, wait for the whole answer, and send the next, on one
 * kept-alive connection (default) or a new one per request (--close).  After
 * --warmup, requests answered in the --duration window are counted: answers
 * a second, latency p50/p90/p99/max (request written to the whole answer,
 * connect included with --close), status classes and errors.  A timeline of
 * answers and failures per 100 ms over the whole run (wall clock) lets a
 * caller line failures up with what it did meanwhile (bench/ha_bench.py
 * kills managers).  One JSON report on stdout.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench/hc.h"
#include "bench/lc.h"
#include "core/clock.h"
#include "core/mem.h"

#define BUCKET_MS 100
#define TICK_MS 10
#define HEADERS_MAX 8

struct load_opts {
	const char *url, *source_net;
	const char *headers[HEADERS_MAX];
	int nheaders, conns, keepalive;
	double warmup_s, duration_s, timeout_s;
};

struct load {
	uv_loop_t *loop;
	struct load_opts o;
	struct sockaddr_in addr;
	char req[2048];
	size_t req_len;
	struct hc_conn *conns;
	uv_timer_t tick;
	uv_signal_t sigint;
	uint64_t t0_us, start_wall_ms, win0_us, win1_us, end_us;
	int stopping;
	struct lc_hist lat;
	uint64_t ok, failed, status[6], connects0, body_bytes;
	json_t *errors;
	uint32_t *tl_ok, *tl_err;
	size_t nbuckets;
	struct rusage ru0, ru1;
};

static void send_next(struct load *l, struct hc_conn *c);

static void count_error(struct load *l, const char *err)
{
	json_t *v = json_object_get(l->errors, err);
	json_object_set_new(l->errors, err, json_integer(v ? json_integer_value(v) + 1 : 1));
}

static void done_cb(struct hc_conn *c, int status, const uint8_t *resp, size_t resp_len,
                    size_t body_off, size_t body_len, const char *err)
{
	struct load *l = c->data;
	uint64_t now = hc_now_us();
	(void)resp;
	(void)resp_len;
	(void)body_off;
	int good = !err && status >= 200 && status < 300;
	size_t b = (size_t)((now - l->t0_us) / (BUCKET_MS * 1000u));
	if (b < l->nbuckets)
		(good ? l->tl_ok : l->tl_err)[b]++;
	if (now >= l->win0_us && now < l->win1_us) {
		if (good) {
			l->ok++;
			lc_hist_add(&l->lat, now - c->start_us);
			l->body_bytes = body_len;
		} else {
			l->failed++;
			if (err) {
				count_error(l, err);
			} else {
				char s[32];
				snprintf(s, sizeof(s), "status %d", status);
				count_error(l, s);
			}
		}
		l->status[err ? 0 : status / 100 < 6 ? status / 100 : 0]++;
	}
	if (!l->stopping && hc_ready(c))
		send_next(l, c);
}

static void send_next(struct load *l, struct hc_conn *c)
{
	hc_request(c, l->req, l->req_len, done_cb);
}

/* With --close (or when the server closed): the next request as soon as the close is done. */
static void closed_cb(struct hc_conn *c)
{
	struct load *l = c->data;
	if (!l->stopping && hc_ready(c))
		send_next(l, c);
}

static json_t *ms(uint64_t us)
{
	return json_real((double)us / 1000.0);
}

static double cpu_s(const struct rusage *r)
{
	return (double)r->ru_utime.tv_sec + (double)r->ru_utime.tv_usec / 1e6 +
	       (double)r->ru_stime.tv_sec + (double)r->ru_stime.tv_usec / 1e6;
}

static void report(struct load *l)
{
	double win = l->o.duration_s;
	uint64_t connects = 0;
	for (int i = 0; i < l->o.conns; i++)
		connects += l->conns[i].connects;
	json_t *tok = json_array(), *terr = json_array();
	for (size_t i = 0; i < l->nbuckets; i++) {
		json_array_append_new(tok, json_integer(l->tl_ok[i]));
		json_array_append_new(terr, json_integer(l->tl_err[i]));
	}
	json_t *o = json_pack("{s:s, s:i, s:b, s:f, s:I, s:I, s:f, s:I, s:O,"
	                      " s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:f, s:{s:I, s:I, s:o, s:o}}",
	                      "url", l->o.url, "conns", l->o.conns, "keepalive", l->o.keepalive,
	                      "window_s", win, "ok", (json_int_t)l->ok, "failed",
	                      (json_int_t)l->failed, "ok_per_s", (double)l->ok / win,
	                      "body_bytes", (json_int_t)l->body_bytes, "errors", l->errors,
	                      "status", "none", (json_int_t)l->status[0], "1xx",
	                      (json_int_t)l->status[1], "2xx", (json_int_t)l->status[2], "3xx",
	                      (json_int_t)l->status[3], "4xx", (json_int_t)l->status[4], "5xx",
	                      (json_int_t)l->status[5],
	                      "client_cpu_pct", 100.0 * (cpu_s(&l->ru1) - cpu_s(&l->ru0)) / win,
	                      "timeline", "start_wall_ms", (json_int_t)l->start_wall_ms,
	                      "bucket_ms", (json_int_t)BUCKET_MS, "ok", tok, "failed", terr);
	json_t *lat = json_object();
	json_object_set_new(lat, "n", json_integer((json_int_t)l->lat.count));
	json_object_set_new(lat, "p50", ms(lc_hist_quantile(&l->lat, 0.5)));
	json_object_set_new(lat, "p90", ms(lc_hist_quantile(&l->lat, 0.9)));
	json_object_set_new(lat, "p99", ms(lc_hist_quantile(&l->lat, 0.99)));
	json_object_set_new(lat, "max", ms(l->lat.max_us));
	json_object_set_new(o, "latency_ms", lat);
	json_object_set_new(o, "connections_made", json_integer((json_int_t)connects));
	char *text = json_dumps(o, JSON_INDENT(1));
	printf("%s\n", text);
	free(text);
	json_decref(o);
}

static void tick_cb(uv_timer_t *t)
{
	struct load *l = t->data;
	uint64_t now = hc_now_us();
	uint64_t limit = (uint64_t)(l->o.timeout_s * 1e6);
	for (int i = 0; i < l->o.conns; i++) {
		struct hc_conn *c = &l->conns[i];
		hc_expire(c, now, limit, "timeout");
		/* An abort above or a refused connect: the next one after a tick, not in a loop. */
		if (!l->stopping && hc_ready(c) && !c->open)
			send_next(l, c);
	}
	if (!l->ru0.ru_utime.tv_sec && !l->ru0.ru_utime.tv_usec && now >= l->win0_us)
		getrusage(RUSAGE_SELF, &l->ru0);
	if (now >= l->win1_us && !l->stopping) {
		l->stopping = 1;
		getrusage(RUSAGE_SELF, &l->ru1);
		report(l);
		for (int i = 0; i < l->o.conns; i++)
			hc_close(&l->conns[i]);
		uv_close((uv_handle_t *)&l->tick, NULL);
		uv_close((uv_handle_t *)&l->sigint, NULL);
	}
}

/* SIGINT: the window ends now (the report says how long it was). */
static void signal_cb(uv_signal_t *h, int signum)
{
	struct load *l = h->data;
	uint64_t now = hc_now_us();
	(void)signum;
	if (now > l->win0_us && now < l->win1_us) {
		l->o.duration_s = (double)(now - l->win0_us) / 1e6;
		l->win1_us = now;
	}
}

static const char usage[] =
	"usage: sluice-httpload --url http://IPV4:PORT/PATH [options]\n"
	"  --conns C        connections, each one request at a time (default 16)\n"
	"  --close          a new connection per request (default: keep-alive)\n"
	"  --warmup S       before the window (default 1)\n"
	"  --duration S     the measurement window (default 5)\n"
	"  --timeout S      per request (default 3)\n"
	"  --header 'K: V'  an extra request header (up to 8)\n"
	"  --source-net A.B connection i from A.B.(i/250).(i%250+1) (default: the kernel's)\n";

static int parse_args(int argc, char **argv, struct load_opts *o)
{
	static const struct option opts[] = {
		{ "url", required_argument, 0, 'u' }, { "conns", required_argument, 0, 'c' },
		{ "close", no_argument, 0, 'C' }, { "warmup", required_argument, 0, 'w' },
		{ "duration", required_argument, 0, 'd' }, { "timeout", required_argument, 0, 'T' },
		{ "header", required_argument, 0, 'H' }, { "source-net", required_argument, 0, 'S' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	*o = (struct load_opts){ .conns = 16, .keepalive = 1, .warmup_s = 1, .duration_s = 5,
	                         .timeout_s = 3 };
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u': o->url = optarg; break;
		case 'c': o->conns = atoi(optarg); break;
		case 'C': o->keepalive = 0; break;
		case 'w': o->warmup_s = atof(optarg); break;
		case 'd': o->duration_s = atof(optarg); break;
		case 'T': o->timeout_s = atof(optarg); break;
		case 'S': o->source_net = optarg; break;
		case 'H':
			if (o->nheaders == HEADERS_MAX || strpbrk(optarg, "\r\n")) {
				fputs(usage, stderr);
				return -1;
			}
			o->headers[o->nheaders++] = optarg;
			break;
		default: fputs(usage, c == 'h' ? stdout : stderr); return c == 'h' ? 1 : -1;
		}
	}
	if (!o->url || o->conns <= 0 || o->conns > 60000 || o->duration_s <= 0 ||
	    o->warmup_s < 0 || o->timeout_s <= 0) {
		fputs(usage, stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct load l;
	int rc = parse_args(argc, argv, &l.o);
	if (rc)
		return rc > 0 ? 0 : 2;
	char path[1024];
	if (hc_parse_url(l.o.url, &l.addr, path, sizeof(path)) < 0) {
		fprintf(stderr, "sluice-httpload: --url: expected http://IPV4:PORT/PATH\n");
		return 2;
	}
	int n = snprintf(l.req, sizeof(l.req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
	                 "User-Agent: sluice-httpload\r\n", path, "bench");
	for (int i = 0; i < l.o.nheaders; i++)
		n += snprintf(l.req + n, sizeof(l.req) - (size_t)n, "%s\r\n", l.o.headers[i]);
	n += snprintf(l.req + n, sizeof(l.req) - (size_t)n, "%s\r\n",
	              l.o.keepalive ? "" : "Connection: close\r\n");
	if ((size_t)n >= sizeof(l.req)) {
		fprintf(stderr, "sluice-httpload: request too long\n");
		return 2;
	}
	l.req_len = (size_t)n;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	l.loop = uv_default_loop();
	l.errors = json_object();
	lc_hist_init(&l.lat);
	l.t0_us = hc_now_us();
	l.start_wall_ms = clock_wall_ms();
	l.win0_us = l.t0_us + (uint64_t)(l.o.warmup_s * 1e6);
	l.win1_us = l.win0_us + (uint64_t)(l.o.duration_s * 1e6);
	l.nbuckets = (size_t)((l.win1_us - l.t0_us) / (BUCKET_MS * 1000u)) + 1;
	l.tl_ok = xcalloc(l.nbuckets, sizeof(*l.tl_ok));
	l.tl_err = xcalloc(l.nbuckets, sizeof(*l.tl_err));
	l.conns = xcalloc((size_t)l.o.conns, sizeof(*l.conns));
	for (int i = 0; i < l.o.conns; i++) {
		hc_init(&l.conns[i], l.loop, &l.addr, l.o.keepalive);
		l.conns[i].data = &l;
		l.conns[i].on_closed = closed_cb;
		if (l.o.source_net) {
			char ip[32];
			snprintf(ip, sizeof(ip), "%s.%d.%d", l.o.source_net, i / 250, i % 250 + 1);
			if (uv_ip4_addr(ip, 0, &l.conns[i].src) != 0) {
				fprintf(stderr, "sluice-httpload: --source-net: bad address %s\n", ip);
				return 2;
			}
		}
		send_next(&l, &l.conns[i]);
	}
	uv_timer_init(l.loop, &l.tick);
	l.tick.data = &l;
	uv_timer_start(&l.tick, tick_cb, TICK_MS, TICK_MS);
	uv_signal_init(l.loop, &l.sigint);
	l.sigint.data = &l;
	uv_signal_start(&l.sigint, signal_cb, SIGINT);
	uv_run(l.loop, UV_RUN_DEFAULT);
	for (int i = 0; i < l.o.conns; i++)
		hc_free(&l.conns[i]);
	free(l.conns);
	free(l.tl_ok);
	free(l.tl_err);
	free(l.lat.bins);
	json_decref(l.errors);
	return l.ok ? 0 : 1;
}
