# SPDX-License-Identifier: Apache-2.0
"""Signed publish and play tokens: missing, wrong and expired ones are refused."""
import subprocess
import time

from harness import (SLUICE, Node, check, check_media, log_text, play_ffmpeg, publish)


def mint(secret, action, stream, ttl="1h"):
    r = subprocess.run([SLUICE, "token", "--secret", secret, "--action", action, "--app", "live",
                        "--stream", stream, "--ttl", ttl], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 0, "sluice token failed: %s" % r.stderr)
    return r.stdout.strip()


def test_publish_and_play_need_valid_tokens(t):
    node = Node(t.procs, args=["--publish-secret", "pub-s3cret", "--play-secret", "play-s3cret"])
    good_pub = mint("pub-s3cret", "publish", "cam")

    for label, url in (("no token", node.rtmp("live", "cam")),
                       ("wrong token", node.rtmp("live", "cam") + "?token=" +
                        mint("not-the-secret", "publish", "cam")),
                       ("play token used to publish", node.rtmp("live", "cam") + "?token=" +
                        mint("play-s3cret", "play", "cam"))):
        p = publish(t.procs, url, name="publisher-" + label.replace(" ", "-"), loop=False)
        check(p.wait(timeout=20) != 0, "publishing with %s must fail" % label)
        check(node.stream("live", "cam") is None, "publishing with %s went live" % label)

    publish(t.procs, node.rtmp("live", "cam") + "?token=" + good_pub, name="publisher")
    node.wait_live("live", "cam")

    expired = mint("play-s3cret", "play", "cam", ttl="1s")
    time.sleep(2.1)
    bad_plays = {
        "no token": "",
        "wrong secret": "?token=" + mint("pub-s3cret", "play", "cam"),
        "other stream": "?token=" + mint("play-s3cret", "play", "other"),
        "expired": "?token=" + expired,
    }
    for label, q in bad_plays.items():
        p = play_ffmpeg(t.procs, node.rtmp("live", "cam") + q, t.path("x.flv"), 2,
                        name="rtmp-" + label.replace(" ", "-"))
        check(p.wait(timeout=20) != 0, "RTMP play with %s must fail" % label)
        status, _, _ = node.http("/live/cam.flv" + q)
        check(status == 403, "HTTP-FLV play with %s answered %d, not 403" % (label, status))

    good_play = mint("play-s3cret", "play", "cam")
    p = play_ffmpeg(t.procs, node.rtmp("live", "cam") + "?token=" + good_play, t.path("ok.flv"),
                    4, name="rtmp-good")
    check(p.wait(timeout=30) == 0, "RTMP play with a good token failed:\n" + log_text(p)[-500:])
    check_media(t.path("ok.flv"), 2, "viewer with a token")
    p = play_ffmpeg(t.procs, node.flv("live", "cam") + "?token=" + good_play, t.path("ok2.flv"),
                    4, name="flv-good")
    check(p.wait(timeout=30) == 0, "HTTP-FLV play with a good token failed")
    check_media(t.path("ok2.flv"), 2, "HTTP-FLV viewer with a token")

    log = node.log()
    check("access_denied" in log and "reason=expired" in log and "reason=bad_signature" in log,
          "refusals should be logged with their reason")
    check(good_play.split(".")[1] not in log and good_pub.split(".")[1] not in log,
          "tokens must never appear in the log")
