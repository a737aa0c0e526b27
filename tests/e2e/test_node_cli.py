# SPDX-License-Identifier: Apache-2.0
"""The node as an operator meets it: --help, config errors, the API, kicking, shutdown."""
import subprocess
import time

from harness import (SLUICE, Node, check, log_text, new_addr, play_ffmpeg, publish, wait_for)


def test_help_lists_every_flag(t):
    r = subprocess.run([SLUICE, "node", "--help"], capture_output=True, text=True, timeout=10)
    check(r.returncode == 0, "--help exit %d" % r.returncode)
    for flag in ("--config", "--bind", "--rtmp-port", "--http-port", "--name", "--publish-secret",
                 "--play-secret", "--max-connections", "--viewer-lag-drop", "--gop-cache"):
        check(flag in r.stdout, "--help does not mention %s" % flag)
    check("[default: 1935]" in r.stdout and "[default: 5080]" in r.stdout and
          "[default: 0.0.0.0]" in r.stdout, "--help should show the defaults")


def test_bad_config_names_key_and_exits_2(t):
    cases = {
        "rtmp-port = 99999\n": "rtmp-port",
        "bind = 127.0.0.1\nnot-a-key = 3\n": "unknown key 'not-a-key'",
        "gop-cache = perhaps\n": "gop-cache",
        "idle-timeout = soon\n": "idle-timeout",
    }
    for text, want in cases.items():
        path = t.path("bad.conf")
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([SLUICE, "node", "--config", path], capture_output=True, text=True,
                           timeout=10)
        check(r.returncode == 2, "config %r: exit %d, expected 2" % (text, r.returncode))
        check(want in r.stderr, "config %r: message %r does not name %r" % (text, r.stderr, want))
    r = subprocess.run([SLUICE, "node", "--http-port", "zero"], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 2 and "--http-port" in r.stderr, "bad flag: %s" % r.stderr)
    r = subprocess.run([SLUICE, "node", "--config", t.path("missing.conf")], capture_output=True,
                       text=True, timeout=10)
    check(r.returncode == 2 and "missing.conf" in r.stderr, "missing file: %s" % r.stderr)


def test_config_file_sets_the_node(t):
    addr = new_addr()
    node = Node(t.procs, addr=addr, config="# node under test\nname = from-file\n"
                                           "max-connections = 5\n")
    n = node.api("/api/v1/node")
    # Flags win over the file: the harness passes --name, so the file's name is overridden.
    check(n["name"] == node.name, "flag should override the file: %s" % n["name"])
    check(n["max_connections"] == 5, "max-connections from the file: %s" % n)


def test_health_kick_and_graceful_shutdown(t):
    node = Node(t.procs)
    status, _, body = node.http("/healthz")
    check(status == 200 and body == b"ok\n", "healthz: %d %r" % (status, body))
    status, _, body = node.http("/api/v1/nope")
    check(status == 404 and b"error" in body, "unknown API path: %d %r" % (status, body))

    publish(t.procs, node.rtmp("live", "k"))
    node.wait_live("live", "k")
    victim = play_ffmpeg(t.procs, node.rtmp("live", "k"), t.path("victim.flv"), 60, name="victim")
    wait_for(lambda: node.stream("live", "k")["viewers"]["total"] == 1, 15, "the viewer")
    vid = next(c["id"] for c in node.api("/api/v1/clients")["clients"] if c.get("role") == "viewer")
    status, _, body = node.http("/api/v1/clients/%d" % vid, method="DELETE")
    check(status == 200, "kick answered %d %r" % (status, body))
    victim.wait(timeout=15)
    check(all(c["id"] != vid for c in node.api("/api/v1/clients")["clients"]), "still listed")
    status, _, _ = node.http("/api/v1/clients/999999", method="DELETE")
    check(status == 404, "kicking nobody should be 404, got %d" % status)

    # SIGTERM: the viewer is told the stream ended, the node exits 0 promptly.
    viewer = play_ffmpeg(t.procs, node.rtmp("live", "k"), t.path("last.flv"), 60, name="last")
    wait_for(lambda: node.stream("live", "k")["viewers"]["total"] == 1, 15, "the last viewer")
    time.sleep(2)
    node.stop(expect_status=0, timeout=10)
    check(viewer.wait(timeout=10) == 0, "viewer did not end cleanly:\n" + log_text(viewer)[-500:])
    check("shutting_down" in node.log() and "node_stopped" in node.log(), "shutdown not logged")


def test_api_token_guards_the_api(t):
    node = Node(t.procs, args=["--api-token", "adm1n"])
    status, headers, _ = node.http("/api/v1/node")
    check(status == 401 and "Bearer" in headers.get("WWW-Authenticate", ""), "no token: %d" % status)
    status, _, _ = node.http("/api/v1/node", headers={"Authorization": "Bearer wrong"})
    check(status == 401, "wrong token: %d" % status)
    status, _, _ = node.http("/api/v1/node", headers={"Authorization": "Bearer adm1n"})
    check(status == 200, "right token: %d" % status)
    status, _, _ = node.http("/api/v1/node?accessToken=adm1n")
    check(status == 200, "token in the query: %d" % status)
    status, _, _ = node.http("/healthz")
    check(status == 200, "healthz stays open for load balancers")
