#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# deb.sh - builds the Debian package from this tree into build-deb/ (make deb).
#
# The tree is copied (git's files, tracked and new, plus the hls.js build that npm put in
# web/node_modules) to build-deb/src and built there with dpkg-buildpackage, so nothing in
# the checkout changes and nothing from build/ is reused.  The .deb lands in build-deb/.
#   DEB_BUILD_OPTIONS  default "nocheck parallel=$(nproc)"
#   SLUICE_DEB_OUT     where to build instead of build-deb/ (an absolute path; the tests)
set -eu
cd "$(dirname "$0")/.."
out=${SLUICE_DEB_OUT:-build-deb}
rm -rf "$out"
mkdir -p "$out/src"
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard | \
		xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh | \
		tar --null -T - -cf - | tar -xf - -C "$out/src"
else
	tar --exclude='./build' --exclude='./build-*' --exclude='./.git' -cf - . | tar -xf - -C "$out/src"
fi
hls=web/node_modules/hls.js
if [ -f "$hls/dist/hls.light.min.js" ]; then
	mkdir -p "$out/src/$hls/dist"
	cp "$hls/dist/hls.light.min.js" "$out/src/$hls/dist/"
	[ -f "$hls/LICENSE" ] && cp "$hls/LICENSE" "$out/src/$hls/"
fi
: "${DEB_BUILD_OPTIONS:=nocheck parallel=$(nproc)}"
export DEB_BUILD_OPTIONS
cd "$out/src"
dpkg-buildpackage -b -us -uc --no-sign >../dpkg-buildpackage.log 2>&1 || {
	tail -n 60 ../dpkg-buildpackage.log >&2
	echo "deb.sh: dpkg-buildpackage failed (build-deb/dpkg-buildpackage.log)" >&2
	exit 1
}
cd ..
ls -1 "$PWD"/*.deb
