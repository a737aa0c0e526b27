/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nodesim.c - sluice-nodesim: N simulated media nodes against one stream
 * manager (or a load balancer in front of several), for docs/benchmarks.md
 * "Manager tier".
 *
 * Each node does what a real node's manager link does (node/manager_link.c):
 * registers with the cluster secret, derives its key from the nonce in the
 * signed answer, then heartbeats once a second with a signed report on a
 * new connection (Connection: close), and checks every answer's signature.
 * The N nodes' beats are spread evenly over the second.  Registrations are
 * paced (--register-rate); once all are registered and --warmup has passed,
 * a window of --duration seconds measures each heartbeat's latency (connect
 * to the whole answer, as the node sees it).
 *
 * False deaths are watched two ways: every heartbeat answer says the node's
 * state as the manager sees it (anything but "alive", or a 404 "register
 * again", counts), and with --api the manager's node list is read one group
 * at a time (?group=, --watch-per-s lists a second, so the watch itself does
 * not stall the manager with a 10,000-node answer) and once whole at the end:
 * a node of ours missing or not alive counts.  The nodes' /healthz address is
 * one where nothing listens, so a manager that misses a node's heartbeats
 * for dead-after cannot be saved by its probe: any gap is seen.
 *
 * Output: one JSON report on stdout.  Bounded: --register-timeout and the
 * window; every request has --timeout.
 */
#include <getopt.h>
#include <signal.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench/hc.h"
#include "bench/lc.h"
#include "core/clock.h"
#include "core/mem.h"
#include "node/manager_reply.h"
#include "proto/heartbeat.h"
#include "proto/node_sign.h"

#define TICK_MS 2
#define REG_PATH "/api/v1/cluster/register"
#define BEAT_PATH "/api/v1/cluster/heartbeat"
/* Nothing listens there: a probe of a node whose heartbeats were missed fails at once. */
#define SIM_HEALTH_PORT 9
#define EXAMPLES 5

struct sim_node {
	struct hc_conn conn;
	struct sim *sim;
	int idx;
	char id[HEARTBEAT_NAME_MAX + 1];
	char group[HEARTBEAT_NAME_MAX + 1];
	char host[32];
	char *body;
	size_t body_len;
	int registered, ever_registered;
	int is_register;                 /* the request out */
	int in_window;                   /* ... was sent inside the window: its answer counts */
	int beats_ok;                    /* heartbeats answered 200 since it registered */
	char key[NODE_SIGN_HEX];
	uint64_t seq;
	char req_sig[NODE_SIGN_HEX];
};

struct sim_opts {
	const char *manager, *api, *token, *secret, *prefix, *group_prefix, *source_net;
	int nodes, group_size, origin_every, register_rate, watch_per_s, server_pid;
	double warmup_s, duration_s, timeout_s, register_timeout_s;
};

struct sim {
	uv_loop_t *loop;
	struct sim_opts o;
	struct sockaddr_in mgr_addr, api_addr;
	struct sim_node *nodes;
	uv_timer_t tick;
	uv_signal_t sigint, sigterm;
	uint64_t t0_us, cycle, next_node;      /* the beat schedule */
	uint64_t next_scan_us;                 /* the next look for requests past --timeout */
	double reg_tokens;
	uint64_t reg_last_us;
	int nregistered;
	uint64_t all_registered_us, window_start_us, window_end_us;
	int measuring, done;
	struct lc_hist lat;
	/* counts from all registered to the end (beats: in the window only) */
	uint64_t sent, ok, failed, skipped_busy, bad_sig, reg_sent, reg_failed;
	uint64_t status[6];                    /* 1xx..5xx, [0]: no answer */
	json_t *errors;                        /* error text -> count */
	uint64_t not_alive, forgotten, reregistered;
	json_t *examples;
	/* the watch */
	struct hc_conn watch;
	int ngroups, watch_group, final_sweep, sweep_next, watch_polls, watch_failed;
	uint64_t next_watch_us;
	int64_t watch_not_alive, watch_missing_groups;
	int watch_final_seen, watch_final_not_alive;
	json_t *watch_states;
	uint64_t cpu0_ticks, cpu1_ticks;
	struct rusage ru0, ru1;
};

/* A few false deaths, as "what: who (detail)", for the report. */
static void example(struct sim *s, const char *what, const char *who, const char *detail)
{
	if (json_array_size(s->examples) >= EXAMPLES)
		return;
	json_array_append_new(s->examples, json_pack("s++++", what, ": ", who, " ", detail));
}

static void count_error(struct sim *s, const char *err)
{
	json_t *v = json_object_get(s->errors, err);
	json_object_set_new(s->errors, err, json_integer(v ? json_integer_value(v) + 1 : 1));
}

static void build_body(struct sim *s, struct sim_node *nd)
{
	struct node_report r;
	struct report_stream st;
	memset(&r, 0, sizeof(r));
	memset(&st, 0, sizeof(st));
	int origin = nd->idx % s->o.origin_every == 0;
	snprintf(r.id, sizeof(r.id), "%s", nd->id);
	snprintf(r.group, sizeof(r.group), "%s", nd->group);
	snprintf(r.role, sizeof(r.role), "%s", origin ? "origin" : "edge");
	/* Its own address, as a real node's (where the manager would probe its /healthz). */
	snprintf(r.host, sizeof(r.host), "%s", nd->host);
	r.rtmp_port = 1935;
	r.http_port = SIM_HEALTH_PORT;
	/* An origin publishes one stream; an edge plays its group's first one to 10 viewers. */
	int first_origin = nd->idx - nd->idx % s->o.group_size;
	snprintf(st.app, sizeof(st.app), "live");
	snprintf(st.name, sizeof(st.name), "%s-%d", s->o.prefix, origin ? nd->idx : first_origin);
	st.publishing = origin;
	st.viewers = origin ? 0 : 10;
	r.streams = &st;
	r.nstreams = 1;
	r.connections = origin ? 1 : 11;
	r.publishers = origin;
	r.viewers = st.viewers;
	r.bw_in_bps = 2000000;
	r.bw_out_bps = origin ? 2000000 : 20000000;
	r.cpu_percent = 3.5;
	r.rss_bytes = 20 << 20;
	r.sys_cpu_percent = 20;
	r.mem_percent = 30;
	nd->body = node_report_build(&r);
	if (!nd->body)
		abort();
	nd->body_len = strlen(nd->body);
}

static void beat_done(struct hc_conn *c, int status, const uint8_t *resp, size_t resp_len,
                      size_t body_off, size_t body_len, const char *err);

static void send_call(struct sim *s, struct sim_node *nd, int is_register)
{
	const char *path = is_register ? REG_PATH : BEAT_PATH;
	uint64_t t = clock_wall_ms();
	uint64_t seq = is_register ? 0 : ++nd->seq;
	node_sign(is_register ? s->o.secret : nd->key, path, t, seq, nd->body, nd->body_len,
	          nd->req_sig);
	char head[768];
	int n = snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: manager\r\n"
	                 "User-Agent: sluice-nodesim\r\nContent-Type: application/json\r\n"
	                 "Content-Length: %zu\r\nX-Sluice-Time: %llu\r\nX-Sluice-Seq: %llu\r\n"
	                 "X-Sluice-Signature: %s\r\nConnection: close\r\n\r\n", path, nd->body_len,
	                 (unsigned long long)t, (unsigned long long)seq, nd->req_sig);
	char *req = xmalloc((size_t)n + nd->body_len);
	memcpy(req, head, (size_t)n);
	memcpy(req + n, nd->body, nd->body_len);
	nd->is_register = is_register;
	nd->in_window = !is_register && s->measuring;
	if (is_register)
		s->reg_sent++;
	else if (nd->in_window)
		s->sent++;
	hc_request(&nd->conn, req, (size_t)n + nd->body_len, beat_done);
	free(req);
}

static void on_register(struct sim *s, struct sim_node *nd, int status,
                        const struct manager_reply *r, int authentic)
{
	if (status != 200 || !authentic || !r->nonce[0]) {
		s->reg_failed++;
		return;
	}
	node_key_derive(s->o.secret, nd->id, r->nonce, nd->key);
	nd->seq = 0;
	nd->registered = 1;
	nd->beats_ok = 0;
	if (nd->ever_registered) {
		s->reregistered++;
		return;
	}
	nd->ever_registered = 1;
	if (++s->nregistered == s->o.nodes)
		s->all_registered_us = hc_now_us();
}

static void beat_done(struct hc_conn *c, int status, const uint8_t *resp, size_t resp_len,
                      size_t body_off, size_t body_len, const char *err)
{
	struct sim_node *nd = c->data;
	struct sim *s = nd->sim;
	uint64_t lat = hc_now_us() - c->start_us;
	(void)body_off;
	(void)body_len;
	/* A heartbeat counts when it was sent inside the window, whenever its answer comes (the
	 * run ends seconds after the window: every one is answered or has timed out by then). */
	int counted = nd->in_window;
	if (counted)
		s->status[status / 100 < 6 ? status / 100 : 0]++;
	if (err) {
		if (counted) {
			s->failed++;
			count_error(s, err);
		} else if (nd->is_register) {
			s->reg_failed++;
		}
		return;
	}
	struct manager_reply r;
	if (manager_reply_parse((const char *)resp, resp_len, &r) < 0) {
		if (counted) {
			s->failed++;
			count_error(s, "malformed answer");
		}
		return;
	}
	int authentic = manager_reply_verify((const char *)resp, resp_len, &r,
	                                     nd->is_register ? s->o.secret : nd->key, nd->req_sig) ||
	                (status != 200 && manager_reply_verify((const char *)resp, resp_len, &r,
	                                                       s->o.secret, nd->req_sig));
	if (nd->is_register) {
		on_register(s, nd, status, &r, authentic);
		manager_reply_free(&r);
		return;
	}
	if (!authentic)
		s->bad_sig++;
	if (counted) {
		lc_hist_add(&s->lat, lat);
		if (status == 200)
			s->ok++;
		else
			s->failed++;
	}
	int after = s->all_registered_us != 0;
	if (status == 200) {
		/* The first heartbeat moves a node from starting to alive, before the answer. */
		if (strcmp(r.state, "alive") != 0 && after) {
			s->not_alive++;
			example(s, "heartbeat answered state", nd->id, r.state);
		}
		nd->beats_ok++;
	} else if (status == 404) {
		/* Forgotten: declared dead and removed (during the bring-up too: it was registered).
		 * It registers again, as a node would. */
		if (nd->ever_registered) {
			s->forgotten++;
			example(s, "heartbeat answered 404", nd->id, r.error);
		}
		nd->registered = 0;
	} else if (status == 401 || status == 409) {
		example(s, "heartbeat refused", nd->id, r.error);
		nd->registered = 0;
	}
	manager_reply_free(&r);
}

/* ---- the watch: the manager's node list, one group at a time ---- */

static void watch_done(struct hc_conn *c, int status, const uint8_t *resp, size_t resp_len,
                       size_t body_off, size_t body_len, const char *err)
{
	struct sim *s = c->data;
	(void)resp_len;
	s->watch_polls++;
	json_t *o = NULL;
	if (err || status != 200 ||
	    !(o = json_loadb((const char *)resp + body_off, body_len, 0, NULL))) {
		s->watch_failed++;
		json_decref(o);
		return;
	}
	json_t *arr = json_object_get(o, "nodes"), *v;
	size_t i, seen = 0, plen = strlen(s->o.prefix);
	json_array_foreach(arr, i, v) {
		const char *id = json_string_value(json_object_get(v, "id"));
		const char *st = json_string_value(json_object_get(v, "state"));
		if (!id || !st || strncmp(id, s->o.prefix, plen) != 0 || id[plen] != '-')
			continue;
		seen++;
		json_t *k = json_object_get(s->watch_states, st);
		json_object_set_new(s->watch_states, st,
		                    json_integer(k ? json_integer_value(k) + 1 : 1));
		if (strcmp(st, "alive") != 0) {
			if (s->final_sweep)
				s->watch_final_not_alive++;
			else
				s->watch_not_alive++;
			example(s, "node list: not alive", id, st);
		}
	}
	if (s->final_sweep) {
		s->watch_final_seen += (int)seen;
	} else {
		int g = s->watch_group;
		int want = s->o.nodes - g * s->o.group_size;
		if (want > s->o.group_size)
			want = s->o.group_size;
		if ((int)seen < want) {
			s->watch_missing_groups++;
			char gs[48];
			snprintf(gs, sizeof(gs), "has %d of our %d nodes", (int)seen, want);
			example(s, "node list: group short", s->nodes[g * s->o.group_size].group, gs);
		}
	}
	json_decref(o);
}

static void watch_poll(struct sim *s, int group, int final)
{
	if (!s->o.api || !hc_ready(&s->watch))
		return;
	char req[512];
	int n = snprintf(req, sizeof(req), "GET /api/v1/nodes?group=%s HTTP/1.1\r\nHost: manager\r\n"
	                 "Authorization: Bearer %s\r\nConnection: close\r\n\r\n",
	                 s->nodes[group * s->o.group_size].group, s->o.token ? s->o.token : "");
	s->watch_group = group;
	s->final_sweep = final;
	hc_request(&s->watch, req, (size_t)n, watch_done);
}

/* ---- the schedule ---- */

static void finish_run(struct sim *s);

static void tick_cb(uv_timer_t *t)
{
	struct sim *s = t->data;
	uint64_t now = hc_now_us();
	uint64_t n = (uint64_t)s->o.nodes;
	/* Registrations: a token bucket of register-rate a second. */
	s->reg_tokens += (double)(now - s->reg_last_us) * s->o.register_rate / 1e6;
	if (s->reg_tokens > s->o.register_rate / 10.0 + 1)
		s->reg_tokens = s->o.register_rate / 10.0 + 1;
	s->reg_last_us = now;
	/* Node i beats at t0 + i/N s in each second. */
	for (;;) {
		uint64_t due = s->t0_us + s->cycle * 1000000u + s->next_node * 1000000u / n;
		if (due > now)
			break;
		struct sim_node *nd = &s->nodes[s->next_node];
		if (!hc_ready(&nd->conn)) {
			if (s->measuring && nd->registered)
				s->skipped_busy++;
		} else if (nd->registered) {
			send_call(s, nd, 0);
		} else if (s->reg_tokens >= 1) {
			s->reg_tokens -= 1;
			send_call(s, nd, 1);
		}
		if (++s->next_node == n) {
			s->next_node = 0;
			s->cycle++;
		}
	}
	/* Requests past --timeout are given up (a node's link gives up after 3 s). */
	uint64_t limit = (uint64_t)(s->o.timeout_s * 1e6);
	for (uint64_t i = 0; now >= s->next_scan_us && i < n; i++) {
		struct hc_conn *c = &s->nodes[i].conn;
		hc_expire(c, now, limit, c->connected ? "timeout (connected, no answer)" :
		                                        "timeout (connecting)");
	}
	if (now >= s->next_scan_us)
		s->next_scan_us = now + 100000;
	hc_expire(&s->watch, now, 10 * limit, "timeout");
	if (!s->all_registered_us) {
		if (now - s->t0_us > (uint64_t)(s->o.register_timeout_s * 1e6))
			finish_run(s);
		return;
	}
	if (!s->window_start_us) {
		s->window_start_us = s->all_registered_us + (uint64_t)(s->o.warmup_s * 1e6);
		s->window_end_us = s->window_start_us + (uint64_t)(s->o.duration_s * 1e6);
	}
	if (!s->measuring && now >= s->window_start_us && now < s->window_end_us) {
		s->measuring = 1;
		getrusage(RUSAGE_SELF, &s->ru0);
		if (s->o.server_pid)
			s->cpu0_ticks = lc_proc_cpu_ticks(s->o.server_pid);
	}
	if (s->measuring && now >= s->window_end_us) {
		s->measuring = 0;
		getrusage(RUSAGE_SELF, &s->ru1);
		if (s->o.server_pid)
			s->cpu1_ticks = lc_proc_cpu_ticks(s->o.server_pid);
		/* The final sweep of the node list follows, after a little more than dead-after
		 * (the manager has judged every node) and no sooner than a heartbeat's timeout
		 * (every heartbeat sent in the window has been answered or has failed). */
		s->next_watch_us = now + (limit > 2500000 ? limit : 2500000);
	}
	if (!s->o.api) {
		/* Heartbeats sent in the window are answered or time out by then. */
		if (now >= s->window_end_us + limit)
			finish_run(s);
		return;
	}
	if (now < s->window_end_us) {
		if (s->measuring && now >= s->next_watch_us && hc_ready(&s->watch)) {
			s->next_watch_us = now + 1000000u / (unsigned)s->o.watch_per_s;
			watch_poll(s, (s->watch_group + 1) % s->ngroups, 0);
		}
		return;
	}
	/* The final sweep: every group once, one after another. */
	if (now < s->next_watch_us || !hc_ready(&s->watch))
		return;
	if (s->sweep_next < s->ngroups) {
		watch_poll(s, s->sweep_next++, 1);
		return;
	}
	finish_run(s);
}

static double cpu_s(const struct rusage *r)
{
	return (double)r->ru_utime.tv_sec + (double)r->ru_utime.tv_usec / 1e6 +
	       (double)r->ru_stime.tv_sec + (double)r->ru_stime.tv_usec / 1e6;
}

static json_t *ms(uint64_t us)
{
	return json_real((double)us / 1000.0);
}

static void finish_run(struct sim *s)
{
	if (s->done)
		return;
	s->done = 1;
	uv_timer_stop(&s->tick);
	json_t *o = json_object();
	json_object_set_new(o, "nodes", json_integer(s->o.nodes));
	json_object_set_new(o, "registered", json_integer(s->nregistered));
	json_object_set_new(o, "register_s", s->all_registered_us ?
	                    json_real((double)(s->all_registered_us - s->t0_us) / 1e6) : json_null());
	json_object_set_new(o, "registrations", json_pack("{s:I, s:I, s:I}", "sent",
	                    (json_int_t)s->reg_sent, "failed", (json_int_t)s->reg_failed,
	                    "again", (json_int_t)s->reregistered));
	double win = s->ru1.ru_utime.tv_sec || s->ru1.ru_stime.tv_sec || s->ru1.ru_utime.tv_usec ?
	             s->o.duration_s : 0;
	json_object_set_new(o, "window_s", json_real(win));
	json_object_set_new(o, "heartbeats", json_pack(
	        "{s:I, s:I, s:I, s:I, s:I, s:f, s:{s:I, s:I, s:I, s:I, s:I}, s:O}",
	        "sent", (json_int_t)s->sent, "ok", (json_int_t)s->ok, "failed", (json_int_t)s->failed,
	        "skipped_busy", (json_int_t)s->skipped_busy, "bad_signature", (json_int_t)s->bad_sig,
	        "ok_per_s", win > 0 ? (double)s->ok / win : 0.0,
	        "status", "none", (json_int_t)s->status[0], "2xx", (json_int_t)s->status[2],
	        "3xx", (json_int_t)s->status[3], "4xx", (json_int_t)s->status[4],
	        "5xx", (json_int_t)s->status[5], "errors", s->errors));
	json_t *lat = json_object();
	json_object_set_new(lat, "n", json_integer((json_int_t)s->lat.count));
	json_object_set_new(lat, "p50", ms(lc_hist_quantile(&s->lat, 0.5)));
	json_object_set_new(lat, "p90", ms(lc_hist_quantile(&s->lat, 0.9)));
	json_object_set_new(lat, "p99", ms(lc_hist_quantile(&s->lat, 0.99)));
	json_object_set_new(lat, "max", ms(s->lat.max_us));
	json_object_set_new(o, "latency_ms", lat);
	int64_t deaths = (int64_t)(s->not_alive + s->forgotten) + s->watch_not_alive +
	                 s->watch_missing_groups + s->watch_final_not_alive +
	                 (s->o.api && s->all_registered_us ? s->o.nodes - s->watch_final_seen : 0);
	json_object_set_new(o, "false_deaths", json_pack(
	        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:O}", "total", (json_int_t)deaths,
	        "answered_not_alive", (json_int_t)s->not_alive,
	        "answered_unknown", (json_int_t)s->forgotten,
	        "list_not_alive", (json_int_t)(s->watch_not_alive + s->watch_final_not_alive),
	        "list_groups_short", (json_int_t)s->watch_missing_groups,
	        "list_final_seen", (json_int_t)s->watch_final_seen,
	        "list_polls", (json_int_t)s->watch_polls, "examples", s->examples));
	json_object_set_new(o, "watch", json_pack("{s:b, s:I, s:O}", "on", s->o.api != NULL,
	                    "failed_polls", (json_int_t)s->watch_failed, "states", s->watch_states));
	long hz = sysconf(_SC_CLK_TCK);
	if (win > 0 && s->o.server_pid && hz > 0)
		json_object_set_new(o, "server_cpu_pct", json_real(
		        100.0 * (double)(s->cpu1_ticks - s->cpu0_ticks) / (double)hz / win));
	if (win > 0)
		json_object_set_new(o, "client_cpu_pct", json_real(
		        100.0 * (cpu_s(&s->ru1) - cpu_s(&s->ru0)) / win));
	char *text = json_dumps(o, JSON_INDENT(1));
	printf("%s\n", text);
	free(text);
	json_decref(o);
	for (int i = 0; i < s->o.nodes; i++)
		hc_close(&s->nodes[i].conn);
	hc_close(&s->watch);
	uv_close((uv_handle_t *)&s->tick, NULL);
	uv_close((uv_handle_t *)&s->sigint, NULL);
	uv_close((uv_handle_t *)&s->sigterm, NULL);
}

/* SIGINT or SIGTERM: the window ends now (a caller that runs the nodes for as long as it
 * needs them); the final sweep and the report follow. */
static void signal_cb(uv_signal_t *h, int signum)
{
	struct sim *s = h->data;
	uint64_t now = hc_now_us();
	(void)signum;
	if (!s->measuring || now >= s->window_end_us) {
		finish_run(s);
		return;
	}
	s->o.duration_s = (double)(now - s->window_start_us) / 1e6;
	s->window_end_us = now;
}

static const char usage[] =
	"usage: sluice-nodesim --manager http://ADDR:PORT --secret S --nodes N [options]\n"
	"  N simulated nodes register and heartbeat once a second, signed, against a\n"
	"  manager's node listener (or a load balancer); prints a JSON report.\n"
	"  --api http://ADDR:PORT --token T  watch the manager's node list (its API)\n"
	"  --prefix P          node ids P-0 .. P-(N-1) (default sim)\n"
	"  --group-prefix G    groups G-0, G-1, ..., --group-size nodes each (they must exist;\n"
	"                      default simg, 100)\n"
	"  --origin-every K    every K-th node is an origin, the rest edges (default 10)\n"
	"  --register-rate R   registrations a second (default 1000)\n"
	"  --warmup S          after all registered, before the window (default 3)\n"
	"  --duration S        the measurement window (default 10)\n"
	"  --timeout S         per request (default 3)\n"
	"  --register-timeout S  give up registering after (default 120)\n"
	"  --watch-per-s W     node-list reads a second, one group each (default 5)\n"
	"  --server-pid PID    report the manager's CPU over the window\n"
	"  --source-net A.B    node i connects from A.B.(i/250).(i%250+1), an address of its\n"
	"                      own as a real node has (default 127.1; \"\": the kernel's choice)\n";

static int parse_args(int argc, char **argv, struct sim_opts *o)
{
	static const struct option opts[] = {
		{ "manager", required_argument, 0, 'm' }, { "api", required_argument, 0, 'a' },
		{ "token", required_argument, 0, 't' }, { "secret", required_argument, 0, 's' },
		{ "nodes", required_argument, 0, 'n' }, { "prefix", required_argument, 0, 'p' },
		{ "group-prefix", required_argument, 0, 'g' },
		{ "group-size", required_argument, 0, 'G' },
		{ "origin-every", required_argument, 0, 'o' },
		{ "register-rate", required_argument, 0, 'r' },
		{ "warmup", required_argument, 0, 'w' }, { "duration", required_argument, 0, 'd' },
		{ "timeout", required_argument, 0, 'T' },
		{ "register-timeout", required_argument, 0, 'R' },
		{ "watch-per-s", required_argument, 0, 'W' },
		{ "server-pid", required_argument, 0, 'P' }, { "help", no_argument, 0, 'h' },
		{ "source-net", required_argument, 0, 'S' },
		{ 0, 0, 0, 0 },
	};
	*o = (struct sim_opts){ .prefix = "sim", .group_prefix = "simg", .group_size = 100,
	                        .source_net = "127.1",
	                        .origin_every = 10, .register_rate = 1000, .watch_per_s = 5,
	                        .warmup_s = 3, .duration_s = 10, .timeout_s = 3,
	                        .register_timeout_s = 120 };
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': o->manager = optarg; break;
		case 'a': o->api = optarg; break;
		case 't': o->token = optarg; break;
		case 's': o->secret = optarg; break;
		case 'n': o->nodes = atoi(optarg); break;
		case 'p': o->prefix = optarg; break;
		case 'g': o->group_prefix = optarg; break;
		case 'G': o->group_size = atoi(optarg); break;
		case 'o': o->origin_every = atoi(optarg); break;
		case 'r': o->register_rate = atoi(optarg); break;
		case 'w': o->warmup_s = atof(optarg); break;
		case 'd': o->duration_s = atof(optarg); break;
		case 'T': o->timeout_s = atof(optarg); break;
		case 'R': o->register_timeout_s = atof(optarg); break;
		case 'W': o->watch_per_s = atoi(optarg); break;
		case 'P': o->server_pid = atoi(optarg); break;
		case 'S': o->source_net = optarg; break;
		default: fputs(usage, c == 'h' ? stdout : stderr); return c == 'h' ? 1 : -1;
		}
	}
	if (!o->manager || !o->secret || o->nodes <= 0 || o->nodes > 62500 ||
	    o->group_size <= 0 || o->origin_every <= 0 || o->register_rate <= 0 ||
	    o->watch_per_s <= 0 || o->duration_s <= 0 || o->timeout_s <= 0 ||
	    strlen(o->prefix) + 8 > HEARTBEAT_NAME_MAX ||
	    strlen(o->group_prefix) + 8 > HEARTBEAT_NAME_MAX) {
		fputs(usage, stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct sim s;
	int rc = parse_args(argc, argv, &s.o);
	if (rc)
		return rc > 0 ? 0 : 2;
	char path[256];
	if (hc_parse_url(s.o.manager, &s.mgr_addr, path, sizeof(path)) < 0 ||
	    (s.o.api && hc_parse_url(s.o.api, &s.api_addr, path, sizeof(path)) < 0)) {
		fprintf(stderr, "sluice-nodesim: expected http://IPV4:PORT\n");
		return 2;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	s.loop = uv_default_loop();
	s.errors = json_object();
	s.examples = json_array();
	s.watch_states = json_object();
	lc_hist_init(&s.lat);
	s.ngroups = (s.o.nodes + s.o.group_size - 1) / s.o.group_size;
	s.watch_group = -1;
	s.nodes = xcalloc((size_t)s.o.nodes, sizeof(*s.nodes));
	for (int i = 0; i < s.o.nodes; i++) {
		struct sim_node *nd = &s.nodes[i];
		nd->sim = &s;
		nd->idx = i;
		snprintf(nd->id, sizeof(nd->id), "%s-%d", s.o.prefix, i);
		snprintf(nd->group, sizeof(nd->group), "%s-%d", s.o.group_prefix, i / s.o.group_size);
		snprintf(nd->host, sizeof(nd->host), "127.0.0.1");
		hc_init(&nd->conn, s.loop, &s.mgr_addr, 0);
		nd->conn.data = nd;
		/* From one address, N nodes' connections a second land on the manager's TIME_WAIT
		 * entries of that address (it closes first) and a few are held up by PAWS; real
		 * nodes each have their own address. */
		if (*s.o.source_net) {
			snprintf(nd->host, sizeof(nd->host), "%s.%d.%d", s.o.source_net, i / 250,
			         i % 250 + 1);
			if (uv_ip4_addr(nd->host, 0, &nd->conn.src) != 0) {
				fprintf(stderr, "sluice-nodesim: --source-net: bad address %s\n", nd->host);
				return 2;
			}
		}
		build_body(&s, nd);
	}
	hc_init(&s.watch, s.loop, &s.api_addr, 0);
	s.watch.data = &s;
	s.t0_us = s.reg_last_us = hc_now_us();
	uv_timer_init(s.loop, &s.tick);
	s.tick.data = &s;
	uv_timer_start(&s.tick, tick_cb, TICK_MS, TICK_MS);
	uv_signal_init(s.loop, &s.sigint);
	uv_signal_init(s.loop, &s.sigterm);
	s.sigint.data = s.sigterm.data = &s;
	uv_signal_start(&s.sigint, signal_cb, SIGINT);
	uv_signal_start(&s.sigterm, signal_cb, SIGTERM);
	uv_run(s.loop, UV_RUN_DEFAULT);
	for (int i = 0; i < s.o.nodes; i++) {
		hc_free(&s.nodes[i].conn);
		free(s.nodes[i].body);
	}
	hc_free(&s.watch);
	free(s.nodes);
	free(s.lat.bins);
	json_decref(s.errors);
	json_decref(s.examples);
	json_decref(s.watch_states);
	return s.nregistered == s.o.nodes ? 0 : 1;
}
