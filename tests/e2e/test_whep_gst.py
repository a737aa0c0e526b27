# SPDX-License-Identifier: Apache-2.0
"""WebRTC playback with a second, independent WebRTC stack: GStreamer's webrtcbin (libnice
for ICE, its own DTLS-SRTP, rtph264depay + avdec_h264, opusdec), driven as a WHEP client by
whep_gst.py.  It plays a stream published with ffmpeg over RTMP, from an origin and
through an edge that pulls it: video frames and Opus packets decode all along.  And behind
a path that loses 5 % of the media the node sends, it keeps decoding video because the
node answers its NACKs from the stream's RTP history.

The lossy path is a small user-space relay (udp_loss.py), not tc netem in a network
namespace: the kernels this suite runs on may lack sch_netem (this one does, and
iptables), and the relay also needs no root."""
import json
import os
import re
import subprocess
import sys

from cluster_util import downstream, origin
from harness import Node, check, fixture, new_addr, publish, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "whep_gst.py")
RELAY = os.path.join(HERE, "udp_loss.py")
FPS = 25


def run_client(procs, cmd_prefix, local_ip, url, seconds, name):
    """whep_gst.py on url for `seconds`, ICE from local_ip; returns (per-second samples,
    final report)."""
    p = procs.start(cmd_prefix + [sys.executable, CLIENT, "--local-ip", local_ip, url,
                                  str(seconds)], name, stdout=subprocess.PIPE)
    out, _ = p.communicate(timeout=seconds + 60)
    lines = [json.loads(ln) for ln in out.decode(errors="replace").splitlines()
             if ln.startswith("{")]
    check(lines, "%s: no report (exit %s)" % (name, p.returncode))
    last = lines[-1]
    check("failure" not in last, "%s: %s" % (name, last.get("failure")))
    check(p.returncode == 0 and last.get("done"), "%s: exit %s, %s" % (name, p.returncode, last))
    return [x for x in lines if "t" in x], last


def check_decoding(node, samples, last, what, seconds, min_share):
    check(not last["errors"], "%s: GStreamer errors %s" % (what, last["errors"]))
    check(samples[-1]["pc"] == "connected", "%s: peer connection %s" % (what, samples[-1]))
    frames = [s["video_frames"] for s in samples]
    # Frames kept coming: every 2 s after the first second added some (no frozen video).
    for i in range(3, len(frames)):
        check(frames[i] > frames[i - 2], "%s: no video decoded between seconds %d and %d: %s"
              % (what, i - 1, i + 1, frames))
    check(frames[-1] >= FPS * seconds * min_share, "%s: %d frames decoded in %d s (%s)" % (
        what, frames[-1], seconds, frames))
    if re.search(r"^m=audio [1-9]", last["answer"], re.M):
        audio = [s["audio_buffers"] for s in samples]
        check(audio[-1] >= 50 * seconds * min_share, "%s: %d Opus packets decoded in %d s (%s)"
              % (what, audio[-1], seconds, audio))
    else:
        # Audio may only be refused by a node built without libavcodec.
        check(re.search(r'audio="?rejected \(no transcoder\)', node.log()),
              "%s: audio refused, and not for want of a transcoder" % what)
    check(re.search(r"/live/\w+/whep/[0-9a-f]{32}$", last["resource"] or ""),
          "%s: resource %s" % (what, last["resource"]))


def metric(text, name):
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


def test_whep_gstreamer_webrtcbin_origin_and_edge(t):
    o = origin(t.procs, "node-gst-origin")
    e = downstream(t.procs, "node-gst-edge", "edge", [o])
    publish(t.procs, o.rtmp("live", "gst"), media=fixture(bframes=0))
    o.wait_live("live", "gst")
    seconds = 8
    for node, what in ((o, "webrtcbin on the origin"), (e, "webrtcbin through the edge")):
        samples, last = run_client(t.procs, [], new_addr(), node.url("/live/gst/whep"), seconds,
                                   "gst-whep-" + node.name)
        check_decoding(node, samples, last, what, seconds, 0.6)
        # The client's DELETE ended the session on the node.
        wait_for(lambda: metric(node.http("/metrics")[2].decode(), "sluice_webrtc_sessions") == 0,
                 5, "the WebRTC session on %s to end after DELETE" % node.name)
        check(metric(node.http("/metrics")[2].decode(), "sluice_webrtc_sessions_total") == 1,
              "%s: sessions_total is not 1" % node.name)


def test_whep_nack_under_loss(t):
    """A viewer behind a path that loses 5 % of the media the node sends it (udp_loss.py,
    standing where a NAT would: the node advertises its address with webrtc-public-ip)
    keeps decoding: it NACKs what it missed and the node resends it from the history."""
    relay_addr = new_addr()
    n = Node(t.procs, name="node-whep-loss", args=["--webrtc-public-ip", relay_addr])
    seconds = 12
    relay = t.procs.start([sys.executable, RELAY, "%s:%d" % (relay_addr, n.http_port),
                           "%s:%d" % (n.addr, n.http_port), "5", str(seconds + 30), "7"],
                          "udp-loss", stdout=subprocess.PIPE)
    publish(t.procs, n.rtmp("live", "loss"), media=fixture(bframes=0))
    n.wait_live("live", "loss")
    samples, last = run_client(t.procs, [], new_addr(), n.url("/live/loss/whep"), seconds,
                               "gst-whep-loss")
    relay.terminate()
    out, _ = relay.communicate(timeout=10)
    path = json.loads(out.decode().strip().splitlines()[-1])
    check(path["peers"] == 1 and path["dropped"] > 0, "the lossy path: %s" % path)
    check_decoding(n, samples, last, "webrtcbin behind 5 %% loss (%s)" % path, seconds, 0.5)
    m = n.http("/metrics")[2].decode()
    nacks = metric(m, "sluice_webrtc_nacks_total")
    resent = metric(m, "sluice_webrtc_retransmits_total")
    # The viewer asked again for what it lost (the dropped media, less what it gave up on),
    # and the node answered from its history.
    check(nacks is not None and nacks >= path["dropped"] // 4, "NACKed %s of %d dropped" % (
        nacks, path["dropped"]))
    check(resent is not None and resent >= nacks // 2, "resent %s for %s NACKed" % (resent, nacks))
    sys.stderr.write("test_whep_nack_under_loss: %d frames in %d s, %d dropped, %d NACKed, "
                     "%d resent\n" % (samples[-1]["video_frames"], seconds, path["dropped"], nacks,
                                       resent))
