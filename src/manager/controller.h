/*
 * controller.h - how the manager gets machines: one small interface that
 * launches a node, stops it, and says whether it still runs.  `local` runs
 * `sluice node` processes on this machine; an operator-script, AWS, GCP or
 * Kubernetes controller implements the same three calls.
 */
#ifndef SLUICE_MANAGER_CONTROLLER_H
#define SLUICE_MANAGER_CONTROLLER_H

#include <stddef.h>
#include <uv.h>

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
};

/* Where it runs. */
struct node_place {
	char host[64];
	int rtmp_port, http_port;
	int srt_port;                  /* 0: the node has no SRT listener */
	int pid;                    /* local controller; 0 elsewhere */
};

struct controller;

struct controller_ops {
	const char *name;           /* shown by the API ("local") */
	int (*launch)(struct controller *c, const struct node_spec *spec, struct node_place *out,
	              char *err, size_t err_size);
	/* Stops a node it launched (graceful unless force); 0, or SL_ENOTFOUND if not running. */
	int (*terminate)(struct controller *c, const char *id, const struct node_place *p,
	                 int force);
	/* 1 if the node it launched still runs (after a manager restart too), else 0. */
	int (*running)(struct controller *c, const char *id, const struct node_place *p);
	void (*close)(struct controller *c);
};

struct controller {
	const struct controller_ops *ops;
};

struct local_controller_config {
	const char *exe;            /* the sluice binary (this process's own) */
	const char *addr_base;      /* "127.0.1": nodes get 127.0.1.2, .3, ... */
	const char *manager_url;    /* what nodes register with */
	const char *cluster_secret;
	const char *dir;            /* node config files and logs */
	const char *log_level;
};

struct controller *controller_local_new(uv_loop_t *loop, const struct local_controller_config *cfg,
                                        char *err, size_t err_size);

#endif
