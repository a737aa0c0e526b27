# SPDX-License-Identifier: Apache-2.0
"""DASH: /APP/STREAM/manifest.mpd over the fMP4 segments, served by an origin and, through a
pull, by an edge; ffmpeg (both tracks, clean decode, in order) and dash.js in Chromium
(tests/browser/dash.mjs) play it from the edge; a node packaging HLS as MPEG-TS says DASH needs
fMP4."""
import json
import os
import subprocess
import time
import urllib.request
import xml.etree.ElementTree as ET

from cluster_util import downstream, origin
from harness import check, check_media, log_text, publish, wait_for

NS = "{urn:mpeg:dash:schema:mpd:2011}"
DRIVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "browser", "dash.mjs")


def manifest(node, path):
    status, headers, body = node.http(path, timeout=15)
    check(status == 200, "GET %s answered %d: %s" % (path, status, body[:300]))
    check(headers.get("Content-Type") == "application/dash+xml",
          "manifest type %s" % headers.get("Content-Type"))
    return body.decode()


def test_dash_from_an_edge(t):
    """ffmpeg reads 8 s of the live DASH manifest from an edge pulling an origin: H.264 and AAC
    decode clean; the manifest is dynamic, has a video and an audio Adaptation Set on the same
    timeline, and its segment and init URLs answer with one track each."""
    o = origin(t.procs, "origin-dash")
    e = downstream(t.procs, "edge-dash", "edge", [o])
    publish(t.procs, o.rtmp("live", "dash"))
    o.wait_live("live", "dash")
    # Viewers join a stream under way: the window holds 3 segments (6 s) first.
    text = wait_for(lambda: (lambda m: m if m.count("<S ") >= 6 else None)(
                        manifest(e, "/live/dash/manifest.mpd")) if
                    e.http("/live/dash/manifest.mpd", timeout=15)[0] == 200 else None,
                    30, "the edge's manifest to list 3 segments per track")
    mpd = ET.fromstring(text)
    check(mpd.get("type") == "dynamic" and mpd.get("availabilityStartTime"), "MPD head: " + text[:400])
    check(mpd.find(NS + "UTCTiming") is not None, "no UTCTiming:\n" + text)
    sets = mpd.findall("./%sPeriod/%sAdaptationSet" % (NS, NS))
    kinds = sorted(s.get("contentType") for s in sets)
    check(kinds == ["audio", "video"], "adaptation sets %s:\n%s" % (kinds, text))
    timelines = []
    for s in sets:
        tmpl = s.find("./%sRepresentation/%sSegmentTemplate" % (NS, NS))
        times = [(int(x.get("t")), int(x.get("d"))) for x in tmpl.iter(NS + "S")]
        check(times and all(a[0] + a[1] == b[0] for a, b in zip(times, times[1:])),
              "timeline not contiguous: %s" % times)
        timelines.append(times)
        init = tmpl.get("initialization")
        status, _, body = e.http("/live/dash/" + init)
        check(status == 200 and body[4:8] == b"ftyp" and body.count(b"trak") == 1,
              "%s: one-track init expected (%d, %d traks)" % (init, status, body.count(b"trak")))
        seg = tmpl.get("media").replace("$Time$", str(times[-1][0]))
        status, _, body = e.http("/live/dash/" + seg)
        # One moof per LL-HLS part, each with one traf (the muxed segment has two each).
        check(status == 200 and body[4:8] == b"moof" and
              body.count(b"traf") == body.count(b"moof"),
              "%s: one-track fragments expected (%d, %d moof, %d traf)" % (
                  seg, status, body.count(b"moof"), body.count(b"traf")))
    check(timelines[0] == timelines[1], "the two tracks' timelines differ")
    check_ll_dash(t, e)

    seconds = 8
    v = t.procs.start(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-i",
                       e.url("/live/dash/manifest.mpd"), "-t", str(seconds), "-c", "copy", "-f",
                       "matroska", "-y", t.path("dash.mkv")], "ffmpeg-dash")
    b = t.procs.start(["node", DRIVER, e.url("/live/dash/manifest.mpd"), str(seconds)],
                      "dashjs-chromium", stdout=subprocess.PIPE)
    check(v.wait(timeout=60) == 0, "ffmpeg DASH viewer failed:\n" + log_text(v)[-800:])
    check_media(t.path("dash.mkv"), seconds - 2, "ffmpeg playing DASH from an edge")

    out, _ = b.communicate(timeout=seconds + 90)
    lines = [ln for ln in out.decode(errors="replace").splitlines() if ln.startswith("{")]
    check(b.returncode == 0 and lines, "dash.js: the browser driver exited with %s:\n%s" % (
        b.returncode, log_text(b)[-800:]))
    r = json.loads(lines[-1])
    check("failure" not in r, "dash.js: %s" % r.get("failure"))
    check(not r["dashErrors"] and not r["pageErrors"] and not r["console"],
          "dash.js errors %s, page errors %s, console %s" % (r["dashErrors"], r["pageErrors"],
                                                            r["console"]))
    check(r["end"]["width"] == 320 and r["end"]["height"] == 240,
          "dash.js picture %sx%s" % (r["end"]["width"], r["end"]["height"]))
    # Playing, not stuck: the video clock kept (loosely) with the wall clock.
    check(r["advancedS"] >= 0.7 * r["wallS"] and r["stalledSamples"] <= 2,
          "dash.js advanced %.1f s in %.1f s with %d stalled samples" % (
              r["advancedS"], r["wallS"], r["stalledSamples"]))


def check_ll_dash(t, node):
    """Low-latency DASH: the manifest lets players ask for the next segment early, and the
    node answers at once with a chunked body that grows part by part until the segment is
    complete; the result is a video fragment run that decodes with its init."""
    for attempt in range(3):
        mpd = ET.fromstring(manifest(node, "/live/dash/manifest.mpd"))
        tmpl = mpd.find("./%sPeriod/%sAdaptationSet/%sRepresentation/%sSegmentTemplate" % (
            NS, NS, NS, NS))
        check(tmpl.get("availabilityTimeComplete") == "false" and
              float(tmpl.get("availabilityTimeOffset")) > 0, "no LL-DASH attributes")
        last = list(tmpl.iter(NS + "S"))[-1]
        nxt = int(last.get("t")) + int(last.get("d"))
        t0 = time.monotonic()
        with urllib.request.urlopen(node.url("/live/dash/seg-t%d-v.m4s" % nxt), timeout=15) as r:
            chunked = r.headers.get("Transfer-Encoding") == "chunked"
            first = r.read(8)
            ttfb = time.monotonic() - t0
            body = first + r.read()
            total = time.monotonic() - t0
        if chunked:
            break
    check(chunked, "the open segment was never sent chunked (3 tries)")
    check(first[4:8] == b"moof" and ttfb < 1.0 and total > ttfb,
          "open segment: first bytes %r after %.2f s, all after %.2f s" % (first, ttfb, total))
    _, _, init = node.http("/live/dash/" + tmpl.get("initialization"))
    with open(t.path("ll.mp4"), "wb") as f:
        f.write(init + body)
    r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", t.path("ll.mp4"), "-f", "null",
                        "-"], capture_output=True, timeout=60)
    check(r.returncode == 0 and not r.stderr.strip(), "the streamed segment does not decode: %s"
          % r.stderr[:500])


def test_dash_needs_fmp4(t):
    """A node packaging HLS as MPEG-TS answers the manifest with 404 and says why."""
    o = origin(t.procs, "origin-dash-ts", args=["--hls-format", "ts"])
    publish(t.procs, o.rtmp("live", "ts"))
    o.wait_live("live", "ts")
    status, _, body = o.http("/live/ts/manifest.mpd", timeout=15)
    check(status == 404 and b"fmp4" in body, "TS node answered %d: %s" % (status, body[:200]))
