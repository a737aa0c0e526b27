#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""webrtc_latency.py - glass-to-glass latency in Chromium: WebRTC (WHEP) against LL-HLS.

    bench/webrtc_latency.py [--runs 3] [--seconds 20] [--warmup 10] [--source rtmp|whip|both]
                            [--no-hls]

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

--source whip (or both): the publisher is Chromium itself (bench/g2g.mjs with a publish page):
a canvas onto which the page draws Date.now() as the same strip every animation frame,
canvas.captureStream(30) and a tone published over WHIP to the node (stream live/g2gw), and
in the same browser (the same clock) the watch page playing it over WHEP. With `both`, the
RTMP-in and the WHIP-in rows come from the same runs and the same node, which goes first
alternating. --no-hls leaves out the LL-HLS row. G2G_ADDR moves the node off 127.0.0.81.

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
ADDR = os.environ.get("G2G_ADDR", "127.0.0.81")
BITS, BLOCK = 20, 32  # must match bench/g2g.mjs
# (label, source, the watch page's query); ffmpeg over RTMP or Chromium over WHIP.
MODES = [("WebRTC (WHEP)", "rtmp", ""), ("LL-HLS", "rtmp", "?webrtc=0"),
         ("WHIP in, WebRTC (WHEP) out", "whip", "")]


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


def browser(watch, seconds, warmup, publish=None):
    """One bench/g2g.mjs run: its JSON report."""
    cmd = ["timeout", str(seconds + warmup + 90), "node", os.path.join(ROOT, "bench", "g2g.mjs"),
           watch, str(seconds), str(warmup)]
    r = subprocess.run(cmd + ([publish] if publish else []), capture_output=True, text=True)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError("browser driver said nothing: %s" % r.stderr[-500:])
    return json.loads(lines[-1])


def one_run(sluice, order, seconds, warmup, work):
    # Admission by the machine's CPU and memory is off (100): on a shared machine it would
    # refuse the bench's own publisher and viewers, as it counts everyone's load.
    node = subprocess.Popen([sluice, "node", "--bind", ADDR, "--log-level", "warn",
                             "--cpu-limit", "100", "--memory-limit", "100"],
                            stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(work, "node.log"), "ab"))
    out = {}
    try:
        time.sleep(0.3)
        for label, source, query in order:
            if source == "whip":
                base = "http://%s:5080/live/g2gw/" % ADDR
                out[label] = browser(base + query, seconds, warmup, base + "publish")
            else:
                out[label] = rtmp_mode(label, query, seconds, warmup, work)
        return out
    finally:
        stop(node)


def rtmp_mode(label, query, seconds, warmup, work):
    """ffmpeg publishes over RTMP for this one browser run (so it costs nothing in a WHIP one)."""
    pub = None
    try:
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
        return browser("http://%s:5080/live/g2g/%s" % (ADDR, query), seconds, warmup)
    finally:
        stop(pub)
        # The stream ends with its publisher; the next RTMP run starts it afresh.
        time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "sluice"))
    ap.add_argument("--json", help="also write every run's raw reports here")
    ap.add_argument("--source", choices=["rtmp", "whip", "both"], default="rtmp",
                    help="the publisher: ffmpeg over RTMP, Chromium over WHIP, or both in turn")
    ap.add_argument("--no-hls", action="store_true", help="leave out the LL-HLS row")
    args = ap.parse_args()
    modes = [m for m in MODES if args.source in (m[1], "both") and
             not (args.no_hls and m[2] == "?webrtc=0")]
    work = tempfile.mkdtemp(prefix="sluice-g2g-")
    runs = []
    for run in range(args.runs):
        order = modes if run % 2 == 0 else modes[::-1]
        res = one_run(args.bin, order, args.seconds, args.warmup, work)
        runs.append(res)
        for label, _, _ in modes:
            r = res[label]
            if "failure" in r:
                raise SystemExit("%s run %d: %s" % (label, run + 1, r["failure"]))
            print("%-14s run %d: glass-to-glass median %d ms, p95 %d ms over %d frames "
                  "(%d unread, mode %s); the page says %s ms" % (
                      label, run + 1, statistics.median(r["lagMs"]), pct(r["lagMs"], 0.95),
                      len(r["lagMs"]), r["unread"], r.get("mode"),
                      statistics.median(r["pageLatencyMs"]) if r["pageLatencyMs"] else "-"),
                  flush=True)
            if "publisher" in r:
                print("%-14s        the publisher: %s" % ("", json.dumps(r["publisher"])),
                      flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(runs, f)
    print()
    print("| mode | glass to glass, median | p95 | run medians | frames read per run "
          "| the watch page's own figure, median |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, _, _ in modes:
        lag = [x for res in runs for x in res[label]["lagMs"]]
        page = [x for res in runs for x in res[label]["pageLatencyMs"]]
        print("| %s | %d ms | %d ms | %s | %s | %s |" % (
            label, statistics.median(lag), pct(lag, 0.95),
            ", ".join("%d" % statistics.median(res[label]["lagMs"]) for res in runs),
            ", ".join(str(len(res[label]["lagMs"])) for res in runs),
            "%d ms" % statistics.median(page) if page else "-"))


if __name__ == "__main__":
    main()
