/* SPDX-License-Identifier: Apache-2.0 */
/* access.c - signed-token checks for publish and play (see core/token.h). */
#include <time.h>

#include "core/log.h"
#include "core/token.h"
#include "node/node.h"

int node_check_token(struct node *n, const char *action, const char *app, const char *name,
                     const char *token, const char *peer, uint64_t client_id)
{
	const char *secret = action[1] == 'u' ? n->cfg->publish_secret : n->cfg->play_secret;
	if (!secret || !*secret)
		return 0;
	enum token_result r = token_check(secret, action, app, name, token,
	                                  (uint64_t)time(NULL));
	if (r == TOKEN_OK)
		return 0;
	n->stats.auth_refused++;
	/* The token itself is never logged. */
	/* A peer can ask as often as it likes (one pipelined connection, thousands a second). */
	char eapp[160], ename[160];
	log_throttled(LOG_INFO, "access_denied", "client=%llu peer=%s action=%s app=%s stream=%s "
	              "reason=%s", (unsigned long long)client_id, peer, action,
	              log_escape(app, eapp, sizeof(eapp)), log_escape(name, ename, sizeof(ename)),
	              token_result_name(r));
	return -1;
}
