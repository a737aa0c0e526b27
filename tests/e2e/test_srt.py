# SPDX-License-Identifier: Apache-2.0
"""SRT in and out: ffmpeg publishes over SRT (caller to our listener); ffmpeg, srt-live-transmit
and GStreamer's srtsrc play over SRT; the same stream plays over RTMP and HLS and through an
edge; tokens in the stream id; bad stream ids and HEVC refused; and SRT through a link that
loses 5 % of its datagrams each way still plays without a decode error.

tc netem is not available on the machines this runs on (no sch_netem), so the lossy link is a
UDP relay in this file that drops datagrams at random: what SRT sees is the same (lost
datagrams both ways, retransmissions within the latency)."""
import random
import select
import socket
import subprocess
import threading
import time

from cluster_util import downstream, origin
from harness import (SLUICE, Node, check, check_media, ffprobe, fixture, log_text, stop_gently,
                     wait_for)

SRT_PORT = 9710


def srt_url(node, streamid, port=SRT_PORT, extra="", escape=False):
    # ffmpeg passes the stream id as written (no %-decoding); GStreamer's srtsrc decodes its
    # URI, so there '#', '!', ':', '=' and ',' are escaped.
    from urllib.parse import quote
    return "srt://%s:%d?streamid=%s%s" % (node if isinstance(node, str) else node.addr, port,
                                          quote(streamid, safe="/") if escape else streamid,
                                          extra)


def publish_srt(procs, url, media=None, name="srt-publisher", codec=("-c", "copy")):
    media = media or fixture()
    return procs.start(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-re",
                        "-stream_loop", "-1", "-i", media] + list(codec) +
                       ["-f", "mpegts", url + "&pkt_size=1316"], name)


def play_srt_ffmpeg(procs, url, out, seconds, name):
    # Matroska keeps each packet's own timestamp (see test_hls.py's play_hls).
    return procs.start(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning",
                        "-i", url, "-t", str(seconds), "-c", "copy", "-f", "matroska", "-y", out],
                       name)


def metric(node, name):
    _, _, body = node.http("/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def check_ts_capture(path, min_bytes, what, seconds=4):
    """A raw transport stream a client wrote: H.264 and AAC, and the first seconds decode
    clean (the capture's last frame may be cut where the client was stopped)."""
    import os
    check(os.path.exists(path) and os.path.getsize(path) >= min_bytes,
          "%s: got %d bytes" % (what, os.path.getsize(path) if os.path.exists(path) else 0))
    with open(path, "rb") as f:
        head = f.read(188 * 3)
    check(head[:1] == b"\x47" and head[188:189] == b"\x47", "%s: not MPEG-TS: %r" % (what, head[:8]))
    kinds = {s["codec_type"]: s["codec_name"] for s in ffprobe(path, packets=False)["streams"]}
    check(kinds.get("video") == "h264" and kinds.get("audio") == "aac",
          "%s: tracks %s" % (what, kinds))
    r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-t", str(seconds),
                        "-f", "null", "-"], capture_output=True, timeout=60)
    errs = r.stderr.decode("utf-8", "replace").strip()
    check(errs == "", "%s: decoding reported errors:\n%s" % (what, errs[:800]))


def test_srt_publish_and_play_everywhere(t):
    """ffmpeg publishes over SRT with the plain APP/STREAM id; at the same time ffmpeg plays it
    over SRT (#!:: id), srt-live-transmit (plain id) and GStreamer srtsrc play it over SRT, and
    ffmpeg plays it over RTMP and HLS: every one gets H.264 + AAC that decodes clean."""
    node = Node(t.procs, args=["--srt", "true", "--hls-format", "ts"])
    pub = publish_srt(t.procs, srt_url(node, "live/srt1"))
    node.wait_live("live", "srt1")
    s = wait_for(lambda: (lambda s: s if s["audio"]["codec"] else None)(node.stream("live", "srt1")),
                 10, "the SRT stream's audio")
    check(s["video"]["codec"] == "h264" and s["video"]["width"] == 320 and
          s["audio"]["codec"] == "aac" and s["audio"]["sample_rate"] == 44100,
          "what the API says of the SRT stream: %s" % s)
    check(s["publisher"]["client_id"] >= 1, "publisher: %s" % s)

    seconds = 6
    viewers = [
        ("srt-ffmpeg", play_srt_ffmpeg(t.procs, srt_url(node, "#!::r=live/srt1,m=request"),
                                       t.path("srt.mkv"), seconds, "ffmpeg-srt")),
        ("rtmp", t.procs.start(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning",
                                "-i", node.rtmp("live", "srt1"), "-t", str(seconds), "-c", "copy",
                                "-f", "flv", "-y", t.path("rtmp.flv")], "ffmpeg-rtmp")),
        ("hls", play_srt_ffmpeg(t.procs, node.url("/live/srt1/index.m3u8"), t.path("hls.mkv"),
                                seconds, "ffmpeg-hls")),
    ]
    slt_out = open(t.path("slt.ts"), "wb")
    slt = t.procs.start(["srt-live-transmit", "-q", srt_url(node, "live/srt1"), "file://con"],
                        "srt-live-transmit", stdout=slt_out)
    gst = t.procs.start(["gst-launch-1.0", "-q", "-e", "srtsrc",
                         "uri=" + srt_url(node, "#!::r=live/srt1,m=request", escape=True), "!", "filesink",
                         "location=" + t.path("gst.ts")], "gst-srtsrc")
    for what, p in viewers:
        check(p.wait(timeout=40) == 0, "%s viewer failed:\n%s" % (what, log_text(p)[-800:]))
    stop_gently(slt)
    slt_out.close()
    stop_gently(gst)
    check_media(t.path("srt.mkv"), seconds - 1.5, "ffmpeg over SRT")
    check_media(t.path("rtmp.flv"), seconds - 1.5, "RTMP viewer of an SRT publisher")
    check_media(t.path("hls.mkv"), seconds - 3, "HLS viewer of an SRT publisher")
    check_ts_capture(t.path("slt.ts"), 100000, "srt-live-transmit")
    check_ts_capture(t.path("gst.ts"), 100000, "GStreamer srtsrc")
    check(pub.poll() is None, "the SRT publisher stopped:\n" + log_text(pub)[-500:])
    check(metric(node, "sluice_srt_publishes_total") == 1, "srt publishes metric")
    check(metric(node, "sluice_srt_plays_total") >= 3, "srt plays metric")
    check(metric(node, "sluice_srt_ts_cc_errors_total") == 0, "TS packets lost on loopback")
    kinds = {(c.get("protocol"), c.get("role")) for c in node.api("/api/v1/clients")["clients"]}
    check(("srt", "publisher") in kinds, "the clients API lists the SRT publisher: %s" % kinds)
    stop_gently(pub)
    wait_for(lambda: node.stream("live", "srt1") is None, 10, "the stream to end with its publisher")
    node.stop()


def test_srt_through_edge(t):
    """An SRT-published stream on an origin is pulled by an edge, which serves it over SRT and
    RTMP."""
    o = origin(t.procs, "origin-srt", args=["--srt", "true"])
    e = downstream(t.procs, "edge-srt", "edge", [o], args=["--srt", "true"])
    publish_srt(t.procs, srt_url(o, "#!::r=live/edge1,m=publish"))
    o.wait_live("live", "edge1")
    srt_v = play_srt_ffmpeg(t.procs, srt_url(e, "#!::r=live/edge1,m=request"), t.path("e.mkv"),
                            5, "ffmpeg-srt-edge")
    rtmp_v = t.procs.start(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-i",
                            e.rtmp("live", "edge1"), "-t", "5", "-c", "copy", "-f", "flv", "-y",
                            t.path("e.flv")], "ffmpeg-rtmp-edge")
    check(srt_v.wait(timeout=40) == 0, "SRT viewer of the edge failed:\n" +
          log_text(srt_v)[-800:])
    check(rtmp_v.wait(timeout=40) == 0, "RTMP viewer of the edge failed:\n" +
          log_text(rtmp_v)[-800:])
    check_media(t.path("e.mkv"), 3.5, "ffmpeg over SRT from an edge")
    check_media(t.path("e.flv"), 3.5, "ffmpeg over RTMP from an edge, SRT-published")
    check(metric(e, "sluice_srt_plays_total") == 1, "the edge counted its SRT viewer")


def mint(secret, action, stream):
    r = subprocess.run([SLUICE, "token", "--secret", secret, "--action", action, "--app", "live",
                        "--stream", stream, "--ttl", "1h"], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 0, "sluice token failed: %s" % r.stderr)
    return r.stdout.strip()


def test_srt_refusals(t):
    """No token, a bad stream id and an HEVC publisher are refused (logged and counted); a good
    token in t= publishes; a passphrase-protected listener refuses callers without it."""
    node = Node(t.procs, args=["--srt", "true", "--publish-secret", "pub-s3cret"])
    p = publish_srt(t.procs, srt_url(node, "#!::r=live/tok,m=publish"), name="no-token")
    check(p.wait(timeout=20) != 0, "a publish without a token was not refused")
    wait_for(lambda: "needs a valid token" in node.log(), 5, "the refusal in the log")
    check(metric(node, "sluice_access_denied_total") >= 1, "access denied counted")
    check(metric(node, "sluice_srt_refused_total") >= 1, "SRT refusal counted")

    p = publish_srt(t.procs, srt_url(node, "no-slash-here"), name="bad-id")
    check(p.wait(timeout=20) != 0, "a bad stream id was not refused")
    wait_for(lambda: metric(node, "sluice_srt_bad_streamid_total") >= 1, 5,
             "the bad stream id to be counted")
    wait_for(lambda: 'srt_refused reason="bad streamid"' in node.log(), 5,
             "the bad stream id to be logged")

    good = mint("pub-s3cret", "publish", "tok")
    publish_srt(t.procs, srt_url(node, "#!::r=live/tok,m=publish,t=" + good), name="token")
    node.wait_live("live", "tok")
    check(good not in node.log(), "tokens must never appear in the log")

    hevc = t.path("hevc.ts")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc=size=160x120:rate=10", "-t", "3", "-c:v", "libx265", "-x265-params",
                    "log-level=none", "-f", "mpegts", hevc], check=True, timeout=60)
    good2 = mint("pub-s3cret", "publish", "hevc")
    p = publish_srt(t.procs, srt_url(node, "#!::r=live/hevc,m=publish,t=" + good2), media=hevc,
                    name="hevc")
    wait_for(lambda: metric(node, "sluice_srt_unsupported_total") == 1, 15,
             "the HEVC publisher to be refused")
    check("video codec not supported" in node.log(), "the HEVC refusal says why")
    stop_gently(p)

    enc = Node(t.procs, args=["--srt", "true", "--srt-passphrase", "0123456789abcdef"])
    p = publish_srt(t.procs, srt_url(enc, "live/enc"), name="no-passphrase")
    check(p.wait(timeout=20) != 0, "a caller without the passphrase was not refused")
    publish_srt(t.procs, srt_url(enc, "live/enc", extra="&passphrase=0123456789abcdef"),
                name="passphrase")
    enc.wait_live("live", "enc")


class LossyUdpRelay:
    """Relays UDP datagrams between callers and a target, dropping `loss` of them at random in
    each direction (a seeded generator, so a run is repeatable), after lossless_s seconds."""

    def __init__(self, listen_addr, target, loss, seed=70, lossless_s=0.0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((listen_addr, 0))
        self.port = self.sock.getsockname()[1]
        self.target = target
        self.loss = loss
        self.rng = random.Random(seed)
        self.up = {}       # caller address -> socket to the target
        self.down = {}     # that socket -> caller address
        self.sent = self.dropped = 0
        self.stopping = False
        self.lossy_from = time.monotonic() + lossless_s
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def forward(self, sock, data, addr):
        self.sent += 1
        if time.monotonic() > self.lossy_from and self.rng.random() < self.loss:
            self.dropped += 1
            return
        sock.sendto(data, addr)

    def run(self):
        deadline = time.monotonic() + 120   # bounded, whatever the test does
        while not self.stopping and time.monotonic() < deadline:
            socks = [self.sock] + list(self.down)
            ready, _, _ = select.select(socks, [], [], 0.2)
            for s in ready:
                data, addr = s.recvfrom(65536)
                if s is self.sock:
                    up = self.up.get(addr)
                    if up is None:
                        up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                        up.bind((self.sock.getsockname()[0], 0))
                        self.up[addr] = up
                        self.down[up] = addr
                    self.forward(up, data, self.target)
                else:
                    self.forward(self.sock, data, self.down[s])

    def stop(self):
        self.stopping = True
        self.thread.join(timeout=2)
        for s in [self.sock] + list(self.down):
            s.close()


def test_srt_under_5_percent_loss(t):
    """Publisher and viewer each reach the node through a relay that drops 5 % of datagrams both
    ways: the viewer's recording decodes without an error, and SRT retransmitted (the node saw
    no transport stream packet lost once the publisher's connection was up)."""
    node = Node(t.procs, args=["--srt", "true", "--srt-latency", "1000ms"])
    # With 300 ms of latency libsrt gave up on one or two packets a run (recv_dropped: too
    # late) through this relay; with 1 s none.  docs/srt.md recommends as much on lossy links.
    pub_link = LossyUdpRelay(node.addr, (node.addr, SRT_PORT), 0.05, seed=1)
    view_link = LossyUdpRelay(node.addr, (node.addr, SRT_PORT), 0.05, seed=2)
    try:
        pub = publish_srt(t.procs, srt_url(node.addr, "#!::r=live/lossy,m=publish",
                                           port=pub_link.port, extra="&latency=1000000"))
        node.wait_live("live", "lossy")
        time.sleep(1)
        v = play_srt_ffmpeg(t.procs, srt_url(node.addr, "#!::r=live/lossy,m=request",
                                             port=view_link.port, extra="&latency=1000000"),
                            t.path("lossy.mkv"), 8, "ffmpeg-srt-lossy")
        check(v.wait(timeout=40) == 0, "SRT viewer over the lossy link failed:\n" +
              log_text(v)[-800:])
    finally:
        pub_link.stop()
        view_link.stop()
    check(pub_link.dropped > 10 and view_link.dropped > 10,
          "the relays dropped too little to mean anything (%d of %d, %d of %d)" % (
              pub_link.dropped, pub_link.sent, view_link.dropped, view_link.sent))
    check_media(t.path("lossy.mkv"), 6, "ffmpeg over SRT with 5 % loss")
    lost = metric(node, "sluice_srt_ts_cc_errors_total")
    links = [c.get("srt") for c in node.api("/api/v1/clients")["clients"]]
    check(lost == 0, "%s transport stream packets were lost despite SRT's retransmission "
          "(relay dropped %d of %d; SRT: %s)" % (lost, pub_link.dropped, pub_link.sent, links))
