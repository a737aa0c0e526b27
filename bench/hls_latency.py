#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""hls_latency.py - how far behind live a real browser plays sluice's HLS and LL-HLS.

    bench/hls_latency.py [--runs 3] [--seconds 30] [--warmup 10]

For each mode (LL-HLS and plain HLS, each in fMP4 and MPEG-TS) and run: a fresh node on
127.0.0.2, ffmpeg publishing the e2e fixture (320x240, 2 s GOP) at real time, and Debian's
chromium (headless, playwright-core) on the node's watch page for --seconds. The watch page
reports latency as now minus the EXT-X-PROGRAM-DATE-TIME of the frame on screen, which the
node stamps when the segment's first frame arrives: the time from the node receiving a
picture to the browser showing it. Samples after --warmup seconds count (hls.js first
plays at up to 1.2x to reach its target); the table gives the median and p90 of each mode
over all runs, and the frames each run decoded.

Only sluice: nginx-rtmp's HLS has no LL-HLS and no program date, so the same measure does
not apply to it. Runs by hand (make bench-hls), never in tests.
"""
import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import harness  # noqa: E402  (the fixture maker)

MODES = [("LL-HLS, fMP4", "fmp4", ""), ("LL-HLS, MPEG-TS", "ts", ""),
         ("HLS, fMP4", "fmp4", "?ll=0"), ("HLS, MPEG-TS", "ts", "?ll=0")]
ADDR = "127.0.0.2"


def wait_http(url, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def stop(p):
    """SIGTERM, then SIGKILL after 10 s: a process this script started."""
    if p and p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def one_run(sluice, media, fmt, query, seconds, work):
    node = subprocess.Popen([sluice, "node", "--bind", ADDR, "--hls-format", fmt],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "node.log"), "ab"))
    pub = None
    try:
        time.sleep(0.3)
        pub = subprocess.Popen(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
                                "-stream_loop", "-1", "-i", media, "-c", "copy", "-f", "flv",
                                "rtmp://%s/live/bench" % ADDR],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_http("http://%s:5080/live/bench/index.m3u8" % ADDR, 20):
            raise RuntimeError("the stream did not come up")
        out = subprocess.run(["timeout", str(seconds + 90), "node",
                              os.path.join(ROOT, "tests", "browser", "watch.mjs"),
                              "http://%s:5080/live/bench/%s" % (ADDR, query), str(seconds)],
                             capture_output=True, text=True)
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
        if not lines:
            raise RuntimeError("browser driver said nothing: %s" % out.stderr[-500:])
        return json.loads(lines[-1])
    finally:
        stop(pub)
        stop(node)


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "sluice"))
    args = ap.parse_args()
    media = harness.fixture()
    work = tempfile.mkdtemp(prefix="sluice-hls-bench-")
    rows = []
    for label, fmt, query in MODES:
        lat, frames, errors = [], [], 0
        for run in range(args.runs):
            r = one_run(args.bin, media, fmt, query, args.seconds, work)
            if "failure" in r:
                raise SystemExit("%s run %d: %s" % (label, run + 1, r["failure"]))
            skip = 2 * args.warmup  # samples are 500 ms apart
            lat += r["latenciesMs"][skip:]
            frames.append(r["end"]["decoded"])
            errors += r["watch"]["fatal"]
            print("%-16s run %d: median %.2f s behind live, %s frames, %d fatal player errors" % (
                label, run + 1, statistics.median(r["latenciesMs"][skip:]) / 1000,
                r["end"]["decoded"], r["watch"]["fatal"]), flush=True)
        rows.append((label, statistics.median(lat) / 1000, pct(lat, 0.9) / 1000, frames, errors))
    print()
    print("| mode | latency behind live, median | p90 | frames decoded per run | fatal player errors |")
    print("| --- | --- | --- | --- | --- |")
    for label, med, p90, frames, errors in rows:
        print("| %s | %.2f s | %.2f s | %s | %d |" % (label, med, p90,
                                                     ", ".join(str(f) for f in frames), errors))


if __name__ == "__main__":
    main()
