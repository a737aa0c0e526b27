/* SPDX-License-Identifier: Apache-2.0 */
/* media_msg.c - shared media messages and their per-format packaging (see media_msg.h). */
#include "media/media_msg.h"

#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "proto/flv.h"
#include "proto/rtmp.h"
#include "proto/rtmp_chunk.h"

static uint32_t rtmp_chunk_size = 4096;

/* "d\r\n" + FLV header (audio+video) + PreviousTagSize0 + "\r\n" */
const uint8_t media_flv_preamble[] = {
	'd', '\r', '\n',
	'F', 'L', 'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0,
	'\r', '\n',
};
const size_t media_flv_preamble_len = sizeof(media_flv_preamble);

void media_set_rtmp_chunk_size(uint32_t size)
{
	rtmp_chunk_size = size;
}

uint32_t media_rtmp_chunk_size(void)
{
	return rtmp_chunk_size;
}

struct media_msg *media_msg_new(uint8_t type, uint32_t ts, struct rbuf *body)
{
	struct media_msg *m = xcalloc(1, sizeof(*m));
	m->refs = 1;
	m->type = type;
	m->ts = ts;
	m->body = body;
	return m;
}

struct media_msg *media_msg_restamp(const struct media_msg *m, uint32_t ts)
{
	struct media_msg *c = media_msg_new(m->type, ts, rbuf_ref(m->body));
	c->flags = m->flags;
	c->seq = m->seq; /* not in a log: nothing charged */
	c->arrival_ms = m->arrival_ms;
	return c;
}

void media_msg_unref(struct media_msg *m)
{
	if (!m || --m->refs)
		return;
	rbuf_unref(m->body);
	for (int i = 0; i < WIRE_COUNT; i++)
		rbuf_unref(m->wire[i]);
	free(m);
}

static uint32_t csid_for(uint8_t type)
{
	switch (type) {
	case 8: return RTMP_CSID_AUDIO;
	case 9: return RTMP_CSID_VIDEO;
	default: return RTMP_CSID_DATA;
	}
}

static struct rbuf *package_rtmp(const struct media_msg *m)
{
	uint32_t csid = csid_for(m->type);
	size_t n = rtmp_chunk_encoded_size(csid, m->ts, m->body->len, rtmp_chunk_size);
	struct rbuf *w = rbuf_new(n);
	w->len = (uint32_t)rtmp_chunk_encode(w->data, csid, m->type, RTMP_MEDIA_MSID, m->ts,
	                                     m->body->data, m->body->len, rtmp_chunk_size);
	return w;
}

static struct rbuf *package_flv(const struct media_msg *m)
{
	uint32_t tag_len = FLV_TAG_HEADER_SIZE + m->body->len + FLV_TAG_TRAILER_SIZE;
	char prefix[16];
	int plen = snprintf(prefix, sizeof(prefix), "%x\r\n", tag_len);
	struct rbuf *w = rbuf_new((size_t)plen + tag_len + 2);
	uint8_t *d = w->data;
	memcpy(d, prefix, (size_t)plen);
	d += plen;
	flv_write_tag_header(d, m->type, m->body->len, m->ts);
	d += FLV_TAG_HEADER_SIZE;
	memcpy(d, m->body->data, m->body->len);
	d += m->body->len;
	wr_u32be(d, FLV_TAG_HEADER_SIZE + m->body->len);
	d += 4;
	*d++ = '\r';
	*d++ = '\n';
	w->len = (uint32_t)(d - w->data);
	return w;
}

const struct rbuf *media_msg_wire(struct media_msg *m, enum wire_format f)
{
	if (!m->wire[f]) {
		m->wire[f] = f == WIRE_RTMP ? package_rtmp(m) : package_flv(m);
		if (m->charge)
			*m->charge += MEDIA_WIRE_COST(m->wire[f]);
	}
	return m->wire[f];
}
