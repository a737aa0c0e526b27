/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_sdp.c - libFuzzer target for the WHEP offer parser (proto/sdp.c).
 *
 * Invariants: 0 or an error with a message; on 0 the counts are within
 * their limits, every token is NUL-terminated, and the answer built from
 * the offer parses back as an offer-shaped SDP with the same m-line count.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/sdp.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sdp_offer o, back;
	char err[200];
	err[0] = '\0';
	if (sdp_offer_parse((const char *)data, size, &o, err, sizeof(err)) != 0) {
		CHECK(err[0]);
		return 0;
	}
	CHECK(o.nmedia >= 1 && o.nmedia <= SDP_MAX_MEDIA && o.has_fingerprint);
	CHECK(strlen(o.ice_ufrag) < SDP_MAX_TOKEN && strlen(o.bundle) < SDP_MAX_TOKEN);
	struct sdp_answer_params p = {
		.ice_ufrag = "abcd", .ice_pwd = "0123456789abcdef012345", .cand_ip = "127.0.0.1",
		.cand_port = 40000, .cname = "sluice", .session_id = 1,
	};
	for (unsigned i = 0; i < o.nmedia; i++) {
		CHECK(o.media[i].nformats <= SDP_MAX_FORMATS);
		int f = o.media[i].kind == SDP_VIDEO ? sdp_pick_h264(&o.media[i], 0x64) :
		        sdp_pick_opus(&o.media[i]);
		CHECK(f < (int)o.media[i].nformats);
		p.media[i].format = f;
		p.media[i].ssrc = i + 1;
	}
	char *ans = sdp_answer_build(&o, &p);
	CHECK(ans);
	/* The answer echoes mids and fmtp; a fuzzed one may hold spaces, so only the
	 * size and count are checked when it parses. */
	if (sdp_offer_parse(ans, strlen(ans), &back, err, sizeof(err)) == 0)
		CHECK(back.nmedia == o.nmedia);
	free(ans);
	return 0;
}
