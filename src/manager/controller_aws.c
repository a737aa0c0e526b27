/* SPDX-License-Identifier: Apache-2.0 */
/*
 * controller_aws.c - the `aws` controller: nodes are EC2 instances, made
 * with RunInstances, stopped with TerminateInstances, listed with
 * DescribeInstances (the EC2 Query API, form-encoded POSTs signed with
 * Signature Version 4, aws_sigv4.c), over libcurl on the manager's loop.
 *
 * Credentials, first found: the environment (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, profile AWS_PROFILE
 * or default), else the instance metadata service with IMDSv2 (a session
 * token first, then the role's temporary credentials, refreshed before they
 * expire).
 *
 * Every instance is tagged sluice:cluster (aws-cluster-tag: which manager's)
 * and sluice:node (the node id), so list finds ours and only ours.  A
 * launch's ClientToken is the node id: a retry after a lost answer cannot
 * make a second instance.  Throttling (RequestLimitExceeded),
 * InsufficientInstanceCapacity, 5xx answers and transport errors are tried
 * again with a doubling backoff (controller-retries, cloud_op.c); the last
 * error's Code and Message are what the manager's event says.
 * DescribeInstances follows nextToken (up to CLOUD_LIST_PAGES_MAX pages).
 *
 * The node starts from its user data: a shell script that writes the node's
 * config and runs `sluice node` (docs/operations.md, "Controllers").
 */
#include "manager/controller.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "core/clock.h"
#include "core/crypto.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"
#include "manager/aws_ec2.h"
#include "manager/aws_sigv4.h"
#include "manager/cloud_op.h"
#include "manager/http_client.h"

#define AWS_LIST_MAX 1000           /* instances one DescribeInstances page is read for */
#define AWS_NEXT_TOKEN_MAX 1024     /* a longer nextToken is refused */
#define AWS_CREDS_EARLY_MS 300000   /* temporary credentials refreshed this long before expiry */
#define AWS_IMDS_TIMEOUT_MS 2000    /* one instance-metadata call (it is on the host) */
#define AWS_IMDS_MAX_ANSWER 16384
#define DEFAULT_RTMP_PORT 1935
#define DEFAULT_HTTP_PORT 5080

struct aws_creds {
	char akid[128], secret[128], token[2048];
	uint64_t expires_ms;            /* 0: long-lived */
	int have;
};

struct aws_controller {
	struct controller base;
	uv_loop_t *loop;
	struct aws_controller_config cfg;
	char endpoint[512], host[256], path[256];
	char imds[256];
	struct http_client *http;
	struct aws_creds creds;
	int use_imds;
	char imds_token[256], imds_role[128];
	int imds_stage;                 /* 0 session token, 1 role, 2 credentials */
	struct cloud_ops calls;
};

static void op_send(struct cloud_op *op);

/* ---- credentials ---- */

static void imds_next(struct aws_controller *ac);

/* "2026-12-03T20:00:00Z" -> ms since the epoch, or 0. */
static uint64_t iso_ms(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
	           &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	return t > 0 ? (uint64_t)t * 1000 : 0;
}

static void imds_answer(void *arg, int rc, long status, const char *body, size_t len,
                        const char *err)
{
	struct aws_controller *ac = arg;
	char msg[400];
	if (rc < 0 || status != 200) {
		snprintf(msg, sizeof(msg), "no AWS credentials: instance metadata (IMDSv2) %s: %s",
		         ac->imds_stage == 0 ? "token" : "credentials",
		         rc < 0 ? err : (status == 404 ? "no IAM role attached" : "refused"));
		cloud_ops_creds_done(&ac->calls, msg);
		return;
	}
	if (ac->imds_stage == 0) {
		snprintf(ac->imds_token, sizeof(ac->imds_token), "%.*s", (int)len, body);
	} else if (ac->imds_stage == 1) {
		size_t n = strcspn(body, "\r\n");
		snprintf(ac->imds_role, sizeof(ac->imds_role), "%.*s", (int)n, body);
	} else {
		json_error_t je;
		json_t *o = json_loadb(body, len, 0, &je);
		const char *akid = NULL, *secret = NULL, *token = NULL, *exp = NULL;
		if (!o || json_unpack_ex(o, &je, 0, "{s:s, s:s, s:s, s:s}", "AccessKeyId", &akid,
		                         "SecretAccessKey", &secret, "Token", &token, "Expiration",
		                         &exp) < 0 || strlen(akid) >= sizeof(ac->creds.akid) ||
		    strlen(secret) >= sizeof(ac->creds.secret) ||
		    strlen(token) >= sizeof(ac->creds.token)) {
			json_decref(o);
			cloud_ops_creds_done(&ac->calls, "no AWS credentials: the instance metadata's answer is not "
			                 "{AccessKeyId, SecretAccessKey, Token, Expiration}");
			return;
		}
		snprintf(ac->creds.akid, sizeof(ac->creds.akid), "%s", akid);
		snprintf(ac->creds.secret, sizeof(ac->creds.secret), "%s", secret);
		snprintf(ac->creds.token, sizeof(ac->creds.token), "%s", token);
		ac->creds.expires_ms = iso_ms(exp);
		ac->creds.have = 1;
		char ee[80], er[300];
		log_info("aws_credentials", "source=imds role=%s expires=%s",
		         log_escape(ac->imds_role, er, sizeof(er)), log_escape(exp, ee, sizeof(ee)));
		json_decref(o); /* exp points into o */
		cloud_ops_creds_done(&ac->calls, NULL);
		return;
	}
	ac->imds_stage++;
	imds_next(ac);
}

static void imds_next(struct aws_controller *ac)
{
	char url[512], hdr[300];
	const char *headers[2] = { hdr, NULL };
	struct http_client_req r = { .url = url, .headers = headers, .timeout_ms = AWS_IMDS_TIMEOUT_MS,
	                             .max_response = AWS_IMDS_MAX_ANSWER };
	if (ac->imds_stage == 0) {
		snprintf(url, sizeof(url), "%s/latest/api/token", ac->imds);
		snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token-ttl-seconds: 21600");
		r.method = "PUT";
	} else {
		snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/%s", ac->imds,
		         ac->imds_stage == 2 ? ac->imds_role : "");
		snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s", ac->imds_token);
		r.method = "GET";
	}
	if (http_client_send(ac->http, &r, imds_answer, ac) < 0)
		cloud_ops_creds_done(&ac->calls, "no AWS credentials: cannot ask the instance metadata "
		                     "service");
}

static int creds_fresh(struct aws_controller *ac)
{
	return ac->creds.have && (!ac->creds.expires_ms ||
	                          clock_wall_ms() + AWS_CREDS_EARLY_MS < ac->creds.expires_ms);
}

/* The shared credentials file's profile; 0 if it had keys. */
static int creds_from_file(struct aws_creds *cr, char *src, size_t src_size)
{
	const char *path = getenv("AWS_SHARED_CREDENTIALS_FILE");
	char buf[512];
	if (!path || !*path) {
		const char *home = getenv("HOME");
		if (!home)
			return -1;
		snprintf(buf, sizeof(buf), "%s/.aws/credentials", home);
		path = buf;
	}
	const char *profile = getenv("AWS_PROFILE");
	if (!profile || !*profile)
		profile = "default";
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[2300];
	int in = 0;
	while (fgets(line, sizeof(line), f)) {
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		size_t n = strlen(s);
		while (n && isspace((unsigned char)s[n - 1]))
			s[--n] = '\0';
		if (*s == '[') {
			char name[128];
			in = sscanf(s, "[%127[^]]]", name) == 1 && strcmp(name, profile) == 0;
			continue;
		}
		char *eq = strchr(s, '=');
		if (!in || !eq || *s == '#' || *s == ';')
			continue;
		char *k = s, *v = eq + 1;
		*eq = '\0';
		size_t kl = strlen(k);
		while (kl && isspace((unsigned char)k[kl - 1]))
			k[--kl] = '\0';
		while (isspace((unsigned char)*v))
			v++;
		if (strcmp(k, "aws_access_key_id") == 0)
			snprintf(cr->akid, sizeof(cr->akid), "%s", v);
		else if (strcmp(k, "aws_secret_access_key") == 0)
			snprintf(cr->secret, sizeof(cr->secret), "%s", v);
		else if (strcmp(k, "aws_session_token") == 0)
			snprintf(cr->token, sizeof(cr->token), "%s", v);
	}
	fclose(f);
	if (!cr->akid[0] || !cr->secret[0])
		return -1;
	cr->have = 1;
	snprintf(src, src_size, "%s [%s]", path, profile);
	return 0;
}

/* ---- one signed call ---- */

static int retryable(long status, const char *code)
{
	static const char *const codes[] = { "RequestLimitExceeded", "Throttling",
		"InsufficientInstanceCapacity", "InternalError", "Unavailable", "ServiceUnavailable",
		NULL };
	if (status >= 500 || status == 0)
		return 1;
	for (size_t i = 0; codes[i]; i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	return 0;
}

/* The DescribeInstances body: our cluster's pending and running instances, from the page
 * after next_token. */
static char *describe_body(struct aws_controller *ac, const char *next_token)
{
	struct ec2_form f;
	ec2_form_init(&f, "DescribeInstances");
	ec2_form_add(&f, "Filter.1.Name", "tag:" EC2_TAG_CLUSTER);
	ec2_form_add(&f, "Filter.1.Value.1", ac->cfg.cluster_tag);
	ec2_form_add(&f, "Filter.2.Name", "instance-state-name");
	ec2_form_add(&f, "Filter.2.Value.1", "pending");
	ec2_form_add(&f, "Filter.2.Value.2", "running");
	ec2_form_add(&f, "MaxResults", "1000");
	if (next_token && *next_token)
		ec2_form_add(&f, "NextToken", next_token);
	return f.p;   /* taken */
}

static void describe_next(struct cloud_op *op, const char *token)
{
	free(op->body);
	op->body = describe_body((struct aws_controller *)op->set->c, token);
}

static void describe_page(struct cloud_op *op, const char *body, size_t len)
{
	struct ec2_instance *v = xcalloc(AWS_LIST_MAX, sizeof(*v));
	char next[AWS_NEXT_TOKEN_MAX] = "";
	int n = ec2_parse_describe(body, len, v, AWS_LIST_MAX);
	if (n >= 0 && ec2_parse_next_token(body, len, next, sizeof(next)) < 0)
		n = -1;
	struct ctl_instance *ci = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*ci));
	int k = 0;
	for (int i = 0; i < n; i++) {
		if (!v[i].node[0])
			continue;  /* tagged with our cluster but not as a node: not ours to judge */
		snprintf(ci[k].id, sizeof(ci[k].id), "%s", v[i].node);
		snprintf(ci[k].instance, sizeof(ci[k].instance), "%s", v[i].instance_id);
		snprintf(ci[k].host, sizeof(ci[k].host), "%s", v[i].private_ip);
		k++;
	}
	free(v);
	cloud_op_page(op, n < 0 ? -1 : k, ci, next, "a DescribeInstancesResponse", describe_next);
}

static void op_done_ok(struct cloud_op *op, const char *body, size_t len)
{
	if (op->kind == CLOUD_LAUNCH) {
		struct ec2_instance in;
		if (ec2_parse_run(body, len, &in) < 0) {
			cloud_op_fail(op, "the answer names no instance");
			return;
		}
		struct node_place p;
		memset(&p, 0, sizeof(p));
		snprintf(p.instance, sizeof(p.instance), "%s", in.instance_id);
		snprintf(p.host, sizeof(p.host), "%s", in.private_ip);
		log_info("aws_launched", "node=%s instance=%s ip=%s tries=%u", op->id, p.instance,
		         p.host[0] ? p.host : "-", op->attempt + 1);
		cloud_op_launched(op, &p);
	} else if (op->kind == CLOUD_LIST) {
		describe_page(op, body, len);
	} else {
		log_info("aws_terminated", "node=%s", op->id);
		cloud_op_done(op);
	}
}

static void op_answer(void *arg, int rc, long status, const char *body, size_t len,
                      const char *err)
{
	struct cloud_op *op = arg;
	if (rc == 0 && status == 200) {
		op_done_ok(op, body, len);
		return;
	}
	char code[64] = "", msg[400] = "", last_err[512];
	if (rc < 0) {
		snprintf(last_err, sizeof(last_err), "%s", err);
	} else {
		ec2_parse_error(body, len, code, sizeof(code), msg, sizeof(msg));
		/* The cloud's words, made safe for a log line. */
		cloud_safe_text(msg);
		for (char *p = code; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '.')
				*p = '?';
		snprintf(last_err, sizeof(last_err), "%s (HTTP %ld): %s", code[0] ? code : "error",
		         status, msg[0] ? msg : "no message");
	}
	if ((rc < 0 || retryable(status, code)) && cloud_op_retry(op, last_err))
		return;
	char m[700];
	snprintf(m, sizeof(m), "%s%s", last_err, op->attempt ? " (after retries)" : "");
	cloud_op_fail(op, m);
}

static void op_send(struct cloud_op *op)
{
	struct aws_controller *ac = (struct aws_controller *)op->set->c;
	if (!creds_fresh(ac)) {
		if (!ac->use_imds) {
			cloud_op_fail(op, "no AWS credentials (environment, shared credentials file)");
			return;
		}
		if (cloud_op_wait(op)) {
			ac->imds_stage = 0;
			imds_next(ac);
		}
		return;
	}
	char amz_date[20];
	time_t now = (time_t)(clock_wall_ms() / 1000);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(amz_date, sizeof(amz_date), "%Y%m%dT%H%M%SZ", &tm);
	char clen[32];
	size_t blen = strlen(op->body);
	snprintf(clen, sizeof(clen), "%zu", blen);
	struct sigv4_header sh[5] = {
		{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
		{ "Host", ac->host },
		{ "X-Amz-Date", amz_date },
	};
	size_t nh = 3;
	if (ac->creds.token[0])
		sh[nh++] = (struct sigv4_header){ "X-Amz-Security-Token", ac->creds.token };
	struct sigv4_request sr = { .method = "POST", .path = ac->path, .headers = sh,
	                            .nheaders = nh, .body = op->body, .body_len = blen };
	struct sigv4_key key = { .access_key = ac->creds.akid, .secret_key = ac->creds.secret,
	                         .region = ac->cfg.region, .service = "ec2" };
	char auth[600];
	if (sigv4_authorization(&sr, &key, amz_date, auth, sizeof(auth), NULL, 0) < 0) {
		cloud_op_fail(op, "cannot sign the request (credentials too long?)");
		return;
	}
	char h_ct[128], h_host[300], h_date[64], h_auth[640], h_tok[2100];
	snprintf(h_ct, sizeof(h_ct), "Content-Type: %s", sh[0].value);
	snprintf(h_host, sizeof(h_host), "Host: %s", ac->host);
	snprintf(h_date, sizeof(h_date), "X-Amz-Date: %s", amz_date);
	snprintf(h_auth, sizeof(h_auth), "Authorization: %s", auth);
	snprintf(h_tok, sizeof(h_tok), "X-Amz-Security-Token: %s", ac->creds.token);
	const char *headers[] = { h_ct, h_host, h_date, h_auth, ac->creds.token[0] ? h_tok : NULL,
	                          NULL };
	struct http_client_req r = { .method = "POST", .url = ac->endpoint, .headers = headers,
	                             .body = op->body, .body_len = blen,
	                             .timeout_ms = (long)ac->cfg.timeout_ms };
	if (http_client_send(ac->http, &r, op_answer, op) < 0)
		cloud_op_fail(op, "cannot start the HTTP request");
}

static const struct cloud_api aws_api = {
	.what = "EC2",
	.log_failed = "aws_call_failed",
	.log_abandoned = "aws_call_abandoned",
	.kind_names = { "RunInstances", "TerminateInstances", "DescribeInstances" },
	.send = op_send,
};

/* A call whose body is the form f's (taken). */
static struct cloud_op *op_new(struct aws_controller *ac, enum cloud_op_kind kind,
                               const char *id, struct ec2_form *f)
{
	struct cloud_op *op = cloud_op_new(&ac->calls, kind, id);
	op->body = f->p;
	f->p = NULL;
	return op;
}

/* ---- the controller ---- */

static const char *const aws_props[] = { "imageId", "launchTemplateName", "launchTemplateId",
	"instanceType", "subnetId", "securityGroupIds", "keyName", "iamInstanceProfile",
	"rtmpPort", "httpPort", NULL };

int controller_aws_check(const json_t *props, char *err, size_t err_size)
{
	const char *s;
	long long v;
	if (ctl_prop_only(props, aws_props, err, err_size) < 0)
		return SL_EINVAL;
	for (size_t i = 0; aws_props[i]; i++) {
		if (strcmp(aws_props[i], "rtmpPort") == 0 || strcmp(aws_props[i], "httpPort") == 0) {
			if (ctl_prop_int(props, aws_props[i], 1, 65535, 1, &v, err, err_size) < 0)
				return SL_EINVAL;
		} else if (ctl_prop_str(props, aws_props[i], 255, NULL, &s, err, err_size) < 0) {
			return SL_EINVAL;
		}
	}
	const char *ami = NULL, *ltn = NULL, *lti = NULL;
	ctl_prop_str(props, "imageId", 255, NULL, &ami, err, err_size);
	ctl_prop_str(props, "launchTemplateName", 255, NULL, &ltn, err, err_size);
	ctl_prop_str(props, "launchTemplateId", 255, NULL, &lti, err, err_size);
	if (ami && strncmp(ami, "ami-", 4) != 0) {
		snprintf(err, err_size, "properties.imageId: expected an AMI id (ami-...)");
		return SL_EINVAL;
	}
	if (!ami && !ltn && !lti) {
		snprintf(err, err_size, "properties: the aws controller needs imageId (ami-...) or "
		         "launchTemplateName or launchTemplateId");
		return SL_EINVAL;
	}
	return 0;
}

/* The node's bootstrap (controller.c): user data holds a one-time token, not the secret. */
static char *user_data(struct aws_controller *ac, const struct node_spec *spec, int rtmp_port,
                       int http_port)
{
	char *text = ctl_boot_script(spec, "aws", ac->cfg.manager_url, rtmp_port, http_port,
	                             "t=$(curl -sf -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: "
	                             "60' http://169.254.169.254/latest/api/token) && curl -sf -H "
	                             "\"X-aws-ec2-metadata-token: $t\" http://169.254.169.254/"
	                             "latest/meta-data/local-ipv4");
	size_t n = strlen(text);
	char *b64 = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)text, (int)n);
	explicit_bzero(text, n);
	free(text);
	return b64;
}

static int aws_launch(struct controller *c, const struct node_spec *spec,
                      struct node_place *now, char *err, size_t err_size)
{
	struct aws_controller *ac = (struct aws_controller *)c;
	(void)now;
	const json_t *p = spec->properties;
	const char *ami = NULL, *ltn = NULL, *lti = NULL, *itype = NULL, *subnet = NULL,
	           *sgs = NULL, *keyname = NULL, *profile = NULL;
	long long rport, hport;
	if (controller_aws_check(p, err, err_size) < 0 ||
	    ctl_prop_int(p, "rtmpPort", 1, 65535, DEFAULT_RTMP_PORT, &rport, err, err_size) < 0 ||
	    ctl_prop_int(p, "httpPort", 1, 65535, DEFAULT_HTTP_PORT, &hport, err, err_size) < 0)
		return SL_EINVAL;
	ctl_prop_str(p, "imageId", 255, NULL, &ami, err, err_size);
	ctl_prop_str(p, "launchTemplateName", 255, NULL, &ltn, err, err_size);
	ctl_prop_str(p, "launchTemplateId", 255, NULL, &lti, err, err_size);
	ctl_prop_str(p, "instanceType", 255, spec->instance_type, &itype, err, err_size);
	ctl_prop_str(p, "subnetId", 255, NULL, &subnet, err, err_size);
	ctl_prop_str(p, "securityGroupIds", 255, NULL, &sgs, err, err_size);
	ctl_prop_str(p, "keyName", 255, NULL, &keyname, err, err_size);
	ctl_prop_str(p, "iamInstanceProfile", 255, NULL, &profile, err, err_size);
	struct ec2_form f;
	ec2_form_init(&f, "RunInstances");
	if (ami)
		ec2_form_add(&f, "ImageId", ami);
	if (ltn)
		ec2_form_add(&f, "LaunchTemplate.LaunchTemplateName", ltn);
	if (lti)
		ec2_form_add(&f, "LaunchTemplate.LaunchTemplateId", lti);
	if (itype && strcmp(itype, "local") != 0)
		ec2_form_add(&f, "InstanceType", itype);
	ec2_form_add(&f, "MinCount", "1");
	ec2_form_add(&f, "MaxCount", "1");
	ec2_form_add(&f, "ClientToken", spec->id);
	if (subnet)
		ec2_form_add(&f, "SubnetId", subnet);
	if (sgs) {
		char buf[256], key[48];
		snprintf(buf, sizeof(buf), "%s", sgs);
		unsigned i = 1;
		for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			snprintf(key, sizeof(key), "SecurityGroupId.%u", i++);
			ec2_form_add(&f, key, tok);
		}
	}
	if (keyname)
		ec2_form_add(&f, "KeyName", keyname);
	if (profile)
		ec2_form_add(&f, "IamInstanceProfile.Name", profile);
	/* Tags on the instance from its first moment: list finds it even if our answer is lost. */
	const char *tags[][2] = { { EC2_TAG_CLUSTER, ac->cfg.cluster_tag }, { EC2_TAG_NODE, spec->id },
	                          { "sluice:group", spec->group }, { "sluice:role", spec->role },
	                          { "Name", spec->id } };
	ec2_form_add(&f, "TagSpecification.1.ResourceType", "instance");
	for (unsigned i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		char k[64];
		snprintf(k, sizeof(k), "TagSpecification.1.Tag.%u.Key", i + 1);
		ec2_form_add(&f, k, tags[i][0]);
		snprintf(k, sizeof(k), "TagSpecification.1.Tag.%u.Value", i + 1);
		ec2_form_add(&f, k, tags[i][1]);
	}
	char *ud = user_data(ac, spec, (int)rport, (int)hport);
	ec2_form_add(&f, "UserData", ud);
	free(ud);
	struct cloud_op *op = op_new(ac, CLOUD_LAUNCH, spec->id, &f);
	op->rtmp_port = (int)rport;
	op->http_port = (int)hport;
	ctl_seen_launching(c, spec->id);
	cloud_op_start(op);
	return 0;
}

static int aws_terminate(struct controller *c, const char *id, const struct node_place *p,
                         int force)
{
	struct aws_controller *ac = (struct aws_controller *)c;
	(void)force;  /* EC2 has no graceful stop: the node drained before, when it could */
	if (!p->instance[0])
		return SL_ENOTFOUND;
	struct ec2_form f;
	ec2_form_init(&f, "TerminateInstances");
	ec2_form_add(&f, "InstanceId.1", p->instance);
	ctl_seen_forget(c, id);
	cloud_op_start(op_new(ac, CLOUD_TERMINATE, id, &f));
	return 0;
}

static int aws_list(struct controller *c, char *err, size_t err_size)
{
	struct aws_controller *ac = (struct aws_controller *)c;
	(void)err;
	(void)err_size;
	struct cloud_op *op = cloud_op_new(&ac->calls, CLOUD_LIST, NULL);
	op->body = describe_body(ac, NULL);
	ctl_seen_list_started(c);
	cloud_op_start(op);
	return 0;
}

static void aws_close(struct controller *c)
{
	struct aws_controller *ac = (struct aws_controller *)c;
	cloud_ops_close(&ac->calls);
	http_client_free(ac->http);
	explicit_bzero(&ac->creds, sizeof(ac->creds));
	ctl_seen_free(c);
	free(ac);
}

static int aws_busy(struct controller *c)
{
	struct aws_controller *ac = (struct aws_controller *)c;
	return cloud_ops_busy(&ac->calls);
}

static const struct controller_ops aws_ops = {
	.name = "aws",
	.check_properties = controller_aws_check,
	.launch = aws_launch,
	.terminate = aws_terminate,
	.running = ctl_list_running,
	.list = aws_list,
	.busy = aws_busy,
	.close = aws_close,
};

struct controller *controller_aws_new(uv_loop_t *loop, const struct aws_controller_config *cfg,
                                      char *err, size_t err_size)
{
	struct aws_controller *ac = xcalloc(1, sizeof(*ac));
	ac->base.ops = &aws_ops;
	ac->loop = loop;
	ac->cfg = *cfg;
	if (cfg->endpoint && *cfg->endpoint)
		snprintf(ac->endpoint, sizeof(ac->endpoint), "%s", cfg->endpoint);
	else
		snprintf(ac->endpoint, sizeof(ac->endpoint), "https://ec2.%s.amazonaws.com/",
		         cfg->region);
	/* scheme://host[:port][/path]: the Host header and path we sign. */
	const char *h = strstr(ac->endpoint, "://");
	if (!h || (strncmp(ac->endpoint, "https://", 8) != 0 &&
	           strncmp(ac->endpoint, "http://", 7) != 0)) {
		snprintf(err, err_size, "aws-endpoint: expected http(s)://HOST[:PORT]/, got '%s'",
		         ac->endpoint);
		free(ac);
		return NULL;
	}
	h += 3;
	size_t hl = strcspn(h, "/?#");
	snprintf(ac->host, sizeof(ac->host), "%.*s", (int)hl, h);
	snprintf(ac->path, sizeof(ac->path), "%s", h[hl] == '/' ? h + hl : "/");
	snprintf(ac->imds, sizeof(ac->imds), "%s", cfg->imds_endpoint);
	ac->http = http_client_new(loop);
	if (!ac->http) {
		snprintf(err, err_size, "cannot start libcurl");
		free(ac);
		return NULL;
	}
	cloud_ops_init(&ac->calls, &ac->base, loop, &aws_api, cfg->retries);
	ctl_seen_init(&ac->base);
	const char *akid = getenv("AWS_ACCESS_KEY_ID"), *sec = getenv("AWS_SECRET_ACCESS_KEY");
	char src[600] = "environment";
	if (akid && *akid && sec && *sec) {
		snprintf(ac->creds.akid, sizeof(ac->creds.akid), "%s", akid);
		snprintf(ac->creds.secret, sizeof(ac->creds.secret), "%s", sec);
		const char *tok = getenv("AWS_SESSION_TOKEN");
		snprintf(ac->creds.token, sizeof(ac->creds.token), "%s", tok ? tok : "");
		ac->creds.have = 1;
	} else if (creds_from_file(&ac->creds, src, sizeof(src)) < 0) {
		ac->use_imds = 1;
		snprintf(src, sizeof(src), "instance metadata (IMDSv2) at %s", ac->imds);
	}
	log_info("aws_controller", "region=%s endpoint=%s credentials=%s cluster_tag=%s",
	         cfg->region, ac->endpoint, src, cfg->cluster_tag);
	return &ac->base;
}
