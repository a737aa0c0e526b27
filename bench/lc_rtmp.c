/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lc_rtmp.c - sluice-load's RTMP client sessions, player and publisher,
 * built on sluice's own handshake, chunk, message and AMF0 code.
 *
 * The command sequence is what ffmpeg and rtmpdump send (connect, then
 * createStream, then play or releaseStream/FCPublish/publish), one step per
 * reply, so it works against any server that works with those clients.
 */
#include <string.h>

#include "bench/lc.h"
#include "core/err.h"
#include "core/rbuf.h"
#include "proto/amf0.h"
#include "proto/rtmp.h"
#include "proto/rtmp_msg.h"

enum {
	RS_HANDSHAKE,
	RS_CONNECT,      /* connect sent: waiting for _result 1 */
	RS_CREATE,       /* createStream sent: waiting for its _result */
	RS_START,        /* play/publish sent: waiting for onStatus ...Start */
	RS_LIVE,
};

enum {
	TX_CONNECT = 1,
	TX_RELEASE = 2,
	TX_FCPUBLISH = 3,
	TX_CREATE = 4,
	TX_PUBLISH = 5,
};

#define PUBLISH_CHUNK_SIZE 4096

static const struct amf0_limits amf_limits = { 0, 0 };

static void send_bytes(struct lc_client *c, struct bytes *b)
{
	lc_client_send(c, b->data, b->len);
	bytes_free(b);
}

static void send_connect(struct lc_client *c)
{
	struct bytes b, amf;
	bytes_init(&b);
	bytes_init(&amf);
	if (c->role == LC_PUBLISH) {
		rtmp_put_set_chunk_size(&b, PUBLISH_CHUNK_SIZE);
		c->out_chunk = PUBLISH_CHUNK_SIZE;
	}
	amf0_put_string(&amf, "connect");
	amf0_put_number(&amf, TX_CONNECT);
	amf0_put_object_start(&amf);
	amf0_put_prop_string(&amf, "app", c->url.app);
	if (c->role == LC_PUBLISH)
		amf0_put_prop_string(&amf, "type", "nonprivate");
	amf0_put_prop_string(&amf, "flashVer", c->role == LC_PUBLISH ? "FMLE/3.0 (compatible; "
	                     "sluice-load)" : "LNX 9,0,124,2");
	amf0_put_prop_string(&amf, "tcUrl", c->url.tc_url);
	if (c->role != LC_PUBLISH) {
		amf0_put_prop_bool(&amf, "fpad", 0);
		amf0_put_prop_number(&amf, "capabilities", 15);
		amf0_put_prop_number(&amf, "audioCodecs", 3191);
		amf0_put_prop_number(&amf, "videoCodecs", 252);
		amf0_put_prop_number(&amf, "videoFunction", 1);
	}
	amf0_put_object_end(&amf);
	rtmp_put_command(&b, c->out_chunk, 0, &amf);
	bytes_free(&amf);
	send_bytes(c, &b);
	c->rstate = RS_CONNECT;
}

static void put_simple_command(struct bytes *b, struct lc_client *c, const char *name,
                               double txid, uint32_t msid, const char *arg)
{
	struct bytes amf;
	bytes_init(&amf);
	amf0_put_string(&amf, name);
	amf0_put_number(&amf, txid);
	amf0_put_null(&amf);
	if (arg)
		amf0_put_string(&amf, arg);
	rtmp_put_command(b, c->out_chunk, msid, &amf);
	bytes_free(&amf);
}

static void after_connect(struct lc_client *c)
{
	struct bytes b;
	bytes_init(&b);
	rtmp_put_window_ack_size(&b, 2500000);
	if (c->role == LC_PUBLISH) {
		put_simple_command(&b, c, "releaseStream", TX_RELEASE, 0, c->url.stream);
		put_simple_command(&b, c, "FCPublish", TX_FCPUBLISH, 0, c->url.stream);
	}
	put_simple_command(&b, c, "createStream", TX_CREATE, 0, NULL);
	send_bytes(c, &b);
	c->rstate = RS_CREATE;
}

static void after_create(struct lc_client *c)
{
	struct bytes b, amf;
	bytes_init(&b);
	bytes_init(&amf);
	if (c->role == LC_PUBLISH) {
		amf0_put_string(&amf, "publish");
		amf0_put_number(&amf, TX_PUBLISH);
		amf0_put_null(&amf);
		amf0_put_string(&amf, c->url.stream);
		amf0_put_string(&amf, "live");
		rtmp_put_command(&b, c->out_chunk, c->msid, &amf);
	} else {
		amf0_put_string(&amf, "play");
		amf0_put_number(&amf, 0);
		amf0_put_null(&amf);
		amf0_put_string(&amf, c->url.stream);
		amf0_put_number(&amf, -2000);
		rtmp_put_command(&b, c->out_chunk, c->msid, &amf);
		/* SetBufferLength (user control 3: stream id, ms), as ffmpeg and rtmpdump send. */
		uint8_t uc[10];
		wr_u16be(uc, RTMP_UC_SET_BUFFER_LENGTH);
		wr_u32be(uc + 2, c->msid);
		wr_u32be(uc + 6, 3000);
		rtmp_chunk_append(&b, RTMP_CSID_CONTROL, RTMP_MSG_USER_CONTROL, 0, 0, uc, sizeof(uc),
		                  RTMP_DEFAULT_CHUNK_SIZE);
	}
	bytes_free(&amf);
	send_bytes(c, &b);
	c->rstate = RS_START;
}

static const char *status_code(const struct rtmp_command *cmd, const char **level)
{
	for (unsigned i = 0; i < cmd->nargs; i++) {
		const struct amf0_value *v = cmd->args[i];
		if (v && (v->type == AMF0_OBJECT || v->type == AMF0_ECMA_ARRAY)) {
			*level = amf0_str(amf0_get(v, "level"));
			return amf0_str(amf0_get(v, "code"));
		}
	}
	*level = NULL;
	return NULL;
}

static void on_command(struct lc_client *c, const struct rtmp_msg *m)
{
	struct rtmp_command cmd;
	if (rtmp_command_decode(m->type, m->body->data, m->body->len, &amf_limits, &cmd) < 0)
		return;
	const char *level = NULL;
	if (strcmp(cmd.name, "_result") == 0) {
		if (cmd.txid == TX_CONNECT && c->rstate == RS_CONNECT) {
			after_connect(c);
		} else if (cmd.txid == TX_CREATE && c->rstate == RS_CREATE) {
			double id = 1;
			if (cmd.nargs > 0)
				amf0_num(cmd.args[0], &id);
			c->msid = id >= 1 && id < 65536 ? (uint32_t)id : 1;
			after_create(c);
		}
	} else if (strcmp(cmd.name, "_error") == 0) {
		const char *code = status_code(&cmd, &level);
		if (cmd.txid == TX_CONNECT || cmd.txid == TX_CREATE || cmd.txid == TX_PUBLISH)
			lc_client_fail(c, "refused: %s", code ? code : "_error");
	} else if (strcmp(cmd.name, "onStatus") == 0) {
		const char *code = status_code(&cmd, &level);
		if (level && strcmp(level, "error") == 0) {
			lc_client_fail(c, "refused: %s", code ? code : "error");
		} else if (code && c->rstate == RS_START &&
		           (strcmp(code, "NetStream.Play.Start") == 0 ||
		            strcmp(code, "NetStream.Publish.Start") == 0)) {
			c->rstate = RS_LIVE;
			c->connected = 1;
			if (c->role == LC_PUBLISH)
				lc_pub_start(c->lc);
		} else if (code && (strcmp(code, "NetStream.Play.UnpublishNotify") == 0 ||
		                    strcmp(code, "NetStream.Play.Stop") == 0) &&
		           c->rstate == RS_LIVE) {
			lc_client_fail(c, "stream ended (%s)", code);
		}
	}
	rtmp_command_free(&cmd);
}

static void on_message(struct lc_client *c, const struct rtmp_msg *m)
{
	switch (m->type) {
	case RTMP_MSG_WINDOW_ACK_SIZE:
		if (m->body->len >= 4)
			c->ack_win = rd_u32be(m->body->data);
		break;
	case RTMP_MSG_USER_CONTROL: {
		uint16_t ev;
		uint32_t val;
		if (rtmp_parse_user_control(m->body->data, m->body->len, &ev, &val) == 0 &&
		    ev == RTMP_UC_PING_REQUEST) {
			struct bytes b;
			bytes_init(&b);
			rtmp_put_ping(&b, RTMP_UC_PING_RESPONSE, val);
			send_bytes(c, &b);
		}
		break;
	}
	case RTMP_MSG_COMMAND_AMF0:
	case RTMP_MSG_COMMAND_AMF3:
		on_command(c, m);
		break;
	case RTMP_MSG_AUDIO:
	case RTMP_MSG_VIDEO:
	case RTMP_MSG_DATA_AMF0:
		if (c->role != LC_PUBLISH)
			lc_on_tag(c, m->type, m->ts, m->body->data, m->body->len);
		break;
	default:
		break;
	}
}

void lc_rtmp_begin(struct lc_client *c)
{
	struct bytes out;
	bytes_init(&out);
	rtmp_hs_client_init(&c->hs, &out);
	struct rtmp_reader_limits lim = { 0, 0, 0, 0 };
	rtmp_reader_init(&c->rd, &lim);
	c->out_chunk = RTMP_DEFAULT_CHUNK_SIZE;
	c->rstate = RS_HANDSHAKE;
	send_bytes(c, &out);
}

void lc_rtmp_data(struct lc_client *c, const uint8_t *p, size_t n)
{
	if (!c->hs_done) {
		struct bytes out;
		bytes_init(&out);
		size_t used = 0;
		int rc = rtmp_hs_feed(&c->hs, p, n, &used, &out);
		if (out.len)
			lc_client_send(c, out.data, out.len);
		bytes_free(&out);
		if (rc == SL_EAGAIN)
			return;
		if (rc < 0) {
			lc_client_fail(c, "handshake: %s", sl_strerror(rc));
			return;
		}
		c->hs_done = 1;
		p += used;
		n -= used;
		send_connect(c);
	}
	while (n > 0 && !c->closed) {
		size_t used = 0;
		struct rtmp_msg m;
		int rc = rtmp_reader_feed(&c->rd, p, n, &used, &m);
		p += used;
		n -= used;
		if (rc == SL_EAGAIN)
			break;
		if (rc < 0) {
			lc_client_fail(c, "rtmp: %s", sl_strerror(rc));
			return;
		}
		on_message(c, &m);
		rbuf_unref(m.body);
	}
	if (c->ack_win && !c->closed && c->rd.bytes_in - c->acked >= c->ack_win / 2) {
		c->acked = c->rd.bytes_in;
		struct bytes b;
		bytes_init(&b);
		rtmp_put_ack(&b, (uint32_t)c->rd.bytes_in);
		send_bytes(c, &b);
	}
}

void lc_rtmp_send_media(struct lc_client *c, uint8_t type, uint32_t ts, const uint8_t *body,
                        size_t len)
{
	static struct bytes out;
	uint32_t csid = type == RTMP_MSG_VIDEO ? RTMP_CSID_VIDEO :
	                type == RTMP_MSG_AUDIO ? RTMP_CSID_AUDIO : RTMP_CSID_DATA;
	bytes_clear(&out);
	rtmp_chunk_append(&out, csid, type, c->msid, ts, body, len, c->out_chunk);
	lc_client_send(c, out.data, out.len);
}
