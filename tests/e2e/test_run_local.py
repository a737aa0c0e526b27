# SPDX-License-Identifier: Apache-2.0
"""The README's run command, as a new user meets it: scripts/run-local.sh (what `make run`
starts after building) brings up a manager with an origin and an edge, prints where to
publish and watch; ffmpeg publishes to the printed URL, a viewer routed by the manager
decodes the stream from the edge, and Ctrl-C stops the manager and every node it started."""
import os
import re
import signal
import subprocess
import urllib.request

from harness import (ADDR_BLOCK, SLUICE, check, check_media, new_addr, play_ffmpeg, publish,
                     wait_for)

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "scripts", "run-local.sh")


def test_make_run_gives_a_working_cluster(t):
    listen = "%s:5070" % new_addr()
    env = dict(os.environ, SLUICE_STATE=t.path("state"), SLUICE_MANAGER_LISTEN=listen,
               SLUICE_NODE_BASE="127.%d.2" % ADDR_BLOCK)
    out_path = t.path("run-local.out")
    with open(out_path, "w") as out:
        run = subprocess.Popen(["sh", SCRIPT, SLUICE], stdout=out, stderr=subprocess.STDOUT,
                               env=env, start_new_session=True)
    t.procs.procs.append(run)
    run.log_path, run.name = out_path, "run-local"
    pids = []
    try:
        text = wait_for(lambda: (lambda s: s if "Ctrl-C stops everything" in s else None)(
            open(out_path).read()), 40, "run-local.sh to print where to publish")
        # The console's URL comes first, and the manager answers the console there.
        check(text.startswith("Console: http://%s/ " % listen), "first line: %r" % text[:120])
        with urllib.request.urlopen("http://%s/" % listen, timeout=10) as r:
            check(r.status == 200 and b"/console/console.js" in r.read(), "the console page")
        pub = re.search(r"-f flv (rtmp://\S+)", text).group(1)
        watch = re.search(r"open (http://\S+/live/demo/) in a browser", text).group(1)
        token = re.search(r"SLUICE_TOKEN=(\S+)\)", text).group(1)
        publish(t.procs, pub)
        ctl_env = dict(os.environ, SLUICE_MANAGER="http://" + listen, SLUICE_TOKEN=token)

        def route():
            r = subprocess.run([SLUICE, "ctl", "--json", "route", "live/demo", "--subscribe"],
                               capture_output=True, text=True, env=ctl_env, timeout=10)
            m = re.search(r'"rtmp": *"([^"]+)"', r.stdout)
            return m.group(1) if r.returncode == 0 and m else None
        url = wait_for(route, 20, "the manager to route a viewer to live/demo")
        check(url.split("/")[2].split(":")[0] == watch.split("/")[2].split(":")[0],
              "the viewer is routed to the edge the script printed (%s, %s)" % (url, watch))
        v = play_ffmpeg(t.procs, url, t.path("viewer.flv"), 6, name="viewer")
        v.wait(timeout=40)
        check_media(t.path("viewer.flv"), 4.5, "a viewer routed by make run's manager")
        nodes = subprocess.run([SLUICE, "ctl", "--json", "nodes"], capture_output=True,
                               text=True, env=ctl_env, timeout=10).stdout
        pids = [int(p) for p in re.findall(r'"pid": *(\d+)', nodes)]
        check(len(pids) >= 2, "the origin and the edge have processes: %s" % nodes)
    finally:
        # Ctrl-C, as a user would: the script stops the manager, which stops its nodes.
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGINT)
        rc = run.wait(timeout=30)
    check("stopped the manager and its nodes" in open(out_path).read(),
          "run-local.sh said nothing on Ctrl-C (exit %s)" % rc)
    wait_for(lambda: not [p for p in pids if os.path.exists("/proc/%d" % p) and
                          b"sluice" in open("/proc/%d/cmdline" % p, "rb").read()], 15,
             "every node the manager started to stop")
