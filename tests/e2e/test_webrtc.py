# SPDX-License-Identifier: Apache-2.0
"""WebRTC playback over WHEP with a real browser: Debian's chromium (headless, its own
RTCPeerConnection, driven by tests/browser/whep.mjs) plays a stream published with ffmpeg
over RTMP from an origin and through an edge that pulls it; video frames keep decoding and
Opus audio (transcoded from the publisher's AAC) keeps arriving for 10 s.  And the WHEP
endpoint's refusals: bad SDP, wrong content type, unknown stream or session."""
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import struct
import subprocess
import time
import zlib

from cluster_util import downstream, origin
from harness import SLUICE, Node, check, fixture, publish, stop_gently, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "..", "browser", "whep.mjs")
WATCH = os.path.join(HERE, "..", "browser", "watch.mjs")
SECONDS = 10


def play(procs, node, app, stream, name):
    """Chromium plays app/stream over WHEP from node for SECONDS; returns its report."""
    p = procs.start(["node", DRIVER, node.url("/healthz"), node.url("/%s/%s/whep" % (app, stream)),
                     str(SECONDS), "audio"], name, stdout=subprocess.PIPE)
    out, _ = p.communicate(timeout=SECONDS + 90)
    lines = [ln for ln in out.decode(errors="replace").splitlines() if ln.startswith("{")]
    check(p.returncode == 0 and lines, "%s: the browser driver exited with %s" % (name,
                                                                              p.returncode))
    return json.loads(lines[-1])


def check_played(r, what, audio):
    check("failure" not in r and not r["pageErrors"], "%s: %s %s" % (
        what, r.get("failure"), r["pageErrors"]))
    check(r.get("status") == 201, "%s: WHEP answered %s: %s" % (what, r.get("status"),
                                                                 r.get("error")))
    check(re.match(r"^/live/\w+/whep/[0-9a-f]{32}$", r.get("location") or ""),
          "%s: Location %s" % (what, r.get("location")))
    check(r["connectionState"] == "connected", "%s: connection %s (states %s)" % (
        what, r["connectionState"], r["states"]))
    check(r["firstFrameMs"] < 5000, "%s: first frame after %d ms" % (what, r["firstFrameMs"]))
    frames = [f for _, f in r["samples"]]
    # Decoding all along: every 2 s window added frames, and about the stream's rate in all.
    for i in range(4, len(frames)):
        check(frames[i] > frames[i - 4], "%s: no frames decoded between samples %d and %d (%s)"
              % (what, i - 4, i, frames))
    check(frames[-1] - frames[0] >= 25 * SECONDS * 0.6, "%s: %d frames decoded in %d s (%s)"
          % (what, frames[-1] - frames[0], SECONDS, frames))
    check(r["end"]["w"] == 320 and r["end"]["h"] == 240, "%s: video is %sx%s" % (
        what, r["end"]["w"], r["end"]["h"]))
    if audio:
        a = r["audioPackets"]
        check(a[-1] - a[0] >= 50 * SECONDS * 0.6, "%s: %d Opus packets in %d s (%s)" % (
            what, a[-1] - a[0], SECONDS, a))
    check(r.get("deleteStatus") == 200, "%s: DELETE answered %s" % (what, r.get("deleteStatus")))


def test_whep_chromium_origin_and_edge(t):
    o = origin(t.procs, "origin-whep")
    # The edge gives each session a port of its own (port-range mode); the origin shares one.
    e = downstream(t.procs, "edge-whep", "edge", [o], args=["--webrtc-ports", "41000-41009"])
    # No B-frames: WebRTC players decode in sending order.
    pub = publish(t.procs, o.rtmp("live", "rtc"), media=fixture(bframes=0))
    o.wait_live("live", "rtc")
    r = play(t.procs, o, "live", "rtc", "chromium-whep-origin")
    audio = "opus/48000/2" in (r.get("answer") or "")
    if not audio:
        check("m=audio 0 " in (r.get("answer") or ""), "origin: audio neither sent nor refused")
    check_played(r, "WHEP on the origin", audio)
    check(re.search(r"a=candidate:\S+ 1 udp \d+ %s %d typ host" % (re.escape(o.addr),
                                                                     o.http_port), r["answer"]),
          "origin: the candidate is not the shared port (http-port's number)")
    r = play(t.procs, e, "live", "rtc", "chromium-whep-edge")
    check_played(r, "WHEP through the edge", audio)
    port = re.search(r"a=candidate:\S+ 1 udp \d+ \S+ (\d+) typ host", r["answer"])
    check(port and 41000 <= int(port.group(1)) <= 41009,
          "edge: the candidate port %s is not in webrtc-ports" % (port and port.group(1)))

    # The watch page plays WebRTC by default, shows how far behind live it is, and rides
    # through a publisher restart: the node ends the session, the page asks again.
    seconds = 14
    p = t.procs.start(["node", WATCH, o.url("/live/rtc/"), str(seconds)],
                      "chromium-watch-webrtc", stdout=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and o.stream("live", "rtc")["viewers"]["webrtc"] < 1:
        time.sleep(0.2)
    time.sleep(4)
    stop_gently(pub)
    time.sleep(1)
    publish(t.procs, o.rtmp("live", "rtc"), media=fixture(bframes=0), name="publisher-2")
    out, _ = p.communicate(timeout=seconds + 90)
    w = json.loads([ln for ln in out.decode(errors="replace").splitlines()
                    if ln.startswith("{")][-1])
    check("failure" not in w and not w["pageErrors"], "watch page: %s %s" % (
        w.get("failure"), w["pageErrors"]))
    check(w["watch"]["engine"] == "webrtc" and w["watch"]["mode"] == "webrtc",
          "watch page played %s/%s (errors %s)" % (w["watch"]["engine"], w["watch"]["mode"],
                                                   w["watch"]["errors"]))
    tail = [x for x in w["samples"] if x[0] >= (seconds - 5) * 1000]
    check(len(tail) >= 6 and tail[-1][1] - tail[0][1] >= 0.6 * (tail[-1][0] - tail[0][0]) / 1000,
          "watch page: video did not play on after the publisher restarted (samples %s)"
          % w["samples"])
    # Sub-second on loopback; a few ms either side of zero is the two clocks' estimate.
    lat = sorted(w["latenciesMs"])
    check(lat and -100 <= lat[len(lat) // 2] < 1000,
          "watch page: latency behind live %s ms" % lat)

    # The node counted what it sent.
    status, _, body = o.http("/metrics")
    m = body.decode()
    check(status == 200 and re.search(r"^sluice_webrtc_sessions_total [1-9]", m, re.M) and
          re.search(r"^sluice_webrtc_bytes_total [1-9]\d{5,}", m, re.M),
          "origin metrics lack WebRTC sessions or bytes")


MAGIC = 0x2112A442


def stun_attr(kind, value):
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)


def stun_request(user, pwd, tid):
    """A binding request as a browser's ICE agent sends it: USERNAME, PRIORITY,
    ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT (RFC 8445, 8489)."""
    attrs = (stun_attr(0x0006, user.encode()) + stun_attr(0x0024, struct.pack("!I", 1853824767)) +
             stun_attr(0x802A, os.urandom(8)) + stun_attr(0x0025, b""))
    head = struct.pack("!HHI12s", 1, len(attrs) + 24, MAGIC, tid)
    attrs += stun_attr(0x0008, hmac.new(pwd.encode(), head + attrs, hashlib.sha1).digest())
    head = struct.pack("!HHI12s", 1, len(attrs) + 8, MAGIC, tid)
    crc = (zlib.crc32(head + attrs) ^ 0x5354554E) & 0xFFFFFFFF
    return head + attrs + stun_attr(0x8028, struct.pack("!I", crc))


def stun_answer(data):
    """(type, tid, (ip, port) of XOR-MAPPED-ADDRESS or None)."""
    kind, length, _, tid = struct.unpack("!HHI12s", data[:20])
    off, mapped = 20, None
    while off + 4 <= 20 + length:
        a, alen = struct.unpack("!HH", data[off:off + 4])
        v = data[off + 4:off + 4 + alen]
        if a == 0x0020 and v[1] == 1:
            port = struct.unpack("!H", v[2:4])[0] ^ (MAGIC >> 16)
            ip = socket.inet_ntoa(struct.pack("!I", struct.unpack("!I", v[4:8])[0] ^ MAGIC))
            mapped = (ip, port)
        off += 4 + alen + (-alen % 4)
    return kind, tid, mapped


def minimal_offer(codec=b"H264/90000"):
    """An offer as small as a WHEP client may send: one recvonly video m-line."""
    offer = ("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
             "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
             "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n"
             "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\na=setup:actpass\r\n"
             "a=recvonly\r\na=rtcp-mux\r\n").encode()
    return offer + b"a=rtpmap:96 " + codec + b"\r\na=fmtp:96 packetization-mode=1\r\n"


def test_whep_refusals(t):
    # A short DTLS timeout so that a session whose client never finishes is seen to end.
    n = origin(t.procs, "origin-whep-refusals", args=["--webrtc-dtls-timeout", "2s",
                                                      "--webrtc-max-sessions", "2"])
    publish(t.procs, n.rtmp("live", "r"), media=fixture(bframes=0))
    n.wait_live("live", "r")
    sdp = {"Content-Type": "application/sdp"}
    status, _, body = n.http("/live/r/whep", method="POST", headers=sdp, data=b"hello")
    check(status == 400 and b"SDP" in body, "bad SDP: %d %s" % (status, body[:200]))
    status, _, _ = n.http("/live/r/whep", method="POST",
                          headers={"Content-Type": "text/plain"}, data=b"v=0\r\n")
    check(status == 415, "wrong content type: %d" % status)
    offer = ("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
             "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
             "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n"
             "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\na=setup:actpass\r\n"
             "a=recvonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n").encode()
    status, _, body = n.http("/live/r/whep", method="POST", headers=sdp, data=offer)
    check(status == 400 and b"H.264" in body, "VP8-only offer: %d %s" % (status, body[:200]))
    h264 = offer.replace(b"VP8/90000", b"H264/90000") + b"a=fmtp:96 packetization-mode=1\r\n"
    status, _, body = n.http("/live/nope/whep", method="POST", headers=sdp, data=h264)
    check(status == 404, "unknown stream: %d" % status)
    status, headers, body = n.http("/live/r/whep", method="POST", headers=sdp, data=h264)
    check(status == 201 and body.startswith(b"v=0") and b"a=ice-lite" in body and
          b"a=setup:passive" in body and "Location" in headers,
          "H.264 offer: %d %s" % (status, body[:200]))
    check("Location" in headers.get("Access-Control-Expose-Headers", ""),
          "Location is not exposed to scripts: %s" % headers)
    loc = headers["Location"]
    status, _, _ = n.http(loc, method="PATCH",
                          headers={"Content-Type": "application/trickle-ice-sdpfrag"}, data=b"")
    check(status == 204, "PATCH: %d" % status)
    # A session's URL must name it: another stream's path, or WHIP's, ends nothing.
    sid = loc.rsplit("/", 1)[1]
    for other in ("/live/other/whep/" + sid, "/live/r/whip/" + sid):
        status, _, _ = n.http(other, method="DELETE")
        check(status == 404, "DELETE %s: %d" % (other, status))
    status, _, _ = n.http(loc, method="DELETE")
    check(status == 200, "DELETE: %d" % status)
    status, _, _ = n.http(loc, method="DELETE")
    check(status == 404, "DELETE again: %d" % status)

    # ICE-lite: STUN checks with the answer's credentials are answered with our address as
    # the node saw it; a wrong password gets 401; a session that never does DTLS ends.
    status, headers, body = n.http("/live/r/whep", method="POST", headers=sdp, data=h264)
    check(status == 201, "second offer: %d" % status)
    ans = body.decode()
    ufrag = re.search(r"a=ice-ufrag:(\S+)", ans).group(1)
    pwd = re.search(r"a=ice-pwd:(\S+)", ans).group(1)
    cand = re.search(r"a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host", ans)
    check(cand and cand.group(1) == n.addr, "candidate %s" % (cand and cand.group(0)))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(3)
    dest = (cand.group(1), int(cand.group(2)))
    sock.sendto(stun_request(ufrag + ":abcd", "wrong-password-wrong-pw", b"A" * 12), dest)
    kind, tid, _ = stun_answer(sock.recv(1500))
    check(kind == 0x0111 and tid == b"A" * 12, "wrong password: STUN type %#x" % kind)
    sock.sendto(stun_request(ufrag + ":abcd", pwd, b"B" * 12), dest)
    kind, tid, mapped = stun_answer(sock.recv(1500))
    check(kind == 0x0101 and tid == b"B" * 12 and mapped == sock.getsockname(),
          "binding: STUN type %#x mapped %s (we are %s)" % (kind, mapped, sock.getsockname()))
    sock.close()
    time.sleep(3.5)
    status, _, _ = n.http(headers["Location"], method="DELETE")
    check(status == 404, "a session without DTLS still exists after the timeout: %d" % status)
    m = n.http("/metrics")[2].decode()
    check(re.search(r'^sluice_webrtc_timeouts_total\{reason="dtls"\} [1-9]', m, re.M) and
          re.search(r"^sluice_webrtc_stun_bad_total [1-9]", m, re.M),
          "metrics lack the DTLS timeout or the refused STUN check")

    # A refused offer (VP8 only, above) held nothing: two sessions fit, a third does not.
    for i in range(2):
        status, _, _ = n.http("/live/r/whep", method="POST", headers=sdp, data=h264)
        check(status == 201, "offer %d under webrtc-max-sessions: %d" % (i, status))
    status, _, body = n.http("/live/r/whep", method="POST", headers=sdp, data=h264)
    check(status == 503 and b"webrtc-max-sessions" in body, "third offer: %d %s" % (status, body))
    webrtc_viewers = n.stream("live", "r")["viewers"]["webrtc"]
    check(webrtc_viewers == 2, "/api/v1/streams counts %d WebRTC viewers" % webrtc_viewers)

    status, headers, _ = n.http("/live/r/whep", method="OPTIONS")
    check(status == 204 and headers.get("Accept-Post") == "application/sdp" and
          "POST" in headers.get("Access-Control-Allow-Methods", ""),
          "OPTIONS: %d %s" % (status, headers))


def test_whep_consent_freshness(t):
    """A browser that vanishes (killed: no DELETE, no DTLS close) stops its ICE consent
    checks; the node ends its session after webrtc-consent-timeout (RFC 7675)."""
    # One port in the range: the browser's session holds it until its consent runs out.
    n = origin(t.procs, "origin-whep-consent", args=["--webrtc-consent-timeout", "3s",
                                                     "--webrtc-ports", "43000-43000"])
    publish(t.procs, n.rtmp("live", "c"), media=fixture(bframes=0))
    n.wait_live("live", "c")
    p = t.procs.start(["node", DRIVER, n.url("/healthz"), n.url("/live/c/whep"), "30"],
                      "chromium-consent", stdout=subprocess.PIPE, start_new_session=True)

    def media_flowing():
        m = n.http("/metrics")[2].decode()
        sent = re.search(r"^sluice_webrtc_packets_total (\d+)", m, re.M)
        return n.stream("live", "c")["viewers"]["webrtc"] == 1 and sent and int(sent.group(1)) > 200
    wait_for(media_flowing, 30, "the browser's WebRTC session to play")
    h264 = minimal_offer()
    sdp = {"Content-Type": "application/sdp"}
    status, _, body = n.http("/live/c/whep", method="POST", headers=sdp, data=h264)
    check(status == 503 and b"webrtc-ports" in body, "offer with no port left: %d %s" % (
        status, body))
    os.killpg(p.pid, signal.SIGKILL)  # the driver and its browser: a group we started
    p.wait()
    killed = time.monotonic()
    wait_for(lambda: n.stream("live", "c")["viewers"]["webrtc"] == 0, 10,
             "the vanished browser's session to end")
    waited = time.monotonic() - killed
    m = n.http("/metrics")[2].decode()
    check(re.search(r'^sluice_webrtc_timeouts_total\{reason="consent"\} 1$', m, re.M),
          "the session did not end by consent timeout (after %.1f s)" % waited)
    check(waited >= 1.0, "the session ended %.1f s after the browser died: not by consent" % waited)
    status, _, _ = n.http("/live/c/whep", method="POST", headers=sdp, data=h264)
    check(status == 201, "the ended session's port was not freed: %d" % status)


def test_whep_play_token(t):
    """WHEP takes the play token as every protocol does: ?token= or Authorization: Bearer."""
    n = Node(t.procs, name="node-whep-token", args=["--play-secret", "play-s3cret"])
    publish(t.procs, n.rtmp("live", "tok"), media=fixture(bframes=0))
    n.wait_live("live", "tok")
    r = subprocess.run([SLUICE, "token", "--secret", "play-s3cret", "--action", "play",
                        "--app", "live", "--stream", "tok", "--ttl", "1h"],
                       capture_output=True, text=True, timeout=10)
    good = r.stdout.strip()
    check(r.returncode == 0 and good, "sluice token failed: %s" % r.stderr)
    sdp = {"Content-Type": "application/sdp"}
    status, _, _ = n.http("/live/tok/whep", method="POST", headers=sdp, data=minimal_offer())
    check(status == 403, "no token: %d" % status)
    status, _, _ = n.http("/live/tok/whep?token=1.AAAA", method="POST", headers=sdp,
                          data=minimal_offer())
    check(status == 403, "bad token: %d" % status)
    status, _, _ = n.http("/live/tok/whep?token=" + good, method="POST", headers=sdp,
                          data=minimal_offer())
    check(status == 201, "?token=: %d" % status)
    bearer = dict(sdp, Authorization="Bearer " + good)
    status, _, _ = n.http("/live/tok/whep", method="POST", headers=bearer, data=minimal_offer())
    check(status == 201, "Authorization: Bearer: %d" % status)
