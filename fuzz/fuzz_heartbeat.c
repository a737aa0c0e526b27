/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_heartbeat.c - libFuzzer target for a node's report to the stream
 * manager (register and heartbeat bodies, proto/heartbeat.c).
 *
 * Invariants: 0 or SL_EINVAL with a message; on 0 the names are valid,
 * at most HEARTBEAT_MAX_STREAMS streams, and build() then parse() gives the
 * same report back; nothing leaks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/heartbeat.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct node_report rep, rep2;
	char err[300], err2[300];
	err[0] = '\0';
	if (node_report_parse((const char *)data, size, &rep, err, sizeof(err)) != 0) {
		CHECK(err[0] && rep.streams == NULL && rep.nstreams == 0);
		return 0;
	}
	CHECK(rep.id[0] && rep.group[0] && rep.nstreams <= HEARTBEAT_MAX_STREAMS);
	CHECK(rep.rtmp_port >= 1 && rep.rtmp_port <= 65535);
	char *s = node_report_build(&rep);
	CHECK(s);
	CHECK(node_report_parse(s, strlen(s), &rep2, err2, sizeof(err2)) == 0);
	CHECK(rep.nstreams == rep2.nstreams && rep.viewers == rep2.viewers &&
	      rep.http_port == rep2.http_port && strcmp(rep.id, rep2.id) == 0 &&
	      strcmp(rep.host, rep2.host) == 0 && strcmp(rep.role, rep2.role) == 0);
	for (unsigned i = 0; i < rep.nstreams; i++)
		CHECK(memcmp(&rep.streams[i], &rep2.streams[i], sizeof(rep.streams[i])) == 0);
	free(s);
	node_report_free(&rep);
	node_report_free(&rep2);
	return 0;
}
