# SPDX-License-Identifier: Apache-2.0
"""The manager with `--controller exec` and the example scripts of deploy/exec/, as an operator
meets it: a group comes up through the scripts, grows under real viewers and shrinks by
draining, a killed edge is replaced, and a restarted manager adopts the running nodes (the
list script's instances) without launching any again.  A script's failure is an event that
carries its message."""
import json
import os
import signal
import subprocess
import time
import urllib.request

from harness import ADDR_BLOCK, SLUICE, check, check_media, wait_for
from manager_util import TOKEN, Manager, publish_live, scale_policy, viewers_over_two_edges

HERE = os.path.dirname(os.path.abspath(__file__))
EXEC_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "deploy", "exec"))


def _launch_config(props):
    return {"launchconfig": {
        "name": "e2e", "image": "sluice", "version": "0.0.1", "properties": props,
        "targets": {"target": [
            {"role": "origin", "instanceType": "local", "connectionCapacity": "50"},
            {"role": "edge", "instanceType": "local", "connectionCapacity": "2"}]}}}


class ExecNodes:
    """The example scripts' state directory: which node runs as which process."""

    def __init__(self, t):
        self.dir = t.path("exec-state")
        os.makedirs(self.dir, exist_ok=True)
        # The manager passes its environment on to the scripts it runs.
        os.environ["SLUICE_EXEC_STATE"] = self.dir
        os.environ["SLUICE_BIN"] = os.path.abspath(SLUICE)

    def pid(self, node_id):
        with open(os.path.join(self.dir, node_id + ".pid")) as f:
            return int(f.read().strip())

    def listed(self):
        r = subprocess.run([os.path.join(EXEC_DIR, "list")], input="{}", capture_output=True,
                           text=True, timeout=20)
        check(r.returncode == 0, "list script: %s" % r.stderr)
        return json.loads(r.stdout)["instances"]

    def kill_all(self):
        """Stops every node the scripts started that still runs (the test's own)."""
        for f in os.listdir(self.dir):
            if not f.endswith(".pid"):
                continue
            node_id = f[:-4]
            try:
                pid = self.pid(node_id)
                with open("/proc/%d/cmdline" % pid, "rb") as fh:
                    if ("--name\0%s" % node_id).encode() not in fh.read():
                        continue
                os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                pass


def _write_scripts(d, scripts):
    """Writes executables NAME: TEXT into d (made here)."""
    os.makedirs(d)
    for name, text in scripts.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
        os.chmod(os.path.join(d, name), 0o755)


def _first_launch_failure(m, props, what):
    """A group of one origin on props; the launch_failed event its launch ends in."""
    m.ok("/api/v1/launchconfigs", "POST", _launch_config(props))
    m.ok("/api/v1/scalepolicies", "POST", scale_policy("p", edges=(0, 1), origins=(1, 1)))
    m.ok("/api/v1/groups", "POST", {"name": "g1", "regions": ["local"],
                                    "launchConfig": "e2e", "scalePolicy": "e2e"})
    m.ok("/api/v1/groups/g1/origins", "POST", {})
    return m.first_event("launch_failed", what)


def _exec_manager(t, nodes, exec_dir=EXEC_DIR):
    return Manager(t, args=["--controller", "exec", "--exec-dir", exec_dir,
                            "--exec-timeout", "20s", "--reconcile-interval", "1s"])


def test_exec_group_scales_replaces_and_is_adopted(t):
    nodes = ExecNodes(t)
    m = _exec_manager(t, nodes)
    try:
        props = {"addrBase": "127.%d.2" % ADDR_BLOCK, "rtmpPort": 1935, "httpPort": 5080}
        m.ok("/api/v1/launchconfigs", "POST", _launch_config(props))
        m.ok("/api/v1/scalepolicies", "POST",
             scale_policy("1 origin, 1 to 2 edges", edges=(1, 2), origins=(1, 1)))
        m.ok("/api/v1/groups", "POST", {"name": "g1", "regions": ["local"],
                                        "launchConfig": "e2e", "scalePolicy": "e2e",
                                        "replaceDeadNodes": True})
        m.ok("/api/v1/groups/g1/origins", "POST", {})
        wait_for(lambda: len(m.nodes("origin", ["alive"])) == 1 and
                 len(m.nodes("edge", ["alive"])) == 1, 30, "origin and first edge alive")
        origin = m.nodes("origin")[0]
        check(origin["controller"] == "exec" and origin["host"].startswith("127.%d.2." % ADDR_BLOCK)
              and origin["instance"].startswith("local-"), "origin launched by the script: %s"
              % origin)

        publish_live(t, m, "live", "x")
        time.sleep(3.2)  # the broadcast route's reservation lapses

        # Capacity 2 per edge: the second viewer takes the edge to 100%, so a second edge
        # comes up through the launch script and the third viewer is routed to it.
        viewers, routed = viewers_over_two_edges(t, m, "live", "x")
        check(len(set(routed)) == 2 and len(m.nodes("edge")) == 2,
              "viewers spread over 2 edges, never beyond maxLimit: %s" % routed)
        for path, v in viewers:
            v.wait(timeout=40)
            check_media(path, 4.5, "a viewer of an edge the exec controller launched")
        # Viewers gone: back to 1 edge by draining, then the terminate script.
        wait_for(lambda: len(m.nodes("edge")) == 1, 40, "the group to shrink back to 1 edge")
        removed = [e for e in m.events() if e["kind"] == "node_removed"]
        check(removed and all("drained" in e["message"] for e in removed),
              "removed only once drained: %s" % removed)
        gone = [r for r in routed if r != m.nodes("edge")[0]["id"]][0]
        wait_for(lambda: gone not in [i["id"] for i in nodes.listed()], 10,
                 "the terminate script to stop %s" % gone)

        # A killed edge is dead within 3 s and replaced through the launch script.
        edge = m.nodes("edge", ["alive"])[0]
        os.kill(nodes.pid(edge["id"]), signal.SIGKILL)
        killed = time.monotonic()
        wait_for(lambda: any(e["kind"] == "node_dead" and e["node"] == edge["id"]
                             for e in m.events()), 5, "the dead edge noticed", interval=0.05)
        check(time.monotonic() - killed <= 3.0, "kill -9 noticed in %.2fs (> 3 s)"
              % (time.monotonic() - killed))
        wait_for(lambda: [n for n in m.nodes("edge", ["alive"]) if n["id"] != edge["id"]], 30,
                 "a replacement edge alive")

        # Manager restart (kill -9): the running instances are adopted, none launched again.
        wait_for(lambda: len(m.nodes(states=["alive"])) == len(m.nodes()), 10, "all alive")
        before = sorted(n["id"] for n in m.nodes())
        m.kill()
        restarted = int(time.time() * 1000)
        m.start("node-manager-2")
        time.sleep(2.5)  # two reconcile intervals: the list script has answered
        after = sorted(n["id"] for n in m.nodes(states=["alive"]))
        check(after == before, "nodes after restart %s != before %s" % (after, before))
        listed = sorted(i["id"] for i in nodes.listed())
        check(listed == before, "the list script's instances %s != the nodes %s (duplicates?)"
              % (listed, before))
        again = [e for e in m.events() if e["kind"] in ("node_launching", "instance_unknown")
                 and e["ts"] >= restarted]
        check(not again, "nothing launched or unknown after the restart: %s" % again)
    finally:
        m.cleanup()
        nodes.kill_all()


def test_exec_errors_are_clear(t):
    nodes = ExecNodes(t)
    bad = t.path("bad-scripts")
    _write_scripts(bad, {
        "launch": "#!/bin/sh\ncat >/dev/null\necho '{\"error\": \"quota exceeded: 0 nodes left "
                  "(from the test)\"}'\nexit 3\n",
        "terminate": "#!/bin/sh\ncat >/dev/null\necho '{}'\n",
        "list": "#!/bin/sh\ncat >/dev/null\necho '{\"instances\": [{\"id\": \"edge-stray\", "
                "\"instance\": \"i-stray\", \"host\": \"10.0.0.9\"}]}'\n",
    })
    # Configuration errors exit 2 and say which setting.
    base = [SLUICE, "manager", "--admin-token", TOKEN, "--cluster-secret", "e2e-secret-0123",
            "--db", "sqlite:" + t.path("x.db"), "--controller", "exec"]
    r = subprocess.run(base, capture_output=True, text=True, timeout=10)
    check(r.returncode == 2 and "exec-dir" in r.stderr, "no exec-dir: %d %s" % (r.returncode,
                                                                                r.stderr))
    m = _exec_manager(t, nodes, exec_dir=bad)
    try:
        st, out = m.http("/api/v1/launchconfigs", "POST", _launch_config({"net": {"a": 1}}))
        check(st == 400 and "properties.net" in out["error"], "nested property: %d %s" % (st, out))
        failed = _first_launch_failure(m, {"zone": "z1"}, "the failed launch as an event")
        check("quota exceeded: 0 nodes left (from the test)" in failed["message"] and
              "exit status 3" in failed["message"], "the script's message: %s" % failed)
        check(not m.nodes(), "no node record for a launch that failed: %s" % m.nodes())
        g = m.ok("/api/v1/groups/g1")
        check(g.get("launchFailures", 0) >= 1, "counted against the group: %s" % g)
        # An instance the list names that no node record has is reported, once.
        wait_for(lambda: [e for e in m.events() if e["kind"] == "instance_unknown"], 10,
                 "the stray instance reported")
        time.sleep(2.2)
        stray = [e for e in m.events() if e["kind"] == "instance_unknown"]
        check(len(stray) == 1 and "i-stray" in stray[0]["message"], "reported once: %s" % stray)
    finally:
        m.cleanup()


def _alive(pid):
    """A process that runs (a zombie waiting for its reaper does not)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_exec_timeout_kills_the_script_group(t):
    """A launch script that hangs with a child it forked: at exec-timeout the script's whole
    process group is killed, so the child neither lives on nor holds the output pipe (with
    only the script killed, the call never ended and no launch_failed came)."""
    ExecNodes(t)  # SLUICE_EXEC_STATE and SLUICE_BIN, as for the other tests
    d = t.path("hanging-scripts")
    pids = t.path("children.pid")
    _write_scripts(d, {
        "launch": "#!/bin/sh\ncat >/dev/null\nsleep 300 &\necho $! >>%s\nsleep 300\n" % pids,
        "terminate": "#!/bin/sh\ncat >/dev/null\necho '{}'\n",
        "list": "#!/bin/sh\ncat >/dev/null\necho '{\"instances\": []}'\n",
    })
    m = Manager(t, args=["--controller", "exec", "--exec-dir", d, "--exec-timeout", "2s",
                         "--reconcile-interval", "1s"])
    try:
        failed = _first_launch_failure(m, {}, "the hanging launch to fail at its timeout")
        check("timed out after 2000 ms" in failed["message"], "the reason: %s" % failed)
        with open(pids) as f:
            first = int(f.readline())
        wait_for(lambda: not _alive(first), 5, "the script's forked child killed with it")
    finally:
        m.cleanup()
        if os.path.exists(pids):
            with open(pids) as f:
                for line in f:
                    try:
                        os.kill(int(line), signal.SIGKILL)  # our own, if any is left
                    except (OSError, ValueError):
                        pass


def test_local_controller_ports_from_launch_config(t):
    """The local controller takes its nodes' ports from the launch configuration's
    properties (rtmpPort, httpPort) and refuses properties it does not know."""
    m = Manager(t)
    try:
        st, out = m.http("/api/v1/launchconfigs", "POST", _launch_config({"imageId": "ami-1"}))
        check(st == 400 and "properties.imageId: not a property of this controller" in
              out["error"], "unknown property for local: %d %s" % (st, out))
        st, out = m.http("/api/v1/launchconfigs", "POST", _launch_config({"rtmpPort": 99999}))
        check(st == 400 and "properties.rtmpPort" in out["error"], "bad port: %s" % out)
        m.ok("/api/v1/launchconfigs", "POST", _launch_config({"rtmpPort": 1936,
                                                             "httpPort": "5081"}))
        m.ok("/api/v1/scalepolicies", "POST", scale_policy("p", edges=(0, 1), origins=(1, 1)))
        m.ok("/api/v1/groups", "POST", {"name": "g1", "regions": ["local"],
                                        "launchConfig": "e2e", "scalePolicy": "e2e"})
        m.ok("/api/v1/groups/g1/origins", "POST", {})
        wait_for(lambda: m.nodes("origin", ["alive"]), 20, "the origin alive")
        o = m.nodes("origin")[0]
        check(o["rtmpPort"] == 1936 and o["httpPort"] == 5081, "ports: %s" % o)
        st, route = m.route("live", "p", "broadcast")
        check(st == 200 and ":1936/" in route["urls"]["rtmp"], "route: %s" % route)
        with urllib.request.urlopen("http://%s:5081/healthz" % o["host"], timeout=5) as r:
            check(r.status == 200, "the node answers on its HTTP port 5081")
    finally:
        m.cleanup()
