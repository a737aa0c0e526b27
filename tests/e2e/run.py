#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""run.py - runs the end-to-end tests: every tests/e2e/test_*.py, each file in its own
process on its own 127.X.0.0/16 block of addresses, several files at once.

    python3 tests/e2e/run.py --bin build/sluice [--jobs 2] [--sanitized] [FILTER ...]

FILTER is a file stem (test_tokens) or file::function. A test is a function named test_*
taking one argument, the test context (tmpdir, procs). Each test has a deadline; a test that
passes it fails and its processes are stopped.
"""
import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
TEST_DEADLINE = int(os.environ.get("SLUICE_TEST_DEADLINE", "240"))


class Context:
    def __init__(self, tmpdir, procs):
        self.tmpdir = tmpdir
        self.procs = procs

    def path(self, name):
        return os.path.join(self.tmpdir, name)


def run_file(path, only):
    """Child mode: runs the tests of one file, one JSON line per test on stdout."""
    sys.path.insert(0, HERE)
    import harness
    spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    names = [n for n in dir(mod) if n.startswith("test_") and callable(getattr(mod, n))]
    names.sort(key=lambda n: getattr(mod, n).__code__.co_firstlineno)
    for name in names:
        if only and name not in only:
            continue
        tmpdir = tempfile.mkdtemp(prefix=name + "-", dir=harness.WORK)
        procs = harness.Procs(tmpdir)
        start = time.monotonic()
        result = {"test": name, "ok": True}
        try:
            getattr(mod, name)(Context(tmpdir, procs))
        except Exception as e:
            result["ok"] = False
            result["error"] = "".join(traceback.format_exception(type(e), e, e.__traceback__))
            logs = []
            for p in procs.procs:
                try:
                    text = harness.log_text(p)
                except OSError:
                    continue
                logs.append("--- %s (pid %d, exit %s) ---\n%s" % (
                    p.name, p.pid, p.poll(), text[-4000:]))
            result["logs"] = "\n".join(logs)
        finally:
            procs.stop_all()
        # A sanitizer report from a node fails the test even if its assertions passed.
        if result["ok"]:
            for p in procs.procs:
                if p.name.startswith("node"):
                    text = harness.log_text(p)
                    if "ERROR: AddressSanitizer" in text or "runtime error:" in text or \
                       "ERROR: LeakSanitizer" in text:
                        result["ok"] = False
                        result["error"] = "sanitizer report in %s" % p.name
                        result["logs"] = text[-8000:]
        result["seconds"] = round(time.monotonic() - start, 1)
        if result["ok"]:
            shutil.rmtree(tmpdir, ignore_errors=True)
        print(json.dumps(result), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="build/sluice")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--sanitized", action="store_true")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    ap.add_argument("--block", help=argparse.SUPPRESS)
    ap.add_argument("filters", nargs="*")
    args = ap.parse_args()

    if args.one:
        run_file(args.one, set(args.filters))
        return 0

    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        print("run.py: %s is not built (run make first)" % binary, file=sys.stderr)
        return 2
    # A filter is a file stem, a path to the file, or stem::test_name.
    args.filters = [os.path.basename(x).replace(".py", "", 1) if "::" not in x else x
                    for x in args.filters]
    files = sorted(f for f in os.listdir(HERE) if f.startswith("test_") and f.endswith(".py"))
    plan = []
    for i, f in enumerate(files):
        stem = f[:-3]
        wanted = [x.split("::", 1)[1] for x in args.filters if x.startswith(stem + "::")]
        if args.filters and stem not in args.filters and not wanted:
            continue
        plan.append((i, f, wanted))

    env = dict(os.environ)
    env["SLUICE_BIN"] = binary
    if args.sanitized:
        env["SLUICE_SANITIZED"] = "1"
    sys.path.insert(0, HERE)
    import harness
    harness.fixture()  # made once, before files run in parallel

    failures, passed = [], 0
    running = []
    start_all = time.monotonic()

    def launch(item):
        i, f, wanted = item
        e = dict(env)
        # SLUICE_ADDR_BASE keeps two runs on one machine apart (127.BASE+i.0.N).
        e["SLUICE_ADDR_BLOCK"] = str(int(os.environ.get("SLUICE_ADDR_BASE", "10")) + i)
        # Output goes to a file, not a pipe: a file of failing tests writes more than a
        # pipe holds, and its runner must never block on that.
        out = tempfile.TemporaryFile(mode="w+")
        p = subprocess.Popen([sys.executable, __file__, "--one", os.path.join(HERE, f)] + wanted,
                             stdout=out, stderr=subprocess.STDOUT, env=e, text=True)
        p.out = out
        n_tests = max(1, len(wanted) or open(os.path.join(HERE, f)).read().count("\ndef test_"))
        return (p, f, time.monotonic() + TEST_DEADLINE * n_tests)

    queue = list(plan)
    while queue or running:
        while queue and len(running) < args.jobs:
            running.append(launch(queue.pop(0)))
        time.sleep(0.2)
        for item in list(running):
            p, f, deadline = item
            if p.poll() is None and time.monotonic() < deadline:
                continue
            killed = p.poll() is None
            if killed:
                p.kill()
                p.wait()
                failures.append((f, "deadline", "file did not finish in time\n"))
                print("FAIL  %-60s (did not finish in time)" % f, flush=True)
            p.out.seek(0)
            out = p.out.read()
            p.out.close()
            for line in out.splitlines():
                if not line.startswith("{"):
                    continue
                try:
                    r = json.loads(line)
                    r["test"], r["ok"], r["seconds"]
                except (ValueError, KeyError, TypeError):
                    continue  # a child process's own output, not a result line
                label = "%s::%s" % (f[:-3], r["test"])
                if r["ok"]:
                    passed += 1
                    print("ok    %-60s %6.1fs" % (label, r["seconds"]), flush=True)
                else:
                    failures.append((label, r.get("error", ""), r.get("logs", "")))
                    print("FAIL  %-60s %6.1fs" % (label, r["seconds"]), flush=True)
                    # The reason at once, so a log cut to the list still says why.
                    lines = r.get("error", "").strip().splitlines()
                    if lines:
                        print("      %s" % lines[-1][:400], flush=True)
            if p.returncode != 0 and not killed:
                noise = "\n".join(l for l in out.splitlines() if not l.startswith("{"))
                failures.append((f, "runner exited with %d" % p.returncode, noise[-3000:]))
                print("FAIL  %-60s (runner exited with %d)" % (f, p.returncode), flush=True)
            running.remove(item)

    for label, err, logs in failures:
        print("\n==== %s ====\n%s\n%s" % (label, err, logs))
    print("\n%d passed, %d failed in %.0fs" % (passed, len(failures), time.monotonic() - start_all))
    return 1 if failures or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
