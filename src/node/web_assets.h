/* SPDX-License-Identifier: Apache-2.0 */
/*
 * web_assets.h - the files of the watch page, embedded into the binary at
 * build time (scripts/embed.py writes web_assets.c from web/): the page,
 * its script, and the hls.js player from the npm registry.  The node serves
 * them itself, so a watch page needs no CDN and no files beside the binary.
 */
#ifndef SLUICE_NODE_WEB_ASSETS_H
#define SLUICE_NODE_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *url;             /* "/player/hls.js", or "page" for the watch page */
	const char *content_type;
	const unsigned char *data;
	size_t len;
	int present;                 /* 0: its file was not there at build time */
};

/* Ends with an entry whose url is NULL. */
extern const struct web_asset web_assets[];

#endif
