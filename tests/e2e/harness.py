# SPDX-License-Identifier: Apache-2.0
"""harness.py - what the end-to-end tests share: starting sluice nodes on their own
127.0.0.N addresses, making test media once, and driving real clients (ffmpeg,
ffprobe, rtmpdump, GStreamer) against them.

Every process a test starts is registered with its Procs and stopped by PID when the
test ends, pass or fail. Nothing here waits without a deadline.
"""
import fcntl
import hashlib
import json
import os
import signal
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request

SLUICE = os.environ.get("SLUICE_BIN", "build/sluice")
WORK = os.environ.get("SLUICE_TEST_WORK", "/tmp/sluice-e2e")
SANITIZED = os.environ.get("SLUICE_SANITIZED") == "1"
# Each test file gets its own 127.X.0.0/16 block (the runner sets X), so files run in parallel.
ADDR_BLOCK = int(os.environ.get("SLUICE_ADDR_BLOCK", "10"))
_next_host = [2]

os.makedirs(WORK, exist_ok=True)


class TestFailure(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def shared_machine_bin(dirpath):
    """A sluice for nodes a MOCK cloud starts on this one machine: on a real cloud each node
    has its own machine, so its cpu-limit (75 %) is right; here they all share the test
    machine's CPU, as the local controller's nodes do, so the wrapper turns that limit off."""
    path = os.path.join(dirpath, "sluice-shared-machine")
    with open(path, "w") as f:
        f.write('#!/bin/sh\nexec "%s" "$@" --cpu-limit 100\n' % os.path.abspath(SLUICE))
    os.chmod(path, 0o755)
    return path


def new_addr():
    """A fresh loopback address for one node (127.X.0.N)."""
    n = _next_host[0]
    _next_host[0] += 1
    return "127.%d.0.%d" % (ADDR_BLOCK, n)


def wait_for(cond, timeout, what, interval=0.1):
    """Polls cond() until it returns a truthy value; fails with `what` after timeout seconds."""
    deadline = time.monotonic() + timeout
    last_err = None
    while time.monotonic() < deadline:
        try:
            v = cond()
            if v:
                return v
        except Exception as e:  # the condition may fail until the thing is up
            last_err = e
        time.sleep(interval)
    raise TestFailure("timed out after %.1fs waiting for %s%s" % (
        timeout, what, (" (last error: %s)" % last_err) if last_err else ""))


def port_open(addr, port):
    try:
        with socket.create_connection((addr, port), timeout=0.5):
            return True
    except OSError:
        return False


class Procs:
    """Owns every process a test starts; stop_all() ends them by PID."""

    def __init__(self, tmpdir):
        self.tmpdir = tmpdir
        self.procs = []

    def start(self, args, name, stdout=None, **kw):
        log = open(os.path.join(self.tmpdir, name + ".log"), "wb")
        p = subprocess.Popen(args, stdout=stdout if stdout is not None else log, stderr=log,
                             stdin=subprocess.DEVNULL, **kw)
        p.log_path = log.name
        p.name = name
        log.close()
        self.procs.append(p)
        return p

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGCONT)
                    p.terminate()
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def log_text(p):
    with open(p.log_path, "rb") as f:
        return f.read().decode("utf-8", "replace")


class Node:
    """A `sluice node` process on its own address."""

    def __init__(self, procs, addr=None, args=(), config=None, name=None, rtmp_port=1935,
                 http_port=5080):
        self.procs = procs
        self.addr = addr or new_addr()
        self.rtmp_port = rtmp_port
        self.http_port = http_port
        self.name = name or "node-" + self.addr
        self.token = None  # sent as a Bearer token by http() when set
        # Test nodes share one busy machine: no CPU admission unless a test asks for it.
        cmd = [SLUICE, "node", "--bind", self.addr, "--rtmp-port", str(rtmp_port),
               "--http-port", str(http_port), "--name", self.name, "--cpu-limit", "100"]
        if config is not None:
            path = os.path.join(procs.tmpdir, self.name + ".conf")
            with open(path, "w") as f:
                f.write(config)
            cmd += ["--config", path]
        cmd += list(args)
        self.proc = procs.start(cmd, self.name)
        wait_for(lambda: self.proc.poll() is not None or
                 (port_open(self.addr, rtmp_port) and port_open(self.addr, http_port)),
                 15, "node %s to listen" % self.name)
        check(self.proc.poll() is None, "node exited at start:\n" + self.log())

    def rtmp(self, app="live", stream="test"):
        return "rtmp://%s:%d/%s/%s" % (self.addr, self.rtmp_port, app, stream)

    def flv(self, app="live", stream="test"):
        return "http://%s:%d/%s/%s.flv" % (self.addr, self.http_port, app, stream)

    def url(self, path):
        return "http://%s:%d%s" % (self.addr, self.http_port, path)

    def http(self, path, method="GET", headers=None, timeout=5, data=None):
        """Returns (status, headers, body bytes)."""
        headers = dict(headers or {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.url(path), method=method, headers=headers,
                                     data=data)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def api(self, path, **kw):
        status, _, body = self.http(path, **kw)
        check(status == 200, "GET %s answered %d: %s" % (path, status, body[:300]))
        return json.loads(body)

    def stream(self, app="live", name="test"):
        for s in self.api("/api/v1/streams")["streams"]:
            if s["app"] == app and s["name"] == name:
                return s
        return None

    def wait_live(self, app="live", name="test", timeout=20):
        return wait_for(lambda: (self.stream(app, name) or {}).get("video", {}).get("frames", 0) > 0,
                        timeout, "stream %s/%s to be live on %s" % (app, name, self.name))

    def log(self):
        return log_text(self.proc)

    def rss(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def stop(self, expect_status=0, timeout=10):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise TestFailure("node did not exit within %ds of SIGTERM" % timeout)
        check(rc == expect_status, "node exited with %d, expected %d:\n%s" % (
            rc, expect_status, self.log()[-3000:]))
        return rc


def fixture(duration=20, gop=2.0, fps=25, size="320x240", vbitrate="300k", bframes=2):
    """Test media, made once per set of parameters and shared by every test and run:
    H.264 (x264) + AAC in FLV, with a fixed GOP so tests can reason about keyframes."""
    key = "d%s-g%s-f%s-s%s-b%s-bf%s" % (duration, gop, fps, size, vbitrate, bframes)
    path = os.path.join(WORK, "fixture-%s.flv" % hashlib.sha1(key.encode()).hexdigest()[:10])
    lock = open(path + ".lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        if not os.path.exists(path):
            keyint = int(round(gop * fps))
            tmp = path + ".tmp.flv"
            subprocess.run([
                "ffmpeg", "-v", "error", "-y",
                "-f", "lavfi", "-i", "testsrc2=size=%s:rate=%d" % (size, fps),
                "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
                "-t", str(duration), "-map", "0:v", "-map", "1:a",
                "-c:v", "libx264", "-preset", "veryfast", "-b:v", vbitrate,
                "-bf", str(bframes), "-pix_fmt", "yuv420p",
                "-x264-params", "keyint=%d:min-keyint=%d:scenecut=0" % (keyint, keyint),
                "-c:a", "aac", "-b:a", "64k", "-ac", "2",
                "-f", "flv", tmp], check=True, timeout=300)
            os.rename(tmp, path)
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
    return path


def publish(procs, url, media=None, name="publisher", loop=True, extra=()):
    """ffmpeg pushing media at real time (looped, copying the encoded streams)."""
    media = media or fixture()
    args = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", "-re"]
    if loop:
        args += ["-stream_loop", "-1"]
    args += ["-i", media, "-c", "copy"] + list(extra) + ["-f", "flv", url]
    return procs.start(args, name)


def play_ffmpeg(procs, url, out, seconds, name="ffmpeg-viewer", extra_in=()):
    """ffmpeg playing url (RTMP or HTTP-FLV) and saving what it receives, unchanged."""
    args = ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning"] + list(extra_in) + \
           ["-i", url, "-t", str(seconds), "-c", "copy", "-f", "flv", "-y", out]
    return procs.start(args, name)


def play_rtmpdump(procs, url, out, name="rtmpdump-viewer"):
    return procs.start(["rtmpdump", "-q", "-v", "-r", url, "-o", out, "-m", "20"], name)


def play_gstreamer(procs, url, out, name="gst-viewer"):
    return procs.start(["gst-launch-1.0", "-q", "-e", "rtmp2src", "location=" + url,
                        "timeout=20", "!", "filesink", "location=" + out], name)


def stop_gently(p, sig=signal.SIGINT, timeout=10):
    """Asks a client to finish (SIGINT lets rtmpdump and gst-launch -e close their files)."""
    if p.poll() is None:
        p.send_signal(sig)
    try:
        return p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait()


def ffprobe(path, packets=True):
    args = ["ffprobe", "-v", "error", "-of", "json", "-show_streams"]
    if packets:
        args += ["-show_packets"]
    r = subprocess.run(args + [path], capture_output=True, timeout=60)
    check(r.returncode == 0, "ffprobe %s failed: %s" % (path, r.stderr.decode()[:500]))
    return json.loads(r.stdout)


def decode_errors(path):
    """Decodes every frame; returns what the decoders complained about."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", path, "-f", "null", "-"],
                       capture_output=True, timeout=120)
    return r.stderr.decode("utf-8", "replace").strip()


def check_media(path, min_seconds, what):
    """The checks a user would make of a recording: both tracks, clean decode, frames in order,
    at least min_seconds of media. Returns the ffprobe result."""
    check(os.path.exists(path) and os.path.getsize(path) > 0, "%s: nothing received" % what)
    info = ffprobe(path)
    kinds = {s["codec_type"]: s for s in info["streams"]}
    check("video" in kinds and kinds["video"]["codec_name"] == "h264",
          "%s: no H.264 video track (%s)" % (what, [s.get("codec_name") for s in info["streams"]]))
    check("audio" in kinds and kinds["audio"]["codec_name"] == "aac",
          "%s: no AAC audio track" % what)
    errs = decode_errors(path)
    check(errs == "", "%s: decoding reported errors:\n%s" % (what, errs[:1000]))
    for kind in ("video", "audio"):
        idx = kinds[kind]["index"]
        dts = [float(p["dts_time"]) for p in info["packets"]
               if p["stream_index"] == idx and p.get("dts_time") not in (None, "N/A")]
        check(len(dts) > 0, "%s: no %s packets" % (what, kind))
        back = [(a, b) for a, b in zip(dts, dts[1:]) if b < a]
        check(not back, "%s: %s timestamps go backwards at %s" % (what, kind, back[:3]))
        span = dts[-1] - dts[0]
        check(span >= min_seconds, "%s: only %.2fs of %s (wanted >= %.1fs)" % (
            what, span, kind, min_seconds))
    return info


def flv_tags(path, limit=None):
    """The tags of an FLV file as (type, timestamp_ms, body) - to check what came first."""
    tags = []
    with open(path, "rb") as f:
        data = f.read()
    check(data[:3] == b"FLV", "%s is not FLV" % path)
    off = struct.unpack(">I", data[5:9])[0] + 4
    while off + 11 <= len(data) and (limit is None or len(tags) < limit):
        ttype = data[off] & 0x1f
        size = struct.unpack(">I", b"\0" + data[off + 1:off + 4])[0]
        ts = struct.unpack(">I", b"\0" + data[off + 4:off + 7])[0] | (data[off + 7] << 24)
        body = data[off + 11:off + 11 + size]
        if len(body) < size:
            break
        tags.append((ttype, ts, body))
        off += 11 + size + 4
    return tags


def tag_kind(tag):
    """'metadata', 'video-header', 'audio-header', 'keyframe', 'video', 'audio' or 'data'."""
    ttype, _, body = tag
    if ttype == 18:
        return "metadata" if b"onMetaData" in body[:20] else "data"
    if ttype == 9:
        if len(body) > 1 and body[0] & 0x0f == 7 and body[1] == 0:
            return "video-header"
        return "keyframe" if body[0] >> 4 == 1 else "video"
    if ttype == 8:
        if len(body) > 1 and body[0] >> 4 == 10 and body[1] == 0:
            return "audio-header"
        return "audio"
    return "other"
