/* SPDX-License-Identifier: Apache-2.0 */
/* aws_ec2.c - EC2 Query API bodies and answers (see aws_ec2.h). */
#include "manager/aws_ec2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "manager/aws_sigv4.h"

static void form_raw(struct ec2_form *f, const char *s, size_t n)
{
	if (f->len + n + 1 > f->cap) {
		f->cap = (f->len + n + 1) * 2;
		f->p = xrealloc(f->p, f->cap);
	}
	memcpy(f->p + f->len, s, n);
	f->len += n;
	f->p[f->len] = '\0';
}

static void form_enc(struct ec2_form *f, const char *s)
{
	size_t n = strlen(s), cap = n * 3 + 1;
	char *e = xmalloc(cap);
	int len = sigv4_uri_encode(s, n, 0, e, cap);
	form_raw(f, e, (size_t)len);
	free(e);
}

void ec2_form_init(struct ec2_form *f, const char *action)
{
	memset(f, 0, sizeof(*f));
	form_raw(f, "Action=", 7);
	form_enc(f, action);
	form_raw(f, "&Version=" EC2_API_VERSION, strlen("&Version=" EC2_API_VERSION));
}

void ec2_form_add(struct ec2_form *f, const char *key, const char *value)
{
	form_raw(f, "&", 1);
	form_enc(f, key);
	form_raw(f, "=", 1);
	form_enc(f, value);
}

void ec2_form_free(struct ec2_form *f)
{
	free(f->p);
	memset(f, 0, sizeof(*f));
}

/* Finds <tag>text</tag> in [p, end): the text's start and length, or NULL. */
static const char *element(const char *p, const char *end, const char *tag, size_t *tlen)
{
	char open[64], close[64];
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	size_t ol = strlen(open), cl = strlen(close);
	for (const char *s = p; s + ol <= end; s++) {
		if (memcmp(s, open, ol) != 0)
			continue;
		const char *t = s + ol;
		for (const char *e = t; e + cl <= end; e++)
			if (memcmp(e, close, cl) == 0) {
				*tlen = (size_t)(e - t);
				return t;
			}
		return NULL;
	}
	return NULL;
}

/* Copies XML text unescaping the five predefined entities; 0, or -1 if it does not fit. */
static int text_copy(const char *t, size_t n, char *out, size_t out_size)
{
	static const struct { const char *ent; char ch; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' },
	};
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = t[i];
		if (ch == '&') {
			for (size_t k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
				size_t el = strlen(ents[k].ent);
				if (i + el <= n && memcmp(t + i, ents[k].ent, el) == 0) {
					ch = ents[k].ch;
					i += el - 1;
					break;
				}
			}
		}
		if (o + 1 >= out_size)
			return -1;
		out[o++] = ch;
	}
	if (out_size == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

static int get_text(const char *p, const char *end, const char *tag, char *out, size_t n)
{
	size_t tl;
	const char *t = element(p, end, tag, &tl);
	out[0] = '\0';
	if (!t)
		return -1;
	return text_copy(t, tl, out, n);
}

int ec2_parse_error(const char *xml, size_t len, char *code, size_t code_size, char *msg,
                    size_t msg_size)
{
	const char *end = xml + len;
	if (get_text(xml, end, "Code", code, code_size) < 0)
		code[0] = '\0';
	if (get_text(xml, end, "Message", msg, msg_size) < 0)
		msg[0] = '\0';
	return code[0] ? 0 : -1;
}

/* One instance's fields from [p, end) (which starts at its <instanceId>). */
static int instance_at(const char *p, const char *end, struct ec2_instance *out)
{
	memset(out, 0, sizeof(*out));
	if (get_text(p, end, "instanceId", out->instance_id, sizeof(out->instance_id)) < 0 ||
	    !out->instance_id[0])
		return -1;
	get_text(p, end, "privateIpAddress", out->private_ip, sizeof(out->private_ip));
	size_t tl;
	const char *st = element(p, end, "instanceState", &tl);
	if (st)
		get_text(st, st + tl, "name", out->state, sizeof(out->state));
	/* The tag set: <item><key>sluice:node</key><value>ID</value></item> */
	const char *ts = element(p, end, "tagSet", &tl);
	const char *te = ts ? ts + tl : NULL;
	while (ts && ts < te) {
		size_t il;
		const char *it = element(ts, te, "item", &il);
		if (!it)
			break;
		char key[64];
		if (get_text(it, it + il, "key", key, sizeof(key)) == 0 &&
		    strcmp(key, EC2_TAG_NODE) == 0)
			get_text(it, it + il, "value", out->node, sizeof(out->node));
		ts = it + il;
	}
	return 0;
}

/* Where the next instance starts: the next "<instanceId>" after p, or end. */
static const char *next_instance(const char *p, const char *end)
{
	static const char tag[] = "<instanceId>";
	for (const char *s = p; s + sizeof(tag) - 1 <= end; s++)
		if (memcmp(s, tag, sizeof(tag) - 1) == 0)
			return s;
	return end;
}

int ec2_parse_run(const char *xml, size_t len, struct ec2_instance *out)
{
	const char *end = xml + len;
	const char *s = next_instance(xml, end);
	if (s == end)
		return -1;
	const char *n = next_instance(s + 1, end);
	return instance_at(s, n, out);
}

int ec2_parse_describe(const char *xml, size_t len, struct ec2_instance *out, size_t max)
{
	const char *end = xml + len;
	static const char root[] = "<DescribeInstancesResponse";
	int found = 0;
	for (const char *s = xml; s + sizeof(root) - 1 <= end; s++)
		if (memcmp(s, root, sizeof(root) - 1) == 0) {
			found = 1;
			break;
		}
	if (!found)
		return -1;
	size_t n = 0;
	const char *s = next_instance(xml, end);
	while (s < end && n < max) {
		const char *next = next_instance(s + 1, end);
		if (instance_at(s, next, &out[n]) == 0)
			n++;
		s = next;
	}
	return (int)n;
}

int ec2_parse_next_token(const char *xml, size_t len, char *out, size_t out_size)
{
	/* Tag values are escaped, so a raw <nextToken> is the response's own element. */
	if (get_text(xml, xml + len, "nextToken", out, out_size) < 0) {
		size_t tl;
		if (element(xml, xml + len, "nextToken", &tl))
			return -1;
		out[0] = '\0';
	}
	return 0;
}
