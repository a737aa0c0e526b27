# SPDX-License-Identifier: Apache-2.0
"""Memory a peer can pin on a node, and commands it can make the node run: a publisher of
a million one-byte messages, publishers and partial messages from one address, connections
each opening 60 chunk streams a byte deep, HLS packaging of a segment that never ends, and
a connection looping play/closeStream. Each case measures the node's RSS growth against
what the peer sent (or what the limit allows), checks the refusal is logged and counted,
and then, as every abuse case, that a real viewer still plays the healthy stream
(see abuse.py)."""
import os
import re
import struct
import sys
import threading
import time

from abuse import Abused, close_all, is_closed
from harness import SANITIZED, check, wait_for
from rtmp_raw import (TYPE_AUDIO, TYPE_VIDEO, RawRtmp, amf_all, basic_header, chunk_header,
                      chunk_message)

MB = 1 << 20
# Under ASan freed memory waits in a 256 MB quarantine, so RSS does not show what the node
# holds: the cases check the node's own accounting then, and bound RSS only where it can.


def note(msg):
    """A measurement, for the record (stderr: stdout carries the runner's results)."""
    print(msg, file=sys.stderr, flush=True)
    if os.environ.get("SLUICE_E2E_NOTES"):
        with open(os.environ["SLUICE_E2E_NOTES"], "a") as f:
            f.write(msg + "\n")


def publisher(node, name, source=None):
    c = RawRtmp(node.addr, node.node.rtmp_port, source=source)
    c.handshake()
    c.connect("live")
    sid = c.create_stream()
    return c, sid, c.publish(sid, name)


def metric(node, name):
    """The sum of a /metrics counter over its labels (0 when absent)."""
    _, _, body = node.node.http("/metrics")
    total = 0
    for line in body.decode().splitlines():
        m = re.match(r"^%s(\{[^}]*\})? (\d+)$" % re.escape(name), line)
        if m:
            total += int(m.group(2))
    return total


def drain(sock):
    """Reads and drops everything until the peer closes (a viewer that keeps up)."""
    def run():
        try:
            sock.settimeout(30)
            while sock.recv(1 << 20):
                pass
        except OSError:
            pass
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def send_quietly(sock, data):
    """Sends data; a node that closed the connection over a limit is the expected outcome."""
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False


def test_tiny_messages(t):
    """A keyframe, then a million one-byte audio messages (2 MB on the wire), with a viewer
    attached so every message is also packaged for it: the stream keeps at most
    stream-messages-max of them, each charged what it costs, so the node holds a few bytes
    per byte received, not 50."""
    node = Abused(t)
    pub, sid, st = publisher(node, "tiny")
    check(any("Publish.Start" in s for s in st), "publish tiny: %s" % st)
    pub.send_msg(TYPE_VIDEO, b"\x17\x01\x00\x00\x00" + os.urandom(3000), msid=sid)
    view = RawRtmp(node.addr, node.node.rtmp_port)
    view.handshake()
    view.connect("live")
    vsid = view.create_stream()
    st = view.play(vsid, "tiny")
    check(any("Play.Reset" in s or "Play.Start" in s for s in st), "viewer of tiny: %s" % st)
    drain(view.sock)
    time.sleep(0.5)
    rss0 = node.node.rss()
    count = 1000000
    first = chunk_header(0, 4, 0, 1, TYPE_AUDIO, sid) + b"\xaf"
    rest = (basic_header(3, 4) + b"\xaf") * (count - 1)   # same length, type and timestamp
    pub.send(first + rest)
    wire = len(first) + len(rest)
    wait_for(lambda: (node.node.stream("live", "tiny") or {}).get("bytes_in", 0) >= 3005 + count,
             30, "the node to take %d tiny messages" % count)
    time.sleep(0.5)
    grown = node.node.rss() - rss0
    s = node.node.stream("live", "tiny")
    note("%d one-byte messages (%d bytes on the wire): RSS +%.1f MB (%.2f bytes per byte), "
          "buffer %d bytes" % (count, wire, grown / MB, grown / wire, s["buffer_bytes"]))
    check(s["buffer_bytes"] <= 20000 * 200, "the log holds %d bytes of one-byte messages "
          "(stream-messages-max 20000)" % s["buffer_bytes"])
    check(SANITIZED or grown < 4 * wire, "a million one-byte messages (%.1f MB sent) grew the node by "
          "%.1f MB: %.1f bytes held per byte received (bound 4)" % (wire / MB, grown / MB,
                                                                   grown / wire))
    check(s["buffer_bytes"] <= 64 * MB, "buffer %d over stream-buffer-max" % s["buffer_bytes"])
    pub.close()
    view.close()
    node.after_case("a million one-byte messages", proto="rtmp")


def test_publishers_per_address(t):
    """20 publishers from one address: max-publishers-per-ip (16) are taken, the rest are
    refused with NetStream.Publish.Rejected, logged and counted; another address is not
    affected, and the slots come back when the publishers leave."""
    node = Abused(t)
    flood, ok, refused = [], 0, 0
    for i in range(20):
        c, sid, st = publisher(node, "p%02d" % i, source="127.0.0.5")
        flood.append(c)
        if any("Publish.Start" in s for s in st):
            ok += 1
            c.send_msg(TYPE_VIDEO, b"\x17\x01\x00\x00\x00" + b"\x00" * 100, msid=sid)
        elif any("Publish.Rejected" in s for s in st):
            refused += 1
            check(any("max-publishers-per-ip" in s for s in st),
                  "the refusal does not say which limit: %s" % st)
    check(ok == 16 and refused == 4, "20 publishers from one address: %d taken, %d refused "
          "(want 16 and 4 at max-publishers-per-ip 16)" % (ok, refused))
    node.expect_log(r"publish_refused .*reason=\"max-publishers-per-ip\" max=16", "refusals",
                    count=4)
    check(metric(node, "sluice_publishes_refused_limit_total") == 4, "refusals not counted")
    others = [publisher(node, "q%d" % i, source="127.0.0.6") for i in range(2)]
    check(all(any("Publish.Start" in s for s in st) for _, _, st in others),
          "publishers from another address were refused")
    close_all([c.sock for c in flood] + [c.sock for c, _, _ in others])
    wait_for(lambda: len(node.node.api("/api/v1/streams")["streams"]) == 1, 10,
             "the publishers to leave")
    c, _, st = publisher(node, "again", source="127.0.0.5")
    check(any("Publish.Start" in s for s in st), "slots did not come back: %s" % st)
    c.close()
    node.after_case("20 publishers from one address")


def test_partial_messages_per_address(t):
    """12 publishers from one address each send 7 MB of two 8 MB messages and never finish
    them (168 MB in all): the address may hold partial-bytes-per-ip (64 MB); the
    connections that go over are closed, logged and counted, and the node's RSS grows by
    that bound, not by what was sent."""
    node = Abused(t)
    rss0 = node.node.rss()
    conns, sent = [], 0
    peak = held = 0
    for i in range(12):
        c, sid, st = publisher(node, "big%02d" % i, source="127.0.0.7")
        check(any("Publish.Start" in s for s in st), "publisher %d: %s" % (i, st))
        conns.append(c)
        c.set_chunk_size(1 << 20)
        for csid in (6, 7):
            body = (b"\x27" + os.urandom(64 * 1024) * 128)[:8 * MB]  # max-message-size
            # Seven of its eight chunks: the message stays open, the next chunk header parses.
            msg = chunk_message(csid, TYPE_VIDEO, sid, 0, body, 1 << 20)[:-(1 + MB)]
            if send_quietly(c.sock, msg):
                sent += len(msg)
        peak = max(peak, node.node.rss())
        held = max(held, metric(node, "sluice_rtmp_partial_bytes"))
    time.sleep(0.5)
    peak = max(peak, node.node.rss())
    grown = peak - rss0
    check(held <= 64 * MB + 2 * MB, "one address held %d MB in partial messages" % (held >> 20))
    note("%d MB of partial messages from one address: RSS +%d MB" % (sent >> 20, grown >> 20))
    check(SANITIZED or grown < 100 * MB, "partial messages from one address grew the node by %d MB "
          "(partial-bytes-per-ip 64m)" % (grown >> 20))
    node.expect_log(r"rtmp_partial_limit .*limit=partial-bytes-per-ip max=67108864",
                    "the partial-bytes-per-ip close")
    check(metric(node, "sluice_rtmp_partial_closes_total") >= 1, "closes not counted")
    close_all([c.sock for c in conns])
    node.after_case("partial messages from one address")


# An H.264 sequence header (avcC of a 320x240 stream), as FLV carries it.
AVC_HEADER = bytes([
    0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x0d, 0xff, 0xe1, 0x00, 0x19, 0x67,
    0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00,
    0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0x99, 0x60, 0x01, 0x00, 0x04, 0x68,
    0xef, 0xbc, 0xb0, 0xfd, 0xf8, 0xf8, 0x00])


def avc_frame(size, key):
    """An FLV video body of size bytes: one NAL unit, length-prefixed."""
    nal = (b"\x65" if key else b"\x41") + os.urandom(64 * 1024) * ((size - 10) // 65536 + 1)
    nal = nal[:size - 9]
    return bytes([0x17 if key else 0x27, 1, 0, 0, 0]) + struct.pack(">I", len(nal)) + nal


def hls_segment_never_ends(t, fmt):
    """A publisher sends one keyframe, then 2 MB inter frames (120 MB) and never another
    keyframe, while an HLS client polls: the open segment is cut at a quarter of
    hls-buffer-max (64m) and frames are dropped until a keyframe; RSS grows by that bound,
    not by what was sent."""
    node = Abused(t, ["--hls-format", fmt, "--stream-buffer-max", "1m"])
    pub, sid, st = publisher(node, "huge")
    check(any("Publish.Start" in s for s in st), "publish huge: %s" % st)
    pub.set_chunk_size(1 << 20)
    pub.send_msg(TYPE_VIDEO, AVC_HEADER, msid=sid)
    pub.send_msg(TYPE_VIDEO, avc_frame(50000, True), msid=sid)
    stop = threading.Event()
    polls = []

    def poll():
        while not stop.is_set():
            polls.append("asked")   # the first request starts packaging; it may wait
            try:
                polls.append(node.node.http("/live/huge/index.m3u8", timeout=3)[0])
            except OSError:
                pass
            time.sleep(0.2)
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    wait_for(lambda: polls, 10, "an HLS request for huge (packaging starts)")
    time.sleep(0.5)
    rss0 = node.node.rss()
    frame = avc_frame(2 * MB, False)
    peak, frames = 0, 60
    for i in range(1, frames + 1):
        pub.send_msg(TYPE_VIDEO, frame, msid=sid, ts=i * 40)
        if i % 10 == 0:
            peak = max(peak, node.node.rss())
    wait_for(lambda: (node.node.stream("live", "huge") or {}).get("bytes_in", 0) >=
             frames * len(frame), 30, "the node to take the frames")
    time.sleep(0.5)
    peak = max(peak, node.node.rss())
    stop.set()
    poller.join(5)
    grown = peak - rss0
    note("HLS %s, a segment that never ends (%d MB sent): RSS +%d MB" %
         (fmt, frames * len(frame) >> 20, grown >> 20))
    check(SANITIZED or grown < 48 * MB, "HLS %s packaging of a segment that never ends grew the node by "
          "%d MB (%d MB sent; hls-buffer-max 64m)" % (fmt, grown >> 20, frames * 2))
    check(metric(node, "sluice_hls_frames_dropped_total") > 0, "dropped frames not counted")
    node.expect_log(r"hls_frame_dropped .*stream=huge", "the dropped frames")
    check(node.node.http("/live/huge/index.m3u8")[0] == 200, "the playlist is gone")
    pub.close()
    node.after_case("HLS %s segment that never ends" % fmt)


def test_hls_ts_segment_never_ends(t):
    hls_segment_never_ends(t, "ts")


def test_hls_fmp4_segment_never_ends(t):
    hls_segment_never_ends(t, "fmp4")


def test_chunk_streams_a_byte_deep(t):
    """200 connections, each at chunk size 1 opening 60 chunk streams with one byte of a
    60,000-byte message (about 800 bytes each): the node holds what arrived, under 20 KB a
    connection, not 60 x 64 KiB."""
    node = Abused(t, ["--handshake-timeout", "15s"])
    rss0 = node.node.rss()
    socks = []
    payload = b"".join(chunk_header(0, csid, 0, 60000, TYPE_VIDEO, 1) + b"\x00"
                       for csid in range(3, 63))
    n = 200
    for _ in range(n):
        c = RawRtmp(node.addr, node.node.rtmp_port)
        c.handshake()
        c.set_chunk_size(1)
        c.send(payload)
        socks.append(c.sock)
    time.sleep(1)
    per = (node.node.rss() - rss0) / n
    note("%d connections x 60 chunk streams a byte deep: %.1f KB resident each" % (n, per / 1024))
    check(all(not is_closed(s) for s in socks[-10:]), "the connections were dropped early")
    check(per < 20 * 1024 * (3 if SANITIZED else 1), "each connection opening 60 chunk streams cost %.0f KB (bound 20)"
          % (per / 1024))
    close_all(socks)
    node.after_case("60 chunk streams a byte deep")


def test_command_loop(t):
    """One connection looping play/closeStream 3,000 times as fast as it can: it is closed
    after its burst (rtmp-command-burst 50), the log says why, the close is counted, the
    node started a few dozen plays, not thousands, and a normal viewer still plays."""
    node = Abused(t)
    plays0 = metric(node, "sluice_plays_total")
    c = RawRtmp(node.addr, node.node.rtmp_port)
    c.handshake()
    c.connect("live")
    sid = c.create_stream()
    loop = b"".join(
        chunk_message(3, 20, sid, 0, amf_all("play", float(i * 2 + 10), None, "healthy"), 128) +
        chunk_message(3, 20, sid, 0, amf_all("closeStream", float(i * 2 + 11), None), 128)
        for i in range(3000))
    send_quietly(c.sock, loop)
    check(c.closed_by_peer(10), "a connection looping play/closeStream was left open")
    c.close()
    plays = metric(node, "sluice_plays_total") - plays0
    note("play/closeStream loop: closed after %d plays" % plays)
    check(plays <= 30, "a play/closeStream loop started %d plays (rtmp-command-burst 50)" % plays)
    node.expect_log(r"rtmp_command_rate .*rate=10 burst=50", "the command-rate close")
    check(metric(node, "sluice_rtmp_command_rate_closes_total") == 1, "close not counted")
    node.after_case("a play/closeStream loop", proto="rtmp")
