/* SPDX-License-Identifier: Apache-2.0 */
/*
 * controller_exec.c - the `exec` controller: the operator's own scripts
 * launch, terminate and list nodes, so Terraform, Ansible or any CLI can.
 *
 * Each call runs DIR/launch, DIR/terminate or DIR/list with one JSON object
 * on stdin and reads one JSON object from stdout (docs/operations.md,
 * "Controllers", has the shapes; deploy/exec/ has scripts that start nodes
 * on this machine).  Exit status 0 is success; anything else is a failure
 * whose message is stdout's {"error": "..."} or stderr's last line.
 *
 * Scripts run with uv_spawn, never through a shell, with their output
 * bounded (EXEC_OUT_MAX) and their time bounded (exec-timeout: killed
 * after it).  Each runs in its own process group (a new session) and the
 * timeout kills the group: a child the script forked (a CLI it waits on,
 * a `sleep`) would otherwise live on and hold the output pipes open, so
 * the call would never end.  The timeout counts until the pipes close,
 * not only until the script exits.  The cluster secret a node needs goes on stdin, a pipe only
 * the script reads: never argv or the environment, which other users can
 * see.  A failed terminate is tried again with a doubling backoff, since a
 * node left running costs money; a failed launch is reported at once (the
 * autoscaler decides whether to try again).
 */
#include "manager/controller.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/list.h"
#include "core/log.h"
#include "core/mem.h"

#define EXEC_OUT_MAX (256 * 1024)   /* stdout kept; more fails the call */
#define EXEC_ERR_MAX 4096           /* stderr kept (its tail) */
#define EXEC_LIST_MAX 10000         /* instances one list may name */
#define EXEC_BACKOFF_MS 1000        /* the first retry's wait; doubles */

enum exec_kind { EK_LAUNCH, EK_TERMINATE, EK_LIST };
static const char *const kind_names[] = { "launch", "terminate", "list" };

struct exec_controller {
	struct controller base;
	uv_loop_t *loop;
	struct exec_controller_config cfg;
	char dir[512];
	struct list_node calls;        /* struct exec_call in flight */
	struct list_node retries;      /* struct exec_retry waiting */
};

struct exec_call {
	struct list_node link;
	struct exec_controller *ec;    /* NULL once the controller closed */
	enum exec_kind kind;
	char id[80];
	char *input;                   /* JSON text written to stdin */
	unsigned attempt;
	uv_process_t proc;
	uv_pipe_t in, out, err;
	uv_timer_t timer;
	uv_write_t w;
	char *obuf;
	size_t olen;
	char ebuf[EXEC_ERR_MAX];
	size_t elen;
	int exited, out_eof, err_eof, timed_out, overflow;
	int64_t status;
	int term_sig;
	int open_handles;
};

struct exec_retry {
	struct list_node link;
	struct exec_controller *ec;
	uv_timer_t timer;
	char id[80];
	char *input;
	unsigned attempt;
};

static int exec_start(struct exec_controller *ec, enum exec_kind kind, const char *id,
                      char *input, unsigned attempt, char *err, size_t err_size);

/* ---- one script run ---- */

static void call_free(struct exec_call *x)
{
	free(x->input);
	free(x->obuf);
	free(x);
}

static void handle_closed(uv_handle_t *h)
{
	struct exec_call *x = h->data;
	if (--x->open_handles == 0)
		call_free(x);
}

static void call_close(struct exec_call *x)
{
	list_del(&x->link);
	uv_handle_t *hs[] = { (uv_handle_t *)&x->in, (uv_handle_t *)&x->out,
	                      (uv_handle_t *)&x->err, (uv_handle_t *)&x->timer,
	                      (uv_handle_t *)&x->proc };
	/* Each handle is closed once (stdin may be already, after its write); the last
	 * close callback frees the call. */
	for (size_t i = 0; i < 5; i++)
		if (!uv_is_closing(hs[i]))
			uv_close(hs[i], handle_closed);
}

/* A message from the script for the log and the event: stdout's {"error"}, else stderr's
 * last non-empty line; control bytes and quotes replaced, bounded. */
static void script_message(struct exec_call *x, const json_t *o, char *out, size_t n)
{
	const char *msg = NULL;
	const json_t *e = o ? json_object_get(o, "error") : NULL;
	char line[512] = "";
	if (json_is_string(e)) {
		msg = json_string_value(e);
	} else {
		size_t end = x->elen;
		while (end > 0 && (x->ebuf[end - 1] == '\n' || x->ebuf[end - 1] == '\r'))
			end--;
		size_t start = end;
		while (start > 0 && x->ebuf[start - 1] != '\n')
			start--;
		size_t len = end - start < sizeof(line) - 1 ? end - start : sizeof(line) - 1;
		memcpy(line, x->ebuf + start, len);
		line[len] = '\0';
		msg = line[0] ? line : NULL;
	}
	size_t i = 0;
	for (; msg && msg[i] && i < n - 1; i++) {
		unsigned char ch = (unsigned char)msg[i];
		out[i] = (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\') ? '?' : (char)ch;
	}
	out[i] = '\0';
}

static void finish_launch(struct exec_controller *ec, struct exec_call *x, json_t *o, int ok,
                          const char *why)
{
	struct controller *c = &ec->base;
	struct node_place p;
	memset(&p, 0, sizeof(p));
	char err[600];
	const char *inst = NULL, *host = NULL;
	json_int_t rport = 0, hport = 0;
	json_error_t je;
	if (ok && (!o || json_unpack_ex(o, &je, 0, "{s:s, s?s, s?I, s?I}", "instance", &inst, "host",
	                                &host, "rtmpPort", &rport, "httpPort", &hport) < 0 ||
	           !*inst || strlen(inst) >= sizeof(p.instance) || (host && strlen(host) >= 64) ||
	           rport < 0 || rport > 65535 || hport < 0 || hport > 65535)) {
		ok = 0;
		why = "its output is not {\"instance\": \"ID\", \"host\"?, \"rtmpPort\"?, \"httpPort\"?}";
	}
	ctl_seen_launched(c, x->id);
	if (!ok) {
		snprintf(err, sizeof(err), "exec launch: %s", why);
		c->launched(c, x->id, SL_EIO, NULL, err);
		return;
	}
	snprintf(p.instance, sizeof(p.instance), "%s", inst);
	if (host)
		snprintf(p.host, sizeof(p.host), "%s", host);
	p.rtmp_port = (int)rport;
	p.http_port = (int)hport;
	log_info("exec_launched", "node=%s instance=%s host=%s", x->id, p.instance,
	         p.host[0] ? p.host : "-");
	c->launched(c, x->id, 0, &p, NULL);
}

static void finish_list(struct exec_controller *ec, json_t *o, int ok, const char *why)
{
	struct controller *c = &ec->base;
	const json_t *arr = o ? json_object_get(o, "instances") : NULL;
	char err[600];
	if (ok && (!json_is_array(arr) || json_array_size(arr) > EXEC_LIST_MAX)) {
		ok = 0;
		why = "its output is not {\"instances\": [{\"id\", \"instance\", \"host\"?}, ...]} "
		      "(at most 10000)";
	}
	if (!ok) {
		snprintf(err, sizeof(err), "exec list: %s", why);
		c->listed(c, SL_EIO, NULL, 0, err);
		return;
	}
	size_t n = json_array_size(arr), k = 0;
	struct ctl_instance *v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const char *id = NULL, *inst = NULL, *host = "";
		json_error_t je;
		if (json_unpack_ex(json_array_get(arr, i), &je, 0, "{s:s, s:s, s?s}", "id", &id,
		                   "instance", &inst, "host", &host) < 0 ||
		    strlen(id) >= sizeof(v[k].id) || strlen(inst) >= sizeof(v[k].instance) ||
		    strlen(host) >= sizeof(v[k].host))
			continue;  /* not one of ours in a shape we know: skipped */
		snprintf(v[k].id, sizeof(v[k].id), "%s", id);
		snprintf(v[k].instance, sizeof(v[k].instance), "%s", inst);
		snprintf(v[k].host, sizeof(v[k].host), "%s", host);
		k++;
	}
	ctl_seen_update(c, v, k);
	c->listed(c, 0, v, k, NULL);
	free(v);
}

static void retry_closed(uv_handle_t *h)
{
	struct exec_retry *r = h->data;
	free(r->input);
	free(r);
}

static void retry_fire(uv_timer_t *t)
{
	struct exec_retry *r = t->data;
	list_del(&r->link);
	char err[256];
	char *input = r->input;
	r->input = NULL;
	if (exec_start(r->ec, EK_TERMINATE, r->id, input, r->attempt, err, sizeof(err)) < 0) {
		struct controller *c = &r->ec->base;
		char msg[400];
		snprintf(msg, sizeof(msg), "exec terminate of %s could not start: %s", r->id, err);
		c->event(c, "terminate_failed", r->id, msg);
	}
	uv_close((uv_handle_t *)&r->timer, retry_closed);
}

static void finish_terminate(struct exec_controller *ec, struct exec_call *x, int ok,
                             const char *why)
{
	struct controller *c = &ec->base;
	if (ok) {
		log_info("exec_terminated", "node=%s", x->id);
		return;
	}
	char msg[700];
	if (x->attempt < ec->cfg.retries) {
		uint64_t wait = (uint64_t)EXEC_BACKOFF_MS << x->attempt;
		snprintf(msg, sizeof(msg), "exec terminate of %s failed (try %u of %u): %s; again in "
		         "%llu ms", x->id, x->attempt + 1, ec->cfg.retries + 1, why,
		         (unsigned long long)wait);
		c->event(c, "terminate_retry", x->id, msg);
		struct exec_retry *r = xcalloc(1, sizeof(*r));
		r->ec = ec;
		snprintf(r->id, sizeof(r->id), "%s", x->id);
		r->input = x->input;
		x->input = NULL;
		r->attempt = x->attempt + 1;
		uv_timer_init(ec->loop, &r->timer);
		r->timer.data = r;
		uv_timer_start(&r->timer, retry_fire, wait, 0);
		list_add_tail(&ec->retries, &r->link);
		return;
	}
	snprintf(msg, sizeof(msg), "exec terminate of %s failed after %u tries: %s (the instance "
	         "may still run: check with the list script)", x->id, x->attempt + 1, why);
	c->event(c, "terminate_failed", x->id, msg);
}

static void call_maybe_done(struct exec_call *x)
{
	if (!x->exited || !x->out_eof || !x->err_eof)
		return;
	struct exec_controller *ec = x->ec;
	if (ec) {
		char why[520] = "";
		json_t *o = NULL;
		if (x->obuf && x->olen) {
			json_error_t je;
			o = json_loadb(x->obuf, x->olen, 0, &je);
		}
		int ok = !x->timed_out && !x->overflow && x->status == 0 && x->term_sig == 0;
		char msg[480];
		script_message(x, o, msg, sizeof(msg));
		if (x->timed_out)
			snprintf(why, sizeof(why), "timed out after %llu ms (killed)",
			         (unsigned long long)ec->cfg.timeout_ms);
		else if (x->overflow)
			snprintf(why, sizeof(why), "more than %d bytes of output", EXEC_OUT_MAX);
		else if (x->term_sig)
			snprintf(why, sizeof(why), "killed by signal %d%s%s", x->term_sig,
			         msg[0] ? ": " : "", msg);
		else if (x->status != 0)
			snprintf(why, sizeof(why), "exit status %lld: %s", (long long)x->status,
			         msg[0] ? msg : "(no message)");
		else if (x->kind != EK_TERMINATE && !o)
			snprintf(why, sizeof(why), "its output is not JSON");
		if (!ok)
			log_warn("exec_failed", "script=%s node=%s error=\"%s\"", kind_names[x->kind],
			         x->id[0] ? x->id : "-", why);
		if (x->kind == EK_LAUNCH)
			finish_launch(ec, x, o, ok && o, why);
		else if (x->kind == EK_LIST)
			finish_list(ec, o, ok && o, why);
		else
			finish_terminate(ec, x, ok, why);
		json_decref(o);
	}
	call_close(x);
}

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct exec_call *x = p->data;
	x->exited = 1;
	x->status = status;
	x->term_sig = sig;
	/* The timer runs on while a child the script left holds its pipes. */
	call_maybe_done(x);
}

static void on_timeout(uv_timer_t *t)
{
	struct exec_call *x = t->data;
	x->timed_out = 1;
	/* The whole group: the script and whatever it started that did not leave it.  Its id
	 * is the script's pid, not reused while any member lives. */
	if (kill(-x->proc.pid, SIGKILL) < 0 && !x->exited)
		uv_process_kill(&x->proc, SIGKILL);
	log_warn("exec_timeout", "script=%s node=%s pgid=%d timeout_ms=%llu (killed its process "
	         "group)", kind_names[x->kind], x->id[0] ? x->id : "-", x->proc.pid,
	         (unsigned long long)x->ec->cfg.timeout_ms);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	static char scratch[65536];
	(void)suggested;
	buf->base = scratch;
	buf->len = sizeof(scratch);
}

static void read_out(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct exec_call *x = s->data;
	if (n > 0) {
		if (x->olen + (size_t)n > EXEC_OUT_MAX) {
			x->overflow = 1;
		} else {
			x->obuf = xrealloc(x->obuf, x->olen + (size_t)n + 1);
			memcpy(x->obuf + x->olen, buf->base, (size_t)n);
			x->olen += (size_t)n;
		}
		return;
	}
	if (n < 0) {
		uv_read_stop(s);
		x->out_eof = 1;
		call_maybe_done(x);
	}
}

static void read_err(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct exec_call *x = s->data;
	if (n > 0) {
		/* Keep the tail: the last line says what went wrong. */
		size_t len = (size_t)n;
		if (len >= EXEC_ERR_MAX) {
			memcpy(x->ebuf, buf->base + len - EXEC_ERR_MAX, EXEC_ERR_MAX);
			x->elen = EXEC_ERR_MAX;
		} else {
			if (x->elen + len > EXEC_ERR_MAX) {
				size_t drop = x->elen + len - EXEC_ERR_MAX;
				memmove(x->ebuf, x->ebuf + drop, x->elen - drop);
				x->elen -= drop;
			}
			memcpy(x->ebuf + x->elen, buf->base, len);
			x->elen += len;
		}
		return;
	}
	if (n < 0) {
		uv_read_stop(s);
		x->err_eof = 1;
		call_maybe_done(x);
	}
}

static void wrote_cb(uv_write_t *w, int status)
{
	(void)status;  /* a script that does not read its input fails on its own */
	struct exec_call *x = w->data;
	if (!uv_is_closing((uv_handle_t *)&x->in))
		uv_close((uv_handle_t *)&x->in, handle_closed);
}

/* Takes input (freed with the call).  0, or negative with err (no result follows). */
static int exec_start(struct exec_controller *ec, enum exec_kind kind, const char *id,
                      char *input, unsigned attempt, char *err, size_t err_size)
{
	struct exec_call *x = xcalloc(1, sizeof(*x));
	x->ec = ec;
	x->kind = kind;
	x->attempt = attempt;
	x->input = input;
	snprintf(x->id, sizeof(x->id), "%s", id ? id : "");
	char path[600];
	snprintf(path, sizeof(path), "%s/%s", ec->dir, kind_names[kind]);
	uv_pipe_init(ec->loop, &x->in, 0);
	uv_pipe_init(ec->loop, &x->out, 0);
	uv_pipe_init(ec->loop, &x->err, 0);
	uv_timer_init(ec->loop, &x->timer);
	x->in.data = x->out.data = x->err.data = x->timer.data = x->proc.data = x;
	x->open_handles = 5;
	list_add_tail(&ec->calls, &x->link);
	uv_stdio_container_t stdio[3] = {
		{ .flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&x->in },
		{ .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&x->out },
		{ .flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&x->err },
	};
	char *args[] = { path, NULL };
	uv_process_options_t opt = {
		.exit_cb = on_exit_cb, .file = path, .args = args, .stdio_count = 3, .stdio = stdio,
		.flags = UV_PROCESS_DETACHED,   /* setsid(): its own process group, killed as one */
	};
	int rc = uv_spawn(ec->loop, &x->proc, &opt);
	if (rc < 0) {
		snprintf(err, err_size, "cannot run %s: %s", path, uv_strerror(rc));
		x->ec = NULL;
		call_close(x);         /* a failed spawn's handle is closed too (libuv) */
		return SL_EIO;
	}
	uv_read_start((uv_stream_t *)&x->out, alloc_cb, read_out);
	uv_read_start((uv_stream_t *)&x->err, alloc_cb, read_err);
	uv_timer_start(&x->timer, on_timeout, ec->cfg.timeout_ms, 0);
	uv_buf_t b = uv_buf_init(x->input, (unsigned)strlen(x->input));
	x->w.data = x;
	if (uv_write(&x->w, (uv_stream_t *)&x->in, &b, 1, wrote_cb) < 0)
		uv_close((uv_handle_t *)&x->in, handle_closed);
	log_debug("exec_started", "script=%s node=%s pid=%d", kind_names[kind], x->id[0] ? x->id :
	          "-", x->proc.pid);
	return 0;
}

/* ---- the controller ---- */

static char *dump(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	size_t n = s ? strlen(s) : 0;
	char *t = xmalloc(n + 2);
	memcpy(t, s ? s : "", n);
	t[n] = '\n';
	t[n + 1] = '\0';
	free(s);
	return t;
}

int controller_exec_check(const json_t *props, char *err, size_t err_size)
{
	/* The scripts define what they take; values go to them as JSON, so any key is fine,
	 * but only plain values (a script should not have to walk nested objects). */
	if (!props)
		return 0;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)props, k, v) {
		if (json_is_object(v) || json_is_array(v)) {
			snprintf(err, err_size, "properties.%.40s: the exec controller passes strings, "
			         "numbers and booleans to its scripts, not objects or arrays", k);
			return SL_EINVAL;
		}
	}
	return 0;
}

static int exec_launch(struct controller *c, const struct node_spec *spec,
                       struct node_place *now, char *err, size_t err_size)
{
	struct exec_controller *ec = (struct exec_controller *)c;
	(void)now;
	json_t *hosts = json_array();
	for (size_t i = 0; i < spec->nhosts_in_use; i++)
		if (spec->hosts_in_use[i] && *spec->hosts_in_use[i])
			json_array_append_new(hosts, json_string(spec->hosts_in_use[i]));
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "id", spec->id,
	                      "group", spec->group, "role", spec->role, "region", spec->region,
	                      "origins", spec->origins ? spec->origins : "",
	                      "managerUrl", ec->cfg.manager_url,
	                      "clusterSecret", ec->cfg.cluster_secret, "hostsInUse", hosts);
	if (!o) {
		snprintf(err, err_size, "out of memory");
		return SL_EIO;
	}
	if (spec->image)
		json_object_set_new(o, "image", json_string(spec->image));
	if (spec->instance_type)
		json_object_set_new(o, "instanceType", json_string(spec->instance_type));
	/* For a script that boots a remote machine: the token to put in its boot data instead
	 * of the secret (POST /api/v1/cluster/bootstrap, docs/operations.md). */
	if (spec->bootstrap_token && *spec->bootstrap_token)
		json_object_set_new(o, "bootstrapToken", json_string(spec->bootstrap_token));
	if (spec->prefer_host && *spec->prefer_host)
		json_object_set_new(o, "preferHost", json_string(spec->prefer_host));
	json_object_set_new(o, "properties", spec->properties ?
	                    json_deep_copy(spec->properties) : json_object());
	int rc = exec_start(ec, EK_LAUNCH, spec->id, dump(o), 0, err, err_size);
	if (rc == 0)
		ctl_seen_launching(c, spec->id);
	return rc;
}

static int exec_terminate(struct controller *c, const char *id, const struct node_place *p,
                          int force)
{
	struct exec_controller *ec = (struct exec_controller *)c;
	if (!p->instance[0])
		return SL_ENOTFOUND;  /* its launch never answered: nothing to name */
	json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "id", id, "instance", p->instance,
	                      "host", p->host, "force", force);
	char err[256];
	int rc = exec_start(ec, EK_TERMINATE, id, dump(o), 0, err, sizeof(err));
	if (rc < 0) {
		char msg[400];
		snprintf(msg, sizeof(msg), "exec terminate of %s could not start: %s", id, err);
		c->event(c, "terminate_failed", id, msg);
		return rc;
	}
	ctl_seen_forget(c, id);
	return 0;
}

static int exec_list(struct controller *c, char *err, size_t err_size)
{
	struct exec_controller *ec = (struct exec_controller *)c;
	ctl_seen_list_started(c);
	return exec_start(ec, EK_LIST, NULL, dump(json_pack("{s:s}", "managerUrl",
	                  ec->cfg.manager_url)), 0, err, err_size);
}

static void exec_close(struct controller *c)
{
	struct exec_controller *ec = (struct exec_controller *)c;
	/* Scripts in flight run on (a launch killed half-way is worse); their answers are
	 * dropped, and the next manager's list finds what they made. */
	while (!list_empty(&ec->calls)) {
		struct exec_call *x = list_entry(ec->calls.next, struct exec_call, link);
		log_warn("exec_abandoned", "script=%s node=%s pid=%d (the manager is stopping)",
		         kind_names[x->kind], x->id[0] ? x->id : "-", x->proc.pid);
		x->ec = NULL;
		call_close(x);
	}
	while (!list_empty(&ec->retries)) {
		struct exec_retry *r = list_entry(ec->retries.next, struct exec_retry, link);
		list_del(&r->link);
		log_warn("exec_retry_dropped", "node=%s (the manager is stopping)", r->id);
		uv_close((uv_handle_t *)&r->timer, retry_closed);
	}
	ctl_seen_free(c);
	free(ec);
}

static int exec_busy(struct controller *c)
{
	struct exec_controller *ec = (struct exec_controller *)c;
	return !list_empty(&ec->calls) || !list_empty(&ec->retries);
}

static const struct controller_ops exec_ops = {
	.name = "exec",
	.check_properties = controller_exec_check,
	.launch = exec_launch,
	.terminate = exec_terminate,
	.running = ctl_list_running,
	.list = exec_list,
	.busy = exec_busy,
	.close = exec_close,
};

struct controller *controller_exec_new(uv_loop_t *loop, const struct exec_controller_config *cfg,
                                       char *err, size_t err_size)
{
	char dir[PATH_MAX];
	if (!realpath(cfg->dir, dir) || strlen(dir) >= sizeof(((struct exec_controller *)0)->dir)) {
		snprintf(err, err_size, "exec-dir %s: %s", cfg->dir, strerror(errno));
		return NULL;
	}
	for (int k = 0; k < 3; k++) {
		char path[600];
		snprintf(path, sizeof(path), "%s/%s", dir, kind_names[k]);
		if (access(path, X_OK) < 0) {
			snprintf(err, err_size, "exec-dir: %s is not an executable (%s); the exec "
			         "controller needs launch, terminate and list", path, strerror(errno));
			return NULL;
		}
	}
	struct exec_controller *ec = xcalloc(1, sizeof(*ec));
	ec->base.ops = &exec_ops;
	ec->loop = loop;
	ec->cfg = *cfg;
	snprintf(ec->dir, sizeof(ec->dir), "%s", dir);
	list_init(&ec->calls);
	list_init(&ec->retries);
	ctl_seen_init(&ec->base);
	return &ec->base;
}
