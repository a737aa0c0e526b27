/* SPDX-License-Identifier: Apache-2.0 */
/*
 * name.h - the one rule for names that come from peers and reach logs, URLs,
 * map keys and (with recording) paths: apps, streams, node names.  In core
 * because every part checks names (the node, the cluster, the manager, the
 * CLI) and none of them should need the media layer to do it.
 */
#ifndef SLUICE_CORE_NAME_H
#define SLUICE_CORE_NAME_H

#define STREAM_NAME_MAX 128

/* 1..STREAM_NAME_MAX bytes of [A-Za-z0-9_.~@+=-], not starting with '.'. */
int stream_name_valid(const char *s);
/* An app (Red5's scope) may have several levels, "live/room1": 1..STREAM_NAME_MAX bytes in
 * all, each '/'-separated level a valid stream name (so no empty level, no "..", no leading
 * or trailing slash). */
int app_name_valid(const char *s);

#endif
