# SPDX-License-Identifier: Apache-2.0
"""Ant Media operators' tooling against sluice: /rest/v2/cluster-nodes matches the manager's own
node list, /rest/v2/system-resources-info answers on the manager and on a node, and a node
above its memory limit (made tiny by a config reload) is skipped by routing and refuses a
direct viewer with a clear error, said in its stats, /metrics and heartbeats."""
import json
import os
import signal
import urllib.error
import urllib.request

from harness import check, publish, wait_for
from manager_util import TOKEN, Manager
from rtmp_raw import RawRtmp

LC = {"launchconfig": {"name": "am", "image": "sluice", "version": "1",
                       "targets": {"target": [
                           {"role": "origin", "instanceType": "local", "connectionCapacity": 50},
                           {"role": "edge", "instanceType": "local", "connectionCapacity": 50}]}}}
SP = {"policy": {"name": "am", "targets": {"target": [
    {"role": "origin", "minLimit": 1, "maxLimit": 1},
    {"role": "edge", "minLimit": 2, "maxLimit": 2}]}}}


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_antmedia_cluster_nodes_and_admission(t):
    m = Manager(t)
    try:
        m.ok("/api/v1/launchconfigs", "POST", LC)
        m.ok("/api/v1/scalepolicies", "POST", SP)
        m.ok("/api/v1/groups", "POST", {"name": "am", "regions": ["local"],
                                         "launchConfig": "am", "scalePolicy": "am"})
        m.ok("/api/v1/groups/am/origins", "POST", {})
        wait_for(lambda: len(m.nodes("origin", ["alive"])) == 1 and
                 len(m.nodes("edge", ["alive"])) == 2, 30, "an origin and two edges")

        # cluster-nodes is the manager's node list in Ant Media's names.
        st, out = m.http("/rest/v2/cluster-nodes", token=None)
        check(st == 401, "cluster-nodes without the token: %d" % st)
        mine = {n["id"]: n for n in m.nodes()}
        st, am = m.http("/rest/v2/cluster-nodes")
        check(st == 200 and {n["id"] for n in am} == set(mine) and
              all(n["ip"] == mine[n["id"]]["host"] and n["status"] == "ALIVE" and
                  n["role"] == mine[n["id"]]["role"] and isinstance(n["lastUpdateTime"], int) and
                  isinstance(n["cpu"], str) and isinstance(n["memory"], str) for n in am),
              "cluster-nodes %s\nvs /api/v1/nodes %s" % (am, list(mine.values())))
        st, page = m.http("/rest/v2/cluster-nodes/list/1/5")
        check(st == 200 and [n["id"] for n in page] == [n["id"] for n in am][1:],
              "a page: %d %s" % (st, page))
        st, cnt = m.http("/rest/v2/cluster-nodes/count")
        check(st == 200 and cnt["number"] == len(mine), "count: %d %s" % (st, cnt))
        one = sorted(mine)[0]
        st, out = m.http("/rest/v2/cluster-nodes/" + one)
        check(st == 200 and out["id"] == one, "one node: %d %s" % (st, out))
        st, out = m.http("/rest/v2/cluster-nodes/nope")
        check(st == 404, "unknown node: %d" % st)
        st, res = m.http("/rest/v2/system-resources-info")
        check(st == 200 and 0 <= res["cpuUsage"]["systemCPULoad"] <= 100 and
              res["cluster"]["aliveNodes"] == 3, "manager resources: %d %s" % (st, res))

        edges = m.nodes("edge", ["alive"])
        hot, cool = edges[0], edges[1]
        st, body = _get("http://%s:%d/rest/v2/system-resources-info" % (hot["host"],
                                                                         hot["httpPort"]))
        res = json.loads(body)
        check(st == 200 and res["systemMemoryInfo"]["totalMemory"] > 0 and
              res["admission"]["memoryLimit"] == 75 and not res["admission"]["overloaded"],
              "node resources: %d %s" % (st, res))
        st, body = _get("http://%s:%d/rest/v2/cluster-nodes/count" % (hot["host"],
                                                                       hot["httpPort"]))
        check(st == 200 and json.loads(body)["number"] >= 1, "node count: %d %s" % (st, body))

        # A tiny memory limit, by config reload: the edge is overloaded from its next sample.
        with open(os.path.join(m.node_dir, hot["id"] + ".conf"), "a") as f:
            f.write("memory-limit = 1\n")
        os.kill(hot["pid"], signal.SIGHUP)
        wait_for(lambda: m.ok("/api/v1/nodes/" + hot["id"])["machine"]["overloaded"] == "memory",
                 10, "the manager to hear the edge is overloaded")

        origin = m.nodes("origin", ["alive"])[0]
        publish(t.procs, "rtmp://%s:%d/live/am" % (origin["host"], origin["rtmpPort"]))
        wait_for(lambda: any(s["name"] == "am" and s["origin"]
                             for s in m.ok("/api/v1/streams")["streams"]), 20, "live/am live")
        for i in range(4):
            st, r = m.route("live", "am", "subscribe")
            check(st == 200 and r["node"] == cool["id"],
                  "route %d went to %s, not the edge with room (%s): %s" % (i, r.get("node"),
                                                                            cool["id"], r))
        st, mgr = m.http("/api/v1/manager")
        check(mgr["routesSkippedOverloaded"] >= 4, "counted: %s" % mgr)

        # A viewer sent straight to the overloaded edge is refused, and told why.
        st, body = _get("http://%s:%d/live/am.flv" % (hot["host"], hot["httpPort"]))
        check(st == 503 and b"memory-limit of 1%" in body, "direct viewer: %d %s" % (st, body))
        # Over RTMP too: play is refused with the reason.
        c = RawRtmp(hot["host"], hot["rtmpPort"])
        c.handshake()
        c.connect("live")
        reply = c.play(c.create_stream(), "am")
        c.close()
        check(any("NetStream.Play.Failed" in x for x in reply) and
              any("memory-limit of 1%" in x for x in reply), "RTMP play: %s" % reply)
        # And over WHEP: the offer is refused before any WebRTC session is made.
        req = urllib.request.Request("http://%s:%d/live/am/whep" % (hot["host"], hot["httpPort"]),
                                     data=b"v=0\r\n", method="POST",
                                     headers={"Content-Type": "application/sdp"})
        try:
            urllib.request.urlopen(req, timeout=5)
            st, body = 200, b""
        except urllib.error.HTTPError as e:
            st, body = e.code, e.read()
        check(st == 503 and b"memory-limit of 1%" in body, "WHEP offer: %d %s" % (st, body))
        st, body = _get("http://%s:%d/api/v1/node" % (hot["host"], hot["httpPort"]))
        adm = json.loads(body)["admission"]
        check(adm["overloaded"] and adm["reason"] == "memory" and adm["refused"]["memory"] == 3,
              "node stats: %s" % adm)
        st, body = _get("http://%s:%d/metrics" % (hot["host"], hot["httpPort"]))
        check(b'sluice_admission_refused_total{reason="memory"} 3' in body and
              b"sluice_overloaded 1" in body, "metrics: %s" % body[:300])

        # An overloaded origin refuses a new publisher (the one already there stays).
        with open(os.path.join(m.node_dir, origin["id"] + ".conf"), "a") as f:
            f.write("memory-limit = 1\n")
        os.kill(origin["pid"], signal.SIGHUP)
        wait_for(lambda: m.ok("/api/v1/nodes/" + origin["id"])["machine"]["overloaded"] ==
                 "memory", 10, "the origin overloaded")
        c = RawRtmp(origin["host"], origin["rtmpPort"])
        c.handshake()
        c.connect("live")
        reply = c.publish(c.create_stream(), "am2")
        c.close()
        check(any("NetStream.Publish.Rejected" in x for x in reply) and
              any("memory-limit of 1%" in x for x in reply), "RTMP publish: %s" % reply)
        st, r = m.route("live", "am3", "broadcast")
        check(st == 503 and "above their CPU or memory limit" in r["error"],
              "routing has no origin to offer: %d %s" % (st, r))
        check(any(s["name"] == "am" and s["origin"] for s in m.ok("/api/v1/streams")["streams"]),
              "the publisher already there stays")
    finally:
        m.cleanup()
