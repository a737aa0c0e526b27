# SPDX-License-Identifier: Apache-2.0
"""The real-player benchmark's own instruments (bench/run.sh players) count what happened.

bench/srvstat.py reads the server's side of each TCP connection (segments, bytes), and
build/bench/sluice-floor is the floor docs/benchmarks.md holds sluice against. Checked here
at small N against what the clients received and what the floor says it sent; nothing here
asserts on speed. The one behaviour of sluice checked is the one the benchmark chose: the
default (30 ms write merge) sends a viewer far fewer segments than --viewer-write-merge 0.
"""
import json
import os
import subprocess
import time

from harness import SLUICE, Node, check, fixture, new_addr, play_rtmpdump, publish

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SRVSTAT = os.path.join(ROOT, "bench", "srvstat.py")
FLOOR = os.path.join(os.path.dirname(os.path.abspath(SLUICE)), "bench", "sluice-floor")
WINDOW = 3


def srvstat(pid, addr, port, delay=0.0):
    out = subprocess.run(["python3", SRVSTAT, "--pid", str(pid), "--addr", addr,
                          "--port", str(port), "--delay", str(delay),
                          "--duration", str(WINDOW)],
                         capture_output=True, text=True, timeout=WINDOW + delay + 30)
    check(out.returncode == 0, "srvstat.py failed: %s" % out.stderr[-500:])
    return json.loads(out.stdout)


def media_mbit(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_format", path],
                         capture_output=True, text=True, timeout=60)
    check(out.returncode == 0, "ffprobe %s: %s" % (path, out.stderr[-300:]))
    return float(json.loads(out.stdout)["format"]["bit_rate"]) / 1e6


def test_default_merge_sends_fewer_segments_than_zero_delay(t):
    media = fixture()
    rate = media_mbit(media)
    nodes = {"default": Node(t.procs, name="default"),
             "zero": Node(t.procs, args=["--viewer-write-merge", "0"], name="zero")}
    for key, node in nodes.items():
        url = node.rtmp("live", "players")
        publish(t.procs, url, media, name="publisher-" + key)
        node.wait_live("live", "players")
        for i in range(2):
            play_rtmpdump(t.procs, url, t.path("%s-%d.flv" % (key, i)),
                          name="rtmpdump-%s-%d" % (key, i))
    time.sleep(1.5)  # both players of both nodes are playing
    stats = {}
    for key, node in nodes.items():
        s = srvstat(node.proc.pid, node.addr, node.rtmp_port)
        stats[key] = s
        # The two players, nothing else: the publisher's socket carries only acknowledgements.
        check(s["viewers_counted"] == 2, "%s: %d viewers counted: %s" % (
            key, s["viewers_counted"], s))
        # What left the server's sockets is the stream's rate, as the players received it.
        check(0.6 * rate < s["mbit_per_viewer"] < 1.6 * rate,
              "%s: %.3f Mbit/s per viewer, the media is %.3f" % (key, s["mbit_per_viewer"], rate))
        check(s["cpu_pct_of_core"] >= 0 and s["tcp"]["data_segs_out"] > 0, "%s: %s" % (key, s))
    for key in nodes:
        for i in range(2):
            size = os.path.getsize(t.path("%s-%d.flv" % (key, i)))
            check(size > WINDOW * rate * 1e6 / 8 * 0.5,
                  "%s viewer %d saved only %d bytes" % (key, i, size))
    zero, merged = stats["zero"]["segs_per_viewer_per_s"], stats["default"]["segs_per_viewer_per_s"]
    # Zero delay: one segment per write, a write per message or two (25 pictures and 43 AAC
    # frames a second here). The 30 ms window puts a picture and its neighbours in one.
    check(zero > 1.4 * merged, "segments per viewer per second: zero delay %.1f, default %.1f"
          % (zero, merged))
    check(merged < 40, "default: %.1f segments per viewer per second" % merged)


def test_floor_sends_each_write_whole_to_every_reader(t):
    check(os.access(FLOOR, os.X_OK), "%s is not built (ninja -C build)" % FLOOR)
    media = fixture()
    rate = media_mbit(media)
    addr, port, readers = new_addr(), 19400, 3
    for merge in (0, 30):
        total = WINDOW + 2.5
        send = t.procs.start([FLOOR, "send", "--bind", addr, "--port", str(port),
                              "--viewers", str(readers), "--file", media,
                              "--merge-ms", str(merge), "--duration", str(total)],
                             "floor-send-%d" % merge,
                             stdout=open(t.path("send-%d.json" % merge), "wb"))
        time.sleep(0.3)
        recv = t.procs.start([FLOOR, "recv", "--addr", addr, "--port", str(port),
                              "--viewers", str(readers), "--duration", str(total)],
                             "floor-recv-%d" % merge,
                             stdout=open(t.path("recv-%d.json" % merge), "wb"))
        s = srvstat(send.pid, addr, port, delay=1.0)
        check(send.wait(timeout=total + 30) == 0, "sluice-floor send failed")
        check(recv.wait(timeout=30) == 0, "sluice-floor recv: a reader failed")
        with open(t.path("send-%d.json" % merge)) as f:
            sent = json.load(f)
        check(sent["viewers"] == readers and sent["sends"] == sent["writes"] * readers,
              "merge %d: %s" % (merge, sent))
        check(sent["short_sends"] == 0, "merge %d: readers fell behind: %s" % (merge, sent))
        check(s["viewers_counted"] == readers, "merge %d: %s" % (merge, s))
        check(0.6 * rate < s["mbit_per_viewer"] < 1.6 * rate,
              "merge %d: %.3f Mbit/s per reader, the media is %.3f"
              % (merge, s["mbit_per_viewer"], rate))
        # With TCP_NODELAY every write leaves as at least one segment of its own.
        check(s["segs_per_viewer_per_s"] >= 0.8 * sent["writes_per_s"],
              "merge %d: %.1f segments per reader per s for %.1f writes per s"
              % (merge, s["segs_per_viewer_per_s"], sent["writes_per_s"]))
        if merge == 0:
            zero_writes = sent["writes_per_s"]
        else:
            check(sent["writes_per_s"] < 0.7 * zero_writes,
                  "30 ms merge: %.1f writes per s, zero delay %.1f"
                  % (sent["writes_per_s"], zero_writes))
        port += 1
