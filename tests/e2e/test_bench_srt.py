# SPDX-License-Identifier: Apache-2.0
"""The benchmark load client over SRT (bench/srt_cost.sh): sluice-load publishes the stamped
stream over SRT (its FLV tags muxed into MPEG-TS) and plays it over SRT (the TS demuxed).

The figures in docs/benchmarks.md' SRT section rest on two things checked here with real
players alongside: the stream sluice-load publishes over SRT is one ffmpeg decodes cleanly,
and the SEI stamp survives SRT ingest and SRT playback, so every frame an SRT or RTMP viewer
gets carries it and the lag is measured on all of them. Nothing here asserts on speed."""
import json
import os
import signal

from harness import SLUICE, Node, check, check_media, fixture, play_ffmpeg, stop_gently

LOAD = os.path.join(os.path.dirname(os.path.abspath(SLUICE)), "bench", "sluice-load")
SRT_PORT = 9710
WARMUP = 2
SETTLE = 1
DURATION = 4
FPS = 25  # the harness fixture's frame rate


def test_load_client_publishes_and_plays_over_srt(t):
    check(os.access(LOAD, os.X_OK), "%s is not built (ninja -C build)" % LOAD)
    node = Node(t.procs, args=["--srt", "true"])
    srt = "srt://%s:%d?streamid=#!::r=live/lcsrt,m=" % (node.addr, SRT_PORT)
    report = t.path("report.json")
    with open(report, "wb") as out:
        lc = t.procs.start([LOAD, "--publish", srt + "publish", "--file", fixture(),
                            "--rtmp", node.rtmp("live", "lcsrt"), "--rtmp-viewers", "2",
                            "--srt", srt + "request", "--srt-viewers", "2",
                            "--warmup", str(WARMUP), "--settle", str(SETTLE),
                            "--duration", str(DURATION), "--per-viewer",
                            "--server-pid", str(node.proc.pid)], "sluice-load", stdout=out)
    # A real player of what sluice-load published over SRT, over RTMP.
    node.wait_live("live", "lcsrt")
    ff = play_ffmpeg(t.procs, node.rtmp("live", "lcsrt"), t.path("ffmpeg.flv"), 60)
    rc = lc.wait(timeout=WARMUP + SETTLE + DURATION + 30)
    check(rc == 0, "sluice-load exited with %d" % rc)
    stop_gently(ff, signal.SIGINT)
    check_media(t.path("ffmpeg.flv"), DURATION, "ffmpeg playing the SRT-published stream")

    with open(report) as f:
        r = json.load(f)
    check(r["publisher"]["connected"] and r["publisher"]["error"] is None,
          "publisher: %s" % r["publisher"])
    check(r["viewers"]["connected"] == 4 and r["viewers"]["alive_at_end"] == 4 and
          r["viewers"]["errors"] == {}, "viewers: %s" % r["viewers"])
    pv = r["per_viewer"]
    check([v["protocol"] for v in pv] == ["rtmp", "rtmp", "srt", "srt"], "viewers %s" % pv)
    for v in pv:
        # Every frame stamped: the stamp went through TS muxing, the node's demuxer and (for
        # SRT viewers) its TS muxer and ours; lag on every frame of the window.
        check(v["unstamped_frames"] == 0 and v["negative_lag"] == 0,
              "viewer %d: %s" % (v["id"], v))
        check(v["lag_samples"] >= DURATION * FPS * 0.8, "viewer %d: %d lag samples" % (
            v["id"], v["lag_samples"]))
        # SRT holds each packet for its latency (120 ms) on the way in and again on the way
        # out: under a second on one machine.
        check(0 < v["lag_mean_ms"] < 1000, "viewer %d: mean lag %.1f ms" % (
            v["id"], v["lag_mean_ms"]))
        check(v["keyframes"] >= 1 and v["audio_frames"] > 0, "viewer %d: %s" % (v["id"], v))
    # The SRT viewers get the same frames per second as the RTMP viewers.
    for v in pv[2:]:
        check(abs(v["window_video_frames"] - pv[0]["window_video_frames"]) <= 0.1 * FPS * DURATION,
              "SRT viewer %d: %d frames in the window, RTMP viewer %d" % (
                  v["id"], v["window_video_frames"], pv[0]["window_video_frames"]))


def test_srt_viewer_of_nothing_is_an_error(t):
    """An SRT viewer of a stream that is not live is counted as an error, not as a viewer."""
    check(os.access(LOAD, os.X_OK), "%s is not built (ninja -C build)" % LOAD)
    node = Node(t.procs, args=["--srt", "true"])
    report = t.path("report.json")
    with open(report, "wb") as out:
        lc = t.procs.start([LOAD, "--srt", "srt://%s:%d?streamid=#!::r=live/none,m=request" % (
            node.addr, SRT_PORT), "--srt-viewers", "2", "--settle", "1", "--duration", "1"],
            "sluice-load", stdout=out)
    check(lc.wait(timeout=30) == 0, "sluice-load failed")
    with open(report) as f:
        r = json.load(f)
    check(r["viewers"]["alive_at_end"] == 0 and sum(r["viewers"]["errors"].values()) == 2,
          "viewers %s" % r["viewers"])
