# SPDX-License-Identifier: Apache-2.0
"""Volume against a live node: 5,000 idle connections and the connection limit, the per-address
limits (max-connections-per-ip, conn-rate-per-ip) with their metrics and throttled log, and a
publisher pushing ~50 Mbit/s. After each case a real viewer still plays the healthy stream,
the node's memory is back under a bound, and its log says why it dropped the peer."""
import os
import re
import resource
import struct
import time

import harness
from abuse import Abused, close_all, connect_many, is_closed
from harness import check, fixture, flv_tags, tag_kind, wait_for
from rtmp_raw import TYPE_DATA_AMF0, TYPE_VIDEO, RawRtmp, amf_all, Obj

IDLE = 5000


def raise_fd_limit(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < want:
        try:  # root (CAP_SYS_RESOURCE) may raise the hard limit too
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        except (ValueError, OSError):
            pass
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    check(soft >= want, "need %d open files, ulimit -n allows %d" % (want, soft))


def source_addr(n):
    """A loopback source address of this file's block that no harness client uses."""
    return "127.%d.0.%d" % (harness.ADDR_BLOCK, 200 + n)


def metric(node, name):
    # Right after a test closes the connections it held at max-connections, the node may not
    # have seen those closes yet and refuses this one too (as it should): ask again shortly.
    for attempt in range(25):
        try:
            _, _, body = node.http("/metrics")
            break
        except OSError:
            if attempt == 24:
                raise
            time.sleep(0.2)
    m = re.search(r"^%s (\d+)$" % re.escape(name), body.decode(), re.M)
    return int(m.group(1)) if m else None


# How long the node lets a silent connection live here: all 5,000 must be open at once, so
# this leaves room for a slow machine to open them.
HOLD_S = 20


def test_five_thousand_idle_connections(t):
    raise_fd_limit(IDLE + 1000)
    limit = IDLE + 100
    node = Abused(t, ["--max-connections", str(limit), "--max-connections-per-ip", str(limit),
                      "--conn-rate-per-ip", "0", "--handshake-timeout", "%ds" % HOLD_S,
                      "--idle-timeout", "%ds" % HOLD_S])
    n = node.node
    # 4,000 RTMP and 1,000 HTTP connections that never send a byte, from two source addresses.
    start = time.monotonic()
    rtmp = connect_many(n.addr, n.rtmp_port, 4000, source=source_addr(0))
    http = connect_many(n.addr, n.http_port, 1000, source=source_addr(1))
    check(len(rtmp) == 4000 and len(http) == 1000, "opened %d + %d of 4000 + 1000: %s" % (
        len(rtmp), len(http), connect_many.last_error))
    wait_for(lambda: n.api("/api/v1/node")["connections"] >= IDLE, 10, "5,000 connections")
    opened = time.monotonic() - start
    rss_idle = n.rss()
    check(rss_idle < node.rss_base + (64 << 20) * (4 if harness.SANITIZED else 1),
          "5,000 idle connections cost %d MB" % ((rss_idle - node.rss_base) >> 20))
    node.after_case("5,000 idle connections", proto="rtmp")

    # At the connection limit, more are refused at accept, counted, and logged (throttled).
    refused_before = metric(n, "sluice_connections_refused_total")
    extra = connect_many(n.addr, n.rtmp_port, 300, source=source_addr(2))
    wait_for(lambda: sum(1 for s in extra if is_closed(s)) >= 300 - (limit - IDLE), 10,
             "connections over max-connections to be closed")
    node.expect_log(r"connection_refused protocol=rtmp .*reason=\"connection limit\" limit=%d"
                    % limit, "the connection limit")
    close_all(extra)
    refused = metric(n, "sluice_connections_refused_total") - refused_before
    check(refused >= 300 - (limit - IDLE), "refused_total grew by %d" % refused)
    lines = len(re.findall(r"connection_refused", node.log_since_mark()))
    check(lines <= 30, "%d refusals made %d log lines (throttled to 10/s)" % (refused, lines))

    # The idle ones are dropped by the handshake and idle timeouts, and memory comes back.
    left = HOLD_S - (time.monotonic() - start)
    wait_for(lambda: n.api("/api/v1/node")["connections"] < 10, left + 15,
             "idle connections to time out (opened in %.1fs)" % opened)
    node.expect_log(r"rtmp_timeout .*reason=\"handshake not completed in time\"",
                    "the handshake timeout", count=4000)
    check(all(is_closed(s) for s in http[:50]), "idle HTTP connections left open")
    close_all(rtmp + http)
    node.after_case("after 5,000 idle connections")


def test_per_ip_concurrent_limit(t):
    node = Abused(t, ["--max-connections-per-ip", "50", "--handshake-timeout", "20s"])
    n = node.node
    a, b = source_addr(0), source_addr(1)
    socks = connect_many(n.addr, n.rtmp_port, 80, source=a)
    time.sleep(0.5)
    closed = [s for s in socks if is_closed(s)]
    check(len(closed) == 30, "address at max-connections-per-ip 50: %d of 80 closed" % len(closed))
    node.expect_log(r"connection_refused protocol=rtmp peer=%s:\d+ reason=\"per-ip connection "
                    r"limit\" limit=50" % re.escape(a), "the per-address limit")
    check(metric(n, 'sluice_connections_refused_per_ip_total{limit="concurrent"}') == 30,
          "the per-address refusals are counted in /metrics")
    # Another address is not affected, over RTMP or HTTP; the first gets slots back as it
    # closes connections.
    others = connect_many(n.addr, n.http_port, 50, source=b)
    time.sleep(0.3)
    check(not any(is_closed(s) for s in others), "another address was refused")
    close_all(others)
    close_all(socks[:10])
    time.sleep(0.3)
    again = connect_many(n.addr, n.http_port, 10, source=a)
    time.sleep(0.3)
    check(not any(is_closed(s) for s in again), "slots were not given back on close")
    close_all(socks + again)
    node.after_case("per-address connection limit")


def test_per_ip_rate_limit(t):
    node = Abused(t, ["--conn-rate-per-ip", "20", "--conn-burst-per-ip", "30",
                      "--handshake-timeout", "20s"])
    n = node.node
    a = source_addr(0)
    began = time.monotonic()
    socks = connect_many(n.addr, n.rtmp_port, 120, source=a)
    took = time.monotonic() - began
    time.sleep(0.5)
    ok = [s for s in socks if not is_closed(s)]
    # 30 at once, then 20 a second for as long as connecting took (and the node's accepts lag).
    most = 30 + int(20 * (took + 0.2)) + 1
    check(30 <= len(ok) <= most, "%d of 120 connections in %.2fs accepted (burst 30, 20/s)" % (
        len(ok), took))
    node.expect_log(r"connection_refused protocol=rtmp peer=%s:\d+ reason=\"per-ip connection "
                    r"rate\" limit=20/s burst=30" % re.escape(a), "the per-address rate")
    lines = re.findall(r"connection_refused.*", node.log_since_mark())
    check(len(lines) <= 20, "%d refusals logged in %d lines (throttled to 10/s)" % (
        120 - len(ok), len(lines)))
    counted = metric(n, 'sluice_connections_refused_per_ip_total{limit="rate"}')
    check(counted == 120 - len(ok), "metrics count %s rate refusals, %d seen" % (
        counted, 120 - len(ok)))
    # A second later the bucket has refilled, and the first line of the new second says how
    # many lines the throttle held back.
    time.sleep(1.2)
    more = connect_many(n.addr, n.rtmp_port, 40, source=a)
    time.sleep(0.3)
    check(sum(1 for s in more if not is_closed(s)) >= 20, "the bucket did not refill")
    node.expect_log(r"connection_refused .*suppressed=[1-9]", "how many lines were held back")
    # Other addresses (the harness's own clients among them) are not slowed.
    others = connect_many(n.addr, n.http_port, 30, source=source_addr(1))
    time.sleep(0.3)
    check(not any(is_closed(s) for s in others), "another address was refused")
    close_all(socks + more + others)
    node.after_case("per-address connection rate")


def test_fifty_megabit_publisher(t):
    node = Abused(t, ["--stream-buffer-max", "32m"])
    n = node.node
    header = next(x for x in flv_tags(fixture()) if tag_kind(x) == "video-header")[2]
    c = RawRtmp(n.addr, n.rtmp_port, timeout=10)
    c.handshake()
    c.set_chunk_size(1 << 16)
    c.connect("live")
    sid = c.create_stream()
    c.publish(sid, "flood")
    c.send_msg(TYPE_DATA_AMF0, amf_all("@setDataFrame", "onMetaData",
                                       Obj(width=320, height=240, framerate=30)), msid=sid)
    c.send_msg(TYPE_VIDEO, header, msid=sid)
    # A reader of the flood: raw bytes only, to see the node fan it out at full rate.
    v = RawRtmp(n.addr, n.rtmp_port, timeout=10)
    v.handshake()
    v.connect("live")
    vsid = v.create_stream()
    frame = 200 * 1024                      # 30 frames a second: ~49 Mbit/s
    payload = os.urandom(frame)
    start = time.monotonic()
    seconds = 8
    i = 0
    received = 0
    v.play(vsid, "flood", wait=False)
    v.sock.setblocking(False)
    while time.monotonic() - start < seconds:
        due = start + i / 30.0
        while time.monotonic() < due:
            try:
                received += len(v.sock.recv(1 << 20))
            except BlockingIOError:
                time.sleep(0.002)
        key = i % 60 == 0
        body = (b"\x17\x01" if key else b"\x27\x01") + b"\x00\x00\x00" + \
            struct.pack(">I", frame - 9) + payload[:frame - 9]
        c.send_msg(TYPE_VIDEO, body, msid=sid, ts=int(i * 1000 / 30))
        i += 1
        if i == 150:
            s = n.stream("live", "flood")
            check(s["bitrate_bps"] > 30e6, "the node measured %d bit/s" % s["bitrate_bps"])
            check(s["buffer_bytes"] <= 32 << 20, "stream buffer %d bytes" % s["buffer_bytes"])
    elapsed = time.monotonic() - start
    sent_mbit = i * frame * 8 / elapsed / 1e6
    check(sent_mbit > 40, "the test only pushed %.1f Mbit/s" % sent_mbit)
    got_mbit = received * 8 / elapsed / 1e6
    check(got_mbit > sent_mbit * 0.6, "the flood's viewer got %.1f of %.1f Mbit/s" % (
        got_mbit, sent_mbit))
    rss_peak = n.rss()
    check(rss_peak < node.rss_base + (160 << 20) * (3 if harness.SANITIZED else 1),
          "RSS %d MB while flooded" % (rss_peak >> 20))
    v.close()
    c.close()
    node.expect_log(r"rtmp_close .*reason=\"peer closed\" bytes_in=[1-9]\d{7,}",
                    "the flood publisher's end")
    wait_for(lambda: n.stream("live", "flood") is None, 5, "the flood stream to end")
    node.after_case("50 Mbit/s publisher")
