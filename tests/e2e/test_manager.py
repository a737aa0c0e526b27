# SPDX-License-Identifier: Apache-2.0
"""The stream manager with the local controller, as an operator and a viewer meet it: routing
to a real origin and edges, autoscaling out and back in, a killed edge replaced, a manager
restart that nodes never notice, and the errors of the API and `sluice ctl`."""
import json
import os
import subprocess
import time
import urllib.error
import urllib.request

from harness import (SLUICE, check, check_media, new_addr, play_ffmpeg, publish, wait_for)
from manager_util import LAUNCH_CONFIG, TOKEN, Manager, scale_policy


def _finish(m):
    m.cleanup()
    bad = m.sanitizer_reports()
    check(not bad, "sanitizer report in node logs: %s" % (bad[:1],))


def test_manager_config_errors_exit_2(t):
    cases = [
        (["--listen", "nowhere"], "listen"),
        (["--admin-token", "short"], "admin-token"),
        (["--cluster-secret", "x"], "cluster-secret"),
        (["--local-addr-base", "10.0.0"], "local-addr-base"),
        (["--dead-after", "soon"], "--dead-after"),
        (["--controller", "nope"], "--controller"),
        (["--db", "postgres://db/x"], "db"),
    ]
    base = ["--admin-token", TOKEN, "--cluster-secret", "e2e-cluster-secret-0123",
            "--db", "sqlite:" + t.path("x.db"), "--node-dir", t.path("nodes")]
    for extra, want in cases:
        r = subprocess.run([SLUICE, "manager"] + base + extra, capture_output=True, text=True,
                           timeout=10)
        check(r.returncode == 2, "%s: exit %d, expected 2 (%s)" % (extra, r.returncode, r.stderr))
        check(want in r.stderr, "%s: %r does not name %r" % (extra, r.stderr, want))
    conf = t.path("bad.conf")
    with open(conf, "w") as f:
        f.write("listen = 127.0.0.1:5070\nnot-a-key = 1\n")
    r = subprocess.run([SLUICE, "manager", "--config", conf], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 2 and "not-a-key" in r.stderr, "config file: %s" % r.stderr)
    r = subprocess.run([SLUICE, "manager", "--help"], capture_output=True, text=True, timeout=10)
    check(r.returncode == 0 and "--cluster-secret" in r.stdout and "[default: 127.0.0.1:5070]"
          in r.stdout, "--help: %s" % r.stdout[:300])


def test_api_refusals_and_ctl_errors(t):
    m = Manager(t)
    try:
        st, out = m.http("/api/v1/groups", token=None)
        check(st == 401 and "token" in out["error"], "no token: %d %s" % (st, out))
        st, out = m.http("/api/v1/groups", token="wrong-token-xyz")
        check(st == 401, "wrong token: %d" % st)
        st, _ = m.http("/api/v1/groups?accessToken=" + TOKEN, token=None)
        check(st == 200, "accessToken query: %d" % st)
        st, out = m.http("/healthz", token=None)
        check(st == 200, "healthz %d" % st)
        st, out = m.http("/api/v1/launchconfigs", "POST", b"{not json")
        check(st == 400 and "malformed JSON" in out["error"], "bad JSON: %d %s" % (st, out))
        bad = {"launchconfig": {"name": "x", "targets": {"target": [
            {"role": "edge", "connectionCapacity": "lots"}]}}}
        st, out = m.http("/api/v1/launchconfigs", "POST", bad)
        check(st == 400 and "connectionCapacity" in out["error"], "bad capacity: %s" % out)
        st, out = m.http("/api/v1/scalepolicies", "POST", {"name": "p", "targets": [
            {"role": "edge", "minLimit": "4", "maxLimit": "2"}]})
        check(st == 400 and "minLimit (4) is greater than maxLimit (2)" in out["error"],
              "min > max: %s" % out)
        st, out = m.http("/api/v1/groups", "POST", {"regions": ["local"], "launchConfig": "nope",
                                                   "scalePolicy": "nope"})
        check(st == 400 and "no launch configuration named nope" in out["error"],
              "unknown launch config: %s" % out)
        m.ok("/api/v1/launchconfigs", "POST", LAUNCH_CONFIG)
        st, out = m.http("/api/v1/launchconfigs", "POST", LAUNCH_CONFIG)
        check(st == 409, "duplicate: %d" % st)
        # The Red5 Pro paths answer too, with accessToken in the query.
        st, out = m.http("/streammanager/api/4.0/admin/debug/cloudcontroller?accessToken=" + TOKEN,
                         token=None)
        check(st == 200 and out == "local", "cloudcontroller: %d %r" % (st, out))
        st, _ = m.http("/streammanager/api/4.0/admin/nodegroup", token=None)
        check(st == 401, "red5 admin without token: %d" % st)
        st, out = m.route("live", "nothing", "subscribe")
        check(st == 404 and "not live" in out["error"], "route of a stream not live: %s" % out)

        # sluice ctl: the server's message, a non-zero exit.
        r = m.ctl("group", "create", "--launch-config", "nope", "--scale-policy", "nope")
        check(r.returncode != 0 and "no launch configuration named nope" in r.stderr,
              "ctl error: %d %r" % (r.returncode, r.stderr))
        r = m.ctl("nodes", token="wrong-token-xyz")
        check(r.returncode != 0 and "401" in r.stderr, "ctl 401: %r" % r.stderr)
        bad_path = t.path("bad-policy.json")
        with open(bad_path, "w") as f:
            f.write('{"name":"p","targets":[{"role":"edge","minLimit":5,"maxLimit":1}]}')
        r = m.ctl("policy", "create", bad_path)
        check(r.returncode != 0 and "minLimit (5) is greater than maxLimit (1)" in r.stderr,
              "ctl policy: %r" % r.stderr)
        r = m.ctl("launchconfig", "list")
        check(r.returncode == 0 and "e2e" in r.stdout and "CAPACITY" in r.stdout,
              "ctl list: %r" % r.stdout)
        r = subprocess.run([SLUICE, "ctl", "--manager", "http://%s:1" % new_addr(), "nodes"],
                           capture_output=True, text=True, timeout=20)
        check(r.returncode != 0 and "cannot reach" in r.stderr, "unreachable: %r" % r.stderr)
    finally:
        _finish(m)


def _wait_live(m, app, stream):
    """Waits until the manager knows an origin has the stream (routing calls would count)."""
    wait_for(lambda: any(s["app"] == app and s["name"] == stream and s["origin"]
                         for s in m.ok("/api/v1/streams")["streams"]), 20,
             "%s/%s to be live through the manager" % (app, stream))


def _viewer_url(m, app, stream):
    st, out = m.route(app, stream, "subscribe")
    check(st == 200, "subscribe route: %d %s\nnodes: %s" % (st, out, [
        (n["id"], n["state"], n["load"]) for n in m.nodes()]))
    return out


def test_route_publish_watch_and_autoscale(t):
    m = Manager(t)
    try:
        m.setup_group()
        st, out = m.route("live", "demo", "broadcast")
        check(st == 200 and out["role"] == "origin", "broadcast route: %d %s" % (st, out))
        publish(t.procs, out["urls"]["rtmp"])
        _wait_live(m, "live", "demo")
        # Red5 Pro's routing path names the same edge's address.
        st, r5 = m.http("/streammanager/api/3.1/event/live/demo?action=subscribe", token=None)
        check(st == 200 and r5["name"] == "demo" and r5["scope"] == "live" and
              r5["serverAddress"] == m.nodes("edge", ["alive"])[0]["host"], "red5 route: %s" % r5)
        st, again = m.route("live", "demo", "broadcast")
        check(again["node"] == out["node"], "a live stream's publisher goes to its origin again")
        time.sleep(3.2)  # the route above reserved room on the edge for 3 s; let it lapse

        # Capacity 2 per edge, scale out above 60%: viewers make the group grow to 3 edges.
        viewers, edges_seen = [], set()
        first = None
        for i in range(5):
            # Room for this viewer: ceil((i + 1) / 2) edges, which the last viewers' load
            # (above 60%) made the autoscaler start.
            want = min(3, (i + 2) // 2)
            wait_for(lambda: len(m.nodes("edge", ["alive"])) >= want, 25,
                     "%d alive edges for viewer %d" % (want, i + 1))
            check(len(m.nodes("edge")) <= 3, "never beyond maxLimit: %s" % m.nodes("edge"))
            route = _viewer_url(m, "live", "demo")
            check(route["role"] == "edge", "viewers go to edges: %s" % route)
            edges_seen.add(route["node"])
            path = t.path("viewer%d.flv" % i)
            viewers.append(play_ffmpeg(t.procs, route["urls"]["rtmp"], path, 14 if i == 0 else 10,
                                       name="viewer%d" % i))
            if first is None:
                first = path
            # A viewer is counted once its edge reports it (about a second).
            wait_for(lambda: sum(n["load"]["viewers"] for n in m.nodes("edge")) >= i + 1, 15,
                     "viewer %d to be counted" % i)
        time.sleep(3)
        check(len(m.nodes("edge")) == 3, "3 edges, never beyond maxLimit: %s" % m.nodes("edge"))
        check(len(edges_seen) >= 2, "viewers were spread over edges: %s" % edges_seen)
        outs = [e for e in m.events() if e["kind"] == "scale_out"]
        check(len(outs) >= 2 and "connections" in outs[0]["message"],
              "scale-out decisions logged with numbers: %s" % outs)
        for v in viewers:
            v.wait(timeout=40)
        check_media(first, 8, "the first viewer, routed to an edge")
        # Everyone left: back to minLimit (1 edge) after the cool-downs, by draining.
        wait_for(lambda: len(m.nodes("edge")) == 1, 40, "the group to shrink back to 1 edge")
        kinds = [e["kind"] for e in m.events()]
        check("scale_in" in kinds and "node_removed" in kinds, "scale-in logged: %s" % kinds)
        drained = [e for e in m.events() if e["kind"] == "node_removed"]
        check(all("drained" in e["message"] for e in drained),
              "removed only once drained: %s" % drained)
    finally:
        _finish(m)


def test_dead_edge_replaced_and_manager_restart(t):
    m = Manager(t)
    try:
        m.setup_group()
        st, out = m.route("live", "r", "broadcast")
        publish(t.procs, out["urls"]["rtmp"])
        _wait_live(m, "live", "r")
        edge = m.nodes("edge", ["alive"])[0]
        os.kill(edge["pid"], 9)
        killed = time.monotonic()
        wait_for(lambda: any(e["kind"] == "node_dead" and e["node"] == edge["id"]
                             for e in m.events()), 5, "the dead edge to be noticed", interval=0.05)
        noticed = time.monotonic() - killed
        check(noticed <= 3.0, "kill -9 noticed after %.2fs (> 3 s)" % noticed)
        wait_for(lambda: [n for n in m.nodes("edge", ["alive"]) if n["id"] != edge["id"]], 20,
                 "a replacement edge alive")
        # The replacement serves viewers.
        route = _viewer_url(m, "live", "r")
        v = play_ffmpeg(t.procs, route["urls"]["rtmp"], t.path("after-replace.flv"), 12,
                        name="viewer-replaced")

        # Manager restart (kill -9): groups, policies and nodes are kept; nodes keep serving.
        before = {n["id"]: n["pid"] for n in m.nodes()}
        groups = m.ok("/api/v1/groups")["groups"]
        m.kill()
        time.sleep(1.5)
        m.start("node-manager-2")
        after = {n["id"]: n["pid"] for n in m.nodes()}
        check(after == before, "nodes after restart %s != before %s" % (after, before))
        check([g["name"] for g in m.ok("/api/v1/groups")["groups"]] == [g["name"] for g in groups],
              "groups kept")
        wait_for(lambda: len(m.nodes(states=["alive"])) == len(before), 10,
                 "every node alive again (heartbeats reach the new manager)")
        v.wait(timeout=40)
        check_media(t.path("after-replace.flv"), 9, "a viewer across the manager restart")
        r = m.ctl("events")
        check(r.returncode == 0 and "node_dead" in r.stdout, "ctl events: %r" % r.stdout[-500:])
    finally:
        _finish(m)


TWO_ORIGINS = scale_policy("1 to 2 origins, 1 edge", edges=(1, 1), origins=(1, 2),
                           edge_cooldown_ms=60000, origin_warmup_ms=1000)


def _edge_node(edge):
    with urllib.request.urlopen("http://%s:%d/api/v1/node" % (edge["host"], edge["httpPort"]),
                                timeout=5) as r:
        return json.load(r)


def _edge_upstreams(edge):
    return ["%s:%d" % (u["host"], u["port"]) for u in _edge_node(edge)["cluster"]["upstreams"]]


def test_edges_follow_origins_added_and_lost(t):
    """An origin added to a group after its edge started is pulled from by that edge (the
    heartbeat answer carries the group's origins); one that dies is dropped from its list."""
    m = Manager(t)
    try:
        m.setup_group(policy=TWO_ORIGINS, replace_dead=False)
        edge = m.nodes("edge", ["alive"])[0]
        first = m.nodes("origin", ["alive"])[0]
        check(_edge_upstreams(edge) == ["%s:%d" % (first["host"], first["rtmpPort"])],
              "edge starts with the first origin: %s" % _edge_upstreams(edge))
        m.ok("/api/v1/groups/g1/origins", "POST", {})
        wait_for(lambda: len(m.nodes("origin", ["alive"])) == 2, 20, "a second origin alive")
        second = [o for o in m.nodes("origin", ["alive"]) if o["id"] != first["id"]][0]
        both = ["%s:%d" % (o["host"], o["rtmpPort"]) for o in (first, second)]
        wait_for(lambda: _edge_upstreams(edge) == both, 10,
                 "the edge to pull from both origins (has %s)" % _edge_upstreams(edge))
        check(any(e["kind"] == "origins_changed" and e["node"] == edge["id"]
                  for e in m.events()), "origins_changed event for the edge")

        # A stream published to the new origin only is watched through the edge.
        publish(t.procs, "rtmp://%s:%d/live/late" % (second["host"], second["rtmpPort"]))
        _wait_live(m, "live", "late")
        wait_for(lambda: _edge_node(edge)["cluster"]["stream_origins_known"] >= 1, 5,
                 "the edge to hear where live/late is published")
        route = _viewer_url(m, "live", "late")
        check(route["node"] == edge["id"], "viewer routed to the edge: %s" % route)
        check(route["urls"]["hls"].endswith("/live/late/index.m3u8") and
              route["urls"]["watch"].endswith("/live/late/") and
              route["urls"]["whep"].endswith("/live/late/whep"), "route URLs %s" % route["urls"])
        v = play_ffmpeg(t.procs, route["urls"]["rtmp"], t.path("late.flv"), 6, name="viewer-late")
        v.wait(timeout=40)
        check_media(t.path("late.flv"), 4.5, "a stream of the added origin, through the edge")
        # The heartbeat answer said which origin has the stream: the edge went there first.
        pull = [p for p in _edge_node(edge)["cluster"]["pulls"] if p["stream"] == "late"]
        check(pull and pull[0]["upstream"] == both[1] and pull[0]["attempts"] == 1,
              "the edge's pull went straight to the origin with the stream: %s" % pull)

        # The first origin dies: the edge stops trying it.
        os.kill(first["pid"], 9)
        wait_for(lambda: _edge_upstreams(edge) == both[1:], 15,
                 "the edge to drop the dead origin (has %s)" % _edge_upstreams(edge))

        # Draining a node tells the node: its /healthz turns 503 for load balancers, while
        # the publisher it has stays.
        m.ok("/api/v1/nodes/%s/drain" % second["id"], "POST", {})

        def healthz():
            try:
                with urllib.request.urlopen("http://%s:%d/healthz" % (
                        second["host"], second["httpPort"]), timeout=5) as r:
                    return r.status, r.read()
            except urllib.error.HTTPError as e:
                return e.code, e.read()
        wait_for(lambda: healthz() == (503, b"draining\n"), 5, "/healthz to say draining")
        check(_edge_node(second)["draining"] and _edge_node(second)["publishers"] == 1,
              "the draining origin keeps its publisher: %s" % _edge_node(second))
    finally:
        _finish(m)


def test_red5_pro_admin_calls_run_a_group(t):
    """An operator's Red5 Pro Stream Manager script, pointed at sluice: create a node group
    and its origin through /streammanager/api/2.0/admin (accessToken in the query), set the
    scale-out alarm, and route a publisher and a viewer through the event paths; the viewer
    decodes the stream from the edge the answer names."""
    m = Manager(t)
    try:
        m.ok("/api/v1/launchconfigs", "POST", LAUNCH_CONFIG)
        m.ok("/api/v1/scalepolicies", "POST", scale_policy("1 origin, 1 edge", edges=(1, 2),
                                                           origins=(1, 1)))
        q = "?accessToken=" + TOKEN
        base = "/streammanager/api/2.0/admin"
        st, g = m.http(base + "/nodegroup" + q, "POST", {
            "regions": ["local"], "launchConfig": "e2e", "scalePolicy": "e2e"}, token=None)
        check(st == 201 and g["name"] and g["launchConfig"] == "e2e", "nodegroup: %d %s" % (st, g))
        name = g["name"]
        st, g = m.http("%s/nodegroup/%s/node/origin%s" % (base, name, q), "POST", {}, token=None)
        check(st == 201 and g["origins"] == 1, "add origin: %d %s" % (st, g))
        wait_for(lambda: len(m.nodes("origin", ["alive"])) == 1 and
                 len(m.nodes("edge", ["alive"])) == 1, 30, "the origin and the policy's edge")
        st, listed = m.http(base + "/nodegroup" + q, token=None)
        check(st == 200 and [x["name"] for x in listed] == [name] and listed[0]["edges"] == 1,
              "nodegroup list: %s" % listed)
        st, a = m.http(base + "/alarm/scaleout/default?type=edge&threshold=75&accessToken=" +
                       TOKEN, "POST", {}, token=None)
        check(st == 200 and a["threshold"] == 75, "alarm: %d %s" % (st, a))
        th = m.ok("/api/v1/groups/%s/thresholds" % name)["edge"]
        check(th["scaleOut"] == 75, "the group's edge scale-out threshold: %s" % th)

        st, pub = m.http("/streammanager/api/2.0/event/live/r5?action=broadcast", token=None)
        origin = m.nodes("origin", ["alive"])[0]
        check(st == 200 and pub["serverAddress"] == origin["host"] and pub["scope"] == "live",
              "broadcast: %d %s" % (st, pub))
        publish(t.procs, "rtmp://%s:%d/live/r5" % (pub["serverAddress"], origin["rtmpPort"]))
        _wait_live(m, "live", "r5")
        st, sub = m.http("/streammanager/api/2.0/event/live/r5?action=subscribe", token=None)
        edge = m.nodes("edge", ["alive"])[0]
        check(st == 200 and sub["serverAddress"] == edge["host"] and sub["name"] == "r5",
              "subscribe: %d %s" % (st, sub))
        v = play_ffmpeg(t.procs, "rtmp://%s:%d/live/r5" % (sub["serverAddress"], edge["rtmpPort"]),
                        t.path("r5.flv"), 5, name="viewer-r5")
        v.wait(timeout=40)
        check_media(t.path("r5.flv"), 3.5, "a viewer routed by the Red5 Pro event path")
        st, gone = m.http("%s/nodegroup/%s%s" % (base, name, q), "DELETE", token=None)
        check(st == 200, "delete nodegroup: %d %s" % (st, gone))
        wait_for(lambda: not m.nodes(states=["alive", "starting", "draining"]), 20,
                 "the group's nodes to be terminated")
    finally:
        _finish(m)
