/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rtmp_commands.c - what an RTMP client's messages mean on a node: connect,
 * createStream, publish, play and their goodbyes, protocol control, user
 * control, and the media a publisher sends.
 *
 * Replies follow what Flash Media Server answered, because that is what
 * OBS, ffmpeg, GStreamer and librtmp were written against.
 */
#include <stdio.h>
#include <string.h>

#include "cluster/cluster_auth.h"
#include "core/err.h"
#include "core/http_parser.h"
#include "core/log.h"
#include "core/tls.h"
#include "node/admission.h"
#include "node/rtmp_conn.h"
#include "proto/rtmp.h"
#include "proto/rtmp_msg.h"

static const struct amf0_limits command_limits = { 32, 4096 };

/* Bits of rtmp_conn.ignored_types_logged. */
enum { IGN_MEDIA_NOT_PUBLISHING = 1, IGN_UNKNOWN_TYPE = 2, IGN_UNKNOWN_COMMAND = 4 };

static void log_once(struct rtmp_conn *c, unsigned bit, const char *fmt_what, int detail)
{
	if (c->ignored_types_logged & bit)
		return;
	c->ignored_types_logged |= bit;
	log_info("rtmp_ignored", "client=%llu peer=%s what=\"%s\" detail=%d",
	         (unsigned long long)c->base.id, c->base.peer, fmt_what, detail);
}

/*
 * Splits "name?query" in place and finds the token parameter.  Clients put
 * it on the stream name (rtmp://host/app/name?token=...) or on the app.
 */
static void split_token(char *name, char *token, size_t token_size)
{
	char *q = strchr(name, '?');
	if (!q)
		return;
	*q++ = '\0';
	char tmp[160];
	if (http_query_get(q, strlen(q), "token", tmp, sizeof(tmp)) >= 0)
		snprintf(token, token_size, "%s", tmp);
}

static void send_status(struct rtmp_conn *c, uint32_t msid, const char *level,
                        const char *code, const char *desc)
{
	struct bytes b;
	bytes_init(&b);
	rtmp_put_status(&b, media_rtmp_chunk_size(), msid, level, code, desc);
	rtmp_conn_send(c, &b);
}

static void send_result(struct rtmp_conn *c, double txid)
{
	if (txid <= 0)
		return; /* the client does not expect an answer */
	struct bytes b;
	bytes_init(&b);
	rtmp_put_result(&b, media_rtmp_chunk_size(), txid, NULL, NULL, NULL);
	rtmp_conn_send(c, &b);
}

/* Refuses with an error status, then closes once it is sent. */
static void refuse(struct rtmp_conn *c, uint32_t msid, const char *code, const char *desc)
{
	send_status(c, msid, "error", code, desc);
	rtmp_conn_finish(c, code);
}

/* Answers connect with NetConnection.Connect.Rejected, then closes. */
static void reject_connect(struct rtmp_conn *c, double txid, const char *desc,
                           const char *reason)
{
	struct bytes b;
	bytes_init(&b);
	rtmp_put_result(&b, RTMP_DEFAULT_CHUNK_SIZE, txid, "error",
	                "NetConnection.Connect.Rejected", desc);
	rtmp_conn_send(c, &b);
	rtmp_conn_finish(c, reason);
}

static int on_connect(struct rtmp_conn *c, const struct rtmp_command *cmd)
{
	if (c->state != RC_CONNECTING) {
		log_once(c, IGN_UNKNOWN_COMMAND, "connect on a connected connection", 0);
		return 0;
	}
	const char *app = rtmp_command_prop_str(cmd, "app");
	char appbuf[STREAM_NAME_MAX + 160];
	snprintf(appbuf, sizeof(appbuf), "%s", app ? app : "");
	split_token(appbuf, c->app_token, sizeof(c->app_token));
	/* "app/" (a trailing slash, as some clients send) is the same app. */
	size_t len = strlen(appbuf);
	if (len && appbuf[len - 1] == '/')
		appbuf[len - 1] = '\0';
	if (!app_name_valid(appbuf)) {
		char esc[96];
		log_info("rtmp_connect_refused", "client=%llu peer=%s app=%s reason=\"bad app name\"",
		         (unsigned long long)c->base.id, c->base.peer,
		         log_escape(appbuf, esc, sizeof(esc)));
		reject_connect(c, cmd->txid,
		               "app name must be 1-128 characters of A-Z a-z 0-9 _ . ~ @ + = - "
		               "(levels separated by /)",
		               "bad app name");
		return 0;
	}
	snprintf(c->app, sizeof(c->app), "%s", appbuf);

	const char *cluster_name = rtmp_command_prop_str(cmd, "sluiceCluster");
	if (cluster_name) {
		char esc[160];
		if (!cluster_serves_peers(&c->node->cluster) || !stream_name_valid(cluster_name)) {
			log_info("cluster_peer_refused", "client=%llu peer=%s name=%s reason=\"%s\"",
			         (unsigned long long)c->base.id, c->base.peer,
			         log_escape(cluster_name, esc, sizeof(esc)),
			         stream_name_valid(cluster_name) ? "this node serves no cluster pulls"
			                                         : "bad node name");
			c->node->cluster.auth_refused++;
			reject_connect(c, cmd->txid, "this node is not an origin or relay of a cluster",
			               "cluster connect to a node that serves no pulls");
			return 0;
		}
		if (strcmp(cluster_name, c->node->name) == 0) {
			/* Two nodes share a name (two started on one host with the same --name):
			 * its pulls would look like our own coming back, a loop, and viewers would
			 * silently get not found.  Say so, on both sides. */
			log_warn("cluster_peer_refused", "client=%llu peer=%s name=%s reason=\"duplicate "
			         "node name: the peer has this node's own name\"",
			         (unsigned long long)c->base.id, c->base.peer, cluster_name);
			c->node->cluster.auth_refused++;
			char desc[300];
			snprintf(desc, sizeof(desc), "duplicate node name '%s': another node of the "
			         "cluster has it; give each node its own --name", cluster_name);
			reject_connect(c, cmd->txid, desc, "duplicate node name");
			return 0;
		}
		c->cluster_asked = 1;
		snprintf(c->cluster_name, sizeof(c->cluster_name), "%s", cluster_name);
		cluster_nonce(c->cluster_nonce);
		const char *via = rtmp_command_prop_str(cmd, "sluiceVia");
		if (via && strlen(via) < sizeof(c->cluster_via))
			snprintf(c->cluster_via, sizeof(c->cluster_via), "%s", via);
	}

	uint32_t chunk = media_rtmp_chunk_size();
	struct bytes b, amf;
	bytes_init(&b);
	bytes_init(&amf);
	rtmp_put_window_ack_size(&b, 2500000);
	rtmp_put_set_peer_bw(&b, 2500000, 2);
	rtmp_put_set_chunk_size(&b, chunk);
	amf0_put_string(&amf, "_result");
	amf0_put_number(&amf, cmd->txid);
	amf0_put_object_start(&amf);
	amf0_put_prop_string(&amf, "fmsVer", "FMS/3,5,7,7009");
	amf0_put_prop_number(&amf, "capabilities", 31);
	amf0_put_prop_number(&amf, "mode", 1);
	amf0_put_object_end(&amf);
	amf0_put_object_start(&amf);
	amf0_put_prop_string(&amf, "level", "status");
	amf0_put_prop_string(&amf, "code", "NetConnection.Connect.Success");
	amf0_put_prop_string(&amf, "description", "Connection succeeded.");
	amf0_put_prop_number(&amf, "objectEncoding", 0);
	if (c->cluster_asked)
		amf0_put_prop_string(&amf, "sluiceNonce", c->cluster_nonce);
	amf0_put_object_end(&amf);
	rtmp_put_command(&b, chunk, 0, &amf);
	bytes_free(&amf);
	rtmp_conn_send(c, &b);
	rtmp_conn_set_state(c, RC_READY);
	log_debug("rtmp_connect", "client=%llu peer=%s app=%s", (unsigned long long)c->base.id,
	          c->base.peer, c->app);
	return 0;
}

/* clusterAuth(txid, null, client_nonce, name, proof): the answer to our nonce. */
static void on_cluster_auth(struct rtmp_conn *c, const struct rtmp_command *cmd)
{
	struct cluster *cl = &c->node->cluster;
	const char *cn = rtmp_command_arg_str(cmd, 0);
	const char *name = rtmp_command_arg_str(cmd, 1);
	const char *proof = rtmp_command_arg_str(cmd, 2);
	const char *why = NULL;
	/* Over RTMPS the proof is bound to this TLS session: one relayed from another fails. */
	char binding[2 * TLS_EXPORTER_LEN + 1];
	if (io_stream_tls_binding(&c->io, binding) < 0)
		why = "TLS session not established";
	else if (!c->cluster_asked || c->cluster_peer)
		why = "not asked for";
	else if (!c->cluster_nonce[0])
		why = "nonce already spent (replay)";
	else if (!name || strcmp(name, c->cluster_name) != 0)
		why = "name differs from connect";
	else if (cluster_proof_check_bound(c->node->cfg->cluster_secret, CLUSTER_DOWNSTREAM,
	                                   c->cluster_nonce, cn, name, binding, proof) != 0)
		why = binding[0] ? "wrong proof (different cluster secret, or relayed from another "
		                   "TLS session?)" : "wrong proof (different cluster secret?)";
	char server_nonce[sizeof(c->cluster_nonce)];
	snprintf(server_nonce, sizeof(server_nonce), "%s", c->cluster_nonce);
	c->cluster_nonce[0] = '\0'; /* one answer per nonce, right or wrong */
	char esc[160];
	if (why) {
		cl->auth_refused++;
		log_warn("cluster_peer_refused", "client=%llu peer=%s name=%s reason=\"%s\"",
		         (unsigned long long)c->base.id, c->base.peer,
		         log_escape(name ? name : "", esc, sizeof(esc)), why);
		struct bytes b;
		bytes_init(&b);
		rtmp_put_result(&b, media_rtmp_chunk_size(), cmd->txid, "error",
		                "NetConnection.Cluster.Rejected", "cluster proof refused");
		rtmp_conn_send(c, &b);
		rtmp_conn_finish(c, "cluster proof refused");
		return;
	}
	c->cluster_peer = 1;
	cl->auth_accepted++;
	log_info("cluster_peer_accepted", "client=%llu peer=%s name=%s app=%s",
	         (unsigned long long)c->base.id, c->base.peer, c->cluster_name, c->app);
	char mine[CLUSTER_PROOF_HEX + 1];
	cluster_proof_bound(c->node->cfg->cluster_secret, CLUSTER_UPSTREAM, server_nonce, cn, name,
	                    binding, mine);
	struct bytes b, amf;
	bytes_init(&b);
	bytes_init(&amf);
	amf0_put_string(&amf, "_result");
	amf0_put_number(&amf, cmd->txid);
	amf0_put_null(&amf);
	amf0_put_object_start(&amf);
	amf0_put_prop_string(&amf, "level", "status");
	amf0_put_prop_string(&amf, "code", "NetConnection.Cluster.Success");
	amf0_put_prop_string(&amf, "proof", mine);
	amf0_put_object_end(&amf);
	rtmp_put_command(&b, media_rtmp_chunk_size(), 0, &amf);
	bytes_free(&amf);
	rtmp_conn_send(c, &b);
}

static void on_create_stream(struct rtmp_conn *c, const struct rtmp_command *cmd)
{
	struct bytes b, amf;
	bytes_init(&b);
	bytes_init(&amf);
	amf0_put_string(&amf, "_result");
	amf0_put_number(&amf, cmd->txid);
	amf0_put_null(&amf);
	amf0_put_number(&amf, c->next_stream_id++);
	rtmp_put_command(&b, media_rtmp_chunk_size(), 0, &amf);
	bytes_free(&amf);
	rtmp_conn_send(c, &b);
}

/* Reads the stream name argument, strips ?token=, validates. Returns 0 or -1 (refused). */
static int stream_arg(struct rtmp_conn *c, const struct rtmp_command *cmd, uint32_t msid,
                      const char *fail_code, char *token, size_t token_size)
{
	const char *arg = rtmp_command_arg_str(cmd, 0);
	char name[STREAM_NAME_MAX + 200];
	snprintf(name, sizeof(name), "%s", arg ? arg : "");
	snprintf(token, token_size, "%s", c->app_token);
	split_token(name, token, token_size);
	if (!stream_name_valid(name)) {
		char esc[96];
		log_info("rtmp_bad_stream_name", "client=%llu peer=%s command=%s name=%s",
		         (unsigned long long)c->base.id, c->base.peer, cmd->name,
		         log_escape(name, esc, sizeof(esc)));
		refuse(c, msid, fail_code,
		       "stream name must be 1-128 characters of A-Z a-z 0-9 _ . ~ @ + = -");
		return -1;
	}
	snprintf(c->stream_name, sizeof(c->stream_name), "%.128s", name);
	return 0;
}

/* Publish refusals at the node's limits logged a second, at most (more are counted). */
#define PUBLISH_LIMIT_LOG_PER_SEC 10

static const char *const limit_names[] = { "max-publishers", "max-publishers-per-ip",
                                           "max-streams" };

/* Refuses a publish at one of the node's limits: status, a throttled line, a count. */
static void refuse_at_limit(struct rtmp_conn *c, uint32_t msid, enum node_limit_refusal which,
                            uint64_t max)
{
	struct node *n = c->node;
	n->stats.publish_refused++;
	n->stats.publish_refused_limit[which]++;
	uint64_t suppressed;
	if (log_throttle_pass(&n->limit_log, uv_now(n->loop), PUBLISH_LIMIT_LOG_PER_SEC,
	                      &suppressed))
		log_info("publish_refused", "client=%llu peer=%s app=%s stream=%s reason=\"%s\" "
		         "max=%llu suppressed=%llu", (unsigned long long)c->base.id, c->base.peer,
		         c->app, c->stream_name, limit_names[which], (unsigned long long)max,
		         (unsigned long long)suppressed);
	char desc[160];
	snprintf(desc, sizeof(desc), "%s (%s %llu): try again later",
	         which == LIMIT_PUBLISHERS_PER_IP ? "too many publishers from this address"
	         : which == LIMIT_PUBLISHERS ? "this node has all the publishers it takes"
	                                     : "this node has all the streams it holds",
	         limit_names[which], (unsigned long long)max);
	refuse(c, msid, "NetStream.Publish.Rejected", desc);
}

/* 0 when c may publish one more stream, else refused (and -1). */
static int publisher_admit(struct rtmp_conn *c, uint32_t msid)
{
	struct node *n = c->node;
	const struct node_config *cfg = n->cfg;
	char why[200];
	if (!c->cluster_peer && node_admit(n, "publish", c->base.peer, why, sizeof(why)) < 0) {
		n->stats.publish_refused++;
		refuse(c, msid, "NetStream.Publish.Rejected", why);
		return -1;
	}
	if (n->publishers >= (uint64_t)cfg->max_publishers) {
		refuse_at_limit(c, msid, LIMIT_PUBLISHERS, (uint64_t)cfg->max_publishers);
		return -1;
	}
	if (cfg->max_publishers_per_ip &&
	    ipcount_get(&n->publishers_by_ip, c->ipkey) >= (uint64_t)cfg->max_publishers_per_ip) {
		refuse_at_limit(c, msid, LIMIT_PUBLISHERS_PER_IP, (uint64_t)cfg->max_publishers_per_ip);
		return -1;
	}
	return 0;
}

static void on_publish(struct rtmp_conn *c, const struct rtmp_command *cmd, uint32_t msid)
{
	struct node *n = c->node;
	char token[160];
	if (c->state != RC_READY) {
		refuse(c, msid, "NetStream.Publish.BadConnection",
		       "this connection is already publishing or playing");
		return;
	}
	if (stream_arg(c, cmd, msid, "NetStream.Publish.BadName", token, sizeof(token)) < 0) {
		n->stats.publish_refused++;
		return;
	}
	if (!cluster_takes_publishers(&n->cluster) || c->cluster_asked) {
		n->stats.publish_refused++;
		log_info("publish_refused", "client=%llu peer=%s app=%s stream=%s reason=\"role %s\"",
		         (unsigned long long)c->base.id, c->base.peer, c->app, c->stream_name,
		         cluster_role_name(n->cluster.role));
		refuse(c, msid, "NetStream.Publish.Denied",
		       "this node does not take publishers: publish to an origin");
		return;
	}
	if (node_check_token(n, "publish", c->app, c->stream_name, token, c->base.peer,
	                     c->base.id) < 0) {
		refuse(c, msid, "NetStream.Publish.Unauthorized",
		       "publishing needs a valid token (?token=...)");
		return;
	}
	if (publisher_admit(c, msid) < 0)
		return;
	struct stream *s;
	int rc = stream_publish(&n->streams, c->app, c->stream_name, c->base.id, c->base.peer, &s);
	if (rc == SL_EFULL) {
		refuse_at_limit(c, msid, LIMIT_STREAMS, (uint64_t)n->cfg->max_streams);
		return;
	}
	if (rc < 0) {
		n->stats.publish_refused++;
		char desc[320];
		snprintf(desc, sizeof(desc), "stream %s/%s is already being published", c->app,
		         c->stream_name);
		log_info("publish_refused", "client=%llu peer=%s app=%s stream=%s reason=\"%s\"",
		         (unsigned long long)c->base.id, c->base.peer, c->app, c->stream_name,
		         rc == SL_EEXIST ? "already publishing" : "bad name");
		refuse(c, msid, "NetStream.Publish.BadName", desc);
		return;
	}
	c->pub = s;
	c->counts_as_publisher = 1;
	node_publisher_begin(n, c->ipkey);
	c->last_media_ms = uv_now(n->loop);
	rtmp_conn_set_state(c, RC_PUBLISHING);

	struct bytes b;
	bytes_init(&b);
	rtmp_put_user_control(&b, RTMP_UC_STREAM_BEGIN, msid);
	rtmp_conn_send(c, &b);
	char desc[320];
	snprintf(desc, sizeof(desc), "%s/%s is now published", c->app, c->stream_name);
	send_status(c, msid, "status", "NetStream.Publish.Start", desc);
	log_info("publish_start", "client=%llu peer=%s app=%s stream=%s",
	         (unsigned long long)c->base.id, c->base.peer, c->app, c->stream_name);
}

static void viewer_drop(struct fanout_viewer *v, const char *reason)
{
	struct rtmp_conn *c = v->owner;
	log_info("viewer_dropped", "client=%llu peer=%s protocol=rtmp app=%s stream=%s "
	         "reason=\"%s\" skips=%llu", (unsigned long long)c->base.id, c->base.peer,
	         c->app, c->stream_name, reason, (unsigned long long)v->skips);
	rtmp_conn_close(c, reason);
}

static void viewer_end(struct fanout_viewer *v)
{
	struct rtmp_conn *c = v->owner;
	uint32_t msid = c->play_msid;
	struct bytes b;
	bytes_init(&b);
	rtmp_put_user_control(&b, RTMP_UC_STREAM_EOF, msid);
	rtmp_put_status(&b, media_rtmp_chunk_size(), msid, "status",
	                "NetStream.Play.UnpublishNotify", "The stream was unpublished.");
	rtmp_put_status(&b, media_rtmp_chunk_size(), msid, "status", "NetStream.Play.Stop",
	                "Stopped playing.");
	rtmp_conn_send(c, &b);
	rtmp_conn_finish(c, "stream ended");
}

static const struct fanout_viewer_ops rtmp_viewer_ops = { viewer_drop, viewer_end };

static void on_play(struct rtmp_conn *c, const struct rtmp_command *cmd, uint32_t msid)
{
	struct node *n = c->node;
	char token[160];
	if (c->state != RC_READY) {
		refuse(c, msid, "NetStream.Play.Failed",
		       "this connection is already publishing or playing");
		return;
	}
	if (stream_arg(c, cmd, msid, "NetStream.Play.BadName", token, sizeof(token)) < 0)
		return;
	if (c->cluster_asked && !c->cluster_peer) {
		refuse(c, msid, "NetStream.Play.Failed", "cluster peers must prove the secret first");
		return;
	}
	if (!c->cluster_peer && n->cfg->publish_only && n->cluster.enabled) {
		refuse(c, msid, "NetStream.Play.Failed",
		       "this origin is publish-only: watch through an edge");
		return;
	}
	if (!c->cluster_peer && node_check_token(n, "play", c->app, c->stream_name, token,
	                                         c->base.peer, c->base.id) < 0) {
		refuse(c, msid, "NetStream.Play.Failed", "playing needs a valid token (?token=...)");
		return;
	}
	char why[200];
	if (!c->cluster_peer && node_admit(n, "play", c->base.peer, why, sizeof(why)) < 0) {
		refuse(c, msid, "NetStream.Play.Failed", why);
		return;
	}
	struct stream *s = stream_find(&n->streams, c->app, c->stream_name);
	if (c->cluster_peer && cluster_via_has(c->cluster_via, n->name)) {
		/* Our own pull came back to us (relays listing each other): a loop, not a source. */
		char evia[400];
		log_info("cluster_loop", "client=%llu peer=%s app=%s stream=%s via=%s",
		         (unsigned long long)c->base.id, c->base.peer, c->app, c->stream_name,
		         log_escape(c->cluster_via, evia, sizeof(evia)));
		s = NULL;
	} else if (!s) {
		s = cluster_pull_stream_via(&n->cluster, c->app, c->stream_name,
		                            c->cluster_peer ? c->cluster_via : NULL);
	}
	if (!s) {
		n->stats.play_not_found++;
		char desc[320];
		snprintf(desc, sizeof(desc), "stream %s/%s is not live", c->app, c->stream_name);
		log_info("play_not_found", "client=%llu peer=%s app=%s stream=%s",
		         (unsigned long long)c->base.id, c->base.peer, c->app, c->stream_name);
		refuse(c, msid, "NetStream.Play.StreamNotFound", desc);
		return;
	}
	if (msid != RTMP_MEDIA_MSID)
		log_debug("rtmp_play_msid", "client=%llu msid=%u media_msid=%u",
		          (unsigned long long)c->base.id, msid, RTMP_MEDIA_MSID);
	c->play = stream_ref(s);
	c->play_msid = msid;
	if (c->cluster_peer)
		s->cluster_viewers++;
	n->stats.plays++;
	rtmp_conn_set_state(c, RC_PLAYING);

	uint32_t chunk = media_rtmp_chunk_size();
	char desc[320];
	struct bytes b, amf;
	bytes_init(&b);
	bytes_init(&amf);
	rtmp_put_user_control(&b, RTMP_UC_STREAM_BEGIN, msid);
	snprintf(desc, sizeof(desc), "Playing and resetting %s.", c->stream_name);
	rtmp_put_status(&b, chunk, msid, "status", "NetStream.Play.Reset", desc);
	snprintf(desc, sizeof(desc), "Started playing %s.", c->stream_name);
	rtmp_put_status(&b, chunk, msid, "status", "NetStream.Play.Start", desc);
	amf0_put_string(&amf, "|RtmpSampleAccess");
	amf0_put_bool(&amf, 1);
	amf0_put_bool(&amf, 1);
	rtmp_put_data(&b, chunk, msid, 0, &amf);
	bytes_free(&amf);
	rtmp_conn_send(c, &b);
	log_info(c->cluster_peer ? "pull_served" : "play_start",
	         "client=%llu peer=%s protocol=rtmp app=%s stream=%s%s%s",
	         (unsigned long long)c->base.id, c->base.peer, c->app, c->stream_name,
	         c->cluster_peer ? " node=" : "", c->cluster_peer ? c->cluster_name : "");
	if (c->state == RC_PLAYING)
		fanout_viewer_start(&s->fanout, &c->viewer, &c->io, WIRE_RTMP,
		                    &rtmp_viewer_ops, c, &c->base.bytes_out);
}

void rtmp_conn_leave(struct rtmp_conn *c)
{
	struct node *n = c->node;
	if (c->pub) {
		log_info("publish_stop", "client=%llu peer=%s app=%s stream=%s bytes_in=%llu",
		         (unsigned long long)c->base.id, c->base.peer, c->app, c->stream_name,
		         (unsigned long long)c->pub->bytes_in);
		struct stream *s = c->pub;
		c->pub = NULL;
		stream_unpublish(&n->streams, s);
		stream_unref(s);
	}
	if (c->counts_as_publisher) {
		c->counts_as_publisher = 0;
		node_publisher_end(n, c->ipkey);
	}
	if (c->play) {
		if (c->cluster_peer && c->play->cluster_viewers)
			c->play->cluster_viewers--;
		fanout_viewer_stop(&c->viewer);
		stream_unref(c->play);
		c->play = NULL;
	}
	if (c->state == RC_PUBLISHING || c->state == RC_PLAYING)
		rtmp_conn_set_state(c, RC_READY);
}

/* A command from another node on its link (cluster.h); 1 if it was one. */
static int on_cluster_command(struct rtmp_conn *c, const struct rtmp_command *cmd)
{
	int r = cluster_peer_command(&c->node->cluster, c, cmd);
	if (r == CLUSTER_CMD_CONTROL)
		c->cluster_control = 1; /* its membership/event link: held to upstream-timeout */
	return r != 0;
}

static int on_command(struct rtmp_conn *c, const struct rtmp_msg *msg)
{
	struct rtmp_command cmd;
	int rc = rtmp_command_decode(msg->type, msg->body->data, msg->body->len, &command_limits,
	                             &cmd);
	if (rc < 0)
		return rc;
	const char *name = cmd.name;
	const struct node_config *cfg = c->node->cfg;
	/* A peer looping play/closeStream would start a pull (or a viewer) per command. Nodes
	 * of the cluster proved the secret; their control links carry events as commands. */
	if (cfg->rtmp_command_rate && !c->cluster_peer &&
	    !token_bucket_take(&c->commands, uv_now(c->node->loop), (uint32_t)cfg->rtmp_command_rate,
	                       (uint32_t)cfg->rtmp_command_burst)) {
		char esc[64];
		c->node->stats.command_rate_closes++;
		log_warn("rtmp_command_rate", "client=%llu peer=%s command=%s rate=%lld burst=%lld "
		         "reason=\"commands faster than rtmp-command-rate\"",
		         (unsigned long long)c->base.id, c->base.peer, log_escape(name, esc, sizeof(esc)),
		         (long long)cfg->rtmp_command_rate, (long long)cfg->rtmp_command_burst);
		rtmp_command_free(&cmd);
		rtmp_conn_close(c, "command rate exceeded");
		return 0;
	}
	if (c->state == RC_CONNECTING && strcmp(name, "connect") != 0) {
		rtmp_command_free(&cmd);
		return SL_EPROTO; /* everything else needs a connection first */
	}
	if (strcmp(name, "connect") == 0) {
		rc = on_connect(c, &cmd);
	} else if (strcmp(name, "clusterAuth") == 0) {
		on_cluster_auth(c, &cmd);
	} else if (c->cluster_peer && on_cluster_command(c, &cmd)) {
		/* membership and events from another node */
	} else if (strcmp(name, "createStream") == 0) {
		on_create_stream(c, &cmd);
	} else if (strcmp(name, "publish") == 0) {
		on_publish(c, &cmd, msg->msid);
	} else if (strcmp(name, "play") == 0) {
		on_play(c, &cmd, msg->msid);
	} else if (strcmp(name, "deleteStream") == 0 || strcmp(name, "closeStream") == 0 ||
	           strcmp(name, "FCUnpublish") == 0) {
		rtmp_conn_leave(c);
		send_result(c, cmd.txid);
	} else if (strcmp(name, "releaseStream") == 0 || strcmp(name, "FCPublish") == 0 ||
	           strcmp(name, "_checkbw") == 0) {
		send_result(c, cmd.txid);
	} else if (strcmp(name, "getStreamLength") == 0) {
		struct bytes b, amf;
		bytes_init(&b);
		bytes_init(&amf);
		amf0_put_string(&amf, "_result");
		amf0_put_number(&amf, cmd.txid);
		amf0_put_null(&amf);
		amf0_put_number(&amf, 0);
		rtmp_put_command(&b, media_rtmp_chunk_size(), 0, &amf);
		bytes_free(&amf);
		rtmp_conn_send(c, &b);
	} else if (strcmp(name, "FCSubscribe") == 0 || strcmp(name, "receiveAudio") == 0 ||
	           strcmp(name, "receiveVideo") == 0 || strcmp(name, "_result") == 0 ||
	           strcmp(name, "_error") == 0 || strcmp(name, "onBWDone") == 0 ||
	           strcmp(name, "pause") == 0 || strcmp(name, "seek") == 0) {
		/* Nothing to do for a live stream. */
	} else {
		log_once(c, IGN_UNKNOWN_COMMAND, "unknown command", (int)strlen(name));
	}
	rtmp_command_free(&cmd);
	return rc;
}

static int on_user_control(struct rtmp_conn *c, const struct rtmp_msg *msg)
{
	uint16_t event;
	uint32_t value;
	if (rtmp_parse_user_control(msg->body->data, msg->body->len, &event, &value) < 0)
		return SL_EPROTO;
	if (event == RTMP_UC_PING_REQUEST) {
		struct bytes b;
		bytes_init(&b);
		rtmp_put_ping(&b, RTMP_UC_PING_RESPONSE, value);
		rtmp_conn_send(c, &b);
	}
	return 0;
}

int rtmp_conn_dispatch(struct rtmp_conn *c, struct rtmp_msg *msg)
{
	int rc = 0;
	switch (msg->type) {
	case RTMP_MSG_SET_CHUNK_SIZE:
	case RTMP_MSG_ABORT:
	case RTMP_MSG_ACK:
	case RTMP_MSG_SET_PEER_BW:
		break; /* the reader applied what matters */
	case RTMP_MSG_WINDOW_ACK_SIZE:
		if (msg->body->len >= 4)
			c->peer_window = rd_u32be(msg->body->data);
		break;
	case RTMP_MSG_USER_CONTROL:
		rc = on_user_control(c, msg);
		break;
	case RTMP_MSG_COMMAND_AMF0:
	case RTMP_MSG_COMMAND_AMF3:
		rc = on_command(c, msg);
		break;
	case RTMP_MSG_AUDIO:
	case RTMP_MSG_VIDEO:
	case RTMP_MSG_DATA_AMF0:
	case RTMP_MSG_DATA_AMF3:
		if (c->state == RC_PUBLISHING && c->pub) {
			uint8_t type = msg->type == RTMP_MSG_DATA_AMF3 ? RTMP_MSG_DATA_AMF0 : msg->type;
			struct rbuf *body = msg->body;
			msg->body = NULL;
			if (msg->type == RTMP_MSG_DATA_AMF3) {
				/* AMF3 data as Flash sends it: a 0 byte, then AMF0. */
				struct rbuf *b = rbuf_from(body->len ? body->data + 1 : body->data,
				                           body->len ? body->len - 1 : 0);
				rbuf_unref(body);
				body = b;
			}
			c->last_media_ms = uv_now(c->node->loop);
			stream_media(c->pub, type, msg->ts, body);
		} else if (msg->type != RTMP_MSG_DATA_AMF0 && msg->type != RTMP_MSG_DATA_AMF3) {
			log_once(c, IGN_MEDIA_NOT_PUBLISHING, "media from a connection not publishing",
			         msg->type);
		}
		break;
	default:
		log_once(c, IGN_UNKNOWN_TYPE, "message type not handled", msg->type);
		break;
	}
	rbuf_unref(msg->body);
	msg->body = NULL;
	return rc;
}
