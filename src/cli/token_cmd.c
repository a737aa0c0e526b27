/* SPDX-License-Identifier: Apache-2.0 */
/* token_cmd.c - `sluice token`: mints a signed publish/play token (see core/token.h). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "core/options.h"
#include "core/token.h"
#include "core/name.h"

struct token_args {
	char *secret;
	char *action;
	char *app;
	char *stream;
	uint64_t ttl;
};

#define OFF(f) offsetof(struct token_args, f)
static const char *const actions[] = { "publish", "play", NULL };

static const struct option_def token_options[] = {
	{ "secret", OPT_STRING, OFF(secret), NULL, 0, 0, NULL, "SECRET",
	  "the node's publish-secret or play-secret (or set SLUICE_TOKEN_SECRET)" },
	{ "action", OPT_ENUM, OFF(action), "play", 0, 0, actions, "ACTION", "what the token allows" },
	{ "app", OPT_STRING, OFF(app), "live", 0, 0, NULL, "APP", "application name" },
	{ "stream", OPT_STRING, OFF(stream), NULL, 0, 0, NULL, "NAME", "stream name (required)" },
	{ "ttl", OPT_MS, OFF(ttl), "1h", 1000, 0, NULL, "DURATION", "how long the token is valid" },
	OPT_END
};

static const char usage[] =
	"usage: sluice token --secret SECRET --stream NAME [--app APP] [--action publish|play]"
	" [--ttl 1h]\n\n"
	"Prints a token; give it as ?token=... on the RTMP stream name or HTTP-FLV URL.";

int token_main(int argc, char **argv)
{
	struct token_args a;
	struct opt_error err;
	memset(&a, 0, sizeof(a));
	options_defaults(token_options, &a, &err);
	int rc = options_parse_args(token_options, &a, argc, argv, &err);
	if (rc == 1) {
		options_print_help(stdout, usage, token_options);
		options_free(token_options, &a);
		return 0;
	}
	int status = 2;
	if (rc < 0) {
		fprintf(stderr, "sluice token: %s\n", err.msg);
		goto out;
	}
	const char *secret = a.secret;
	if (!secret || !*secret)
		secret = getenv("SLUICE_TOKEN_SECRET");
	if (!secret || !*secret) {
		fprintf(stderr, "sluice token: --secret (or SLUICE_TOKEN_SECRET) is required\n");
		goto out;
	}
	if (!a.stream || !stream_name_valid(a.stream) || !stream_name_valid(a.app)) {
		fprintf(stderr, "sluice token: --stream and --app must be 1-128 characters of "
		        "A-Z a-z 0-9 _ . ~ @ + = -\n");
		goto out;
	}
	char tok[TOKEN_MAX];
	token_make(secret, a.action, a.app, a.stream, (uint64_t)time(NULL) + a.ttl / 1000, tok);
	printf("%s\n", tok);
	status = 0;
out:
	options_free(token_options, &a);
	return status;
}
