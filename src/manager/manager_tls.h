/* SPDX-License-Identifier: Apache-2.0 */
/* manager_tls.h - HTTPS on the manager's listeners (see manager_tls.c). */
#ifndef SLUICE_MANAGER_MANAGER_TLS_H
#define SLUICE_MANAGER_MANAGER_TLS_H

#include <stddef.h>

#include "core/http_server.h"
#include "manager/manager.h"

/* With tls-cert set: loads it and makes both listeners' configurations HTTPS.  0 (also when
 * off), or -1 with a message in err. */
int manager_tls_start(struct manager *m, struct http_server_config *api,
                      struct http_server_config *nodes, char *err, size_t err_size);
/* SIGHUP: reads tls-cert and tls-key again (a failure keeps the old ones, logged). */
void manager_tls_reload(struct manager *m);
void manager_tls_free(struct manager *m);

#endif
