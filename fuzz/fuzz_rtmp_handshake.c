/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_rtmp_handshake.c - the RTMP handshake, server and client side.
 *
 * Input: one control byte, then the bytes a peer sends.  The control byte
 * picks how the stream is cut into reads (its low bits bound the piece
 * size, all of it seeds the cut points), so the state machine is tried on
 * every kind of split.  The same bytes go to a server handshake, to a
 * second one in a single read (the outcome must not depend on the split),
 * and to a client handshake.  Seeds are real client streams with a
 * control byte in front.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/err.h"
#include "proto/rtmp_handshake.h"

#define C0C1_LEN (1 + RTMP_HS_SIZE)
#define S0S1S2_LEN (1 + 2 * RTMP_HS_SIZE)

struct cutter {
	uint32_t x;
	size_t max;      /* 0: the whole rest at once */
};

static void cutter_init(struct cutter *c, uint8_t ctl)
{
	c->x = 0x9e3779b9u ^ ((uint32_t)ctl * 0x01000193u);
	unsigned shift = ctl & 0x0f;
	c->max = shift > 12 ? 0 : (size_t)1 << shift;
}

static size_t cutter_next(struct cutter *c, size_t left)
{
	if (!c->max)
		return left;
	c->x ^= c->x << 13;
	c->x ^= c->x >> 17;
	c->x ^= c->x << 5;
	size_t k = c->x % c->max + 1;
	return k < left ? k : left;
}

struct outcome {
	int rc;          /* last return */
	size_t used;     /* total consumed */
	int complex;
};

static void check(int cond)
{
	if (!cond)
		abort();
}

static struct outcome run_server(const uint8_t *p, size_t n, uint8_t ctl)
{
	struct rtmp_hs hs;
	struct bytes out;
	struct cutter cut;
	struct outcome o = { SL_EAGAIN, 0, 0 };
	int zeros = 0;

	bytes_init(&out);
	cutter_init(&cut, ctl);
	rtmp_hs_server_init(&hs);
	size_t off = 0;
	do {
		size_t k = cutter_next(&cut, n - off), used = k + 1;
		int had_c0c1 = hs.state != RTMP_HS_SERVER_WAIT_C0C1;
		size_t before = out.len;
		o.rc = rtmp_hs_feed(&hs, p + off, k, &used, &out);
		check(used <= k);
		check(o.rc == 0 || o.rc == SL_EAGAIN || o.rc == SL_EPROTO ||
		      o.rc == SL_EUNSUPP);
		/* S0S1S2 goes out exactly once, in the read that completes C0C1. */
		if (!had_c0c1 && (hs.state == RTMP_HS_SERVER_WAIT_C2 || hs.state == RTMP_HS_DONE))
			check(before == 0 && out.len == S0S1S2_LEN);
		else
			check(out.len == before);
		if (o.rc == SL_EAGAIN)
			check(used == k);
		off += used;
		o.used += used;
		if (o.rc == 0)
			zeros++;
	} while (o.rc == SL_EAGAIN && off < n);

	if (o.rc == 0) {
		check(o.used == C0C1_LEN + RTMP_HS_SIZE);
		check(hs.state == RTMP_HS_DONE);
		size_t used = 1;
		check(rtmp_hs_feed(&hs, p, n, &used, &out) == SL_EINVAL && used == 0);
	} else if (o.rc != SL_EAGAIN) {
		check(hs.state == RTMP_HS_FAILED && p[0] != 3 && out.len == 0);
		check(o.used == 1);
		size_t used;
		check(rtmp_hs_feed(&hs, p, n, &used, &out) == o.rc);
	}
	check(zeros <= 1);
	if (out.len) {
		check(out.data[0] == 3);
		/* A simple reply echoes C1; a digest reply carries a version. */
		if (!hs.complex)
			check(memcmp(out.data + 1 + RTMP_HS_SIZE, p + 1, RTMP_HS_SIZE) == 0 &&
			      rd_u32be(out.data + 5) == 0);
		else
			check(rd_u32be(out.data + 5) != 0 && rd_u32be(p + 5) != 0);
	}
	o.complex = hs.complex;
	bytes_free(&out);
	return o;
}

static void run_client(const uint8_t *p, size_t n, uint8_t ctl)
{
	struct rtmp_hs hs;
	struct bytes out;
	struct cutter cut;
	int rc;

	bytes_init(&out);
	cutter_init(&cut, ctl);
	rtmp_hs_client_init(&hs, &out);
	check(out.len == C0C1_LEN && out.data[0] == 3);
	size_t off = 0;
	do {
		size_t k = cutter_next(&cut, n - off), used = k + 1;
		rc = rtmp_hs_feed(&hs, p + off, k, &used, &out);
		check(used <= k);
		check(rc == 0 || rc == SL_EAGAIN || rc == SL_EPROTO);
		off += used;
	} while (rc == SL_EAGAIN && off < n);
	if (rc == 0) {
		check(off == S0S1S2_LEN);
		check(out.len == C0C1_LEN + RTMP_HS_SIZE);
		check(memcmp(out.data + C0C1_LEN, p + 1, RTMP_HS_SIZE) == 0);
	} else {
		check(out.len == C0C1_LEN);
	}
	bytes_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t ctl = data[0];
	const uint8_t *p = data + 1;
	size_t n = size - 1;

	struct outcome cut = run_server(p, n, ctl);
	struct outcome whole = run_server(p, n, 0xff);
	check(cut.rc == whole.rc && cut.used == whole.used && cut.complex == whole.complex);
	run_client(p, n, ctl);
	return 0;
}
