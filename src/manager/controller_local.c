/* SPDX-License-Identifier: Apache-2.0 */
/*
 * controller_local.c - the `local` controller: each node is a `sluice node`
 * process of this same binary on its own loopback address.
 *
 * A node's settings (the cluster secret among them) go in a 0600 config
 * file, never on the command line.  Processes are started detached, so they
 * outlive a manager restart; the new manager re-adopts them by PID after
 * checking /proc/PID/cmdline names the same node, so it never signals a
 * process it did not start, even when a PID was reused.
 *
 * Ports come from the launch configuration's properties (rtmpPort,
 * httpPort; defaults 1935 and 5080): every node has its own address, so
 * they may all use the same ones.  Spawning is quick and local, so the
 * launch is done at once and its result delivered on the next loop turn.
 */
#include "manager/controller.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/net.h"

#define DEFAULT_RTMP_PORT 1935
#define DEFAULT_HTTP_PORT 5080

struct local_controller {
	struct controller base;
	uv_loop_t *loop;
	struct local_controller_config cfg;
	unsigned next;                 /* the last host number handed out */
};

struct child {
	uv_process_t proc;
	char id[80];
};

static void child_closed(uv_handle_t *h)
{
	free(h->data);
}

static void child_exit(uv_process_t *p, int64_t status, int sig)
{
	struct child *ch = p->data;
	log_info("node_process_exit", "node=%s status=%lld signal=%d", ch->id, (long long)status,
	         sig);
	uv_close((uv_handle_t *)p, child_closed);
}

static int host_taken(const struct node_spec *spec, const char *host, int port)
{
	for (size_t i = 0; i < spec->nhosts_in_use; i++)
		if (spec->hosts_in_use[i] && strcmp(spec->hosts_in_use[i], host) == 0)
			return 1;
	/* Something else (a node from an earlier run) may hold the address. */
	struct sockaddr_storage sa;
	if (net_addr(host, port, &sa) < 0)
		return 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 0;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int busy = bind(fd, (struct sockaddr *)&sa, sizeof(struct sockaddr_in)) < 0;
	close(fd);
	return busy;
}

static int write_config(struct local_controller *lc, const struct node_spec *spec,
                        const char *host, int rtmp_port, int http_port, char *path,
                        size_t path_size, char *err, size_t err_size)
{
	snprintf(path, path_size, "%s/%s.conf", lc->cfg.dir, spec->id);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
		return SL_EIO;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		snprintf(err, err_size, "cannot write %s", path);
		return SL_EIO;
	}
	/* Values are ours (names checked, addresses generated) except the secret: quote it. */
	fprintf(f, "# written by the sluice manager's local controller\n");
	fprintf(f, "name = %s\nbind = %s\nrole = %s\ngroup = %s\nmanager = %s\n", spec->id, host,
	        spec->role, spec->group, lc->cfg.manager_url);
	fprintf(f, "rtmp-port = %d\nhttp-port = %d\n", rtmp_port, http_port);
	fprintf(f, "log-level = %s\n", lc->cfg.log_level);
	if (lc->cfg.manager_ca_file && *lc->cfg.manager_ca_file)
		fprintf(f, "manager-ca-file = %s\n", lc->cfg.manager_ca_file);
	/* Every local node shares this one machine's CPU: a machine-wide cpu-limit would stop
	 * them all at once, so CPU admission is for nodes on machines of their own. */
	fputs("cpu-limit = 100\n", f);
	if (spec->origins && *spec->origins)
		fprintf(f, "origins = %s\n", spec->origins);
	fputs("cluster-secret = \"", f);
	for (const char *s = lc->cfg.cluster_secret; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputs("\"\n", f);
	if (fclose(f) != 0) {
		snprintf(err, err_size, "cannot write %s", path);
		return SL_EIO;
	}
	return 0;
}

int controller_local_check(const json_t *props, char *err, size_t err_size)
{
	static const char *const allowed[] = { "rtmpPort", "httpPort", NULL };
	long long v;
	if (ctl_prop_only(props, allowed, err, err_size) < 0 ||
	    ctl_prop_int(props, "rtmpPort", 1, 65535, DEFAULT_RTMP_PORT, &v, err, err_size) < 0 ||
	    ctl_prop_int(props, "httpPort", 1, 65535, DEFAULT_HTTP_PORT, &v, err, err_size) < 0)
		return SL_EINVAL;
	return 0;
}

static int local_launch_now(struct local_controller *lc, const struct node_spec *spec,
                            struct node_place *out, char *err, size_t err_size)
{
	long long rtmp_port, http_port;
	if (ctl_prop_int(spec->properties, "rtmpPort", 1, 65535, DEFAULT_RTMP_PORT, &rtmp_port, err,
	                 err_size) < 0 ||
	    ctl_prop_int(spec->properties, "httpPort", 1, 65535, DEFAULT_HTTP_PORT, &http_port, err,
	                 err_size) < 0)
		return SL_EINVAL;
	char host[64] = "";
	if (spec->prefer_host && *spec->prefer_host &&
	    strncmp(spec->prefer_host, lc->cfg.addr_base, strlen(lc->cfg.addr_base)) == 0 &&
	    !host_taken(spec, spec->prefer_host, (int)rtmp_port))
		snprintf(host, sizeof(host), "%s", spec->prefer_host);
	for (unsigned tries = 0; !host[0] && tries < 253; tries++) {
		lc->next = lc->next >= 254 ? 2 : lc->next + 1;
		snprintf(host, sizeof(host), "%s.%u", lc->cfg.addr_base, lc->next);
		if (!host_taken(spec, host, (int)rtmp_port))
			break;
		host[0] = '\0';
	}
	if (!host[0]) {
		snprintf(err, err_size, "no free address left in %s.2-254", lc->cfg.addr_base);
		return SL_EFULL;
	}
	char conf[512], logp[512];
	int rc = write_config(lc, spec, host, (int)rtmp_port, (int)http_port, conf, sizeof(conf),
	                      err, err_size);
	if (rc < 0)
		return rc;
	snprintf(logp, sizeof(logp), "%s/%s.log", lc->cfg.dir, spec->id);
	int logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (logfd < 0) {
		snprintf(err, err_size, "cannot open %s: %s", logp, strerror(errno));
		return SL_EIO;
	}
	char *args[] = { (char *)lc->cfg.exe, "node", "--config", conf, "--name", (char *)spec->id,
	                 NULL };
	uv_stdio_container_t stdio[3] = {
		{ .flags = UV_IGNORE },
		{ .flags = UV_INHERIT_FD, .data.fd = logfd },
		{ .flags = UV_INHERIT_FD, .data.fd = logfd },
	};
	struct child *ch = xcalloc(1, sizeof(*ch));
	snprintf(ch->id, sizeof(ch->id), "%s", spec->id);
	uv_process_options_t opt = {
		.exit_cb = child_exit,
		.file = lc->cfg.exe,
		.args = args,
		.flags = UV_PROCESS_DETACHED,
		.stdio_count = 3,
		.stdio = stdio,
	};
	ch->proc.data = ch;
	rc = uv_spawn(lc->loop, &ch->proc, &opt);
	close(logfd);
	if (rc < 0) {
		snprintf(err, err_size, "cannot start %s: %s", lc->cfg.exe, uv_strerror(rc));
		uv_close((uv_handle_t *)&ch->proc, child_closed);
		return SL_EIO;
	}
	snprintf(out->host, sizeof(out->host), "%s", host);
	out->rtmp_port = (int)rtmp_port;
	out->http_port = (int)http_port;
	out->pid = ch->proc.pid;
	snprintf(out->instance, sizeof(out->instance), "pid:%d", out->pid);
	log_info("node_process_started", "node=%s pid=%d host=%s role=%s", spec->id, out->pid,
	         host, spec->role);
	return 0;
}

static int local_launch(struct controller *c, const struct node_spec *spec,
                        struct node_place *now, char *err, size_t err_size)
{
	struct local_controller *lc = (struct local_controller *)c;
	int rc = local_launch_now(lc, spec, now, err, err_size);
	if (rc < 0)
		return rc;
	ctl_report_launch(c, lc->loop, spec->id, 0, now, NULL);
	return 0;
}

/* Whether pid is a `sluice node` of that name: its argv has "--name" "ID". */
static int is_our_node(int pid, const char *id)
{
	if (pid <= 0)
		return 0;
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* A zombie has an empty cmdline: n <= 0 above.  Walk the NUL-separated args. */
	int saw_node = 0;
	for (ssize_t i = 0; i < n;) {
		const char *a = buf + i;
		size_t len = strnlen(a, (size_t)(n - i));
		if (strcmp(a, "node") == 0)
			saw_node = 1;
		if (saw_node && strcmp(a, "--name") == 0 && i + (ssize_t)len + 1 < n &&
		    strcmp(a + len + 1, id) == 0)
			return 1;
		i += (ssize_t)len + 1;
	}
	return 0;
}

static int local_running(struct controller *c, const char *id, const struct node_place *p)
{
	(void)c;
	return is_our_node(p->pid, id);
}

static int local_terminate(struct controller *c, const char *id, const struct node_place *p,
                           int force)
{
	struct local_controller *lc = (struct local_controller *)c;
	char conf[512];
	/* The node read its config (and the secret in it) at start: it need not stay on disk. */
	snprintf(conf, sizeof(conf), "%s/%s.conf", lc->cfg.dir, id);
	unlink(conf);
	if (!is_our_node(p->pid, id))
		return SL_ENOTFOUND;
	kill(p->pid, SIGCONT);
	if (kill(p->pid, force ? SIGKILL : SIGTERM) < 0)
		return SL_ENOTFOUND;
	log_info("node_process_signalled", "node=%s pid=%d signal=%s", id, p->pid,
	         force ? "KILL" : "TERM");
	return 0;
}

static void walk_close(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (h->type == UV_PROCESS && h->data && !uv_is_closing(h))
		uv_close(h, child_closed);
}

static void local_close(struct controller *c)
{
	struct local_controller *lc = (struct local_controller *)c;
	/* The processes keep running; only our handles on them go.  A launch reported on the
	 * next turn is dropped: its timer must not fire into the freed controller. */
	ctl_reports_drop(c);
	uv_walk(lc->loop, walk_close, NULL);
	free(lc);
}

static const struct controller_ops local_ops = {
	.name = "local",
	.check_properties = controller_local_check,
	.launch = local_launch,
	.terminate = local_terminate,
	.running = local_running,
	.list = NULL,
	.close = local_close,
};

struct controller *controller_local_new(uv_loop_t *loop, const struct local_controller_config *cfg,
                                        char *err, size_t err_size)
{
	if (mkdir(cfg->dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, err_size, "cannot create %s: %s", cfg->dir, strerror(errno));
		return NULL;
	}
	if (access(cfg->exe, X_OK) < 0) {
		snprintf(err, err_size, "cannot run %s: %s", cfg->exe, strerror(errno));
		return NULL;
	}
	struct local_controller *lc = xcalloc(1, sizeof(*lc));
	lc->base.ops = &local_ops;
	lc->loop = loop;
	lc->cfg = *cfg;
	lc->next = 1;
	return &lc->base;
}
