/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mem.h - allocation that never returns NULL.
 *
 * Out of memory is not an input error we can recover from in a media server:
 * every network-fed allocation is bounded before it is made, so running out
 * means the host is broken.  These abort with a message instead of making
 * every caller carry a branch it can never test.
 */
#ifndef SLUICE_CORE_MEM_H
#define SLUICE_CORE_MEM_H

#include <stddef.h>
#include <stdlib.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
