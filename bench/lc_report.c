/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lc_report.c - sluice-load's result: one JSON object on stdout, totals and
 * distributions over the viewers, the server's CPU and memory over the
 * measurement window, and optionally every viewer's own numbers.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/lc.h"
#include "core/mem.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Sorts v and returns its q-quantile (nearest rank). */
uint64_t lc_quantile(uint64_t *v, size_t n, double q)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return v[i];
}

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

json_t *lc_json_dist(uint64_t *v, size_t n, double scale)
{
	json_t *o = json_object();
	json_object_set_new(o, "n", json_integer((json_int_t)n));
	if (!n)
		return o;
	json_object_set_new(o, "min", json_real((double)lc_quantile(v, n, 0) * scale));
	json_object_set_new(o, "p50", json_real((double)lc_quantile(v, n, 0.5) * scale));
	json_object_set_new(o, "p90", json_real((double)lc_quantile(v, n, 0.9) * scale));
	json_object_set_new(o, "max", json_real((double)lc_quantile(v, n, 1) * scale));
	return o;
}

static json_t *viewer_json(const struct lc_client *c)
{
	const struct lc_stats *st = &c->st;
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer(c->id));
	json_object_set_new(o, "protocol", json_string(c->role == LC_PLAY_FLV ? "flv" :
	                    c->role == LC_PLAY_WHEP ? "whep" :
	                    c->role == LC_PLAY_SRT ? "srt" : "rtmp"));
	json_object_set_new(o, "connected", json_boolean(c->connected));
	json_object_set_new(o, "bytes", json_integer((json_int_t)st->bytes));
	json_object_set_new(o, "video_frames", json_integer((json_int_t)st->video_frames));
	json_object_set_new(o, "audio_frames", json_integer((json_int_t)st->audio_frames));
	json_object_set_new(o, "keyframes", json_integer((json_int_t)st->keyframes));
	json_object_set_new(o, "window_video_frames", json_integer((json_int_t)st->window_frames));
	json_object_set_new(o, "ttff_ms", st->ttff_us >= 0 ? json_real(ms((uint64_t)st->ttff_us)) :
	                    json_null());
	json_object_set_new(o, "lag_samples", json_integer((json_int_t)st->lag_n));
	if (st->lag_n) {
		json_object_set_new(o, "lag_mean_ms", json_real(st->lag_sum_us / (double)st->lag_n /
		                                                1000.0));
		json_object_set_new(o, "lag_max_ms", json_real(ms(st->lag_max_us)));
		json_object_set_new(o, "lag_last_ms", json_real(ms(st->lag_last_us)));
	}
	json_object_set_new(o, "stalls", json_integer(st->stalls));
	json_object_set_new(o, "unstamped_frames", json_integer((json_int_t)st->frames_unstamped));
	json_object_set_new(o, "negative_lag", json_integer((json_int_t)st->negative_lag));
	if (st->have_video_ts) {
		json_object_set_new(o, "first_video_ts", json_integer(st->first_video_ts));
		json_object_set_new(o, "last_video_ts", json_integer(st->last_video_ts));
	}
	json_object_set_new(o, "error", st->error[0] ? json_string(st->error) : json_null());
	return o;
}

static int read_proc_status_kb(int pid, const char *key, uint64_t *out)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t klen = strlen(key);
	int rc = -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			*out = strtoull(line + klen + 1, NULL, 10);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

void lc_report(struct lc *lc)
{
	size_t n = (size_t)lc->nviewers;
	uint64_t *vf = xcalloc(n + 1, sizeof(uint64_t));
	uint64_t *af = xcalloc(n + 1, sizeof(uint64_t));
	uint64_t *wf = xcalloc(n + 1, sizeof(uint64_t));
	uint64_t *by = xcalloc(n + 1, sizeof(uint64_t));
	uint64_t *tt = xcalloc(n + 1, sizeof(uint64_t));
	uint64_t *tb = xcalloc(n + 1, sizeof(uint64_t));
	size_t ntt = 0, ntb = 0, connected = 0, alive = 0, stalled = 0;
	uint64_t stalls = 0, stall_us = 0, unstamped = 0, negative = 0, bytes = 0, wbytes = 0;
	uint64_t segs = 0, seg_bytes = 0, seg_viewers = 0;
	json_t *errors = json_object();
	for (size_t i = 0; i < n; i++) {
		const struct lc_client *c = &lc->viewers[i];
		vf[i] = c->st.video_frames;
		af[i] = c->st.audio_frames;
		wf[i] = c->st.window_frames;
		by[i] = c->st.bytes;
		bytes += c->st.bytes;
		wbytes += c->st.window_bytes;
		if (c->st.segs_known) {
			seg_viewers++;
			segs += c->st.window_segs;
			seg_bytes += c->st.window_seg_bytes;
		}
		if (c->st.ttff_us >= 0)
			tt[ntt++] = (uint64_t)c->st.ttff_us;
		if (c->st.ttfb_us >= 0)
			tb[ntb++] = (uint64_t)c->st.ttfb_us;
		connected += c->connected;
		alive += c->connected && !c->closed;
		stalled += c->st.stalls > 0;
		stalls += c->st.stalls;
		stall_us += c->st.stall_us;
		unstamped += c->st.frames_unstamped;
		negative += c->st.negative_lag;
		if (c->st.error[0]) {
			json_t *e = json_object_get(errors, c->st.error);
			json_object_set_new(errors, c->st.error,
			                    json_integer(e ? json_integer_value(e) + 1 : 1));
		}
	}
	double window_s = (double)(lc->window_end_us - lc->window_start_us) / 1e6;

	json_t *r = json_object();
	json_t *cfg = json_object();
	json_object_set_new(cfg, "rtmp_url", lc->o.rtmp_url ? json_string(lc->o.rtmp_url) :
	                    json_null());
	json_object_set_new(cfg, "flv_url", lc->o.flv_url ? json_string(lc->o.flv_url) : json_null());
	json_object_set_new(cfg, "rtmp_viewers", json_integer(lc->o.rtmp_viewers));
	json_object_set_new(cfg, "flv_viewers", json_integer(lc->o.flv_viewers));
	json_object_set_new(cfg, "whep_url", lc->o.whep_url ? json_string(lc->o.whep_url) :
	                    json_null());
	json_object_set_new(cfg, "whep_viewers", json_integer(lc->o.whep_viewers));
	json_object_set_new(cfg, "srt_url", lc->o.srt_url ? json_string(lc->o.srt_url) : json_null());
	json_object_set_new(cfg, "srt_viewers", json_integer(lc->o.srt_viewers));
	json_object_set_new(cfg, "srt_latency_ms", json_integer(lc->o.srt_latency_ms));
	json_object_set_new(cfg, "publish_url", lc->o.publish_url ? json_string(lc->o.publish_url) :
	                    json_null());
	json_object_set_new(cfg, "stall_ms", json_integer((json_int_t)lc->o.stall_ms));
	json_object_set_new(r, "config", cfg);
	json_object_set_new(r, "window_s", json_real(window_s));

	json_t *v = json_object();
	json_object_set_new(v, "requested", json_integer((json_int_t)n));
	json_object_set_new(v, "started", json_integer(lc->started_viewers));
	json_object_set_new(v, "connected", json_integer((json_int_t)connected));
	json_object_set_new(v, "alive_at_end", json_integer((json_int_t)alive));
	json_object_set_new(v, "errors", errors);
	json_object_set_new(r, "viewers", v);

	json_t *fr = json_object();
	json_object_set_new(fr, "video", lc_json_dist(vf, n, 1));
	json_object_set_new(fr, "audio", lc_json_dist(af, n, 1));
	json_object_set_new(fr, "video_in_window", lc_json_dist(wf, n, 1));
	json_object_set_new(fr, "unstamped_video", json_integer((json_int_t)unstamped));
	json_object_set_new(r, "frames", fr);

	json_t *b = json_object();
	json_object_set_new(b, "total", json_integer((json_int_t)bytes));
	json_object_set_new(b, "in_window", json_integer((json_int_t)wbytes));
	json_object_set_new(b, "per_viewer", lc_json_dist(by, n, 1));
	json_object_set_new(b, "mbit_per_s_per_viewer_in_window",
	                    json_real(n && window_s > 0 ? (double)wbytes * 8 / 1e6 / window_s /
	                              (double)n : 0));
	json_object_set_new(r, "bytes", b);

	/* How the server cut its stream into TCP segments: each costs the kernel about the
	 * same whatever it carries, so this is much of a server's CPU per viewer. */
	json_t *sg = json_object();
	json_object_set_new(sg, "viewers", json_integer((json_int_t)seg_viewers));
	json_object_set_new(sg, "per_viewer_per_s", json_real(seg_viewers && window_s > 0 ?
	                    (double)segs / (double)seg_viewers / window_s : 0));
	json_object_set_new(sg, "bytes_per_segment", json_real(segs ? (double)seg_bytes /
	                    (double)segs : 0));
	json_object_set_new(r, "tcp_segments", sg);

	json_t *lag = json_object();
	json_object_set_new(lag, "samples", json_integer((json_int_t)lc->lag.count));
	json_object_set_new(lag, "p50", json_real(ms(lc_hist_quantile(&lc->lag, 0.5))));
	json_object_set_new(lag, "p90", json_real(ms(lc_hist_quantile(&lc->lag, 0.9))));
	json_object_set_new(lag, "p99", json_real(ms(lc_hist_quantile(&lc->lag, 0.99))));
	json_object_set_new(lag, "max", json_real(ms(lc->lag.max_us)));
	json_object_set_new(lag, "negative", json_integer((json_int_t)negative));
	json_object_set_new(r, "lag_ms", lag);
	json_t *alag = json_object();
	json_object_set_new(alag, "samples", json_integer((json_int_t)lc->audio_lag.count));
	json_object_set_new(alag, "unmatched", json_integer((json_int_t)lc->audio_unmatched));
	json_object_set_new(alag, "p50", json_real(ms(lc_hist_quantile(&lc->audio_lag, 0.5))));
	json_object_set_new(alag, "p90", json_real(ms(lc_hist_quantile(&lc->audio_lag, 0.9))));
	json_object_set_new(alag, "p99", json_real(ms(lc_hist_quantile(&lc->audio_lag, 0.99))));
	json_object_set_new(alag, "max", json_real(ms(lc->audio_lag.max_us)));
	json_object_set_new(r, "audio_lag_ms", alag);
	json_object_set_new(r, "ttff_ms", lc_json_dist(tt, ntt, 1e-3));
	json_object_set_new(r, "ttfb_ms", lc_json_dist(tb, ntb, 1e-3));

	json_t *s = json_object();
	json_object_set_new(s, "viewers_with_stalls", json_integer((json_int_t)stalled));
	json_object_set_new(s, "total", json_integer((json_int_t)stalls));
	json_object_set_new(s, "stalled_s", json_real((double)stall_us / 1e6));
	json_object_set_new(r, "stalls", s);

	if (lc->o.server_pid > 0) {
		json_t *srv = json_object();
		double tck = (double)sysconf(_SC_CLK_TCK);
		double cpu = (double)(lc->srv_cpu1_ticks - lc->srv_cpu0_ticks) / tck;
		json_object_set_new(srv, "pid", json_integer(lc->o.server_pid));
		json_object_set_new(srv, "cpu_s", json_real(cpu));
		json_object_set_new(srv, "cpu_pct_of_core", json_real(window_s > 0 ?
		                    cpu / window_s * 100 : 0));
		/* Runnable but not running: the share of the window the machine made it wait. */
		json_object_set_new(srv, "waited_for_cpu_pct", json_real(window_s > 0 ?
		                    (double)(lc->srv_wait1_ns - lc->srv_wait0_ns) / 1e7 / window_s : 0));
		double vm = alive && window_s > 0 ? (double)alive * window_s / 60 : 0;
		json_object_set_new(srv, "cpu_s_per_viewer_minute", json_real(vm > 0 ? cpu / vm : 0));
		json_object_set_new(srv, "cpu_pct_of_core_per_viewer", json_real(
		                    alive && window_s > 0 ? cpu / window_s * 100 / (double)alive : 0));
		uint64_t kb = 0;
		if (read_proc_status_kb(lc->o.server_pid, "VmHWM", &kb) == 0)
			json_object_set_new(srv, "peak_rss_kb", json_integer((json_int_t)kb));
		if (read_proc_status_kb(lc->o.server_pid, "VmRSS", &kb) == 0)
			json_object_set_new(srv, "rss_kb", json_integer((json_int_t)kb));
		json_object_set_new(r, "server", srv);
	}
	json_t *cl = json_object();
	json_object_set_new(cl, "cpu_pct_of_core", json_real(window_s > 0 ?
	                    (double)(lc->self_cpu1_us - lc->self_cpu0_us) / 1e4 / window_s : 0));
	json_object_set_new(r, "client", cl);

	if (lc->have_pub) {
		json_t *p = json_object();
		json_object_set_new(p, "connected", json_boolean(lc->pub.c.connected));
		json_object_set_new(p, "video_frames_sent", json_integer((json_int_t)lc->pub.frames_sent));
		json_object_set_new(p, "error", lc->pub.c.st.error[0] ? json_string(lc->pub.c.st.error) :
		                    json_null());
		json_object_set_new(r, "publisher", p);
	}
	lc_webrtc_report(lc, r);
	if (lc->o.per_viewer) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, viewer_json(&lc->viewers[i]));
		json_object_set_new(r, "per_viewer", a);
	}
	json_dumpf(r, stdout, JSON_INDENT(1) | JSON_REAL_PRECISION(6));
	fputc('\n', stdout);
	fflush(stdout);
	json_decref(r);
	free(vf);
	free(af);
	free(wf);
	free(by);
	free(tt);
	free(tb);
}
