# SPDX-License-Identifier: Apache-2.0
"""Red5 Pro operators' scripts against sluice: Stream Manager 1's documented requests replayed
in order (launch config and scale policy verbatim from the documents, the long Java policy
type, reals, the transcoder role, a default alarm before any group, node group, origins,
routing on every API version, node list, event list, provisions, sunset), then Stream
Manager 2's login, token checks, node group configuration and routing."""
import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request

from harness import check, check_media, play_ffmpeg, publish, wait_for
from manager_util import TOKEN, Manager

Q = "?accessToken=" + TOKEN

# Red5's documented launch configuration (default-v2.json), with the 4.0 "all node types"
# transcoder target; numbers as strings as the documents write them.
LC = {"launchconfig": {
    "name": "aws-default-v2",
    "description": "This is a sample version launch configuration for second generation "
                   "autoscaling for aws",
    "image": "red5pro-server-v110", "version": "0.0.2",
    "targets": {"target": [
        {"role": "origin", "instanceType": "c4.xlarge", "connectionCapacity": "2000"},
        {"role": "edge", "instanceType": "c4.large", "connectionCapacity": "2000"},
        {"role": "transcoder", "instanceType": "c4.xlarge", "connectionCapacity": "2000"}]},
    "properties": {"property": [{"name": "network", "value": "default"}]},
    "metadata": {"meta": [{"key": "role", "value": "unassigned"}]}}}

# The documented policy, with Red5's own type and reals as provisioning scripts send them.
SP = {"policy": {
    "name": "default-v2", "description": "This is a sample scale policy file",
    "version": "0.0.2", "type": "com.red5pro.services.autoscaling.model.ScalePolicyMaster",
    "targets": {"target": [
        {"role": "edge", "coolDownPeriod": "180000", "estimatedWarmUpTime": "120000",
         "minLimit": 1.0, "maxLimit": 40.0, "scaleAdjustment": 1.0},
        {"role": "origin", "coolDownPeriod": "180000", "estimatedWarmUpTime": "120000",
         "minLimit": "1", "maxLimit": "2", "scaleAdjustment": "1"},
        {"role": "transcoder", "minLimit": "0", "maxLimit": "1"}]}}}


def _get_body(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read()
    except urllib.error.HTTPError:
        return b""


def _red5_error(st, out, status, words):
    check(st == status and isinstance(out, dict) and words in out.get("errorMessage", "") and
          isinstance(out.get("timestamp"), int), "want %d with errorMessage ~ %r, got %d %s" %
          (status, words, st, out))


def test_red5_sm1_operator_session(t):
    m = Manager(t)
    try:
        api = "/streammanager/api/4.0/admin"
        st, out = m.http("/streammanager/api/2.0/admin/debug/cloudcontroller" + Q, token=None)
        check(st == 200 and out == "local", "cloudcontroller: %d %r" % (st, out))
        st, out = m.http(api + "/configurations/launchconfig" + Q, "POST", LC, token=None)
        check(st == 201 and out["launchconfig"]["name"] == "aws-default-v2" and
              "transcoder" in out["launchconfig"].get("note", ""), "launchconfig: %d %s" % (st, out))
        st, out = m.http(api + "/configurations/scalepolicy" + Q, "POST", SP, token=None)
        check(st == 201 and out["policy"]["type"] == SP["policy"]["type"] and
              [x["maxLimit"] for x in out["policy"]["targets"]["target"]
               if x["role"] == "edge"] == [40], "scalepolicy: %d %s" % (st, out))
        st, out = m.http(api + "/configurations/launchconfig/aws-default-v2/clone" + Q +
                         "&name=lc-copy", "POST", {}, token=None)
        check(st == 201 and out["launchconfig"]["name"] == "lc-copy", "clone: %d %s" % (st, out))
        st, out = m.http(api + "/configurations/scalepolicy/default-v2/copy" + Q, "POST",
                         {"name": "sp-copy"}, token=None)
        check(st == 201 and out["policy"]["name"] == "sp-copy", "copy: %d %s" % (st, out))
        st, out = m.http(api + "/configurations/launchconfig/nope" + Q, token=None)
        _red5_error(st, out, 404, "no launch configuration named nope")
        st, out = m.http(api + "/nodegroup", token=None)
        _red5_error(st, out, 401, "accessToken")

        # The default alarm before any group exists is the default for groups made later.
        st, out = m.http(api + "/alarm/scaleout/default" + Q + "&type=edge&threshold=75", "POST",
                         token=None)
        check(st == 200 and out["threshold"] == 75 and out["type"] == "SCALEOUTALARM",
              "alarm: %d %s" % (st, out))
        st, out = m.http(api + "/alarm/scaleout/default" + Q + "&type=edge", token=None)
        check(st == 200 and out["threshold"] == 75, "alarm read back: %d %s" % (st, out))
        st, g = m.http(api + "/nodegroup" + Q, "POST", {"regions": ["local"],
                       "launchConfig": "aws-default-v2", "scalePolicy": "default-v2"}, token=None)
        check(st == 201 and isinstance(g.get("id"), int) and isinstance(g.get("timestamp"), int)
              and g["name"].startswith("group-"), "nodegroup: %d %s" % (st, g))
        name = g["name"]
        th = m.ok("/api/v1/groups/%s/thresholds" % name)
        check(th["edge"]["scaleOut"] == 75 and th["origin"]["scaleOut"] == 60,
              "a later group starts at the default alarm: %s" % th)

        st, out = m.http("%s/nodegroup/%s/node/origin%s" % (api, name, Q), "POST", {}, token=None)
        check(st == 201 and out["origins"] == 1, "origin: %d %s" % (st, out))
        wait_for(lambda: len(m.nodes("origin", ["alive"])) == 1 and
                 len(m.nodes("edge", ["alive"])) == 1, 30, "the origin and the policy's edge")
        st, out = m.http("%s/nodegroup/%s/node/origin%s" % (api, name, Q), "POST", {}, token=None)
        check(st == 201 and out["origins"] == 2, "second origin: %d %s" % (st, out))
        wait_for(lambda: len(m.nodes("origin", ["alive"])) == 2, 30, "the second origin")

        # Red5's node checker reads role, address and state "inservice".
        st, nodes = m.http("%s/nodegroup/%s/node%s" % (api, name, Q), token=None)
        check(st == 200 and sorted(n["role"] for n in nodes) == ["edge", "origin", "origin"] and
              all(n["state"] == "inservice" and n["address"] for n in nodes),
              "node list: %d %s" % (st, nodes))
        edge = [n for n in nodes if n["role"] == "edge"][0]
        st, one = m.http("%s/node/%s%s" % (api, edge["address"], Q), token=None)
        check(st == 200 and one["identifier"] == edge["identifier"] and one["group"] == name,
              "node by address: %d %s" % (st, one))

        # Routing on every API version; one name goes to one origin while it is held, even
        # though the first answer's reservation makes the other origin the less loaded.
        addrs = set()
        for ver in ("2.0", "3.0", "3.1", "4.0"):
            st, r = m.http("/streammanager/api/%s/event/live/room1/held?action=broadcast" % ver,
                           token=None)
            check(st == 200 and r["scope"] == "live/room1" and r["name"] == "held" and
                  r["region"] == "local", "broadcast on %s: %d %s" % (ver, st, r))
            addrs.add(r["serverAddress"])
        check(len(addrs) == 1, "one name went to several origins: %s" % addrs)
        st, r = m.http("/streammanager/api/4.0/event/live/other?action=broadcast", token=None)
        check(st == 200 and r["serverAddress"] not in addrs,
              "another name goes to the less loaded origin: %s vs %s" % (r, addrs))
        base = "/streammanager/api/4.0/event/live/demo?action=broadcast"
        st, out = m.http(base + "&region=nowhere", token=None)
        _red5_error(st, out, 404, "region nowhere")
        st, out = m.http(base + "&geozone=eu", token=None)
        _red5_error(st, out, 400, "geozone")
        st, out = m.http(base + "&transcode=true", token=None)
        _red5_error(st, out, 400, "transcoder")
        st, out = m.http(base + "&region=local&strict=true", token=None)
        check(st == 200 and out["region"] == "local", "strict region: %d %s" % (st, out))
        st, out = m.http("/streammanager/api/4.0/event/live/demo?action=subscribe", token=None)
        _red5_error(st, out, 404, "not live")

        pub = m.nodes("origin", ["alive"])
        st, r = m.http(base, token=None)
        origin = [n for n in pub if n["host"] == r["serverAddress"]][0]
        publish(t.procs, "rtmp://%s:%d/live/demo" % (r["serverAddress"], origin["rtmpPort"]))
        wait_for(lambda: any(s["name"] == "demo" and s["origin"]
                             for s in m.ok("/api/v1/streams")["streams"]), 20, "live/demo live")
        st, out = m.http("/streammanager/api/3.1/event/live/demo?action=subscribe", token=None)
        check(st == 200 and out["serverAddress"] == edge["address"], "subscribe: %d %s" % (st, out))
        st, lst = m.http("/streammanager/api/4.0/event/list" + Q, token=None)
        check(st == 200 and any(x["name"] == "demo" and x["scope"] == "live" and
                                x["type"] == "origin" for x in lst), "event list: %d %s" % (st, lst))
        st, stats = m.http("/streammanager/api/4.0/event/live/demo/stats" + Q, token=None)
        check(st == 200 and stats["serverAddress"] == origin["host"] and
              "subscriberCount" in stats, "stats: %d %s" % (st, stats))

        # A nested scope end to end: published to the origin the name is held on, watched
        # over HTTP-FLV on the edge routing names.
        held = [n for n in pub if n["host"] == addrs.copy().pop()][0]
        publish(t.procs, "rtmp://%s:%d/live/room1/held" % (held["host"], held["rtmpPort"]),
                name="publisher-nested", extra=["-rtmp_app", "live/room1",
                                                "-rtmp_playpath", "held"])
        wait_for(lambda: any(s["app"] == "live/room1" and s["name"] == "held" and s["origin"]
                             for s in m.ok("/api/v1/streams")["streams"]), 20,
                 "live/room1/held live")
        st, out = m.http("/streammanager/api/2.0/event/live/room1/held?action=subscribe",
                         token=None)
        check(st == 200 and out["scope"] == "live/room1" and out["serverAddress"] == edge["address"],
              "nested subscribe: %d %s" % (st, out))
        v = play_ffmpeg(t.procs, "http://%s:%d/live/room1/held.flv" % (edge["address"],
                        edge["httpPort"]), t.path("nested.flv"), 4, name="viewer-nested")
        v.wait(timeout=30)
        check_media(t.path("nested.flv"), 3, "a viewer of a nested scope through the edge")
        hls = "http://%s:%d/live/room1/held/index.m3u8" % (edge["address"], edge["httpPort"])
        wait_for(lambda: b"#EXTINF" in _get_body(hls), 20, "an HLS playlist of the nested scope")

        meta = {"meta": {"authentication": {"username": "", "password": ""},
                         "stream": [{"name": "demo_1", "level": 1, "properties": {}}],
                         "georules": {"regions": ["local"], "restricted": False}, "qos": 3}}
        path = "%s/event/meta/live/demo%s" % (api, Q)
        st, out = m.http(path, "POST", meta, token=None)
        check(st == 201 and out == meta, "provision: %d %s" % (st, out))
        st, out = m.http(path, token=None)
        check(st == 200 and out == meta, "provision read: %d %s" % (st, out))
        st, out = m.http(path, "DELETE", token=None)
        check(st == 200, "provision delete: %d" % st)
        st, out = m.http(path, token=None)
        _red5_error(st, out, 404, "no provision")
        st, out = m.http(api + "/proxy/clients" + Q, token=None)
        check(st == 200 and out == [], "proxy clients: %d %s" % (st, out))
        st, out = m.http(api + "/debug/logaccess" + Q, token=None)
        check(st == 200 and "group_created" in out, "log access: %d %r" % (st, out[:200]))

        # Sunset: routing stops at once, a replacement comes up, the old one goes when empty.
        st, out = m.http(api + "/node/sunset" + Q, "POST", [edge["address"]], token=None)
        check(st == 200 and out[0]["state"] == "sunset" and "replacement" in out[0]["result"],
              "sunset: %d %s" % (st, out))
        wait_for(lambda: any(n["state"] == "alive" and n["id"] != edge["identifier"]
                             for n in m.nodes("edge")), 30, "the sunset edge's replacement")
        st, out = m.http("/streammanager/api/2.0/event/live/demo?action=subscribe", token=None)
        check(st == 200 and out["serverAddress"] != edge["address"],
              "no viewer is sent to a sunset edge: %s" % out)
    finally:
        m.cleanup()


def _basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def _forge(sub, exp):
    """A token signed with the manager's key (the test knows the admin token it derives
    from), so only the expiry makes it wrong."""
    key = hmac.new(TOKEN.encode(), b"sluice-sm2-jwt", hashlib.sha256).digest()
    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    head = enc(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = enc(json.dumps({"sub": sub, "iat": exp - 100, "exp": exp}).encode())
    sig = enc(hmac.new(key, ("%s.%s" % (head, body)).encode(), hashlib.sha256).digest())
    return "%s.%s.%s" % (head, body, sig)


def test_red5_sm2_login_and_routing(t):
    m = Manager(t)
    try:
        st, out = m.http("/as/v1/admin/healthz", token=None)
        check(st == 200 and out["status"] == "ok", "healthz: %d %s" % (st, out))
        st, out = m.http("/as/v1/auth/login", "PUT", token=None,
                         headers={"Authorization": _basic("admin", "wrong-password")})
        check(st == 401, "a wrong password: %d %s" % (st, out))
        st, out = m.http("/as/v1/auth/login", "PUT", token=None,
                         headers={"Authorization": _basic("admin", TOKEN)})
        check(st == 200 and out["token"].count(".") == 2 and out["expiresAt"] > time.time() * 1000,
              "login: %d %s" % (st, out))
        jwt = out["token"]
        st, out = m.http("/as/v1/admin/nodegroup", token=jwt)
        check(st == 200 and out == [], "list with the token: %d %s" % (st, out))
        st, out = m.http("/as/v1/admin/nodegroup", token=None)
        check(st == 401, "no token: %d %s" % (st, out))
        st, out = m.http("/as/v1/admin/nodegroup", token=_forge("admin", int(time.time()) - 5))
        check(st == 401 and "expired" in out["error"], "an expired token: %d %s" % (st, out))
        bad = jwt[:-2] + ("AA" if not jwt.endswith("AA") else "BB")
        st, out = m.http("/as/v1/admin/nodegroup", token=bad)
        check(st == 401, "a tampered token: %d %s" % (st, out))
        check(m.ok("/api/v1/manager")["sm2Refused"] == 4, "refusals counted (a wrong password, "
              "no token, an expired and a tampered one)")

        cfg = {"name": "sm2group", "cloudPlatform": "LOCAL", "cloudProperties": "",
               "images": {"default": {"name": "sluice"}},
               "roles": {"origin": {"imageName": "default", "capabilities": ["PUBLISH"],
                                    "capacity": 100},
                         "edge": {"imageName": "default", "capabilities": ["SUBSCRIBE"],
                                  "parentRoleName": "origin", "parentCardinality": "GLOBAL",
                                  "capacity": 100}},
               "groups": {"local": {"subGroupName": "local", "groupType": "main",
                                    "rulesByRole": {
                                        "origin": {"nodeRoleName": "origin", "min": 1, "max": 1,
                                                   "increment": 1},
                                        "edge": {"nodeRoleName": "edge", "min": 1, "max": 2,
                                                 "increment": 1}}}}}
        st, out = m.http("/as/v1/admin/nodegroup", "POST", cfg, token=jwt)
        check(st == 201 and out["name"] == "sm2group", "nodegroup: %d %s" % (st, out))
        st, out = m.http("/as/v1/admin/nodegroup", "POST", cfg, token=jwt)
        check(st == 409, "the same name again: %d %s" % (st, out))
        st, out = m.http("/as/v1/admin/nodegroup/sm2group", token=jwt)
        check(st == 200 and out == cfg, "the configuration as given: %d %s" % (st, out))
        wait_for(lambda: len(m.nodes("origin", ["alive"])) == 1 and
                 len(m.nodes("edge", ["alive"])) == 1, 30, "the group's origin and edge")
        st, out = m.http("/as/v1/admin/nodegroup/status/sm2group", token=jwt)
        check(st == 200 and sorted(n["nodeRole"] for n in out["nodes"]) == ["edge", "origin"] and
              all(n["state"] == "INSERVICE" for n in out["nodes"]), "status: %d %s" % (st, out))

        origin = m.nodes("origin", ["alive"])[0]
        st, out = m.http("/as/v1/streams/stream/sm2group/publish/live%2Fcam1", token=jwt)
        check(st == 200 and out[0]["serverAddress"] == origin["host"] and
              out[0]["nodeRole"] == "origin" and out[0]["streamGuid"] == "live/cam1",
              "publish route: %d %s" % (st, out))
        st, out = m.http("/as/v1/streams/stream/sm2group/subscribe/live/cam1", token=jwt)
        check(st == 404, "subscribe before it is live: %d %s" % (st, out))
        publish(t.procs, "rtmp://%s:%d/live/cam1" % (origin["host"], origin["rtmpPort"]))
        wait_for(lambda: any(s["name"] == "cam1" and s["origin"]
                             for s in m.ok("/api/v1/streams")["streams"]), 20, "live/cam1 live")
        edge = m.nodes("edge", ["alive"])[0]
        st, out = m.http("/as/v1/streams/stream/sm2group/subscribe/live/cam1", token=jwt)
        check(st == 200 and out[0]["serverAddress"] == edge["host"] and
              out[0]["nodeRole"] == "edge", "subscribe route: %d %s" % (st, out))
        st, out = m.http("/as/v1/streams/stream/sm2group", token=jwt)
        check(st == 200 and any(s["streamGuid"] == "live/cam1" and s["publishing"] for s in out),
              "stream list: %d %s" % (st, out))
        prov = [{"guid": "live/cam1", "level": 1, "name": "cam1_1",
                 "properties": {"videoWidth": 640, "videoBPS": 1000000}}]
        path = "/as/v1/streams/provision/sm2group/live/cam1"
        st, out = m.http(path, "POST", prov, token=None)
        check(st == 401, "a provision without a token, routing public or not: %d" % st)
        st, out = m.http(path, "POST", prov, token=jwt)
        check(st == 201 and out == prov, "provision: %d %s" % (st, out))
        st, out = m.http(path, token=jwt)
        check(st == 200 and out == prov, "provision read back: %d %s" % (st, out))
        st, out = m.http(path, "DELETE", token=jwt)
        check(st == 200 and m.http(path, token=jwt)[0] == 404, "provision deleted: %d" % st)
        # WHEP through the proxy path: a redirect to the edge's own endpoint.
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None
        req = urllib.request.Request(m.url + "/as/v1/proxy/whep/live/cam1?nodeGroup=sm2group",
                                     method="POST", data=b"v=0\r\n",
                                     headers={"Authorization": "Bearer " + jwt,
                                              "Content-Type": "application/sdp"})
        try:
            urllib.request.build_opener(NoRedirect).open(req, timeout=10)
            check(False, "the WHEP proxy path did not redirect")
        except urllib.error.HTTPError as e:
            want = "http://%s:%d/live/cam1/whep" % (edge["host"], edge["httpPort"])
            check(e.code == 307 and e.headers.get("Location") == want,
                  "whep: %d %s" % (e.code, e.headers.get("Location")))
        st, _ = m.http("/as/v1/admin/nodegroup/sm2group", "DELETE", token=jwt)
        check(st == 204, "delete: %d" % st)
        check(m.http("/api/v1/launchconfigs/sm2group")[0] == 404,
              "the group's own launch configuration goes with it")
    finally:
        m.cleanup()
