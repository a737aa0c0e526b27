#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# web.sh - installs web/'s npm packages (web/package-lock.json) when they are missing or
# the lock file changed: hls.js and uPlot, which the build embeds into the watch page and
# the manager's console, and playwright-core, which the browser tests use to drive Debian's
# chromium.
#
# Called by the Makefile before it builds.  Without npm or the registry the build still
# works; the watch page then says its player was not built.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
web="$here/../web"
"$here/deps.sh" npm || true
if ! command -v npm >/dev/null 2>&1; then
	echo "web.sh: npm is not available; the watch page will be built without its player" >&2
	exit 0
fi
stamp="$web/node_modules/.sluice-lock"
if [ -f "$stamp" ] && cmp -s "$stamp" "$web/package-lock.json"; then
	exit 0
fi
echo "web.sh: npm ci in web/ (hls.js, playwright-core)" >&2
if (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >&2); then
	cp "$web/package-lock.json" "$stamp"
else
	echo "web.sh: npm ci failed; the watch page will be built without its player" >&2
fi
exit 0
