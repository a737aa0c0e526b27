#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mock_http.py - what the cloud mocks (mock_ec2.py, mock_gcp.py, mock_k8s.py) share, so
each keeps only its cloud's API: the HTTP handler's plumbing (a reply with its length, the
request body, log lines named for the mock), the test controls' fault queues, the loopback
addresses handed to machines, a machine booted as a script in its own process group, the
list pages, and the server that, when stopped, takes its machines with it.  MockCloud is
the tests' side: a mock started, its test controls, its stop.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class MockHandler(BaseHTTPRequestHandler):
    """A handler whose GET, POST and DELETE go to self.route(method)."""
    protocol_version = "HTTP/1.1"
    mock_name = "mock"

    def log_message(self, fmt, *a):
        sys.stderr.write(self.mock_name + ": " + (fmt % a) + "\n")

    def send(self, code, body, ctype, headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def reply_json(self, code, obj, ctype="application/json", headers=()):
        self.send(code, json.dumps(obj), ctype, headers)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def route(self, method):
        self.send(405, "", "text/plain")

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_DELETE(self):
        self.route("DELETE")


class Faults:
    """Error answers queued by a test (POST /_mock/faults {KIND: [fault, ...]}) for the next
    calls of a kind."""

    def __init__(self, lock):
        self.lock, self.queues = lock, {}

    def add(self, raw):
        with self.lock:
            for kind, faults in json.loads(raw).items():
                self.queues.setdefault(kind, []).extend(faults)

    def take(self, kind):
        with self.lock:
            q = self.queues.get(kind) or []
            return q.pop(0) if q else None


class Addresses:
    """The loopback addresses machines get: BASE.2, BASE.3, ..."""

    def __init__(self, lock, base):
        self.lock, self.base, self.next = lock, base, 2

    def take(self):
        with self.lock:
            ip = "%s.%d" % (self.base, self.next)
            self.next += 1
            return ip


def page(items, token, size):
    """One page of items from token (a position this mock gave out; "" is the start) of at
    most size (0: all): (the page, the next token or None). ValueError for a token it did
    not give."""
    start = 0
    if token:
        if not token.startswith("mock-page-") or not token[10:].isdigit():
            raise ValueError(token)
        start = int(token[10:])
        if start > len(items):
            raise ValueError(token)
    end = len(items) if size <= 0 else min(len(items), start + size)
    return items[start:end], ("mock-page-%d" % end if end < len(items) else None)


def boot(cmd, env, workdir, log_name):
    """Runs a machine's script (cmd, with env added to ours) in its own process group, its
    output in workdir/log_name; returns its pid (reaped when it exits)."""
    os.makedirs(workdir, exist_ok=True)
    log = open(os.path.join(workdir, log_name), "ab")
    proc = subprocess.Popen(cmd, env=dict(os.environ, **env), stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log, start_new_session=True)
    log.close()
    threading.Thread(target=proc.wait, daemon=True).start()
    return proc.pid


def kill_group(pid, sig=signal.SIGTERM):
    """Signals a machine's process group; one already gone is no error."""
    if not pid:
        return
    try:
        os.killpg(pid, sig)
    except OSError:
        pass


def serve(listen, handler, machines):
    """Serves on ADDR:PORT until SIGTERM or SIGINT; then the cloud goes away and so do its
    machines (machines() names their pids, asked at that moment)."""
    host, port = listen.rsplit(":", 1)
    srv = ThreadingHTTPServer((host, int(port)), handler)

    def stop(*_):
        for pid in machines():
            kill_group(pid, signal.SIGKILL)
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv.serve_forever()


class MockCloud:
    """A test's handle on a mock it starts: python3 HERE/script --listen ADDR:port args...,
    waited for until it listens; self.url is http://ADDR:port (no slash)."""

    def __init__(self, t, script, port, args, name):
        from harness import new_addr, port_open, wait_for  # the tests' side only
        self.addr = new_addr()
        self.url = "http://%s:%d" % (self.addr, port)
        here = os.path.dirname(os.path.abspath(__file__))
        self.proc = t.procs.start([sys.executable, os.path.join(here, script), "--listen",
                                   "%s:%d" % (self.addr, port)] + list(args), name)
        wait_for(lambda: port_open(self.addr, port), 10, "%s to listen" % name)

    def get(self, path):
        with urllib.request.urlopen(self.url + "/" + path.lstrip("/"), timeout=5) as r:
            return json.load(r)

    def faults(self, kind, faults):
        """Queues error answers for the next calls of kind."""
        urllib.request.urlopen(urllib.request.Request(
            self.url + "/_mock/faults", method="POST",
            data=json.dumps({kind: faults}).encode()), timeout=5).read()

    def stop(self):
        """Stops the mock, which takes its machines down with it."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
