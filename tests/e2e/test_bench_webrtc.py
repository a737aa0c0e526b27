# SPDX-License-Identifier: Apache-2.0
"""The load client's WebRTC viewers (sluice-load --whep) measure what a real viewer gets.

They feed the WebRTC figures of docs/benchmarks.md, so they are checked here at small N
against an RTMP viewer of the same load client (whose counting test_bench_client.py checks
against ffmpeg) and against the node's own counters: the WHEP offer is answered, ICE and
DTLS complete, every packet decrypts, the H.264 depacketizes into as many pictures as the
RTMP viewer gets, each still carrying the publisher's SEI stamp, so the lag is measured.
Nothing here asserts on speed.
"""
import json
import os
import re

from harness import SLUICE, Node, check, fixture

LOAD = os.path.join(os.path.dirname(os.path.abspath(SLUICE)), "bench", "sluice-load")
WARMUP = 2
SETTLE = 2
DURATION = 5
FPS = 25  # the harness fixture's frame rate


def metric(node, name):
    text = node.http("/metrics")[2].decode()
    m = re.search(r"^%s (\d+)" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else None


def test_webrtc_viewers_are_measured(t):
    check(os.access(LOAD, os.X_OK), "%s is not built (ninja -C build)" % LOAD)
    node = Node(t.procs)
    # WebRTC players want pictures in presentation order: no B-frames (docs/webrtc.md).
    media = fixture(bframes=0)
    url = node.rtmp("live", "bench")
    report = t.path("report.json")
    with open(report, "wb") as out:
        lc = t.procs.start([LOAD, "--publish", url, "--file", media,
                            "--rtmp", url, "--rtmp-viewers", "1",
                            "--whep", node.url("/live/bench/whep"), "--whep-viewers", "2",
                            "--warmup", str(WARMUP), "--settle", str(SETTLE),
                            "--duration", str(DURATION), "--per-viewer",
                            "--server-pid", str(node.proc.pid)], "sluice-load", stdout=out)
    rc = lc.wait(timeout=WARMUP + SETTLE + DURATION + 40)
    check(rc == 0, "sluice-load exited with %d" % rc)
    with open(report) as f:
        r = json.load(f)
    check(r["viewers"]["connected"] == 3 and r["viewers"]["alive_at_end"] == 3 and
          r["viewers"]["errors"] == {}, "viewers: %s" % r["viewers"])
    pv = r["per_viewer"]
    rtmp = [v for v in pv if v["protocol"] == "rtmp"][0]
    whep = [v for v in pv if v["protocol"] == "whep"]
    check(len(whep) == 2, "per viewer: %s" % pv)
    for v in whep:
        # Pictures: as many as the RTMP viewer of the same run (their start differs by the
        # ICE and DTLS setup), at the fixture's rate by their RTP timestamps.
        span = (v["last_video_ts"] - v["first_video_ts"]) / 1000.0
        check(span > DURATION, "viewer %d: only %.1fs of video" % (v["id"], span))
        rate = (v["video_frames"] - 1) / span
        check(abs(rate - FPS) < 0.05 * FPS, "viewer %d: %.2f fps" % (v["id"], rate))
        check(abs(v["video_frames"] - rtmp["video_frames"]) <= 0.25 * rtmp["video_frames"],
              "viewer %d: %d pictures, the RTMP viewer %d" % (
                  v["id"], v["video_frames"], rtmp["video_frames"]))
        check(v["keyframes"] >= 1 and v["ttff_ms"] is not None and v["ttff_ms"] > 0,
              "viewer %d: %s" % (v["id"], v))
        # The stamp survived RTP: every picture had it, and the lag is measured on each.
        check(v["unstamped_frames"] == 0 and v["negative_lag"] == 0,
              "viewer %d: %d pictures without the stamp, %d from the future" % (
                  v["id"], v["unstamped_frames"], v["negative_lag"]))
        check(v["lag_samples"] >= DURATION * FPS * 0.8 and 0 <= v["lag_mean_ms"] < 250,
              "viewer %d: %d lag samples, mean %s ms" % (
                  v["id"], v["lag_samples"], v.get("lag_mean_ms")))
        # Opus from the node's transcoder: 50 packets a second.
        check(v["audio_frames"] >= 40 * (WARMUP + DURATION) * 0.5,
              "viewer %d: %d audio packets" % (v["id"], v["audio_frames"]))
    w = r["webrtc"]
    check(w["viewers_in_media"] == 2 and w["srtp_errors"] == 0 and w["setup_ms"]["n"] == 2,
          "webrtc %s" % w)
    # Loopback loses nothing at this size, and the node skipped no one.
    check(w["gaps_in_window"] == 0 and w["jumps_in_window"] == 0 and
          w["access_units_dropped"] == 0, "webrtc %s" % w)
    check(w["video_packets"] > sum(v["video_frames"] for v in whep) and w["audio_packets"] > 0,
          "webrtc %s" % w)
    # The node sent at least what the viewers decrypted (it counts SRTCP and STUN too),
    # and took their receiver reports as valid SRTCP.
    sent = metric(node, "sluice_webrtc_packets_total")
    check(sent is not None and sent >= w["video_packets"] + w["audio_packets"],
          "node sent %s packets, the viewers got %d" % (
              sent, w["video_packets"] + w["audio_packets"]))


def test_webrtc_viewer_refused(t):
    """A WHEP viewer of a stream that is not live is an error, not a viewer."""
    check(os.access(LOAD, os.X_OK), "%s is not built (ninja -C build)" % LOAD)
    node = Node(t.procs)
    report = t.path("report.json")
    with open(report, "wb") as out:
        lc = t.procs.start([LOAD, "--whep", node.url("/live/nothing/whep"), "--whep-viewers", "2",
                            "--settle", "0.5", "--duration", "1"], "sluice-load", stdout=out)
    check(lc.wait(timeout=30) == 0, "sluice-load failed")
    with open(report) as f:
        r = json.load(f)
    check(r["viewers"]["connected"] == 0 and r["viewers"]["errors"] == {"whep: status 404": 2},
          "viewers %s" % r["viewers"])
