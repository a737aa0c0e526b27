/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtmp_msg.h - building RTMP control and command messages, and reading the
 * fixed-layout ones (user control, acknowledgement sizes) and commands.
 *
 * Builders append complete chunked messages to a struct bytes, ready to
 * send, at the sender's current chunk size.
 */
#ifndef SLUICE_PROTO_RTMP_MSG_H
#define SLUICE_PROTO_RTMP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "proto/amf0.h"

void rtmp_put_set_chunk_size(struct bytes *out, uint32_t size);
void rtmp_put_ack(struct bytes *out, uint32_t seq);
void rtmp_put_window_ack_size(struct bytes *out, uint32_t size);
void rtmp_put_set_peer_bw(struct bytes *out, uint32_t size, uint8_t limit_type);
void rtmp_put_user_control(struct bytes *out, uint16_t event, uint32_t value);
/* Ping request/response carry a timestamp. */
void rtmp_put_ping(struct bytes *out, uint16_t event, uint32_t ts);

/* Chunks an AMF0 command body (already encoded) on the command chunk stream. */
void rtmp_put_command(struct bytes *out, uint32_t chunk_size, uint32_t msid,
                      const struct bytes *amf);
/* Chunks an AMF0 data message body on the data chunk stream. */
void rtmp_put_data(struct bytes *out, uint32_t chunk_size, uint32_t msid,
                   uint32_t ts, const struct bytes *amf);

/*
 * Appends an onStatus command: onStatus(0, null, {level, code, description}).
 * level is "status", "warning" or "error".
 */
void rtmp_put_status(struct bytes *out, uint32_t chunk_size, uint32_t msid,
                     const char *level, const char *code, const char *description);

/* Appends a _result or _error for transaction txid with a null command object
 * and, if info is not NULL, an object {level, code, description} after it. */
void rtmp_put_result(struct bytes *out, uint32_t chunk_size, double txid,
                     const char *level, const char *code, const char *description);

/* Reads a user control message body. Returns 0 or SL_EPROTO. */
int rtmp_parse_user_control(const uint8_t *p, size_t n, uint16_t *event, uint32_t *value);

/* A decoded command: name, transaction id, command object, then arguments. */
struct rtmp_command {
	const char *name;
	double txid;
	const struct amf0_value *obj;   /* the command object (may be NULL type) */
	const struct amf0_value *args[4];
	unsigned nargs;
	struct amf0_list list;          /* owns everything above */
};

/*
 * Decodes a command message body (type 20, or type 17 whose first byte is
 * the AMF3 marker 0 and the rest AMF0).  Returns 0 (free with
 * rtmp_command_free), SL_EPROTO if it is not name + transaction id, or the
 * AMF0 decoder's error.
 */
int rtmp_command_decode(uint8_t type, const uint8_t *p, size_t n,
                        const struct amf0_limits *lim, struct rtmp_command *out);
void rtmp_command_free(struct rtmp_command *c);
/* The i-th argument as a string, or NULL (also when it holds a NUL byte). */
const char *rtmp_command_arg_str(const struct rtmp_command *c, unsigned i);
/* The string property key of the command object, or NULL (also when it holds a NUL byte). */
const char *rtmp_command_prop_str(const struct rtmp_command *c, const char *key);

#endif
