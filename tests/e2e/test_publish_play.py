# SPDX-License-Identifier: Apache-2.0
"""Publishing with ffmpeg and playing with every common client at the same time."""
import time

from harness import (Node, check, check_media, flv_tags, play_ffmpeg, play_gstreamer,
                     play_rtmpdump, publish, stop_gently, tag_kind, wait_for)


def test_ffmpeg_publish_and_four_clients_play(t):
    """ffmpeg publishes H.264+AAC; ffmpeg over RTMP and HTTP-FLV, rtmpdump and GStreamer
    play it at once; every recording decodes cleanly with both tracks, in order."""
    node = Node(t.procs)
    publish(t.procs, node.rtmp("live", "show"))
    node.wait_live("live", "show")

    seconds = 6
    viewers = [
        ("ffmpeg-rtmp", play_ffmpeg(t.procs, node.rtmp("live", "show"), t.path("rtmp.flv"),
                                    seconds, name="ffmpeg-rtmp")),
        ("ffmpeg-http-flv", play_ffmpeg(t.procs, node.flv("live", "show"),
                                        t.path("http.flv"), seconds, name="ffmpeg-flv")),
    ]
    dump = play_rtmpdump(t.procs, node.rtmp("live", "show"), t.path("rtmpdump.flv"))
    gst = play_gstreamer(t.procs, node.rtmp("live", "show"), t.path("gst.flv"))

    # Everyone is counted as a viewer of the stream while they play.
    wait_for(lambda: node.stream("live", "show")["viewers"]["total"] == 4, 15,
             "4 viewers to be counted")
    s = node.stream("live", "show")
    check(s["viewers"]["rtmp"] == 3 and s["viewers"]["flv"] == 1, "viewer split: %s" % s["viewers"])

    for label, p in viewers:
        rc = p.wait(timeout=seconds + 20)
        check(rc == 0, "%s exited with %d" % (label, rc))
    time.sleep(1)
    check(stop_gently(dump) in (0, 1, 2), "rtmpdump failed")
    check(stop_gently(gst) == 0, "gst-launch failed")

    for label, path in (("ffmpeg over RTMP", "rtmp.flv"), ("ffmpeg over HTTP-FLV", "http.flv"),
                        ("rtmpdump", "rtmpdump.flv"), ("GStreamer rtmp2src", "gst.flv")):
        check_media(t.path(path), seconds - 2, label)


def test_stream_facts_in_api_and_metrics(t):
    """The streams API reports codecs, picture size, audio format, bitrate and publisher."""
    node = Node(t.procs, args=["--metrics-stream-labels"])
    publish(t.procs, node.rtmp("live", "facts"))
    node.wait_live("live", "facts")
    # The estimate is smoothed over seconds: the first ones cover part of a second.
    wait_for(lambda: 100_000 < node.stream("live", "facts")["bitrate_bps"] < 2_000_000, 10,
             "a bitrate estimate near the fixture's ~330 kbit/s")
    s = node.stream("live", "facts")
    check(s["video"]["codec"] == "h264", "video codec %s" % s["video"])
    check((s["video"]["width"], s["video"]["height"]) == (320, 240), "size %s" % s["video"])
    check(s["audio"]["codec"] == "aac" and s["audio"]["sample_rate"] == 44100 and
          s["audio"]["channels"] == 2, "audio %s" % s["audio"])
    check(100_000 < s["bitrate_bps"] < 2_000_000, "bitrate %d" % s["bitrate_bps"])
    check(s["publisher"]["address"].startswith("127."), "publisher %s" % s["publisher"])

    n = node.api("/api/v1/node")
    for key in ("name", "role", "connections", "bytes_in", "bytes_out", "uptime_s",
                "cpu_percent", "memory_rss_bytes"):
        check(key in n, "node API lacks %s: %s" % (key, n))
    check(n["publishers"] == 1 and n["streams"] == 1, "node counts %s" % n)
    check(n["bytes_in"] > 0 and n["memory_rss_bytes"] > 0, "node figures %s" % n)

    status, headers, body = node.http("/metrics")
    text = body.decode()
    check(status == 200 and headers["Content-Type"].startswith("text/plain"), "metrics answer")
    check("sluice_streams 1" in text, "metrics lack the stream count")
    check('sluice_stream_bitrate_bps{app="live",stream="facts"}' in text, "metrics per stream")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name_value = line.rsplit(" ", 1)
            check(len(name_value) == 2 and float(name_value[1]) >= 0, "bad metric line %r" % line)

    status, headers, _ = node.http("/live/facts.flv", method="HEAD")
    check(status == 200 and headers.get("Access-Control-Allow-Origin") == "*",
          "HTTP-FLV must allow other origins: %s %s" % (status, headers))


def test_new_viewer_gets_headers_then_keyframe_from_gop_cache(t):
    """With a 10 s GOP, a viewer joining mid-GOP gets metadata, sequence headers and the
    cached keyframe first - it does not wait for the publisher's next keyframe."""
    from harness import fixture
    media = fixture(duration=30, gop=10.0, fps=25)
    node = Node(t.procs)
    publish(t.procs, node.rtmp("live", "longgop"), media=media, loop=False)
    node.wait_live("live", "longgop")
    time.sleep(3)  # well inside the first 10 s GOP
    dump = play_rtmpdump(t.procs, node.rtmp("live", "longgop"), t.path("join.flv"))
    wait_for(lambda: any(tag_kind(x) == "keyframe" for x in flv_tags(t.path("join.flv"), 400)),
             15, "the first keyframe to reach the joining viewer")
    stop_gently(dump)
    tags = flv_tags(t.path("join.flv"))
    kinds = [tag_kind(x) for x in tags]
    first_frame = next(i for i, k in enumerate(kinds) if k in ("keyframe", "video"))
    check(kinds[first_frame] == "keyframe", "first video frame is not a keyframe: %s" % kinds[:8])
    before = kinds[:first_frame]
    for needed in ("metadata", "video-header", "audio-header"):
        check(needed in before, "%s did not come before the first frame: %s" % (needed, kinds[:8]))
    # The viewer joined 3 s in: a keyframe stamped near 0 ms is the cached one that opened
    # the GOP; without the cache the first would be the next one, at 10 s.
    check(tags[first_frame][1] < 1000, "first keyframe at %d ms: not from the GOP cache" %
          tags[first_frame][1])
    # Sequence headers carry the keyframe's time, so players see no jump.
    check(all(ts == tags[first_frame][1] for (_, ts, _), k in zip(tags, kinds)
              if k in ("video-header", "audio-header")), "header timestamps differ from the GOP")


def metric_value(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def test_viewer_writes_batched_or_not(t):
    """Viewers' writes go out through io_uring, many per system call, and what they receive
    decodes cleanly; with `--io-uring false` (or where the kernel refuses io_uring) they go
    one write call each and decode just the same. /metrics says which."""
    for args in ((), ("--io-uring", "false")):
        node = Node(t.procs, args=args)
        name = "batch" if not args else "nobatch"
        publish(t.procs, node.rtmp("live", name), name="publisher-" + name)
        node.wait_live("live", name)
        seconds = 5
        players = [play_ffmpeg(t.procs, node.rtmp("live", name), t.path("%s-%d.flv" % (name, i)),
                               seconds, name="viewer-%s-%d" % (name, i)) for i in range(3)]
        for p in players:
            check(p.wait(timeout=seconds + 20) == 0, "a viewer of %s failed" % name)
        for i in range(3):
            check_media(t.path("%s-%d.flv" % (name, i)), seconds - 2, "%s viewer %d" % (name, i))
        text = node.http("/metrics")[2].decode()
        uring = metric_value(text, "sluice_io_uring")
        writes = metric_value(text, "sluice_viewer_batched_writes_total")
        calls = metric_value(text, "sluice_viewer_batch_calls_total")
        check(None not in (uring, writes, calls), "metrics lack the batching figures")
        if args:
            check(uring == 0 and writes == 0, "io_uring used although turned off: %s %s"
                  % (uring, writes))
        elif uring == 1:
            # 3 viewers x (25 video + 43 audio messages/s) x 5 s, give or take the turns
            # that carried two messages.
            check(writes > 3 * 25 * (seconds - 2), "batched writes %d" % writes)
            check(calls < writes, "%d calls for %d writes: not batched" % (calls, writes))
        else:
            check("io_uring unavailable" in node.log(), "io_uring off without a word in the log")
