/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loadclient.c - sluice-load: the benchmark load client (see lc.h).
 *
 *   sluice-load --publish rtmp://H:P/live/s --file in.flv \
 *               --rtmp rtmp://H:P/live/s --rtmp-viewers 200 \
 *               [--flv http://H:P/live/s.flv --flv-viewers 50] \
 *               [--server-pid PID] [--duration 20] [--per-viewer]
 *
 * Phases: the publisher starts; after --warmup the viewers connect at
 * --ramp per second; --settle after the last one started, the measurement
 * window opens for --duration seconds (lag, server CPU); then one JSON
 * report goes to stdout and the process exits.  --timeout bounds it all.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench/lc.h"
#include "core/mem.h"
#include "core/tls.h"
#include "proto/flv.h"

static struct lc the_lc;

static void usage(FILE *f)
{
	fputs("usage: sluice-load [options]\n"
	      "  --publish URL        publish --file to this rtmp:// URL at real time (looped), or\n"
	      "                       to srt://H:P?streamid=ID as MPEG-TS over SRT\n"
	      "  --file FILE          the FLV file to publish (H.264 + AAC)\n"
	      "  --rtmp URL           rtmp:// URL the RTMP viewers play\n"
	      "  --rtmp-viewers N     RTMP viewers [0]\n"
	      "  --flv URL            http:// URL the HTTP-FLV viewers play\n"
	      "  --flv-viewers N      HTTP-FLV viewers [0]\n"
	      "  --whep URL           http://H:P/APP/STREAM/whep the WebRTC viewers play (WHEP,\n"
	      "                       ICE, DTLS-SRTP; every packet decrypted and depacketized)\n"
	      "  --whep-viewers N     WebRTC viewers [0]\n"
	      "  --srt URL            srt://H:P?streamid=ID the SRT viewers play (MPEG-TS demuxed)\n"
	      "  --srt-viewers N      SRT viewers [0]\n"
	      "  --srt-latency MS     SRTO_LATENCY of every SRT socket [120]\n"
	      "  --whep-no-audio      WebRTC viewers offer video only\n"
	      "  --whep-libsrtp       WebRTC viewers decrypt RTP with libsrtp2 (Debian's: NSS)\n"
	      "                       instead of sluice's own SRTP code (proto/srtp_cm)\n"
	      "  --warmup S           seconds between publish start and the first viewer [3; 0 without --publish]\n"
	      "  --ramp N             viewers started per second [1000]\n"
	      "  --settle S           seconds after the last viewer starts before measuring [2]\n"
	      "  --duration S         seconds measured [10]\n"
	      "  --stall-ms MS        a gap between video frames longer than this is a stall [500]\n"
	      "  --server-pid PID     report this process's CPU over the window and its peak RSS\n"
	      "  --dump FILE          write what the first viewer receives as an FLV file\n"
	      "  --per-viewer         include every viewer's numbers in the report\n"
	      "  --tls-ca FILE        CA file to verify rtmps:// and https:// servers with\n"
	      "  --timeout S          hard limit on the whole run [warmup+ramp+settle+duration+30]\n", f);
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= lo && v <= hi))
		return -1;
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct lc_opts *o)
{
	static const struct option opts[] = {
		{ "publish", required_argument, NULL, 'p' },
		{ "file", required_argument, NULL, 'f' },
		{ "rtmp", required_argument, NULL, 'r' },
		{ "rtmp-viewers", required_argument, NULL, 'R' },
		{ "flv", required_argument, NULL, 'h' },
		{ "flv-viewers", required_argument, NULL, 'H' },
		{ "whep", required_argument, NULL, 'e' },
		{ "whep-viewers", required_argument, NULL, 'E' },
		{ "srt", required_argument, NULL, 'T' },
		{ "srt-viewers", required_argument, NULL, 'N' },
		{ "srt-latency", required_argument, NULL, 'l' },
		{ "whep-no-audio", no_argument, NULL, 'A' },
		{ "whep-libsrtp", no_argument, NULL, 'L' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "ramp", required_argument, NULL, 'a' },
		{ "settle", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 'd' },
		{ "stall-ms", required_argument, NULL, 'S' },
		{ "server-pid", required_argument, NULL, 'P' },
		{ "dump", required_argument, NULL, 'D' },
		{ "per-viewer", no_argument, NULL, 'V' },
		{ "timeout", required_argument, NULL, 't' },
		{ "tls-ca", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, '?' },
		{ NULL, 0, NULL, 0 },
	};
	memset(o, 0, sizeof(*o));
	o->warmup_s = -1;
	o->ramp_per_s = 1000;
	o->settle_s = 2;
	o->duration_s = 10;
	o->stall_ms = 500;
	o->srt_latency_ms = 120;
	int ch;
	double v;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		int bad = 0;
		switch (ch) {
		case 'p': o->publish_url = optarg; break;
		case 'f': o->file = optarg; break;
		case 'r': o->rtmp_url = optarg; break;
		case 'h': o->flv_url = optarg; break;
		case 'D': o->dump = optarg; break;
		case 'C': o->tls_ca = optarg; break;
		case 'e': o->whep_url = optarg; break;
		case 'A': o->whep_no_audio = 1; break;
		case 'L': o->whep_libsrtp = 1; break;
		case 'E': bad = parse_num(optarg, 0, 100000, &v); o->whep_viewers = (int)v; break;
		case 'V': o->per_viewer = 1; break;
		case 'T': o->srt_url = optarg; break;
		case 'N': bad = parse_num(optarg, 0, 100000, &v); o->srt_viewers = (int)v; break;
		case 'l': bad = parse_num(optarg, 20, 10000, &v); o->srt_latency_ms = (int)v; break;
		case 'R': bad = parse_num(optarg, 0, 100000, &v); o->rtmp_viewers = (int)v; break;
		case 'H': bad = parse_num(optarg, 0, 100000, &v); o->flv_viewers = (int)v; break;
		case 'w': bad = parse_num(optarg, 0, 3600, &o->warmup_s); break;
		case 'a': bad = parse_num(optarg, 1, 1e6, &o->ramp_per_s); break;
		case 's': bad = parse_num(optarg, 0, 3600, &o->settle_s); break;
		case 'd': bad = parse_num(optarg, 0.1, 36000, &o->duration_s); break;
		case 't': bad = parse_num(optarg, 1, 86400, &o->timeout_s); break;
		case 'S': bad = parse_num(optarg, 1, 1e6, &v); o->stall_ms = (uint64_t)v; break;
		case 'P': bad = parse_num(optarg, 1, 1e9, &v); o->server_pid = (int)v; break;
		default: usage(ch == '?' ? stdout : stderr); return -1;
		}
		if (bad) {
			fprintf(stderr, "sluice-load: bad value: %s\n", optarg);
			return -1;
		}
	}
	if (optind < argc ||
	    (!o->rtmp_viewers && !o->flv_viewers && !o->whep_viewers && !o->srt_viewers &&
	     !o->publish_url) ||
	    (o->srt_viewers && !o->srt_url) ||
	    (o->rtmp_viewers && !o->rtmp_url) || (o->flv_viewers && !o->flv_url) ||
	    (o->whep_viewers && !o->whep_url) ||
	    (o->publish_url && !o->file)) {
		usage(stderr);
		return -1;
	}
	if (o->warmup_s < 0)
		o->warmup_s = o->publish_url ? 3 : 0;
	double ramp_s = (o->rtmp_viewers + o->flv_viewers + o->whep_viewers + o->srt_viewers) /
	                o->ramp_per_s;
	if (o->timeout_s == 0)
		o->timeout_s = o->warmup_s + ramp_s + o->settle_s + o->duration_s + 30;
	return 0;
}

/* Time the process's main thread spent runnable, waiting for a CPU (schedstat's second
 * field, ns): on a shared machine, how much of the window others took from it. */
static uint64_t proc_wait_ns(int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	FILE *f = fopen(path, "r");
	unsigned long long run = 0, wait = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &run, &wait) != 2)
		wait = 0;
	fclose(f);
	return wait;
}

static uint64_t self_cpu_us(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec +
	       (uint64_t)ru.ru_stime.tv_sec * 1000000u + (uint64_t)ru.ru_stime.tv_usec;
}

static void finish(struct lc *lc, int timed_out)
{
	lc->measuring = 0;
	lc->window_end_us = lc_now_us();
	if (!lc->window_start_us)
		lc->window_start_us = lc->window_end_us;
	if (lc->o.server_pid)
		lc->srv_cpu1_ticks = lc_proc_cpu_ticks(lc->o.server_pid);
	if (lc->o.server_pid)
		lc->srv_wait1_ns = proc_wait_ns(lc->o.server_pid);
	lc->self_cpu1_us = self_cpu_us();
	for (int i = 0; i < lc->nviewers; i++)
		lc_client_segs_end(&lc->viewers[i]);
	if (timed_out)
		fprintf(stderr, "sluice-load: --timeout reached before the window closed\n");
	lc_report(lc);
	for (int i = 0; i < lc->nviewers; i++)
		if (lc->viewers[i].dump)
			fclose(lc->viewers[i].dump);
	/* Sockets close with the process; the server sees ordinary disconnects. */
	exit(timed_out ? 3 : 0);
}

static void window_end_cb(uv_timer_t *t)
{
	finish(t->data, 0);
}

static void window_start_cb(uv_timer_t *t)
{
	struct lc *lc = t->data;
	lc->measuring = 1;
	lc->window_start_us = lc_now_us();
	if (lc->o.server_pid)
		lc->srv_cpu0_ticks = lc_proc_cpu_ticks(lc->o.server_pid);
	if (lc->o.server_pid)
		lc->srv_wait0_ns = proc_wait_ns(lc->o.server_pid);
	lc->self_cpu0_us = self_cpu_us();
	for (int i = 0; i < lc->nviewers; i++)
		lc_client_segs_start(&lc->viewers[i]);
	uv_timer_start(&lc->phase, window_end_cb, (uint64_t)(lc->o.duration_s * 1000), 0);
}

static void start_viewer(struct lc *lc, struct lc_client *c)
{
	if (c->id == 0 && lc->o.dump) {
		c->dump = fopen(lc->o.dump, "wb");
		if (c->dump) {
			uint8_t hdr[FLV_FILE_HEADER_SIZE];
			flv_write_file_header(hdr, 1, 1);
			fwrite(hdr, 1, sizeof(hdr), c->dump);
		}
	}
	if (c->role == LC_PLAY_SRT)
		lc_srt_connect(c);
	else
		lc_client_connect(c);
}

static void ramp_cb(uv_timer_t *t)
{
	struct lc *lc = t->data;
	uint64_t elapsed_ms = (lc_now_us() - lc->t0_us) / 1000;
	int due = (int)ceil((double)(elapsed_ms + 10) * lc->o.ramp_per_s / 1000.0);
	if (due > lc->nviewers)
		due = lc->nviewers;
	while (lc->started_viewers < due)
		start_viewer(lc, &lc->viewers[lc->started_viewers++]);
	if (lc->started_viewers == lc->nviewers) {
		uv_timer_stop(&lc->ramp);
		uv_timer_start(&lc->phase, window_start_cb, (uint64_t)(lc->o.settle_s * 1000), 0);
	}
}

static void ramp_begin_cb(uv_timer_t *t)
{
	struct lc *lc = t->data;
	lc->t0_us = lc_now_us();
	uv_timer_start(&lc->ramp, ramp_cb, 0, 10);
}

static void deadline_cb(uv_timer_t *t)
{
	finish(t->data, 1);
}

static void setup_viewers(struct lc *lc)
{
	lc->nviewers = lc->o.rtmp_viewers + lc->o.flv_viewers + lc->o.whep_viewers +
	               lc->o.srt_viewers;
	lc->viewers = xcalloc((size_t)lc->nviewers + 1, sizeof(*lc->viewers));
	for (int i = 0; i < lc->nviewers; i++) {
		struct lc_client *c = &lc->viewers[i];
		c->lc = lc;
		c->id = i;
		if (i >= lc->o.rtmp_viewers + lc->o.flv_viewers + lc->o.whep_viewers) {
			c->role = LC_PLAY_SRT;
			if (lc_srt_url_parse(lc->o.srt_url, &c->url) < 0) {
				fprintf(stderr, "sluice-load: bad URL %s\n", lc->o.srt_url);
				exit(2);
			}
			continue;
		}
		c->role = i < lc->o.rtmp_viewers ? LC_PLAY_RTMP :
		          i < lc->o.rtmp_viewers + lc->o.flv_viewers ? LC_PLAY_FLV : LC_PLAY_WHEP;
		const char *url = c->role == LC_PLAY_RTMP ? lc->o.rtmp_url :
		                  c->role == LC_PLAY_FLV ? lc->o.flv_url : lc->o.whep_url;
		if (lc_url_parse(url, &c->url) < 0 ||
		    (c->role == LC_PLAY_RTMP) != (strncmp(url, "rtmp", 4) == 0)) {
			fprintf(stderr, "sluice-load: bad URL %s\n", url);
			exit(2);
		}
	}
}

int main(int argc, char **argv)
{
	struct lc *lc = &the_lc;
	if (parse_opts(argc, argv, &lc->o) < 0)
		return 2;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	lc->loop = uv_default_loop();
	if (lc->o.tls_ca) {
		char err[300];
		lc->tls = tls_client_new(lc->o.tls_ca, NULL, NULL, err, sizeof(err));
		if (!lc->tls) {
			fprintf(stderr, "sluice-load: --tls-ca: %s\n", err);
			return 2;
		}
	}
	lc_hist_init(&lc->lag);
	lc_hist_init(&lc->audio_lag);
	setup_viewers(lc);
	if (lc->o.whep_viewers && lc_webrtc_init(lc) < 0)
		return 2;
	int srt_pub = lc->o.publish_url && strncmp(lc->o.publish_url, "srt://", 6) == 0;
	if ((lc->o.srt_viewers || srt_pub) && lc_srt_init(lc, lc->o.srt_latency_ms) < 0)
		return 2;
	uv_timer_init(lc->loop, &lc->phase);
	uv_timer_init(lc->loop, &lc->ramp);
	uv_timer_init(lc->loop, &lc->deadline);
	lc->phase.data = lc->ramp.data = lc->deadline.data = lc;
	uv_timer_start(&lc->deadline, deadline_cb, (uint64_t)(lc->o.timeout_s * 1000), 0);

	if (lc->o.publish_url) {
		struct lc_publisher *p = &lc->pub;
		lc->have_pub = 1;
		p->c.lc = lc;
		p->c.id = -1;
		p->c.role = LC_PUBLISH;
		if (srt_pub ? lc_srt_url_parse(lc->o.publish_url, &p->c.url) < 0 :
		    (lc_url_parse(lc->o.publish_url, &p->c.url) < 0 ||
		     strncmp(lc->o.publish_url, "rtmp", 4) != 0)) {
			fprintf(stderr, "sluice-load: bad --publish URL\n");
			return 2;
		}
		if (lc_pub_load(p, lc->o.file) < 0) {
			fprintf(stderr, "sluice-load: cannot read FLV tags from %s\n", lc->o.file);
			return 2;
		}
		if (srt_pub)
			lc_srt_connect(&p->c);
		else
			lc_client_connect(&p->c);
	}
	if (lc->nviewers)
		uv_timer_start(&lc->phase, ramp_begin_cb, (uint64_t)(lc->o.warmup_s * 1000), 0);
	else
		uv_timer_start(&lc->phase, window_start_cb, (uint64_t)(lc->o.warmup_s * 1000), 0);
	uv_run(lc->loop, UV_RUN_DEFAULT);
	finish(lc, 0);
	return 0;
}
