# SPDX-License-Identifier: Apache-2.0
"""Members, /cluster round-robin and cluster events."""
import json
import time

from cluster_util import downstream, origin, wait_members
from harness import check, flv_tags, play_gstreamer, publish, stop_gently, wait_for


def test_round_robin_names_only_public_nodes(t):
    """Two origins (one private), two edges (one private) and a relay: every node learns
    every member, and /cluster on any node cycles over the public origin and edge only."""
    o1 = origin(t.procs, "rr-origin-1")
    o2 = origin(t.procs, "rr-origin-2", args=["--private"])
    r = downstream(t.procs, "rr-relay", "relay", [o1, o2])
    e1 = downstream(t.procs, "rr-edge-1", "edge", [o1, o2])
    e2 = downstream(t.procs, "rr-edge-2", "edge", [r], args=["--private"])
    nodes = [o1, o2, r, e1, e2]
    wait_members(nodes, [n.name for n in nodes])
    # A bare address, as Red5's servlet answers: these nodes use RTMP's default port.
    public = {o1.addr, e1.addr}
    for n in nodes:
        got = [n.http("/cluster")[2].decode().strip() for _ in range(6)]
        check(set(got) == public, "%s /cluster answered %s, want %s" % (n.name, got, public))
        check(got[0] != got[1] and got[:2] == got[2:4], "%s does not alternate: %s" % (n.name, got))
    status, headers, body = e2.http("/cluster", headers={"Accept": "application/json"})
    j = json.loads(body)
    check(status == 200 and headers["Content-Type"].startswith("application/json"), "JSON answer")
    check(j["name"] in (o1.name, e1.name) and j["rtmp"].startswith("rtmp://"), "JSON: %s" % j)

    # A member that dies is forgotten everywhere within seconds.
    e1.stop()
    wait_members([o1, o2, r, e2], [o1.name, o2.name, r.name, e2.name], timeout=15)


def data_tags(path, marker):
    return [tag for tag in flv_tags(path) if tag[0] == 18 and marker in tag[2]]


def test_event_to_edges_reaches_edge_viewers_only(t):
    # Nodes with a cluster secret take events only with api-token (docs/security.md).
    tok = ["--api-token", "ev-adm1n"]
    o = origin(t.procs, "ev-origin", args=tok)
    e1 = downstream(t.procs, "ev-edge-1", "edge", [o], args=tok)
    e2 = downstream(t.procs, "ev-edge-2", "edge", [o], args=tok)
    for n in (o, e1, e2):
        n.token = "ev-adm1n"
    wait_members([o, e1, e2], [o.name, e1.name, e2.name])
    publish(t.procs, o.rtmp("live", "cue"))
    o.wait_live("live", "cue")
    # GStreamer's rtmp2src keeps every data message (librtmp-based rtmpdump drops those
    # other than onMetaData, so it cannot show timed metadata).
    viewers = {n.name: play_gstreamer(t.procs, n.rtmp("live", "cue"), t.path(n.name + ".flv"),
                                      name="viewer-" + n.name) for n in (o, e1, e2)}
    for n in (e1, e2):
        wait_for(lambda: (n.stream("live", "cue") or {}).get("viewers", {}).get("total") == 1,
                 15, "a viewer on " + n.name)
    time.sleep(1)

    body = json.dumps({"target": "edges", "app": "live",
                       "payload": {"cue": "ad-break-7", "duration": 30}}).encode()
    status, _, resp = e1.http("/api/v1/cluster/events", method="POST",
                              headers={"Content-Type": "application/json"}, data=body)
    check(status == 202, "POST answered %d: %s" % (status, resp))
    ev_id = json.loads(resp)["id"]
    for n in (e1, e2):
        wait_for(lambda: any(e["id"] == ev_id for e in n.api("/api/v1/cluster/events")["events"]),
                 10, "the event on " + n.name)
    time.sleep(1.5)
    for n in (e1, e2):
        evs = [e for e in n.api("/api/v1/cluster/events")["events"] if e["id"] == ev_id]
        check(len(evs) == 1 and evs[0]["payload"]["cue"] == "ad-break-7" and evs[0]["streams"] == 1,
              "%s lists %s" % (n.name, evs))
    check(not any(e["id"] == ev_id for e in o.api("/api/v1/cluster/events")["events"]),
          "the origin is not an edge but took the event")
    for p in viewers.values():
        stop_gently(p)
    for n in (e1, e2):
        tags = data_tags(t.path(n.name + ".flv"), b"onClusterEvent")
        check(len(tags) == 1 and b"ad-break-7" in tags[0][2],
              "viewer on %s got %d event messages" % (n.name, len(tags)))
    check(not data_tags(t.path(o.name + ".flv"), b"onClusterEvent"),
          "the origin's viewer received an event meant for edges")

    # One node by name, and a bad request.
    body = json.dumps({"target": "node", "nodes": [e2.name], "app": "live",
                       "payload": {"n": 2}}).encode()
    status, _, resp = o.http("/api/v1/cluster/events", method="POST", data=body,
                             headers={"Content-Type": "application/json"})
    check(status == 202, "POST to the origin answered %d" % status)
    ev2 = json.loads(resp)["id"]
    wait_for(lambda: any(e["id"] == ev2 for e in e2.api("/api/v1/cluster/events")["events"]),
             10, "the named node to get its event")
    time.sleep(1)
    check(not any(e["id"] == ev2 for e in e1.api("/api/v1/cluster/events")["events"]),
          "an event for edge-2 reached edge-1")
    status, _, resp = o.http("/api/v1/cluster/events", method="POST", data=b'{"target":"mars"}',
                             headers={"Content-Type": "application/json"})
    check(status == 400 and b"target" in resp, "bad target: %d %s" % (status, resp))
