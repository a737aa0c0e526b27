# SPDX-License-Identifier: Apache-2.0
"""The manager's console and the node's status page in a real browser (Debian's chromium,
headless, driven by playwright-core): an operator logs in, creates a group and adds its
origin from the page, sees it come up, sees a stream go live when ffmpeg publishes and its
viewer count rise when viewers join, drains an edge and sees its state change, opens the
node's status page; the API refuses the browser without a session, and a session's call
without its CSRF token or from another site.  Screenshots of each page are kept in
$SLUICE_ARTIFACTS/console (default: SLUICE_TEST_WORK/artifacts/console)."""
import json
import os
import re
import subprocess
import urllib.error
import urllib.request

from harness import WORK, check, play_ffmpeg, publish
from manager_util import LAUNCH_CONFIG, POLICY, TOKEN, Manager

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "..", "browser", "console.mjs")
SHOTS = os.path.join(os.environ.get("SLUICE_ARTIFACTS", os.path.join(WORK, "artifacts")),
                     "console")


def _raw(url, method="GET", body=None, headers=None):
    """(status, headers, parsed JSON or None) without the admin token."""
    req = urllib.request.Request(url, method=method, headers=headers or {},
                                 data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, h, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, h, raw = e.code, e.headers, e.read()
    try:
        return status, h, json.loads(raw) if raw else None
    except ValueError:
        return status, h, None


def _session_refusals(m):
    """A session made outside the browser: what the API takes with it and what not."""
    js = {"Content-Type": "application/json"}
    st, _, out = _raw(m.url + "/console/login", "POST", {"token": "wrong-token-1234"}, js)
    check(st == 401, "wrong token logged in: %d %s" % (st, out))
    st, h, out = _raw(m.url + "/console/login", "POST", {"token": TOKEN},
                      dict(js, Origin="http://evil.example"))
    check(st == 403, "a login from another site: %d %s" % (st, out))
    st, h, out = _raw(m.url + "/console/login", "POST", {"token": TOKEN}, js)
    check(st == 200 and len(out["csrf"]) == 64, "login: %d %s" % (st, out))
    cookie = h["Set-Cookie"]
    for attr in ("HttpOnly", "SameSite=Strict", "Max-Age=", "Path=/"):
        check(attr in cookie, "session cookie lacks %s: %s" % (attr, cookie))
    sess = {"Cookie": cookie.split(";")[0]}
    st, _, _ = _raw(m.url + "/api/v1/groups", headers=sess)
    check(st == 200, "a session reads the API: %d" % st)
    cases = [
        ("no CSRF token", dict(js, **sess)),
        ("wrong CSRF token", dict(js, **sess, **{"X-CSRF-Token": "0" * 64})),
        ("from another site", dict(js, **sess, **{"X-CSRF-Token": out["csrf"],
                                                  "Origin": "http://evil.example"})),
        ("cross-site fetch", dict(js, **sess, **{"X-CSRF-Token": out["csrf"],
                                                 "Sec-Fetch-Site": "cross-site"})),
    ]
    for what, hdrs in cases:
        st, _, err = _raw(m.url + "/api/v1/scalepolicies", "POST", POLICY, hdrs)
        check(st == 403, "%s: answered %d %s" % (what, st, err))
    # With everything, the session may change state (a policy that exists: 409, not 403).
    st, _, err = _raw(m.url + "/api/v1/scalepolicies", "POST", POLICY,
                      dict(js, **sess, **{"X-CSRF-Token": out["csrf"]}))
    check(st == 409, "a session with its CSRF token: %d %s" % (st, err))
    # Bearer tokens work as before, without any of it.
    check(m.http("/api/v1/groups")[0] == 200, "bearer token refused")
    stats = m.ok("/api/v1/manager")["console"]
    check(stats["loginsFailed"] >= 1 and stats["csrfRefused"] >= 5 and stats["sessions"] >= 1,
          "console counters: %s" % stats)


def test_console_in_a_browser(t):
    m = Manager(t, args=["--console-sample-interval", "1s"])
    os.makedirs(SHOTS, exist_ok=True)
    try:
        # The operator's configurations exist; the group is made from the page.
        m.ok("/api/v1/launchconfigs", "POST", LAUNCH_CONFIG)
        m.ok("/api/v1/scalepolicies", "POST", POLICY)
        _session_refusals(m)
        st, h, _ = _raw(m.url + "/api/v1/groups")
        check(st == 401, "no session, no token: %d" % st)

        steps = t.path("steps")
        os.makedirs(steps)
        drv = t.procs.start(["node", DRIVER, m.url, TOKEN, SHOTS, steps], "chromium-console",
                            stdout=subprocess.PIPE)

        def wait_step(name):
            """Reads the driver's lines until it waits at step name."""
            while True:
                line = drv.stdout.readline().decode(errors="replace")
                check(line, "the browser driver ended before step %s" % name)
                if line.startswith("WAIT "):
                    check(line.split()[1] == name, "driver at %s, expected %s" % (line, name))
                    return
                if line.startswith("{"):
                    r = json.loads(line)
                    check(False, "the browser stopped before %s: %s" % (name, r.get("failure")))

        def go(name):
            open(os.path.join(steps, name), "w").close()

        wait_step("group-up")
        st, out = m.route("live", "demo", "broadcast")
        check(st == 200 and out["role"] == "origin", "broadcast route: %d %s" % (st, out))
        publish(t.procs, out["urls"]["rtmp"])
        origin = out["node"]
        go("group-up")
        wait_step("live")
        edge = m.nodes("edge", ["alive"])[0]
        for i in range(2):
            play_ffmpeg(t.procs, "rtmp://%s:%d/live/demo" % (edge["host"], edge["rtmpPort"]),
                        t.path("viewer%d.flv" % i), 40, name="viewer%d" % i)
        go("live")
        out, _ = drv.communicate(timeout=120)
        lines = [ln for ln in out.decode(errors="replace").splitlines() if ln.startswith("{")]
        check(drv.returncode == 0 and lines, "the browser driver exited %s" % drv.returncode)
        r = json.loads(lines[-1])
        check("failure" not in r, "browser: %s (steps %s)" % (r.get("failure"), r["steps"]))
        # The refusals this test provokes are the only failed answers: 401 for the session
        # before login and after logout, the wrong login, the API without a session; 403 for
        # the CSRF-less call; 400 for bad thresholds; and 503 when the stream page asks where
        # a viewer would go while the one alive edge is full (its two viewers fill it; the
        # page asks again until the edge the autoscaler started is up).  The browser logs
        # each as a console error without its URL: they are told apart by their answers here.
        expected = {(401, "GET", "/console/session"), (401, "POST", "/console/login"),
                    (401, "GET", "/api/v1/groups"), (401, "GET", "/console/history"),
                    (403, "DELETE", "/api/v1/groups/web"),
                    (400, "PUT", "/api/v1/groups/web/thresholds"),
                    (503, "GET", "/api/v1/streams/live/demo?action=subscribe")}
        bad = [e for e in r["httpErrors"] if (e[0], e[1], "/" + e[2].split("/", 3)[3]) not in expected]
        check(not bad, "failed answers: %s" % bad)
        errs = [e for e in r["console"] if not re.search(r"status of (40[013]|503) ", e)]
        check(not r["pageErrors"] and not errs,
              "page errors %s, console errors %s" % (r["pageErrors"], errs))
        check("script-src 'self'" in r["csp"] and "unsafe" not in r["csp"], "CSP: %s" % r["csp"])
        check("wrong admin token" in r["wrongLogin"], "wrong login said %r" % r["wrongLogin"])
        c = [x for x in r["cookies"] if x["name"] == "sluice_session"]
        check(c and c[0]["httpOnly"] and c[0]["sameSite"] == "Strict" and c[0]["expires"] > 0,
              "session cookie: %s" % r["cookies"])
        check("sluice_session" not in r["cookieVisibleToScript"], "the page's script sees the "
              "session id: %r" % r["cookieVisibleToScript"])
        check(any("Create node group web" in x for x in r["confirmText"]) and
              any("Drain" in x for x in r["confirmText"]), "confirmations: %s" % r["confirmText"])
        check(r["origin"] == origin, "page says origin %s, the API %s" % (r["origin"], origin))
        check(r["viewers"] >= 2 and r["viewersCard"] >= 2, "viewers on the page: %s, card %s" % (
            r["viewers"], r["viewersCard"]))
        check(r["protocols"].startswith("rtmp 2"), "by protocol: %r" % r["protocols"])
        check(r["charts"]["points"] >= 2 and "group:web" in r["charts"]["series"] and
              "stream:live/demo" in r["charts"]["series"], "charts: %s" % r["charts"])
        check(r["playerSrc"].endswith("/live/demo/") and r["playerPlayed"],
              "player %s played: %s" % (r["playerSrc"], r["playerPlayed"]))
        check(r["eventKinds"] and set(r["eventKinds"]) == {"node_launched"},
              "event filter: %s" % r["eventKinds"])
        check(r["csrfless"][0] == 403 and "CSRF" in r["csrfless"][1],
              "a DELETE without the CSRF token: %s" % r["csrfless"])
        kinds = [e["kind"] for e in m.events()]
        check("thresholds_set" in kinds and "group_deleted" in kinds and
              kinds.count("group_deleted") == 1, "events: %s" % kinds)
        check(r["drainedState"] in ("draining", "removed"), "drained: %s" % r["drainedState"])
        states = {n["id"]: n["state"] for n in m.nodes()}
        check(states.get(r["drained"], "removed") != "alive", "API after drain: %s" % states)
        check("origin" in r["status"]["who"] and r["status"]["watch"] == "/live/demo/",
              "status page: %s" % r["status"])
        check("scaleIn" in r["thresholdError"] and "below" in r["thresholdError"],
              "a refused threshold said %r" % r["thresholdError"])
        check(r.get("deleted") and m.ok("/api/v1/groups")["groups"] == [] and not m.nodes(),
              "the group deleted from the page is gone: %s" % m.nodes())
        check(r["afterLogout"] == 401 and r["noSession"] == [401, 401],
              "after logout %s, no session %s" % (r["afterLogout"], r["noSession"]))
        for shot in ("1-login", "2-group-up", "3-overview-viewers", "4-stream", "5-events",
                     "6-drained", "7-node-status"):
            p = os.path.join(SHOTS, shot + ".png")
            check(os.path.getsize(p) > 5000, "screenshot %s missing or empty" % p)
    finally:
        m.cleanup()
