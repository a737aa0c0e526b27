/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cloud_op.h - one cloud API call of a controller (aws, gcp, kubernetes)
 * from start to its end: started on the next loop turn, tried again with a
 * doubling, jittered backoff, parked while credentials are fetched, and
 * ended by telling the manager (launched, listed, or an event), so each
 * controller keeps only what its cloud says and how it signs.
 *
 * A controller embeds a struct cloud_ops (its calls) and gives it a const
 * struct cloud_api (its names and its send); it makes a call with
 * cloud_op_new + cloud_op_start.  Its send either starts the HTTP request
 * (its answer ends with cloud_op_done, cloud_op_retry or cloud_op_fail) or
 * parks the call with cloud_op_wait until cloud_ops_creds_done.
 *
 * A list may take several pages: cloud_op_page gathers each page's
 * instances and asks the next (up to CLOUD_LIST_PAGES_MAX) or ends it.
 */
#ifndef SLUICE_MANAGER_CLOUD_OP_H
#define SLUICE_MANAGER_CLOUD_OP_H

#include <stddef.h>
#include <uv.h>

#include "core/list.h"
#include "manager/controller.h"

#define CLOUD_BACKOFF_MS 500          /* the first retry's wait; doubles */
#define CLOUD_BACKOFF_MAX_MS 20000    /* the longest wait between two tries */
#define CLOUD_LIST_PAGES_MAX 20       /* pages one list follows; past it the list fails */
#define CLOUD_OP_URL_MAX 2048

enum cloud_op_kind { CLOUD_LAUNCH, CLOUD_TERMINATE, CLOUD_LIST };

struct cloud_op;

struct cloud_api {
	const char *what;           /* the cloud in messages: "EC2", "Compute Engine" */
	const char *log_failed;     /* the log events: "aws_call_failed" */
	const char *log_abandoned;  /* "aws_call_abandoned" */
	const char *kind_names[3];  /* by enum cloud_op_kind: "RunInstances", ... */
	/* Sends (again) the call: starts its HTTP request, or parks it (cloud_op_wait), or
	 * ends it (cloud_op_fail). */
	void (*send)(struct cloud_op *op);
};

/* A controller's calls: in flight or waiting for a retry, and waiting for credentials. */
struct cloud_ops {
	struct controller *c;
	uv_loop_t *loop;
	const struct cloud_api *api;
	unsigned retries;           /* tries after the first */
	int fetching;               /* credentials are being fetched */
	struct list_node ops, waiting;
};

struct cloud_op {
	struct list_node link;
	struct cloud_ops *set;
	enum cloud_op_kind kind;
	char id[80];                /* the node; "" for a list */
	char url[CLOUD_OP_URL_MAX]; /* the call's URL where the cloud has one per call */
	char *body;                 /* owned; freed with the op */
	unsigned attempt;           /* tries made before this one */
	int rtmp_port, http_port;   /* a launch's, for its node_place */
	/* A list's pages so far. */
	struct ctl_instance *found;
	size_t nfound;
	unsigned pages;
	uv_timer_t timer;
	int timer_used;
};

void cloud_ops_init(struct cloud_ops *s, struct controller *c, uv_loop_t *loop,
                    const struct cloud_api *api, unsigned retries);
/* Ends every call (logged as abandoned: the manager is stopping); no callbacks. */
void cloud_ops_close(struct cloud_ops *s);
int cloud_ops_busy(const struct cloud_ops *s);

/* A new call (id may be NULL), kept in s until it ends. */
struct cloud_op *cloud_op_new(struct cloud_ops *s, enum cloud_op_kind kind, const char *id);
/* Sends it on the next loop turn: its end never comes inside the call that made it. */
void cloud_op_start(struct cloud_op *op);

/* Parks op until credentials come; 1 if the caller must start fetching them (none is
 * in flight: it now is), 0 if a fetch is already under way. */
int cloud_op_wait(struct cloud_op *op);
/* Credentials came (err NULL: send the parked calls again) or not (err: they fail). */
void cloud_ops_creds_done(struct cloud_ops *s, const char *err);

/* A failed try: schedules the next one with a backoff and an event saying why (1), or 0
 * when the tries are spent (the caller then fails it). */
int cloud_op_retry(struct cloud_op *op, const char *why);
/* Ends op with an error: a failed launch or list, or a terminate_failed event. */
void cloud_op_fail(struct cloud_op *op, const char *msg);
/* Ends a launch that worked: place (host may be "") gets op's ports and instance. */
void cloud_op_launched(struct cloud_op *op, struct node_place *place);
/* Ends a call with nothing more to say (a terminate that worked). */
void cloud_op_done(struct cloud_op *op);

/* Sets a list call's URL or body for the page after token. */
typedef void (*cloud_page_fn)(struct cloud_op *op, const char *token);

/* A list's page was read: n instances in v (malloc'd, taken; n < 0: the answer was not
 * what names, and the list fails), next the token of the page after ("" on the last).
 * The list ends with every instance its pages named, or asks the next page (set_next sets
 * it; op is sent again with a fresh set of tries); past CLOUD_LIST_PAGES_MAX pages it
 * fails, since a list cut short would make nodes look gone. */
void cloud_op_page(struct cloud_op *op, int n, struct ctl_instance *v, const char *next,
                   const char *what, cloud_page_fn set_next);

/* A cloud's words, made safe for a log line in place: controls, '"' and '\\' become '?'. */
void cloud_safe_text(char *s);

#endif
