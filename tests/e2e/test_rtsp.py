# SPDX-License-Identifier: Apache-2.0
"""RTSP in and out: ffmpeg and GStreamer rtspsrc play over RTSP (TCP interleaved and UDP) a
stream published over RTMP; ffmpeg publishes over RTSP (TCP and UDP) and ffmpeg over RTMP
decodes it; an edge serves RTSP for a stream it pulls; bad requests get the RTSP errors a
client can act on (400, 401, 404, 454, 461, 505).

ffmpeg's RTSP demuxer leaves the first video packet without a timestamp (its own RTSP server
and client do the same), so ffmpeg viewers here decode to frame checksums (framecrc) rather
than copy into a file: every frame decoded, in order, no decoder complaint."""
import socket
import subprocess
import time

from cluster_util import downstream, origin
from harness import (SANITIZED, SLUICE, Node, check, check_media, ffprobe, fixture, log_text,
                     publish, stop_gently, wait_for)

RTSP_PORT = 8554


def rtsp_url(node, stream, app="live", query=""):
    return "rtsp://%s:%d/%s/%s%s" % (node.addr, RTSP_PORT, app, stream, query)


def metric(node, name):
    _, _, body = node.http("/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def play_ffmpeg_rtsp(procs, url, transport, out, seconds, name):
    """ffmpeg plays url over RTSP and writes a checksum line per decoded frame."""
    return procs.start(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-rtsp_transport",
                        transport, "-i", url, "-t", str(seconds), "-f", "framecrc", "-y", out],
                       name)


def check_framecrc(p, path, seconds, what):
    """What a viewer decoded: video and audio frames for about `seconds`, their times rising,
    and nothing the decoders complained about."""
    check(p.wait(timeout=40) == 0, "%s failed:\n%s" % (what, log_text(p)[-800:]))
    errs = log_text(p).strip()
    check(errs == "", "%s: ffmpeg reported:\n%s" % (what, errs[:800]))
    frames = {0: [], 1: []}
    for line in open(path):
        if line.startswith("#"):
            continue
        f = [x.strip() for x in line.split(",")]
        frames[int(f[0])].append(int(f[2]))
    # 25 frames a second of video, 44100/1024 of AAC: most of them must be there.
    check(len(frames[0]) >= 20 * (seconds - 1), "%s: %d video frames in %ds" % (
        what, len(frames[0]), seconds))
    check(len(frames[1]) >= 35 * (seconds - 1), "%s: %d audio frames in %ds" % (
        what, len(frames[1]), seconds))
    for k, ts in frames.items():
        back = [(a, b) for a, b in zip(ts, ts[1:]) if b <= a]
        check(not back, "%s: stream %d times do not rise: %s" % (what, k, back[:3]))


def play_gst_rtsp(procs, url, proto, out, name):
    """GStreamer rtspsrc: both tracks depacketized and muxed into a transport stream."""
    return procs.start(["gst-launch-1.0", "-q", "-e", "rtspsrc", "name=s", "location=" + url,
                        "protocols=" + proto, "s.", "!", "rtph264depay", "!", "h264parse", "!",
                        "queue", "!", "mux.", "s.", "!", "rtpmp4gdepay", "!", "aacparse", "!",
                        "queue", "!", "mux.", "mpegtsmux", "name=mux", "!", "filesink",
                        "location=" + out], name)


def check_gst_capture(path, what, seconds=3):
    import os
    check(os.path.exists(path) and os.path.getsize(path) > 50000,
          "%s: got %d bytes" % (what, os.path.getsize(path) if os.path.exists(path) else 0))
    kinds = {s["codec_type"]: s["codec_name"] for s in ffprobe(path, packets=False)["streams"]}
    check(kinds.get("video") == "h264" and kinds.get("audio") == "aac",
          "%s: tracks %s" % (what, kinds))
    # The first seconds decode clean (the capture's end is cut where the client was stopped).
    r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-t", str(seconds),
                        "-map", "0:v", "-f", "null", "-"], capture_output=True, timeout=60)
    # RTP carries no decode times, so GStreamer's muxer writes B-frames without them and the
    # null muxer says their guessed times repeat; that is about the capture, not the pictures.
    errs = "\n".join(l for l in r.stderr.decode("utf-8", "replace").splitlines()
                     if "non monotonically increasing dts" not in l and
                     not l.strip().startswith("Last message repeated")).strip()
    check(errs == "", "%s: decoding reported errors:\n%s" % (what, errs[:800]))


def test_rtsp_play_rtmp_published(t):
    """A stream published over RTMP plays over RTSP to ffmpeg (TCP and UDP) and GStreamer
    rtspsrc (TCP and UDP) at once; every one decodes H.264 and AAC."""
    node = Node(t.procs)
    publish(t.procs, node.rtmp("live", "cam"))
    node.wait_live("live", "cam")
    seconds = 5
    ff = [(tr, play_ffmpeg_rtsp(t.procs, rtsp_url(node, "cam"), tr, t.path("ff-%s.crc" % tr),
                                seconds, "ffmpeg-rtsp-" + tr)) for tr in ("tcp", "udp")]
    gst = [(tr, play_gst_rtsp(t.procs, rtsp_url(node, "cam"), tr, t.path("gst-%s.ts" % tr),
                              "gst-rtsp-" + tr)) for tr in ("tcp", "udp")]
    wait_for(lambda: metric(node, "sluice_rtsp_plays_total") >= 4, 15, "four RTSP viewers")
    kinds = {(c.get("protocol"), c.get("transport"))
             for c in node.api("/api/v1/clients")["clients"]}
    check(("rtsp", "tcp") in kinds and ("rtsp", "udp") in kinds,
          "the clients API lists RTSP viewers with their transport: %s" % kinds)
    v = node.stream("live", "cam")["viewers"]
    check(v["rtsp"] == 4 and v["flv"] == 0, "the streams API counts RTSP viewers as such: %s" % v)
    for tr, p in ff:
        check_framecrc(p, t.path("ff-%s.crc" % tr), seconds, "ffmpeg over RTSP/" + tr)
    time.sleep(1)
    for tr, p in gst:
        stop_gently(p)
        check_gst_capture(t.path("gst-%s.ts" % tr), "GStreamer rtspsrc over " + tr)
    check(metric(node, "sluice_rtsp_udp_send_drops_total") == 0, "UDP datagrams dropped")
    node.stop()


def publish_rtsp(procs, url, transport, name, media):
    return procs.start(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-re",
                        "-stream_loop", "-1", "-i", media, "-c", "copy", "-rtsp_transport",
                        transport, "-f", "rtsp", url], name)


def test_rtsp_publish(t):
    """ffmpeg publishes over RTSP (x264 with B-frames, whose decode times RTP does not carry),
    one stream over TCP and one over UDP; ffmpeg over RTMP records each and it decodes clean
    with timestamps in order; the publisher's end frees the name at once."""
    media = fixture()
    node = Node(t.procs)
    pubs = {tr: publish_rtsp(t.procs, rtsp_url(node, "in-" + tr), tr, "rtsp-pub-" + tr, media)
            for tr in ("tcp", "udp")}
    for tr in pubs:
        node.wait_live("live", "in-" + tr)
    s = wait_for(lambda: (lambda s: s if s["audio"]["codec"] else None)(
        node.stream("live", "in-udp")), 10, "the RTSP stream's audio")
    check(s["video"]["codec"] == "h264" and s["video"]["width"] == 320 and
          s["audio"]["codec"] == "aac" and s["audio"]["sample_rate"] == 44100,
          "what the API says of the RTSP-published stream: %s" % s)
    seconds = 5
    viewers = {tr: t.procs.start(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning",
                                  "-i", node.rtmp("live", "in-" + tr), "-t", str(seconds),
                                  "-c", "copy", "-f", "flv", "-y", t.path("in-%s.flv" % tr)],
                                 "rtmp-viewer-" + tr) for tr in pubs}
    for tr, p in viewers.items():
        check(p.wait(timeout=40) == 0, "RTMP viewer of the RTSP/%s publisher failed:\n%s" % (
            tr, log_text(p)[-800:]))
        check_media(t.path("in-%s.flv" % tr), seconds - 1.5, "RTMP viewer of RTSP/" + tr)
    check(metric(node, "sluice_rtsp_publishes_total") == 2, "RTSP publishes counted")
    check(metric(node, "sluice_rtsp_frames_dropped_total") == 0, "frames lost on loopback")
    stop_gently(pubs["tcp"])
    wait_for(lambda: node.stream("live", "in-tcp") is None, 10,
             "the stream to end with its RTSP publisher")
    node.stop()


def test_rtsp_through_edge(t):
    """An edge serves RTSP for a stream it pulls from its origin."""
    o = origin(t.procs, "origin-rtsp")
    e = downstream(t.procs, "edge-rtsp", "edge", [o])
    publish(t.procs, o.rtmp("live", "far"))
    o.wait_live("live", "far")
    p = play_ffmpeg_rtsp(t.procs, rtsp_url(e, "far"), "tcp", t.path("edge.crc"), 4,
                         "ffmpeg-rtsp-edge")
    check_framecrc(p, t.path("edge.crc"), 4, "ffmpeg over RTSP from an edge")
    check(metric(e, "sluice_rtsp_plays_total") == 1, "the edge counted its RTSP viewer")


def rtsp_request(addr, text, read_body=False):
    """Sends one raw request; returns (status, headers, the whole answer)."""
    with socket.create_connection((addr, RTSP_PORT), timeout=5) as s:
        s.sendall(text.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n")[0].decode("latin-1")
    lines = head.split("\r\n")
    check(lines[0].startswith("RTSP/1.0 "), "not an RTSP answer: %r" % data[:200])
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(lines[0].split()[1]), headers, data


def test_rtsp_refusals(t):
    """Bad requests get the RTSP status a client can act on, with a reason; a token is needed
    where the node asks for one."""
    node = Node(t.procs, args=["--play-secret", "pl4y", "--rtsp-max-request", "1k"])
    a = node.addr
    st, h, _ = rtsp_request(a, "OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n")
    check(st == 200 and "DESCRIBE" in h.get("public", "") and h.get("cseq") == "1",
          "OPTIONS: %d %s" % (st, h))
    st, _, _ = rtsp_request(a, "DESCRIBE rtsp://x/live/nope RTSP/1.0 trailing\r\nCSeq: 2\r\n\r\n")
    check(st == 400, "a malformed request line: %d" % st)
    st, _, _ = rtsp_request(a, "DESCRIBE rtsp://x/live/nope RTSP/2.0\r\nCSeq: 2\r\n\r\n")
    check(st == 505, "RTSP/2.0: %d" % st)
    st, h, _ = rtsp_request(a, "DESCRIBE rtsp://x/live/nope RTSP/1.0\r\nCSeq: 3\r\n\r\n")
    check(st == 401 and "token" in h.get("reason", ""), "no token: %d %s" % (st, h))
    tok = subprocess.run([SLUICE, "token", "--secret", "pl4y", "--action", "play", "--app",
                          "live", "--stream", "nope", "--ttl", "1h"], capture_output=True,
                         text=True, timeout=10).stdout.strip()
    st, h, _ = rtsp_request(a, "DESCRIBE rtsp://x/live/nope?token=%s RTSP/1.0\r\nCSeq: 4\r\n\r\n"
                            % tok)
    check(st == 404, "not live: %d %s" % (st, h))
    st, _, _ = rtsp_request(a, "PLAY rtsp://x/live/nope RTSP/1.0\r\nCSeq: 5\r\nSession: 1234\r\n\r\n")
    check(st == 454, "PLAY with no session: %d" % st)
    st, _, _ = rtsp_request(a, "SETUP rtsp://x/live/nope/trackID=0?token=%s RTSP/1.0\r\nCSeq: 6\r\n"
                            "Transport: RTP/AVP;multicast;port=5000-5001\r\n\r\n" % tok)
    check(st == 461, "multicast transport: %d" % st)
    st, _, _ = rtsp_request(a, "SETUP rtsp://x/live/nope/trackID=0?token=%s RTSP/1.0\r\nCSeq: 7\r\n"
                            "Transport: RAW/RAW/UDP;unicast;client_port=5000-5001\r\n\r\n" % tok)
    check(st == 461, "unknown transport: %d" % st)
    st, _, _ = rtsp_request(a, "SETUP rtsp://x/live/nope/trackID=0?token=%s RTSP/1.0\r\nCSeq: 8\r\n"
                            "X: " % tok + "y" * 2000 + "\r\n\r\n")
    check(st == 400, "an over-long request: %d" % st)
    check(tok not in node.log(), "tokens must never appear in the log")
    check(metric(node, "sluice_rtsp_bad_requests_total") >= 2, "bad requests counted")
    check(metric(node, "sluice_rtsp_refused_total") >= 5, "refusals counted")
    node.stop()


def test_rtsp_routed_by_manager(t):
    """The manager's routing answer names an rtsp URL on the chosen node: ffmpeg publishes to
    the origin it names and plays from the edge it names, both over RTSP."""
    from manager_util import Manager
    m = Manager(t)
    try:
        m.setup_group()
        st, out = m.route("live", "routed", "broadcast")
        check(st == 200 and out["role"] == "origin" and
              out["urls"].get("rtsp", "").startswith("rtsp://%s:%d/" % (out["host"], RTSP_PORT)),
              "broadcast route with an rtsp URL: %d %s" % (st, out))
        # As a camera sends it: no B-frames.
        publish_rtsp(t.procs, out["urls"]["rtsp"], "tcp", "rtsp-pub",
                     fixture(duration=10, bframes=0))

        def subscribe():
            s, r = m.route("live", "routed", "subscribe")
            return r if s == 200 and r["role"] == "edge" else None
        route = wait_for(subscribe, 20, "a subscribe route to the edge")
        check(route["urls"]["rtsp"] == "rtsp://%s:%d/live/routed" % (route["host"], RTSP_PORT),
              "subscribe route: %s" % route)
        p = play_ffmpeg_rtsp(t.procs, route["urls"]["rtsp"], "tcp", t.path("routed.crc"), 4,
                             "ffmpeg-rtsp-routed")
        check_framecrc(p, t.path("routed.crc"), 4, "ffmpeg over RTSP from the routed edge")
    finally:
        m.cleanup()


class RawRtsp:
    """One RTSP connection driven by hand (requests in order, answers read whole)."""

    def __init__(self, addr):
        self.s = socket.create_connection((addr, RTSP_PORT), timeout=5)
        self.cseq = 0
        self.buf = b""

    def req(self, method, url, headers="", body=b""):
        self.cseq += 1
        if body:
            headers += "Content-Type: application/sdp\r\nContent-Length: %d\r\n" % len(body)
        self.s.sendall(("%s %s RTSP/1.0\r\nCSeq: %d\r\n%s\r\n" % (
            method, url, self.cseq, headers)).encode() + body)
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            check(chunk, "the node closed the connection instead of answering %s" % method)
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        h = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
        n = int(h.get("content-length", "0"))
        while len(self.buf) < n:
            self.buf += self.s.recv(65536)
        self.buf = self.buf[n:]
        return int(lines[0].split()[1]), h


SDP = ("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
       "a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QADazZQUH7ARAAAAMAEAAAAwMg8UKZYA==,"
       "aO+8sA==\r\na=control:streamid=0\r\n").encode()


def test_rtsp_sessions_and_slow_viewers(t):
    """A connection that asks nothing is closed after handshake-timeout, and a session that
    says nothing for rtsp-session-timeout too; a second publisher of a
    live name is refused (403) and the name stays with the first; a TCP viewer that stops
    reading is paused at rtsp-viewer-buffer and then dropped by the fan-out's lag rule,
    while the node's memory stays put."""
    node = Node(t.procs, args=["--rtsp-session-timeout", "1s", "--rtsp-viewer-buffer", "64k",
                               "--viewer-lag-drop", "2s", "--viewer-lag-skip", "1s",
                               "--handshake-timeout", "1s"])
    silent = socket.create_connection((node.addr, RTSP_PORT), timeout=5)
    idle = RawRtsp(node.addr)
    st, _ = idle.req("OPTIONS", "*")
    check(st == 200, "OPTIONS: %d" % st)
    publish(t.procs, node.rtmp("live", "busy"), media=fixture(vbitrate="2000k"))
    node.wait_live("live", "busy")
    # The name is taken: ANNOUNCE and SETUP pass, RECORD is refused.
    pub = RawRtsp(node.addr)
    url = rtsp_url(node, "busy")
    check(pub.req("ANNOUNCE", url, body=SDP)[0] == 200, "ANNOUNCE")
    st, h = pub.req("SETUP", url + "/streamid=0",
                    "Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n")
    check(st == 200 and "interleaved=0-1" in h.get("transport", ""), "SETUP: %d %s" % (st, h))
    session = h["session"].split(";")[0]
    st, h = pub.req("RECORD", url, "Session: %s\r\n" % session)
    check(st == 403 and "already publishing" in h.get("reason", ""), "RECORD: %d %s" % (st, h))
    # A viewer that never reads.
    slow = RawRtsp(node.addr)
    slow.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    check(slow.req("DESCRIBE", url)[0] == 200, "DESCRIBE")
    st, h = slow.req("SETUP", url + "/trackID=0", "Transport: RTP/AVP/TCP;interleaved=0-1\r\n")
    check(st == 200, "SETUP: %d" % st)
    check(slow.req("PLAY", url, "Session: %s\r\n" % h["session"].split(";")[0])[0] == 200, "PLAY")
    rss0 = node.rss()
    wait_for(lambda: metric(node, "sluice_rtsp_viewer_pauses_total") >= 1, 10,
             "the slow viewer to be paused at rtsp-viewer-buffer")
    wait_for(lambda: "viewer_dropped" in node.log() and "protocol=rtsp" in node.log(), 15,
             "the slow viewer to be dropped")
    # ASan's quarantine keeps freed blocks for a while: a looser bound there.
    slack = (320 if SANITIZED else 32) << 20
    check(node.rss() < rss0 + slack, "memory grew %d bytes" % (node.rss() - rss0))
    # The idle session went long ago.
    wait_for(lambda: metric(node, "sluice_rtsp_timeouts_total") >= 1, 5, "the idle session to end")
    idle.s.settimeout(2)
    check(idle.s.recv(100) == b"", "the idle session's connection is closed")
    silent.settimeout(2)
    check(silent.recv(100) == b"", "a connection that never asked anything is closed")
    check("no request in handshake-timeout" in node.log(), "and the log says why")
    node.stop()


def test_rtsp_unread_answers(t):
    """A client that never reads its answers and loops OPTIONS is no longer read once 64 KiB
    of answers wait for it: what it can push stalls and the node's memory stays put."""
    node = Node(t.procs)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((node.addr, RTSP_PORT))
    s.setblocking(False)
    chunk = b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n" * 200
    rss0 = node.rss()
    sent, stalled_since, end = 0, None, time.time() + 4
    while time.time() < end:
        try:
            # Whole requests only: a partial send goes on where it stopped.
            sent += s.send(chunk[sent % len(chunk):])
            stalled_since = None
        except BlockingIOError:
            stalled_since = stalled_since or time.time()
            if time.time() - stalled_since > 1:
                break
            time.sleep(0.01)
    check(stalled_since is not None, "the node kept reading: %d bytes of requests taken" % sent)
    check(metric(node, "sluice_rtsp_read_pauses_total") >= 1, "the pause counted")
    slack = (320 if SANITIZED else 32) << 20
    check(node.rss() < rss0 + slack, "memory grew %d bytes" % (node.rss() - rss0))
    s.close()
    node.stop()


def test_rtsp_udp_publish_keeps_its_ssrc(t):
    """Over UDP anyone can send from a publisher's address and port: a track keeps the SSRC
    of its first packet and drops datagrams of any other (counted)."""
    import struct
    node = Node(t.procs)
    pub = RawRtsp(node.addr)
    ip = pub.s.getsockname()[0]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((ip, 0))
    port = u.getsockname()[1]
    url = rtsp_url(node, "ssrc")
    check(pub.req("ANNOUNCE", url, body=SDP)[0] == 200, "ANNOUNCE")
    st, h = pub.req("SETUP", url + "/streamid=0", "Transport: RTP/AVP;unicast;client_port=%d-%d;"
                    "mode=record\r\n" % (port, port + 1))
    check(st == 200, "SETUP: %d %s" % (st, h))
    server_port = int(h["transport"].split("server_port=")[1].split("-")[0])
    st, _ = pub.req("RECORD", url, "Session: %s\r\n" % h["session"].split(";")[0])
    check(st == 200, "RECORD: %d" % st)
    for i in range(10):
        ssrc = 0x1111 if i < 5 else 0x2222
        pkt = struct.pack("!BBHII", 0x80, 0x80 | 96, i, i * 3000, ssrc) + b"\x65\x88\x84\x00"
        u.sendto(pkt, (node.addr, server_port))
    wait_for(lambda: metric(node, "sluice_rtsp_udp_foreign_ssrc_total") == 5, 5,
             "the five datagrams of another SSRC dropped")
    check(metric(node, "sluice_rtsp_rtp_in_total") == 5, "the first SSRC's five taken")
    u.close()
    node.stop()
