/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_controller.c - what every controller shares: property checks with
 * messages naming the property, each controller's property rules,
 * running() as lists and launches in flight say, and launch reports that
 * come on the next loop turn, or never once the controller closed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/err.h"
#include "manager/controller.h"

static json_t *j(const char *text)
{
	json_error_t e;
	json_t *o = json_loads(text, 0, &e);
	assert_non_null(o);
	return o;
}

static void test_props(void **state)
{
	(void)state;
	char err[256];
	long long v;
	const char *s;
	json_t *p = j("{\"rtmpPort\": \"1936\", \"httpPort\": 70000, \"zone\": \"a b\"}");
	assert_int_equal(ctl_prop_int(p, "rtmpPort", 1, 65535, 1935, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1936);
	assert_int_equal(ctl_prop_int(p, "httpPort", 1, 65535, 5080, &v, err, sizeof(err)),
	                 SL_EINVAL);
	assert_non_null(strstr(err, "properties.httpPort: 70000 is out of range"));
	assert_int_equal(ctl_prop_int(p, "absent", 1, 9, 7, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 7);
	assert_int_equal(ctl_prop_str(p, "zone", 64, NULL, &s, err, sizeof(err)), SL_EINVAL);
	assert_non_null(strstr(err, "properties.zone: character 2"));
	static const char *const allowed[] = { "rtmpPort", "httpPort", NULL };
	assert_int_equal(ctl_prop_only(p, allowed, err, sizeof(err)), SL_EINVAL);
	assert_non_null(strstr(err, "properties.zone: not a property of this controller "
	                       "(it takes: rtmpPort, httpPort)"));
	json_decref(p);
}

static void test_controller_rules(void **state)
{
	(void)state;
	char err[256];
	json_t *p = j("{\"rtmpPort\": 1935, \"httpPort\": \"8080\"}");
	assert_int_equal(controller_local_check(p, err, sizeof(err)), 0);
	assert_int_equal(controller_local_check(NULL, err, sizeof(err)), 0);
	json_decref(p);
	p = j("{\"imageId\": \"ami-0123\", \"securityGroupIds\": \"sg-1,sg-2\"}");
	assert_int_equal(controller_aws_check(p, err, sizeof(err)), 0);
	json_decref(p);
	p = j("{\"imageId\": \"ubuntu\"}");
	assert_int_equal(controller_aws_check(p, err, sizeof(err)), SL_EINVAL);
	assert_non_null(strstr(err, "properties.imageId"));
	json_decref(p);
	assert_int_equal(controller_aws_check(NULL, err, sizeof(err)), SL_EINVAL);
	assert_non_null(strstr(err, "imageId (ami-...) or launchTemplateName"));
	p = j("{\"anything\": \"goes\", \"n\": 3}");
	assert_int_equal(controller_exec_check(p, err, sizeof(err)), 0);
	json_decref(p);
	p = j("{\"image\": \"ghcr.io/x/sluice:1\", \"cpu\": \"500m\", "
	      "\"imagePullPolicy\": \"Always\"}");
	assert_int_equal(controller_k8s_check(p, err, sizeof(err)), 0);
	json_decref(p);
	p = j("{\"imagePullPolicy\": \"Sometimes\"}");
	assert_int_equal(controller_k8s_check(p, err, sizeof(err)), SL_EINVAL);
	assert_non_null(strstr(err, "properties.imagePullPolicy"));
	json_decref(p);
	p = j("{\"net\": {\"a\": 1}}");
	assert_int_equal(controller_exec_check(p, err, sizeof(err)), SL_EINVAL);
	assert_non_null(strstr(err, "properties.net"));
	json_decref(p);
}

static void test_seen(void **state)
{
	(void)state;
	struct controller c;
	memset(&c, 0, sizeof(c));
	ctl_seen_init(&c);
	/* No list yet: everything may run. */
	assert_int_equal(ctl_seen_running(&c, "a"), 1);
	ctl_seen_launching(&c, "b");            /* in flight across the next list */
	ctl_seen_list_started(&c);
	struct ctl_instance v[1] = { { .id = "a" } };
	ctl_seen_update(&c, v, 1);
	assert_int_equal(ctl_seen_running(&c, "a"), 1);
	assert_int_equal(ctl_seen_running(&c, "b"), 1);
	assert_int_equal(ctl_seen_running(&c, "gone"), 0);
	ctl_seen_launched(&c, "b");             /* ended after that list started */
	usleep(2000);
	ctl_seen_list_started(&c);
	ctl_seen_update(&c, v, 1);              /* a later list without b: b is gone */
	assert_int_equal(ctl_seen_running(&c, "b"), 0);
	ctl_seen_forget(&c, "a");
	assert_int_equal(ctl_seen_running(&c, "a"), 0);
	ctl_seen_free(&c);
}

static int reports;
static char report_id[80];

static void on_launched(struct controller *c, const char *id, int rc,
                        const struct node_place *place, const char *err)
{
	(void)c;
	(void)err;
	assert_int_equal(rc, 0);
	assert_int_equal(place->rtmp_port, 1935);
	snprintf(report_id, sizeof(report_id), "%s", id);
	reports++;
}

/* The local controller's close left a report's timer armed, which then fired into the
 * freed controller (a use-after-free at shutdown): a dropped report never comes. */
static void test_report_launch(void **state)
{
	(void)state;
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct controller *c = calloc(1, sizeof(*c));
	c->launched = on_launched;
	struct node_place p = { .rtmp_port = 1935 };
	reports = 0;
	ctl_report_launch(c, &loop, "n1", 0, &p, NULL);
	assert_int_equal(reports, 0);              /* never inside the call */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(reports, 1);
	assert_string_equal(report_id, "n1");
	ctl_report_launch(c, &loop, "n2", 0, &p, NULL);
	ctl_report_launch(c, &loop, "n3", 0, &p, NULL);
	ctl_reports_drop(c);
	free(c);                                   /* as a controller's close does */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(reports, 1);
	assert_int_equal(uv_loop_close(&loop), 0);  /* every timer closed and freed */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_props),
		cmocka_unit_test(test_controller_rules),
		cmocka_unit_test(test_seen),
		cmocka_unit_test(test_report_launch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
