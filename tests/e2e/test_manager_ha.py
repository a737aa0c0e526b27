# SPDX-License-Identifier: Apache-2.0
"""Three managers on one real PostgreSQL behind a real haproxy (docs/operations.md): the leader
SIGKILLed under routing load, a leader frozen past its lease and resumed (its stale action
refused by the fencing token), PostgreSQL stopped and started again, and `sluice ctl` through
the load balancer.

The lease is 2 s, dead-after 3 s and the sync 250 ms (pg_util.py) so failover fits a test;
the PostgreSQL outage lasts 12 s instead of the issue's 30 s: four times dead-after and six
leases, the same situation (every lease lapsed, every node past dead-after on some manager),
in less time."""
import json
import os
import signal
import subprocess
import threading
import time

from harness import SLUICE, check, check_media, play_ffmpeg, publish, wait_for
from manager_util import SECRET, TOKEN, scale_policy
from pg_util import Cluster, events_of

PG_OUTAGE_S = float(os.environ.get("SLUICE_PG_OUTAGE_S", "12"))
# The "all managers down for 60 s", shortened: past dead-after and every lease.
ALL_DOWN_S = float(os.environ.get("SLUICE_ALL_MANAGERS_DOWN_S", "8"))


class RoutingLoad:
    """Threads asking the load balancer where to publish, each call counted."""

    def __init__(self, ep, threads=3, seconds=30):
        self.ep = ep
        self.ok = 0
        self.failed = []
        self.stop_at = time.monotonic() + seconds  # bounded even if stop() is never called
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(threads)]
        for th in self.threads:
            th.start()

    def run(self, i):
        n = 0
        while time.monotonic() < self.stop_at:
            n += 1
            try:
                status, out = self.ep.route("live", "load%d-%d" % (i, n % 50), "broadcast")
            except Exception as e:
                status, out = 0, str(e)
            with self.lock:
                if status == 200:
                    self.ok += 1
                else:
                    self.failed.append((time.monotonic(), status, str(out)[:200]))
            time.sleep(0.01)

    def stop(self):
        self.stop_at = 0
        for th in self.threads:
            th.join(timeout=15)


def _setup(c):
    c.lb.setup_group()
    nodes = {n["id"]: n for n in c.lb.nodes()}
    check(len(nodes) == 2, "expected an origin and an edge, got %s" % list(nodes))
    for m in c.managers:
        # Every manager knows both, alive, and as launched by the controller (a node registers
        # within milliseconds of its launch, often through a manager that did not launch it).
        wait_for(lambda: sorted(n["id"] for n in m.nodes(states=["alive"]) if n["managed"]) ==
                 sorted(nodes), 5, "%s to see both nodes alive and managed" % m.mname)
    # Heartbeats are shared in batches: each manager writes those it took and applies the
    # others' (newer than its own).
    for m in c.managers:
        wait_for(lambda: (lambda y: y["hotRowsWritten"] > 0 and y["hotRowsApplied"] > 0)(
            m.leadership()["sync"]), 4, "%s to share heartbeat state" % m.mname)
    return nodes


def _same_nodes_alive(c, before, what):
    now = {n["id"]: n for n in c.lb.nodes()}
    check(set(now) == set(before), "%s: nodes changed: %s -> %s" % (what, sorted(before),
                                                                     sorted(now)))
    bad = [(i, n["state"]) for i, n in now.items() if n["state"] != "alive"]
    check(not bad, "%s: nodes not alive: %s" % (what, bad))


def test_leader_killed_under_routing_load_and_ctl_through_lb(t):
    c = Cluster(t)
    try:
        nodes = _setup(c)
        launched = len(events_of(c.lb, "node_launched"))
        leader = c.wait_leader()
        load = RoutingLoad(c.lb)
        time.sleep(1.5)
        before_ok = load.ok
        check(before_ok > 20, "routing through haproxy answered only %d times" % before_ok)
        killed_at = time.monotonic()
        leader.kill(signal.SIGKILL)
        rest = [m for m in c.managers if m is not leader]
        new = c.wait_leader(among=rest, timeout=6)
        took = time.monotonic() - killed_at
        check(took < 3.0, "a new leader took %.2f s (want < 3 s)" % took)
        # The new leader acts: it answers node actions through the load balancer.
        wait_for(lambda: c.lb.http("/api/v1/groups/g1/thresholds", "POST",
                                   {"role": "edge", "scaleOut": 60})[0] == 200, 3,
                 "the new leader to take a group action through haproxy")
        time.sleep(4)  # past dead-after on the new leader
        load.stop()
        check(load.ok > before_ok + 50, "routing stalled after the kill (%d answers)" % load.ok)
        with open(t.path("figures.txt"), "w") as f:
            f.write("new leader after %.2f s; routing %d ok, %d failed\n" % (
                took, load.ok, len(load.failed)))
        check(len(load.failed) <= 3, "%d routing calls failed across the kill (only those in "
              "flight may): %s" % (len(load.failed), load.failed[:5]))
        _same_nodes_alive(c, nodes, "after the leader was killed")
        check(not events_of(c.lb, "node_dead"), "a node was declared dead: %s" %
              events_of(c.lb, "node_dead"))
        check(len(events_of(c.lb, "node_launched")) == launched,
              "nodes were launched again: %s" % events_of(c.lb, "node_launched"))
        elected = [e for e in events_of(c.lb, "leader_elected") if new.mname in e["message"]]
        check(elected, "no leader_elected event for %s" % new.mname)

        # sluice ctl through the load balancer: reads from any manager, writes to the leader.
        r = c.lb.ctl("status")
        check(r.returncode == 0 and "postgresql" in r.stdout, "ctl status: %s %s" %
              (r.stdout, r.stderr))
        r = c.lb.ctl("nodes")
        check(r.returncode == 0 and all(i in r.stdout for i in nodes), "ctl nodes: %s %s" %
              (r.stdout, r.stderr))
        pol = t.path("policy.json")
        with open(pol, "w") as f:
            json.dump(scale_policy("via ctl", edges=(1, 2), origins=(1, 1)), f)
        r = c.lb.ctl("policy", "replace", "e2e", pol)
        check(r.returncode == 0, "ctl policy replace through haproxy: %s %s" % (r.stdout,
                                                                              r.stderr))
        # Seen by every manager within a second.
        for m in rest:
            wait_for(lambda: m.ok("/api/v1/scalepolicies/e2e").get("description") == "via ctl"
                     or m.ok("/api/v1/scalepolicies/e2e").get("policy", {}).get(
                         "description") == "via ctl", 1.0,
                     "%s to see the policy written through another manager" % m.mname)
        r = c.lb.ctl("route", "live/ctl", "--publish")
        check(r.returncode == 0, "ctl route through haproxy: %s %s" % (r.stdout, r.stderr))

        # A manager refuses a database newer than it knows, and a password in the URL.
        c.pg.psql("UPDATE sluice_schema SET version = 99")
        base = [SLUICE, "manager", "--listen", "%s:5090" % c.lb_addr, "--admin-token", TOKEN,
                "--cluster-secret", SECRET, "--db-password-file", c.pg.password_file]
        r = subprocess.run(base + ["--db", c.pg.url], capture_output=True, text=True, timeout=20)
        check(r.returncode == 2 and "schema version 99, newer than this sluice knows" in
              r.stderr, "newer schema: exit %d: %s" % (r.returncode, r.stderr))
        r = subprocess.run(base + ["--db", c.pg.url.replace("sluice@", "sluice:hunter22@")],
                           capture_output=True, text=True, timeout=20)
        check(r.returncode == 2 and "password" in r.stderr and "hunter22" not in r.stderr,
              "password in the URL: exit %d: %s" % (r.returncode, r.stderr))
    finally:
        c.cleanup()


def test_frozen_leader_is_fenced_and_steps_down(t):
    c = Cluster(t)
    try:
        _setup(c)
        old = c.wait_leader()
        edge = c.lb.nodes("edge")[0]
        old.proc.send_signal(signal.SIGSTOP)
        try:
            # While it sleeps its edge dies: the new leader must replace it, once.
            os.kill(edge["pid"], signal.SIGKILL)
            rest = [m for m in c.managers if m is not old]
            new = c.wait_leader(among=rest, timeout=6)
            wait_for(lambda: [n for n in c.lb.nodes("edge", ["alive"]) if n["id"] != edge["id"]],
                     25, "the new leader to replace the killed edge")
            launched = len(events_of(c.lb, "node_launched"))
        finally:
            old.proc.send_signal(signal.SIGCONT)
        # Awake, the old leader still believes it leads and acts on its stale view (its
        # edge's process is gone): the fencing token refuses it, and it steps down.
        lead = wait_for(lambda: (lambda l: l if not l["isLeader"] and l["fencedActions"] >= 1
                                 else None)(old.leadership()), 5,
                        "the resumed leader to be fenced and step down")
        check(lead["leader"] == new.mname, "the resumed manager says %s leads, not %s" %
              (lead["leader"], new.mname))
        time.sleep(2)
        check(len(c.leaders()) == 1, "two leaders: %s" % [m.mname for m in c.leaders()])
        check(len(events_of(c.lb, "node_launched")) == launched,
              "the stale leader launched: %s" % events_of(c.lb, "node_launched"))
        edges = c.lb.nodes("edge", ["alive", "starting", "launching"])
        check(len(edges) == 1, "want exactly one edge, got %s" % [e["id"] for e in edges])
        down = [e for e in events_of(c.lb, "leader_stepped_down") if old.mname in e["message"]]
        check(down and "stale" in down[-1]["message"], "no step-down by the fence: %s" % down)
    finally:
        c.cleanup()


def test_postgres_outage_routing_from_memory_writes_503(t):
    c = Cluster(t)
    try:
        nodes = _setup(c)
        launched = len(events_of(c.lb, "node_launched"))
        load = RoutingLoad(c.lb, threads=2, seconds=PG_OUTAGE_S + 20)
        c.pg.stop()
        stopped = time.monotonic()
        time.sleep(1.5)
        status, out = c.lb.http("/api/v1/scalepolicies/e2e", "PUT",
                                scale_policy("during the outage", edges=(1, 2), origins=(1, 1)))
        check(status == 503 and "database" in str(out), "a write during the outage answered "
              "%d: %s" % (status, out))
        while time.monotonic() < stopped + PG_OUTAGE_S:
            _same_nodes_alive(c, nodes, "during the outage")
            time.sleep(1)
        failed_in_outage = len(load.failed)
        c.pg.start()
        wait_for(lambda: all(m.leadership()["store"]["healthy"] for m in c.managers), 10,
                 "every manager to reach the database again")
        c.wait_leader(timeout=6)
        wait_for(lambda: c.lb.http("/api/v1/scalepolicies/e2e", "PUT", scale_policy(
            "after the outage", edges=(1, 2), origins=(1, 1)))[0] == 200, 5,
            "a write after the outage")
        for m in c.managers:
            wait_for(lambda: "after the outage" in str(m.ok("/api/v1/scalepolicies/e2e")), 1.0,
                     "%s to see the write" % m.mname)
        time.sleep(3)  # dead-after with the leader back in charge
        load.stop()
        check(failed_in_outage == 0, "routing failed during the outage: %s" % load.failed[:5])
        check(len(load.failed) == 0, "routing failed after the outage: %s" % load.failed[:5])
        check(load.ok > 100, "routing answered only %d times" % load.ok)
        _same_nodes_alive(c, nodes, "after the outage")
        check(not events_of(c.lb, "node_dead"), "a node was declared dead: %s" %
              events_of(c.lb, "node_dead"))
        check(len(events_of(c.lb, "node_launched")) == launched, "nodes were launched")
        # What each manager recorded while the database was away was queued, then written.
        for kind in ("store_unreachable", "store_reachable"):
            names = sorted(m.mname for m in c.managers
                           if any(m.mname + " " in e["message"] for e in events_of(c.lb, kind)))
            check(names == ["m1", "m2", "m3"], "%s events from %s only" % (kind, names))
    finally:
        c.cleanup()


def test_all_managers_killed_streams_flow_and_nodes_adopted(t):
    c = Cluster(t)
    try:
        nodes = _setup(c)
        pids = {i: n["pid"] for i, n in nodes.items()}
        launched = len(events_of(c.lb, "node_launched"))
        st, out = c.lb.route("live", "ha", "broadcast")
        check(st == 200, "publish route: %d %s" % (st, out))
        publish(t.procs, out["urls"]["rtmp"])
        # Every manager knows where the stream is live: the origin's report reached each
        # through the shared hot state, whichever manager its heartbeats went to.  (Asked
        # without routing: each routing answer reserves room on the 2-viewer edge.)
        for m in c.managers:
            wait_for(lambda: any(x["app"] == "live" and x["name"] == "ha" and x["origin"]
                                 for x in m.ok("/api/v1/streams")["streams"]), 10,
                     "%s to know the stream is live" % m.mname)
        st, out = c.lb.route("live", "ha", "subscribe")
        check(st == 200 and out["urls"]["rtmp"], "subscribe route: %d %s" % (st, out))
        watch_s = ALL_DOWN_S + 10
        viewer = play_ffmpeg(t.procs, out["urls"]["rtmp"], t.path("viewer.flv"), watch_s)
        time.sleep(1)
        for m in c.managers:
            m.kill(signal.SIGKILL)
        time.sleep(ALL_DOWN_S)
        for i, m in enumerate(c.managers):
            m.start("%s-again" % m.mname)
        c.wait_leader(timeout=6)
        wait_for(lambda: {n["id"]: n["pid"] for n in c.lb.nodes(states=["alive"])} == pids, 10,
                 "the running nodes adopted, alive, same processes")
        viewer.wait(timeout=watch_s + 20)
        check_media(t.path("viewer.flv"), watch_s - 3, "a viewer while every manager was down")
        check(len(events_of(c.lb, "node_launched")) == launched, "nodes were launched again")
        check(not events_of(c.lb, "node_dead"), "a node was declared dead: %s" %
              events_of(c.lb, "node_dead"))
    finally:
        c.cleanup()
