/* SPDX-License-Identifier: Apache-2.0 */
/*
 * floor.c - sluice-floor: the least a sender can spend to put the benchmark's
 * bytes on N viewers' sockets, for bench/run.sh players (docs/benchmarks.md).
 *
 *   sluice-floor send --bind ADDR --port P --viewers N --file F.flv
 *                     [--merge-ms M] [--io-uring 0|1] [--duration S]
 *   sluice-floor recv --addr ADDR --port P --viewers N [--read-size B] [--duration S]
 *
 * send: accepts N TCP connections, then plays the FLV file's tags at real time
 * and writes each tag to every socket as the RTMP message sluice would send
 * (a 12-byte header, the body, one byte per further 4096-byte chunk), one
 * write per socket, with TCP_NODELAY like sluice.  Tags due at the
 * same moment go in one write, as messages that reach sluice in one loop turn
 * do; with --merge-ms M, what falls due within M ms of the first pending
 * tag goes in one write, as --viewer-write-merge M gathers it.  With
 * --io-uring 1 (the default, as sluice's) the sends go through sluice's send
 * batch, 64 to a system call; else one send() each.  No parsing, no
 * queues, no event loop: what is left is the kernel's cost per segment, which
 * is the floor the product is held against.  The bytes are zeros (the kernel
 * copies them the same).
 *
 * recv: N viewers that read like rtmpdump does: one process each, blocking
 * reads of --read-size bytes (rtmpdump's 16 KB) until the sender closes.
 *
 * Both are bounded by --duration (and recv by duration + 30 s); every child
 * is stopped by its PID.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/sendbatch.h"
#include "proto/flv.h"

#define RTMP_CHUNK 4096    /* sluice's outgoing chunk size (and the bench's nginx-rtmp's) */
#define RTMP_HDR 12        /* a type-0 chunk header */
#define MAX_VIEWERS 20000
#define MAX_WRITE (4u << 20)

struct opts {
	const char *addr, *file;
	int port, viewers, merge_ms, read_size, io_uring;
	double duration;
};

struct tag { uint32_t ts, wire; };

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	struct timespec ts = { (time_t)t, (long)((t - (time_t)t) * 1e9) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* The file's audio and video tags as (timestamp, bytes on the wire to one viewer). */
static struct tag *load_tags(const char *path, size_t *count, uint32_t *span_ms)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 20, len = 0;
	uint8_t *b = malloc(cap);
	size_t got;
	while (b && (got = fread(b + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap)
			b = realloc(b, cap *= 2);
	}
	fclose(f);
	int has_a, has_v;
	int off = b ? flv_parse_file_header(b, len, &has_a, &has_v) : -1;
	if (off < 0) {
		free(b);
		return NULL;
	}
	struct tag *tags = malloc(sizeof(*tags) * (len / FLV_TAG_HEADER_SIZE + 1));
	size_t n = 0;
	for (size_t at = (size_t)off; tags && at < len;) {
		struct flv_tag t;
		int rc = flv_parse_tag(b + at, len - at, MAX_WRITE, &t);
		if (rc <= 0)
			break;
		at += (size_t)rc;
		if ((t.type != FLV_TAG_AUDIO && t.type != FLV_TAG_VIDEO) || t.size == 0)
			continue;
		tags[n].ts = t.ts;
		tags[n].wire = RTMP_HDR + t.size + (t.size - 1) / RTMP_CHUNK;
		n++;
	}
	free(b);
	*count = n;
	*span_ms = n ? tags[n - 1].ts + 33 : 0; /* loops continue one frame after the last */
	return tags;
}

static int do_send(const struct opts *o)
{
	size_t ntags;
	uint32_t span;
	struct tag *tags = load_tags(o->file, &ntags, &span);
	if (!tags || ntags == 0) {
		fprintf(stderr, "sluice-floor: cannot read tags from %s\n", o->file);
		return 1;
	}
	alarm((unsigned)o->duration + 60); /* bounded even if the readers never come */
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (inet_pton(AF_INET, o->addr, &sa.sin_addr) != 1 ||
	    bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 4096) < 0) {
		perror("sluice-floor: listen");
		return 1;
	}
	int *fds = calloc((size_t)o->viewers, sizeof(*fds));
	for (int i = 0; i < o->viewers; i++) {
		fds[i] = accept(ls, NULL, NULL);
		if (fds[i] < 0) {
			perror("sluice-floor: accept");
			return 1;
		}
		setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	static uint8_t zeros[MAX_WRITE];
	struct sendbatch sb;
	sendbatch_init(&sb, o->io_uring);
	uint64_t writes = 0, sends = 0, bytes = 0, short_sends = 0;
	double start = now_s(), end = start + o->duration;
	size_t i = 0;
	uint64_t loop_ms = 0; /* timestamps continue across loops of the file */
	for (;;) {
		double due = start + (loop_ms + tags[i].ts) / 1000.0;
		double flush_at = due + o->merge_ms / 1000.0;
		if (flush_at > end)
			break;
		sleep_until(flush_at);
		/* Everything due by now goes in this write. */
		size_t len = 0;
		double t = now_s();
		while (start + (loop_ms + tags[i].ts) / 1000.0 <= t && len + tags[i].wire <= MAX_WRITE) {
			len += tags[i].wire;
			if (++i == ntags) {
				i = 0;
				loop_ms += span;
			}
		}
		struct iovec iov = { zeros, len };
		for (int v = 0; v < o->viewers; v++) {
			sendbatch_add(&sb, fds[v], &iov, 1);
			if (sendbatch_full(&sb) || v == o->viewers - 1) {
				unsigned n = sb.n;
				sendbatch_run(&sb);
				for (unsigned k = 0; k < n; k++) {
					sends++;
					if (sb.result[k] > 0)
						bytes += (uint64_t)sb.result[k];
					if (sb.result[k] != (ssize_t)len)
						short_sends++;
				}
			}
		}
		writes++;
	}
	for (int v = 0; v < o->viewers; v++)
		close(fds[v]);
	close(ls);
	printf("{\"viewers\": %d, \"merge_ms\": %d, \"io_uring\": %d, \"writes\": %llu, "
	       "\"writes_per_s\": %.1f, \"sends\": %llu, \"bytes\": %llu, \"short_sends\": %llu}\n",
	       o->viewers, o->merge_ms, sendbatch_uses_uring(&sb), (unsigned long long)writes,
	       writes / o->duration,
	       (unsigned long long)sends, (unsigned long long)bytes,
	       (unsigned long long)short_sends);
	sendbatch_free(&sb);
	free(fds);
	free(tags);
	return 0;
}

static void reader(const struct opts *o)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };
	inet_pton(AF_INET, o->addr, &sa.sin_addr);
	for (int tries = 0; connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0; tries++) {
		if (tries == 100)
			_exit(1);
		usleep(50000);
		close(fd);
		fd = socket(AF_INET, SOCK_STREAM, 0);
	}
	char *buf = malloc((size_t)o->read_size);
	while (buf && read(fd, buf, (size_t)o->read_size) > 0)
		;
	_exit(0);
}

static int do_recv(const struct opts *o)
{
	pid_t *kids = calloc((size_t)o->viewers, sizeof(*kids));
	for (int i = 0; i < o->viewers; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			alarm((unsigned)o->duration + 30); /* bounded even if the sender hangs */
			reader(o);
		}
		usleep(2000); /* 500 connections a second, like bench/run.sh's ramp */
	}
	int failed = 0;
	double deadline = now_s() + o->duration + 30;
	for (int left = o->viewers; left > 0;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p > 0) {
			left--;
			failed += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
			for (int i = 0; i < o->viewers; i++)
				if (kids[i] == p)
					kids[i] = 0;
		} else if (now_s() > deadline) {
			for (int i = 0; i < o->viewers; i++)
				if (kids[i] > 0)
					kill(kids[i], SIGKILL);
			deadline = now_s() + 3600;
		} else {
			usleep(50000);
		}
	}
	free(kids);
	printf("{\"readers\": %d, \"failed\": %d}\n", o->viewers, failed);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .addr = "127.0.0.1", .port = 0, .viewers = 1, .read_size = 16384,
	                  .duration = 20, .io_uring = 1 };
	static const struct option lo[] = {
		{ "bind", required_argument, NULL, 'a' }, { "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' }, { "viewers", required_argument, NULL, 'n' },
		{ "file", required_argument, NULL, 'f' }, { "merge-ms", required_argument, NULL, 'm' },
		{ "read-size", required_argument, NULL, 'r' },
		{ "io-uring", required_argument, NULL, 'u' },
		{ "duration", required_argument, NULL, 'd' }, { NULL, 0, NULL, 0 },
	};
	if (argc < 2)
		goto usage;
	const char *mode = argv[1];
	optind = 2;
	for (int c; (c = getopt_long(argc, argv, "", lo, NULL)) != -1;) {
		switch (c) {
		case 'a': o.addr = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 'n': o.viewers = atoi(optarg); break;
		case 'f': o.file = optarg; break;
		case 'm': o.merge_ms = atoi(optarg); break;
		case 'r': o.read_size = atoi(optarg); break;
		case 'u': o.io_uring = atoi(optarg); break;
		case 'd': o.duration = atof(optarg); break;
		default: goto usage;
		}
	}
	if (o.port <= 0 || o.port > 65535 || o.viewers < 1 || o.viewers > MAX_VIEWERS ||
	    o.merge_ms < 0 || o.merge_ms > 1000 || o.read_size < 1 || o.duration <= 0 ||
	    o.duration > 3600)
		goto usage;
	if (!strcmp(mode, "send") && o.file)
		return do_send(&o);
	if (!strcmp(mode, "recv"))
		return do_recv(&o);
usage:
	fprintf(stderr, "usage: sluice-floor send --bind ADDR --port P --viewers N --file F.flv "
	                "[--merge-ms M] [--io-uring 0|1] [--duration S]\n"
	                "       sluice-floor recv --addr ADDR --port P --viewers N "
	                "[--read-size B] [--duration S]\n");
	return 2;
}
