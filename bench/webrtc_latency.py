#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""webrtc_latency.py - glass-to-glass latency in Chromium: WebRTC (WHEP) against LL-HLS.

    bench/webrtc_latency.py [--runs 3] [--seconds 20] [--warmup 10]

"Glass to glass" here is from the moment ffmpeg makes a frame to the moment Chromium shows
it. For each run: a fresh node on 127.0.0.81 and one ffmpeg publishing over RTMP a 640x360,
30 fps test picture (x264 ultrafast, zerolatency, no B-frames, 2 s GOP, AAC), into whose
frames ffmpeg draws its wall-clock time in milliseconds as a strip of blocks (the `setpts
RTCTIME` + `drawbox` chain below: the time is taken when the frame enters the filter, i.e.
when it is made, before encoding). Then, against that same node and publisher, Debian's
chromium opens the watch page twice, once playing WebRTC (the page's default) and once
LL-HLS (`?webrtc=0`), the order alternating between runs; bench/g2g.mjs reads the strip of
every frame the <video> presents and takes the display time minus the stamp. Samples after
--warmup seconds count (hls.js first plays up to 1.2x faster to reach its target). The table
gives, per mode, the median and p95 over all runs and each run's median, and the latency the
watch page itself shows (WebRTC: getStats' estimatedPlayoutTimestamp against the RTCP sender
reports; LL-HLS: now minus the program date of the frame on screen), which starts at the
node rather than at the camera.

Runs by hand (make bench-webrtc), never in tests.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

from hls_latency import pct, stop, wait_http  # the same node and browser plumbing

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDR = "127.0.0.81"
BITS, BLOCK = 20, 32  # must match bench/g2g.mjs
MODES = [("WebRTC (WHEP)", ""), ("LL-HLS", "?webrtc=0")]


def stamp_filter():
    """The ffmpeg video filter that writes the wall-clock ms (mod 2^20) into the frame."""
    f = ["settb=1/1000000", "setpts=RTCTIME",
         "drawbox=x=0:y=0:w=%d:h=%d:color=black:t=fill" % (BITS * BLOCK, 2 * BLOCK)]
    for k in range(BITS):
        x = (BITS - 1 - k) * BLOCK
        bit = "mod(floor(t*1000/%d)\\,2)" % (2 ** k)
        f.append("drawbox=x=%d:y=0:w=%d:h=%d:color=white:t=fill:enable='eq(%s\\,1)'"
                 % (x, BLOCK, BLOCK, bit))
        f.append("drawbox=x=%d:y=%d:w=%d:h=%d:color=white:t=fill:enable='eq(%s\\,0)'"
                 % (x, BLOCK, BLOCK, BLOCK, bit))
    f.append("setpts=PTS-STARTPTS")
    return ",".join(f)


def one_run(sluice, order, seconds, warmup, work):
    node = subprocess.Popen([sluice, "node", "--bind", ADDR, "--log-level", "warn"],
                            stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(work, "node.log"), "ab"))
    pub = None
    out = {}
    try:
        time.sleep(0.3)
        pub = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
             "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
             "-vf", stamp_filter(), "-c:v", "libx264", "-preset", "ultrafast",
             "-tune", "zerolatency", "-profile:v", "baseline", "-bf", "0", "-g", "60",
             "-b:v", "1000k", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k",
             "-f", "flv", "rtmp://%s/live/g2g" % ADDR],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "ffmpeg.log"), "ab"))
        if not wait_http("http://%s:5080/live/g2g/index.m3u8" % ADDR, 20):
            raise RuntimeError("the stream did not come up (see %s)" % work)
        for label, query in order:
            r = subprocess.run(["timeout", str(seconds + warmup + 90), "node",
                                os.path.join(ROOT, "bench", "g2g.mjs"),
                                "http://%s:5080/live/g2g/%s" % (ADDR, query), str(seconds),
                                str(warmup)], capture_output=True, text=True)
            lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
            if not lines:
                raise RuntimeError("browser driver said nothing: %s" % r.stderr[-500:])
            out[label] = json.loads(lines[-1])
        return out
    finally:
        stop(pub)
        stop(node)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "sluice"))
    ap.add_argument("--json", help="also write every run's raw reports here")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="sluice-g2g-")
    runs = []
    for run in range(args.runs):
        order = MODES if run % 2 == 0 else MODES[::-1]
        res = one_run(args.bin, order, args.seconds, args.warmup, work)
        runs.append(res)
        for label, _ in MODES:
            r = res[label]
            if "failure" in r:
                raise SystemExit("%s run %d: %s" % (label, run + 1, r["failure"]))
            print("%-14s run %d: glass-to-glass median %d ms, p95 %d ms over %d frames "
                  "(%d unread, mode %s); the page says %s ms" % (
                      label, run + 1, statistics.median(r["lagMs"]), pct(r["lagMs"], 0.95),
                      len(r["lagMs"]), r["unread"], r.get("mode"),
                      statistics.median(r["pageLatencyMs"]) if r["pageLatencyMs"] else "-"),
                  flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(runs, f)
    print()
    print("| mode | glass to glass, median | p95 | run medians | frames read per run "
          "| the watch page's own figure, median |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, _ in MODES:
        lag = [x for res in runs for x in res[label]["lagMs"]]
        page = [x for res in runs for x in res[label]["pageLatencyMs"]]
        print("| %s | %d ms | %d ms | %s | %s | %s |" % (
            label, statistics.median(lag), pct(lag, 0.95),
            ", ".join("%d" % statistics.median(res[label]["lagMs"]) for res in runs),
            ", ".join(str(len(res[label]["lagMs"])) for res in runs),
            "%d ms" % statistics.median(page) if page else "-"))


if __name__ == "__main__":
    main()
