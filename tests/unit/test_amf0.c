/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_amf0.c - AMF0 decoding and encoding.
 *
 * The ffmpeg_* messages are the command and data message bodies ffmpeg
 * 5.1 (Lavf59.27.100) sent when publishing with
 *   ffmpeg -re -f lavfi -i testsrc=size=64x64:rate=5 -f lavfi -i sine \
 *       -t 1 -c:v libx264 -c:a aac -f flv rtmp://127.0.0.1:19354/live/test?key=abc
 * and the rtmpdump_* ones what rtmpdump 2.4 sent to play
 *   rtmpdump -r rtmp://127.0.0.1:19355/live/test --stop 1
 * captured by a throwaway Python listener that did the plain handshake,
 * answered connect, createStream and publish, and stripped the RTMP chunk
 * headers (the same bytes are in fuzz/corpora/amf0/).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <malloc.h>
#include <string.h>
#include <cmocka.h>

#include "core/bytes.h"
#include "core/err.h"
#include "core/mem.h"
#include "proto/amf0.h"

static const uint8_t ffmpeg_connect[] = {
	0x02, 0x00, 0x07, 0x63, 0x6f, 0x6e, 0x6e, 0x65, 0x63, 0x74, 0x00, 0x3f,
	0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x03, 0x61, 0x70,
	0x70, 0x02, 0x00, 0x04, 0x6c, 0x69, 0x76, 0x65, 0x00, 0x04, 0x74, 0x79,
	0x70, 0x65, 0x02, 0x00, 0x0a, 0x6e, 0x6f, 0x6e, 0x70, 0x72, 0x69, 0x76,
	0x61, 0x74, 0x65, 0x00, 0x08, 0x66, 0x6c, 0x61, 0x73, 0x68, 0x56, 0x65,
	0x72, 0x02, 0x00, 0x24, 0x46, 0x4d, 0x4c, 0x45, 0x2f, 0x33, 0x2e, 0x30,
	0x20, 0x28, 0x63, 0x6f, 0x6d, 0x70, 0x61, 0x74, 0x69, 0x62, 0x6c, 0x65,
	0x3b, 0x20, 0x4c, 0x61, 0x76, 0x66, 0x35, 0x39, 0x2e, 0x32, 0x37, 0x2e,
	0x31, 0x30, 0x30, 0x29, 0x00, 0x05, 0x74, 0x63, 0x55, 0x72, 0x6c, 0x02,
	0x00, 0x1b, 0x72, 0x74, 0x6d, 0x70, 0x3a, 0x2f, 0x2f, 0x31, 0x32, 0x37,
	0x2e, 0x30, 0x2e, 0x30, 0x2e, 0x31, 0x3a, 0x31, 0x39, 0x33, 0x35, 0x34,
	0x2f, 0x6c, 0x69, 0x76, 0x65, 0x00, 0x00, 0x09,
};
static const uint8_t ffmpeg_release_stream[] = {
	0x02, 0x00, 0x0d, 0x72, 0x65, 0x6c, 0x65, 0x61, 0x73, 0x65, 0x53, 0x74,
	0x72, 0x65, 0x61, 0x6d, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x05, 0x02, 0x00, 0x0c, 0x74, 0x65, 0x73, 0x74, 0x3f, 0x6b, 0x65,
	0x79, 0x3d, 0x61, 0x62, 0x63,
};
static const uint8_t ffmpeg_fcpublish[] = {
	0x02, 0x00, 0x09, 0x46, 0x43, 0x50, 0x75, 0x62, 0x6c, 0x69, 0x73, 0x68,
	0x00, 0x40, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x02, 0x00,
	0x0c, 0x74, 0x65, 0x73, 0x74, 0x3f, 0x6b, 0x65, 0x79, 0x3d, 0x61, 0x62,
	0x63,
};
static const uint8_t ffmpeg_create_stream[] = {
	0x02, 0x00, 0x0c, 0x63, 0x72, 0x65, 0x61, 0x74, 0x65, 0x53, 0x74, 0x72,
	0x65, 0x61, 0x6d, 0x00, 0x40, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x05,
};
static const uint8_t ffmpeg_publish[] = {
	0x02, 0x00, 0x07, 0x70, 0x75, 0x62, 0x6c, 0x69, 0x73, 0x68, 0x00, 0x40,
	0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x02, 0x00, 0x0c, 0x74,
	0x65, 0x73, 0x74, 0x3f, 0x6b, 0x65, 0x79, 0x3d, 0x61, 0x62, 0x63, 0x02,
	0x00, 0x04, 0x6c, 0x69, 0x76, 0x65,
};
static const uint8_t ffmpeg_set_data_frame[] = {
	0x02, 0x00, 0x0d, 0x40, 0x73, 0x65, 0x74, 0x44, 0x61, 0x74, 0x61, 0x46,
	0x72, 0x61, 0x6d, 0x65, 0x02, 0x00, 0x0a, 0x6f, 0x6e, 0x4d, 0x65, 0x74,
	0x61, 0x44, 0x61, 0x74, 0x61, 0x08, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x08,
	0x64, 0x75, 0x72, 0x61, 0x74, 0x69, 0x6f, 0x6e, 0x00, 0x3f, 0xf0, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x77, 0x69, 0x64, 0x74, 0x68,
	0x00, 0x40, 0x50, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x68,
	0x65, 0x69, 0x67, 0x68, 0x74, 0x00, 0x40, 0x50, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x0d, 0x76, 0x69, 0x64, 0x65, 0x6f, 0x64, 0x61, 0x74,
	0x61, 0x72, 0x61, 0x74, 0x65, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x09, 0x66, 0x72, 0x61, 0x6d, 0x65, 0x72, 0x61, 0x74,
	0x65, 0x00, 0x40, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c,
	0x76, 0x69, 0x64, 0x65, 0x6f, 0x63, 0x6f, 0x64, 0x65, 0x63, 0x69, 0x64,
	0x00, 0x40, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x61,
	0x75, 0x64, 0x69, 0x6f, 0x64, 0x61, 0x74, 0x61, 0x72, 0x61, 0x74, 0x65,
	0x00, 0x40, 0x50, 0xd8, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x61,
	0x75, 0x64, 0x69, 0x6f, 0x73, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x72, 0x61,
	0x74, 0x65, 0x00, 0x40, 0xe5, 0x88, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x0f, 0x61, 0x75, 0x64, 0x69, 0x6f, 0x73, 0x61, 0x6d, 0x70, 0x6c, 0x65,
	0x73, 0x69, 0x7a, 0x65, 0x00, 0x40, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x06, 0x73, 0x74, 0x65, 0x72, 0x65, 0x6f, 0x01, 0x00, 0x00,
	0x0c, 0x61, 0x75, 0x64, 0x69, 0x6f, 0x63, 0x6f, 0x64, 0x65, 0x63, 0x69,
	0x64, 0x00, 0x40, 0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
	0x65, 0x6e, 0x63, 0x6f, 0x64, 0x65, 0x72, 0x02, 0x00, 0x0d, 0x4c, 0x61,
	0x76, 0x66, 0x35, 0x39, 0x2e, 0x32, 0x37, 0x2e, 0x31, 0x30, 0x30, 0x00,
	0x08, 0x66, 0x69, 0x6c, 0x65, 0x73, 0x69, 0x7a, 0x65, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
};
static const uint8_t ffmpeg_fcunpublish[] = {
	0x02, 0x00, 0x0b, 0x46, 0x43, 0x55, 0x6e, 0x70, 0x75, 0x62, 0x6c, 0x69,
	0x73, 0x68, 0x00, 0x40, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
	0x02, 0x00, 0x0c, 0x74, 0x65, 0x73, 0x74, 0x3f, 0x6b, 0x65, 0x79, 0x3d,
	0x61, 0x62, 0x63,
};
static const uint8_t ffmpeg_delete_stream[] = {
	0x02, 0x00, 0x0c, 0x64, 0x65, 0x6c, 0x65, 0x74, 0x65, 0x53, 0x74, 0x72,
	0x65, 0x61, 0x6d, 0x00, 0x40, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x05, 0x00, 0x3f, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t rtmpdump_connect[] = {
	0x02, 0x00, 0x07, 0x63, 0x6f, 0x6e, 0x6e, 0x65, 0x63, 0x74, 0x00, 0x3f,
	0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x03, 0x61, 0x70,
	0x70, 0x02, 0x00, 0x04, 0x6c, 0x69, 0x76, 0x65, 0x00, 0x08, 0x66, 0x6c,
	0x61, 0x73, 0x68, 0x56, 0x65, 0x72, 0x02, 0x00, 0x0e, 0x4c, 0x4e, 0x58,
	0x20, 0x31, 0x30, 0x2c, 0x30, 0x2c, 0x33, 0x32, 0x2c, 0x31, 0x38, 0x00,
	0x05, 0x74, 0x63, 0x55, 0x72, 0x6c, 0x02, 0x00, 0x1b, 0x72, 0x74, 0x6d,
	0x70, 0x3a, 0x2f, 0x2f, 0x31, 0x32, 0x37, 0x2e, 0x30, 0x2e, 0x30, 0x2e,
	0x31, 0x3a, 0x31, 0x39, 0x33, 0x35, 0x35, 0x2f, 0x6c, 0x69, 0x76, 0x65,
	0x00, 0x04, 0x66, 0x70, 0x61, 0x64, 0x01, 0x00, 0x00, 0x0c, 0x63, 0x61,
	0x70, 0x61, 0x62, 0x69, 0x6c, 0x69, 0x74, 0x69, 0x65, 0x73, 0x00, 0x40,
	0x2e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x61, 0x75, 0x64,
	0x69, 0x6f, 0x43, 0x6f, 0x64, 0x65, 0x63, 0x73, 0x00, 0x40, 0xa8, 0xee,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x76, 0x69, 0x64, 0x65, 0x6f,
	0x43, 0x6f, 0x64, 0x65, 0x63, 0x73, 0x00, 0x40, 0x6f, 0x80, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x0d, 0x76, 0x69, 0x64, 0x65, 0x6f, 0x46, 0x75,
	0x6e, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x00, 0x3f, 0xf0, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
};
static const uint8_t rtmpdump_play[] = {
	0x02, 0x00, 0x04, 0x70, 0x6c, 0x61, 0x79, 0x00, 0x40, 0x08, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x05, 0x02, 0x00, 0x04, 0x74, 0x65, 0x73, 0x74,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x8f,
	0x40, 0x00, 0x00, 0x00, 0x00, 0x00,
};

struct message {
	const char *name;
	const uint8_t *p;
	size_t n;
	size_t nvals;
};

#define MSG(a, nv) { #a, a, sizeof(a), nv }
static const struct message real_messages[] = {
	MSG(ffmpeg_connect, 3),
	MSG(ffmpeg_release_stream, 4),
	MSG(ffmpeg_fcpublish, 4),
	MSG(ffmpeg_create_stream, 3),
	MSG(ffmpeg_publish, 5),
	MSG(ffmpeg_set_data_frame, 3),
	MSG(ffmpeg_fcunpublish, 4),
	MSG(ffmpeg_delete_stream, 4),
	MSG(rtmpdump_connect, 3),
	MSG(rtmpdump_play, 6),
};
#define NREAL (sizeof(real_messages) / sizeof(real_messages[0]))

/* ---- helpers ---- */

static void decode_ok(const uint8_t *p, size_t n, struct amf0_list *l)
{
	int rc = amf0_decode(p, n, NULL, l);
	assert_int_equal(rc, 0);
}

static int decode_rc(const uint8_t *p, size_t n, const struct amf0_limits *lim)
{
	struct amf0_list l;
	int rc = amf0_decode(p, n, lim, &l);
	amf0_list_free(&l);
	return rc;
}

static void assert_string_value(const struct amf0_value *v, const char *want)
{
	assert_non_null(v);
	assert_int_equal(v->type, AMF0_STRING);
	assert_int_equal(v->u.str.len, strlen(want));
	assert_string_equal(amf0_str(v), want);
}

static void assert_number_value(const struct amf0_value *v, double want)
{
	double got = -12345.0;
	assert_non_null(v);
	assert_int_equal(amf0_num(v, &got), 0);
	assert_true(got == want);
}

static void assert_key(const struct amf0_value *obj, uint32_t i, const char *key)
{
	assert_true(i < obj->u.obj.count);
	assert_int_equal(obj->u.obj.props[i].key_len, strlen(key));
	assert_string_equal(obj->u.obj.props[i].key, key);
}

static void encode_list(const struct amf0_list *l, struct bytes *b)
{
	for (size_t i = 0; i < l->count; i++)
		amf0_put_value(b, amf0_at(l, i));
}

static void assert_round_trip_exact(const uint8_t *p, size_t n)
{
	struct amf0_list l;
	struct bytes b;
	decode_ok(p, n, &l);
	bytes_init(&b);
	encode_list(&l, &b);
	assert_int_equal(b.len, n);
	assert_memory_equal(b.data, p, n);
	bytes_free(&b);
	amf0_list_free(&l);
}

/* ---- real messages ---- */

static void test_ffmpeg_connect(void **state)
{
	(void)state;
	struct amf0_list l;
	decode_ok(ffmpeg_connect, sizeof(ffmpeg_connect), &l);
	assert_int_equal(l.count, 3);
	assert_string_value(amf0_at(&l, 0), "connect");
	assert_number_value(amf0_at(&l, 1), 1.0);
	const struct amf0_value *o = amf0_at(&l, 2);
	assert_int_equal(o->type, AMF0_OBJECT);
	assert_int_equal(o->u.obj.count, 4);
	assert_key(o, 0, "app");
	assert_key(o, 1, "type");
	assert_key(o, 2, "flashVer");
	assert_key(o, 3, "tcUrl");
	assert_string_value(amf0_get(o, "app"), "live");
	assert_string_value(amf0_get(o, "type"), "nonprivate");
	assert_string_value(amf0_get(o, "flashVer"), "FMLE/3.0 (compatible; Lavf59.27.100)");
	assert_string_value(amf0_get(o, "tcUrl"), "rtmp://127.0.0.1:19354/live");
	assert_null(amf0_at(&l, 3));
	amf0_list_free(&l);
}

/* name, transaction id, null, then the stream name where there is one. */
static void check_command(const uint8_t *p, size_t n, const char *name, double txn,
                          const char *arg)
{
	struct amf0_list l;
	decode_ok(p, n, &l);
	assert_int_equal(l.count, arg ? 4 : 3);
	assert_string_value(amf0_at(&l, 0), name);
	assert_number_value(amf0_at(&l, 1), txn);
	assert_int_equal(amf0_at(&l, 2)->type, AMF0_NULL);
	if (arg)
		assert_string_value(amf0_at(&l, 3), arg);
	amf0_list_free(&l);
}

static void test_ffmpeg_publish_commands(void **state)
{
	(void)state;
	check_command(ffmpeg_release_stream, sizeof(ffmpeg_release_stream),
	              "releaseStream", 2.0, "test?key=abc");
	check_command(ffmpeg_fcpublish, sizeof(ffmpeg_fcpublish), "FCPublish", 3.0,
	              "test?key=abc");
	check_command(ffmpeg_create_stream, sizeof(ffmpeg_create_stream), "createStream",
	              4.0, NULL);
	check_command(ffmpeg_fcunpublish, sizeof(ffmpeg_fcunpublish), "FCUnpublish", 6.0,
	              "test?key=abc");

	struct amf0_list l;
	decode_ok(ffmpeg_publish, sizeof(ffmpeg_publish), &l);
	assert_int_equal(l.count, 5);
	assert_string_value(amf0_at(&l, 0), "publish");
	assert_number_value(amf0_at(&l, 1), 5.0);
	assert_int_equal(amf0_at(&l, 2)->type, AMF0_NULL);
	assert_string_value(amf0_at(&l, 3), "test?key=abc");
	assert_string_value(amf0_at(&l, 4), "live");
	amf0_list_free(&l);

	decode_ok(ffmpeg_delete_stream, sizeof(ffmpeg_delete_stream), &l);
	assert_int_equal(l.count, 4);
	assert_string_value(amf0_at(&l, 0), "deleteStream");
	assert_number_value(amf0_at(&l, 1), 7.0);
	assert_int_equal(amf0_at(&l, 2)->type, AMF0_NULL);
	assert_number_value(amf0_at(&l, 3), 1.0);
	amf0_list_free(&l);
}

static void test_ffmpeg_set_data_frame(void **state)
{
	(void)state;
	static const char *const keys[] = {
		"duration", "width", "height", "videodatarate", "framerate", "videocodecid",
		"audiodatarate", "audiosamplerate", "audiosamplesize", "stereo",
		"audiocodecid", "encoder", "filesize",
	};
	struct amf0_list l;
	decode_ok(ffmpeg_set_data_frame, sizeof(ffmpeg_set_data_frame), &l);
	assert_int_equal(l.count, 3);
	assert_string_value(amf0_at(&l, 0), "@setDataFrame");
	assert_string_value(amf0_at(&l, 1), "onMetaData");
	const struct amf0_value *m = amf0_at(&l, 2);
	assert_int_equal(m->type, AMF0_ECMA_ARRAY);
	assert_int_equal(m->u.obj.count, 13);
	for (uint32_t i = 0; i < 13; i++)
		assert_key(m, i, keys[i]);
	assert_number_value(amf0_get(m, "duration"), 1.0);
	assert_number_value(amf0_get(m, "width"), 64.0);
	assert_number_value(amf0_get(m, "height"), 64.0);
	assert_number_value(amf0_get(m, "videodatarate"), 0.0);
	assert_number_value(amf0_get(m, "framerate"), 5.0);
	assert_number_value(amf0_get(m, "videocodecid"), 7.0);
	assert_number_value(amf0_get(m, "audiodatarate"), 67.3828125);
	assert_number_value(amf0_get(m, "audiosamplerate"), 44100.0);
	assert_number_value(amf0_get(m, "audiosamplesize"), 16.0);
	assert_int_equal(amf0_get(m, "stereo")->type, AMF0_BOOLEAN);
	assert_false(amf0_true(amf0_get(m, "stereo")));
	assert_number_value(amf0_get(m, "audiocodecid"), 10.0);
	assert_string_value(amf0_get(m, "encoder"), "Lavf59.27.100");
	assert_number_value(amf0_get(m, "filesize"), 0.0);
	amf0_list_free(&l);
}

static void test_rtmpdump_connect_and_play(void **state)
{
	(void)state;
	struct amf0_list l;
	decode_ok(rtmpdump_connect, sizeof(rtmpdump_connect), &l);
	assert_int_equal(l.count, 3);
	assert_string_value(amf0_at(&l, 0), "connect");
	const struct amf0_value *o = amf0_at(&l, 2);
	assert_int_equal(o->type, AMF0_OBJECT);
	assert_int_equal(o->u.obj.count, 8);
	assert_string_value(amf0_get(o, "app"), "live");
	assert_string_value(amf0_get(o, "flashVer"), "LNX 10,0,32,18");
	assert_string_value(amf0_get(o, "tcUrl"), "rtmp://127.0.0.1:19355/live");
	assert_int_equal(amf0_get(o, "fpad")->type, AMF0_BOOLEAN);
	assert_false(amf0_true(amf0_get(o, "fpad")));
	assert_number_value(amf0_get(o, "capabilities"), 15.0);
	assert_number_value(amf0_get(o, "audioCodecs"), 3191.0);
	assert_number_value(amf0_get(o, "videoCodecs"), 252.0);
	assert_number_value(amf0_get(o, "videoFunction"), 1.0);
	amf0_list_free(&l);

	decode_ok(rtmpdump_play, sizeof(rtmpdump_play), &l);
	assert_int_equal(l.count, 6);
	assert_string_value(amf0_at(&l, 0), "play");
	assert_number_value(amf0_at(&l, 1), 3.0);
	assert_int_equal(amf0_at(&l, 2)->type, AMF0_NULL);
	assert_string_value(amf0_at(&l, 3), "test");
	assert_number_value(amf0_at(&l, 4), 0.0);
	assert_number_value(amf0_at(&l, 5), 1000.0);
	amf0_list_free(&l);
}

static void test_real_messages_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < NREAL; i++) {
		struct amf0_list l;
		decode_ok(real_messages[i].p, real_messages[i].n, &l);
		assert_int_equal(l.count, real_messages[i].nvals);
		amf0_list_free(&l);
		assert_round_trip_exact(real_messages[i].p, real_messages[i].n);
	}
}

/*
 * Cutting a message anywhere inside a value is SL_EPROTO; cutting it
 * between top-level values leaves a shorter valid message.
 */
static void test_real_messages_every_truncation(void **state)
{
	(void)state;
	for (size_t i = 0; i < NREAL; i++) {
		const struct message *m = &real_messages[i];
		struct amf0_list whole;
		size_t bounds[16], nb = 0;
		struct bytes b;

		decode_ok(m->p, m->n, &whole);
		bytes_init(&b);
		for (size_t v = 0; v < whole.count; v++) {
			bounds[nb++] = b.len;
			amf0_put_value(&b, amf0_at(&whole, v));
		}
		assert_int_equal(b.len, m->n);
		for (size_t len = 0; len < m->n; len++) {
			struct amf0_list l;
			int rc = amf0_decode(m->p, len, NULL, &l);
			size_t k = 0;
			while (k < nb && bounds[k] < len)
				k++;
			if (k < nb && bounds[k] == len) {
				assert_int_equal(rc, 0);
				assert_int_equal(l.count, k);
			} else {
				assert_int_equal(rc, SL_EPROTO);
				assert_int_equal(l.count, 0);
				assert_null(l.vals);
			}
			amf0_list_free(&l);
		}
		bytes_free(&b);
		amf0_list_free(&whole);
	}
}

/* ---- encoder ---- */

static void test_encoder_rebuilds_ffmpeg_messages(void **state)
{
	(void)state;
	struct bytes b;
	bytes_init(&b);
	amf0_put_string(&b, "connect");
	amf0_put_number(&b, 1.0);
	amf0_put_object_start(&b);
	amf0_put_prop_string(&b, "app", "live");
	amf0_put_prop_string(&b, "type", "nonprivate");
	amf0_put_prop_string(&b, "flashVer", "FMLE/3.0 (compatible; Lavf59.27.100)");
	amf0_put_prop_string(&b, "tcUrl", "rtmp://127.0.0.1:19354/live");
	amf0_put_object_end(&b);
	assert_int_equal(b.len, sizeof(ffmpeg_connect));
	assert_memory_equal(b.data, ffmpeg_connect, sizeof(ffmpeg_connect));

	bytes_clear(&b);
	amf0_put_string(&b, "@setDataFrame");
	amf0_put_string(&b, "onMetaData");
	amf0_put_ecma_start(&b, 13);
	amf0_put_prop_number(&b, "duration", 1);
	amf0_put_prop_number(&b, "width", 64);
	amf0_put_prop_number(&b, "height", 64);
	amf0_put_prop_number(&b, "videodatarate", 0);
	amf0_put_prop_number(&b, "framerate", 5);
	amf0_put_prop_number(&b, "videocodecid", 7);
	amf0_put_prop_number(&b, "audiodatarate", 67.3828125);
	amf0_put_prop_number(&b, "audiosamplerate", 44100);
	amf0_put_prop_number(&b, "audiosamplesize", 16);
	amf0_put_prop_bool(&b, "stereo", 0);
	amf0_put_prop_number(&b, "audiocodecid", 10);
	amf0_put_prop_string(&b, "encoder", "Lavf59.27.100");
	amf0_put_key(&b, "filesize");
	amf0_put_number(&b, 0);
	amf0_put_object_end(&b);
	assert_int_equal(b.len, sizeof(ffmpeg_set_data_frame));
	assert_memory_equal(b.data, ffmpeg_set_data_frame, sizeof(ffmpeg_set_data_frame));

	bytes_clear(&b);
	amf0_put_string(&b, "createStream");
	amf0_put_number(&b, 4);
	amf0_put_null(&b);
	assert_int_equal(b.len, sizeof(ffmpeg_create_stream));
	assert_memory_equal(b.data, ffmpeg_create_stream, sizeof(ffmpeg_create_stream));
	bytes_free(&b);
}

static void test_encoder_scalars(void **state)
{
	(void)state;
	static const uint8_t want[] = {
		0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0,     /* 1.0 */
		0x00, 0x80, 0, 0, 0, 0, 0, 0, 0,        /* -0.0 */
		0x00, 0xc0, 0x00, 0, 0, 0, 0, 0, 0,     /* -2.0 */
		0x01, 0x01, 0x01, 0x00, 0x01, 0x01,     /* true, false, 7 -> true */
		0x05, 0x06,                             /* null, undefined */
		0x02, 0x00, 0x02, 'a', 'b',             /* "ab" */
		0x02, 0x00, 0x00,                       /* "" */
		0x03, 0x00, 0x00, 0x09,                 /* {} */
		0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, /* ECMA [] */
	};
	struct bytes b;
	bytes_init(&b);
	amf0_put_number(&b, 1.0);
	amf0_put_number(&b, -0.0);
	amf0_put_number(&b, -2.0);
	amf0_put_bool(&b, 1);
	amf0_put_bool(&b, 0);
	amf0_put_bool(&b, 7);
	amf0_put_null(&b);
	amf0_put_undefined(&b);
	amf0_put_string(&b, "ab");
	amf0_put_string(&b, "");
	amf0_put_object_start(&b);
	amf0_put_object_end(&b);
	amf0_put_ecma_start(&b, 0);
	amf0_put_object_end(&b);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	assert_round_trip_exact(want, sizeof(want));
	bytes_free(&b);
}

static void test_numbers_bit_exact(void **state)
{
	(void)state;
	static const uint64_t bits[] = {
		0x7ff8000000000001ull, /* NaN with payload */
		0xfff0000000000000ull, /* -inf */
		0x0000000000000001ull, /* smallest denormal */
		0x8000000000000000ull, /* -0 */
		0x42d0000000000000ull, /* 2^46: beyond 32-bit integers */
	};
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		uint8_t wire[9] = { 0x00 };
		double d;
		uint64_t got;
		wr_u64be(wire + 1, bits[i]);
		struct amf0_list l;
		decode_ok(wire, sizeof(wire), &l);
		assert_int_equal(amf0_num(amf0_at(&l, 0), &d), 0);
		memcpy(&got, &d, sizeof(got));
		assert_true(got == bits[i]);
		amf0_list_free(&l);
		assert_round_trip_exact(wire, sizeof(wire));
	}
}

/* ---- strings ---- */

static void test_long_strings(void **state)
{
	(void)state;
	size_t sizes[] = { 65535, 65536, 70000 };
	char *s = xmalloc(70000);
	for (size_t i = 0; i < 70000; i++)
		s[i] = (char)('a' + i % 26);
	for (size_t k = 0; k < 3; k++) {
		size_t n = sizes[k];
		struct bytes b;
		struct amf0_list l;
		bytes_init(&b);
		amf0_put_string_n(&b, s, n);
		if (n <= 65535) {
			assert_int_equal(b.len, 3 + n);
			assert_int_equal(b.data[0], 0x02);
			assert_int_equal(rd_u16be(b.data + 1), n);
		} else {
			assert_int_equal(b.len, 5 + n);
			assert_int_equal(b.data[0], 0x0c);
			assert_int_equal(rd_u32be(b.data + 1), n);
		}
		decode_ok(b.data, b.len, &l);
		const struct amf0_value *v = amf0_at(&l, 0);
		assert_int_equal(v->type, AMF0_STRING);
		assert_int_equal(v->u.str.len, n);
		assert_memory_equal(v->u.str.ptr, s, n);
		assert_int_equal(v->u.str.ptr[n], '\0');
		amf0_list_free(&l);
		assert_round_trip_exact(b.data, b.len);
		/* One byte short of the string is truncation. */
		assert_int_equal(decode_rc(b.data, b.len - 1, NULL), SL_EPROTO);
		bytes_free(&b);
	}
	free(s);
}

/* A short long string and an XML document both decode as strings. */
static void test_long_string_and_xml_markers(void **state)
{
	(void)state;
	static const uint8_t in[] = {
		0x0c, 0x00, 0x00, 0x00, 0x03, 'a', 'b', 'c',
		0x0f, 0x00, 0x00, 0x00, 0x04, '<', 'a', '/', '>',
	};
	static const uint8_t huge[] = { 0x0c, 0xff, 0xff, 0xff, 0xff, 'x' };
	struct amf0_list l;
	decode_ok(in, sizeof(in), &l);
	assert_int_equal(l.count, 2);
	assert_string_value(amf0_at(&l, 0), "abc");
	assert_string_value(amf0_at(&l, 1), "<a/>");
	amf0_list_free(&l);
	assert_int_equal(decode_rc(huge, sizeof(huge), NULL), SL_EPROTO);
	for (size_t n = 1; n < 8; n++)
		assert_int_equal(decode_rc(in, n, NULL), SL_EPROTO);
}

static void test_embedded_nul(void **state)
{
	(void)state;
	struct bytes b;
	struct amf0_list l;
	bytes_init(&b);
	amf0_put_string_n(&b, "a\0b", 3);
	amf0_put_object_start(&b);
	bytes_put_u16be(&b, 3);
	bytes_append(&b, "k\0x", 3);
	amf0_put_number(&b, 9);
	amf0_put_prop_number(&b, "k", 1);
	amf0_put_object_end(&b);
	static const uint8_t head[] = { 0x02, 0x00, 0x03, 'a', 0, 'b', 0x03, 0x00, 0x03, 'k', 0, 'x' };
	assert_memory_equal(b.data, head, sizeof(head));

	decode_ok(b.data, b.len, &l);
	const struct amf0_value *v = amf0_at(&l, 0);
	assert_int_equal(v->u.str.len, 3);
	assert_memory_equal(amf0_str(v), "a\0b\0", 4);
	const struct amf0_value *o = amf0_at(&l, 1);
	assert_int_equal(o->u.obj.props[0].key_len, 3);
	assert_memory_equal(o->u.obj.props[0].key, "k\0x\0", 4);
	/* "k" must find the second key, not the first that starts with it. */
	assert_number_value(amf0_get(o, "k"), 1.0);
	amf0_list_free(&l);
	assert_round_trip_exact(b.data, b.len);
	bytes_free(&b);
}

/* ---- containers ---- */

static void test_ecma_count_is_only_a_hint(void **state)
{
	(void)state;
	static const uint8_t fewer[] = {
		0x08, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x01, 'a', 0x05,
		0x00, 0x01, 'b', 0x01, 0x01,
		0x00, 0x00, 0x09,
	};
	static const uint8_t more[] = {
		0x08, 0xff, 0xff, 0xff, 0xff,
		0x00, 0x01, 'a', 0x06,
		0x00, 0x00, 0x09,
		0x05,
	};
	struct amf0_list l;
	decode_ok(fewer, sizeof(fewer), &l);
	const struct amf0_value *e = amf0_at(&l, 0);
	assert_int_equal(e->type, AMF0_ECMA_ARRAY);
	assert_int_equal(e->u.obj.count, 2);
	assert_int_equal(amf0_get(e, "a")->type, AMF0_NULL);
	assert_true(amf0_true(amf0_get(e, "b")));
	amf0_list_free(&l);

	decode_ok(more, sizeof(more), &l);
	assert_int_equal(l.count, 2);
	assert_int_equal(amf0_at(&l, 0)->u.obj.count, 1);
	assert_int_equal(amf0_get(amf0_at(&l, 0), "a")->type, AMF0_UNDEFINED);
	assert_int_equal(amf0_at(&l, 1)->type, AMF0_NULL);
	amf0_list_free(&l);

	/* Without its end marker the array is truncated. */
	assert_int_equal(decode_rc(fewer, sizeof(fewer) - 3, NULL), SL_EPROTO);
	assert_int_equal(decode_rc(fewer, sizeof(fewer) - 1, NULL), SL_EPROTO);
}

static void test_strict_array(void **state)
{
	(void)state;
	static const uint8_t arr[] = {
		0x0a, 0x00, 0x00, 0x00, 0x03,
		0x00, 0x40, 0x00, 0, 0, 0, 0, 0, 0,
		0x02, 0x00, 0x01, 'x',
		0x0a, 0x00, 0x00, 0x00, 0x00,
	};
	/* Declares 2^32-1 items and holds three. */
	static const uint8_t liar[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x05, 0x05, 0x05 };
	static const uint8_t end_in_array[] = { 0x0a, 0x00, 0x00, 0x00, 0x01, 0x09 };
	static const uint8_t key_end_in_array[] = {
		0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x09,
	};
	struct amf0_list l;
	decode_ok(arr, sizeof(arr), &l);
	const struct amf0_value *a = amf0_at(&l, 0);
	assert_int_equal(a->type, AMF0_STRICT_ARRAY);
	assert_int_equal(a->u.arr.count, 3);
	assert_number_value(a->u.arr.items[0], 2.0);
	assert_string_value(a->u.arr.items[1], "x");
	assert_int_equal(a->u.arr.items[2]->type, AMF0_STRICT_ARRAY);
	assert_int_equal(a->u.arr.items[2]->u.arr.count, 0);
	assert_null(amf0_get(a, "x"));
	amf0_list_free(&l);
	assert_round_trip_exact(arr, sizeof(arr));

	assert_int_equal(decode_rc(liar, sizeof(liar), NULL), SL_EPROTO);
	assert_int_equal(decode_rc(end_in_array, sizeof(end_in_array), NULL), SL_EPROTO);
	/* 00 00 09 in an array is a number cut short, not an end marker. */
	assert_int_equal(decode_rc(key_end_in_array, sizeof(key_end_in_array), NULL),
	                 SL_EPROTO);
}

static void test_date(void **state)
{
	(void)state;
	/* 2021-01-01T00:00:00Z = 1609459200000 ms, time zone field 0x003c. */
	static const uint8_t in[] = {
		0x0b, 0x42, 0x77, 0x6b, 0xb3, 0xe7, 0x00, 0x00, 0x00, 0x00, 0x3c,
	};
	struct amf0_list l;
	struct bytes b;
	double d = 0;
	decode_ok(in, sizeof(in), &l);
	const struct amf0_value *v = amf0_at(&l, 0);
	assert_int_equal(v->type, AMF0_DATE);
	assert_true(v->u.num == 1609459200000.0);
	assert_int_equal(amf0_num(v, &d), -1); /* a date is not a number */
	bytes_init(&b);
	amf0_put_value(&b, v);
	/* The reserved time zone is written as zero. */
	assert_int_equal(b.len, sizeof(in));
	assert_memory_equal(b.data, in, 9);
	assert_int_equal(b.data[9], 0);
	assert_int_equal(b.data[10], 0);
	bytes_free(&b);
	amf0_list_free(&l);
	for (size_t n = 1; n < sizeof(in); n++)
		assert_int_equal(decode_rc(in, n, NULL), SL_EPROTO);
}

static void test_typed_object(void **state)
{
	(void)state;
	static const uint8_t in[] = {
		0x10, 0x00, 0x03, 'F', 'o', 'o',
		0x00, 0x01, 'a', 0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0,
		0x00, 0x00, 0x09,
	};
	static const uint8_t want[] = {
		0x03,
		0x00, 0x01, 'a', 0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0,
		0x00, 0x00, 0x09,
	};
	struct amf0_list l;
	struct bytes b;
	decode_ok(in, sizeof(in), &l);
	const struct amf0_value *o = amf0_at(&l, 0);
	assert_int_equal(o->type, AMF0_OBJECT);
	assert_int_equal(o->u.obj.count, 1);
	assert_number_value(amf0_get(o, "a"), 1.0);
	bytes_init(&b);
	amf0_put_value(&b, o);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	bytes_free(&b);
	amf0_list_free(&l);
	for (size_t n = 1; n < sizeof(in); n++)
		assert_int_equal(decode_rc(in, n, NULL), SL_EPROTO);
}

/* An empty key is only an end marker when 0x09 follows it. */
static void test_empty_key_property(void **state)
{
	(void)state;
	static const uint8_t in[] = { 0x03, 0x00, 0x00, 0x05, 0x00, 0x00, 0x09 };
	struct amf0_list l;
	decode_ok(in, sizeof(in), &l);
	const struct amf0_value *o = amf0_at(&l, 0);
	assert_int_equal(o->u.obj.count, 1);
	assert_int_equal(o->u.obj.props[0].key_len, 0);
	assert_string_equal(o->u.obj.props[0].key, "");
	assert_int_equal(amf0_get(o, "")->type, AMF0_NULL);
	amf0_list_free(&l);
	assert_round_trip_exact(in, sizeof(in));
}

static void test_boolean_nonzero_is_true(void **state)
{
	(void)state;
	static const uint8_t in[] = { 0x01, 0x02, 0x01, 0x00, 0x01, 0xff };
	struct amf0_list l;
	decode_ok(in, sizeof(in), &l);
	assert_true(amf0_true(amf0_at(&l, 0)));
	assert_false(amf0_true(amf0_at(&l, 1)));
	assert_true(amf0_true(amf0_at(&l, 2)));
	amf0_list_free(&l);
	assert_int_equal(decode_rc(in, 1, NULL), SL_EPROTO);
}

/* ---- refused input ---- */

static void test_unsupported_markers(void **state)
{
	(void)state;
	static const uint8_t markers[] = { 0x04, 0x07, 0x0d, 0x0e, 0x11 };
	for (size_t i = 0; i < sizeof(markers); i++) {
		uint8_t m = markers[i];
		/* Payloads that would be valid if the marker were read as a u16 ref. */
		uint8_t top[] = { 0x05, m, 0x00, 0x01 };
		uint8_t prop[] = { 0x03, 0x00, 0x01, 'a', m, 0x00, 0x00, 0x09 };
		uint8_t item[] = { 0x0a, 0x00, 0x00, 0x00, 0x01, m };
		uint8_t ecma[] = { 0x08, 0, 0, 0, 1, 0x00, 0x01, 'a', m, 0x00, 0x00, 0x09 };
		assert_int_equal(decode_rc(top, sizeof(top), NULL), SL_EUNSUPP);
		assert_int_equal(decode_rc(prop, sizeof(prop), NULL), SL_EUNSUPP);
		assert_int_equal(decode_rc(item, sizeof(item), NULL), SL_EUNSUPP);
		assert_int_equal(decode_rc(ecma, sizeof(ecma), NULL), SL_EUNSUPP);
	}
}

static void test_malformed_markers(void **state)
{
	(void)state;
	static const uint8_t end_at_top[] = { 0x05, 0x09 };
	static const uint8_t end_triplet_at_top[] = { 0x00, 0x00, 0x09 };
	static const uint8_t end_as_value[] = { 0x03, 0x00, 0x01, 'a', 0x09, 0x00, 0x00, 0x09 };
	static const uint8_t unknown[] = { 0x12, 0x20, 0x80, 0xff };
	assert_int_equal(decode_rc(end_at_top, sizeof(end_at_top), NULL), SL_EPROTO);
	assert_int_equal(decode_rc(end_triplet_at_top, sizeof(end_triplet_at_top), NULL),
	                 SL_EPROTO);
	assert_int_equal(decode_rc(end_as_value, sizeof(end_as_value), NULL), SL_EPROTO);
	for (size_t i = 0; i < sizeof(unknown); i++)
		assert_int_equal(decode_rc(&unknown[i], 1, NULL), SL_EPROTO);
}

/* d levels of containers, alternating object, strict array and ECMA array. */
static void build_nested(struct bytes *b, unsigned d)
{
	for (unsigned i = 0; i < d; i++) {
		switch (i % 3) {
		case 0:
			amf0_put_object_start(b);
			amf0_put_key(b, "k");
			break;
		case 1:
			bytes_put_u8(b, 0x0a);
			bytes_put_u32be(b, 1);
			break;
		default:
			amf0_put_ecma_start(b, 1);
			amf0_put_key(b, "e");
			break;
		}
	}
	amf0_put_null(b);
	for (unsigned i = d; i-- > 0;)
		if (i % 3 != 1)
			amf0_put_object_end(b);
}

static void test_depth_limit(void **state)
{
	(void)state;
	struct bytes b;
	const struct amf0_limits one = { .max_depth = 1, .max_values = 0 };
	bytes_init(&b);
	build_nested(&b, 32);
	assert_int_equal(decode_rc(b.data, b.len, NULL), 0);
	assert_round_trip_exact(b.data, b.len);
	bytes_clear(&b);
	build_nested(&b, 33);
	assert_int_equal(decode_rc(b.data, b.len, NULL), SL_ELIMIT);
	bytes_clear(&b);

	build_nested(&b, 1);
	assert_int_equal(decode_rc(b.data, b.len, &one), 0);
	bytes_clear(&b);
	build_nested(&b, 2);
	assert_int_equal(decode_rc(b.data, b.len, &one), SL_ELIMIT);
	/* Depth is nesting, not a count: siblings at depth 1 are fine. */
	static const uint8_t siblings[] = {
		0x03, 0x00, 0x00, 0x09, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x09,
	};
	assert_int_equal(decode_rc(siblings, sizeof(siblings), &one), 0);
	bytes_free(&b);
}

/* Nesting far deeper than any C stack could recurse, when a caller allows it. */
static void test_deep_nesting_is_not_recursive(void **state)
{
	(void)state;
	const unsigned depth = 300000;
	const struct amf0_limits lim = { .max_depth = 1u << 30, .max_values = 1u << 30 };
	struct bytes b;
	struct amf0_list l;
	bytes_init(&b);
	build_nested(&b, depth);
	assert_int_equal(amf0_decode(b.data, b.len, &lim, &l), 0);
	const struct amf0_value *v = amf0_at(&l, 0);
	unsigned d = 0;
	while (v->type != AMF0_NULL) {
		v = v->type == AMF0_STRICT_ARRAY ? v->u.arr.items[0] : v->u.obj.props[0].value;
		d++;
	}
	assert_int_equal(d, depth);
	struct bytes out;
	bytes_init(&out);
	amf0_put_value(&out, amf0_at(&l, 0));
	assert_int_equal(out.len, b.len);
	assert_memory_equal(out.data, b.data, b.len);
	bytes_free(&out);
	amf0_list_free(&l);
	bytes_free(&b);
}

static void test_value_limit(void **state)
{
	(void)state;
	const struct amf0_limits ten = { .max_depth = 0, .max_values = 10 };
	const struct amf0_limits five = { .max_depth = 0, .max_values = 5 };
	struct bytes b;
	bytes_init(&b);
	/* The array and its nine items are ten values. */
	bytes_put_u8(&b, 0x0a);
	bytes_put_u32be(&b, 9);
	for (int i = 0; i < 9; i++)
		amf0_put_null(&b);
	assert_int_equal(decode_rc(b.data, b.len, &ten), 0);
	bytes_clear(&b);
	bytes_put_u8(&b, 0x0a);
	bytes_put_u32be(&b, 10);
	for (int i = 0; i < 10; i++)
		amf0_put_null(&b);
	assert_int_equal(decode_rc(b.data, b.len, &ten), SL_ELIMIT);

	/* A property counts as well as its value: {a, b} is five. */
	bytes_clear(&b);
	amf0_put_object_start(&b);
	amf0_put_key(&b, "a");
	amf0_put_null(&b);
	amf0_put_key(&b, "b");
	amf0_put_null(&b);
	amf0_put_object_end(&b);
	assert_int_equal(decode_rc(b.data, b.len, &five), 0);
	b.len -= 3;
	amf0_put_key(&b, "c");
	amf0_put_null(&b);
	amf0_put_object_end(&b);
	assert_int_equal(decode_rc(b.data, b.len, &five), SL_ELIMIT);

	/* The default is 65536, top-level values included. */
	bytes_clear(&b);
	for (int i = 0; i < 65536; i++)
		amf0_put_undefined(&b);
	struct amf0_list l;
	decode_ok(b.data, b.len, &l);
	assert_int_equal(l.count, 65536);
	amf0_list_free(&l);
	amf0_put_undefined(&b);
	assert_int_equal(decode_rc(b.data, b.len, NULL), SL_ELIMIT);
	bytes_free(&b);
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#endif

#ifdef HAVE_ASAN
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_in_use(void)
{
	return __sanitizer_get_current_allocated_bytes();
}
#else
static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}
#endif

/* Declared counts never size an allocation: what is held is O(input). */
static void test_memory_is_bounded_by_input(void **state)
{
	(void)state;
	struct bytes b;
	struct amf0_list l;
	bytes_init(&b);
	/* An ECMA array claiming 2^32-1 entries that holds 1000, then a
	 * strict array of 100000 one-byte items. */
	amf0_put_ecma_start(&b, 0xffffffffu);
	for (int i = 0; i < 1000; i++)
		amf0_put_prop_bool(&b, "k", 1);
	amf0_put_object_end(&b);
	bytes_put_u8(&b, 0x0a);
	bytes_put_u32be(&b, 100000);
	for (int i = 0; i < 100000; i++)
		amf0_put_null(&b);

	const struct amf0_limits lim = { .max_depth = 0, .max_values = 1u << 20 };
	size_t before = heap_in_use();
	assert_int_equal(amf0_decode(b.data, b.len, &lim, &l), 0);
	size_t held = heap_in_use() - before;
	/* A one-byte value costs a value (24) and a pointer (8); arena blocks
	 * double, so at most twice that is held. */
	assert_true(held <= 64 * b.len + 65536);
	amf0_list_free(&l);
	bytes_free(&b);
}

/* ---- lists and lookups ---- */

static void test_empty_input(void **state)
{
	(void)state;
	struct amf0_list l;
	assert_int_equal(amf0_decode((const uint8_t *)"", 0, NULL, &l), 0);
	assert_int_equal(l.count, 0);
	assert_null(amf0_at(&l, 0));
	amf0_list_free(&l);
}

static void test_error_leaves_list_empty(void **state)
{
	(void)state;
	struct amf0_list l = { .vals = (struct amf0_value **)&l, .count = 7, .arena = &l };
	assert_int_equal(amf0_decode(ffmpeg_connect, sizeof(ffmpeg_connect) - 1, NULL, &l),
	                 SL_EPROTO);
	assert_null(l.vals);
	assert_int_equal(l.count, 0);
	assert_null(l.arena);
	amf0_list_free(&l);
	amf0_list_free(&l);
	amf0_list_free(NULL);
}

static void test_lookups(void **state)
{
	(void)state;
	static const uint8_t dup[] = {
		0x03,
		0x00, 0x01, 'a', 0x02, 0x00, 0x01, '1',
		0x00, 0x01, 'a', 0x02, 0x00, 0x01, '2',
		0x00, 0x00, 0x09,
		0x01, 0x01,
	};
	struct amf0_list l;
	double d = 42;
	decode_ok(ffmpeg_connect, sizeof(ffmpeg_connect), &l);
	const struct amf0_value *name = amf0_at(&l, 0), *txn = amf0_at(&l, 1);
	const struct amf0_value *o = amf0_at(&l, 2);
	assert_non_null(amf0_get(o, "app"));
	assert_null(amf0_get(o, "ap"));
	assert_null(amf0_get(o, "apps"));
	assert_null(amf0_get(o, "App"));
	assert_null(amf0_get(o, ""));
	assert_null(amf0_get(name, "app"));
	assert_null(amf0_get(NULL, "app"));
	assert_null(amf0_str(txn));
	assert_null(amf0_str(o));
	assert_null(amf0_str(NULL));
	assert_int_equal(amf0_num(name, &d), -1);
	assert_int_equal(amf0_num(NULL, &d), -1);
	assert_true(d == 42);
	assert_false(amf0_true(txn)); /* 1.0 is not the boolean true */
	assert_false(amf0_true(NULL));
	assert_null(amf0_at(&l, 3));
	assert_null(amf0_at(NULL, 0));
	amf0_list_free(&l);

	decode_ok(dup, sizeof(dup), &l);
	assert_string_value(amf0_get(amf0_at(&l, 0), "a"), "1"); /* first wins */
	assert_true(amf0_true(amf0_at(&l, 1)));
	amf0_list_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ffmpeg_connect),
		cmocka_unit_test(test_ffmpeg_publish_commands),
		cmocka_unit_test(test_ffmpeg_set_data_frame),
		cmocka_unit_test(test_rtmpdump_connect_and_play),
		cmocka_unit_test(test_real_messages_round_trip),
		cmocka_unit_test(test_real_messages_every_truncation),
		cmocka_unit_test(test_encoder_rebuilds_ffmpeg_messages),
		cmocka_unit_test(test_encoder_scalars),
		cmocka_unit_test(test_numbers_bit_exact),
		cmocka_unit_test(test_long_strings),
		cmocka_unit_test(test_long_string_and_xml_markers),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_ecma_count_is_only_a_hint),
		cmocka_unit_test(test_strict_array),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_typed_object),
		cmocka_unit_test(test_empty_key_property),
		cmocka_unit_test(test_boolean_nonzero_is_true),
		cmocka_unit_test(test_unsupported_markers),
		cmocka_unit_test(test_malformed_markers),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_deep_nesting_is_not_recursive),
		cmocka_unit_test(test_value_limit),
		cmocka_unit_test(test_memory_is_bounded_by_input),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_error_leaves_list_empty),
		cmocka_unit_test(test_lookups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
