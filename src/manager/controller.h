/* SPDX-License-Identifier: Apache-2.0 */
/*
 * controller.h - how the manager gets machines: one small asynchronous
 * interface that launches a node, stops it, says whether it still runs, and
 * lists what exists.  `local` runs `sluice node` processes on this machine;
 * `exec` runs operator scripts (controller_exec.c); cloud controllers
 * implement the same calls.
 *
 * Nothing here blocks the manager's loop: a launch or a list starts and its
 * result arrives later through the callbacks in struct controller (set by
 * the manager before the first call).  Like libuv, a call that returns an
 * error never calls its callback, and a callback never runs from inside the
 * call that started it.
 */
#ifndef SLUICE_MANAGER_CONTROLLER_H
#define SLUICE_MANAGER_CONTROLLER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core/list.h"
#include "core/strmap.h"

/* What to launch. */
struct node_spec {
	const char *id;             /* also the node's name */
	const char *group;
	const char *role;           /* origin, edge, relay */
	const char *region;
	const char *origins;        /* edges and relays: "host:port,..."; may be NULL */
	const char *prefer_host;    /* a replacement takes its dead node's address if free */
	const char *const *hosts_in_use; /* addresses other nodes already have */
	size_t nhosts_in_use;
	/* From the group's launch configuration (checked by check_properties when it was
	 * stored); any may be NULL. */
	const char *image, *instance_type;
	const json_t *properties;
	/* One-time token the node trades for the cluster secret at boot (node_bootstrap.h):
	 * what a cloud's user data carries instead of the secret. */
	const char *bootstrap_token;
};

#define CTL_INSTANCE_MAX 128

/* Where it runs. */
struct node_place {
	char host[64];              /* "" until known (a cloud node says at registration) */
	int rtmp_port, http_port;
	int srt_port;                  /* 0: the node has no SRT listener */
	int rtsp_port;                 /* 0: the node has no RTSP listener */
	int rtmps_port, https_port;    /* 0: the node has no such TLS listener */
	int pid;                    /* local controller; 0 elsewhere */
	char instance[CTL_INSTANCE_MAX]; /* the controller's handle (script's or cloud's id) */
};

/* An instance a controller's list found (marked as sluice's by it). */
struct ctl_instance {
	char id[80];                /* the node id it was launched as */
	char instance[CTL_INSTANCE_MAX];
	char host[64];
};

struct controller;

/* A launch ended: rc 0 with place (host may be ""), or a negative SL_E* with err, the
 * cloud's or script's own message. */
typedef void (*ctl_launched_fn)(struct controller *c, const char *id, int rc,
                                const struct node_place *place, const char *err);
/* A list ended: rc 0 with the instances, or negative with err. */
typedef void (*ctl_listed_fn)(struct controller *c, int rc, const struct ctl_instance *v,
                              size_t n, const char *err);
/* Something the operator should see in the event log (a terminate that failed, retries). */
typedef void (*ctl_event_fn)(struct controller *c, const char *kind, const char *node,
                             const char *msg);

struct controller_ops {
	const char *name;           /* shown by the API ("local") */
	/* Checks a launch configuration's properties for this controller: 0, or SL_EINVAL
	 * with err naming the property and what it may be.  props may be NULL. */
	int (*check_properties)(const json_t *props, char *err, size_t err_size);
	/* Starts a launch: 0 (c->launched follows) or negative with err (no callback).  What
	 * is known at once goes in *now (local: everything; a cloud: nothing yet). */
	int (*launch)(struct controller *c, const struct node_spec *spec, struct node_place *now,
	              char *err, size_t err_size);
	/* Starts stopping a node it launched (graceful unless force); 0, or SL_ENOTFOUND if
	 * there is nothing to stop.  Failures after the start are reported with c->event. */
	int (*terminate)(struct controller *c, const char *id, const struct node_place *p,
	                 int force);
	/* 1 if the node still runs or may (a launch in flight, no list yet), 0 if it is gone;
	 * answered from what the controller already knows, never blocking. */
	int (*running)(struct controller *c, const char *id, const struct node_place *p);
	/* Starts a list (c->listed follows); NULL where running() needs none (local). */
	int (*list)(struct controller *c, char *err, size_t err_size);
	/* 1 while calls are in flight or waiting to be tried again (the manager waits for them
	 * before closing, so terminations at stop are made); NULL: never. */
	int (*busy)(struct controller *c);
	void (*close)(struct controller *c);
};

struct controller {
	const struct controller_ops *ops;
	void *owner;                /* the manager */
	ctl_launched_fn launched;
	ctl_listed_fn listed;
	ctl_event_fn event;
	/* What the last list saw (ctl_seen_*), for controllers whose running() follows it. */
	struct strmap seen;         /* node id -> (void *)1 */
	struct strmap since;        /* node id -> uint64_t * : launched at (ms) */
	int have_list;
	uint64_t list_started_ms;
	/* ctl_report_launch's results not yet delivered (zeroed: none yet). */
	struct list_node reports;
};

/* ---- helpers every controller shares (controller.c) ---- */

/* Delivers a launch result on the next loop turn (never inside the launch call). */
void ctl_report_launch(struct controller *c, uv_loop_t *loop, const char *id, int rc,
                       const struct node_place *place, const char *err);
/* Drops the results not yet delivered (no callback): a controller's close calls it before
 * it frees itself, so no armed timer is left pointing at it. */
void ctl_reports_drop(struct controller *c);
void ctl_seen_init(struct controller *c);
void ctl_seen_free(struct controller *c);
/* A launch started: running() says 1 while it is in flight... */
void ctl_seen_launching(struct controller *c, const char *id);
/* ...and, once it ended, until a list started later says otherwise. */
void ctl_seen_launched(struct controller *c, const char *id);
void ctl_seen_forget(struct controller *c, const char *id);
void ctl_seen_list_started(struct controller *c);
/* A list ended: replaces what was seen. */
void ctl_seen_update(struct controller *c, const struct ctl_instance *v, size_t n);
/* running() from what lists said (1 before any list). */
int ctl_seen_running(struct controller *c, const char *id);
/* The same as a controller_ops.running, for the controllers whose lists answer it. */
int ctl_list_running(struct controller *c, const char *id, const struct node_place *p);

/* Properties: an optional integer in [lo, hi] (numbers as strings too, as the reference
 * documents write them); 0 with *out (def if absent), or SL_EINVAL with err. */
int ctl_prop_int(const json_t *props, const char *key, long long lo, long long hi,
                 long long def, long long *out, char *err, size_t err_size);
/* An optional string of at most max bytes of [A-Za-z0-9._/:@+=,-] (no shell or JSON
 * metacharacters); 0 with *out (def if absent), or SL_EINVAL with err. */
int ctl_prop_str(const json_t *props, const char *key, size_t max, const char *def,
                 const char **out, char *err, size_t err_size);
/* SL_EINVAL with err naming the first property not in allowed (NULL-terminated). */
int ctl_prop_only(const json_t *props, const char *const *allowed, char *err,
                  size_t err_size);

/* A cloud node's boot script (user data, startup-script): trades spec->bootstrap_token for
 * the cluster secret at the manager (node_bootstrap.h, with curl and openssl), writes the
 * node's config and runs `sluice node`, bound to the address ip_cmd prints (a shell
 * command; SLUICE_NODE_IP overrides it).  malloc'd. */
char *ctl_boot_script(const struct node_spec *spec, const char *who, const char *manager_url,
                      int rtmp_port, int http_port, const char *ip_cmd);

/* ---- the controllers ---- */

struct local_controller_config {
	const char *exe;            /* the sluice binary (this process's own) */
	const char *addr_base;      /* "127.0.1": nodes get 127.0.1.2, .3, ... */
	const char *manager_url;    /* what nodes register with */
	const char *cluster_secret;
	const char *dir;            /* node config files and logs */
	const char *log_level;
	const char *manager_ca_file; /* an https:// manager_url: what nodes verify it with */
};

struct controller *controller_local_new(uv_loop_t *loop, const struct local_controller_config *cfg,
                                        char *err, size_t err_size);
/* The local controller's property check (rtmpPort, httpPort). */
int controller_local_check(const json_t *props, char *err, size_t err_size);

struct exec_controller_config {
	const char *dir;            /* holds the executables launch, terminate, list */
	const char *manager_url;
	const char *cluster_secret;
	uint64_t timeout_ms;        /* a script still running after this is killed */
	unsigned retries;           /* a failed terminate is tried again this many times */
};

struct controller *controller_exec_new(uv_loop_t *loop, const struct exec_controller_config *cfg,
                                       char *err, size_t err_size);
int controller_exec_check(const json_t *props, char *err, size_t err_size);

struct aws_controller_config {
	const char *region;         /* us-east-1 */
	const char *endpoint;       /* https://ec2.REGION.amazonaws.com/ unless set (a mock) */
	const char *imds_endpoint;  /* http://169.254.169.254 */
	const char *cluster_tag;    /* the sluice:cluster tag's value: this manager's instances */
	const char *manager_url;
	const char *cluster_secret;
	uint64_t timeout_ms;        /* one API call */
	unsigned retries;           /* throttled / capacity / 5xx answers tried again */
};

struct controller *controller_aws_new(uv_loop_t *loop, const struct aws_controller_config *cfg,
                                      char *err, size_t err_size);
int controller_aws_check(const json_t *props, char *err, size_t err_size);

struct gcp_controller_config {
	const char *project, *zone;
	const char *credentials_file; /* a service-account JSON key; NULL: the metadata server */
	const char *endpoint;       /* https://compute.googleapis.com/compute/v1 */
	const char *token_uri;      /* overrides the key's token_uri (a mock), or NULL */
	const char *metadata_url;   /* http://metadata.google.internal */
	const char *cluster_label;  /* the sluice-cluster label's value on our instances */
	const char *manager_url;
	const char *cluster_secret;
	uint64_t timeout_ms;
	unsigned retries;
};

struct controller *controller_gcp_new(uv_loop_t *loop, const struct gcp_controller_config *cfg,
                                      char *err, size_t err_size);
int controller_gcp_check(const json_t *props, char *err, size_t err_size);

struct k8s_controller_config {
	const char *api;            /* https://HOST:PORT of the API server */
	const char *namespace_;
	const char *token_file;     /* the bearer token (re-read: kubelet rotates it) */
	const char *ca_file;        /* the cluster's CA; NULL: the system's */
	const char *cluster_label;  /* the sluice/cluster label's value on our pods */
	const char *secret_name;    /* the Secret holding cluster-secret (never in the pod spec) */
	const char *manager_url;
	uint64_t timeout_ms;
	unsigned retries;
};

struct controller *controller_k8s_new(uv_loop_t *loop, const struct k8s_controller_config *cfg,
                                      char *err, size_t err_size);
int controller_k8s_check(const json_t *props, char *err, size_t err_size);

#endif
