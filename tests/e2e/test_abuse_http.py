# SPDX-License-Identifier: Apache-2.0
"""Hostile HTTP peers against a live node: huge heads, slowloris pacing, pipelining floods,
and `../`, NUL, %2e%2e, unicode and 1000-character names in HTTP-FLV paths. After each case a
real viewer still plays the healthy stream, the node's memory is back under a bound, and its
log says why it dropped the peer (see abuse.py)."""
import socket
import time

from abuse import Abused, close_all, connect_many, is_closed, read_until_closed
from harness import check, wait_for


def http_raw(node, data, timeout=5, read_all=True):
    """Sends data on a fresh connection; returns everything answered until close/timeout."""
    s = socket.create_connection((node.addr, node.node.http_port), timeout=timeout)
    try:
        s.sendall(data)
    except OSError:
        pass
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            break
        if not d:
            break
        out += d
        if not read_all and b"\r\n\r\n" in out:
            break
    s.close()
    return out


def status_of(resp):
    try:
        return int(resp.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def test_huge_heads(t):
    node = Abused(t)
    host = b"Host: x\r\n"
    cases = [
        ("one 100 KB header", b"GET /healthz HTTP/1.1\r\n" + host + b"X-Big: " + b"a" * 100000 +
         b"\r\n\r\n", 431),
        ("5000 small headers", b"GET /healthz HTTP/1.1\r\n" + host +
         b"".join(b"X-%d: v\r\n" % i for i in range(5000)) + b"\r\n", 431),
        ("a 100 KB request line", b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\n" + host + b"\r\n",
         431),
        ("2 MB with no line end", b"GET /healthz HTTP/1.1\r\nX: " + b"b" * (2 << 20), 431),
        ("a 2 MB body", b"POST /healthz HTTP/1.1\r\n" + host + b"Content-Length: 2097152\r\n\r\n"
         + b"c" * (2 << 20), 413),
        ("a body length of 2^63", b"POST /healthz HTTP/1.1\r\n" + host +
         b"Content-Length: 9223372036854775807\r\n\r\n", (400, 413)),
        ("a negative body length", b"POST /healthz HTTP/1.1\r\n" + host +
         b"Content-Length: -1\r\n\r\n", 400),
        ("chunked upload", b"POST /healthz HTTP/1.1\r\n" + host +
         b"Transfer-Encoding: chunked\r\n\r\n", 505),
        ("garbage", bytes(range(256)) * 40, 400),
    ]
    for what, data, want in cases:
        resp = http_raw(node, data)
        want = want if isinstance(want, tuple) else (want,)
        check(status_of(resp) in want, "%s: answered %r, expected %s" % (what, resp[:80], want))
    node.expect_log(r"http_request_refused .*status=431 reason=\"request header fields too large\""
                    r".*max_head=8192", "heads over http-max-header", count=4)
    node.expect_log(r"http_request_refused .*status=413", "bodies too large", count=1)
    # A head just under the limit is served.
    resp = http_raw(node, b"GET /healthz HTTP/1.1\r\n" + host + b"X-Fill: " + b"f" * 7900 +
                    b"\r\nConnection: close\r\n\r\n")
    check(status_of(resp) == 200, "a 7.9 KB head should be served: %r" % resp[:80])
    node.after_case("huge heads")


def test_slowloris(t):
    node = Abused(t, ["--http-request-timeout", "2s"])
    socks = connect_many(node.addr, node.node.http_port, 200)
    check(len(socks) == 200, "only %d slowloris connections opened" % len(socks))
    for s in socks:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    start = time.monotonic()
    # One more byte per connection every half second: never a whole request.
    while time.monotonic() - start < 6:
        alive = 0
        for s in socks:
            try:
                s.sendall(b"z")
                alive += 1
            except OSError:
                pass
        if alive == 0:
            break
        time.sleep(0.5)
    wait_for(lambda: all(is_closed(s) for s in socks), 5, "slowloris peers to be dropped")
    close_all(socks)
    took = time.monotonic() - start
    check(took < 8, "slowloris connections were held %.1fs (http-request-timeout 2s)" % took)
    node.expect_log(r"http_timeout .*reason=\"request not complete within 2000 ms\"",
                    "the request timeout", count=200)
    node.after_case("slowloris")


def test_pipelining_flood(t):
    node = Abused(t, ["--send-timeout", "3s"])
    # 20,000 requests in one write, answers read only afterwards: all answered, in order.
    n = 20000
    req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    s = socket.create_connection((node.addr, node.node.http_port), timeout=10)
    s.sendall(req * (n - 1) + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    time.sleep(1)
    got = read_until_closed(s, 20)
    s.close()
    answers = got.count(b"HTTP/1.1 200 OK")
    check(answers == n, "pipelined %d requests, %d answered" % (n, answers))

    # Ten peers pipeline 4 MB each without reading a byte: each is cut off once it has more
    # than one maximal request buffered, answered 413 and closed.
    socks = connect_many(node.addr, node.node.http_port, 10)
    blob = req * ((4 << 20) // len(req))
    for s in socks:
        s.setblocking(False)
    sent = [0] * len(socks)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(x >= 0 for x in sent):
        for i, s in enumerate(socks):
            if sent[i] < 0:
                continue
            try:
                k = s.send(blob[sent[i]:sent[i] + 65536])
                sent[i] = sent[i] + k if sent[i] + k < len(blob) else -1
            except BlockingIOError:
                pass
            except OSError:
                sent[i] = -1
        time.sleep(0.001)
    # (Nothing is read until they are dropped: a peer that reads, however slowly, is served.)
    node.expect_log(r"http_(request_refused .*status=413 reason=\"request too large\"|"
                    r"timeout .*response not read within 3000 ms)", "why the flooders were dropped",
                    count=10, timeout=15)
    for s in socks:
        s.setblocking(True)
    check(all(is_closed(s, 1) for s in socks), "a pipelining peer was logged but not dropped")
    close_all(socks)
    node.after_case("pipelining flood")


def test_odd_names_in_flv_paths(t):
    node = Abused(t)
    paths = [
        b"/../live/healthy.flv", b"/live/../healthy.flv", b"/live/..%2fhealthy.flv",
        b"/%2e%2e/live/healthy.flv", b"/live/%2e%2e%2fhealthy.flv", b"/live/heal%00thy.flv",
        b"/live/healthy%00.flv", b"/live/\xe3\x83\xa9\xe3\x82\xa4\xe3\x83\x96.flv",
        b"/\xe3\x83\xa9/healthy.flv", b"/live/" + b"a" * 1000 + b".flv",
        b"/" + b"a" * 1000 + b"/healthy.flv", b"/live/.flv", b"//healthy.flv",
        b"/live/healthy.flv/../../etc/passwd", b"/live/healthy%2eflv", b"/live/.hidden.flv",
        b"/live/a b.flv", b"/live/healthy.flv\x00", b"/live/heal\x00thy.flv",
    ]
    for p in paths:
        resp = http_raw(node, b"GET " + p + b" HTTP/1.1\r\nHost: x\r\n\r\n", read_all=False)
        st = status_of(resp)
        check(st in (400, 404), "GET %r answered %r" % (p, resp[:60]))
    # The real name still plays (the check after the case) and nothing else went live.
    streams = [(s["app"], s["name"]) for s in node.node.api("/api/v1/streams")["streams"]]
    check(streams == [("live", "healthy")], "streams after odd paths: %r" % streams)
    check(node.node.stream("live", "healthy")["viewers"]["flv"] == 0, "an odd path became a viewer")
    node.expect_log(r"http_request_refused .*status=400 reason=\"malformed request\"",
                    "raw NUL bytes in a path")
    node.after_case("odd names over HTTP-FLV")
