# SPDX-License-Identifier: Apache-2.0
"""Who may do what over HTTP, and what a peer can make the node hold or write: LL-HLS
blocking reloads held on a stream whose segment does not end, anonymous and cross-site
cluster events, /metrics without a token or naming stream keys, and a pipelined flood of
denied requests against the log (docs/security.md)."""
import http.server
import json
import re
import select
import socket
import subprocess
import threading
import time

from abuse import close_all, connect_many, read_until_closed
from cluster_util import SECRET, origin
from harness import SLUICE, Node, check, fixture, new_addr, publish, wait_for

HOLD_MAX_S = 6.0  # 3 x hls-segment (2 s), under HOLD_MAX_MS (8 s): src/node/hls_http.c
HELD_PER_ADDR = 200  # HELD_PER_ADDR_MAX


def metric(node, name, token=None):
    headers = {"Authorization": "Bearer " + token} if token else {}
    status, _, body = node.http("/metrics", headers=headers)
    check(status == 200, "/metrics answered %d" % status)
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    check(False, "/metrics has no %s" % name)


def newest_msn(node, path):
    """Waits for the first complete segment; returns the newest complete segment's MSN."""
    deadline = time.monotonic() + 25
    while time.monotonic() < deadline:
        status, _, body = node.http(path, timeout=12)
        if status == 200:
            text = body.decode()
            first = int(re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text).group(1))
            n = len(re.findall(r"#EXTINF:", text))
            if n:
                return first + n - 1, text
        time.sleep(0.3)
    check(False, "no complete HLS segment on %s" % path)


def test_blocking_reloads_bounded_and_released(t):
    """A publisher whose keyframes come 10 s apart makes 10 s segments (a hostile one makes
    them 369 s long). Blocking reloads for a part that will not exist for a long time: one is
    answered within 3 target durations; 230 from one address: 200 held, the rest 503 at
    once; all released within a second and a half once their clients close."""
    node = Node(t.procs)
    publish(t.procs, node.rtmp("live", "long"), media=fixture(duration=10, gop=10))
    node.wait_live("live", "long")
    msn, _ = newest_msn(node, "/live/long/index.m3u8")
    far = "/live/long/index.m3u8?_HLS_msn=%d&_HLS_part=60" % (msn + 2)

    # One held request: answered (the playlist as it is) within the maximum.
    start = time.monotonic()
    status, _, body = node.http(far, timeout=40)
    took = time.monotonic() - start
    check(took < HOLD_MAX_S + 1.5, "a blocking reload was held %.1fs (max %.0fs)" %
          (took, HOLD_MAX_S))
    check(status == 200 and b"#EXTM3U" in body, "held reload answered %d %r" % (status, body[:80]))

    # 230 from one address, for a part at least 10 s away (msn + 2 from the newest).
    msn, _ = newest_msn(node, "/live/long/index.m3u8")
    req = ("GET /live/long/index.m3u8?_HLS_msn=%d&_HLS_part=60 HTTP/1.1\r\nHost: x\r\n\r\n"
           % (msn + 2)).encode()
    socks = connect_many(node.addr, node.http_port, 230)
    check(len(socks) == 230, "only %d connections opened" % len(socks))
    for s in socks:
        s.sendall(req)
    wait_for(lambda: metric(node, "sluice_hls_held_requests") == HELD_PER_ADDR, 3,
             "%d requests held" % HELD_PER_ADDR)
    refused = 0
    readable, _, _ = select.select(socks, [], [], 0.3)
    for s in readable:
        try:
            refused += s.recv(64).startswith(b"HTTP/1.1 503")
        except OSError:
            pass
    check(refused == 230 - HELD_PER_ADDR,
          "%d of 230 refused at once (per-address bound %d)" % (refused, HELD_PER_ADDR))
    check(metric(node, "sluice_hls_held_refused_total") == refused, "refusals counted")
    close_all(socks)
    start = time.monotonic()
    wait_for(lambda: metric(node, "sluice_hls_held_requests") == 0, 1.5,
             "held requests released after their clients closed")
    released = time.monotonic() - start

    print("held 200 of 230 (30 refused), released %.2fs after close; one answered after %.1fs"
          % (released, took))


def post_event(node, headers, body=None):
    body = body or json.dumps({"target": "all", "app": "live", "payload": {"x": 1}}).encode()
    return node.http("/api/v1/cluster/events", method="POST", headers=headers, data=body)[0]


def test_cluster_events_need_a_token_and_no_browser(t):
    """A node holding a cluster secret takes no event without api-token; with it, only
    JSON from a non-browser client that carries the token, at a bounded rate."""
    open_node = origin(t.procs, "ev-open")
    for headers in ({"Content-Type": "application/json"}, {"Content-Type": "text/plain"}):
        status = post_event(open_node, headers)
        check(status == 403, "anonymous event (%s) answered %d on a node without api-token" %
              (headers["Content-Type"], status))
    status, _, body = open_node.http("/api/v1/cluster/events", method="POST",
                                     headers={"Content-Type": "application/json"}, data=b"{}")
    check(b"api-token" in body, "the refusal should say what is missing: %r" % body)

    node = origin(t.procs, "ev-guarded", args=["--api-token", "ev-t0ken"])
    auth = {"Authorization": "Bearer ev-t0ken"}
    cases = [("no token", {"Content-Type": "application/json"}, 401),
             ("text/plain", dict(auth, **{"Content-Type": "text/plain"}), 403),
             ("a form", dict(auth, **{"Content-Type": "application/x-www-form-urlencoded"}), 403),
             ("another site's page", dict(auth, **{"Content-Type": "application/json",
                                                   "Origin": "http://evil.example"}), 403),
             ("cross-site fetch", dict(auth, **{"Content-Type": "application/json",
                                                "Sec-Fetch-Site": "cross-site"}), 403),
             ("token and JSON", dict(auth, **{"Content-Type": "application/json"}), 202)]
    for what, headers, want in cases:
        status = post_event(node, headers)
        check(status == want, "%s: answered %d, want %d" % (what, status, want))
    # A kick from another site's page is refused too (DELETE needs no body type).
    status = node.http("/api/v1/clients/1", method="DELETE",
                       headers=dict(auth, Origin="http://evil.example"))[0]
    check(status == 403, "cross-site kick answered %d" % status)

    # 100 events of 8 KB as fast as possible: at most the burst (20) and the rate pass.
    big = json.dumps({"target": "all", "app": "live", "payload": {"x": "a" * 8000}}).encode()
    start = time.monotonic()
    got = [post_event(node, dict(auth, **{"Content-Type": "application/json"}), big)
           for _ in range(100)]
    took = time.monotonic() - start
    accepted = got.count(202)
    check(accepted <= 20 + 5 * took + 1 and got.count(429) == 100 - accepted,
          "%d of 100 events accepted in %.2fs (5/s, burst 20): %s" % (accepted, took, set(got)))
    refused = metric(node, "sluice_api_refused_total", token="ev-t0ken")
    check(refused >= 6 + 100 - accepted, "refusals counted: %s" % refused)
    lines = len(re.findall(r"event=api_refused", node.log()))
    check(0 < lines <= 40, "%d api_refused lines (throttled to 10/s)" % lines)
    print("open node: 403; guarded: 401/403/403/403/403/202; events accepted %d of 100 in %.2fs;"
          " %d log lines" % (accepted, took, lines))


def test_metrics_need_a_token_and_name_no_stream(t):
    """/metrics follows api-token (or metrics-token); stream names, which are publishing
    keys without publish-secret, appear only with metrics-stream-labels."""
    key = "k3y-9f2c1e"
    node = Node(t.procs, args=["--api-token", "adm1n"])
    publish(t.procs, node.rtmp("live", key))
    node.token = "adm1n"
    node.wait_live("live", key)
    node.token = None
    status, headers, _ = node.http("/metrics")
    check(status == 401 and "Bearer" in headers.get("WWW-Authenticate", ""),
          "/metrics without the token answered %d" % status)
    status, _, body = node.http("/metrics", headers={"Authorization": "Bearer adm1n"})
    check(status == 200 and b"sluice_streams 1" in body, "/metrics with the token: %d" % status)
    check(key.encode() not in body, "the stream key is in /metrics:\n" + body.decode()[-600:])

    node2 = Node(t.procs, args=["--api-token", "adm1n", "--metrics-token", "scr4pe"])
    check(node2.http("/metrics", headers={"Authorization": "Bearer scr4pe"})[0] == 200,
          "metrics-token refused")
    check(node2.http("/metrics?accessToken=adm1n")[0] == 401,
          "with metrics-token set, the API token must not open /metrics")


def test_denied_requests_do_not_flood_the_log(t):
    """One connection pipelines 5,000 plays with a bad token: all refused and counted, but
    access_denied is written at most 10 times a second, then with suppressed=N."""
    node = Node(t.procs, args=["--play-secret", "pl4y"])
    n = 5000
    req = b"GET /live/x/index.m3u8?token=bad HTTP/1.1\r\nHost: x\r\n\r\n"
    s = socket.create_connection((node.addr, node.http_port), timeout=10)
    start = time.monotonic()
    s.sendall(req * (n - 1) + req.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
    got = read_until_closed(s, 15)
    s.close()
    took = time.monotonic() - start
    answers = got.count(b"HTTP/1.1 403")
    check(answers == n, "%d of %d answered 403" % (answers, n))
    check(metric(node, "sluice_access_denied_total") == n, "denials counted")
    log = node.log()
    lines = len(re.findall(r"event=access_denied", log))
    suppressed = sum(int(x) for x in re.findall(r"event=access_denied .*suppressed=(\d+)", log))
    bound = 10 * (int(took) + 2)
    check(lines <= bound, "%d access_denied lines for %d refusals in %.1fs (bound %d)" %
          (lines, n, took, bound))
    print("%d denials in %.2fs: %d lines, suppressed=%d reported so far" %
          (n, took, lines, suppressed))
    # The next refusal after a quiet second carries the count of those held back.
    time.sleep(1.1)
    node.http("/live/x/index.m3u8?token=bad")
    wait_for(lambda: re.search(r"event=access_denied .*suppressed=[1-9]", node.log()), 3,
             "a line with suppressed=N")


def test_ctl_prints_peer_names_escaped(t):
    """Node ids, hosts, stream names and error messages reach `sluice ctl` from the manager,
    which took them from nodes: terminal escapes, CR LF and high bytes must print escaped."""
    evil = "\x1b[2J\x1b[31mnode\r\nforged\x07\x7f\u009b"
    answers = {
        "/api/v1/nodes": {"nodes": [{"id": evil, "role": "edge", "state": "alive",
                                     "group": evil, "host": evil, "rtmpPort": 1935,
                                     "load": {"publishers": 0, "viewers": 0, "capacity": 1,
                                              "loadPercent": 0}}]},
        "/api/v1/streams": {"streams": [{"app": "live", "name": evil, "origin": evil,
                                         "group": "g", "viewers": 1,
                                         "nodes": [{"id": evil, "viewers": 1}]}]},
        "/api/v1/events": {"events": [{"ts": 0, "kind": "k", "group": evil, "node": evil,
                                       "message": evil}]},
    }

    class Fake(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = answers.get(self.path.split("?")[0])
            status = 200 if body else 404
            data = json.dumps(body or {"error": evil, "status": 404}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *a):
            pass

    server = http.server.HTTPServer((new_addr(), 5070), Fake)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = "http://%s:5070" % server.server_address[0]
        for args in (["nodes"], ["streams"], ["events"], ["node", "get", "x"]):
            r = subprocess.run([SLUICE, "ctl", "--manager", url, "--token", "t"] + args,
                               capture_output=True, timeout=10)
            out = r.stdout + r.stderr
            check(b"\\x1b[2J" in out, "ctl %s: the name is not shown escaped: %r" % (args, out))
            for raw in (b"\x1b", b"\r", b"\x07", b"\x7f", b"\xc2\x9b"):
                check(raw not in out, "ctl %s printed a raw %r: %r" % (args, raw, out))
    finally:
        server.shutdown()
        server.server_close()
