/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manager.h - `sluice manager`: the state it holds in memory (written
 * through to the store), and the operations the API, the registry and the
 * autoscaler share.  One libuv loop; nothing blocks but short SQLite writes.
 */
#ifndef SLUICE_MANAGER_MANAGER_H
#define SLUICE_MANAGER_MANAGER_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "core/conn.h"
#include "core/http_server.h"
#include "core/options.h"
#include "core/list.h"
#include "core/strmap.h"
#include "manager/autoscaler.h"
#include "manager/console.h"
#include "manager/controller.h"
#include "manager/ha.h"
#include "manager/model.h"
#include "manager/name_hold.h"
#include "proto/node_sign.h"
#include "manager/routing.h"
#include "manager/store.h"

struct manager_config {
	char *config;
	char *listen;
	char *node_listen;
	char *db;
	char *admin_token;
	char *cluster_secret;
	char *controller;
	char *advertise_url;
	char *local_addr_base;
	char *node_dir;
	char *node_log_level;
	int stop_nodes_on_exit;
	int public_routing;
	uint64_t dead_after;
	uint64_t launch_timeout;
	uint64_t drain_timeout;
	uint64_t probe_timeout;
	int64_t max_connections, node_max_connections;
	int64_t max_connections_per_ip, conn_rate_per_ip, conn_burst_per_ip;
	int64_t route_reservations_per_ip;
	char *log_level;
	uint64_t console_session_ttl, console_sample_interval;  /* console.c */
	int64_t console_max_sessions;
	/* several managers on one PostgreSQL (ha.h, docs/operations.md) */
	char *name;
	char *db_password_file;
	uint64_t db_timeout;
	uint64_t lease;
	uint64_t sync_interval;
	/* controllers other than local (manager_ctl.c) */
	char *exec_dir;
	uint64_t exec_timeout;
	int64_t controller_retries;
	uint64_t reconcile_interval;
	char *aws_region, *aws_endpoint, *aws_imds_endpoint, *aws_cluster_tag;
	uint64_t aws_timeout;
	char *k8s_api, *k8s_namespace, *k8s_token_file, *k8s_ca_file, *k8s_cluster_label,
	     *k8s_secret;
	char *gcp_project, *gcp_zone, *gcp_credentials_file, *gcp_endpoint, *gcp_token_uri,
	     *gcp_metadata_url, *gcp_cluster_label;
	char *tls_cert, *tls_key;        /* NULL: plain HTTP */
	char *tls_client_ca_file;        /* NULL: no client certificates asked for */
};

extern const struct option_def manager_options[];

struct mgroup {
	struct node_group g;
	struct scale_state st[MROLE_COUNT];
	uint64_t last_out_ms[MROLE_COUNT], last_in_ms[MROLE_COUNT];
	char last_hold[MROLE_COUNT][256];  /* the last hold logged, so each is logged once */
	uint64_t launch_failures;      /* launches the controller answered with an error */
	/* After a failed launch the autoscaler launches no more of the role until then
	 * (LAUNCH_FAIL_HOLD_MS, doubling with each failure in a row): a cloud out of capacity
	 * or refusing our credentials is not asked four times a second. */
	uint64_t launch_hold_until_ms[MROLE_COUNT];
	unsigned launch_fail_streak[MROLE_COUNT];
};

struct mnode {
	struct list_node link;
	char id[MGR_NAME_MAX + 1];
	char group[MGR_NAME_MAX + 1];
	enum mrole role;
	enum node_state state;
	char region[MGR_REGION_MAX + 1];
	struct node_place place;
	int managed;                   /* launched by our controller */
	char origins[512];             /* what an edge was started with */
	uint64_t launched_ms;          /* wall clock */
	uint64_t last_seen_ms;         /* last register or heartbeat */
	uint64_t state_since_ms;
	char nonce[NODE_KEY_NONCE_HEX]; /* this registration's (kept in the store), or "" */
	char key[NODE_SIGN_HEX];       /* its key: heartbeats are signed with it; "" until registered */
	uint64_t last_seq;             /* newest heartbeat sequence number accepted (replay guard) */
	uint64_t probe_ok_ms;          /* heartbeats late, but /healthz answered then (0: not now) */
	int probing;                   /* a /healthz probe is in flight */
	struct route_pending pending;  /* clients routed here, not yet seen in a report */
	struct node_report rep;        /* latest stats */
	int hot_dirty;                 /* heartbeat not yet shared with other managers (sync.c) */
	char *hot_body;                /* that heartbeat's body, or NULL */
	/* One-time bootstrap token while launching (node_bootstrap.h); memory only, "" once
	 * spent.  65 = BOOTSTRAP_TOKEN_HEX. */
	char boot_token[65];
};

#define MGR_EVENTS_RING 256

struct manager {
	uv_loop_t *loop;
	struct manager_config *cfg;
	char listen_host[64];
	int listen_port;
	char node_host[64];            /* the node listener (signed node calls only) */
	int node_port;
	char advertise[256];
	struct store *store;
	struct controller *ctl;
	struct conn_table conns;       /* the API's connections */
	struct conn_table node_conns;  /* the node listener's: anonymous API clients cannot fill it */
	struct http_server *http, *node_http;
	struct tls_server *tls, *node_tls; /* HTTPS (tls-cert); NULL: plain HTTP */
	char tls_cert_path[4096];      /* tls-cert made absolute, for the nodes it launches */
	struct strmap lcs;             /* name -> struct launch_config * */
	struct strmap sps;             /* name -> struct scale_policy * */
	struct strmap groups;          /* name -> struct mgroup * */
	struct list_node nodes;        /* struct mnode */
	unsigned nnodes;
	struct strmap node_index;      /* id -> struct mnode * (the same nodes, found in O(1)) */
	struct strmap hb_views;        /* group -> what its heartbeat answers say (hb_view.c) */
	uint64_t hb_views_ms;          /* when they were built (monotonic; 0: never) */
	uv_timer_t tick;
	uv_signal_t sig_term, sig_int;
	uint64_t started_ms;
	int stopping;
	/* register replays: signatures of registrations accepted lately */
	char recent_sigs[64][NODE_SIGN_HEX];
	unsigned recent_next;
	/* counters shown by /api/v1/manager */
	uint64_t routes_unreserved;    /* routed without a reservation (the caller held its share) */
	uint64_t probes, probes_healthy, probes_failed;
	uint64_t node_calls_refused;   /* register/heartbeat answered 400, 401 or 409 */
	struct console *console;       /* the web console (console.c); NULL when stopped */
	/* several managers (ha.h) */
	char name[128];                /* in the leader lease */
	char holder[160];              /* name#random: this process in the lease (names may repeat) */
	char api_url[160];             /* where the leader's API is, for the others to say */
	struct mgr_leader leader;
	struct mgr_sync sync;
	/* compatibility surfaces (api_red5.c, api_red5_sm2.c, api_antmedia.c) */
	int64_t red5_alarm[MROLE_COUNT]; /* Red5's default scale-out alarm for later groups; 0: none */
	int red5_alarm_loaded;         /* red5_alarm read from the store */
	struct name_hold holds;        /* broadcast names held on an origin (name_hold.h) */
	uint64_t routes_overloaded;    /* nodes skipped by routing: above their CPU or memory limit */
	uint64_t sm2_refused;          /* /as/v1 logins and tokens refused (api_red5_sm2.c) */
};

/* manager.c */
int manager_main(int argc, char **argv);
/* Records an event (log line, store) with a reason. */
void mgr_event(struct manager *m, const char *kind, const char *group, const char *node,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* groups.c: objects, nodes and their lifecycle */
struct mnode *mgr_node_find(struct manager *m, const char *id);
/* Puts a node in the list and the index by id / takes it out of both (not freed). */
void mgr_node_link(struct manager *m, struct mnode *nd);
void mgr_node_unlink(struct manager *m, struct mnode *nd);
struct mgroup *mgr_group_find(struct manager *m, const char *name);
void mgr_save_node(struct manager *m, struct mnode *nd);
/* The group's origins an edge or relay pulls from ("host:port,..." in launch order; dead
 * ones and `except` left out); "" when there is none. */
void mgr_group_origins(struct manager *m, const char *group, const struct mnode *except,
                       char *out, size_t n);
void mgr_save_group(struct manager *m, struct mgroup *g);
/* Launches a node of the role in the group; 0 or an error with err set. */
int mgr_launch(struct manager *m, struct mgroup *g, enum mrole role, const char *why,
               const struct mnode *replacing, char *err, size_t err_size);
/* Adds an origin (and the policy's minimum of other roles). */
int mgr_add_origin(struct manager *m, struct mgroup *g, char *err, size_t err_size);
void mgr_set_state(struct manager *m, struct mnode *nd, enum node_state s, const char *why);
/* Starts draining (routing stops sending it clients; removed when empty). */
int mgr_drain(struct manager *m, struct mnode *nd, const char *why);
/* Stops (if ours) and forgets a node. */
void mgr_remove(struct manager *m, struct mnode *nd, int force, const char *why);
/* 0, or -1 (nothing done) when this manager may not act as the leader now. */
int mgr_delete_group(struct manager *m, struct mgroup *g);
/* The capacity of a node of the role in the group (launch config), or 0. */
int64_t mgr_capacity(struct manager *m, const char *group, enum mrole role);
/* Counted against capacity: publishers + viewers reported + routed since. */
int64_t mgr_node_load(const struct mnode *nd);
/* Liveness, drains and the autoscaler: every tick. */
void mgr_lifecycle_tick(struct manager *m);
/* Loads everything from the store and re-adopts running nodes. */
int mgr_load(struct manager *m, char *err, size_t err_size);
json_t *mgr_node_json(struct manager *m, const struct mnode *nd);
/* A node's stored record into *nd (zeroed by the caller); 0, or SL_EINVAL. */
int mgr_node_parse(struct manager *m, const char *json, struct mnode *nd);

/* groups.c: the controller's answer to a launch (a ctl_launched_fn). */
void mgr_launched(struct controller *c, const char *id, int rc, const struct node_place *p,
                  const char *err);

/* bootstrap_http.c: POST /api/v1/cluster/bootstrap on the node listener */
void mgr_bootstrap_call(struct manager *m, struct http_conn *c, const uint8_t *body,
                        size_t len);

/* manager_ctl.c: builds the controller named by --controller, its callbacks set; NULL with
 * err.  exe is this binary (the local controller runs it). */
struct controller *mgr_controller_new(struct manager *m, const char *exe, char *err,
                                      size_t err_size);
/* Closes it (the nodes keep running). */
void mgr_controller_close(struct manager *m);
/* At stop: closes it once its calls in flight are answered (at most CTL_STOP_WAIT_MS). */
void mgr_controller_stop(struct manager *m);
/* Every tick: lists the controller's instances every reconcile-interval and compares them
 * with the nodes the store knows. */
void mgr_reconcile_tick(struct manager *m);

/* probe.c: asks a node whose heartbeats are late for /healthz; calls back with 1 (it
 * answered, 200 or 503) or 0 (no answer within probe-timeout). */
int mgr_probe_start(struct manager *m, const char *node_id, const char *host, int http_port,
                    void (*done)(struct manager *m, const char *node_id, int healthy,
                                 const char *detail));

/* registry.c: signed node calls */
void mgr_node_set_nonce(struct manager *m, struct mnode *nd, const char *nonce);
void mgr_node_call(struct manager *m, struct http_conn *c, const struct http_request *req,
                   const uint8_t *body, size_t body_len, int is_register);

/* api.c */
void mgr_http_handle(void *ctx, struct http_conn *c, const struct http_request *req,
                     const uint8_t *body, size_t body_len);
/* The node listener: /healthz and the two signed node calls, nothing else. */
void mgr_node_http_handle(void *ctx, struct http_conn *c, const struct http_request *req,
                          const uint8_t *body, size_t body_len);
/* api_red5.c: Red5 Pro Stream Manager paths; returns 1 if it answered */
int mgr_red5_handle(struct manager *m, struct http_conn *c, const struct http_request *req,
                    const uint8_t *body, size_t body_len);
/* Routes a client: 0 with the node, or an HTTP status with reason.  caller is the
 * client's address ("ip:port"): it holds at most route-reservations-per-ip reservations. */
int mgr_route(struct manager *m, const char *app, const char *stream, enum route_action a,
              const char *region, const char *group, const char *caller, struct mnode **out,
              char *reason, size_t reason_size);
/* mgr_route with options: strict_region keeps to nodes of that region only; hold sends
 * a broadcast for a name to the origin it was sent to last, for NAME_HOLD_MS. */
struct route_opts {
	int strict_region;
	int hold;
};
int mgr_route_opts(struct manager *m, const char *app, const char *stream, enum route_action a,
                   const char *region, const char *group, const char *caller,
                   const struct route_opts *o, struct mnode **out, char *reason,
                   size_t reason_size);
/* 1 when app is one or more '/'-separated levels, each a valid stream name (Red5 scopes
 * such as live/room1), at most STREAM_NAME_MAX characters in all. */
int mgr_scope_valid(const char *app);
/* api_red5.c: answers an error in Red5's shape {"errorMessage", "timestamp"}. */
void mgr_red5_error(struct http_conn *c, int status, const char *message);
/* api_red5.c: Red5's default scale-out alarms, applied to a group being created (one whose
 * body names no thresholds). */
void mgr_red5_apply_default_alarms(struct manager *m, struct mgroup *g);
/* api_red5_sm2.c: Red5 Pro Stream Manager 2 paths (/as/v1); 1 if it answered */
int mgr_red5_sm2_handle(struct manager *m, struct http_conn *c, const struct http_request *req,
                        const uint8_t *body, size_t body_len);
/* api_antmedia.c: Ant Media Server paths (/rest/v2); 1 if it answered */
int mgr_antmedia_handle(struct manager *m, struct http_conn *c, const struct http_request *req);
/* Shared API helpers (api.c) */
int mgr_authorized(struct manager *m, const struct http_request *req);
/* The routing call's choice (with its reservation and name hold), or NULL when it answered
 * the refusal (404, 503) itself. */
struct mnode *mgr_route_or_refuse(struct manager *m, struct http_conn *c, const char *app,
                                  const char *stream, enum route_action a, const char *region,
                                  const char *group);
/* api_webrtc.c: POST /whip|whep/APP/STREAM answered with a 307 to a node; 1 if it answered. */
int mgr_webrtc_handle(struct manager *m, struct http_conn *c, const struct http_request *req);
void mgr_respond_route(struct manager *m, struct http_conn *c, const struct mnode *nd,
                       const char *app, const char *stream, enum route_action a);
/* Launch configurations (policy 0) and scale policies (1): list, get, create, replace,
 * delete; wrap answers in the Red5 shape ({"launchconfig": ...} / {"policy": ...}). */
void mgr_config_call(struct manager *m, struct http_conn *c, int policy, const char *name,
                     enum http_method method, const uint8_t *body, size_t len, int wrap);
int mgr_create_group(struct manager *m, const char *body, size_t len, struct mgroup **out,
                     char *err, size_t err_size);

#endif
