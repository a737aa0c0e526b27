#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""whep_gst.py - a WHEP client on GStreamer's webrtcbin, the second WebRTC stack the
tests play with (the first is Chromium).

    whep_gst.py [--local-ip ADDR] WHEP_URL SECONDS
    whep_gst.py [--local-ip ADDR] --publish WHIP_URL SECONDS

--publish: a WHIP client instead: webrtcbin sends a test picture (videotestsrc, 320x240,
25 fps, openh264enc, a keyframe every 2 s) and a tone (audiotestsrc, opusenc); each second
a line {"t", "ice", "pc"}, then {"done": true, ...}; the resource is DELETEd at the end.

--local-ip: the only address ICE gathers (libnice leaves out loopback addresses, and a
test node listens on one).

POSTs webrtcbin's offer (recvonly H.264 video and Opus audio, ICE candidates gathered
first: no trickle) to WHEP_URL, applies the 201's answer, then for SECONDS decodes what
arrives (rtph264depay ! avdec_h264, rtpopusdepay ! opusdec) and prints one JSON line a
second: {"t", "video_frames", "audio_buffers", "ice", "pc"}, then a final line with
"done": true, the resource URL, the SDP answer, and "errors" (bus errors; an empty list
when all went well). Both transceivers ask for retransmissions (do-nack). It DELETEs the resource at the end. Exit status 0 when the session ran its
course, 1 on a setup failure (with {"failure": why} as the last line).

Debian's GStreamer ships no typelibs here (gir1.2-gstreamer-1.0 is not a dependency of
the plugins) and PyGObject is optional, so this speaks to the C libraries through
ctypes: a handful of functions, the GstWebRTC enums and the one struct layout it reads
(GstWebRTCSessionDescription: type, then the SDP message pointer).
"""
import ctypes
import ctypes.util
import json
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

# GstWebRTC enums (gst-libs/gst/webrtc/webrtc_fwd.h, 1.22).
RECVONLY = 3            # GstWebRTCRTPTransceiverDirection
SDP_ANSWER = 3          # GstWebRTCSDPType
GATHERING_COMPLETE = 2  # GstWebRTCICEGatheringState
PROMISE_REPLIED = 2     # GstPromiseResult
GST_STATE_PLAYING = 4
GST_MESSAGE_ERROR = 1 << 1
GST_MESSAGE_WARNING = 1 << 2
ICE_STATES = ["new", "checking", "connected", "completed", "failed", "disconnected", "closed"]
PC_STATES = ["new", "connecting", "connected", "disconnected", "failed", "closed"]


def lib(name):
    path = ctypes.util.find_library(name) or ("lib%s.so.0" % name)
    return ctypes.CDLL(path)


gobject = lib("gobject-2.0")
glib = lib("glib-2.0")
gst = lib("gstreamer-1.0")
gstsdp = lib("gstsdp-1.0")
gstwebrtc = lib("gstwebrtc-1.0")

P = ctypes.c_void_p
for f, res, args in [
        (gst.gst_init, None, [P, P]),
        (gst.gst_parse_launch, P, [ctypes.c_char_p, ctypes.POINTER(P)]),
        (gst.gst_parse_bin_from_description, P, [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(P)]),
        (gst.gst_bin_get_by_name, P, [P, ctypes.c_char_p]),
        (gst.gst_pipeline_new, P, [ctypes.c_char_p]),
        (gst.gst_bin_add, ctypes.c_int, [P, P]),
        (gst.gst_element_set_state, ctypes.c_int, [P, ctypes.c_int]),
        (gst.gst_element_sync_state_with_parent, ctypes.c_int, [P]),
        (gst.gst_element_get_static_pad, P, [P, ctypes.c_char_p]),
        (gst.gst_pad_link, ctypes.c_int, [P, P]),
        (gst.gst_pad_get_current_caps, P, [P]),
        (gst.gst_caps_to_string, P, [P]),
        (gst.gst_caps_from_string, P, [ctypes.c_char_p]),
        (gst.gst_promise_new, P, []),
        (gst.gst_promise_wait, ctypes.c_int, [P]),
        (gst.gst_promise_get_reply, P, [P]),
        (gst.gst_structure_get_value, P, [P, ctypes.c_char_p]),
        (gst.gst_structure_has_field, ctypes.c_int, [P, ctypes.c_char_p]),
        (gst.gst_element_get_bus, P, [P]),
        (gst.gst_bus_timed_pop_filtered, P, [P, ctypes.c_uint64, ctypes.c_int]),
        (gst.gst_message_parse_error, None, [P, ctypes.POINTER(P), ctypes.POINTER(P)]),
        (gst.gst_mini_object_unref, None, [P]),
        (gst.gst_object_unref, None, [P]),
        (gstsdp.gst_sdp_message_new_from_text, ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(P)]),
        (gstsdp.gst_sdp_message_as_text, P, [P]),
        (gstwebrtc.gst_webrtc_session_description_new, P, [ctypes.c_int, P]),
        (gobject.g_value_get_boxed, P, [P]),
        (gobject.g_signal_connect_data, ctypes.c_ulong, [P, ctypes.c_char_p, P, P, P, ctypes.c_int]),
        (glib.g_free, None, [P]),
        (glib.g_error_free, None, [P]),
]:
    f.restype = res
    f.argtypes = args
# Variadic: arguments are passed as ctypes values, so no argtypes.
gobject.g_signal_emit_by_name.restype = None
gobject.g_object_get.restype = None
gobject.g_object_set.restype = None


def take_string(p):
    """A g_free-able char* as a Python str."""
    if not p:
        return None
    s = ctypes.cast(p, ctypes.c_char_p).value.decode()
    glib.g_free(p)
    return s


class GError(ctypes.Structure):
    _fields_ = [("domain", ctypes.c_uint32), ("code", ctypes.c_int), ("message", ctypes.c_char_p)]


class SessionDescription(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("sdp", P)]


def get_int(obj, prop):
    v = ctypes.c_int(-1)
    gobject.g_object_get(P(obj), ctypes.c_char_p(prop.encode()), ctypes.byref(v), P(None))
    return v.value


# WHIP: what webrtcbin sends (H.264 packetization-mode 1, constrained baseline; Opus).
PUBLISH_PIPELINE = (
    b"webrtcbin name=w bundle-policy=max-bundle "
    b"videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=25/1 "
    b"! videoconvert ! openh264enc gop-size=50 bitrate=300000 "
    b"! video/x-h264,profile=constrained-baseline ! h264parse "
    b"! rtph264pay config-interval=-1 pt=96 aggregate-mode=zero-latency "
    b"! application/x-rtp,media=video,encoding-name=H264,payload=96 ! w. "
    b"audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample "
    b"! opusenc ! rtpopuspay pt=111 "
    b"! application/x-rtp,media=audio,encoding-name=OPUS,payload=111 ! w.")

PAD_ADDED = ctypes.CFUNCTYPE(None, P, P, P)
HANDOFF = ctypes.CFUNCTYPE(None, P, P, P, P)


class Client:
    def __init__(self):
        self.video_frames = 0
        self.audio_buffers = 0
        self.lock = threading.Lock()
        self.errors = []
        self.pipe = None
        self._keep = []  # callbacks must outlive the pipeline

    def _count(self, kind):
        def handoff(_sink, _buf, _pad, _ud):
            with self.lock:
                if kind == "video":
                    self.video_frames += 1
                else:
                    self.audio_buffers += 1
        cb = HANDOFF(handoff)
        self._keep.append(cb)
        return cb

    def _on_pad(self, _webrtc, pad, _ud):
        caps = gst.gst_pad_get_current_caps(pad)
        desc = take_string(gst.gst_caps_to_string(caps)) if caps else ""
        if caps:
            gst.gst_mini_object_unref(caps)
        if "media=(string)video" in desc:
            kind, chain = "video", "rtph264depay ! h264parse ! avdec_h264"
        elif "media=(string)audio" in desc:
            kind, chain = "audio", "rtpopusdepay ! opusdec"
        else:
            return
        err = P()
        sink_name = "sink_" + kind
        binp = gst.gst_parse_bin_from_description(
            ("queue ! %s ! fakesink name=%s sync=false signal-handoffs=true" % (chain, sink_name)).encode(),
            1, ctypes.byref(err))
        if not binp:
            self.errors.append("cannot build the %s branch" % kind)
            return
        sink = gst.gst_bin_get_by_name(binp, sink_name.encode())
        gobject.g_signal_connect_data(sink, b"handoff", ctypes.cast(self._count(kind), P), None, None, 0)
        gst.gst_object_unref(sink)
        gst.gst_bin_add(self.pipe, binp)
        gst.gst_element_sync_state_with_parent(binp)
        sinkpad = gst.gst_element_get_static_pad(binp, b"sink")
        rc = gst.gst_pad_link(pad, sinkpad)
        gst.gst_object_unref(sinkpad)
        if rc != 0:
            self.errors.append("linking the %s pad failed (%d)" % (kind, rc))

    def bus_errors(self):
        bus = gst.gst_element_get_bus(self.pipe)
        while True:
            msg = gst.gst_bus_timed_pop_filtered(bus, 0, GST_MESSAGE_ERROR)
            if not msg:
                break
            gerr, dbg = P(), P()
            gst.gst_message_parse_error(msg, ctypes.byref(gerr), ctypes.byref(dbg))
            text = ctypes.cast(gerr, ctypes.POINTER(GError)).contents.message if gerr else None
            self.errors.append((text or b"?").decode(errors="replace"))
            glib.g_error_free(gerr)
            glib.g_free(dbg)
            gst.gst_mini_object_unref(msg)
        gst.gst_object_unref(bus)

    def run(self, url, seconds, local_ip=None, publish=False):
        gst.gst_init(None, None)
        err = P()
        if publish:
            self.pipe = gst.gst_parse_launch(PUBLISH_PIPELINE, ctypes.byref(err))
            if not self.pipe:
                return fail("cannot build the publishing pipeline (webrtcbin, openh264enc, opusenc)")
            w = gst.gst_bin_get_by_name(self.pipe, b"w")
        else:
            # One element parses to the element itself, not a bin: put it in a pipeline.
            w = gst.gst_parse_launch(b"webrtcbin name=w bundle-policy=max-bundle", ctypes.byref(err))
            if not w:
                return fail("cannot create webrtcbin (gstreamer1.0-plugins-bad, gstreamer1.0-nice)")
            self.pipe = gst.gst_pipeline_new(b"whep")
            gst.gst_bin_add(self.pipe, w)
        if local_ip:
            # libnice gathers no loopback address while the host has another one, and pairs
            # none of those with a server on 127.0.0.0/8: name the address to use instead.
            ice = P()
            gobject.g_object_get(P(w), ctypes.c_char_p(b"ice-agent"), ctypes.byref(ice), P(None))
            ok = ctypes.c_int(0)
            gobject.g_signal_emit_by_name(ice, ctypes.c_char_p(b"add-local-ip-address"),
                                          ctypes.c_char_p(local_ip.encode()), ctypes.byref(ok))
            if not ok.value:
                return fail("webrtcbin's ICE agent refused local address %s" % local_ip)
        cb = PAD_ADDED(self._on_pad)
        self._keep.append(cb)
        gobject.g_signal_connect_data(w, b"pad-added", ctypes.cast(cb, P), None, None, 0)
        # packetization-mode=1 and a profile, as browsers offer; webrtcbin writes them as a=fmtp.
        for caps in () if publish else (b"application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=96,"
                     b"packetization-mode=(string)1,profile-level-id=(string)42e01f,"
                     b"level-asymmetry-allowed=(string)1",
                     b"application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,payload=111,"
                     b"encoding-params=(string)2"):
            tr = P()
            gobject.g_signal_emit_by_name(P(w), ctypes.c_char_p(b"add-transceiver"),
                                          ctypes.c_int(RECVONLY), P(gst.gst_caps_from_string(caps)),
                                          ctypes.byref(tr))
            if not tr:
                return fail("webrtcbin refused a transceiver")
            # Ask for lost packets again (RFC 4585 generic NACK): off by default in webrtcbin.
            gobject.g_object_set(tr, ctypes.c_char_p(b"do-nack"), ctypes.c_int(1), P(None))
        gst.gst_element_set_state(self.pipe, GST_STATE_PLAYING)
        if publish:
            time.sleep(1)  # the encoders' first buffers give webrtcbin the caps it offers

        promise = gst.gst_promise_new()
        gobject.g_signal_emit_by_name(P(w), ctypes.c_char_p(b"create-offer"), P(None), P(promise))
        if gst.gst_promise_wait(promise) != PROMISE_REPLIED:
            return fail("webrtcbin made no offer")
        offer = gobject.g_value_get_boxed(gst.gst_structure_get_value(gst.gst_promise_get_reply(promise), b"offer"))
        gobject.g_signal_emit_by_name(P(w), ctypes.c_char_p(b"set-local-description"), P(offer), P(None))
        deadline = time.monotonic() + 10
        while get_int(w, "ice-gathering-state") != GATHERING_COMPLETE:
            if time.monotonic() > deadline:
                return fail("ICE gathering did not complete in 10 s")
            time.sleep(0.05)
        local = P()
        gobject.g_object_get(P(w), ctypes.c_char_p(b"local-description"), ctypes.byref(local), P(None))
        sd = ctypes.cast(local, ctypes.POINTER(SessionDescription)).contents
        offer_text = take_string(gstsdp.gst_sdp_message_as_text(sd.sdp))

        req = urllib.request.Request(url, data=offer_text.encode(), method="POST",
                                     headers={"Content-Type": "application/sdp"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, answer = r.status, r.read().decode()
                location = r.headers.get("Location")
        except urllib.error.HTTPError as e:
            return fail("WHEP POST answered %d: %s" % (e.code, e.read()[:200].decode(errors="replace")))
        except OSError as e:
            return fail("WHEP POST failed: %s" % e)
        if status != 201:
            return fail("WHEP POST answered %d, not 201" % status)
        msg = P()
        if gstsdp.gst_sdp_message_new_from_text(answer.encode(), ctypes.byref(msg)) != 0:
            return fail("the answer is not SDP GStreamer can read")
        desc = gstwebrtc.gst_webrtc_session_description_new(SDP_ANSWER, msg)
        promise = gst.gst_promise_new()
        gobject.g_signal_emit_by_name(P(w), ctypes.c_char_p(b"set-remote-description"), P(desc), P(promise))
        gst.gst_promise_wait(promise)
        reply = gst.gst_promise_get_reply(promise)
        if reply and gst.gst_structure_has_field(reply, b"error"):
            gerr = gobject.g_value_get_boxed(gst.gst_structure_get_value(reply, b"error"))
            text = ctypes.cast(gerr, ctypes.POINTER(GError)).contents.message if gerr else b"?"
            return fail("webrtcbin refused the answer: %s" % text.decode(errors="replace"))

        start = time.monotonic()
        for i in range(1, int(seconds) + 1):
            time.sleep(max(0.0, start + i - time.monotonic()))
            self.bus_errors()
            with self.lock:
                v, a = self.video_frames, self.audio_buffers
            ice, pc = get_int(w, "ice-connection-state"), get_int(w, "connection-state")
            print(json.dumps({"t": i, "video_frames": v, "audio_buffers": a,
                              "ice": ICE_STATES[ice] if 0 <= ice < len(ICE_STATES) else ice,
                              "pc": PC_STATES[pc] if 0 <= pc < len(PC_STATES) else pc}), flush=True)
        resource = urllib.parse.urljoin(url, location) if location else None
        if resource:
            try:
                urllib.request.urlopen(urllib.request.Request(resource, method="DELETE"), timeout=5).close()
            except (urllib.error.HTTPError, OSError) as e:
                self.errors.append("DELETE %s: %s" % (resource, e))
        gst.gst_element_set_state(self.pipe, 0)
        with self.lock:
            print(json.dumps({"done": True, "video_frames": self.video_frames,
                              "audio_buffers": self.audio_buffers, "resource": resource,
                              "answer": answer, "errors": self.errors}), flush=True)
        return 0


def fail(why):
    print(json.dumps({"failure": why}), flush=True)
    return 1


def main():
    args = sys.argv[1:]
    local_ip = None
    if len(args) >= 2 and args[0] == "--local-ip":
        local_ip, args = args[1], args[2:]
    publish = bool(args) and args[0] == "--publish"
    if publish:
        args = args[1:]
    if len(args) != 2:
        print("usage: whep_gst.py [--local-ip ADDR] [--publish] URL SECONDS", file=sys.stderr)
        return 2
    return Client().run(args[0], float(args[1]), local_ip, publish)


if __name__ == "__main__":
    sys.exit(main())
