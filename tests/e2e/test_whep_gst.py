# SPDX-License-Identifier: Apache-2.0
"""WebRTC playback with a second, independent WebRTC stack: GStreamer's webrtcbin (libnice
for ICE, its own DTLS-SRTP, rtph264depay + avdec_h264, opusdec), driven as a WHEP client by
whep_gst.py.  It plays a stream published with ffmpeg over RTMP; and, in a network
namespace whose node-to-viewer UDP loses 5 % of its packets (tc netem), it keeps decoding
video because the node answers its NACKs from the stream's RTP history."""
import json
import os
import re
import subprocess
import sys
import time

from harness import SLUICE, Node, check, fixture, new_addr, publish, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT = os.path.join(HERE, "whep_gst.py")
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


def check_decoding(samples, last, what, seconds, min_share):
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
    check(re.search(r"/live/\w+/whep/[0-9a-f]{32}$", last["resource"] or ""),
          "%s: resource %s" % (what, last["resource"]))


def metric(text, name):
    m = re.search(r"^%s (\d+)$" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


def test_whep_gstreamer_webrtcbin(t):
    n = Node(t.procs, name="node-gst-whep")
    publish(t.procs, n.rtmp("live", "gst"), media=fixture(bframes=0))
    n.wait_live("live", "gst")
    seconds = 8
    samples, last = run_client(t.procs, [], new_addr(), n.url("/live/gst/whep"), seconds,
                               "gst-whep")
    check_decoding(samples, last, "webrtcbin on the node", seconds, 0.6)
    # The client's DELETE ended the session on the node.
    wait_for(lambda: metric(n.http("/metrics")[2].decode(), "sluice_webrtc_sessions") == 0,
             5, "the WebRTC session to end after DELETE")
    check(metric(n.http("/metrics")[2].decode(), "sluice_webrtc_sessions_total") == 1,
          "sessions_total is not 1")


class Netns:
    """A network namespace with a veth pair (192.0.2.1 for the node, 198.51.100.1 for the
    viewer, both ends inside) whose UDP from the node's port is lossy: traffic between two
    local addresses goes over the namespace's own lo, where a prio qdisc sends what the
    filter matches through netem, and nothing else (HTTP, RTMP) loses a packet."""

    def __init__(self, name, udp_port, loss):
        self.name = name
        self.ok = False
        cmds = [
            ["ip", "netns", "add", name],
            ["ip", "-n", name, "link", "set", "lo", "up"],
            ["ip", "-n", name, "link", "add", "va", "type", "veth", "peer", "name", "vb"],
            ["ip", "-n", name, "addr", "add", "192.0.2.1/24", "dev", "va"],
            ["ip", "-n", name, "addr", "add", "198.51.100.1/24", "dev", "vb"],
            ["ip", "-n", name, "link", "set", "va", "up"],
            ["ip", "-n", name, "link", "set", "vb", "up"],
            # Every priority to band 1:1; only the filter's match goes to the lossy 1:3.
            self.exec(["tc", "qdisc", "add", "dev", "lo", "root", "handle", "1:", "prio",
                       "bands", "3", "priomap"] + ["0"] * 16),
            self.exec(["tc", "qdisc", "add", "dev", "lo", "parent", "1:3", "handle", "30:",
                       "netem", "loss", "%d%%" % loss]),
            self.exec(["tc", "filter", "add", "dev", "lo", "parent", "1:0", "protocol", "ip",
                       "prio", "1", "u32", "match", "ip", "protocol", "17", "0xff",
                       "match", "ip", "sport", str(udp_port), "0xffff", "flowid", "1:3"]),
        ]
        for c in cmds:
            r = subprocess.run(c, capture_output=True, timeout=10)
            if r.returncode != 0:
                self.error = "%s: %s" % (" ".join(c), r.stderr.decode(errors="replace").strip())
                return
        self.ok = True

    def exec(self, cmd):
        return ["ip", "netns", "exec", self.name] + cmd

    def curl(self, url):
        r = subprocess.run(self.exec(["curl", "-s", "--max-time", "3", url]),
                           capture_output=True, timeout=10)
        return r.stdout.decode(errors="replace") if r.returncode == 0 else None

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=10)


def test_whep_nack_under_loss(t):
    if os.geteuid() != 0:
        sys.stderr.write("test_whep_nack_under_loss: SKIPPED: network namespaces need root\n")
        return
    ns = Netns("sluice-whep-%d" % os.getpid(), 5080, 5)
    try:
        if not ns.ok:
            ns.delete()
            sys.stderr.write("test_whep_nack_under_loss: SKIPPED: no network namespace here "
                             "(%s)\n" % ns.error)
            return
        base = "http://192.0.2.1:5080"
        t.procs.start(ns.exec([SLUICE, "node", "--bind", "192.0.2.1", "--rtmp-port", "1935",
                               "--http-port", "5080", "--name", "node-whep-loss"]),
                      "node-whep-loss")
        wait_for(lambda: ns.curl(base + "/healthz") is not None, 15, "the node in the namespace")
        t.procs.start(ns.exec(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning",
                               "-re", "-stream_loop", "-1", "-i", fixture(bframes=0),
                               "-c", "copy", "-f", "flv", "rtmp://192.0.2.1:1935/live/loss"]),
                      "publisher-loss")

        def live():
            for s in json.loads(ns.curl(base + "/api/v1/streams"))["streams"]:
                if s["name"] == "loss" and s.get("video", {}).get("frames", 0) > 0:
                    return True
            return False
        wait_for(live, 20, "the stream to be live in the namespace")

        seconds = 12
        samples, last = run_client(t.procs, ns.exec([]), "198.51.100.1", base + "/live/loss/whep",
                                   seconds, "gst-whep-loss")
        check_decoding(samples, last, "webrtcbin behind 5 % loss", seconds, 0.5)
        m = ns.curl(base + "/metrics") or ""
        nacks, resent = metric(m, "sluice_webrtc_nacks_total"), metric(m,
                                                                      "sluice_webrtc_retransmits_total")
        # The fixture's 300 kbit/s video is ~35 packets a second: 5 % of 12 s is ~20 lost.
        check(nacks is not None and nacks >= 5, "NACKs counted: %s" % nacks)
        check(resent is not None and resent >= nacks // 2, "retransmissions %s for %s NACKs" % (
            resent, nacks))
        sys.stderr.write("test_whep_nack_under_loss: %d frames in %d s, %d NACKed, %d resent\n"
                         % (samples[-1]["video_frames"], seconds, nacks, resent))
    finally:
        ns.delete()
