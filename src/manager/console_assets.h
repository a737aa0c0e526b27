/* SPDX-License-Identifier: Apache-2.0 */
/*
 * console_assets.h - the console's files, embedded into the binary at build
 * time (scripts/embed.py writes console_assets.c from web/): the page, its
 * script and style, and uPlot from the npm registry.  The manager serves
 * them itself, so the console works without internet and without files
 * beside the binary.
 */
#ifndef SLUICE_MANAGER_CONSOLE_ASSETS_H
#define SLUICE_MANAGER_CONSOLE_ASSETS_H

#include <stddef.h>

struct console_asset {
	const char *url;             /* "/console/console.js", or "page" for the page */
	const char *content_type;
	const unsigned char *data;
	size_t len;
	int present;                 /* 0: its file was not there at build time */
};

/* Ends with an entry whose url is NULL. */
extern const struct console_asset console_assets[];

#endif
