/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_rtcp.c - libFuzzer target for RTCP compound parsing and the NACK
 * builder.
 *
 * Checked: a refused compound makes no callback at all; an accepted one
 * never names more NACKed packets than RTCP_MAX_NACK_SEQS, and each FCI
 * names 1..17 of them.  The input, read as sequence numbers, is also packed
 * into a NACK and parsed back: exactly the numbers asked for come out.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "proto/rtcp.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

struct count {
	size_t calls;
	size_t nack_seqs;
	uint8_t asked[65536 / 8];
	int check_asked;
	size_t seen;
};

static void on_sr(void *ud, const struct rtcp_sender_info *si) { ((struct count *)ud)->calls++; }
static void on_block(void *ud, uint32_t r, const struct rtcp_report_block *rb)
{
	CHECK(rb->cumulative_lost >= -0x800000 && rb->cumulative_lost <= 0x7fffff);
	((struct count *)ud)->calls++;
}
static void on_bye(void *ud, uint32_t ssrc) { ((struct count *)ud)->calls++; }
static void on_pli(void *ud, uint32_t s, uint32_t m) { ((struct count *)ud)->calls++; }
static void on_fir(void *ud, uint32_t s, uint32_t t, uint8_t n) { ((struct count *)ud)->calls++; }

static void on_nack(void *ud, uint32_t s, uint32_t m, const uint16_t *seqs, size_t n)
{
	struct count *c = ud;
	CHECK(n >= 1 && n <= RTCP_NACK_FCI_SEQS);
	c->calls++;
	c->nack_seqs += n;
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			CHECK((uint16_t)(seqs[i] - seqs[0]) <= 16 && seqs[i] != seqs[i - 1]);
		if (c->check_asked) {
			CHECK(c->asked[seqs[i] >> 3] & (1u << (seqs[i] & 7)));
			c->asked[seqs[i] >> 3] &= (uint8_t)~(1u << (seqs[i] & 7));
			c->seen++;
		}
	}
}

static const struct rtcp_handler handler = {
	.sender_report = on_sr, .report_block = on_block, .bye = on_bye,
	.nack = on_nack, .pli = on_pli, .fir = on_fir,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct count c;
	struct rtcp_stats st;
	memset(&c, 0, sizeof(c));
	int rc = rtcp_parse(data, size, &handler, &c, &st);
	CHECK(rc == 0 || rc == SL_EPROTO);
	if (rc != 0) {
		CHECK(c.calls == 0);
	} else {
		CHECK(c.nack_seqs <= RTCP_MAX_NACK_SEQS && c.nack_seqs == st.nack_seqs);
		CHECK(st.skipped <= st.packets && st.packets >= 1);
	}

	/* The NACK builder: the input as big-endian sequence numbers. */
	size_t n = size / 2;
	if (n == 0 || n > RTCP_MAX_NACK_SEQS)
		return 0;
	uint16_t seqs[RTCP_MAX_NACK_SEQS];
	size_t distinct = 0;
	memset(&c, 0, sizeof(c));
	for (size_t i = 0; i < n; i++) {
		seqs[i] = (uint16_t)((data[2 * i] << 8) | data[2 * i + 1]);
		if (!(c.asked[seqs[i] >> 3] & (1u << (seqs[i] & 7))))
			distinct++;
		c.asked[seqs[i] >> 3] |= (uint8_t)(1u << (seqs[i] & 7));
	}
	static uint8_t out[12 + 4 * RTCP_MAX_NACK_SEQS];
	int len = rtcp_write_nack(out, sizeof(out), 1, 2, seqs, n);
	CHECK(len >= 16);
	c.check_asked = 1;
	rc = rtcp_parse(out, (size_t)len, &handler, &c, &st);
	CHECK(rc == 0);
	/* Numbers more than half the space from the first sort ambiguously but are still named once. */
	CHECK(c.seen == distinct);
	return 0;
}
