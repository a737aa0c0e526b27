# SPDX-License-Identifier: Apache-2.0
"""manager_util.py - a `sluice manager` with the local controller in a test: its API, `sluice ctl`,
and the node processes it starts (stopped at the end even if the manager was killed)."""
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

from harness import (ADDR_BLOCK, SLUICE, check, check_media, log_text, new_addr, play_ffmpeg,
                     port_open, publish, wait_for)

TOKEN = "e2e-admin-token-0123"
SECRET = "e2e-cluster-secret-0123"

LAUNCH_CONFIG = {"launchconfig": {
    "name": "e2e", "description": "test nodes", "image": "sluice", "version": "0.0.1",
    "targets": {"target": [
        {"role": "origin", "instanceType": "local", "connectionCapacity": "50"},
        {"role": "edge", "instanceType": "local", "connectionCapacity": "2"}]}}}

def scale_policy(description, edges, origins, edge_cooldown_ms=2500, origin_warmup_ms=10000):
    """A scale policy named e2e in the reference documents' shape (string-typed numbers);
    edges and origins are (minLimit, maxLimit)."""
    return {"policy": {
        "name": "e2e", "description": description, "version": "0.0.1", "type": "",
        "targets": {"target": [
            {"role": "edge", "coolDownPeriod": str(edge_cooldown_ms),
             "estimatedWarmUpTime": "1000", "minLimit": str(edges[0]),
             "maxLimit": str(edges[1]), "scaleAdjustment": "1"},
            {"role": "origin", "coolDownPeriod": "60000",
             "estimatedWarmUpTime": str(origin_warmup_ms), "minLimit": str(origins[0]),
             "maxLimit": str(origins[1]), "scaleAdjustment": "1"}]}}}


POLICY = scale_policy("1 origin, 1 to 3 edges", edges=(1, 3), origins=(1, 1))


def _ours(pid, ident):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return ident.encode() in f.read()
    except OSError:
        return False


class Manager:
    def __init__(self, t, addr=None, db=None, args=(), name="node-manager"):
        self.t = t
        self.addr = addr or new_addr()
        self.port = 5070
        self.db = db or t.path("manager.db")
        self.node_dir = t.path("nodes")
        self.base = "127.%d.1" % ADDR_BLOCK
        self.args = list(args)
        self.pids = set()
        self.start(name)

    def start(self, name="node-manager"):
        cmd = [SLUICE, "manager", "--listen", "%s:%d" % (self.addr, self.port),
               "--db", "sqlite:" + self.db, "--admin-token", TOKEN, "--cluster-secret", SECRET,
               "--local-addr-base", self.base, "--node-dir", self.node_dir,
               "--stop-nodes-on-exit"] + self.args
        self.proc = self.t.procs.start(cmd, name)
        wait_for(lambda: self.proc.poll() is not None or port_open(self.addr, self.port), 15,
                 "manager to listen")
        check(self.proc.poll() is None, "manager exited at start:\n" + log_text(self.proc))

    @property
    def url(self):
        return "http://%s:%d" % (self.addr, self.port)

    def http(self, path, method="GET", body=None, token=TOKEN, headers=None):
        """Returns (status, parsed JSON or text)."""
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            data = data.encode() if isinstance(data, str) else data
            h["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, method=method, data=data, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def ok(self, path, method="GET", body=None, want=(200, 201, 204)):
        status, out = self.http(path, method, body)
        check(status in want, "%s %s answered %d: %s" % (method, path, status, out))
        return out

    def ctl(self, *args, token=TOKEN):
        env = dict(os.environ, SLUICE_MANAGER=self.url, SLUICE_TOKEN=token or "")
        return subprocess.run([SLUICE, "ctl"] + list(args), capture_output=True, text=True,
                              timeout=20, env=env)

    def nodes(self, role=None, states=None):
        ns = self.ok("/api/v1/nodes")["nodes"]
        for n in ns:
            if n.get("pid"):
                self.pids.add((n["pid"], n["id"]))
        return [n for n in ns if (role is None or n["role"] == role) and
                (states is None or n["state"] in states)]

    def setup_group(self, name="g1", replace_dead=True, policy=None):
        self.ok("/api/v1/launchconfigs", "POST", LAUNCH_CONFIG)
        self.ok("/api/v1/scalepolicies", "POST", policy or POLICY)
        self.ok("/api/v1/groups", "POST", {"name": name, "regions": ["local"],
                                            "launchConfig": "e2e", "scalePolicy": "e2e",
                                            "replaceDeadNodes": replace_dead})
        self.ok("/api/v1/groups/%s/origins" % name, "POST", {})
        wait_for(lambda: len(self.nodes("origin", ["alive"])) == 1 and
                 len(self.nodes("edge", ["alive"])) == 1, 30, "origin and first edge alive")

    def route(self, app, stream, action):
        return self.http("/api/v1/streams/%s/%s?action=%s" % (app, stream, action), token=None)

    def events(self):
        return self.ok("/api/v1/events?limit=1000")["events"]

    def first_event(self, kind, what, timeout=10):
        """Waits (up to timeout s) for an event of kind and returns the first one."""
        wait_for(lambda: [e for e in self.events() if e["kind"] == kind], timeout, what)
        return [e for e in self.events() if e["kind"] == kind][0]

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        self.proc.wait(timeout=15)

    def cleanup(self):
        """Stops the manager (which stops its nodes), then any node process this test's
        managers started and left behind; fails on a sanitizer report in a node's log."""
        try:
            if self.proc.poll() is None:
                self.nodes()
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=10)
        except Exception:
            pass
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and any(_ours(p, i) for p, i in self.pids):
            time.sleep(0.1)
        for pid, ident in self.pids:
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    if ident.encode() not in f.read():
                        continue
                os.kill(pid, signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass

    def sanitizer_reports(self):
        bad = []
        if not os.path.isdir(self.node_dir):
            return bad
        for f in os.listdir(self.node_dir):
            if f.endswith(".log"):
                with open(os.path.join(self.node_dir, f), "rb") as fh:
                    text = fh.read().decode("utf-8", "replace")
                if "ERROR: AddressSanitizer" in text or "runtime error:" in text or \
                   "ERROR: LeakSanitizer" in text:
                    bad.append((f, text[-4000:]))
        return bad


# ---- what a user does against a running group (the controller tests share these) ----

def publish_live(t, m, app, name):
    """Publishes app/name where the manager routes a broadcast, and waits until the manager
    lists it live at an origin."""
    st, out = m.route(app, name, "broadcast")
    check(st == 200 and out["role"] == "origin", "broadcast route: %d %s" % (st, out))
    publish(t.procs, out["urls"]["rtmp"])
    wait_for(lambda: any(s["app"] == app and s["name"] == name and s["origin"]
                         for s in m.ok("/api/v1/streams")["streams"]), 20,
             "%s/%s live" % (app, name))


def watch_at_edge(t, m, app, name, what):
    """One viewer routed to an edge plays app/name for 4 s and gets at least 2.5 s."""
    st, route = m.route(app, name, "subscribe")
    check(st == 200 and route["role"] == "edge", "subscribe: %d %s" % (st, route))
    path = t.path("%s.flv" % name)
    play_ffmpeg(t.procs, route["urls"]["rtmp"], path, 4, name="viewer").wait(timeout=30)
    check_media(path, 2.5, what)


def viewers_over_two_edges(t, m, app, name):
    """Three viewers of app/name, routed one by one, with an edge capacity of 2: the second
    takes the one edge to 100%, so the third waits for the second edge the scale-out brings
    and goes there.  Each plays 6 s into viewerI.flv.  Returns ([(path, process)], [the edge
    each was routed to])."""
    viewers, routed = [], []
    for i in range(3):
        want = 1 if i < 2 else 2
        wait_for(lambda: len(m.nodes("edge", ["alive"])) >= want, 30,
                 "%d alive edge(s) for viewer %d" % (want, i + 1))
        st, route = m.route(app, name, "subscribe")
        check(st == 200 and route["role"] == "edge", "subscribe: %d %s" % (st, route))
        routed.append(route["node"])
        path = t.path("viewer%d.flv" % i)
        viewers.append((path, play_ffmpeg(t.procs, route["urls"]["rtmp"], path, 6,
                                          name="viewer%d" % i)))
        wait_for(lambda: sum(n["load"]["viewers"] for n in m.nodes("edge")) >= i + 1, 15,
                 "viewer %d counted" % (i + 1))
    return viewers, routed
