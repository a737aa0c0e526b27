/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json_get.h - reading one field of an untrusted JSON object, with a message
 * that names the field ("group.maxLimit: expected an integer from 1 to 1000,
 * got \"lots\"") when it is missing, of the wrong type or out of range.
 *
 * Every reader takes the object, the key and a prefix for the message (NULL
 * or "" at the top level), and returns 0 (found and stored, or absent and not
 * required: out untouched) or SL_EINVAL with err set.  Shared by the manager's
 * models and the node <-> manager heartbeat so both answer bad input alike.
 */
#ifndef SLUICE_CORE_JSON_GET_H
#define SLUICE_CORE_JSON_GET_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Writes the message into err; returns SL_EINVAL. */
__attribute__((format(printf, 3, 4)))
int jfield_fail(char *err, size_t n, const char *fmt, ...);
/* A short, printable rendering of a bad value for messages (at most 40 characters). */
void jfield_describe(json_t *v, char *out, size_t n);
/* "prefix.field", or "field" without a prefix. */
void jfield_path(char *out, size_t n, const char *prefix, const char *field);

/* An integer from min to max, written as a JSON integer, a whole real (40.0, as some
 * provisioning scripts write) or a string of digits ("2000", as Red5's documents do). */
int jfield_int(json_t *obj, const char *key, const char *prefix, int64_t min, int64_t max,
               int required, int64_t *out, char *err, size_t n);
/* A string of at most max bytes with no NUL, copied into out (out_size > max). */
int jfield_str(json_t *obj, const char *key, const char *prefix, size_t max, int required,
               char *out, size_t out_size, char *err, size_t n);
/* true/false, or the strings "true"/"false"; never required. */
int jfield_bool(json_t *obj, const char *key, const char *prefix, int *out, char *err,
                size_t n);

#endif
