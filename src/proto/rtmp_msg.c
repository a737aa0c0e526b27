/* SPDX-License-Identifier: Apache-2.0 */
/* rtmp_msg.c - RTMP control/command message builders and readers (see rtmp_msg.h). */
#include "proto/rtmp_msg.h"

#include <string.h>

#include "core/err.h"
#include "proto/rtmp.h"
#include "proto/rtmp_chunk.h"

/* Protocol control messages are tiny; they always fit one chunk of the minimum size. */
static void put_control(struct bytes *out, uint8_t type, const uint8_t *body, size_t len)
{
	rtmp_chunk_append(out, RTMP_CSID_CONTROL, type, 0, 0, body, len, RTMP_DEFAULT_CHUNK_SIZE);
}

void rtmp_put_set_chunk_size(struct bytes *out, uint32_t size)
{
	uint8_t b[4];
	wr_u32be(b, size & 0x7fffffffu);
	put_control(out, RTMP_MSG_SET_CHUNK_SIZE, b, 4);
}

void rtmp_put_ack(struct bytes *out, uint32_t seq)
{
	uint8_t b[4];
	wr_u32be(b, seq);
	put_control(out, RTMP_MSG_ACK, b, 4);
}

void rtmp_put_window_ack_size(struct bytes *out, uint32_t size)
{
	uint8_t b[4];
	wr_u32be(b, size);
	put_control(out, RTMP_MSG_WINDOW_ACK_SIZE, b, 4);
}

void rtmp_put_set_peer_bw(struct bytes *out, uint32_t size, uint8_t limit_type)
{
	uint8_t b[5];
	wr_u32be(b, size);
	b[4] = limit_type;
	put_control(out, RTMP_MSG_SET_PEER_BW, b, 5);
}

void rtmp_put_user_control(struct bytes *out, uint16_t event, uint32_t value)
{
	uint8_t b[6];
	wr_u16be(b, event);
	wr_u32be(b + 2, value);
	put_control(out, RTMP_MSG_USER_CONTROL, b, 6);
}

void rtmp_put_ping(struct bytes *out, uint16_t event, uint32_t ts)
{
	rtmp_put_user_control(out, event, ts);
}

void rtmp_put_command(struct bytes *out, uint32_t chunk_size, uint32_t msid,
                      const struct bytes *amf)
{
	rtmp_chunk_append(out, RTMP_CSID_COMMAND, RTMP_MSG_COMMAND_AMF0, msid, 0,
	                  amf->data, amf->len, chunk_size);
}

void rtmp_put_data(struct bytes *out, uint32_t chunk_size, uint32_t msid,
                   uint32_t ts, const struct bytes *amf)
{
	rtmp_chunk_append(out, RTMP_CSID_DATA, RTMP_MSG_DATA_AMF0, msid, ts,
	                  amf->data, amf->len, chunk_size);
}

static void put_info(struct bytes *amf, const char *level, const char *code,
                     const char *description)
{
	amf0_put_object_start(amf);
	amf0_put_prop_string(amf, "level", level);
	amf0_put_prop_string(amf, "code", code);
	amf0_put_prop_string(amf, "description", description);
	amf0_put_object_end(amf);
}

void rtmp_put_status(struct bytes *out, uint32_t chunk_size, uint32_t msid,
                     const char *level, const char *code, const char *description)
{
	struct bytes amf;
	bytes_init(&amf);
	amf0_put_string(&amf, "onStatus");
	amf0_put_number(&amf, 0);
	amf0_put_null(&amf);
	put_info(&amf, level, code, description);
	rtmp_put_command(out, chunk_size, msid, &amf);
	bytes_free(&amf);
}

void rtmp_put_result(struct bytes *out, uint32_t chunk_size, double txid,
                     const char *level, const char *code, const char *description)
{
	struct bytes amf;
	bytes_init(&amf);
	int error = level && strcmp(level, "error") == 0;
	amf0_put_string(&amf, error ? "_error" : "_result");
	amf0_put_number(&amf, txid);
	amf0_put_null(&amf);
	if (code)
		put_info(&amf, level, code, description ? description : "");
	else
		amf0_put_undefined(&amf);
	rtmp_put_command(out, chunk_size, 0, &amf);
	bytes_free(&amf);
}

int rtmp_parse_user_control(const uint8_t *p, size_t n, uint16_t *event, uint32_t *value)
{
	if (n < 2)
		return SL_EPROTO;
	*event = rd_u16be(p);
	*value = n >= 6 ? rd_u32be(p + 2) : 0;
	return 0;
}

int rtmp_command_decode(uint8_t type, const uint8_t *p, size_t n,
                        const struct amf0_limits *lim, struct rtmp_command *out)
{
	memset(out, 0, sizeof(*out));
	if (type == RTMP_MSG_COMMAND_AMF3 || type == RTMP_MSG_DATA_AMF3) {
		/* AMF3 messages as Flash sends them: a 0 format byte, then AMF0 values. */
		if (n < 1 || p[0] != 0)
			return SL_EUNSUPP;
		p++;
		n--;
	}
	int rc = amf0_decode(p, n, lim, &out->list);
	if (rc < 0)
		return rc;
	const struct amf0_value *name = amf0_at(&out->list, 0);
	if (!amf0_str(name)) {
		amf0_list_free(&out->list);
		return SL_EPROTO;
	}
	out->name = amf0_str(name);
	size_t next = 1;
	/* Data messages (onMetaData, @setDataFrame) carry no transaction id. */
	if (type == RTMP_MSG_COMMAND_AMF0 || type == RTMP_MSG_COMMAND_AMF3) {
		if (amf0_num(amf0_at(&out->list, 1), &out->txid) < 0) {
			amf0_list_free(&out->list);
			return SL_EPROTO;
		}
		out->obj = amf0_at(&out->list, 2);
		next = 3;
	}
	for (size_t i = next; i < out->list.count && out->nargs < 4; i++)
		out->args[out->nargs++] = amf0_at(&out->list, i);
	return 0;
}

void rtmp_command_free(struct rtmp_command *c)
{
	amf0_list_free(&c->list);
	memset(c, 0, sizeof(*c));
}

/* A name cut short at a NUL ("live\0x" read as "live") would not be the name sent. */
static const char *name_str(const struct amf0_value *v)
{
	const char *s = amf0_str(v);
	return s && strlen(s) == v->u.str.len ? s : NULL;
}

const char *rtmp_command_arg_str(const struct rtmp_command *c, unsigned i)
{
	return i < c->nargs ? name_str(c->args[i]) : NULL;
}

const char *rtmp_command_prop_str(const struct rtmp_command *c, const char *key)
{
	return name_str(amf0_get(c->obj, key));
}
