# SPDX-License-Identifier: Apache-2.0
"""The cluster secret: proved, never sent; wrong secrets and replays are refused."""
import socket
import time

from cluster_util import SECRET, Recorder, downstream, new_addr_for_proxy, origin, pull_of
from harness import check, check_media, log_text, play_ffmpeg, publish, wait_for


def test_wrong_secret_is_refused(t):
    o = origin(t.procs, "origin-s")
    bad = downstream(t.procs, "edge-bad", "edge", [o], secret="not-the-cluster-secret")
    publish(t.procs, o.rtmp("live", "guarded"))
    o.wait_live("live", "guarded")
    viewer = play_ffmpeg(t.procs, bad.rtmp("live", "guarded"), t.path("bad.flv"), 5,
                         name="viewer-bad-edge")
    wait_for(lambda: "cluster_peer_refused" in o.log(), 10, "the origin to refuse the edge")
    check("wrong proof" in o.log(), "the origin should say why:\n" + o.log()[-1500:])
    check(o.stream("live", "guarded")["cluster_pulls"] == 0, "a pull was served to a wrong secret")
    viewer.wait(timeout=30)
    check("refused our cluster proof" in bad.log(), "the edge should say it was refused")
    metrics = o.http("/metrics")[2].decode()
    refused = [l for l in metrics.splitlines() if l.startswith("sluice_cluster_peers_refused_total")]
    check(refused and float(refused[0].split()[1]) >= 1, "refusals counted: %s" % refused)


def test_secret_never_on_the_wire_and_replay_refused(t):
    """Every byte between edge and origin is recorded: the secret is not among them, and
    replaying a recorded, accepted session to the origin is refused (fresh nonce)."""
    o = origin(t.procs, "origin-w")
    proxy = Recorder(new_addr_for_proxy(), o.addr, o.rtmp_port)
    try:
        e = downstream(t.procs, "edge-w", "edge", ["%s:%d" % (proxy.addr, proxy.rtmp_port)])
        publish(t.procs, o.rtmp("live", "wire"))
        o.wait_live("live", "wire")
        v = play_ffmpeg(t.procs, e.rtmp("live", "wire"), t.path("wire.flv"), 4, name="viewer")
        check(v.wait(timeout=30) == 0, "viewer through the recorded link failed")
        check_media(t.path("wire.flv"), 2, "viewer through the recorded link")
        wire = proxy.everything()
        check(b"clusterAuth" in wire and len(wire) > 100000,
              "the recording missed the session (%d bytes)" % len(wire))
        for form in (SECRET.encode(), SECRET.encode().hex().encode(),
                     SECRET.encode("utf-16-le")):
            check(form not in wire, "the cluster secret crossed the wire")
        # Replay the pull connection's first bytes (handshake, connect, clusterAuth).
        session = next(bytes(u) for u in proxy.up if b"clusterAuth" in u and b"play" in u)
        end = session.index(b"clusterAuth") + 300
        before = o.log().count("cluster_peer_refused")
        with socket.create_connection((o.addr, o.rtmp_port), timeout=5) as s:
            s.sendall(session[:end])
            s.settimeout(3)
            try:
                while s.recv(65536):
                    pass
            except OSError:
                pass
        wait_for(lambda: o.log().count("cluster_peer_refused") > before, 5,
                 "the origin to refuse the replay")
        check("wrong proof" in o.log().splitlines()[-1] or "wrong proof" in o.log()[-2000:],
              "a replay should fail the proof")
    finally:
        proxy.close()
