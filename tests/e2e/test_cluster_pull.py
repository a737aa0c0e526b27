# SPDX-License-Identifier: Apache-2.0
"""Edges and relays pull streams from origins: one pull per stream per edge, any viewers."""
import time

from cluster_util import SECRET, downstream, origin, pull_of
from harness import (Node, check, check_media, flv_tags, new_addr, play_ffmpeg, play_rtmpdump,
                     publish, stop_gently, tag_kind, wait_for)


def test_origin_and_two_edges(t):
    """ffmpeg publishes to the origin; RTMP and HTTP-FLV viewers on two edges decode cleanly;
    the origin serves exactly one pull per edge however many viewers each edge has."""
    o = origin(t.procs, "origin-a")
    e1 = downstream(t.procs, "edge-1", "edge", [o])
    e2 = downstream(t.procs, "edge-2", "edge", [o])
    publish(t.procs, o.rtmp("live", "show"))
    o.wait_live("live", "show")

    seconds = 6
    viewers = []
    for e in (e1, e2):
        viewers.append((e.name + " rtmp", "%s-rtmp.flv" % e.name,
                        play_ffmpeg(t.procs, e.rtmp("live", "show"), t.path("%s-rtmp.flv" % e.name),
                                    seconds, name=e.name + "-rtmp")))
        viewers.append((e.name + " http-flv", "%s-http.flv" % e.name,
                        play_ffmpeg(t.procs, e.flv("live", "show"), t.path("%s-http.flv" % e.name),
                                    seconds, name=e.name + "-flv")))
    dump = play_rtmpdump(t.procs, e1.rtmp("live", "show"), t.path("edge-1-rtmpdump.flv"))

    wait_for(lambda: e1.stream("live", "show")["viewers"]["total"] == 3, 15, "3 viewers on edge-1")
    wait_for(lambda: e2.stream("live", "show")["viewers"]["total"] == 2, 15, "2 viewers on edge-2")
    s = o.stream("live", "show")
    check(s["cluster_pulls"] == 2 and s["viewers"]["total"] == 2,
          "the origin should serve one pull per edge and nothing else: %s pulls, viewers %s"
          % (s["cluster_pulls"], s["viewers"]))
    for e in (e1, e2):
        p = pull_of(e, "live", "show")
        check(p and p["state"] == "playing" and p["upstream"] == "%s:1935" % o.addr,
              "%s pull: %s" % (e.name, p))
        check(len(e.api("/api/v1/node")["cluster"]["pulls"]) == 1, "one pull on " + e.name)

    for label, _, p in viewers:
        check(p.wait(timeout=seconds + 20) == 0, "%s viewer failed" % label)
    stop_gently(dump)
    for label, path, _ in viewers:
        check_media(t.path(path), seconds - 2, "viewer on " + label)
    check_media(t.path("edge-1-rtmpdump.flv"), 2, "rtmpdump on edge-1")

    # With its viewers gone the edge drops the pull a few seconds later.
    wait_for(lambda: pull_of(e2, "live", "show") is None, 15, "edge-2 to drop its idle pull")
    wait_for(lambda: o.stream("live", "show")["cluster_pulls"] == 0, 10,
             "the origin to see both pulls gone")


def test_cold_edge_starts_viewer_on_origin_gop(t):
    """A viewer on a cold edge gets headers and a keyframe at once: the origin's GOP cache
    travels with the pull (10 s GOP; joining 3 s in)."""
    from harness import fixture
    media = fixture(duration=30, gop=10.0, fps=25)
    o = origin(t.procs, "origin-gop")
    e = downstream(t.procs, "edge-gop", "edge", [o])
    publish(t.procs, o.rtmp("live", "gop"), media=media, loop=False)
    o.wait_live("live", "gop")
    time.sleep(3)
    dump = play_rtmpdump(t.procs, e.rtmp("live", "gop"), t.path("cold.flv"))
    wait_for(lambda: any(tag_kind(x) == "keyframe" for x in flv_tags(t.path("cold.flv"), 400)),
             5, "the first keyframe through a cold edge (well before the next GOP at 10 s)")
    stop_gently(dump)
    kinds = [tag_kind(x) for x in flv_tags(t.path("cold.flv"))]
    first = next(i for i, k in enumerate(kinds) if k in ("keyframe", "video"))
    check(kinds[first] == "keyframe", "first frame is not a keyframe: %s" % kinds[:8])
    for needed in ("metadata", "video-header", "audio-header"):
        check(needed in kinds[:first], "%s missing before the first frame: %s" % (needed, kinds[:8]))


def test_origin_relay_edge_chain(t):
    """origin -> relay -> relay -> edge: viewers on the edge decode; each hop pulls once."""
    o = origin(t.procs, "origin-c")
    r1 = downstream(t.procs, "relay-1", "relay", [o])
    r2 = downstream(t.procs, "relay-2", "relay", [r1])
    e = downstream(t.procs, "edge-c", "edge", [r2])
    publish(t.procs, o.rtmp("live", "far"))
    o.wait_live("live", "far")
    seconds = 5
    v1 = play_ffmpeg(t.procs, e.rtmp("live", "far"), t.path("chain-rtmp.flv"), seconds,
                     name="chain-rtmp")
    v2 = play_ffmpeg(t.procs, e.flv("live", "far"), t.path("chain-http.flv"), seconds,
                     name="chain-flv")
    wait_for(lambda: (e.stream("live", "far") or {}).get("viewers", {}).get("total") == 2, 15,
             "2 viewers on the edge")
    for hop, up in ((r1, o), (r2, r1), (e, r2)):
        p = pull_of(hop, "live", "far")
        check(p and p["state"] == "playing" and p["upstream"] == "%s:1935" % up.addr,
              "%s should pull from %s: %s" % (hop.name, up.name, p))
    check(o.stream("live", "far")["cluster_pulls"] == 1, "origin: one pull (relay-1)")
    check(r1.stream("live", "far")["cluster_pulls"] == 1, "relay-1: one pull (relay-2)")
    for p in (v1, v2):
        check(p.wait(timeout=seconds + 20) == 0, "a chain viewer failed")
    check_media(t.path("chain-rtmp.flv"), seconds - 2, "RTMP viewer at the end of the chain")
    check_media(t.path("chain-http.flv"), seconds - 2, "HTTP-FLV viewer at the end of the chain")


def test_edges_take_no_publishers(t):
    o = origin(t.procs, "origin-np")
    e = downstream(t.procs, "edge-np", "edge", [o])
    p = publish(t.procs, e.rtmp("live", "nope"), name="edge-publisher", loop=False)
    check(p.wait(timeout=20) != 0, "publishing to an edge must fail")
    check("publish_refused" in e.log() and "role edge" in e.log(), "edge should log the refusal")


def test_publish_only_origin_serves_pulls_only(t):
    """A publish-only origin refuses ordinary viewers (RTMP and HTTP-FLV) but serves edges."""
    o = origin(t.procs, "origin-po", args=["--publish-only"])
    e = downstream(t.procs, "edge-po", "edge", [o])
    publish(t.procs, o.rtmp("live", "po"))
    o.wait_live("live", "po")
    direct = play_ffmpeg(t.procs, o.rtmp("live", "po"), t.path("direct.flv"), 3, name="direct")
    check(direct.wait(timeout=20) != 0, "a viewer on a publish-only origin must be refused")
    status, _, body = o.http("/live/po.flv")
    check(status == 403 and b"publish-only" in body, "HTTP-FLV on the origin: %d %s" % (status, body))
    v = play_ffmpeg(t.procs, e.rtmp("live", "po"), t.path("edge.flv"), 4, name="via-edge")
    check(v.wait(timeout=30) == 0, "the edge viewer failed")
    check_media(t.path("edge.flv"), 2, "viewer through the edge of a publish-only origin")


def test_relays_listing_each_other_do_not_loop(t):
    """Relay A lists B and B lists A (a misconfiguration): a stream neither has ends for its
    viewer within the linger, the loop is seen and logged, and no pull is left behind."""
    args = ["--linger", "3s", "--pull-idle", "1s"]
    a_addr, b_addr = new_addr(), new_addr()
    a = Node(t.procs, addr=a_addr, name="relay-a",
             args=["--role", "relay", "--origins", "%s:1935" % b_addr,
                   "--cluster-secret", SECRET] + args)
    b = Node(t.procs, addr=b_addr, name="relay-b",
             args=["--role", "relay", "--origins", "%s:1935" % a_addr,
                   "--cluster-secret", SECRET] + args)
    e = downstream(t.procs, "edge-loop", "edge", [a], args=args)
    viewer = play_ffmpeg(t.procs, e.rtmp("live", "nowhere"), t.path("nowhere.flv"), 30,
                         name="viewer")
    started = time.monotonic()
    viewer.wait(timeout=30)
    check(time.monotonic() - started < 15, "the viewer waited %.1fs" % (time.monotonic() - started))
    wait_for(lambda: "cluster_loop" in a.log() or "cluster_loop" in b.log(), 10,
             "a relay to notice the loop")
    for n in (a, b, e):
        wait_for(lambda: not n.api("/api/v1/node")["cluster"]["pulls"], 15,
                 "%s to drop every pull" % n.name)
