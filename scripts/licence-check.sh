#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# licence-check.sh - every source file says its licence in one SPDX line.
#
#   scripts/licence-check.sh          lists the files without the line; exit 1 if any
#
# Checked: every file git tracks (outside a git checkout, those in our folders) that is ours and
# takes a comment: C sources and headers, Python, shell, JavaScript, HTML, CSS, the *.in templates,
# Makefile, meson.build, meson_options.txt and .ci/run.  Not checked: fuzz corpora and seeds
# (data), web/node_modules (other projects' code), debian/ (Debian's own formats, with
# debian/copyright saying the licence), and data files that take no comment.
# The line is "SPDX-License-Identifier: Apache-2.0" (see LICENSE), anywhere in the file's
# first 10 lines, in whatever comment syntax the file uses.
set -eu
cd "$(dirname "$0")/.."
want="SPDX-License-Identifier: Apache-2.0"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	list=$(git ls-files)
else
	# A copy of the tree (a release tarball, make deb's build-deb/): our folders only, so
	# build outputs and generated files are not counted.
	list=$( (find src tests fuzz bench scripts packaging .ci -type f 2>/dev/null
		find web -maxdepth 1 -type f; ls Makefile meson.build meson_options.txt) | sort)
fi
missing=0
checked=0
for f in $list; do
	case "$f" in
	fuzz/corpora/* | fuzz/seeds/* | web/node_modules/* | debian/* | build*/*) continue ;;
	packaging/*.in | packaging/*/meson.build) ;;
	packaging/*) continue ;;
	*.c | *.h | *.py | *.sh | *.js | *.mjs | *.html | *.css | *.in | Makefile | */Makefile) ;;
	meson.build | */meson.build | meson_options.txt | .ci/run) ;;
	*) continue ;;
	esac
	[ -f "$f" ] || continue
	checked=$((checked + 1))
	if ! head -n 10 "$f" | grep -qF "$want"; then
		echo "licence-check: $f: no '$want' line in its first 10 lines"
		missing=$((missing + 1))
	fi
done
if [ "$missing" -gt 0 ]; then
	echo "licence-check: $missing of $checked files lack the line" >&2
	exit 1
fi
echo "licence-check: all $checked files carry '$want'"
