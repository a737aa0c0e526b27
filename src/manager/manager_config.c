/* SPDX-License-Identifier: Apache-2.0 */
/* manager_config.c - the settings table of `sluice manager` (see manager.h). */
#include <stddef.h>

#include "manager/manager.h"

#define OFF(f) offsetof(struct manager_config, f)
#define K8S_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

static const char *const log_levels[] = { "debug", "info", "warn", "error", NULL };
static const char *const controllers[] = { "local", "exec", "aws", "gcp", "kubernetes", NULL };

const struct option_def manager_options[] = {
	{ "config", OPT_STRING, OFF(config), NULL, 0, 0, NULL, "FILE",
	  "read settings from FILE first (key = value lines)" },
	{ "listen", OPT_STRING, OFF(listen), "127.0.0.1:5070", 0, 0, NULL, "ADDR:PORT",
	  "address and port of the REST API (nodes may call it too, without reserved room)" },
	{ "node-listen", OPT_STRING, OFF(node_listen), NULL, 0, 0, NULL, "ADDR:PORT",
	  "address and port where nodes register and heartbeat, apart from the API so that API "
	  "clients cannot take its connections (default: the listen address, port + 1)" },
	{ "db", OPT_STRING, OFF(db), "sqlite:sluice.db", 0, 0, NULL, "URL",
	  "where groups, policies, configurations and nodes are kept: sqlite:PATH (one manager) or "
	  "postgresql://USER@HOST:PORT/DB (several managers; docs/operations.md)" },
	{ "admin-token", OPT_STRING, OFF(admin_token), NULL, 0, 0, NULL, "TOKEN",
	  "required on /api/v1 as 'Authorization: Bearer TOKEN' or ?accessToken=TOKEN "
	  "(at least 8 characters; unset: the API is refused)" },
	{ "cluster-secret", OPT_STRING, OFF(cluster_secret), NULL, 0, 0, NULL, "SECRET",
	  "shared with the nodes: signs their registration and heartbeats (at least 8 characters)" },
	{ "controller", OPT_ENUM, OFF(controller), "local", 0, 0, controllers, "NAME",
	  "how nodes are launched: local runs `sluice node` processes on this machine; exec runs "
	  "the operator's scripts launch, terminate and list in exec-dir; aws makes EC2 instances; "
	  "gcp Compute Engine instances; kubernetes makes pods (docs/operations.md)" },
	{ "advertise-url", OPT_STRING, OFF(advertise_url), NULL, 0, 0, NULL, "URL",
	  "the URL nodes reach this manager at (default: http://NODE-LISTEN)" },
	{ "local-addr-base", OPT_STRING, OFF(local_addr_base), "127.0.1", 0, 0, NULL, "A.B.C",
	  "local controller: nodes get A.B.C.2, A.B.C.3, ... (loopback addresses)" },
	{ "node-dir", OPT_STRING, OFF(node_dir), "sluice-nodes", 0, 0, NULL, "DIR",
	  "local controller: where node config files (0600) and logs go" },
	{ "node-log-level", OPT_ENUM, OFF(node_log_level), "info", 0, 0, log_levels, "LEVEL",
	  "local controller: log level of the nodes it starts" },
	{ "stop-nodes-on-exit", OPT_BOOL, OFF(stop_nodes_on_exit), "false", 0, 0, NULL, NULL,
	  "stop the nodes this manager started when it exits (off: they keep streaming and the "
	  "next manager re-adopts them)" },
	{ "public-routing", OPT_BOOL, OFF(public_routing), "true", 0, 0, NULL, NULL,
	  "answer routing calls (where to publish or watch) without the admin token, as players "
	  "and encoders call them" },
	{ "dead-after", OPT_MS, OFF(dead_after), "2s", 500, 600000, NULL, NULL,
	  "a node with no heartbeat for this long is dead (nodes beat every second)" },
	{ "launch-timeout", OPT_MS, OFF(launch_timeout), "30s", 1000, 3600000, NULL, NULL,
	  "a launched node that has not registered after this long is dead" },
	{ "drain-timeout", OPT_MS, OFF(drain_timeout), "5m", 0, 86400000, NULL, NULL,
	  "a draining node is removed when its last client leaves, or after this long" },
	{ "probe-timeout", OPT_MS, OFF(probe_timeout), "1s", 100, 60000, NULL, NULL,
	  "a node with no heartbeat for dead-after is asked for /healthz first: dead only if it "
	  "does not answer within this long" },
	{ "max-connections", OPT_INT, OFF(max_connections), "4096", 16, 1000000, NULL, NULL,
	  "connections the REST API holds at once; more are closed at accept" },
	{ "node-max-connections", OPT_INT, OFF(node_max_connections), "1024", 16, 1000000, NULL,
	  NULL, "connections the node listener holds at once" },
	{ "max-connections-per-ip", OPT_INT, OFF(max_connections_per_ip), "256", 0, 1000000, NULL,
	  NULL, "connections one address may hold at once, on each listener (0: no limit)" },
	{ "conn-rate-per-ip", OPT_INT, OFF(conn_rate_per_ip), "100", 0, 1000000, NULL, NULL,
	  "new connections one address may open per second, on each listener (0: no limit)" },
	{ "conn-burst-per-ip", OPT_INT, OFF(conn_burst_per_ip), "200", 1, 1000000, NULL, NULL,
	  "new connections one address may open at once before conn-rate-per-ip applies" },
	{ "route-reservations-per-ip", OPT_INT, OFF(route_reservations_per_ip), "4", 0, 32, NULL,
	  NULL, "routing answers one address may have counted against nodes' capacity at once "
	  "(each for 3 s or until the node reports the client); more are answered without" },
	{ "log-level", OPT_ENUM, OFF(log_level), "info", 0, 0, log_levels, "LEVEL",
	  "least severe log level written" },
	{ "console-session-ttl", OPT_MS, OFF(console_session_ttl), "12h", 60000, 604800000, NULL,
	  NULL, "a console login lasts this long (the session cookie's expiry)" },
	{ "console-max-sessions", OPT_INT, OFF(console_max_sessions), "64", 1, 4096, NULL, NULL,
	  "console sessions held at once; a login beyond it ends the least recently used one" },
	{ "console-sample-interval", OPT_MS, OFF(console_sample_interval), "10s", 1000, 60000,
	  NULL, NULL, "how often the console's charts take a point (they keep the last hour)" },
	{ "name", OPT_STRING, OFF(name), NULL, 0, 0, NULL, "NAME",
	  "this manager's name in the leader lease and /api/v1/manager, unique among the "
	  "managers sharing a database (default: the listen address)" },
	{ "db-password-file", OPT_STRING, OFF(db_password_file), NULL, 0, 0, NULL, "FILE",
	  "postgresql: read the database password from FILE (first line); unset: PGPASSWORD or "
	  "~/.pgpass.  Never on the command line or in the URL" },
	{ "db-timeout", OPT_MS, OFF(db_timeout), "2s", 100, 60000, NULL, NULL,
	  "postgresql: connect and statement timeout (the loop waits at most this long on a "
	  "database that hangs)" },
	{ "lease", OPT_MS, OFF(lease), "2s", 500, 600000, NULL, NULL,
	  "postgresql: the leader lease; a leader that cannot renew it for this long is "
	  "replaced (a new leader acts within lease + sync-interval of a crash)" },
	{ "sync-interval", OPT_MS, OFF(sync_interval), "500ms", 250, 60000, NULL, NULL,
	  "postgresql: how often a manager writes its batched heartbeat state, reads other "
	  "managers' changes and renews the lease" },
	{ "exec-dir", OPT_STRING, OFF(exec_dir), NULL, 0, 0, NULL, "DIR",
	  "exec controller: the directory holding the executables launch, terminate and list "
	  "(JSON on stdin and stdout; deploy/exec/ has examples)" },
	{ "exec-timeout", OPT_MS, OFF(exec_timeout), "60s", 1000, 3600000, NULL, NULL,
	  "exec controller: a script still running (or whose output is still open) after this "
	  "long is killed with its process group, and its call failed" },
	{ "controller-retries", OPT_INT, OFF(controller_retries), "3", 0, 20, NULL, NULL,
	  "a failed terminate (exec) or a throttled or failed cloud call (aws, gcp, kubernetes) "
	  "is tried again this many times, with a backoff that doubles" },
	{ "reconcile-interval", OPT_MS, OFF(reconcile_interval), "10s", 500, 3600000, NULL, NULL,
	  "how often the controller's instances are listed and compared with the nodes the store "
	  "knows (not the local controller, which checks its processes directly)" },
	{ "aws-region", OPT_STRING, OFF(aws_region), "us-east-1", 0, 0, NULL, "REGION",
	  "aws controller: the EC2 region nodes are launched in (and requests are signed for)" },
	{ "aws-endpoint", OPT_STRING, OFF(aws_endpoint), NULL, 0, 0, NULL, "URL",
	  "aws controller: the EC2 API endpoint (default https://ec2.REGION.amazonaws.com/; "
	  "set for a VPC endpoint or a test's mock)" },
	{ "aws-imds-endpoint", OPT_STRING, OFF(aws_imds_endpoint), "http://169.254.169.254", 0, 0,
	  NULL, "URL", "aws controller: the instance metadata service asked for credentials "
	  "(IMDSv2) when neither the environment nor the shared credentials file has them" },
	{ "aws-cluster-tag", OPT_STRING, OFF(aws_cluster_tag), "sluice", 0, 0, NULL, "NAME",
	  "aws controller: the sluice:cluster tag on this manager's instances; list sees only "
	  "these (give each manager cluster its own)" },
	{ "aws-timeout", OPT_MS, OFF(aws_timeout), "20s", 1000, 600000, NULL, NULL,
	  "aws, gcp and kubernetes controllers: the time one API call may take" },
	{ "gcp-project", OPT_STRING, OFF(gcp_project), NULL, 0, 0, NULL, "PROJECT",
	  "gcp controller: the project nodes are made in (default: the key file's project_id)" },
	{ "gcp-zone", OPT_STRING, OFF(gcp_zone), "us-central1-a", 0, 0, NULL, "ZONE",
	  "gcp controller: the zone nodes are made in" },
	{ "gcp-credentials-file", OPT_STRING, OFF(gcp_credentials_file), NULL, 0, 0, NULL, "FILE",
	  "gcp controller: a service-account JSON key (default: $GOOGLE_APPLICATION_CREDENTIALS; "
	  "neither: the metadata server's service account)" },
	{ "gcp-endpoint", OPT_STRING, OFF(gcp_endpoint), "https://compute.googleapis.com/compute/v1",
	  0, 0, NULL, "URL", "gcp controller: the Compute Engine API (set for a test's mock)" },
	{ "gcp-token-uri", OPT_STRING, OFF(gcp_token_uri), NULL, 0, 0, NULL, "URL",
	  "gcp controller: where the signed JWT is exchanged (default: the key's token_uri)" },
	{ "gcp-metadata-url", OPT_STRING, OFF(gcp_metadata_url), "http://metadata.google.internal",
	  0, 0, NULL, "URL", "gcp controller: the metadata server asked for a token without a key" },
	{ "gcp-cluster-label", OPT_STRING, OFF(gcp_cluster_label), "sluice", 0, 0, NULL, "NAME",
	  "gcp controller: the sluice-cluster label on this manager's instances; list sees only "
	  "these" },
	{ "k8s-api", OPT_STRING, OFF(k8s_api), NULL, 0, 0, NULL, "URL",
	  "kubernetes controller: the API server (default: in the cluster, "
	  "https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT)" },
	{ "k8s-namespace", OPT_STRING, OFF(k8s_namespace), NULL, 0, 0, NULL, "NAME",
	  "kubernetes controller: where node pods are made (default: the service account's "
	  "namespace, else default)" },
	{ "k8s-token-file", OPT_STRING, OFF(k8s_token_file), K8S_SA_DIR "/token", 0, 0, NULL,
	  "FILE", "kubernetes controller: the bearer token (read again every minute: kubelet "
	  "rotates it)" },
	{ "k8s-ca-file", OPT_STRING, OFF(k8s_ca_file), NULL, 0, 0, NULL, "FILE",
	  "kubernetes controller: the API server's CA (default: the service account's ca.crt "
	  "if there is one, else the system's)" },
	{ "k8s-cluster-label", OPT_STRING, OFF(k8s_cluster_label), "sluice", 0, 0, NULL, "NAME",
	  "kubernetes controller: the sluice/cluster label on this manager's pods; list sees only "
	  "these" },
	{ "k8s-secret", OPT_STRING, OFF(k8s_secret), "sluice-cluster", 0, 0, NULL, "NAME",
	  "kubernetes controller: the Secret whose cluster-secret key node pods read (the secret "
	  "is never in a pod spec)" },
	/* TLS (docs/security.md#tls) */
	{ "tls-cert", OPT_STRING, OFF(tls_cert), NULL, 0, 0, NULL, "FILE",
	  "PEM certificate (leaf first, then its chain): with tls-key, listen and node-listen "
	  "speak HTTPS only and advertise-url defaults to https://; re-read on SIGHUP" },
	{ "tls-key", OPT_STRING, OFF(tls_key), NULL, 0, 0, NULL, "FILE",
	  "PEM private key of tls-cert; re-read on SIGHUP" },
	{ "tls-client-ca-file", OPT_STRING, OFF(tls_client_ca_file), NULL, 0, 0, NULL, "FILE",
	  "with tls-cert: nodes must show a client certificate that verifies against these CAs "
	  "on node-listen (node setting manager-client-cert); unset: none asked for" },
	OPT_END
};
