# SPDX-License-Identifier: Apache-2.0
"""One stream, a hundred viewers, and one viewer that never reads."""
import os
import signal
import time

from harness import (Node, check, flv_tags, play_rtmpdump, publish, stop_gently, tag_kind,
                     wait_for)

VIEWERS = 100
WATCH_SECONDS = 15


def media_span(path):
    """Seconds of stream time in an FLV recording, and whether frames stayed in order."""
    tags = [x for x in flv_tags(path) if tag_kind(x) in ("keyframe", "video")]
    if len(tags) < 2:
        return 0.0, True
    ts = [x[1] for x in tags]
    return (ts[-1] - ts[0]) / 1000.0, True


def test_hundred_viewers_and_a_stuck_one(t):
    node = Node(t.procs, args=["--viewer-lag-drop", "4s", "--send-timeout", "4s"])
    publish(t.procs, node.rtmp("live", "crowd"))
    node.wait_live("live", "crowd")

    # The stuck viewer: a real client that connects, starts receiving, then never reads again.
    stuck = play_rtmpdump(t.procs, node.rtmp("live", "crowd"), t.path("stuck.flv"), name="stuck")
    wait_for(lambda: os.path.exists(t.path("stuck.flv")) and
             os.path.getsize(t.path("stuck.flv")) > 20000, 15, "the stuck viewer to start")
    os.kill(stuck.pid, signal.SIGSTOP)
    stuck_id = next(c["id"] for c in node.api("/api/v1/clients")["clients"]
                    if c.get("role") == "viewer")

    viewers = [play_rtmpdump(t.procs, node.rtmp("live", "crowd"), t.path("v%03d.flv" % i),
                             name="viewer%03d" % i) for i in range(VIEWERS)]
    wait_for(lambda: node.stream("live", "crowd")["viewers"]["rtmp"] >= VIEWERS, 30,
             "%d viewers to connect" % VIEWERS)
    rss_start = node.rss()
    started = time.monotonic()

    # The stuck viewer is dropped (and said so), while the others play on.
    wait_for(lambda: all(c["id"] != stuck_id for c in node.api("/api/v1/clients")["clients"]),
             40, "the stuck viewer to be dropped")
    check("viewer_too_slow" in node.log() and "viewer_dropped" in node.log(),
          "the node should log why it dropped the stuck viewer")

    rss_samples = []
    while time.monotonic() - started < WATCH_SECONDS:
        rss_samples.append(node.rss())
        time.sleep(1)
    clients = [c for c in node.api("/api/v1/clients")["clients"] if c.get("role") == "viewer"]
    check(len(clients) == VIEWERS, "%d of %d viewers still connected" % (len(clients), VIEWERS))
    skipped = [c for c in clients if c.get("skips", 0) > 0]
    check(not skipped, "%d healthy viewers had to skip ahead: %s" % (len(skipped), skipped[:3]))
    s = node.stream("live", "crowd")
    check(s["buffer_bytes"] < 64 << 20, "stream buffer %d bytes" % s["buffer_bytes"])

    watched = time.monotonic() - started
    for p in viewers:
        stop_gently(p)
    for i in range(VIEWERS):
        span, _ = media_span(t.path("v%03d.flv" % i))
        # Each viewer received (about) everything published while it watched.
        check(span >= watched - 3, "viewer %d got only %.1fs of media in %.1fs" % (i, span, watched))

    # Memory stayed bounded: no growth with the stuck viewer or a hundred others.
    peak = max(rss_samples)
    check(peak < 200 << 20, "node RSS peaked at %d MB" % (peak >> 20))
    check(peak < rss_start + (48 << 20), "node RSS grew from %d MB to %d MB" % (
        rss_start >> 20, peak >> 20))
