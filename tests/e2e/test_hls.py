# SPDX-License-Identifier: Apache-2.0
"""HLS and LL-HLS: ffmpeg plays the live playlist from an origin (fMP4, the default) and from
an edge (MPEG-TS); the LL-HLS playlist carries parts, preload hints and server control; a
blocking reload returns when the part it names exists; a publisher restart yields
EXT-X-DISCONTINUITY."""
import re
import signal
import time
import urllib.parse

from cluster_util import downstream, origin
from harness import Node, check, check_media, publish, stop_gently, wait_for


def playlist(node, path, timeout=15):
    status, headers, body = node.http(path, timeout=timeout)
    check(status == 200, "GET %s answered %d: %s" % (path, status, body[:300]))
    check(headers.get("Content-Type") == "application/vnd.apple.mpegurl",
          "playlist type %s" % headers.get("Content-Type"))
    return body.decode()


def segments(text):
    """[(duration, uri)] of the complete segments."""
    return [(float(d), u) for d, u in re.findall(r"#EXTINF:([0-9.]+),\n(\S+)", text)]


def check_segment_bytes(body, fmt, what):
    """A TS segment is whole 188-byte packets from a sync byte; an fMP4 one starts with moof."""
    if fmt == "ts":
        check(body[:1] == b"\x47" and len(body) % 188 == 0,
              "%s: not MPEG-TS (%d bytes, %r)" % (what, len(body), body[:8]))
    else:
        check(len(body) > 16 and body[4:8] == b"moof" and b"mdat" in body,
              "%s: not an fMP4 fragment (%d bytes, %r)" % (what, len(body), body[:8]))


def play_hls(procs, url, out, seconds, name):
    # Recorded as Matroska, which keeps each packet's own timestamp: an MPEG-TS recording
    # packs several AAC frames per PES, and reading it back interpolates their times, which
    # can step back a fraction of a millisecond against RTMP's whole-millisecond timestamps.
    return procs.start(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning",
                        "-i", url, "-t", str(seconds), "-c", "copy", "-f", "matroska", "-y", out],
                       name)


def test_hls_from_origin_and_edge(t):
    """ffmpeg reads 20 s of the live HLS stream from an origin and, through a pull, from an
    edge: both tracks, clean decode, segment durations at the 2 s target; HLS viewers are
    counted in the API and metrics."""
    o = origin(t.procs, "origin-hls", args=["--metrics-stream-labels"])
    e = downstream(t.procs, "edge-hls", "edge", [o], args=["--hls-format", "ts"])
    publish(t.procs, o.rtmp("live", "hls"))
    o.wait_live("live", "hls")

    text = playlist(o, "/live/hls/index.m3u8")
    check("#EXT-X-INDEPENDENT-SEGMENTS" in text and "#EXT-X-MEDIA-SEQUENCE:" in text,
          "playlist header:\n" + text)
    seconds = 20
    viewers = [("origin", play_hls(t.procs, o.url("/live/hls/index.m3u8"), t.path("o.mkv"),
                                   seconds, "ffmpeg-hls-origin")),
               ("edge", play_hls(t.procs, e.url("/live/hls/index.m3u8"), t.path("e.mkv"),
                                 seconds, "ffmpeg-hls-edge"))]
    wait_for(lambda: o.stream("live", "hls")["viewers"]["hls"] >= 1, 10, "an HLS viewer counted")
    _, _, metrics = o.http("/metrics")
    check(b'sluice_stream_viewers{app="live",stream="hls",protocol="hls"}' in metrics,
          "metrics lack HLS viewers")
    for label, p in viewers:
        rc = p.wait(timeout=seconds + 40)
        check(rc == 0, "ffmpeg on the %s exited with %d" % (label, rc))
    for label, path in (("HLS from the origin", "o.mkv"), ("HLS from the edge", "e.mkv")):
        info = check_media(t.path(path), seconds - 3, label)
        # Continuous: no hole in either track across segment and part boundaries.
        for st in info["streams"]:
            dts = [float(p["dts_time"]) for p in info["packets"]
                   if p["stream_index"] == st["index"] and p.get("dts_time") not in (None, "N/A")]
            gap = max(b - a for a, b in zip(dts, dts[1:]))
            check(gap < 0.25, "%s: %s has a %.3f s hole" % (label, st["codec_type"], gap))

    for node, fmt in ((o, "fmp4"), (e, "ts")):
        text = playlist(node, "/live/hls/index.m3u8")
        segs = segments(text)
        check(len(segs) >= 3, "%s lists %d segments:\n%s" % (node.name, len(segs), text))
        # The fixture's GOP is 2 s, the target 2 s: every segment is one GOP.
        check(all(1.8 <= d <= 2.2 for d, _ in segs), "durations %s" % segs)
        target = int(re.search(r"#EXT-X-TARGETDURATION:(\d+)", text).group(1))
        check(target == 2, "target duration %d" % target)
        status, headers, body = node.http("/live/hls/" + segs[-1][1])
        check(status == 200, "segment answer %d" % status)
        check_segment_bytes(body, fmt, "%s segment %s" % (node.name, segs[-1][1]))
        check("immutable" in headers.get("Cache-Control", ""), "segment caching %s" % headers)
        check(segs[-1][1].endswith(".m4s" if fmt == "fmp4" else ".ts"), segs[-1][1])
        maps = re.findall(r'#EXT-X-MAP:URI="(init-\d+\.mp4)"', text)
        if fmt == "fmp4":
            check(maps, "no EXT-X-MAP in an fMP4 playlist:\n" + text)
            status, headers, init = node.http("/live/hls/" + maps[0])
            check(status == 200 and init[4:8] == b"ftyp" and b"moov" in init and
                  b"avcC" in init and b"esds" in init,
                  "init segment %d, %r" % (status, init[:16]))
            check(headers.get("Content-Type") == "video/mp4", "init type %s" % headers)
            # A request in the other container is not this node's format.
            status, _, _ = node.http("/live/hls/" + segs[-1][1].replace(".m4s", ".ts"))
            check(status == 404, "a .ts request on an fMP4 node answered %d" % status)
        else:
            check(not maps, "EXT-X-MAP in a TS playlist:\n" + text)


def test_ll_hls_parts_and_blocking_reload(t):
    """The LL-HLS playlist has parts, a preload hint and server control; a blocking reload
    for the next part returns as soon as that part exists (well before the timeout), one
    too far ahead is refused with 400, and the hinted part is answered when complete."""
    node = Node(t.procs)
    publish(t.procs, node.rtmp("live", "ll"))
    node.wait_live("live", "ll")
    text = playlist(node, "/live/ll/index.m3u8")
    check("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.500" in text, text)
    check("#EXT-X-PART-INF:PART-TARGET=0.500" in text, text)
    parts = re.findall(r'#EXT-X-PART:DURATION=([0-9.]+),URI="part-(\d+)\.(\d+)\.m4s"', text)
    check(len(parts) >= 4, "few parts:\n" + text)
    check(all(float(d) <= 0.55 for d, _, _ in parts), "part durations %s" % parts)
    check(',INDEPENDENT=YES' in text, "no independent part:\n" + text)
    hint = re.search(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="part-(\d+)\.(\d+)\.m4s"', text)
    check(hint is not None, "no preload hint:\n" + text)
    msn, part = int(hint.group(1)), int(hint.group(2))

    start = time.monotonic()
    text2 = playlist(node, "/live/ll/index.m3u8?_HLS_msn=%d&_HLS_part=%d" % (msn, part))
    waited = time.monotonic() - start
    check(waited < 1.5, "blocking reload took %.2fs for a 0.5 s part" % waited)
    check(('part-%d.%d.m4s' % (msn, part)) in text2 or ("seg-%d.m4s" % msn) in text2,
          "the reload does not list the part it waited for:\n" + text2)

    status, _, _ = node.http("/live/ll/index.m3u8?_HLS_msn=%d" % (msn + 10))
    check(status == 400, "a reload 10 segments ahead answered %d" % status)
    status, _, _ = node.http("/live/ll/index.m3u8?_HLS_part=1")
    check(status == 400, "_HLS_part without _HLS_msn answered %d" % status)

    hint = re.search(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="(part-\d+\.\d+\.m4s)"', text2).group(1)
    start = time.monotonic()
    status, _, body = node.http("/live/ll/" + hint)
    check(status == 200, "hinted part: %d" % status)
    check_segment_bytes(body, "fmp4", "hinted part")
    check(time.monotonic() - start < 1.5, "the hinted part took %.2fs" %
          (time.monotonic() - start))


def test_publisher_restart_marks_discontinuity(t):
    """A publisher that stops and comes back continues the same playlist after an
    EXT-X-DISCONTINUITY; media sequence numbers keep growing."""
    node = Node(t.procs)
    pub = publish(t.procs, node.rtmp("live", "again"), name="publisher-1")
    node.wait_live("live", "again")
    first = playlist(node, "/live/again/index.m3u8")
    wait_for(lambda: len(segments(playlist(node, "/live/again/index.m3u8"))) >= 2, 15,
             "two segments")
    check("#EXT-X-DISCONTINUITY\n" not in first, "a discontinuity before any restart")
    stop_gently(pub, sig=signal.SIGTERM)
    time.sleep(1)
    publish(t.procs, node.rtmp("live", "again"), name="publisher-2")

    def restarted():
        text = playlist(node, "/live/again/index.m3u8")
        i = text.find("#EXT-X-DISCONTINUITY\n")
        return text if i >= 0 and "#EXTINF" in text[i:] else None
    text = wait_for(restarted, 20, "a segment after EXT-X-DISCONTINUITY")
    msns = [int(u[4:u.rindex(".")]) for _, u in segments(text)]
    check(msns == sorted(msns) and len(set(msns)) == len(msns), "media sequence %s" % msns)
    check(re.search(r"#EXT-X-DISCONTINUITY-SEQUENCE:0\n", text), "discontinuity sequence")


def test_hls_bad_requests(t):
    """Malformed HLS requests get 400, unknown streams 404, and nothing is packaged."""
    node = Node(t.procs)
    for path, want in (("/live/nope/index.m3u8", 404), ("/live/x/seg-abc.ts", 400),
                       ("/live/x/part-1.ts", 400), ("/live/x/index.m3u8?_HLS_msn=-1", 400),
                       ("/live/x/init-x.mp4", 400), ("/live/x/part-1.m4s", 400),
                       ("/live/x/seg-1.m4s", 404),
                       ("/live/x/seg-99999999999999999999.ts", 400),
                       ("/li%20ve/x/index.m3u8", 400)):
        status, _, _ = node.http(urllib.parse.quote(path, safe="/?=&-%"))
        check(status == want, "%s answered %d, wanted %d" % (path, status, want))


def test_refused_media_counted_and_logged(t):
    """A publisher's frame with broken NAL lengths and a sequence header cut short: the node
    packages the rest, counts both in /metrics and logs each once, with the stream's name."""
    import struct
    import threading
    from harness import fixture, flv_tags, tag_kind
    from rtmp_raw import RawRtmp

    node = Node(t.procs, args=("--hls-format", "ts"))
    tags = [tg for tg in flv_tags(fixture()) if tag_kind(tg) != "metadata"][:200]
    pub = RawRtmp(node.addr, node.rtmp_port)
    pub.handshake()
    pub.set_chunk_size(65536)
    pub.connect("live")
    sid = pub.create_stream()
    pub.publish(sid, "broken")

    def send(tag, ts=None):
        ttype, tts, body = tag
        pub.send_msg(ttype, body, msid=sid, ts=tts if ts is None else ts)

    def paced(batch):
        for tg in batch:
            send(tg)
            time.sleep(0.004)

    paced(tags[:60])
    # A playlist request starts the packaging (it waits for the first segment).
    waiter = threading.Thread(target=lambda: node.http("/live/broken/index.m3u8", timeout=15))
    waiter.start()
    wait_for(lambda: node.stream("live", "broken")["viewers"]["hls"] >= 1, 5,
             "the playlist request to start the packaging")
    last_ts = tags[59][1]
    # NAL length 0x1000 where 2 bytes follow; an AVC configuration record cut short.
    send((9, last_ts + 1, bytes([0x27, 0x01, 0, 0, 0, 0, 0, 0x10, 0x00, 0x41, 0x9a])))
    send((9, last_ts + 2, bytes([0x17, 0x00, 0, 0, 0, 0x01, 0x64])))
    paced(tags[60:])
    waiter.join(20)

    def counters():
        text = node.http("/metrics")[2].decode()
        vals = {}
        for line in text.splitlines():
            for name in ("sluice_hls_frames_dropped_total", "sluice_hls_configs_refused_total"):
                if line.startswith(name + " "):
                    vals[name] = float(line.split()[1])
        return vals

    wait_for(lambda: counters().get("sluice_hls_frames_dropped_total", 0) >= 1 and
             counters().get("sluice_hls_configs_refused_total", 0) >= 1, 10,
             "the refused frame and header to be counted: %s" % counters())
    log = node.log()
    check(log.count("hls_frame_dropped") == 1 and "stream=broken" in log,
          "the dropped frame is logged once with the stream")
    check(log.count("hls_config_refused") == 1, "the refused header is logged once")
    # The rest was packaged: the playlist lists segments.
    check(len(segments(playlist(node, "/live/broken/index.m3u8"))) >= 1,
          "no segments after the refused media")
    pub.close()
