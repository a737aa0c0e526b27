# SPDX-License-Identifier: Apache-2.0
"""The manager tier's node simulator (build/bench/sluice-nodesim) measures what it says.

Its figures feed docs/benchmarks.md ("Manager tier"), so here they are checked against what
the manager itself shows and against faults made on purpose, never against a speed: two
simulators run at once against one real manager; the manager is frozen (SIGSTOP) for a
known time, which the first must see as heartbeat latency, and the second simulator is
frozen past dead-after, so the manager declares its nodes dead, which it must count as
false deaths while the first counts none."""
import json
import os
import signal
import time

from harness import ADDR_BLOCK, SLUICE, check, wait_for
from manager_util import SECRET, TOKEN, Manager

NODESIM = os.path.join(os.path.dirname(os.path.abspath(SLUICE)), "bench", "sluice-nodesim")
WARMUP = 1.0
DURATION = 6.0
MANAGER_FROZEN_S = 0.4


def _groups(m, names):
    m.ok("/api/v1/launchconfigs", "POST", {"launchconfig": {
        "name": "sim", "description": "simulated", "image": "sluice", "version": "0.0.1",
        "targets": {"target": [{"role": r, "instanceType": "sim", "connectionCapacity": "1000"}
                               for r in ("origin", "edge")]}}})
    m.ok("/api/v1/scalepolicies", "POST", {"policy": {
        "name": "sim", "description": "fixed", "version": "0.0.1", "type": "",
        "targets": {"target": [{"role": r, "coolDownPeriod": "60000",
                                "estimatedWarmUpTime": "1000", "minLimit": "0",
                                "maxLimit": "10", "scaleAdjustment": "1"}
                               for r in ("origin", "edge")]}}})
    for g in names:
        # No origin added: the autoscaler leaves the group alone; the simulated nodes join it.
        m.ok("/api/v1/groups", "POST", {"name": g, "regions": ["local"],
                                        "launchConfig": "sim", "scalePolicy": "sim"})


def _sim(t, m, name, nodes, prefix, group_prefix):
    out = open(t.path(name + ".json"), "wb")
    p = t.procs.start([NODESIM, "--manager", "http://%s:%d" % (m.addr, m.port + 1),
                       "--api", m.url, "--token", TOKEN, "--secret", SECRET,
                       "--nodes", str(nodes), "--prefix", prefix, "--group-prefix", group_prefix,
                       "--origin-every", "5", "--warmup", str(WARMUP),
                       "--duration", str(DURATION), "--watch-per-s", "10",
                       # each node from an address of its own, in this file's block
                       "--source-net", "127.%d" % ADDR_BLOCK,
                       "--server-pid", str(m.proc.pid)], name, stdout=out)
    out.close()
    return p


def _report(t, name):
    with open(t.path(name + ".json")) as f:
        return json.load(f)


def test_nodesim_counts_latency_and_false_deaths(t):
    check(os.access(NODESIM, os.X_OK), "%s is not built (ninja -C build)" % NODESIM)
    m = Manager(t, args=["--max-connections-per-ip", "0", "--conn-rate-per-ip", "0"])
    _groups(m, ["ga-0", "gb-0"])
    a = _sim(t, m, "sim-a", 10, "a", "ga")
    b = _sim(t, m, "sim-b", 5, "b", "gb")
    # Both registered (the manager lists them alive), then into the window.
    wait_for(lambda: len([n for n in m.nodes(states=["alive"])]) == 15, 10,
             "the 15 simulated nodes to be alive")
    listed = {n["id"]: n for n in m.nodes()}
    check(sum(1 for i in listed if i.startswith("a-")) == 10 and
          [listed["a-%d" % i]["role"] for i in range(5)] ==
          ["origin", "edge", "edge", "edge", "edge"],
          "the manager lists %s" % sorted((i, n["role"]) for i, n in listed.items()))
    time.sleep(WARMUP + 1.0)
    # The manager frozen for a known time: every heartbeat sent meanwhile waits for it.
    os.kill(m.proc.pid, signal.SIGSTOP)
    time.sleep(MANAGER_FROZEN_S)
    os.kill(m.proc.pid, signal.SIGCONT)
    # Simulator b frozen past dead-after (2 s): its nodes' probes find nothing listening.
    b.send_signal(signal.SIGSTOP)
    time.sleep(3.0)
    b.send_signal(signal.SIGCONT)
    for p in (a, b):
        check(p.wait(timeout=40) == 0, "%s exited with %s" % (p.name, p.returncode))

    ra, rb = _report(t, "sim-a"), _report(t, "sim-b")
    # a: every node registered once, a beat a second each, all answered, no false death.
    check(ra["registered"] == 10 and ra["registrations"]["again"] == 0, "a: %s" %
          ra["registrations"])
    hb = ra["heartbeats"]
    check(abs(hb["sent"] - 10 * DURATION) <= 10 and hb["ok"] == hb["sent"] and
          hb["failed"] == 0 and hb["bad_signature"] == 0,
          "a: heartbeats %s for 10 nodes over %.0f s" % (hb, DURATION))
    lat = ra["latency_ms"]
    check(lat["n"] == hb["ok"] and 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"],
          "a: latency %s" % lat)
    # The freeze shows as latency: the heartbeat that came first waited nearly all of it.
    check(MANAGER_FROZEN_S * 1000 * 0.6 <= lat["max"] < 2000 and lat["p50"] < 100,
          "a: the manager was frozen %.0f ms; latency %s" % (MANAGER_FROZEN_S * 1000, lat))
    fd = ra["false_deaths"]
    check(fd["total"] == 0 and fd["list_polls"] > 10 and fd["list_final_seen"] == 10,
          "a: %s" % fd)
    check(ra["server_cpu_pct"] >= 0 and ra["client_cpu_pct"] > 0, "a: cpu %s %s" % (
        ra["server_cpu_pct"], ra["client_cpu_pct"]))
    # b: declared dead by the manager while frozen; it says so, and registers again.
    deaths = [e for e in m.events() if e["kind"] == "node_dead" and e["node"].startswith("b-")]
    check(len(deaths) == 5, "the manager declared %d of b's 5 nodes dead" % len(deaths))
    fb = rb["false_deaths"]
    check(fb["total"] >= 5 and fb["answered_unknown"] == 5 and
          rb["registrations"]["again"] == 5 and fb["examples"],
          "b: its 5 nodes were declared dead; it counted %s, registrations %s" % (
              fb, rb["registrations"]))
