# SPDX-License-Identifier: Apache-2.0
"""Hostile RTMP peers against a live node: garbage and truncated handshakes, chunk sizes 0, 1
and 2^31-1, message lengths that lie, thousands of chunk streams, AMF nested 10,000 deep,
unknown message types, and `../`, NUL, %2e%2e, unicode and 1000-character app and stream
names. After each case a real viewer still plays the healthy stream, the node's memory is
back under a bound, and its log says why it dropped the peer (see abuse.py)."""
import os
import time

from abuse import Abused, close_all, connect_many, is_closed
from harness import check, wait_for
from rtmp_raw import (TYPE_COMMAND_AMF0, TYPE_DATA_AMF0, TYPE_VIDEO, RawRtmp, amf_all,
                      amf_nested, chunk_header)

HS_TIMEOUT = "2s"


def connected(node, app="live"):
    c = RawRtmp(node.addr, node.node.rtmp_port)
    c.handshake()
    c.connect(app)
    return c


def test_handshake_garbage_and_truncation(t):
    node = Abused(t, ["--handshake-timeout", HS_TIMEOUT])
    port = node.node.rtmp_port

    # Garbage: a wrong version byte, an RTMPE request, and a valid C0 followed by junk that
    # the node takes as C1/C2 and then as chunks.
    socks = connect_many(node.addr, port, 60)
    for i, s in enumerate(socks):
        first = [b"\xff", b"\x06", b"\x03"][i % 3]
        s.sendall(first + os.urandom(4096 + 37 * i))
    wait_for(lambda: all(is_closed(s) for s in socks), 10, "garbage handshakes to be dropped")
    close_all(socks)
    node.expect_log(r"rtmp_protocol_error .*stage=handshake error=\"malformed input\"",
                    "a bad handshake version", count=20)
    node.expect_log(r"rtmp_protocol_error .*stage=handshake error=\"not supported\"",
                    "an RTMPE handshake", count=20)
    node.after_case("garbage handshakes", proto="rtmp")

    # Truncated: nothing, C0 only, half a C1, C0C1 without C2, half a C2; then silence.
    cuts = [0, 1, 700, 1537, 1537 + 1000]
    socks = connect_many(node.addr, port, len(cuts) * 10)
    for i, s in enumerate(socks):
        s.sendall((b"\x03" + os.urandom(3072))[:cuts[i % len(cuts)]] or b"")
    start = time.monotonic()
    wait_for(lambda: all(is_closed(s) for s in socks), 10, "stalled handshakes to time out")
    took = time.monotonic() - start
    close_all(socks)
    check(took < 6, "stalled handshakes were held %.1fs (handshake-timeout 2s)" % took)
    node.expect_log(r"rtmp_timeout .*reason=\"handshake not completed in time\" limit_ms=2000",
                    "the handshake timeout", count=len(cuts) * 10)
    node.after_case("truncated handshakes")


def test_chunk_sizes_lengths_and_streams(t):
    node = Abused(t, ["--handshake-timeout", HS_TIMEOUT])

    # Chunk size 0 is malformed; 2^31-1 is over max-chunk-size. Both close the connection.
    for size, err in ((0, "malformed input"), (0x7fffffff, "limit exceeded")):
        c = connected(node)
        c.set_chunk_size(size, apply=False)
        check(c.closed_by_peer(5), "chunk size %d: connection left open" % size)
        c.close()
        node.expect_log(r"rtmp_protocol_error .*stage=chunk error=\"%s\".*max_chunk_size=16777215"
                        % err, "chunk size %d" % size)

    # Chunk size 1 is legal, if wasteful: every byte of a message costs a chunk header.
    c = RawRtmp(node.addr, node.node.rtmp_port)
    c.handshake()
    c.set_chunk_size(1)
    check("NetConnection.Connect.Success" in c.connect("live"), "connect at chunk size 1")
    sid = c.create_stream()
    check("NetStream.Publish.Start" in c.publish(sid, "tiny"), "publish at chunk size 1")
    for i in range(20):
        c.send_msg(TYPE_VIDEO, (b"\x17\x01\x00\x00\x00" if i % 10 == 0 else b"\x27\x01\x00\x00\x00")
                   + os.urandom(2000), msid=sid, ts=i * 40)
    wait_for(lambda: (node.node.stream("live", "tiny") or {}).get("video", {}).get("frames", 0)
             >= 20, 10, "20 frames sent at chunk size 1")
    c.close()
    node.after_case("chunk sizes")

    # Message lengths far over what is sent. Until a connection publishes, the node takes
    # small messages only, so a lie of 16 MB (over max-message-size) and one of 1 MB are both
    # refused at the header, before a byte of body is held: before connect, and from a
    # connected client that does not publish.
    for declared in (0xffffff, 1 << 20):
        socks = []
        for i in range(20):
            c = RawRtmp(node.addr, node.node.rtmp_port)
            c.handshake()
            if i % 2:
                c.connect("live")
            c.send(chunk_header(0, 3, 0, declared, TYPE_COMMAND_AMF0, 0) + b"\x02" * 100)
            socks.append(c)
        wait_for(lambda: all(c.closed_by_peer(0.05) for c in socks), 5,
                 "peers declaring %d-byte messages to be dropped" % declared)
        for c in socks:
            c.close()
    node.expect_log(r"rtmp_protocol_error .*stage=chunk error=\"limit exceeded\" "
                    r"max_message=65536", "messages over the unpublished limit", count=40)
    # A publisher gets the configured limits: 8 MB messages, and at most twice that held in
    # partial messages. Eight chunk streams each start an 8 MB message and send up to 3 MB
    # of it: the megabyte past 16 MB held closes the connection.
    c = connected(node)
    sid = c.create_stream()
    c.publish(sid, "big")
    c.set_chunk_size(1 << 20)
    chunk = os.urandom(1 << 20)
    dropped = False
    try:
        for part in range(3):
            for cs in range(8):
                csid = 10 + cs
                head = chunk_header(0, csid, 0, 8 << 20, TYPE_VIDEO, sid) if part == 0 else \
                    bytes([0xc0 | csid])
                c.send(head + chunk)
    except OSError:
        dropped = True
    check(dropped or c.closed_by_peer(5), "16 MB of partial messages: connection left open")
    c.close()
    node.expect_log(r"rtmp_protocol_error .*stage=chunk error=\"limit exceeded\" "
                    r"max_message=8388608", "partial messages over 16 MB")
    node.after_case("message lengths")

    # Thousands of chunk streams: each a message started and never finished.
    conns = []
    for _ in range(10):
        c = connected(node)
        c.set_chunk_size(1)  # so a 10-byte message stays partial after its first byte
        burst = b"".join(chunk_header(0, cs, 0, 10, TYPE_VIDEO, 1) + b"x"
                         for cs in range(3, 3 + 3000))
        try:
            c.send(burst)
        except OSError:
            pass
        conns.append(c)
    wait_for(lambda: all(c.closed_by_peer(0.05) for c in conns), 5,
             "peers opening 3000 chunk streams to be dropped")
    for c in conns:
        c.close()
    node.expect_log(r"rtmp_protocol_error .*stage=chunk error=\"limit exceeded\".*"
                    r"max_chunk_streams=64", "the chunk stream limit", count=10)
    node.after_case("thousands of chunk streams", proto="rtmp")


def test_amf_nesting_and_unknown_types(t):
    node = Abused(t, ["--handshake-timeout", HS_TIMEOUT])

    # connect whose command object nests 10,000 deep: strict arrays (50 KB) reach the AMF
    # decoder and its depth limit; objects (70 KB) are over the pre-connect message limit.
    for kind, stage in (("array", "message"), ("object", "chunk")):
        c = RawRtmp(node.addr, node.node.rtmp_port)
        c.handshake()
        c.set_chunk_size(65536)
        c.send_msg(TYPE_COMMAND_AMF0, amf_all("connect", 1.0) + amf_nested(10000, kind))
        check(c.closed_by_peer(5), "connect nested 10,000 deep (%s) left open" % kind)
        c.close()
        node.expect_log(r"rtmp_protocol_error .*stage=%s error=\"limit exceeded\"" % stage,
                        "connect nested 10,000 deep (%s)" % kind)
    # The same after connect, in a command and in a publisher's @setDataFrame: the command
    # drops the peer; the data message is not AMF a viewer could read and is not passed on.
    c = connected(node)
    sid = c.create_stream()
    c.publish(sid, "deep")
    c.set_chunk_size(65536)
    c.send_msg(TYPE_DATA_AMF0, amf_all("@setDataFrame", "onMetaData") + amf_nested(10000),
               msid=sid)
    c.send_msg(TYPE_VIDEO, b"\x17\x01\x00\x00\x00" + os.urandom(500), msid=sid, ts=0)
    wait_for(lambda: (node.node.stream("live", "deep") or {}).get("video", {}).get("frames", 0)
             >= 1, 5, "the publisher to stay up after nested metadata")
    c.send_msg(TYPE_COMMAND_AMF0, amf_all("play", 9.0, None) + amf_nested(10000), msid=sid)
    check(c.closed_by_peer(5), "a command nested 10,000 deep after connect left open")
    c.close()
    node.expect_log(r"rtmp_protocol_error .*stage=message error=\"limit exceeded\"",
                    "AMF nesting after connect", count=2)
    node.after_case("AMF nesting")

    # Unknown message types are ignored (and said so, once per connection), not fatal.
    c = connected(node)
    types = [0, 7, 10, 11, 12, 13, 16, 19, 21, 22, 23, 30, 100, 127, 255]
    for _ in range(100):
        for mt in types:
            c.send_msg(mt, os.urandom(64), csid=5)
    sid = c.create_stream()  # still answered: the connection is alive and in order
    check(sid == 1, "createStream after unknown types answered %r" % sid)
    c.close()
    node.expect_log(r"rtmp_ignored .*what=\"message type not handled\"",
                    "the ignored message types")
    lines = [ln for ln in node.log_since_mark().splitlines() if "message type not handled" in ln]
    check(len(lines) == 1, "1500 unknown messages should log once, logged %d times" % len(lines))
    node.after_case("unknown message types", proto="rtmp")


ODD = [
    "../live", "live/../../etc", "..", ".hidden", "%2e%2e", "%2e%2e%2fetc", "live%00",
    "live\x00evil", "\x00", "ライブ", "caf\u00e9", "a" * 129, "a" * 1000, "a b", "a/b",
    "a\r\nlevel=error", "",
]
# An app may have levels (Red5 scopes, "live/room1"), so "a/b" is a fine app; these are not.
ODD_APPS = [a for a in ODD if a != "a/b"] + ["a//b", "/a", "a/../b", "a/.b", "a/" + "b" * 128]


def test_odd_names(t):
    node = Abused(t, ["--handshake-timeout", HS_TIMEOUT])
    # As the app: connect is rejected and the peer closed.
    for app in ODD_APPS:
        c = RawRtmp(node.addr, node.node.rtmp_port)
        c.handshake()
        reply = c.connect(app)
        check(any("NetConnection.Connect.Rejected" in s for s in reply),
              "app %r: not rejected (%r)" % (app, reply))
        check(c.closed_by_peer(5), "app %r: connection left open" % app)
        c.close()
    node.expect_log(r"rtmp_connect_refused .*reason=\"bad app name\"", "bad app names",
                    count=len(ODD_APPS))
    # As the stream name, to publish and to play: refused with BadName / StreamNotFound-style
    # errors, never a stream under a name the client did not send.
    for name in ODD:
        for verb in ("publish", "play"):
            c = connected(node)
            sid = c.create_stream()
            getattr(c, verb)(sid, name, wait=False)
            check(c.closed_by_peer(5), "%s %r: connection left open" % (verb, name))
            c.close()
    node.expect_log(r"rtmp_bad_stream_name ", "bad stream names", count=2 * len(ODD))
    streams = [(s["app"], s["name"]) for s in node.node.api("/api/v1/streams")["streams"]]
    check(streams == [("live", "healthy")], "streams after odd names: %r" % streams)
    # A log line cannot be forged through a name: CR/LF arrive escaped.
    check("\nlevel=error" not in node.node.log(), "a name forged a log line")
    node.after_case("odd names over RTMP")
