/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctl_cmd.c - `sluice ctl`: every call of the manager's REST API as a
 * command.  Lists print as tables, single objects as indented JSON;
 * --json prints what the manager answered.  The manager's URL and token
 * come from --manager/--token or SLUICE_MANAGER/SLUICE_TOKEN.  An error
 * prints the manager's message and exits 1; a usage error exits 2.
 */
#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "core/bytes.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/tls.h"

#define MAX_RESPONSE (16 * 1024 * 1024)

static const char usage[] =
	"usage: sluice ctl [--manager URL] [--token TOKEN] [--ca-file FILE] [--json] COMMAND [ARGS]\n\n"
	"  status                                   the manager: version, controller, counts\n"
	"  launchconfig list | get NAME | delete NAME\n"
	"  launchconfig create FILE | replace NAME FILE   (FILE: JSON, '-' for stdin)\n"
	"  policy list | get NAME | delete NAME | create FILE | replace NAME FILE\n"
	"  group list | get NAME | delete NAME | add-origin NAME\n"
	"  group create --launch-config LC --scale-policy SP [--name N] [--region R]...\n"
	"               [--replace-dead] [--keep-dead]\n"
	"  group thresholds NAME [--role ROLE --scale-out PCT [--scale-in PCT] [--cpu-scale-out PCT]]\n"
	"  nodes [--group NAME]                     every node: state, role, address, load\n"
	"  node get ID | drain ID | remove ID [--force]\n"
	"  route APP/STREAM [--publish | --subscribe] [--region R] [--group G]\n"
	"  streams                                  live streams: origin, viewers per node\n"
	"  events [--limit N]                       node and scaling events with reasons\n"
	"  controller                               the cloud controller in use\n\n"
	"Environment: SLUICE_MANAGER (default http://127.0.0.1:5070; https://HOST:PORT for a\n"
	"manager with tls-cert, verified against --ca-file or SLUICE_CA_FILE, else the system's\n"
	"CAs), SLUICE_TOKEN.";

struct ctl {
	char host[256];
	char port[8];
	const char *token;
	int json;
	int https;
	const char *ca_file;       /* https: what the manager's certificate must verify against */
};

struct response {
	int status;
	json_t *body;      /* NULL if not JSON */
	char *text;
};

static int parse_url(struct ctl *c, const char *url)
{
	c->https = strncmp(url, "https://", 8) == 0;
	if (strncmp(url, "http://", 7) != 0 && !c->https)
		return -1;
	const char *h = url + (c->https ? 8 : 7);
	size_t hlen = strcspn(h, ":/");
	if (hlen == 0 || hlen >= sizeof(c->host))
		return -1;
	memcpy(c->host, h, hlen);
	c->host[hlen] = '\0';
	snprintf(c->port, sizeof(c->port), "%s", c->https ? "443" : "80");
	if (h[hlen] == ':') {
		size_t plen = strspn(h + hlen + 1, "0123456789");
		if (plen == 0 || plen > 5)
			return -1;
		memcpy(c->port, h + hlen + 1, plen);
		c->port[plen] = '\0';
		h += hlen + 1 + plen;
	} else {
		h += hlen;
	}
	return (*h == '\0' || strcmp(h, "/") == 0) ? 0 : -1;
}

static int dial(struct ctl *c)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai, *p;
	int rc = getaddrinfo(c->host, c->port, &hints, &ai);
	if (rc != 0) {
		fprintf(stderr, "sluice ctl: cannot resolve %s: %s\n", c->host, gai_strerror(rc));
		return -1;
	}
	int fd = -1, err = 0;
	for (p = ai; p; p = p->ai_next) {
		fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
		if (fd < 0)
			continue;
		struct timeval tv = { 15, 0 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, p->ai_addr, p->ai_addrlen) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		fprintf(stderr, "sluice ctl: cannot reach the manager at %s://%s:%s: %s\n",
		        c->https ? "https" : "http", c->host, c->port, strerror(err));
	return fd;
}

/* The manager's socket as a byte stream: plain, or TLS verified against the CA file. */
struct link {
	int fd;
	struct tls_client *cli;
	struct tls_blocking *tls;
};

static int link_open(struct ctl *c, struct link *l)
{
	memset(l, 0, sizeof(*l));
	l->fd = dial(c);
	if (l->fd < 0 || !c->https)
		return l->fd < 0 ? -1 : 0;
	char err[300];
	l->cli = tls_client_new(c->ca_file, NULL, NULL, err, sizeof(err));
	if (l->cli)
		l->tls = tls_blocking_open(l->cli, l->fd, c->host, err, sizeof(err));
	if (!l->tls) {
		fprintf(stderr, "sluice ctl: manager at https://%s:%s: %s\n", c->host, c->port, err);
		tls_client_free(l->cli);
		close(l->fd);
		return -1;
	}
	return 0;
}

static ssize_t link_send(struct link *l, const void *p, size_t n)
{
	return l->tls ? tls_blocking_write(l->tls, p, n) : send(l->fd, p, n, MSG_NOSIGNAL);
}

static ssize_t link_recv(struct link *l, void *p, size_t n)
{
	return l->tls ? tls_blocking_read(l->tls, p, n) : recv(l->fd, p, n, 0);
}

static void link_close(struct link *l)
{
	tls_blocking_free(l->tls);
	tls_client_free(l->cli);
	close(l->fd);
}

/* The Content-Length of the head p[0..n) (status line first), or -1 when it has none. */
static long long content_length(const char *p, size_t n)
{
	const char *end = p + n;
	const char *line = memchr(p, '\n', n);
	while (line && ++line < end) {
		if ((size_t)(end - line) > 15 && strncasecmp(line, "content-length:", 15) == 0) {
			char *stop;
			long long v = strtoll(line + 15, &stop, 10);
			return v >= 0 && stop > line + 15 ? v : -1;
		}
		line = memchr(line, '\n', (size_t)(end - line));
	}
	return -1;
}

/* One request; returns 0 with *r filled, or -1 (already reported). */
static int call(struct ctl *c, const char *method, const char *path, const char *body,
                struct response *r)
{
	memset(r, 0, sizeof(*r));
	struct link l;
	if (link_open(c, &l) < 0)
		return -1;
	struct bytes req, in;
	bytes_init(&req);
	bytes_init(&in);
	size_t blen = body ? strlen(body) : 0;
	bytes_printf(&req, "%s %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: sluice-ctl/%s\r\n"
	             "Accept: application/json\r\nConnection: close\r\n", method, path, c->host,
	             c->port, SLUICE_VERSION);
	if (c->token && *c->token)
		bytes_printf(&req, "Authorization: Bearer %s\r\n", c->token);
	if (body)
		bytes_printf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n", blen);
	bytes_put_str(&req, "\r\n");
	if (body)
		bytes_append(&req, body, blen);
	size_t off = 0;
	int ok = 1;
	while (off < req.len) {
		ssize_t n = link_send(&l, req.data + off, req.len - off);
		if (n <= 0) {
			ok = 0;
			break;
		}
		off += (size_t)n;
	}
	while (ok) {
		bytes_reserve(&in, 65536);
		ssize_t n = link_recv(&l, in.data + in.len, 65536);
		if (n == 0)
			break;
		if (n < 0 || in.len + (size_t)n > MAX_RESPONSE) {
			ok = 0;
			break;
		}
		in.len += (size_t)n;
	}
	link_close(&l);
	bytes_free(&req);
	const char *p = (const char *)in.data;
	const char *sep = ok && in.len > 12 ? memmem(p, in.len, "\r\n\r\n", 4) : NULL;
	if (!sep || memcmp(p, "HTTP/1.", 7) != 0 || sscanf(p + 9, "%3d", &r->status) != 1) {
		fprintf(stderr, "sluice ctl: no valid answer from the manager at %s://%s:%s\n",
		        c->https ? "https" : "http", c->host, c->port);
		bytes_free(&in);
		return -1;
	}
	size_t hl = (size_t)(sep + 4 - p);
	/* Over TLS a cut connection reads as a clean end (the manager closes without
	 * close_notify too): only the length tells a whole answer from a truncated one. */
	long long cl = content_length(p, hl);
	if (cl >= 0 && (unsigned long long)cl > in.len - hl) {
		fprintf(stderr, "sluice ctl: the answer from the manager at %s://%s:%s was cut short "
		        "(%zu of %lld bytes)\n", c->https ? "https" : "http", c->host, c->port,
		        in.len - hl, cl);
		bytes_free(&in);
		return -1;
	}
	r->text = xstrndup(sep + 4, cl >= 0 ? (size_t)cl : in.len - hl);
	r->body = json_loads(r->text, JSON_DECODE_ANY, NULL);
	bytes_free(&in);
	return 0;
}

static void response_free(struct response *r)
{
	json_decref(r->body);
	free(r->text);
}

/* Prints the manager's error and returns 1, or returns 0 for a 2xx. */
static const char *shown(const char *s);

static int failed(struct response *r)
{
	if (r->status >= 200 && r->status < 300)
		return 0;
	const char *msg = json_string_value(json_object_get(r->body, "error"));
	fprintf(stderr, "sluice ctl: %d: %s\n", r->status, shown(msg ? msg : r->text));
	return 1;
}

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	if (s)
		puts(s);
	free(s);
}

/*
 * Text from the manager (names nodes chose, messages) as it may be shown on
 * a terminal: escaped (log_escape_text).  Rotating buffers, so one printf
 * may show several.
 */
static const char *shown(const char *s)
{
	static char bufs[12][512];
	static unsigned next;
	char *b = bufs[next++ % 12];
	return log_escape_text(s, b, sizeof(bufs[0]));
}

static const char *str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? shown(s) : "-";
}

static long long num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (long long)json_integer_value(v) : (long long)json_number_value(v);
}

static void fmt_age(long long ms, char *out, size_t n)
{
	if (ms < 0)
		snprintf(out, n, "-");
	else if (ms < 10000)
		snprintf(out, n, "%.1fs", (double)ms / 1000.0);
	else
		snprintf(out, n, "%llds", ms / 1000);
}

static void table_nodes(json_t *arr)
{
	printf("%-18s %-7s %-10s %-16s %-21s %6s %6s %6s %9s\n", "ID", "ROLE", "STATE", "GROUP",
	       "ADDRESS", "CONNS", "CAP", "LOAD%", "HEARTBEAT");
	size_t i;
	json_t *n;
	json_array_foreach(arr, i, n) {
		json_t *l = json_object_get(n, "load");
		char addr[96], age[32];
		snprintf(addr, sizeof(addr), "%s:%lld", str(n, "host"), num(n, "rtmpPort"));
		json_t *a = json_object_get(n, "heartbeatAgeMs");
		fmt_age(json_is_integer(a) ? (long long)json_integer_value(a) : -1, age, sizeof(age));
		printf("%-18s %-7s %-10s %-16s %-21s %6lld %6lld %6.0f %9s\n", str(n, "id"),
		       str(n, "role"), str(n, "state"), str(n, "group"), addr,
		       num(l, "publishers") + num(l, "viewers"), num(l, "capacity"),
		       json_number_value(json_object_get(l, "loadPercent")), age);
	}
}

static void table_groups(json_t *arr)
{
	printf("%-20s %-8s %-16s %-16s %-16s %s\n", "NAME", "ACTIVE", "LAUNCH CONFIG",
	       "SCALE POLICY", "REGIONS", "NODES (origin/edge alive)");
	size_t i;
	json_t *g;
	json_array_foreach(arr, i, g) {
		json_t *c = json_object_get(g, "counts");
		char regions[128] = "";
		size_t j;
		json_t *r;
		json_array_foreach(json_object_get(g, "regions"), j, r) {
			size_t len = strlen(regions);
			snprintf(regions + len, sizeof(regions) - len, "%s%s", j ? "," : "",
			         shown(json_string_value(r)));
		}
		printf("%-20s %-8s %-16s %-16s %-16s %lld/%lld (%zu total)\n", str(g, "name"),
		       json_is_true(json_object_get(g, "active")) ? "yes" : "no",
		       str(g, "launchConfig"), str(g, "scalePolicy"), regions,
		       num(json_object_get(c, "origin"), "alive"), num(json_object_get(c, "edge"), "alive"),
		       json_array_size(json_object_get(g, "nodes")));
	}
}

static void table_targets(json_t *arr, int policy)
{
	if (policy)
		printf("%-20s %-8s %-7s %5s %5s %6s %10s %10s\n", "NAME", "VERSION", "ROLE", "MIN",
		       "MAX", "STEP", "COOLDOWN", "WARMUP");
	else
		printf("%-20s %-8s %-7s %-14s %10s\n", "NAME", "VERSION", "ROLE", "INSTANCE TYPE",
		       "CAPACITY");
	size_t i, j;
	json_t *o, *t;
	json_array_foreach(arr, i, o) {
		json_t *ts = json_object_get(json_object_get(o, "targets"), "target");
		json_array_foreach(ts, j, t) {
			const char *name = j == 0 ? str(o, "name") : "";
			const char *ver = j == 0 ? str(o, "version") : "";
			if (policy)
				printf("%-20s %-8s %-7s %5lld %5lld %6lld %9llds %9llds\n", name, ver,
				       str(t, "role"), num(t, "minLimit"), num(t, "maxLimit"),
				       num(t, "scaleAdjustment"), num(t, "coolDownPeriod") / 1000,
				       num(t, "estimatedWarmUpTime") / 1000);
			else
				printf("%-20s %-8s %-7s %-14s %10lld\n", name, ver, str(t, "role"),
				       str(t, "instanceType"), num(t, "connectionCapacity"));
		}
	}
}

static void table_events(json_t *arr)
{
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		time_t s = (time_t)(num(e, "ts") / 1000);
		struct tm tm;
		char when[32];
		gmtime_r(&s, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		printf("%s.%03lld %-16s %-16s %-16s %s\n", when, num(e, "ts") % 1000, str(e, "kind"),
		       str(e, "group"), str(e, "node"), str(e, "message"));
	}
}

static void table_streams(json_t *arr)
{
	printf("%-30s %-18s %-16s %7s  %s\n", "STREAM", "ORIGIN", "GROUP", "VIEWERS", "ON");
	size_t i, j;
	json_t *s, *n;
	json_array_foreach(arr, i, s) {
		char key[300], on[512] = "";
		snprintf(key, sizeof(key), "%s/%s", str(s, "app"), str(s, "name"));
		json_array_foreach(json_object_get(s, "nodes"), j, n) {
			size_t len = strlen(on);
			snprintf(on + len, sizeof(on) - len, "%s%s:%lld", j ? " " : "", str(n, "id"),
			         num(n, "viewers"));
		}
		printf("%-30s %-18s %-16s %7lld  %s\n", key, str(s, "origin"), str(s, "group"),
		       num(s, "viewers"), on);
	}
}

static char *read_file(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "sluice ctl: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct bytes b;
	bytes_init(&b);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && b.len < (1u << 20))
		bytes_append(&b, buf, n);
	if (f != stdin)
		fclose(f);
	bytes_put_u8(&b, 0);
	return (char *)b.data;
}

/* Percent-encodes one path segment. */
static void seg(char *out, size_t n, const char *s)
{
	size_t o = 0;
	for (; *s && o + 4 < n; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    strchr("-._~@+=", ch))
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, n - o, "%%%02X", ch);
	}
	out[o] = '\0';
}

/* Runs one request and prints the answer; table is used for 2xx answers unless --json. */
static int run(struct ctl *c, const char *method, const char *path, const char *body,
               void (*table)(json_t *), const char *list_key)
{
	struct response r;
	if (call(c, method, path, body, &r) < 0)
		return 1;
	int rc = failed(&r);
	if (!rc) {
		if (c->json)
			puts(r.text);
		else if (r.status == 204)
			puts("ok");
		else if (table && r.body)
			table(list_key ? json_object_get(r.body, list_key) : r.body);
		else if (r.body)
			print_json(r.body);
		else
			fputs(r.text, stdout);
	}
	response_free(&r);
	return rc;
}

static void table_lcs(json_t *a)
{
	table_targets(a, 0);
}

static void table_sps(json_t *a)
{
	table_targets(a, 1);
}

static int usage_error(const char *msg)
{
	fprintf(stderr, "sluice ctl: %s\n\n%s\n", msg, usage);
	return 2;
}

static int cmd_config(struct ctl *c, int policy, int argc, char **argv)
{
	const char *base = policy ? "/api/v1/scalepolicies" : "/api/v1/launchconfigs";
	char path[512], name[256];
	if (argc < 1)
		return usage_error("which: list, get, create, replace or delete?");
	const char *sub = argv[0];
	if (strcmp(sub, "list") == 0)
		return run(c, "GET", base, NULL, policy ? table_sps : table_lcs,
		           policy ? "scalePolicies" : "launchConfigs");
	if ((strcmp(sub, "get") == 0 || strcmp(sub, "delete") == 0) && argc == 2) {
		seg(name, sizeof(name), argv[1]);
		snprintf(path, sizeof(path), "%s/%s", base, name);
		return run(c, sub[0] == 'g' ? "GET" : "DELETE", path, NULL, NULL, NULL);
	}
	if (strcmp(sub, "create") == 0 && argc == 2) {
		char *body = read_file(argv[1]);
		if (!body)
			return 1;
		int rc = run(c, "POST", base, body, NULL, NULL);
		free(body);
		return rc;
	}
	if (strcmp(sub, "replace") == 0 && argc == 3) {
		char *body = read_file(argv[2]);
		if (!body)
			return 1;
		seg(name, sizeof(name), argv[1]);
		snprintf(path, sizeof(path), "%s/%s", base, name);
		int rc = run(c, "PUT", path, body, NULL, NULL);
		free(body);
		return rc;
	}
	return usage_error("bad arguments");
}

static int cmd_group(struct ctl *c, int argc, char **argv)
{
	char path[512], name[256];
	if (argc < 1)
		return usage_error("group: list, get, create, delete, add-origin or thresholds?");
	const char *sub = argv[0];
	if (strcmp(sub, "list") == 0)
		return run(c, "GET", "/api/v1/groups", NULL, table_groups, "groups");
	if (strcmp(sub, "create") == 0) {
		json_t *o = json_object(), *regions = json_array();
		for (int i = 1; i < argc; i++) {
			const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
			if (strcmp(a, "--replace-dead") == 0) {
				json_object_set_new(o, "replaceDeadNodes", json_true());
				continue;
			}
			if (strcmp(a, "--keep-dead") == 0) {
				json_object_set_new(o, "deleteDeadNodes", json_false());
				continue;
			}
			if (!v) {
				json_decref(o);
				json_decref(regions);
				return usage_error("group create: a flag is missing its value");
			}
			if (strcmp(a, "--launch-config") == 0)
				json_object_set_new(o, "launchConfig", json_string(v));
			else if (strcmp(a, "--scale-policy") == 0)
				json_object_set_new(o, "scalePolicy", json_string(v));
			else if (strcmp(a, "--name") == 0)
				json_object_set_new(o, "name", json_string(v));
			else if (strcmp(a, "--region") == 0)
				json_array_append_new(regions, json_string(v));
			else {
				json_decref(o);
				json_decref(regions);
				return usage_error("group create: unknown flag");
			}
			i++;
		}
		if (json_array_size(regions) == 0)
			json_array_append_new(regions, json_string("local"));
		json_object_set_new(o, "regions", regions);
		char *body = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		int rc = run(c, "POST", "/api/v1/groups", body, NULL, NULL);
		free(body);
		return rc;
	}
	if (argc < 2)
		return usage_error("group: which group?");
	seg(name, sizeof(name), argv[1]);
	if (strcmp(sub, "get") == 0 || strcmp(sub, "delete") == 0) {
		snprintf(path, sizeof(path), "/api/v1/groups/%s", name);
		return run(c, sub[0] == 'g' ? "GET" : "DELETE", path, NULL, NULL, NULL);
	}
	if (strcmp(sub, "add-origin") == 0) {
		snprintf(path, sizeof(path), "/api/v1/groups/%s/origins", name);
		return run(c, "POST", path, "{}", NULL, NULL);
	}
	if (strcmp(sub, "thresholds") == 0) {
		snprintf(path, sizeof(path), "/api/v1/groups/%s/thresholds", name);
		if (argc == 2)
			return run(c, "GET", path, NULL, NULL, NULL);
		json_t *o = json_object();
		for (int i = 2; i + 1 < argc; i += 2) {
			if (strcmp(argv[i], "--role") == 0)
				json_object_set_new(o, "role", json_string(argv[i + 1]));
			else if (strcmp(argv[i], "--scale-out") == 0)
				json_object_set_new(o, "scaleOut", json_string(argv[i + 1]));
			else if (strcmp(argv[i], "--scale-in") == 0)
				json_object_set_new(o, "scaleIn", json_string(argv[i + 1]));
			else if (strcmp(argv[i], "--cpu-scale-out") == 0)
				json_object_set_new(o, "cpuScaleOut", json_string(argv[i + 1]));
		}
		char *body = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		int rc = run(c, "PUT", path, body, NULL, NULL);
		free(body);
		return rc;
	}
	return usage_error("group: unknown subcommand");
}

static int cmd_node(struct ctl *c, int argc, char **argv)
{
	char path[512], id[256];
	if (argc < 2)
		return usage_error("node: get, drain or remove, and an ID");
	seg(id, sizeof(id), argv[1]);
	if (strcmp(argv[0], "get") == 0) {
		snprintf(path, sizeof(path), "/api/v1/nodes/%s", id);
		return run(c, "GET", path, NULL, NULL, NULL);
	}
	if (strcmp(argv[0], "drain") == 0) {
		snprintf(path, sizeof(path), "/api/v1/nodes/%s/drain", id);
		return run(c, "POST", path, "{}", NULL, NULL);
	}
	if (strcmp(argv[0], "remove") == 0) {
		int force = argc > 2 && strcmp(argv[2], "--force") == 0;
		snprintf(path, sizeof(path), "/api/v1/nodes/%s%s", id, force ? "?force=true" : "");
		return run(c, "DELETE", path, NULL, NULL, NULL);
	}
	return usage_error("node: get, drain or remove");
}

static int cmd_route(struct ctl *c, int argc, char **argv)
{
	if (argc < 1 || !strchr(argv[0], '/'))
		return usage_error("route: APP/STREAM");
	char app[200], stream[200], path[900], region[100] = "", group[100] = "";
	const char *slash = strchr(argv[0], '/');
	char tmp[200];
	snprintf(tmp, sizeof(tmp), "%.*s", (int)(slash - argv[0]), argv[0]);
	seg(app, sizeof(app), tmp);
	seg(stream, sizeof(stream), slash + 1);
	const char *action = "subscribe";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--publish") == 0 || strcmp(argv[i], "--broadcast") == 0)
			action = "broadcast";
		else if (strcmp(argv[i], "--subscribe") == 0)
			action = "subscribe";
		else if (strcmp(argv[i], "--region") == 0 && i + 1 < argc)
			seg(region, sizeof(region), argv[++i]);
		else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc)
			seg(group, sizeof(group), argv[++i]);
		else
			return usage_error("route: unknown flag");
	}
	snprintf(path, sizeof(path), "/api/v1/streams/%s/%s?action=%s%s%s%s%s", app, stream, action,
	         region[0] ? "&region=" : "", region, group[0] ? "&group=" : "", group);
	return run(c, "GET", path, NULL, NULL, NULL);
}

int ctl_main(int argc, char **argv)
{
	struct ctl c = { .token = getenv("SLUICE_TOKEN"), .ca_file = getenv("SLUICE_CA_FILE") };
	/* A manager that closes while we write (TLS writes use no MSG_NOSIGNAL) is an error to
	 * report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);
	const char *url = getenv("SLUICE_MANAGER");
	if (!url || !*url)
		url = "http://127.0.0.1:5070";
	int i = 0;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--json") == 0) {
			c.json = 1;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			puts(usage);
			return 0;
		} else if ((strcmp(a, "--manager") == 0 || strcmp(a, "--token") == 0 ||
		            strcmp(a, "--ca-file") == 0) && i + 1 < argc) {
			if (a[2] == 'm')
				url = argv[++i];
			else if (a[2] == 't')
				c.token = argv[++i];
			else
				c.ca_file = argv[++i];
		} else {
			return usage_error("unknown option");
		}
	}
	if (parse_url(&c, url) < 0) {
		fprintf(stderr, "sluice ctl: manager URL must be http(s)://HOST[:PORT], got '%s'\n",
		        url);
		return 2;
	}
	if (i >= argc)
		return usage_error("which command?");
	const char *cmd = argv[i];
	int n = argc - i - 1;
	char **rest = argv + i + 1;
	/* Flags may also follow the command. */
	for (int j = 0; j < n; j++) {
		if (strcmp(rest[j], "--json") == 0) {
			c.json = 1;
			memmove(&rest[j], &rest[j + 1], (size_t)(n - j - 1) * sizeof(char *));
			n--;
			j--;
		}
	}
	if (strcmp(cmd, "status") == 0)
		return run(&c, "GET", "/api/v1/manager", NULL, NULL, NULL);
	if (strcmp(cmd, "controller") == 0)
		return run(&c, "GET", "/api/v1/controller", NULL, NULL, NULL);
	if (strcmp(cmd, "launchconfig") == 0 || strcmp(cmd, "launchconfigs") == 0)
		return cmd_config(&c, 0, n, rest);
	if (strcmp(cmd, "policy") == 0 || strcmp(cmd, "policies") == 0)
		return cmd_config(&c, 1, n, rest);
	if (strcmp(cmd, "group") == 0 || strcmp(cmd, "groups") == 0)
		return cmd_group(&c, n ? n : 1, n ? rest : (char *[]){ "list" });
	if (strcmp(cmd, "nodes") == 0) {
		char path[300] = "/api/v1/nodes", g[200];
		if (n == 2 && strcmp(rest[0], "--group") == 0) {
			seg(g, sizeof(g), rest[1]);
			snprintf(path, sizeof(path), "/api/v1/nodes?group=%s", g);
		} else if (n) {
			return usage_error("nodes [--group NAME]");
		}
		return run(&c, "GET", path, NULL, table_nodes, "nodes");
	}
	if (strcmp(cmd, "node") == 0)
		return cmd_node(&c, n, rest);
	if (strcmp(cmd, "route") == 0)
		return cmd_route(&c, n, rest);
	if (strcmp(cmd, "streams") == 0)
		return run(&c, "GET", "/api/v1/streams", NULL, table_streams, "streams");
	if (strcmp(cmd, "events") == 0) {
		char path[100] = "/api/v1/events";
		if (n == 2 && strcmp(rest[0], "--limit") == 0)
			snprintf(path, sizeof(path), "/api/v1/events?limit=%.10s", rest[1]);
		return run(&c, "GET", path, NULL, table_events, "events");
	}
	return usage_error("unknown command");
}

/* For `sluice ctl --help-man` (doc_cmd.c): the page shows the same text as --help. */
const char *ctl_usage_text(void)
{
	return usage;
}
