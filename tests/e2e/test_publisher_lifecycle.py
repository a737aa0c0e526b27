# SPDX-License-Identifier: Apache-2.0
"""A publisher's life: refused twice, killed mid-stream, replaced at once."""
import signal
import time

from harness import (Node, check, check_media, log_text, play_ffmpeg, publish, wait_for)


def test_second_publisher_is_refused(t):
    node = Node(t.procs)
    publish(t.procs, node.rtmp("live", "dup"), name="first")
    node.wait_live("live", "dup")
    second = publish(t.procs, node.rtmp("live", "dup"), name="second")
    rc = second.wait(timeout=20)
    check(rc != 0, "a second publisher on a live key must fail, ffmpeg exited 0")
    check("already being published" in log_text(second),
          "ffmpeg should show the server's reason:\n" + log_text(second)[-800:])
    check("publish_refused" in node.log(), "the node should log the refusal")
    # The first publisher is untouched.
    s = node.stream("live", "dup")
    check(s is not None and s["publisher"]["client_id"] > 0, "first publisher lost")


def test_killed_publisher_ends_viewers_cleanly_and_key_is_free(t):
    """kill -9 of the publisher: its viewers see a clean end (ffmpeg exits 0 with a file that
    decodes), another stream on the node is unaffected, and the key can be published again
    at once."""
    node = Node(t.procs)
    doomed = publish(t.procs, node.rtmp("live", "doomed"), name="doomed-publisher")
    publish(t.procs, node.rtmp("live", "other"), name="other-publisher")
    node.wait_live("live", "doomed")
    node.wait_live("live", "other")

    rtmp_viewer = play_ffmpeg(t.procs, node.rtmp("live", "doomed"), t.path("doomed-rtmp.flv"),
                              120, name="viewer-rtmp")
    flv_viewer = play_ffmpeg(t.procs, node.flv("live", "doomed"), t.path("doomed-http.flv"),
                             120, name="viewer-flv")
    other_viewer = play_ffmpeg(t.procs, node.rtmp("live", "other"), t.path("other.flv"), 12,
                               name="viewer-other")
    wait_for(lambda: node.stream("live", "doomed")["viewers"]["total"] == 2, 15, "2 viewers")
    time.sleep(4)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()

    # The stream ends for its viewers: both exit on their own, successfully.
    for label, p in (("RTMP viewer", rtmp_viewer), ("HTTP-FLV viewer", flv_viewer)):
        try:
            rc = p.wait(timeout=15)
        except Exception:
            raise AssertionError("%s did not see the stream end" % label)
        check(rc == 0, "%s exited with %d:\n%s" % (label, rc, log_text(p)[-500:]))
    check_media(t.path("doomed-rtmp.flv"), 2, "RTMP viewer of the killed stream")
    check_media(t.path("doomed-http.flv"), 2, "HTTP-FLV viewer of the killed stream")
    check(node.stream("live", "doomed") is None, "the killed stream is still listed")

    # The same key is free at once.
    publish(t.procs, node.rtmp("live", "doomed"), name="new-publisher")
    node.wait_live("live", "doomed", timeout=10)

    # The other stream's viewer never noticed.
    check(other_viewer.wait(timeout=30) == 0, "viewer of the other stream failed")
    check_media(t.path("other.flv"), 10, "viewer of the other stream")


def test_silent_publisher_is_dropped(t):
    """A publisher that stops sending (frozen, socket still open) is dropped after the
    publish timeout and the key becomes free."""
    node = Node(t.procs, args=["--publish-timeout", "2s"])
    pub = publish(t.procs, node.rtmp("live", "frozen"), name="frozen-publisher")
    node.wait_live("live", "frozen")
    pub.send_signal(signal.SIGSTOP)
    wait_for(lambda: node.stream("live", "frozen") is None, 10, "the silent publisher to be dropped")
    check("publisher sent no media" in node.log(), "the node should say why it dropped it")
    publish(t.procs, node.rtmp("live", "frozen"), name="replacement")
    node.wait_live("live", "frozen", timeout=10)
