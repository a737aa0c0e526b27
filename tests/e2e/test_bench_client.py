# SPDX-License-Identifier: Apache-2.0
"""The benchmark load client (build/bench/sluice-load) counts what real clients count.

Its numbers feed docs/benchmarks.md, so they are checked here against ffmpeg and ffprobe at
small N. Nothing here asserts on speed: only that frames, lag and first-frame times are
measured correctly.
"""
import json
import os
import signal
import time

from harness import (SLUICE, Node, check, decode_errors, ffprobe, fixture, play_ffmpeg,
                     stop_gently)

LOAD = os.path.join(os.path.dirname(os.path.abspath(SLUICE)), "bench", "sluice-load")
WARMUP = 2
SETTLE = 1
DURATION = 5
FPS = 25  # the harness fixture's frame rate


def packet_counts(path):
    info = ffprobe(path)
    kinds = {s["index"]: s["codec_type"] for s in info["streams"]}
    counts = {"video": 0, "audio": 0}
    for p in info["packets"]:
        counts[kinds[p["stream_index"]]] += 1
    return counts, info


def video_rate(info):
    """Video packets per second of media, from an ffprobe result."""
    vidx = [s["index"] for s in info["streams"] if s["codec_type"] == "video"][0]
    dts = [float(p["dts_time"]) for p in info["packets"]
           if p["stream_index"] == vidx and p.get("dts_time") not in (None, "N/A")]
    check(len(dts) > 10, "too few video packets to measure a rate: %d" % len(dts))
    return (len(dts) - 1) / (dts[-1] - dts[0]), len(dts)


def test_load_client_matches_ffmpeg_and_ffprobe(t):
    check(os.access(LOAD, os.X_OK), "%s is not built (ninja -C build)" % LOAD)
    node = Node(t.procs)
    media = fixture()
    url = node.rtmp("live", "bench")
    dump = t.path("viewer0.flv")
    report = t.path("report.json")
    with open(report, "wb") as out:
        lc = t.procs.start([LOAD, "--publish", url, "--file", media,
                            "--rtmp", url, "--rtmp-viewers", "2",
                            "--flv", node.flv("live", "bench"), "--flv-viewers", "1",
                            "--warmup", str(WARMUP), "--settle", str(SETTLE),
                            "--duration", str(DURATION), "--per-viewer", "--dump", dump,
                            "--server-pid", str(node.proc.pid)], "sluice-load", stdout=out)
    # An ffmpeg viewer alongside the load client's three, for about the same time.
    node.wait_live("live", "bench")
    time.sleep(WARMUP - 1)
    ff = play_ffmpeg(t.procs, url, t.path("ffmpeg.flv"), 60, name="ffmpeg-viewer")
    rc = lc.wait(timeout=WARMUP + SETTLE + DURATION + 30)
    check(rc == 0, "sluice-load exited with %d" % rc)
    stop_gently(ff, signal.SIGINT)

    with open(report) as f:
        r = json.load(f)
    pv = r["per_viewer"]
    check(r["viewers"]["connected"] == 3 and r["viewers"]["alive_at_end"] == 3,
          "viewers: %s" % r["viewers"])
    check(r["viewers"]["errors"] == {}, "errors: %s" % r["viewers"]["errors"])
    check(r["publisher"]["connected"] and r["publisher"]["error"] is None,
          "publisher: %s" % r["publisher"])

    # Exact: what viewer 0 received (dumped as FLV) is what it counted, packet for packet.
    counts, dinfo = packet_counts(dump)
    check(counts["video"] == pv[0]["video_frames"] and counts["audio"] == pv[0]["audio_frames"],
          "viewer 0 counted %d video / %d audio frames, ffprobe finds %s in what it received" % (
              pv[0]["video_frames"], pv[0]["audio_frames"], counts))
    # The SEI stamps leave the stream decodable by a real player.
    errs = decode_errors(dump)
    check(errs == "", "the stamped stream does not decode cleanly:\n%s" % errs[:800])

    # Against ffmpeg playing the same stream over the same time: the same frame rate, and
    # frame totals within what the difference in start and stop times explains.
    ff_counts, finfo = packet_counts(t.path("ffmpeg.flv"))
    ff_rate, ff_frames = video_rate(finfo)
    check(abs(ff_rate - FPS) < 0.05 * FPS, "ffmpeg saw %.2f fps" % ff_rate)
    for v in pv:
        span = (v["last_video_ts"] - v["first_video_ts"]) / 1000.0
        check(span > DURATION, "viewer %d: only %.1fs of video" % (v["id"], span))
        rate = (v["video_frames"] - 1) / span
        check(abs(rate - ff_rate) < 0.05 * ff_rate,
              "viewer %d: %.2f fps, ffmpeg %.2f fps" % (v["id"], rate, ff_rate))
        check(abs(v["video_frames"] - ff_frames) <= 0.25 * ff_frames,
              "viewer %d: %d video frames, ffmpeg %d" % (v["id"], v["video_frames"], ff_frames))
        check(v["audio_frames"] > 0 and v["keyframes"] >= 1, "viewer %d: %s" % (v["id"], v))
        check(v["unstamped_frames"] == 0, "viewer %d: %d frames lost their stamp" % (
            v["id"], v["unstamped_frames"]))
        # Lag: measured on frames sent while it watched, never negative, small on one node.
        check(v["negative_lag"] == 0, "viewer %d saw stamps from the future" % v["id"])
        check(v["lag_samples"] >= DURATION * FPS * 0.8, "viewer %d: %d lag samples" % (
            v["id"], v["lag_samples"]))
        check(0 <= v["lag_mean_ms"] < 250, "viewer %d: mean lag %.1f ms" % (
            v["id"], v["lag_mean_ms"]))
        # Time to first frame is measured for every viewer (its value is a benchmark figure).
        check(v["ttff_ms"] is not None and v["ttff_ms"] > 0, "viewer %d: ttff %s" % (
            v["id"], v["ttff_ms"]))
        check(v["window_video_frames"] > 0, "viewer %d: nothing in the window" % v["id"])
    check(r["lag_ms"]["negative"] == 0 and 0 < r["lag_ms"]["p50"] <= r["lag_ms"]["p99"],
          "lag summary %s" % r["lag_ms"])
    # Audio lag, by timestamp: sluice passes timestamps through, so every audio frame in the
    # window matches one the publisher sent (3 viewers x ~43 frames/s).
    a = r["audio_lag_ms"]
    check(a["unmatched"] == 0 and a["samples"] >= 3 * 40 * (DURATION - 2) and
          0 < a["p50"] <= a["p99"] < 250, "audio lag summary %s" % a)
    check(r["ttff_ms"]["n"] == 3, "ttff summary %s" % r["ttff_ms"])
    # TCP segments, as the viewers' kernel counted them in the window: for every viewer, and
    # carrying the bytes the viewers read in that window (the edges of the window aside).
    # Every frame here is smaller than a loopback segment, and sluice writes each as it
    # comes (or with others of the same moment): at least a segment per picture, at most
    # one per message (25 pictures and about 43 AAC frames a second).
    sg = r["tcp_segments"]
    seg_mbit = sg["per_viewer_per_s"] * sg["bytes_per_segment"] * 8 / 1e6
    read_mbit = r["bytes"]["mbit_per_s_per_viewer_in_window"]
    check(sg["viewers"] == 3 and abs(seg_mbit - read_mbit) < 0.1 * read_mbit,
          "segments %s carry %.3f Mbit/s per viewer, the viewers read %.3f" % (
              sg, seg_mbit, read_mbit))
    check(0.9 * FPS <= sg["per_viewer_per_s"] <= 1.2 * (FPS + 44) and
          sg["bytes_per_segment"] < 65536, "segments %s" % sg)
    # The server figures come from /proc: present and plausible, not judged.
    check(r["server"]["pid"] == node.proc.pid and r["server"]["peak_rss_kb"] > 0,
          "server %s" % r["server"])


def test_load_client_reports_refusals(t):
    """A viewer of a stream that is not live is counted as an error, not as a viewer."""
    check(os.access(LOAD, os.X_OK), "%s is not built (ninja -C build)" % LOAD)
    node = Node(t.procs)
    report = t.path("report.json")
    with open(report, "wb") as out:
        lc = t.procs.start([LOAD, "--rtmp", node.rtmp("live", "nothing"), "--rtmp-viewers", "2",
                            "--flv", node.flv("live", "nothing"), "--flv-viewers", "1",
                            "--settle", "0.5", "--duration", "1"], "sluice-load", stdout=out)
    check(lc.wait(timeout=30) == 0, "sluice-load failed")
    with open(report) as f:
        r = json.load(f)
    check(r["viewers"]["connected"] == 0 and r["viewers"]["alive_at_end"] == 0,
          "viewers %s" % r["viewers"])
    errs = r["viewers"]["errors"]
    check(errs.get("refused: NetStream.Play.StreamNotFound") == 2 and
          errs.get("http: status 404") == 1, "errors %s" % errs)
