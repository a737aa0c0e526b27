/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtmp.h - RTMP protocol constants shared by the chunk layer, the message
 * builders and the sessions.
 */
#ifndef SLUICE_PROTO_RTMP_H
#define SLUICE_PROTO_RTMP_H

/* Message type ids. */
enum {
	RTMP_MSG_SET_CHUNK_SIZE = 1,
	RTMP_MSG_ABORT = 2,
	RTMP_MSG_ACK = 3,
	RTMP_MSG_USER_CONTROL = 4,
	RTMP_MSG_WINDOW_ACK_SIZE = 5,
	RTMP_MSG_SET_PEER_BW = 6,
	RTMP_MSG_AUDIO = 8,
	RTMP_MSG_VIDEO = 9,
	RTMP_MSG_DATA_AMF3 = 15,
	RTMP_MSG_SHARED_OBJECT_AMF3 = 16,
	RTMP_MSG_COMMAND_AMF3 = 17,
	RTMP_MSG_DATA_AMF0 = 18,
	RTMP_MSG_SHARED_OBJECT_AMF0 = 19,
	RTMP_MSG_COMMAND_AMF0 = 20,
	RTMP_MSG_AGGREGATE = 22,
};

/* User control event types. */
enum {
	RTMP_UC_STREAM_BEGIN = 0,
	RTMP_UC_STREAM_EOF = 1,
	RTMP_UC_STREAM_DRY = 2,
	RTMP_UC_SET_BUFFER_LENGTH = 3,
	RTMP_UC_STREAM_IS_RECORDED = 4,
	RTMP_UC_PING_REQUEST = 6,
	RTMP_UC_PING_RESPONSE = 7,
};

/* Chunk stream ids this server sends on (any 2..65599 is accepted inbound). */
enum {
	RTMP_CSID_CONTROL = 2,   /* protocol and user control messages: fixed by the spec */
	RTMP_CSID_COMMAND = 3,
	RTMP_CSID_DATA = 5,
	RTMP_CSID_AUDIO = 6,
	RTMP_CSID_VIDEO = 7,
};

/* The message stream id every played stream is delivered on (see rtmp_commands.c). */
#define RTMP_MEDIA_MSID 1

#define RTMP_DEFAULT_CHUNK_SIZE 128
#define RTMP_MAX_TIMESTAMP_FIELD 0xffffffu
#define RTMP_MAX_CSID 65599

#endif
