/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_rtmp_chunk.c - the RTMP chunk stream as a publisher's socket delivers
 * it: chunk reassembly (in pieces of varying size), command decoding, and the
 * stream's classification of the media and script data it carries, into a
 * live fan-out buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/err.h"
#include "media/stream.h"
#include "proto/rtmp.h"
#include "proto/rtmp_chunk.h"
#include "proto/rtmp_msg.h"

static struct stream_registry reg;
static int ready;

static void setup(void)
{
	struct fanout_config fc = {
		.lag_skip_ms = 1000, .lag_drop_ms = 5000, .send_timeout_ms = 5000,
		.max_bytes = 1u << 20, .batch_bytes = 1u << 16, .gop_cache = 1,
	};
	stream_registry_init(&reg, uv_default_loop(), &fc);
	ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		setup();
	if (size < 1)
		return 0;
	/* The first byte picks how the socket splits the rest into reads. */
	unsigned step = data[0] ? data[0] : 4096;
	data++;
	size--;

	struct rtmp_reader_limits lim = { .max_message_size = 1u << 18, .max_chunk_streams = 16,
	                                  .max_chunk_size = 1u << 20 };
	struct rtmp_reader r;
	rtmp_reader_init(&r, &lim);
	struct stream *s;
	if (stream_publish(&reg, "live", "fuzz", 1, "fuzzer", &s) < 0)
		abort();
	static const struct amf0_limits alim = { 32, 4096 };
	size_t off = 0;
	int failed = 0;
	while (off < size && !failed) {
		size_t len = size - off < step ? size - off : step;
		const uint8_t *p = data + off;
		off += len;
		while (len > 0) {
			struct rtmp_msg m;
			size_t used = 0;
			int rc = rtmp_reader_feed(&r, p, len, &used, &m);
			if (used > len)
				abort();
			p += used;
			len -= used;
			if (rc == SL_EAGAIN)
				break;
			if (rc < 0) {
				failed = 1;
				break;
			}
			if (m.type == RTMP_MSG_COMMAND_AMF0 || m.type == RTMP_MSG_COMMAND_AMF3) {
				struct rtmp_command cmd;
				if (rtmp_command_decode(m.type, m.body->data, m.body->len, &alim, &cmd) == 0)
					rtmp_command_free(&cmd);
				rbuf_unref(m.body);
			} else if (m.type == RTMP_MSG_AUDIO || m.type == RTMP_MSG_VIDEO ||
			           m.type == RTMP_MSG_DATA_AMF0) {
				stream_media(s, m.type, m.ts, m.body);
			} else {
				rbuf_unref(m.body);
			}
		}
	}
	if (s->fanout.bytes > (1u << 20) + (1u << 18))
		abort(); /* the log must respect its byte cap (plus one message) */
	stream_unpublish(&reg, s);
	stream_unref(s);
	rtmp_reader_free(&r);
	return 0;
}
