/* SPDX-License-Identifier: Apache-2.0 */
/* api_antmedia.c - placeholder, filled below. */
#include "manager/manager.h"

int mgr_antmedia_handle(struct manager *m, struct http_conn *c, const struct http_request *req)
{
	(void)m;
	(void)c;
	(void)req;
	return 0;
}
