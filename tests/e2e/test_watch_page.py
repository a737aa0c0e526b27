# SPDX-License-Identifier: Apache-2.0
"""The watch page in a real browser: Debian's chromium (headless, driven by playwright-core
from web/node_modules) opens /APP/STREAM/ on a node and plays the stream with the hls.js
the node serves itself, as LL-HLS and as plain HLS, from an origin and through an edge,
and rides through a publisher restart."""
import json
import os
import subprocess
import time

from cluster_util import downstream, origin
from harness import check, publish, stop_gently

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "..", "browser", "watch.mjs")


def watch(procs, url, seconds, name):
    """Starts the browser on url for `seconds` of watching; returns the process."""
    return procs.start(["node", DRIVER, url, str(seconds)], name, stdout=subprocess.PIPE)


def report(p, seconds, what):
    out, _ = p.communicate(timeout=seconds + 90)
    lines = [ln for ln in out.decode(errors="replace").splitlines() if ln.startswith("{")]
    check(p.returncode == 0 and lines, "%s: the browser driver exited with %s" % (what,
                                                                                p.returncode))
    r = json.loads(lines[-1])
    check("failure" not in r, "%s: %s" % (what, r.get("failure")))
    return r


def check_played(r, what, seconds):
    w = r["watch"]
    check(w["engine"] and w["engine"].startswith("hls.js"), "%s: player %s" % (what, w["engine"]))
    check(not r["pageErrors"], "%s: page errors %s" % (what, r["pageErrors"]))
    check(not r["console"], "%s: console errors %s" % (what, r["console"]))
    check(w["fatal"] == 0, "%s: fatal player errors %s" % (what, w["errors"]))
    check(r["end"]["width"] == 320 and r["end"]["height"] == 240,
          "%s: video is %sx%s" % (what, r["end"]["width"], r["end"]["height"]))
    # The video element's clock advanced with the wall clock: playing, not stuck. (Loose
    # bounds: a busy machine may stall a browser now and then; a broken stream stalls for
    # good.)
    check(r["advancedS"] >= 0.6 * r["wallS"],
          "%s: video time advanced %.1f s in %.1f s of watching (samples %s)" % (
              what, r["advancedS"], r["wallS"], r["samples"]))
    check(r["stalledSamples"] <= len(r["samples"]) // 4,
          "%s: video stalled in %d of %d samples" % (what, r["stalledSamples"],
                                                     len(r["samples"])))
    check(r["end"]["decoded"] and r["end"]["decoded"] > 25 * seconds * 0.5,
          "%s: %s frames decoded in %d s" % (what, r["end"]["decoded"], seconds))


def test_watch_page_plays_ll_hls_and_hls(t):
    o = origin(t.procs, "origin-watch")
    e = downstream(t.procs, "edge-watch", "edge", [o], args=["--hls-format", "ts"])
    publish(t.procs, o.rtmp("live", "watch"))
    o.wait_live("live", "watch")
    seconds = 10
    # Low-latency from the origin, and from an edge that has to pull the stream first.
    ll = watch(t.procs, o.url("/live/watch/?webrtc=0"), seconds, "chromium-ll")
    r = report(ll, seconds, "LL-HLS on the origin")
    check_played(r, "LL-HLS on the origin", seconds)
    check(r["watch"]["mode"] == "ll-hls" and r["watch"]["levelParts"] and
          r["watch"]["partsLoaded"] > 5,
          "LL-HLS on the origin: the player loaded %d parts (playlist has parts: %s)" % (
              r["watch"]["partsLoaded"], r["watch"]["levelParts"]))
    check(r["latenciesMs"], "the page showed no latency behind live")

    plain = watch(t.procs, e.url("/live/watch/?ll=0&webrtc=0"), seconds, "chromium-plain")
    r = report(plain, seconds, "plain HLS on the edge")
    check_played(r, "plain HLS on the edge", seconds)
    check(r["watch"]["mode"] == "hls" and r["watch"]["partsLoaded"] == 0 and
          r["watch"]["fragsLoaded"] >= 3,
          "plain HLS on the edge: %d parts, %d segments loaded" % (
              r["watch"]["partsLoaded"], r["watch"]["fragsLoaded"]))

    # The page and its player are the node's own (no CDN), and say what they are.
    status, headers, body = o.http("/live/watch/")
    check(status == 200 and headers.get("Content-Type", "").startswith("text/html") and
          b"/player/hls.js" in body and "default-src 'self'" in
          headers.get("Content-Security-Policy", ""), "watch page: %d %s" % (status, headers))
    status, headers, body = o.http("/player/hls.js")
    with open(os.path.join(HERE, "..", "..", "web", "node_modules", "hls.js", "dist",
                           "hls.light.min.js"), "rb") as f:
        npm_hls = f.read()
    check(status == 200 and body == npm_hls,
          "/player/hls.js is not hls.js from npm: %d, %d bytes" % (status, len(body)))
    status, _, _ = o.http("/player/../etc/passwd")
    check(status in (400, 404), "/player/../etc/passwd answered %d" % status)


def test_watch_page_rides_publisher_restart(t):
    o = origin(t.procs, "origin-restart")
    pub = publish(t.procs, o.rtmp("live", "again"), name="publisher-1")
    o.wait_live("live", "again")
    seconds = 20
    b = watch(t.procs, o.url("/live/again/?webrtc=0"), seconds, "chromium-restart")
    # Let it play, stop the publisher, and publish again a second later.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and o.stream("live", "again")["viewers"]["hls"] < 1:
        time.sleep(0.2)
    time.sleep(5)
    stop_gently(pub)
    time.sleep(1)
    publish(t.procs, o.rtmp("live", "again"), name="publisher-2")
    r = report(b, seconds, "LL-HLS across a publisher restart")
    w = r["watch"]
    # hls.js 1.7 calls the first playlist with the restart's discontinuity at the live edge
    # fatal (a discontinuity sequence mismatch); the page reloads the playlist and plays on.
    check(not r["pageErrors"] and w["stopped"] == 0,
          "restart: playback stopped: errors %s, page errors %s" % (w["errors"],
                                                                   r["pageErrors"]))
    # After the restart (the last 6 s of watching) the video plays on.
    tail = [s for s in r["samples"] if s[0] >= (seconds - 6) * 1000]
    check(len(tail) >= 6 and tail[-1][1] - tail[0][1] >= 0.5 * (tail[-1][0] - tail[0][0]) / 1000,
          "restart: video did not play on after the new publisher (samples %s)" % r["samples"])
