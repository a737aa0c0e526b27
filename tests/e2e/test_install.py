# SPDX-License-Identifier: Apache-2.0
"""Installing sluice like a server: `make install`'s layout (meson install of the built tree),
man pages that list what --help lists, --check-config, the systemd units, the Debian package,
systemd readiness notifications, and a SIGHUP reload under live viewers."""
import gzip
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from harness import (SANITIZED, SLUICE, Node, check, fixture, new_addr, play_ffmpeg, publish,
                     wait_for)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def build_dir():
    """The meson build the binary under test came from (build/, build-asan/, ...)."""
    bd = os.path.dirname(os.path.abspath(SLUICE))
    check(os.path.exists(os.path.join(bd, "build.ninja")),
          "%s is not a meson build directory: install needs the built tree" % bd)
    return bd


def run(args, **kw):
    kw.setdefault("timeout", 60)
    return subprocess.run(args, capture_output=True, text=True, **kw)


def help_flags(cmd):
    r = run([SLUICE, cmd, "--help"], timeout=10)
    check(r.returncode == 0, "%s --help: exit %d" % (cmd, r.returncode))
    if cmd == "ctl":
        return set(re.findall(r"(--[a-z][a-z0-9-]*)", r.stdout))
    return set(re.findall(r"^\s+(--[a-z][a-z0-9-]*)", r.stdout, re.M))


def man_flags(text):
    """Every --flag a roff page mentions, as typed (\\- is a hyphen-minus)."""
    plain = text.replace("\\-", "-").replace("\\fB", "").replace("\\fR", "").replace("\\fI", "")
    return set(re.findall(r"(--[a-z][a-z0-9-]*)", plain)), \
        set(re.findall(r"^\.B (--[a-z][a-z0-9-]*)", plain, re.M))


def installed(t):
    """Installs the built tree into a staging root, as `make install DESTDIR=...` does."""
    bd = build_dir()
    root = t.path("root")
    env = dict(os.environ, DESTDIR=root)
    start = time.monotonic()
    r = run(["meson", "install", "-C", bd, "--no-rebuild", "--quiet"], env=env, timeout=120)
    check(r.returncode == 0, "meson install failed: %s %s" % (r.stdout, r.stderr))
    check(time.monotonic() - start < 30, "install took %.0fs: it must not rebuild" % (
        time.monotonic() - start))
    files = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            files[n] = os.path.join(dirpath, n)
    return root, files


def test_install_lays_out_every_file(t):
    root, files = installed(t)
    for name in ("sluice", "sluice-node.8", "sluice-manager.8", "sluice-ctl.1", "node.conf",
                 "manager.conf", "sluice-node.service", "sluice-manager.service"):
        check(name in files, "%s not installed; installed: %s" % (name, sorted(files)))
    rel = {n: os.path.relpath(p, root) for n, p in files.items()}
    check(rel["sluice"].endswith("bin/sluice"), "binary at %s" % rel["sluice"])
    check(rel["sluice-node.8"].endswith("share/man/man8/sluice-node.8"), rel["sluice-node.8"])
    check(rel["sluice-ctl.1"].endswith("share/man/man1/sluice-ctl.1"), rel["sluice-ctl.1"])
    check(rel["sluice-node.service"].endswith("lib/systemd/system/sluice-node.service"),
          rel["sluice-node.service"])
    check(os.access(files["sluice"], os.X_OK), "the installed binary is not executable")
    r = run([files["sluice"], "--version"], timeout=10)
    check(r.returncode == 0 and r.stdout.startswith("sluice "), "--version: %r" % r.stdout)
    # The example configs show every key of --help with its default, and change nothing.
    for cmd in ("node", "manager"):
        text = open(files[cmd + ".conf"]).read()
        keys = set(re.findall(r"^#([a-z][a-z0-9-]*) =", text, re.M))
        want = {f[2:] for f in help_flags(cmd)} - {"help", "config", "check-config"}
        check(want <= keys, "%s.conf lacks %s" % (cmd, sorted(want - keys)))
        check(all(not l.strip() or l.startswith("#") for l in text.splitlines()),
              "%s.conf sets something as installed" % cmd)
    check("#rtmp-port = 1935" in open(files["node.conf"]).read(), "node.conf default port")
    r = run([SLUICE, "node", "--config", files["node.conf"], "--check-config"], timeout=10)
    check(r.returncode == 0 and r.stdout == "ok\n", "installed node.conf: %r %r" % (
        r.stdout, r.stderr))
    r = run([SLUICE, "manager", "--config", files["manager.conf"], "--admin-token", "a" * 12,
             "--cluster-secret", "b" * 12, "--check-config"], timeout=10)
    check(r.returncode == 0 and r.stdout == "ok\n", "installed manager.conf: %r %r" % (
        r.stdout, r.stderr))


def test_man_pages_list_every_help_option(t):
    bd = build_dir()
    pages = {"node": "sluice-node.8", "manager": "sluice-manager.8", "ctl": "sluice-ctl.1"}
    for cmd, page in pages.items():
        path = os.path.join(bd, "packaging", page)
        check(os.path.exists(path), "%s was not generated at build time" % path)
        text = open(path).read()
        check(text.startswith(".\\\"") and ".TH %s " % page.rsplit(".", 1)[0] in text,
              "%s is not a man page" % page)
        mentioned, entries = man_flags(text)
        want = help_flags(cmd)
        check(len(want) >= (3 if cmd == "ctl" else 15), "%s --help parsed to %s" % (cmd, want))
        missing = want - (entries if cmd != "ctl" else mentioned)
        check(not missing, "%s lacks %s, which --help lists" % (page, sorted(missing)))
        if cmd != "ctl":
            extra = entries - want - {"--check-config"}
            check(not extra, "%s lists %s, which --help does not" % (page, sorted(extra)))
        # The page as built is what the binary prints now: it cannot lag behind the table.
        r = run([SLUICE, cmd, "--help-man"], timeout=10)
        check(r.returncode == 0 and r.stdout == text, "%s differs from --help-man" % page)
    if shutil.which("man"):
        r = run(["man", "-l", os.path.join(bd, "packaging", "sluice-node.8")],
                env=dict(os.environ, MANWIDTH="100", MANPAGER="cat", PAGER="cat"))
        check(r.returncode == 0 and "--max-connections" in r.stdout, "man -l: %s" % r.stderr)


def test_check_config_accepts_good_and_refuses_bad(t):
    addr = new_addr()
    good = t.path("good.conf")
    with open(good, "w") as f:
        f.write("# a node\nbind = %s\nrtmp-port = 1935\nmax-connections = 500\n" % addr)
    r = run([SLUICE, "node", "--config", good, "--check-config"], timeout=10)
    check(r.returncode == 0 and r.stdout == "ok\n", "good config: %d %r %r" % (
        r.returncode, r.stdout, r.stderr))
    # It binds nothing: the same config starts a node on that address right after.
    s = socket.socket()
    try:
        s.settimeout(0.5)
        check(s.connect_ex((addr, 1935)) != 0, "--check-config left a listener")
    finally:
        s.close()
    cases = [
        ("bind = %s\n\nmax-connections = lots\n" % addr, [":3:", "max-connections"]),
        ("bind = %s\nviewer-lag-skip = 20s\n" % addr, ["viewer-lag-skip", "viewer-lag-drop"]),
        ("rtmp-port = 5080\n", ["rtmp-port and http-port must differ"]),
        ("role = edge\ncluster-secret = 0123456789\n", ["origins"]),
    ]
    for text, want in cases:
        bad = t.path("bad.conf")
        with open(bad, "w") as f:
            f.write(text)
        r = run([SLUICE, "node", "--config", bad, "--check-config"], timeout=10)
        check(r.returncode == 2 and r.stdout == "", "bad config %r: exit %d out %r" % (
            text, r.returncode, r.stdout))
        for w in want:
            check(w in r.stderr, "bad config %r: %r does not name %r" % (text, r.stderr, w))
        # The same error a start gives.
        r2 = run([SLUICE, "node", "--config", bad], timeout=10)
        check(r2.returncode == 2 and r2.stderr == r.stderr, "start says %r, check says %r" % (
            r2.stderr, r.stderr))
    bad = t.path("manager.conf")
    with open(bad, "w") as f:
        f.write("listen = 127.0.0.1:5070\nadmin-token = short\ncluster-secret = 0123456789\n")
    r = run([SLUICE, "manager", "--config", bad, "--check-config"], timeout=10)
    check(r.returncode == 2 and "admin-token" in r.stderr, "manager: %d %r" % (r.returncode,
                                                                           r.stderr))
    with open(bad, "a") as f:
        f.write("dead-after = 1x\n")
    r = run([SLUICE, "manager", "--config", bad, "--admin-token", "0123456789",
             "--check-config"], timeout=10)
    check(r.returncode == 2 and ":4:" in r.stderr and "dead-after" in r.stderr,
          "manager line 4: %r" % r.stderr)
    r = run([SLUICE, "manager", "--config", bad.replace("manager", "nope"), "--check-config"])
    check(r.returncode == 2 and "nope" in r.stderr, "missing file: %r" % r.stderr)


def test_systemd_units_verify(t):
    bd = build_dir()
    units = {}
    for u in ("sluice-node.service", "sluice-manager.service"):
        text = open(os.path.join(bd, "packaging", u)).read()
        units[u] = text
        for line in ("Type=notify", "User=sluice", "ExecReload=/bin/kill -HUP $MAINPID",
                     "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                     "NoNewPrivileges=yes", "LimitNOFILE=65536"):
            check(line in text.splitlines(), "%s lacks %s" % (u, line))
        # Ports 1935 and 5080 are not privileged: no capability to bind below 1024.
        check("\nAmbientCapabilities" not in text, "%s grants a capability" % u)
    check("StateDirectory=sluice" in units["sluice-manager.service"], "manager state dir")
    if not shutil.which("systemd-analyze"):
        sys.stderr.write("test_systemd_units_verify: SKIPPED the systemd-analyze part: "
                         "systemd-analyze is not installed (scripts/deps.sh deb installs it)\n")
        return
    # The binary path as installed does not exist here: point it at the one under test.
    exe = re.search(r"^ExecStart=(\S+)", units["sluice-node.service"], re.M).group(1)
    for u, text in units.items():
        path = t.path(u)
        with open(path, "w") as f:
            f.write(text.replace(exe, os.path.abspath(SLUICE)))
        r = run(["systemd-analyze", "verify", "--man=no", path], timeout=60)
        if r.returncode != 0 and ("Failed to" in r.stderr and "bus" in r.stderr.lower()):
            sys.stderr.write("test_systemd_units_verify: SKIPPED: systemd-analyze cannot run "
                             "in this container: %s\n" % r.stderr.strip())
            return
        check(r.returncode == 0 and not r.stderr.strip(), "systemd-analyze verify %s: %s" % (
            u, r.stderr))
    # The check catches a bad directive (so a clean result means something).
    path = t.path("broken.service")
    with open(path, "w") as f:
        f.write(units["sluice-node.service"].replace(exe, os.path.abspath(SLUICE))
                .replace("ProtectSystem=strict", "ProtectSystem=stricter"))
    r = run(["systemd-analyze", "verify", "--man=no", path], timeout=60)
    check("stricter" in r.stderr, "a bad directive passed: %r" % r.stderr)


def test_debian_package_builds_and_installs(t):
    if SANITIZED:
        sys.stderr.write("test_debian_package_builds_and_installs: SKIPPED under the "
                         "sanitizers: the package is built from the sources, not from the "
                         "binary under test, and the plain run checks it\n")
        return
    out = t.path("deb")
    start = time.monotonic()
    # niced: the e2e files beside it measure time.
    r = run(["nice", "-n", "10", os.path.join(ROOT, "scripts", "deb.sh")], cwd=ROOT, timeout=200,
            env=dict(os.environ, SLUICE_DEB_OUT=out))
    took = time.monotonic() - start
    check(r.returncode == 0, "deb.sh: %s %s" % (r.stdout[-2000:], r.stderr[-3000:]))
    debs = [l for l in r.stdout.split() if os.path.basename(l).startswith("sluice_")]
    check(len(debs) == 1 and os.path.exists(debs[0]), "no .deb: %r" % r.stdout)
    deb = debs[0]
    sys.stderr.write("deb built in %.0fs: %s\n" % (took, deb))
    r = run(["dpkg-deb", "-c", deb])
    listing = r.stdout
    for path in ("./usr/bin/sluice", "./usr/share/man/man8/sluice-node.8.gz",
                 "./usr/share/man/man8/sluice-manager.8.gz", "./usr/share/man/man1/sluice-ctl.1.gz",
                 "./etc/sluice/node.conf", "./etc/sluice/manager.conf",
                 "/systemd/system/sluice-node.service", "/systemd/system/sluice-manager.service",
                 "./usr/share/doc/sluice/copyright"):
        check(path in listing, "%s not in the package:\n%s" % (path, listing))
    info = run(["dpkg-deb", "-I", deb]).stdout
    check("Package: sluice" in info and "Depends:" in info and "adduser" in info, info)
    postinst = run(["dpkg-deb", "-I", deb, "postinst"]).stdout
    check(re.search(r"adduser --system .*sluice|adduser --system[^\n]*\\\n[^\n]*sluice",
                    postinst), "postinst does not create the sluice user:\n" + postinst)
    # Nothing is started or enabled on install (only re-enabled if the admin had enabled it).
    check("deb-systemd-invoke" not in postinst and "systemctl start" not in postinst,
          "postinst starts a service:\n" + postinst)
    check(not re.search(r"^\s*deb-systemd-helper enable", postinst.replace(
        "was-enabled", "")) or "was-enabled" in postinst, "postinst enables a unit")
    conffiles = run(["dpkg-deb", "-I", deb, "conffiles"]).stdout
    check("/etc/sluice/node.conf" in conffiles and "/etc/sluice/manager.conf" in conffiles,
          "conffiles: %r" % conffiles)
    root = t.path("root")
    r = run(["dpkg", "-x", deb, root])
    check(r.returncode == 0, "dpkg -x: %s" % r.stderr)
    exe = os.path.join(root, "usr", "bin", "sluice")
    r = run([exe, "--version"], timeout=10)
    check(r.returncode == 0 and r.stdout.strip() == run([SLUICE, "--version"]).stdout.strip(),
          "installed --version: %r %r" % (r.stdout, r.stderr))
    r = run([exe, "node", "--config", os.path.join(root, "etc", "sluice", "node.conf"),
             "--check-config"], timeout=10)
    check(r.returncode == 0 and r.stdout == "ok\n", "packaged node.conf: %r" % r.stderr)
    with gzip.open(os.path.join(root, "usr/share/man/man8/sluice-node.8.gz"), "rt") as f:
        _, entries = man_flags(f.read())
    check(help_flags("node") <= entries, "packaged sluice-node(8) lacks options")
    unit = open(os.path.join(root, "lib/systemd/system/sluice-node.service")).read()
    check("ExecStart=/usr/bin/sluice node --config /etc/sluice/node.conf" in unit, unit)
    # The checkout stays clean: the build happened in a copy.
    found = sorted(os.path.relpath(os.path.join(d, n), ROOT)
                   for d, _, names in os.walk(os.path.join(ROOT, "debian")) for n in names)
    check(found == ["debian/changelog", "debian/control", "debian/copyright", "debian/rules",
                    "debian/sluice.postinst", "debian/source/format"],
          "the build left files in debian/: %r" % found)


class Notify:
    """systemd's side of sd_notify: an abstract unix datagram socket."""

    def __init__(self, name):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + name)
        self.addr = "@" + name
        self.seen = []

    def wait(self, what, timeout=10):
        self.sock.settimeout(0.2)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.sock.recv(4096).decode()
            except socket.timeout:
                continue
            self.seen.append(msg)
            if what in msg.split("\n"):
                return msg
        check(False, "no %s notification within %ds (got %r)" % (what, timeout, self.seen))


def test_systemd_notifications(t):
    n = Notify("sluice-e2e-notify-%d" % os.getpid())
    addr = new_addr()
    conf = t.path("node.conf")
    with open(conf, "w") as f:
        f.write("log-level = info\n")
    env = dict(os.environ, NOTIFY_SOCKET=n.addr)
    p = t.procs.start([SLUICE, "node", "--bind", addr, "--config", conf], "node-notify",
                      env=env)
    n.wait("READY=1")
    s = socket.create_connection((addr, 1935), timeout=2)  # READY=1 means listening
    s.close()
    p.send_signal(signal.SIGHUP)
    msg = n.wait("RELOADING=1")
    check("MONOTONIC_USEC=" in msg, "RELOADING=1 without MONOTONIC_USEC: %r" % msg)
    n.wait("READY=1")
    p.send_signal(signal.SIGTERM)
    n.wait("STOPPING=1")
    check(p.wait(timeout=10) == 0, "node exit status %s" % p.returncode)
    n.sock.close()


def test_sighup_reload_keeps_viewers(t):
    addr = new_addr()
    node = Node(t.procs, addr=addr, config="# reloaded below\nlog-level = info\n"
                "max-connections = 50\nviewer-lag-drop = 10s\n")
    conf = [a for a in node.proc.args if a.endswith(".conf")][0]
    publish(t.procs, node.rtmp("live", "r"), media=fixture())
    node.wait_live("live", "r")
    outs = [t.path("v%d.flv" % i) for i in range(2)]
    viewers = [play_ffmpeg(t.procs, node.rtmp("live", "r"), o, 12, name="viewer%d" % i)
               for i, o in enumerate(outs)]
    wait_for(lambda: all(os.path.exists(o) and os.path.getsize(o) > 20000 for o in outs), 10,
             "both viewers receiving")
    check(node.api("/api/v1/node")["max_connections"] == 50, "max-connections before")
    check("rtmp_accept" not in node.log(), "debug lines before the reload")

    with open(conf, "w") as f:
        f.write("# reloaded\nlog-level = debug\nmax-connections = 7\nviewer-lag-drop = 9s\n"
                "hls-format = ts\nmax-publishers = 1\n")
    node.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "config_reloaded_all" in node.log(), 5, "the reload to be logged")
    log = node.log()
    for line in ("config_reloaded key=log-level old=info new=debug",
                 "config_reloaded key=max-connections old=50 new=7",
                 "config_reloaded key=viewer-lag-drop old=10000ms new=9000ms",
                 "config_reloaded key=max-publishers old=1000 new=1",
                 "config_needs_restart key=hls-format"):
        check(line in log, "the log lacks %r:\n%s" % (line, log[-3000:]))
    check(node.api("/api/v1/node")["max_connections"] == 7, "max-connections after the reload")
    # A #13 limit moves too: with one publisher live, a second is refused at max-publishers 1.
    second = publish(t.procs, node.rtmp("live", "r2"), media=fixture(), name="second")
    check(second.wait(timeout=15) != 0, "a second publisher was taken at max-publishers 1")
    check('reason="max-publishers"' in node.log() and "max=1 " in node.log(),
          "the refusal does not name the reloaded limit")
    sizes = [os.path.getsize(o) for o in outs]
    # The new level applies: a new connection is now logged at debug.
    probe = socket.create_connection((addr, 1935), timeout=2)
    wait_for(lambda: "rtmp_accept" in node.log(), 5, "a debug line after the reload")
    # And the new limit: with the publisher, two viewers and this probe held, 7 leaves room
    # for 3 more connections; the rest are refused (closed at once, logged with the limit).
    extra = [socket.create_connection((addr, 1935), timeout=2) for _ in range(6)]
    time.sleep(1.0)
    closed = 0
    for s in extra:
        s.setblocking(False)
        try:
            closed += s.recv(1) == b""
        except BlockingIOError:
            pass
        s.close()
    probe.close()
    check(closed == 3, "%d of 6 extra connections refused at max-connections 7, expected 3"
          % closed)
    check("limit=7" in node.log(), "the refusal does not name the new limit")

    # A bad file is refused whole: the running config stays, the node goes on.
    with open(conf, "w") as f:
        f.write("log-level = info\nmax-connections = lots\n")
    node.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "config_reload_failed" in node.log(), 5, "the failed reload")
    failed = [l for l in node.log().splitlines() if "config_reload_failed" in l][0]
    check(":2:" in failed and "max-connections" in failed, "failure names line and key: " +
          failed)
    check(node.api("/api/v1/node")["max_connections"] == 7, "a bad reload changed the limit")

    for v in viewers:
        check(v.wait(timeout=20) == 0, "a viewer failed: exit %s" % v.returncode)
    for o, before in zip(outs, sizes):
        check(os.path.getsize(o) > before + 50000, "viewer stopped receiving at the reload: "
              "%d then %d bytes" % (before, os.path.getsize(o)))
    check(node.proc.poll() is None, "the node exited")
    check("viewer_too_slow" not in node.log(), "a viewer was dropped")


def test_manager_reload_changes_token(t):
    addr = new_addr()
    conf = t.path("manager.conf")
    base = "listen = %s:5070\ndb = sqlite:%s\ncluster-secret = 0123456789ab\n" \
           "node-dir = %s\nlocal-addr-base = 127.%d.9\n" % (
               addr, t.path("m.db"), t.path("nodes"), int(addr.split(".")[1]))
    with open(conf, "w") as f:
        f.write(base + "admin-token = first-token-123\n")
    n = Notify("sluice-e2e-mnotify-%d" % os.getpid())
    p = t.procs.start([SLUICE, "manager", "--config", conf], "manager",
                      env=dict(os.environ, NOTIFY_SOCKET=n.addr))
    n.wait("READY=1")

    def status(token):
        req = urllib.request.Request("http://%s:5070/api/v1/groups" % addr,
                                     headers={"Authorization": "Bearer " + token})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    check(status("first-token-123") == 200 and status("second-token-456") == 401,
          "tokens before the reload")
    with open(conf, "w") as f:
        f.write(base.replace(":5070", ":5071") + "admin-token = second-token-456\n"
                "dead-after = 3s\nlog-level = warn\n")
    p.send_signal(signal.SIGHUP)
    n.wait("RELOADING=1")
    n.wait("READY=1")
    log = open(p.log_path).read()
    for line in ("config_reloaded key=admin-token old=(hidden) new=(hidden)",
                 "config_reloaded key=dead-after old=2000ms new=3000ms",
                 "config_reloaded key=log-level old=info new=warn",
                 "config_needs_restart key=listen"):
        check(line in log, "manager log lacks %r:\n%s" % (line, log[-2000:]))
    check("first-token" not in log and "second-token" not in log, "a token was logged")
    check(status("second-token-456") == 200 and status("first-token-123") == 401,
          "tokens after the reload")
    with open(conf, "w") as f:
        f.write(base + "admin-token = short\n")
    p.send_signal(signal.SIGHUP)
    wait_for(lambda: "config_reload_failed" in open(p.log_path).read(), 5, "failed reload")
    check(status("second-token-456") == 200, "a bad reload changed the token")
    p.send_signal(signal.SIGTERM)
    n.wait("STOPPING=1")
    check(p.wait(timeout=10) == 0, "manager exit %s" % p.returncode)
    n.sock.close()
