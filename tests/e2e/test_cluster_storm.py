# SPDX-License-Identifier: Apache-2.0
"""Pull storms and node identity: viewers and hostile clients on an edge cannot make it
hammer its origin with pulls (one pull per name, a name the origins lack held off with
backoff, pulls at once and per second capped), and two nodes started on one machine
without --name still form a working pair (docs/clustering.md)."""
import os
import re
import socket
import struct
import time
import urllib.request

from cluster_util import SECRET, downstream, origin
from harness import SLUICE, WORK, Node, check, check_media, play_ffmpeg, publish, wait_for
from rtmp_raw import TYPE_COMMAND_AMF0, TYPE_VIDEO, RawRtmp


def pulls_served(o):
    """Pull connections the origin accepted (its control links use the app _cluster)."""
    return len(re.findall(r"event=cluster_peer_accepted .* app=live\b", o.log()))


def first_frame_s(e, stream):
    """Seconds from a new RTMP viewer's play on e until its first video frame arrives."""
    c = RawRtmp(e.addr, e.rtmp_port, timeout=10)
    try:
        c.handshake()
        c.connect("live")
        sid = c.create_stream()
        start = time.monotonic()
        c.play(sid, stream, wait=False)
        while time.monotonic() - start < 10:
            mtype, _, body = c.read_msg()
            if mtype == TYPE_VIDEO and len(body) > 1 and body[1] == 1:
                return time.monotonic() - start
            if mtype == TYPE_COMMAND_AMF0 and b"StreamNotFound" in body:
                return 99.0
        return 99.0
    finally:
        c.close()


def note(t, line):
    """Figures for a report: appended to WORK/figures-cluster-storm.txt (a passing test's
    own directory is removed)."""
    with open(os.path.join(WORK, "figures-cluster-storm.txt"), "a") as f:
        f.write("%s %s\n" % (os.path.basename(t.tmpdir).rsplit("-", 1)[0], line))


def play_loop(e, names, count, seconds):
    """play then closeStream, count times (bounded in time), on one connection while the
    node keeps it; a play it refuses ends the connection, and the loop opens another, as a
    hostile client would.  Returns (plays, connections, seconds taken)."""
    start = time.monotonic()
    plays = conns = 0
    while plays < count and time.monotonic() - start < seconds:
        try:
            c = RawRtmp(e.addr, e.rtmp_port, timeout=5)
            conns += 1
            c.handshake()
            c.connect("live")
            sid = c.create_stream()
            while plays < count and time.monotonic() - start < seconds:
                c.play(sid, names(plays), wait=False)
                c.command("closeStream", None, msid=sid)
                plays += 1
                if plays % 20 == 0:
                    sync(c)
            sync(c)
        except (OSError, EOFError, TimeoutError):
            time.sleep(0.005)
        finally:
            c.close()
    return plays, conns, time.monotonic() - start


def sync(c):
    """Waits until the node has handled everything sent on c (it answers in order)."""
    txid = c.command("getStreamLength", None, "sync")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mtype, _, body = c.read_msg()
        if (mtype == TYPE_COMMAND_AMF0 and body[:10] == b"\x02\x00\x07_result" and
                struct.unpack(">d", body[11:19])[0] == txid):
            return
    raise TimeoutError("no answer to the sync")


def test_play_loop_on_edge_is_not_a_pull_storm(t):
    """One RTMP connection loops play/closeStream 2,000 times on an edge for names no origin
    has, first all different, then one name over and over: the origin serves a bounded
    number of pulls (not one per play), and a new real viewer of a live stream on that edge
    still starts at once."""
    o = origin(t.procs, "origin-storm")
    e = downstream(t.procs, "edge-storm", "edge", [o])
    publish(t.procs, o.rtmp("live", "show"))
    o.wait_live("live", "show")

    before = pulls_served(o)
    plays, conns, took = play_loop(e, lambda i: "ghost-%d" % i, 2000, 10)
    time.sleep(0.5)
    served = pulls_served(o) - before
    note(t, "distinct names: plays=%d on %d connections in %.1fs, pulls the origin served: %d"
         % (plays, conns, took, served))
    check(plays >= 500, "the loop only got %d plays through" % plays)
    view_s = first_frame_s(e, "show")
    note(t, "first frame of a new viewer after the storm: %.3fs" % view_s)
    # pull-rate (20/s, a bucket of 20) bounds it, well under the origin's conn-rate-per-ip
    bound = 20 + int(20 * took) + 5
    check(served <= bound, "%d plays of unknown names made the origin serve %d pulls in %.1fs"
          " (bound %d)" % (plays, served, took, bound))
    check(view_s < 1.0, "a new viewer waited %.1fs for its first frame after the storm"
          % view_s)
    # and a real player decodes it
    p = play_ffmpeg(t.procs, e.rtmp("live", "show"), t.path("after-storm.flv"), 4,
                    name="after-storm")
    check(p.wait(timeout=30) == 0, "ffmpeg viewer after the storm failed")
    check_media(t.path("after-storm.flv"), 2, "ffmpeg viewer on the edge after the storm")

    before = pulls_served(o)
    plays, conns, took = play_loop(e, lambda i: "ghost", 2000, 10)
    time.sleep(0.5)
    served = pulls_served(o) - before
    note(t, "one name: plays=%d on %d connections in %.1fs, pulls the origin served: %d"
         % (plays, conns, took, served))
    check(served <= 5, "%d plays of one unknown name made the origin serve %d pulls"
          % (plays, served))


def test_hls_unknown_names_cost_bounded_pulls(t):
    """500 HLS playlist requests for unknown names on an edge start a bounded number of pulls
    (not 500), and the edge still serves a live stream's playlist."""
    o = origin(t.procs, "origin-hls-storm")
    e = downstream(t.procs, "edge-hls-storm", "edge", [o])
    publish(t.procs, o.rtmp("live", "show"))
    o.wait_live("live", "show")
    before = pulls_served(o)
    start = time.monotonic()
    held = []
    sent = 0
    for i in range(500):
        if time.monotonic() - start > 12:
            break
        try:
            s = socket.create_connection((e.addr, e.http_port), timeout=2)
            s.sendall(b"GET /live/nope-%d/index.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n" % i)
            sent += 1
            held.append(s)
        except OSError:
            pass
        if len(held) > 40:  # what the node holds open is not this test's subject
            held.pop(0).close()
        time.sleep(0.006)  # about 150 a second: under the edge's conn-rate-per-ip
    took = time.monotonic() - start
    for s in held:
        s.close()
    time.sleep(0.5)
    started = e.api("/api/v1/node")["cluster"]["pulls_started"]
    served = pulls_served(o) - before
    note(t, "%d playlist requests for unknown names in %.1fs: pulls started %d, origin served"
         " %d" % (sent, took, started, served))
    check(sent >= 400, "only %d requests went out" % sent)
    bound = 20 + int(20 * took) + 5
    check(started <= bound, "%d unknown names started %d pulls (bound %d)"
          % (sent, started, bound))
    check(served <= bound, "%d unknown names made the origin serve %d pulls (bound %d)"
          % (sent, served, bound))
    r = urllib.request.urlopen(e.url("/live/show/index.m3u8"), timeout=10)
    check(r.status == 200 and b"#EXTM3U" in r.read(), "the live stream's playlist")


class UnnamedNode(Node):
    """A node started without --name, as an operator trying two on one machine would."""

    def __init__(self, procs, label, args):
        from harness import new_addr, port_open
        self.procs = procs
        self.addr = new_addr()
        self.rtmp_port, self.http_port = 1935, 5080
        self.name = label  # the process label only: the node picks its own name
        self.token = None
        cmd = [SLUICE, "node", "--bind", self.addr, "--rtmp-port", "1935", "--http-port",
               "5080", "--cpu-limit", "100"] + list(args)
        self.proc = procs.start(cmd, label)
        wait_for(lambda: self.proc.poll() is not None or
                 (port_open(self.addr, 1935) and port_open(self.addr, 5080)),
                 15, "node %s to listen" % label)
        check(self.proc.poll() is None, "node exited at start:\n" + self.log())


def test_two_unnamed_nodes_on_one_machine_form_a_pair(t):
    """An origin and an edge started on one machine without --name get different names, and
    a viewer on the edge plays what is published to the origin."""
    o = UnnamedNode(t.procs, "origin-unnamed", ["--role", "origin", "--cluster-secret", SECRET])
    e = UnnamedNode(t.procs, "edge-unnamed", ["--role", "edge", "--cluster-secret", SECRET,
                                              "--origins", "%s:1935" % o.addr])
    publish(t.procs, o.rtmp("live", "pair"))
    o.wait_live("live", "pair")
    p = play_ffmpeg(t.procs, e.rtmp("live", "pair"), t.path("pair.flv"), 4, name="pair-viewer")
    rc = p.wait(timeout=30)
    check(rc == 0, "ffmpeg could not play from the edge (exit %d); edge log:\n%s" %
          (rc, e.log()[-2000:]))
    check_media(t.path("pair.flv"), 2, "viewer on the unnamed edge")
    names = (o.api("/api/v1/node")["name"], e.api("/api/v1/node")["name"])
    note(t, "default names: %s, %s" % names)
    check(names[0] != names[1], "two nodes on one machine share the name %s" % names[0])


def test_duplicate_names_are_refused_with_a_clear_reason(t):
    """Two nodes given one name: the origin refuses the edge's links naming the duplicate,
    and the edge's log says why, instead of viewers silently getting not found."""
    o = origin(t.procs, "twin")
    e = downstream(t.procs, "twin-edge", "edge", [o], args=["--name", "twin"])
    wait_for(lambda: re.search(r"cluster_peer_refused .*name=twin reason=\"duplicate node name",
                               o.log()), 10, "the origin to refuse the duplicate name")
    # (the reason comes from the peer, so it is logged escaped: a space is \x20)
    said = r"cluster_link_down .*duplicate.x20node.x20name.x20'twin'"
    wait_for(lambda: re.search(said, e.log()), 10, "the edge to log the duplicate name")
