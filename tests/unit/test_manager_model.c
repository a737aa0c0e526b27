/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_manager_model.c - the manager's JSON: launch configurations and scale
 * policies in the shapes of Red5 Pro's documents (string-typed numbers,
 * wrappers, nested targets), node groups, thresholds, node reports; and
 * refusals that name the field.  The sample documents are the ones printed
 * in Red5 Pro's AWS autoscaling guide (default-v2.json), completed into
 * valid JSON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/err.h"
#include "manager/model.h"

static const char red5_lc[] =
	"{\"launchconfig\": {\"name\": \"aws-default-v2\", \"description\": \"sample\","
	" \"image\": \"red5pro-server-v110\", \"version\": \"0.0.2\","
	" \"targets\": {\"target\": [{\"role\": \"origin\", \"instanceType\": \"c4.xlarge\","
	" \"connectionCapacity\": \"2000\"}, {\"role\": \"edge\", \"instanceType\": \"c4.large\","
	" \"connectionCapacity\": \"2000\"}]},"
	" \"properties\": {\"property\": [{\"name\": \"network\", \"value\": \"default\"}]},"
	" \"metadata\": {\"meta\": [{\"key\": \"role\", \"value\": \"unassigned\"}]}}}";

static const char red5_sp[] =
	"{\"policy\": {\"name\": \"default-v2\", \"description\": \"sample\", \"version\": \"0.0.2\","
	" \"type\": \"\", \"targets\": {\"target\": [{\"role\": \"edge\", \"coolDownPeriod\": \"180000\","
	" \"estimatedWarmUpTime\": \"120000\", \"minLimit\": \"2\", \"maxLimit\": \"10\","
	" \"scaleAdjustment\": \"1\"}, {\"role\": \"origin\", \"coolDownPeriod\": \"180000\","
	" \"estimatedWarmUpTime\": \"120000\", \"minLimit\": \"1\", \"maxLimit\": \"2\","
	" \"scaleAdjustment\": \"1\"}]}}}";

static void test_red5_launch_config(void **state)
{
	(void)state;
	struct launch_config lc;
	char err[256];
	assert_int_equal(lc_parse(red5_lc, strlen(red5_lc), &lc, err, sizeof(err)), 0);
	assert_string_equal(lc.name, "aws-default-v2");
	assert_string_equal(lc.image, "red5pro-server-v110");
	assert_true(lc.t[MROLE_ORIGIN].present);
	assert_int_equal(lc.t[MROLE_ORIGIN].capacity, 2000);
	assert_string_equal(lc.t[MROLE_EDGE].instance_type, "c4.large");
	assert_false(lc.t[MROLE_RELAY].present);
	assert_non_null(lc.properties);
	/* Round trip: what we store parses back to the same thing. */
	json_t *j = lc_to_json(&lc);
	char *s = json_dumps(j, JSON_COMPACT);
	struct launch_config again;
	assert_int_equal(lc_parse(s, strlen(s), &again, err, sizeof(err)), 0);
	assert_int_equal(again.t[MROLE_EDGE].capacity, 2000);
	assert_true(json_equal(again.properties, lc.properties));
	free(s);
	json_decref(j);
	lc_free(&again);
	lc_free(&lc);
}

static void test_red5_policy(void **state)
{
	(void)state;
	struct scale_policy sp;
	char err[256];
	assert_int_equal(sp_parse(red5_sp, strlen(red5_sp), &sp, err, sizeof(err)), 0);
	assert_int_equal(sp.t[MROLE_EDGE].min, 2);
	assert_int_equal(sp.t[MROLE_EDGE].max, 10);
	assert_int_equal(sp.t[MROLE_EDGE].cooldown_ms, 180000);
	assert_int_equal(sp.t[MROLE_ORIGIN].max, 2);
	/* A role the policy omits: origin defaults to 1..1, others 0..0. */
	const char *edge_only = "{\"name\":\"p\",\"targets\":[{\"role\":\"edge\",\"minLimit\":1,"
	                        "\"maxLimit\":3}]}";
	assert_int_equal(sp_parse(edge_only, strlen(edge_only), &sp, err, sizeof(err)), 0);
	struct sp_target o = sp_effective(&sp, MROLE_ORIGIN);
	assert_int_equal(o.min, 1);
	assert_int_equal(o.max, 1);
	assert_int_equal(sp_effective(&sp, MROLE_RELAY).max, 0);
	assert_int_equal(sp.t[MROLE_EDGE].adjust, 1);
	/* Per-region targets (Red5's later shape). */
	const char *regions = "{\"policy\":{\"name\":\"r\",\"targets\":{\"region\":[{\"name\":\"us\","
	                      "\"target\":[{\"role\":\"edge\",\"minLimit\":\"0\",\"maxLimit\":\"4\"}]}]}}}";
	assert_int_equal(sp_parse(regions, strlen(regions), &sp, err, sizeof(err)), 0);
	assert_int_equal(sp.t[MROLE_EDGE].max, 4);
	/* Red5's documented type (a Java class name), reals as its scripts write them, and
	 * the transcoder role: accepted, kept, and written back. */
	const char *java = "{\"policy\":{\"name\":\"j\",\"type\":"
	                   "\"com.red5pro.services.autoscaling.model.ScalePolicyMaster\","
	                   "\"targets\":{\"target\":[{\"role\":\"edge\",\"minLimit\":1.0,"
	                   "\"maxLimit\":40.0},{\"role\":\"transcoder\",\"minLimit\":\"0\","
	                   "\"maxLimit\":\"2\"}]}}}";
	assert_int_equal(sp_parse(java, strlen(java), &sp, err, sizeof(err)), 0);
	assert_string_equal(sp.type, "com.red5pro.services.autoscaling.model.ScalePolicyMaster");
	assert_int_equal(sp.t[MROLE_EDGE].max, 40);
	assert_true(sp.transcoder.present);
	assert_int_equal(sp.transcoder.max, 2);
	json_t *back = sp_to_json(&sp);
	char *text = json_dumps(back, JSON_COMPACT);
	struct scale_policy sp2;
	assert_int_equal(sp_parse(text, strlen(text), &sp2, err, sizeof(err)), 0);
	assert_true(sp2.transcoder.present && sp2.transcoder.max == 2);
	free(text);
	json_decref(back);
	/* A real that is not a whole number is still refused, naming the field. */
	const char *frac = "{\"name\":\"f\",\"targets\":[{\"role\":\"edge\",\"minLimit\":1,"
	                   "\"maxLimit\":2.5}]}";
	assert_int_equal(sp_parse(frac, strlen(frac), &sp, err, sizeof(err)), SL_EINVAL);
	assert_non_null(strstr(err, "maxLimit: expected an integer"));
}

struct bad_case {
	const char *json;
	const char *want; /* a substring of the message */
};

static void test_refusals_name_the_field(void **state)
{
	(void)state;
	static const struct bad_case lcs[] = {
		{ "{", "malformed JSON" },
		{ "[]", "JSON object" },
		{ "{\"targets\":[]}", "name: required" },
		{ "{\"name\":\"a b\",\"targets\":[]}", "name: must be" },
		{ "{\"name\":\"x\"}", "targets: required" },
		{ "{\"name\":\"x\",\"targets\":[{\"role\":\"edge\",\"connectionCapacity\":\"abc\"}]}",
		  "targets.target[0].connectionCapacity: expected an integer" },
		{ "{\"name\":\"x\",\"targets\":[{\"role\":\"edge\",\"connectionCapacity\":0}]}",
		  "connectionCapacity: 0 is out of range" },
		{ "{\"name\":\"x\",\"targets\":[{\"role\":\"king\",\"connectionCapacity\":1}]}",
		  "target[0].role: expected origin, edge, relay or transcoder" },
		{ "{\"name\":\"x\",\"targets\":[{\"connectionCapacity\":1}]}", "role: required" },
		{ "{\"name\":\"x\",\"targets\":[{\"role\":\"edge\",\"connectionCapacity\":1},"
		  "{\"role\":\"edge\",\"connectionCapacity\":2}]}", "listed twice" },
		{ "{\"launchconfig\":{\"name\":\"x\",\"targets\":{\"target\":[{\"role\":\"edge\","
		  "\"connectionCapacity\":\"1.5\"}]}}}",
		  "launchconfig.targets.target[0].connectionCapacity" },
		{ "{\"name\":\"x\",\"targets\":[{\"role\":\"edge\",\"connectionCapacity\":1}],"
		  "\"properties\":3}", "properties: expected an object" },
		{ "{\"name\":\"x\",\"name\":\"y\",\"targets\":[]}", "malformed JSON" },
	};
	char err[256];
	for (size_t i = 0; i < sizeof(lcs) / sizeof(lcs[0]); i++) {
		struct launch_config lc;
		assert_int_not_equal(lc_parse(lcs[i].json, strlen(lcs[i].json), &lc, err, sizeof(err)), 0);
		if (!strstr(err, lcs[i].want))
			fail_msg("case %zu: '%s' does not contain '%s'", i, err, lcs[i].want);
	}
	static const struct bad_case sps[] = {
		{ "{\"name\":\"p\",\"targets\":[{\"role\":\"edge\",\"minLimit\":5,\"maxLimit\":2}]}",
		  "target[0]: minLimit (5) is greater than maxLimit (2)" },
		{ "{\"name\":\"p\",\"targets\":[{\"role\":\"edge\",\"maxLimit\":2}]}", "minLimit: required" },
		{ "{\"name\":\"p\",\"targets\":[{\"role\":\"edge\",\"minLimit\":-1,\"maxLimit\":2}]}",
		  "minLimit: -1 is out of range" },
		{ "{\"name\":\"p\",\"targets\":[{\"role\":\"edge\",\"minLimit\":1,\"maxLimit\":2,"
		  "\"coolDownPeriod\":true}]}", "coolDownPeriod: expected an integer" },
		{ "{\"name\":\"p\",\"targets\":{}}", "targets: required" },
		{ "{\"name\":\"p\",\"targets\":[{\"role\":\"edge\",\"minLimit\":\"1x\",\"maxLimit\":2}]}",
		  "minLimit: expected an integer" },
		{ "{\"name\":\"p\",\"targets\":[{\"role\":\"edge\",\"minLimit\":\"99999999999999999999\","
		  "\"maxLimit\":2}]}", "minLimit: expected an integer" },
	};
	for (size_t i = 0; i < sizeof(sps) / sizeof(sps[0]); i++) {
		struct scale_policy sp;
		assert_int_not_equal(sp_parse(sps[i].json, strlen(sps[i].json), &sp, err, sizeof(err)), 0);
		if (!strstr(err, sps[i].want))
			fail_msg("policy case %zu: '%s' does not contain '%s'", i, err, sps[i].want);
	}
	static const struct bad_case groups[] = {
		{ "{\"launchConfig\":\"a\",\"scalePolicy\":\"b\"}", "regions: required" },
		{ "{\"regions\":[],\"launchConfig\":\"a\",\"scalePolicy\":\"b\"}", "regions: required" },
		{ "{\"regions\":[\"us\"],\"scalePolicy\":\"b\"}", "launchConfig: required" },
		{ "{\"regions\":[\"us\"],\"launchConfig\":\"a\",\"scalePolicy\":7}",
		  "scalePolicy: expected a string" },
		{ "{\"regions\":[3],\"launchConfig\":\"a\",\"scalePolicy\":\"b\"}", "regions[0]" },
		{ "{\"regions\":[\"us\"],\"launchConfig\":\"a\",\"scalePolicy\":\"b\","
		  "\"replaceDeadNodes\":\"maybe\"}", "replaceDeadNodes: expected true or false" },
	};
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		struct node_group g;
		assert_int_not_equal(group_parse(groups[i].json, strlen(groups[i].json), &g, err,
		                                 sizeof(err)), 0);
		if (!strstr(err, groups[i].want))
			fail_msg("group case %zu: '%s' does not contain '%s'", i, err, groups[i].want);
	}
}

static void test_group_and_thresholds(void **state)
{
	(void)state;
	const char *body = "{\"regions\":[\"us-east-1\",\"eu\"],\"launchConfig\":\"default-v2\","
	                   "\"scalePolicy\":\"default-v2\",\"replaceDeadNodes\":\"true\"}";
	struct node_group g;
	char err[256];
	assert_int_equal(group_parse(body, strlen(body), &g, err, sizeof(err)), 0);
	assert_int_equal(g.nregions, 2);
	assert_string_equal(g.regions[1], "eu");
	assert_true(g.replace_dead);
	assert_true(g.delete_dead);
	assert_int_equal(g.th[MROLE_EDGE].out_pct, 60);
	g.th[MROLE_EDGE].out_pct = 75;
	snprintf(g.name, sizeof(g.name), "g1");
	json_t *j = group_to_json(&g);
	char *s = json_dumps(j, 0);
	struct node_group again;
	assert_int_equal(group_parse(s, strlen(s), &again, err, sizeof(err)), 0);
	assert_int_equal(again.th[MROLE_EDGE].out_pct, 75);
	assert_string_equal(again.name, "g1");
	free(s);
	json_decref(j);

	int role;
	struct thresholds th = { 60, 20, 0 };
	const char *t = "{\"role\":\"edge\",\"scaleOut\":\"80\"}";
	assert_int_equal(thresholds_parse(t, strlen(t), &role, &th, err, sizeof(err)), 0);
	assert_int_equal(role, MROLE_EDGE);
	assert_int_equal(th.out_pct, 80);
	const char *cpu = "{\"role\":\"edge\",\"cpuScaleOut\":70}";
	assert_int_equal(thresholds_parse(cpu, strlen(cpu), &role, &th, err, sizeof(err)), 0);
	assert_int_equal(th.cpu_out_pct, 70);
	assert_int_equal(th.out_pct, 80);
	const char *cpu_bad = "{\"role\":\"edge\",\"cpuScaleOut\":170}";
	assert_int_equal(thresholds_parse(cpu_bad, strlen(cpu_bad), &role, &th, err, sizeof(err)),
	                 SL_EINVAL);
	assert_non_null(strstr(err, "cpuScaleOut"));
	assert_int_equal(th.in_pct, 20);
	t = "{\"role\":\"edge\",\"scaleOut\":30,\"scaleIn\":40}";
	assert_int_not_equal(thresholds_parse(t, strlen(t), &role, &th, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "scaleIn (40%) must be below scaleOut (30%)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_red5_launch_config),
		cmocka_unit_test(test_red5_policy),
		cmocka_unit_test(test_refusals_name_the_field),
		cmocka_unit_test(test_group_and_thresholds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
