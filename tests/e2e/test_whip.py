# SPDX-License-Identifier: Apache-2.0
"""WHIP: publishing over WebRTC.  Chromium publishes its fake camera and microphone through
the stream manager's 307 to an origin; ffmpeg over RTMP on the origin, Chromium over WHEP on
an edge and ffmpeg over LL-HLS on the edge all decode it.  GStreamer's webrtcbin publishes
too (a second, independent stack).  A WHIP publisher killed mid-stream: its viewers see the
end and the name is free at once.  And the endpoint's refusals."""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from harness import Node, check, ffprobe, new_addr, publish, wait_for
from manager_util import Manager

HERE = os.path.dirname(os.path.abspath(__file__))
WHIP = os.path.join(HERE, "..", "browser", "whip.mjs")
WHEP = os.path.join(HERE, "..", "browser", "whep.mjs")
PAGE = os.path.join(HERE, "..", "browser", "publish_page.mjs")
GST = os.path.join(HERE, "whep_gst.py")
RELAY = os.path.join(HERE, "udp_loss.py")


def report(p, timeout):
    out, _ = p.communicate(timeout=timeout)
    lines = [ln for ln in out.decode(errors="replace").splitlines() if ln.startswith("{")]
    check(lines, "%s printed no report (exit %s)" % (p.name, p.returncode))
    return json.loads(lines[-1])


def http(url, method="GET", data=None, headers=None, redirect=True):
    """(status, headers, body) without raising on 4xx/5xx; redirects followed unless told."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None
    opener = urllib.request.build_opener() if redirect else urllib.request.build_opener(NoRedirect)
    req = urllib.request.Request(url, method=method, data=data, headers=headers or {})
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def stream_of(base, app, name):
    status, _, body = http(base + "/api/v1/streams")
    if status != 200:
        return None
    for s in json.loads(body)["streams"]:
        if s["app"] == app and s["name"] == name:
            return s
    return None


def live(base, app, name):
    return ((stream_of(base, app, name) or {}).get("video") or {}).get("frames", 0) > 0


def descendants(pid):
    """The processes below pid (a browser driver's Chromium), children first found."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def offer(video="H264", direction="sendonly"):
    """A minimal WebRTC offer, as a WHIP client sends it."""
    vfmt = ("a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=42e01f\r\n"
            if video == "H264" else "a=rtpmap:96 VP8/90000\r\n")
    return ("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
            "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef0123456789\r\n"
            "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\na=setup:actpass\r\n"
            "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtcp-mux\r\n"
            "a=%s\r\n%s"
            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=rtcp-mux\r\n"
            "a=%s\r\na=rtpmap:111 opus/48000/2\r\n" % (direction, vfmt, direction)).encode()


SDP = {"Content-Type": "application/sdp"}


def aac_on(base):
    """False when the node has no AAC encoder (built without libavcodec): then a WHIP
    stream is video-only for RTMP, FLV and HLS viewers, as documented."""
    _, _, metrics = http(base + "/metrics")
    m = re.search(rb"sluice_whip_audio_off_total (\d+)", metrics)
    return not m or int(m.group(1)) == 0


def check_recording(path, min_seconds, what, aac=True):
    """H.264 320x240 and AAC (unless not aac), decoding with no error, timestamps rising,
    min_seconds long.
    (Not harness.check_media: a browser's frames come at capture times, some 48 ms apart and
    some 52, and ffmpeg's null output at the guessed frame rate takes two for one slot.)"""
    check(os.path.exists(path) and os.path.getsize(path) > 0, "%s: nothing received" % what)
    info = ffprobe(path)
    kinds = {s["codec_type"]: s for s in info["streams"]}
    check("video" in kinds and kinds["video"]["codec_name"] == "h264" and
          (kinds["video"]["width"], kinds["video"]["height"]) == (320, 240),
          "%s: video %s" % (what, kinds.get("video")))
    if aac:
        check("audio" in kinds and kinds["audio"]["codec_name"] == "aac", "%s: no AAC" % what)
    else:
        check("audio" not in kinds, "%s: audio without an AAC encoder?" % what)
    r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path,
                        "-enc_time_base:v", "1:1000", "-f", "null", "-"],
                       capture_output=True, timeout=60)
    errs = r.stderr.decode(errors="replace").strip()
    check(r.returncode == 0 and errs == "", "%s: decoding reported:\n%s" % (what, errs[:800]))
    for kind in ("video", "audio") if aac else ("video",):
        dts = [float(p["dts_time"]) for p in info["packets"]
               if p["stream_index"] == kinds[kind]["index"] and "dts_time" in p]
        check(all(b > a for a, b in zip(dts, dts[1:])), "%s: %s timestamps not rising" % (
            what, kind))
        check(dts and dts[-1] - dts[0] >= min_seconds, "%s: %s spans %.1f s" % (
            what, kind, dts[-1] - dts[0] if dts else 0))


def test_whip_chromium_through_manager(t):
    """Chromium publishes through the manager's 307 to the origin; RTMP on the origin, WHEP
    and LL-HLS on the edge decode it; the DELETE ends the stream."""
    m = Manager(t)
    try:
        m.setup_group()
        o = m.nodes("origin", ["alive"])[0]
        e = m.nodes("edge", ["alive"])[0]
        obase = "http://%s:%d" % (o["host"], o["httpPort"])
        ebase = "http://%s:%d" % (e["host"], e["httpPort"])
        # The manager's redirect, as a WHIP client sees it (the query goes along).
        st, hdr, _ = http(m.url + "/whip/live/cam?token=x", "POST", offer(), SDP, redirect=False)
        check(st == 307 and hdr.get("Location") == obase + "/live/cam/whip?token=x",
              "manager WHIP: %d %s" % (st, hdr.get("Location")))
        st, hdr, _ = http(m.url + "/whip/live/cam", "OPTIONS")
        check(st == 204 and "application/sdp" in hdr.get("Accept-Post", ""),
              "manager OPTIONS: %d %s" % (st, hdr))
        route = m.route("live", "cam", "broadcast")[1]
        check(route["urls"].get("whip") == obase + "/live/cam/whip", "route: %s" % route)
        # An edge takes no publishers.
        st, _, body = http(ebase + "/live/cam/whip", "POST", offer(), SDP)
        check(st == 403 and b"origin" in body, "WHIP on an edge: %d %s" % (st, body))

        seconds = 16
        pub = t.procs.start(["node", WHIP, m.url + "/healthz", m.url + "/whip/live/cam",
                             str(seconds)], "chromium-whip", stdout=subprocess.PIPE)
        wait_for(lambda: live(obase, "live", "cam"), 25, "live/cam published over WHIP")
        s = stream_of(obase, "live", "cam")
        check(s["video"]["codec"] == "h264", "stream: %s" % s)
        # Once the manager knows the stream is live, WHEP goes to the edge the same way.
        want = ebase + "/live/cam/whep"
        wait_for(lambda: http(m.url + "/whep/live/cam", "POST", offer(), SDP, redirect=False)[1]
                 .get("Location") == want, 10, "the manager's WHEP redirect to the edge")
        # Viewers, all at once: RTMP on the origin, LL-HLS and WHEP on the edge.
        rtmp = t.procs.start(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-i",
                              "rtmp://%s:%d/live/cam" % (o["host"], o["rtmpPort"]), "-t", "5",
                              "-c", "copy", "-f", "flv", "-y", t.path("rtmp.flv")], "ffmpeg-rtmp")
        hls = t.procs.start(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-i",
                             ebase + "/live/cam/index.m3u8", "-t", "5", "-c", "copy", "-f",
                             "matroska", "-y", t.path("hls.mkv")], "ffmpeg-llhls-edge")
        whep = t.procs.start(["node", WHEP, ebase + "/healthz", ebase + "/live/cam/whep", "4",
                              "audio"], "chromium-whep-edge", stdout=subprocess.PIPE)
        check(rtmp.wait(timeout=40) == 0, "ffmpeg over RTMP failed")
        check_recording(t.path("rtmp.flv"), 3.5, "RTMP from the origin", aac_on(obase))
        r = report(whep, 60)
        check(r.get("status") == 201 and r.get("connectionState") == "connected",
              "WHEP on the edge: %s" % {k: r.get(k) for k in ("status", "error", "states")})
        frames = [f for _, f in r["samples"]]
        check(frames[-1] - frames[0] >= 30, "WHEP on the edge decoded %s" % frames)
        # The edge pulls over RTMP, so its viewers hear the AAC made Opus again (no AAC
        # encoder in the build: no audio beyond the origin).
        check(not aac_on(obase) or r["audioPackets"][-1] - r["audioPackets"][0] >= 80,
              "WHEP on the edge: Opus packets %s" % r["audioPackets"])
        check(hls.wait(timeout=40) == 0, "ffmpeg over LL-HLS on the edge failed")
        check_recording(t.path("hls.mkv"), 3.5, "LL-HLS from the edge", aac_on(obase))

        r = report(pub, 60)
        check(r.get("status") == 201 and r.get("redirected") and
              r.get("finalUrl") == obase + "/live/cam/whip", "WHIP: %s" % {
                  k: r.get(k) for k in ("status", "error", "finalUrl", "failure")})
        check(re.match(r"^/live/cam/whip/[0-9a-f]{32}$", r.get("location") or ""),
              "Location %s" % r.get("location"))
        check("a=recvonly" in r["answer"] and "a=ice-lite" in r["answer"], r["answer"])
        check(r["end"]["codec"] == "video/H264" and r["end"]["frames"] >= 20 * seconds * 0.6,
              "Chromium encoded %s" % r["end"])
        check(r.get("deleteStatus") == 200, "DELETE answered %s" % r.get("deleteStatus"))
        wait_for(lambda: stream_of(obase, "live", "cam") is None, 5, "the stream to end")
        _, _, metrics = http(obase + "/metrics")
        for name in (b"sluice_whip_sessions_total 1", b"sluice_whip_plis_sent_total"):
            check(name in metrics, "metrics lack %s" % name)
    finally:
        m.cleanup()


def test_whip_killed_publisher_and_refusals(t):
    """A WHIP publisher whose browser is killed: consent freshness ends its session, the RTMP
    viewer sees the end, and the name can be published again at once.  While it publishes,
    the name is refused to a second publisher; bad offers get 4xx."""
    n = Node(t.procs, name="node-whip", args=["--webrtc-consent-timeout", "3s"])
    base = n.url("")
    # Published from the node's own publish page, as a person would.
    st, hdr, page = http(n.url("/live/k/publish"))
    check(st == 200 and b"/player/publish.js" in page and
          "camera=(self)" in hdr.get("Permissions-Policy", ""), "publish page: %d" % st)
    pub = t.procs.start(["node", PAGE, n.url("/live/k/publish")], "chromium-publish-page",
                        stdout=subprocess.PIPE)
    wait_for(lambda: live(base, "live", "k"), 25, "live/k published from the publish page")
    # The name is taken: WHIP and RTMP publishers are refused.
    st, _, body = http(n.url("/live/k/whip"), "POST", offer(), SDP)
    check(st == 409, "a second WHIP publisher: %d %s" % (st, body))
    # Bad offers.
    for data, hdr, want in ((offer(), {"Content-Type": "text/plain"}, 415),
                            (b"hello", SDP, 400),
                            (offer(video="VP8"), SDP, 400),
                            (offer(direction="recvonly"), SDP, 400)):
        st, _, body = http(n.url("/live/other/whip"), "POST", data, hdr)
        check(st == want, "offer refused with %d, expected %d: %s" % (st, want, body))
    check(stream_of(base, "live", "other") is None, "a refused offer left a stream behind")
    viewer = t.procs.start(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-i",
                            n.rtmp("live", "k"), "-c", "copy", "-f", "flv", "-y",
                            t.path("k.flv")], "ffmpeg-viewer-k")
    wait_for(lambda: (stream_of(base, "live", "k") or {}).get("viewers", {}).get("rtmp", 0) >= 1,
             10, "the RTMP viewer")
    time.sleep(2)
    # Killed: the browser and its driver, no goodbye (no DTLS close_notify, no DELETE).
    for pid in descendants(pub.pid) + [pub.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    pub.wait(timeout=10)
    out = pub.stdout.read().decode(errors="replace")
    check('"state":"publishing"' in out and '"pageErrors":[]' in out, "the page: %s" % out)
    killed = time.monotonic()
    wait_for(lambda: stream_of(base, "live", "k") is None, 10, "the stream to end")
    ended = time.monotonic() - killed
    check(ended <= 6, "the stream ended %.1f s after the kill (consent timeout 3 s)" % ended)
    check(viewer.wait(timeout=10) is not None, "the viewer is still running")
    check(re.search(r"event=publish_stop [^\n]*protocol=whip [^\n]*consent", n.log()),
          "no publish_stop for consent in the log")
    info = ffprobe(t.path("k.flv"))
    check(any(s["codec_type"] == "video" for s in info["streams"]), "the viewer got no video")
    # The name is free at once.
    publish(t.procs, n.rtmp("live", "k"), name="ffmpeg-after")
    n.wait_live("live", "k", timeout=10)


def test_whip_gstreamer(t):
    """GStreamer's webrtcbin publishes H.264 (openh264) and Opus over WHIP; ffmpeg over RTMP
    decodes both (the Opus made AAC), and Chromium over WHEP on the same node plays it with
    the publisher's Opus passed through.  The RTMP recording is 6 s: it starts on the cached
    keyframe, which may be older than the publisher's first audio (CI under ASan once saw
    audio start 1.2 s into a 4 s recording)."""
    n = Node(t.procs, name="node-whip-gst")
    p = t.procs.start(["python3", GST, "--local-ip", n.addr, "--publish", n.url("/live/g/whip"),
                       "14"], "gst-whip", stdout=subprocess.PIPE)
    wait_for(lambda: live(n.url(""), "live", "g"), 25, "live/g published by webrtcbin")
    v = t.procs.start(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-i",
                       n.rtmp("live", "g"), "-t", "6", "-c", "copy", "-f", "flv", "-y",
                       t.path("g.flv")], "ffmpeg-g")
    # Chromium over WHEP on the same node: the publisher's Opus passed through as it is.
    whep = t.procs.start(["node", WHEP, n.url("/healthz"), n.url("/live/g/whep"), "4", "audio"],
                         "chromium-whep-g", stdout=subprocess.PIPE)
    check(v.wait(timeout=30) == 0, "ffmpeg over RTMP failed")
    check_recording(t.path("g.flv"), 3, "RTMP of a webrtcbin WHIP stream", aac_on(n.url("")))
    r = report(whep, 60)
    check(r.get("status") == 201 and r["samples"][-1][1] - r["samples"][0][1] >= 30 and
          r["audioPackets"][-1] - r["audioPackets"][0] >= 80, "WHEP of a WHIP stream: %s" % {
              k: r.get(k) for k in ("status", "error", "samples", "audioPackets")})
    _, _, metrics = http(n.url("/metrics"))
    passed = re.search(rb"sluice_whip_opus_passed_total (\d+)", metrics)
    check(passed and int(passed.group(1)) >= 80, "Opus not passed through: %s" % passed)
    r = report(p, 40)
    check(r.get("done") and not r.get("errors"), "webrtcbin: %s" % r)
    wait_for(lambda: stream_of(n.url(""), "live", "g") is None, 5, "the stream to end (DELETE)")


def metric(base, name):
    _, _, metrics = http(base + "/metrics")
    m = re.search(rb"^" + re.escape(name.encode()) + rb" (\d+)$", metrics, re.M)
    return int(m.group(1)) if m else None


def test_whip_nack_under_loss(t):
    """A browser publishing over a path that loses 5 % of its RTP and RTCP on the way to the
    node (udp_loss.py --up, standing where a NAT would): the node NACKs the gaps, Chromium
    resends, and an RTMP viewer's recording decodes with no error."""
    relay_addr = new_addr()
    n = Node(t.procs, name="node-whip-loss", args=["--webrtc-public-ip", relay_addr])
    seconds = 10
    relay = t.procs.start([sys.executable, RELAY, "--up", "%s:%d" % (relay_addr, n.http_port),
                           "%s:%d" % (n.addr, n.http_port), "5", str(seconds + 30), "11"],
                          "udp-loss-up", stdout=subprocess.PIPE)
    pub = t.procs.start(["node", WHIP, n.url("/healthz"), n.url("/live/lossy/whip"),
                         str(seconds)], "chromium-whip-loss", stdout=subprocess.PIPE)
    wait_for(lambda: live(n.url(""), "live", "lossy"), 25, "live/lossy published")
    v = t.procs.start(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-i",
                       n.rtmp("live", "lossy"), "-t", "6", "-c", "copy", "-f", "flv", "-y",
                       t.path("lossy.flv")], "ffmpeg-lossy")
    check(v.wait(timeout=30) == 0, "ffmpeg over RTMP failed")
    check_recording(t.path("lossy.flv"), 4.5, "RTMP of a WHIP stream sent over a lossy path",
                    aac_on(n.url("")))
    r = report(pub, 60)
    check(r.get("status") == 201 and r["end"]["nacks"] > 0,
          "Chromium was asked for nothing again: %s" % r.get("end"))
    nacks = metric(n.url(""), "sluice_whip_nacks_sent_total")
    check(nacks and nacks > 0, "sluice_whip_nacks_sent_total %s" % nacks)
    relay.terminate()
    out, _ = relay.communicate(timeout=10)
    stats = json.loads([ln for ln in out.decode().splitlines() if "dropped" in ln][-1])
    check(stats["dropped"] >= 10, "the relay dropped only %s" % stats)
