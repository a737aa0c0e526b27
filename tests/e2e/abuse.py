# SPDX-License-Identifier: Apache-2.0
"""abuse.py - what the abuse tests (test_abuse_*.py) share: a node with a healthy stream
running through every case, and the three checks made after each case: the node still
serves a real viewer, its memory is back under a bound, and its log says why it dropped
the peer.
"""
import re
import socket
import time

from harness import SANITIZED, Node, check, check_media, play_ffmpeg, publish, wait_for

# After a case the node's RSS must come back under (RSS with the healthy stream live) plus
# this. ASan keeps freed memory in quarantine (256 MB by default), so its bound is looser.
RSS_SLACK = (320 if SANITIZED else 48) << 20


class Abused:
    """A node under attack, with a healthy publisher on live/healthy throughout."""

    def __init__(self, t, args=()):
        self.t = t
        self.node = Node(t.procs, args=list(args))
        self.publisher = publish(t.procs, self.node.rtmp("live", "healthy"), name="healthy-pub")
        self.node.wait_live("live", "healthy")
        time.sleep(0.5)
        self.rss_base = self.node.rss()
        self.mark = len(self.node.log())
        self.views = 0

    @property
    def addr(self):
        return self.node.addr

    def log_since_mark(self):
        return self.node.log()[self.mark:]

    def expect_log(self, pattern, what, timeout=5, count=1):
        """Waits until the log since the case began has count lines matching pattern."""
        rx = re.compile(pattern)

        def found():
            return len([ln for ln in self.log_since_mark().splitlines() if rx.search(ln)]) >= count
        wait_for(found, timeout, "the node to log %s (/%s/ x%d)" % (what, pattern, count))

    def after_case(self, what, proto="flv", seconds=3):
        """The checks after each case: healthy viewer, RSS bound, node alive."""
        check(self.node.proc.poll() is None, "%s: node died:\n%s" % (what, self.node.log()[-3000:]))
        self.views += 1
        url = self.node.flv("live", "healthy") if proto == "flv" else \
            self.node.rtmp("live", "healthy")
        out = self.t.path("view%02d.flv" % self.views)
        v = play_ffmpeg(self.t.procs, url, out, seconds, name="viewer%02d" % self.views)
        try:
            v.wait(timeout=seconds + 15)
        except Exception:
            v.kill()
            raise
        check_media(out, seconds - 1.2, "%s: viewer after the case" % what)
        bound = self.rss_base + RSS_SLACK
        wait_for(lambda: self.node.rss() < bound, 10,
                 "%s: RSS back under %d MB (now %d MB)" % (what, bound >> 20, self.node.rss() >> 20))
        self.mark = len(self.node.log())


def connect_many(addr, port, n, source=None, timeout=5, tries=3):
    """Opens n TCP connections; returns the sockets.

    A connect that times out (a full accept queue drops SYNs while the node is busy) is
    tried again, up to `tries` times; at any other OS error it stops early.  The last
    error is kept in connect_many.last_error for the test's message."""
    socks = []
    connect_many.last_error = None
    for _ in range(n):
        for attempt in range(tries):
            try:
                s = socket.create_connection((addr, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
                break
            except socket.timeout as e:
                connect_many.last_error = "connect %s:%d: %s (try %d)" % (addr, port, e,
                                                                        attempt + 1)
            except OSError as e:
                connect_many.last_error = "connect %s:%d: %s" % (addr, port, e)
                return socks
        else:
            return socks
        socks.append(s)
    return socks


def is_closed(s, timeout=0.0):
    """True if the peer has closed s (EOF or reset) within timeout seconds."""
    s.settimeout(timeout if timeout > 0 else 0.001)
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return True
    except socket.timeout:
        return False
    except BlockingIOError:
        return False
    except OSError:
        return True


def read_until_closed(s, seconds):
    """Everything s sends until the peer closes it, an error, or seconds pass."""
    got = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            d = s.recv(1 << 20)
        except OSError:
            break
        if not d:
            break
        got += d
    return got


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass
