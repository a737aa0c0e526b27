#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""check_layers.py - the house rule, enforced: dependencies between the folders of
src/ point one way (docs/architecture.md, Layout).

Reads every #include "folder/..." under src/ and fails, naming the file and line,
when a folder includes one it may not, or when the folders' includes form a cycle.
Run by `meson test --suite unit` (test "layers"); usage: check_layers.py SRC_DIR.
"""
import os
import re
import sys

# Who may include whom (besides itself).  core <- proto <- media/hls <- cluster <- node;
# the manager stands apart and uses only core and proto; the CLI dispatches to all.
ALLOWED = {
    "core": set(),
    "proto": {"core"},
    "media": {"core", "proto"},
    "hls": {"core", "proto"},
    "cluster": {"core", "proto", "media"},
    "webrtc": {"core", "proto", "media"},
    "node": {"core", "proto", "media", "hls", "cluster", "webrtc"},
    "manager": {"core", "proto"},
    "cli": {"core", "proto", "media", "hls", "cluster", "node", "manager", "webrtc"},
}

# Single files allowed across the rule, each with why.  Keep this list short.
EXCEPTIONS = set()

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([^"]+)"')


def scan(src):
    """Yields (folder, path, line number, included folder, included path)."""
    for folder in sorted(os.listdir(src)):
        top = os.path.join(src, folder)
        if not os.path.isdir(top):
            continue
        for root, _dirs, files in os.walk(top):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(root, f)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    for no, line in enumerate(fh, 1):
                        m = INCLUDE.match(line)
                        if m:
                            yield folder, path, no, m.group(1), m.group(1) + "/" + m.group(2)


def find_cycle(edges):
    """A cycle among folders as a list, or None."""
    state = {}

    def visit(n, stack):
        state[n] = 1
        stack.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if not state.get(m):
                found = visit(m, stack)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(edges):
        if not state.get(n):
            found = visit(n, [])
            if found:
                return found
    return None


def main(argv):
    if len(argv) != 2:
        print("usage: check_layers.py SRC_DIR", file=sys.stderr)
        return 2
    src = argv[1]
    bad = []
    edges = {}
    used = set()
    for folder, path, no, dep, inc in scan(src):
        if dep == folder or not os.path.isdir(os.path.join(src, dep)):
            continue  # its own headers, or not one of ours
        if (folder, inc) in EXCEPTIONS:
            used.add((folder, inc))
            continue
        edges.setdefault(folder, set()).add(dep)
        if folder not in ALLOWED:
            bad.append(f"{path}:{no}: folder src/{folder} is not in the layer table "
                       f"(add it to ALLOWED and to docs/architecture.md)")
        elif dep not in ALLOWED[folder]:
            bad.append(f"{path}:{no}: src/{folder} may not include {inc} "
                       f"(src/{folder} may use: {', '.join(sorted(ALLOWED[folder])) or 'nothing'})")
    for folder, inc in sorted(EXCEPTIONS - used):
        print(f"note: the exception for src/{folder} including {inc} is no longer needed: "
              f"remove it from EXCEPTIONS")
    for line in bad:
        print(line)
    cycle = find_cycle(edges)
    if cycle:
        print("include cycle between folders: " + " -> ".join(cycle))
    if bad or cycle:
        print(f"{len(bad)} include(s) against the one-way rule (docs/architecture.md)")
        return 1
    print("layers: every include points one way")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
