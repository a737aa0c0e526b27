/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_cluster_event.c - the JSON body of POST /api/v1/cluster/events, and
 * the payload's trip to the AMF0 data message viewers receive.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cluster/cluster_events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_msg ev;
	char err[200];
	if (event_parse_request((const char *)data, size, &ev, err, sizeof(err)) < 0) {
		if (!err[0])
			abort(); /* every refusal says why */
		return 0;
	}
	snprintf(ev.id, sizeof(ev.id), "0123456789abcdef0123456789abcdef");
	snprintf(ev.from, sizeof(ev.from), "fuzz");
	event_sign("fuzz-secret", &ev, ev.sig);
	if (!event_sig_ok("fuzz-secret", &ev))
		abort();
	struct bytes body;
	bytes_init(&body);
	if (event_data_body(&ev, &body) < 0)
		abort(); /* a payload we accepted must convert */
	/* What viewers get must decode as AMF0. */
	struct amf0_list l;
	if (amf0_decode(body.data, body.len, NULL, &l) < 0)
		abort();
	amf0_list_free(&l);
	bytes_free(&body);
	event_msg_free(&ev);
	return 0;
}
