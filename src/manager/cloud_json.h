/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cloud_json.h - what the gcp and kubernetes controllers read from their
 * clouds' JSON answers (pure: bytes in, result out, no I/O): Compute
 * Engine's InstanceList and error, Kubernetes' PodList, Pod and Status.
 * Every string copied is bounded by its field; what does not fit, or has
 * an empty name or node id, is left out, never cut.  Fuzzed
 * (fuzz/fuzz_cloud_json.c).
 */
#ifndef SLUICE_MANAGER_CLOUD_JSON_H
#define SLUICE_MANAGER_CLOUD_JSON_H

#include <stddef.h>

#include "manager/controller.h"

/* An InstanceList page: its running instances (PROVISIONING, STAGING, RUNNING) that carry
 * the sluice-node label, into *out (malloc'd, the caller frees it; may be NULL when none);
 * next gets nextPageToken ("" on the last page).  Returns how many, or -1 when the answer
 * is not an InstanceList, has more than max items or a token that does not fit next. */
int gcp_parse_instance_list(const char *body, size_t len, size_t max, struct ctl_instance **out,
                            char *next, size_t next_size);
/* {"error": {"message", "errors": [{"reason"}], "status"}} or {"error": "x",
 * "error_description": "y"} (the token endpoint): a safe one-line message in out and the
 * reason ("" when none) in reason. */
void gcp_parse_error(const char *body, size_t len, char *out, size_t n, char *reason,
                     size_t reason_size);

/* A PodList: its pods that carry the sluice/node label and have not ended (nor are being
 * deleted), into *out as above; next gets metadata.continue ("" on the last page).
 * Returns how many, or -1 when the answer is not a PodList, has more than max items or a
 * continue token that does not fit next. */
int k8s_parse_pod_list(const char *body, size_t len, size_t max, struct ctl_instance **out,
                       char *next, size_t next_size);
/* A created Pod's status.podIP into ip ("" when not yet known or too long). */
void k8s_parse_pod_ip(const char *body, size_t len, char *ip, size_t ip_size);
/* A Status object's "reason: message", made safe for a log line. */
void k8s_parse_status(const char *body, size_t len, char *out, size_t n);

#endif
