/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_manager_json.c - every JSON body the stream manager accepts: launch
 * configurations, scale policies, node groups and thresholds (node reports
 * are fuzz_heartbeat.c's).  Each input goes through every parser; whatever a
 * parser accepts must survive a trip through its JSON writer unchanged, and
 * every refusal must say why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manager/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		abort();
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char err[300], err2[300];

	struct launch_config lc, lc2;
	if (lc_parse(text, size, &lc, err, sizeof(err)) == 0) {
		char *s = dump(lc_to_json(&lc));
		if (lc_parse(s, strlen(s), &lc2, err2, sizeof(err2)) != 0)
			abort();
		for (int r = 0; r < MROLE_COUNT; r++)
			if (lc.t[r].present != lc2.t[r].present || lc.t[r].capacity != lc2.t[r].capacity ||
			    strcmp(lc.t[r].instance_type, lc2.t[r].instance_type) != 0)
				abort();
		if (strcmp(lc.name, lc2.name) != 0 || lc.transcoder.present != lc2.transcoder.present ||
		    lc.transcoder.capacity != lc2.transcoder.capacity)
			abort();
		free(s);
		lc_free(&lc);
		lc_free(&lc2);
	} else if (!err[0]) {
		abort();
	}

	struct scale_policy sp, sp2;
	if (sp_parse(text, size, &sp, err, sizeof(err)) == 0) {
		char *s = dump(sp_to_json(&sp));
		if (sp_parse(s, strlen(s), &sp2, err2, sizeof(err2)) != 0)
			abort();
		for (int r = 0; r < MROLE_COUNT; r++) {
			if (memcmp(&sp.t[r], &sp2.t[r], sizeof(sp.t[r])) != 0)
				abort();
			if (sp.t[r].present && sp.t[r].min > sp.t[r].max)
				abort();
		}
		if (memcmp(&sp.transcoder, &sp2.transcoder, sizeof(sp.transcoder)) != 0 ||
		    strcmp(sp.type, sp2.type) != 0)
			abort();
		free(s);
	} else if (!err[0]) {
		abort();
	}

	struct node_group g, g2;
	if (group_parse(text, size, &g, err, sizeof(err)) == 0) {
		if (!g.name[0])
			memcpy(g.name, "fuzz", 5);
		char *s = dump(group_to_json(&g));
		if (group_parse(s, strlen(s), &g2, err2, sizeof(err2)) != 0)
			abort();
		if (memcmp(&g, &g2, sizeof(g)) != 0)
			abort();
		free(s);
	} else if (!err[0]) {
		abort();
	}

	int role;
	struct thresholds th = { 60, 20, 0 };
	if (thresholds_parse(text, size, &role, &th, err, sizeof(err)) == 0) {
		if (role < 0 || role >= MROLE_COUNT || th.in_pct >= th.out_pct)
			abort();
	} else if (!err[0]) {
		abort();
	}

	return 0;
}
