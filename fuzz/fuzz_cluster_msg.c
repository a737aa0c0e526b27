/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_cluster_msg.c - what another node (or anyone who reaches the RTMP
 * port) can send on a cluster link: AMF0 commands carrying member tables,
 * events and auth answers.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_auth.h"
#include "cluster/cluster_events.h"
#include "cluster/members.h"
#include "core/err.h"
#include "proto/rtmp.h"
#include "proto/rtmp_msg.h"

static struct members ms;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ms.n) {
		struct member self;
		memset(&self, 0, sizeof(self));
		strcpy(self.name, "self");
		strcpy(self.role, "origin");
		strcpy(self.host, "127.0.0.1");
		self.rtmp_port = 1935;
		self.http_port = 5080;
		members_init(&ms, &self, 5000);
	}
	struct rtmp_command cmd;
	static const struct amf0_limits lim = { 16, 65536 };
	if (rtmp_command_decode(RTMP_MSG_COMMAND_AMF0, data, size, &lim, &cmd) < 0)
		return 0;
	static uint64_t now;
	now += 700;
	for (unsigned i = 0; i < cmd.nargs; i++) {
		members_merge_amf(&ms, cmd.args[i], now);
		struct event_msg ev;
		if (event_from_amf(cmd.args[i], &ev) == 0) {
			event_sig_ok("secret", &ev);
			event_targets(&ev, "edge", "self");
			event_msg_free(&ev);
		}
	}
	members_expire(&ms, now);
	if (ms.n < 1 || ms.n > MEMBERS_MAX || strcmp(ms.m[0].name, "self") != 0)
		abort(); /* the table is bounded and this node never leaves it */
	uint64_t rr = 0;
	members_next_public(&ms, &rr);
	cluster_proof_check("secret-123", CLUSTER_DOWNSTREAM, "0123456789abcdef0123456789abcdef",
	                    rtmp_command_arg_str(&cmd, 0), rtmp_command_arg_str(&cmd, 1),
	                    rtmp_command_arg_str(&cmd, 2));
	rtmp_command_free(&cmd);
	return 0;
}
