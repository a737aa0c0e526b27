/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manager.c - `sluice manager`: reads its settings, opens the store,
 * re-adopts running nodes, serves the REST API, and four times a second
 * looks after node liveness, drains and the autoscaler.
 */
#include "manager/manager.h"

#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/net.h"
#include "core/options_doc.h"
#include "core/sdnotify.h"
#include "manager/hb_view.h"
#include "manager/manager_reload.h"
#include "manager/manager_tls.h"

#define TICK_MS 250

/* The node listener's request and idle timeouts (a node sends its request at once). */
#define NODE_REQUEST_TIMEOUT_MS 3000
#define NODE_IDLE_MS 2000

/* Descriptors the two listeners' connection limits need (set before raise_fd_limit). */
static uint64_t m_fd_need;

static const char usage[] =
	"usage: sluice manager [options]\n\n"
	"Runs the stream manager: node groups from launch configurations and scale policies,\n"
	"nodes that register and heartbeat, routing of publishers and viewers, autoscaling.\n"
	"The REST API is under /api/v1 (see docs/api.md); `sluice ctl` drives it.\n"
	"Check a config without starting: sluice manager --config FILE --check-config.";

void mgr_event(struct manager *m, const char *kind, const char *group, const char *node,
               const char *fmt, ...)
{
	char msg[512], eg[80], en[80];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Names in messages are checked (A-Z a-z 0-9 . _ -); still, no byte may forge a line. */
	char safe[512];
	size_t i;
	for (i = 0; msg[i] && i < sizeof(safe) - 1; i++)
		safe[i] = (msg[i] < 0x20 || msg[i] == '"' || msg[i] == '\\' || msg[i] == 0x7f) ? '?'
		                                                                            : msg[i];
	safe[i] = '\0';
	log_info(kind, "group=%s node=%s reason=\"%s\"", log_escape(group ? group : "-", eg, sizeof(eg)),
	         log_escape(node ? node : "-", en, sizeof(en)), safe);
	store_event_add(m->store, (int64_t)clock_wall_ms(), kind, group, node, msg);
}

/* The leader's work first, then the sync that renews its lease: a leader that was frozen
 * past its lease acts on what it believed, and the fencing token refuses it (leader.c). */
static void tick_cb(uv_timer_t *t)
{
	struct manager *m = t->data;
	if (m->leader.is_leader) {
		mgr_lifecycle_tick(m);
		mgr_reconcile_tick(m);
		if (!m->leader.passes++)
			m->leader.first_pass_ms = (int64_t)clock_wall_ms();
	}
	mgr_sync_tick(m);
}

/* The password of a PostgreSQL store: from db-password-file (first line), else libpq's
 * PGPASSWORD or ~/.pgpass.  Returns 0, or -1 with a message printed. */
static int load_db_password(const struct manager_config *cfg)
{
	if (!cfg->db_password_file || !*cfg->db_password_file)
		return 0;
	FILE *f = fopen(cfg->db_password_file, "r");
	char line[512];
	if (!f || !fgets(line, sizeof(line), f)) {
		fprintf(stderr, "sluice manager: db-password-file: cannot read %s\n",
		        cfg->db_password_file);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	store_set_password(line);
	memset(line, 0, sizeof(line));
	return 0;
}

static void manager_stop(struct manager *m, const char *why)
{
	if (m->stopping)
		return;
	m->stopping = 1;
	sd_notify_stopping();
	manager_reload_stop();
	log_info("manager_stopping", "reason=%s nodes=%u stop_nodes=%s", why, m->nnodes,
	         m->cfg->stop_nodes_on_exit ? "yes" : "no");
	if (m->cfg->stop_nodes_on_exit) {
		struct list_node *it, *next;
		for (it = m->nodes.next; it != &m->nodes; it = next) {
			next = it->next;
			struct mnode *nd = list_entry(it, struct mnode, link);
			if (nd->managed)
				mgr_remove(m, nd, 0, "the manager is stopping (stop-nodes-on-exit)");
		}
	}
	/* After the nodes it stops: those are leader actions too. */
	mgr_leader_release(m);
	uv_timer_stop(&m->tick);
	uv_close((uv_handle_t *)&m->tick, NULL);
	console_stop(m->console);
	m->console = NULL;
	uv_close((uv_handle_t *)&m->sig_term, NULL);
	uv_close((uv_handle_t *)&m->sig_int, NULL);
	if (m->http)
		http_server_stop(m->http);
	m->http = NULL;
	if (m->node_http)
		http_server_stop(m->node_http);
	m->node_http = NULL;
	mgr_controller_stop(m);
}

/* Every connection is a descriptor: a soft limit of 1024 would refuse long before
 * max-connections, so take the hard limit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)(m_fd_need + 64))
		log_warn("fd_limit_low", "nofile=%llu wanted=%llu (raise the hard limit: connections "
		         "beyond it are refused at accept)", (unsigned long long)rl.rlim_cur,
		         (unsigned long long)(m_fd_need + 64));
}

static void signal_cb(uv_signal_t *h, int signum)
{
	manager_stop(h->data, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static int check_config(struct manager *m, struct manager_config *cfg)
{
	if (net_split_hostport(cfg->listen, m->listen_host, sizeof(m->listen_host), &m->listen_port,
	                       5070) < 0) {
		fprintf(stderr, "sluice manager: listen: expected ADDR:PORT, got '%s'\n", cfg->listen);
		return 2;
	}
	struct sockaddr_storage sa;
	if (net_addr(m->listen_host, m->listen_port, &sa) < 0) {
		fprintf(stderr, "sluice manager: listen: expected a numeric IP address and port, "
		        "got '%s'\n", cfg->listen);
		return 2;
	}
	if (m->listen_port <= 0 || m->listen_port > 65535) {
		fprintf(stderr, "sluice manager: listen: port out of range in '%s'\n", cfg->listen);
		return 2;
	}
	if (cfg->node_listen && *cfg->node_listen) {
		if (net_split_hostport(cfg->node_listen, m->node_host, sizeof(m->node_host),
		                       &m->node_port, 5071) < 0 ||
		    net_addr(m->node_host, m->node_port, &sa) < 0 || m->node_port <= 0 ||
		    m->node_port > 65535) {
			fprintf(stderr, "sluice manager: node-listen: expected a numeric ADDR:PORT, got "
			        "'%s'\n", cfg->node_listen);
			return 2;
		}
	} else {
		snprintf(m->node_host, sizeof(m->node_host), "%s", m->listen_host);
		m->node_port = m->listen_port + 1;
		if (m->node_port > 65535) {
			fprintf(stderr, "sluice manager: node-listen: set it (listen's port + 1 is out "
			        "of range)\n");
			return 2;
		}
	}
	if (strcmp(m->node_host, m->listen_host) == 0 && m->node_port == m->listen_port) {
		fprintf(stderr, "sluice manager: node-listen: must differ from listen (%s:%d)\n",
		        m->node_host, m->node_port);
		return 2;
	}
	if (!cfg->admin_token || strlen(cfg->admin_token) < 8) {
		fprintf(stderr, "sluice manager: admin-token: required, at least 8 characters "
		        "(the REST API is never open)\n");
		return 2;
	}
	if (!cfg->cluster_secret || strlen(cfg->cluster_secret) < 8) {
		fprintf(stderr, "sluice manager: cluster-secret: required, at least 8 characters "
		        "(nodes sign their heartbeats with it)\n");
		return 2;
	}
	if (strcmp(cfg->controller, "exec") == 0 && (!cfg->exec_dir || !*cfg->exec_dir)) {
		fprintf(stderr, "sluice manager: exec-dir: required with --controller exec (the "
		        "directory of the launch, terminate and list scripts)\n");
		return 2;
	}
	const char *b = cfg->local_addr_base;
	unsigned o1, o2, o3;
	char extra;
	if (sscanf(b, "%u.%u.%u%c", &o1, &o2, &o3, &extra) != 3 || o1 != 127 || o2 > 255 ||
	    o3 > 255) {
		fprintf(stderr, "sluice manager: local-addr-base: expected 127.B.C (a loopback /24), "
		        "got '%s'\n", b);
		return 2;
	}
	if (cfg->advertise_url && *cfg->advertise_url) {
		snprintf(m->advertise, sizeof(m->advertise), "%s", cfg->advertise_url);
	} else {
		const char *h = m->node_host;
		if (strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0 || !*h)
			h = "127.0.0.1";
		int https = cfg->tls_cert && *cfg->tls_cert;
		snprintf(m->advertise, sizeof(m->advertise), strchr(h, ':') ? "%s://[%s]:%d" :
		         "%s://%s:%d", https ? "https" : "http", h, m->node_port);
	}
	return -1;
}

int manager_main(int argc, char **argv)
{
	static struct manager_config cfg;
	struct opt_error oerr;
	/* --check-config: the settings are read and checked as a start would, nothing opened. */
	int check_only = options_take_flag(&argc, argv, "--check-config");
	sd_notify_init(); /* before any node is started: they must not notify in our name */
	memset(&cfg, 0, sizeof(cfg));
	if (options_defaults(manager_options, &cfg, &oerr) < 0) {
		fprintf(stderr, "sluice manager: %s\n", oerr.msg);
		return 2;
	}
	int rc = options_parse_args(manager_options, &cfg, argc, argv, &oerr);
	if (rc == 1) {
		options_print_help(stdout, usage, manager_options);
		options_free(manager_options, &cfg);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "sluice manager: %s\n", oerr.msg);
		options_free(manager_options, &cfg);
		return 2;
	}
	struct manager *m = xcalloc(1, sizeof(*m));
	m->cfg = &cfg;
	rc = check_config(m, &cfg);
	if (rc < 0 && check_only) {
		printf("ok\n");
		rc = 0;
	}
	if (rc >= 0) {
		options_free(manager_options, &cfg);
		free(m);
		return rc;
	}
	log_set_level((enum log_level)log_level_parse(cfg.log_level));
	signal(SIGPIPE, SIG_IGN);
	m_fd_need = (uint64_t)(cfg.max_connections + cfg.node_max_connections);
	raise_fd_limit();
	m->loop = uv_default_loop();
	m->started_ms = clock_wall_ms();
	list_init(&m->nodes);
	strmap_init(&m->node_index);
	strmap_init(&m->hb_views);
	strmap_init(&m->lcs);
	strmap_init(&m->sps);
	strmap_init(&m->groups);
	name_hold_init(&m->holds);
	conn_table_init(&m->conns, (uint32_t)cfg.max_connections);
	conn_table_init(&m->node_conns, (uint32_t)cfg.node_max_connections);
	conn_table_set_ip_limits(&m->conns, (uint32_t)cfg.max_connections_per_ip,
	                         (uint32_t)cfg.conn_rate_per_ip, (uint32_t)cfg.conn_burst_per_ip);
	conn_table_set_ip_limits(&m->node_conns, (uint32_t)cfg.max_connections_per_ip,
	                         (uint32_t)cfg.conn_rate_per_ip, (uint32_t)cfg.conn_burst_per_ip);

	int status = 0;
	char err[512];
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "sluice manager: cannot find its own binary (/proc/self/exe)\n");
		status = 1;
		goto out;
	}
	exe[n] = '\0';
	if (cfg.name && *cfg.name)
		snprintf(m->name, sizeof(m->name), "%s", cfg.name);
	else
		snprintf(m->name, sizeof(m->name), "%s:%d", m->listen_host, m->listen_port);
	/* The lease names this process, not only its name: two managers left on the same default
	 * name (or a restarted one) must never both renew one lease with one token. */
	{
		uint8_t r[4];
		random_bytes(r, sizeof(r));
		snprintf(m->holder, sizeof(m->holder), "%.100s#%02x%02x%02x%02x", m->name, r[0], r[1],
		         r[2], r[3]);
	}
	snprintf(m->api_url, sizeof(m->api_url), strchr(m->listen_host, ':') ? "http://[%s]:%d" :
	         "http://%s:%d", m->listen_host, m->listen_port);
	store_set_timeout_ms((unsigned)cfg.db_timeout);
	if (load_db_password(&cfg) < 0) {
		status = 2;
		goto out;
	}
	if (store_open(cfg.db, &m->store, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice manager: db: %s\n", err);
		status = 2;
		goto out;
	}
	m->ctl = mgr_controller_new(m, exe, err, sizeof(err));
	if (!m->ctl) {
		fprintf(stderr, "sluice manager: controller: %s\n", err);
		status = 1;
		goto out;
	}
	if (mgr_load(m, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice manager: %s\n", err);
		status = 1;
		goto out;
	}
	/* Alone on SQLite it leads at once; on PostgreSQL it leads if the lease is free.  With
	 * others on PostgreSQL, one sync first (it ends with the lease): the nodes' latest
	 * reports are in the hot state, and a manager that answered before reading them would
	 * say "the stream is not live" to every viewer the load balancer sent it
	 * (bench/ha_bench.py failover saw it for ~0.5 s after each restart). */
	if (store_shared(m->store))
		mgr_sync_tick(m);
	else
		mgr_leader_tick(m);
	struct http_server_config hcfg = {
		.bind = m->listen_host, .port = m->listen_port, .max_body_bytes = 1 << 20,
		.cors = 1, .conns = &m->conns, .handler = mgr_http_handle, .ctx = m,
	};
	/* Nodes call apart from the API: a node's request arrives at once, so a short request
	 * and idle time keep slots turning over. */
	struct http_server_config ncfg = {
		.bind = m->node_host, .port = m->node_port, .max_body_bytes = 1 << 20,
		.request_timeout_ms = NODE_REQUEST_TIMEOUT_MS, .keepalive_timeout_ms = NODE_IDLE_MS,
		.conns = &m->node_conns, .handler = mgr_node_http_handle, .ctx = m,
	};
	if (manager_tls_start(m, &hcfg, &ncfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "sluice manager: %s\n", err);
		status = 1;
		goto out;
	}
	if (http_server_start(m->loop, &hcfg, &m->http) < 0) {
		fprintf(stderr, "sluice manager: cannot listen on %s\n", cfg.listen);
		m->http = NULL;
		status = 1;
		goto out;
	}
	if (http_server_start(m->loop, &ncfg, &m->node_http) < 0) {
		fprintf(stderr, "sluice manager: cannot listen on %s:%d (node-listen)\n", m->node_host,
		        m->node_port);
		m->node_http = NULL;
		http_server_stop(m->http);
		m->http = NULL;
		status = 1;
		goto out;
	}
	m->console = console_new(m);
	uv_timer_init(m->loop, &m->tick);
	m->tick.data = m;
	uv_timer_start(&m->tick, tick_cb, TICK_MS, TICK_MS);
	uv_signal_init(m->loop, &m->sig_term);
	uv_signal_init(m->loop, &m->sig_int);
	m->sig_term.data = m->sig_int.data = m;
	uv_signal_start(&m->sig_term, signal_cb, SIGTERM);
	uv_signal_start(&m->sig_int, signal_cb, SIGINT);
	manager_reload_start(m, argc, argv);
	log_info("manager_started", "version=%s listen=%s node_listen=%s:%d db=%s controller=%s "
	         "advertise=%s schema=%d name=%s leader=%s", SLUICE_VERSION, cfg.listen, m->node_host,
	         m->node_port, cfg.db, m->ctl->ops->name, m->advertise,
	         store_schema_version(m->store), m->name, m->leader.is_leader ? "yes" : "no");
	sd_notify_ready();
	uv_run(m->loop, UV_RUN_DEFAULT);
	log_info("manager_stopped", "nodes=%u", m->nnodes);
out:
	mgr_controller_close(m);
	uv_run(m->loop, UV_RUN_DEFAULT);
	uv_loop_close(m->loop);
	while (!list_empty(&m->nodes)) {
		struct mnode *nd = list_entry(m->nodes.next, struct mnode, link);
		list_del(&nd->link);
		node_report_free(&nd->rep);
		free(nd->hot_body);
		free(nd);
	}
	size_t it = 0;
	void *v;
	while (strmap_next(&m->lcs, &it, NULL, &v)) {
		lc_free(v);
		free(v);
	}
	it = 0;
	while (strmap_next(&m->sps, &it, NULL, &v))
		free(v);
	it = 0;
	while (strmap_next(&m->groups, &it, NULL, &v))
		free(v);
	strmap_free(&m->lcs);
	strmap_free(&m->sps);
	strmap_free(&m->groups);
	strmap_free(&m->node_index);
	hb_view_free(m);
	name_hold_free(&m->holds);
	conn_table_free(&m->conns);
	conn_table_free(&m->node_conns);
	manager_tls_free(m);
	if (m->store)
		store_close(m->store);
	store_set_password(NULL);
	options_free(manager_options, &cfg);
	free(m);
	return status;
}
