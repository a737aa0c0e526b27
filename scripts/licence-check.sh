#!/bin/sh
# licence-check.sh - every source file says its licence in one SPDX line.
#
#   scripts/licence-check.sh          lists the files without the line; exit 1 if any
#
# Checked: every file under src/ and tests/unit/, and fuzz/*.c, bench/*.c, web/*.js (our
# sources; fuzz corpora, seeds and web/node_modules are data or other projects' code).
# The line is "SPDX-License-Identifier: Apache-2.0" (see LICENSE), anywhere in the file's
# first 10 lines, in whatever comment syntax the file uses.
set -eu
cd "$(dirname "$0")/.."
want="SPDX-License-Identifier: Apache-2.0"
missing=0
checked=0
for f in $(find src tests/unit -type f | sort) fuzz/*.c bench/*.c web/*.js; do
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
