# SPDX-License-Identifier: Apache-2.0
"""The stream manager under attack: a flood of idle connections, heartbeats lost on the way,
a member of the cluster (it has the cluster secret) heartbeating as another node or from the
future, and one address spamming routing calls.  Each case runs against a real manager with
a real origin it launched; what is checked is what an operator sees: the node stays alive
and unkilled, and routing keeps answering with the real node."""
import hashlib
import hmac
import http.client
import json
import os
import socket
import threading
import time

from abuse import close_all, connect_many
from harness import check, new_addr, port_open, wait_for
from manager_util import SECRET, Manager

ORIGIN_ONLY_LC = {"launchconfig": {
    "name": "solo", "description": "one origin", "image": "sluice", "version": "0.0.1",
    "targets": {"target": [{"role": "origin", "instanceType": "local",
                            "connectionCapacity": "25"}]}}}
ORIGIN_ONLY_POLICY = {"policy": {
    "name": "solo", "description": "one origin", "version": "0.0.1", "type": "",
    "targets": {"target": [{"role": "origin", "coolDownPeriod": "60000",
                            "estimatedWarmUpTime": "1000", "minLimit": "1",
                            "maxLimit": "1", "scaleAdjustment": "1"}]}}}


def _origin_group(m):
    """A group with one origin of capacity 25 (no edges); returns the origin as listed."""
    m.ok("/api/v1/launchconfigs", "POST", ORIGIN_ONLY_LC)
    m.ok("/api/v1/scalepolicies", "POST", ORIGIN_ONLY_POLICY)
    m.ok("/api/v1/groups", "POST", {"name": "g1", "regions": ["local"], "launchConfig": "solo",
                                    "scalePolicy": "solo", "replaceDeadNodes": True})
    m.ok("/api/v1/groups/g1/origins", "POST", {})
    return wait_for(lambda: (m.nodes("origin", ["alive"]) or [None])[0], 30, "the origin alive")


def _node_ports(m):
    """Where nodes call the manager: the node listener (listen's port + 1) when there is one
    (an older manager takes node calls on its API port only)."""
    ports = [m.port]
    if port_open(m.addr, m.port + 1):
        ports.insert(0, m.port + 1)
    return ports


def _alive(pid):
    try:
        os.kill(pid, 0)
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def _dead_events(m, node_id):
    return [e for e in m.events() if e["kind"] == "node_dead" and e["node"] == node_id]


def _report(node, **over):
    body = {"id": node["id"], "group": node["group"], "role": node["role"],
            "host": node["host"], "rtmpPort": node["rtmpPort"], "httpPort": node["httpPort"],
            "connections": 0, "publishers": 0, "viewers": 0, "streams": []}
    body.update(over)
    return json.dumps(body, separators=(",", ":")).encode()


def _forged_calls(path, body, t_ms):
    """The same call signed with the cluster secret both ways a member could: the old format
    (no sequence number) and the current one (with X-Sluice-Seq)."""
    out = []
    msg = b"sluice-node-v1\n%s\n%d\n" % (path.encode(), t_ms) + body
    out.append({"X-Sluice-Time": str(t_ms),
                "X-Sluice-Signature": hmac.new(SECRET.encode(), msg, hashlib.sha256).hexdigest()})
    for seq in (1, 10 ** 12):
        msg = b"sluice-node-v2\n%s\n%d\n%d\n" % (path.encode(), t_ms, seq) + body
        out.append({"X-Sluice-Time": str(t_ms), "X-Sluice-Seq": str(seq),
                    "X-Sluice-Signature": hmac.new(SECRET.encode(), msg,
                                                   hashlib.sha256).hexdigest()})
    return out


def _post(addr, port, path, body, headers):
    c = http.client.HTTPConnection(addr, port, timeout=5)
    try:
        h = dict(headers)
        h["Content-Type"] = "application/json"
        c.request("POST", path, body=body, headers=h)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def _forge(m, path, body, t_ms):
    """Sends every forged variant to every port nodes may call; returns the statuses."""
    got = []
    for port in _node_ports(m):
        for h in _forged_calls(path, body, t_ms):
            got.append(_post(m.addr, port, path, body, h)[0])
    return got


def test_idle_flood_does_not_starve_heartbeats(t):
    """4,200 idle connections from one address (more than the manager's old 4,096-slot table)
    held for 6 s, three times dead-after: the origin keeps heartbeating, is never declared
    dead or killed, and routing keeps answering 200 to another address."""
    m = Manager(t)
    socks = []
    try:
        origin = _origin_group(m)
        st, out = m.route("live", "flood", "broadcast")
        check(st == 200, "broadcast route before the flood: %d %s" % (st, out))
        flooder = new_addr()
        started = time.monotonic()
        socks = connect_many(m.addr, m.port, 4200, source=flooder, timeout=2, tries=1)
        api_socks = len(socks)
        for port in _node_ports(m)[:-1]:  # the node listener too, when there is one
            socks += connect_many(m.addr, port, 2000, source=flooder, timeout=2, tries=1)
        failures = []
        while time.monotonic() - started < 6.0:
            try:
                st, out = m.route("live", "flood", "broadcast")
                if st != 200:
                    failures.append("%d %s" % (st, out))
            except Exception as e:  # refused at accept, reset: what a starved manager does
                failures.append(repr(e))
            time.sleep(0.5)
        close_all(socks)
        socks = []
        check(_alive(origin["pid"]), "the origin was killed during the flood")
        dead = _dead_events(m, origin["id"])
        check(not dead, "the origin was declared dead during the flood: %s" % dead)
        check(not failures, "routing failed during the flood (%d times): %s" % (
            len(failures), failures[:3]))
        now = m.nodes("origin")
        check(len(now) == 1 and now[0]["id"] == origin["id"] and now[0]["state"] == "alive",
              "the origin after the flood: %s" % now)
        info = m.ok("/api/v1/manager")
        refused = info["connections"]["api"]["refusedPerIp"] + \
            info["connections"]["api"]["refusedRate"]
        # Everything beyond the per-address share (256) is refused at accept.
        check(api_socks >= 1000 and refused >= api_socks - 300,
              "%d flood connections made, refused per address: %s" % (api_socks,
                                                                     info["connections"]))
    finally:
        close_all(socks)
        m.cleanup()


class _Blackhole:
    """A TCP relay the node's manager URL points at; while `drop` is set it accepts
    connections and never answers (heartbeats lost on the way)."""

    def __init__(self, addr):
        self.addr, self.target, self.drop = addr, None, False
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind((addr, 0))
        self.srv.listen(64)
        self.port = self.srv.getsockname()[1]
        self.held, self.closed = [], False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            if self.drop:
                self.held.append(c)
                continue
            threading.Thread(target=self._relay, args=(c,), daemon=True).start()

    def _relay(self, c):
        try:
            u = socket.create_connection(self.target, timeout=3)
        except OSError:
            c.close()
            return
        def pump(a, b):
            try:
                while True:
                    d = a.recv(65536)
                    if not d:
                        break
                    b.sendall(d)
            except OSError:
                pass
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        threading.Thread(target=pump, args=(u, c), daemon=True).start()
        pump(c, u)

    def close(self):
        self.closed = True
        self.srv.close()
        close_all(self.held)


def test_lost_heartbeats_probe_before_kill(t):
    """The origin's heartbeats are lost on the way for 6 s (its manager URL goes through a
    relay that stops answering) while it serves: the manager asks its /healthz, keeps it and
    says so, never kills it; heartbeats resume when the path is back."""
    relay = _Blackhole(new_addr())
    m = None
    try:
        m = Manager(t, args=["--advertise-url", "http://%s:%d" % (relay.addr, relay.port)])
        relay.target = (m.addr, _node_ports(m)[0])
        origin = _origin_group(m)
        wait_for(lambda: m.nodes("origin")[0]["heartbeatAgeMs"] < 1500, 5, "heartbeats")
        relay.drop = True
        time.sleep(6.0)
        check(_alive(origin["pid"]), "the origin was killed although it served")
        dead = _dead_events(m, origin["id"])
        check(not dead, "a serving origin was declared dead for lost heartbeats: %s" % dead)
        now = m.nodes("origin")
        check(now and now[0]["id"] == origin["id"] and now[0]["state"] == "alive" and
              now[0]["heartbeatAgeMs"] > 4000, "the origin while heartbeats are lost: %s" % now)
        kept = [e for e in m.events() if e["kind"] == "node_heartbeats_missing"]
        check(kept and "/healthz answered 200" in kept[0]["message"],
              "the manager should say it kept the node: %s" % kept)
        st, out = m.route("live", "probe", "broadcast")
        check(st == 200 and out["node"] == origin["id"], "routing while heartbeats are lost: "
              "%d %s" % (st, out))
        relay.drop = False
        wait_for(lambda: m.nodes("origin")[0]["heartbeatAgeMs"] < 1500, 10,
                 "heartbeats to resume once the path is back")
        check(_alive(origin["pid"]) and not _dead_events(m, origin["id"]),
              "the origin after heartbeats resumed")
    finally:
        relay.close()
        if m:
            m.cleanup()


def test_forged_heartbeat_for_another_node_refused(t):
    """A member of the cluster (it has the secret) heartbeats and registers as the origin,
    from its own address: every variant is refused and routing still names the origin."""
    m = Manager(t)
    try:
        origin = _origin_group(m)
        liar = new_addr()
        for path in ("/api/v1/cluster/heartbeat", "/api/v1/cluster/register"):
            body = _report(origin, host=liar)
            got = _forge(m, path, body, int(time.time() * 1000))
            check(200 not in got, "a forged %s was accepted: %s" % (path, got))
        time.sleep(1.5)
        st, out = m.route("live", "forged", "broadcast")
        check(st == 200 and out["node"] == origin["id"] and out["host"] == origin["host"],
              "routing after the forgeries: %d %s (the origin is at %s)" % (
                  st, out, origin["host"]))
        now = m.nodes("origin")
        check(now[0]["host"] == origin["host"] and now[0]["state"] == "alive",
              "the origin as listed: %s" % now)
        check(_alive(origin["pid"]) and not _dead_events(m, origin["id"]),
              "the origin survives the forgeries")
    finally:
        m.cleanup()


def test_heartbeat_from_the_future_does_not_lock_out(t):
    """A heartbeat for the origin stamped 29 s ahead (signed with the cluster secret): the
    real origin keeps heartbeating and is never declared dead."""
    m = Manager(t)
    try:
        origin = _origin_group(m)
        body = _report(origin)
        _forge(m, "/api/v1/cluster/heartbeat", body, int(time.time() * 1000) + 29000)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            n = m.nodes("origin")
            check(n and n[0]["state"] == "alive", "the origin after a future heartbeat: %s" % n)
            time.sleep(0.5)
        wait_for(lambda: m.nodes("origin")[0]["heartbeatAgeMs"] < 1500, 3,
                 "the real origin's heartbeats to be taken")
        check(_alive(origin["pid"]) and not _dead_events(m, origin["id"]),
              "the origin was locked out: %s" % _dead_events(m, origin["id"]))
    finally:
        m.cleanup()


def test_routing_spam_does_not_starve_real_clients(t):
    """One address asks for 200 publish routes in 2 s (each a new stream, so each would
    reserve room for 3 s) on an origin of capacity 25: a broadcaster from another address
    still gets the origin."""
    m = Manager(t)
    try:
        origin = _origin_group(m)
        spammer = new_addr()
        c = http.client.HTTPConnection(m.addr, m.port, timeout=5, source_address=(spammer, 0))
        statuses = {}
        started = time.monotonic()
        for i in range(200):
            c.request("GET", "/api/v1/streams/live/spam%d?action=broadcast" % i)
            r = c.getresponse()
            r.read()
            statuses[r.status] = statuses.get(r.status, 0) + 1
        c.close()
        spent = time.monotonic() - started
        check(spent < 2.5, "the spam took %.1fs (reservations last 3 s)" % spent)
        st, out = m.route("live", "real", "broadcast")
        check(st == 200 and out["node"] == origin["id"],
              "a real broadcaster after the spam (%s): %d %s" % (statuses, st, out))
        load = m.nodes("origin")[0]["load"]
        check(load["routedPending"] <= 8, "reservations held by the spam: %s" % load)
    finally:
        m.cleanup()
