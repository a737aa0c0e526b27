#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""ha_bench.py - the manager tier's measurements (docs/benchmarks.md, "Manager tier"); run
through bench/run-ha.sh.

  heartbeat  sluice-nodesim against one manager, SQLite and PostgreSQL taking turns, N ramped
             until p99 >= 100 ms or a false death; REPS repetitions.
  routing    routing answers through haproxy in front of three managers (PostgreSQL), against
             nginx answering a fixed JSON of the same size behind the same haproxy layout, and
             one manager against one nginx directly; keep-alive and not; sluice-httpload.
  failover   the leader SIGKILLed KILLS times under routing load through haproxy (and 100
             simulated nodes heartbeating through it): time until another manager has run its
             first leader pass, and routing errors around each kill.

Pinning: the manager(s), or nginx, on CPU 0; the clients, haproxy and PostgreSQL on CPU 1.
Every process is started here, bounded, and stopped by its PID.  Results: one JSON per run and
results.json in OUT."""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

TOKEN = "bench-admin-token-0123"
SECRET = "bench-cluster-secret-0123"
PG_BIN = os.environ.get("SLUICE_PG_BIN", "/usr/lib/postgresql/15/bin")
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SRV_CPU, CLI_CPU = ("0", "1") if os.cpu_count() and os.cpu_count() >= 2 else ("0", "0")
# Addresses of their own (bench/run.sh uses 127.0.0.71-79).
MGR1 = "127.0.0.81"
PG_ADDR = "127.0.0.82"
HA_MGRS = ["127.0.0.83", "127.0.0.84", "127.0.0.85"]
LB = "127.0.0.86"
NGINXES = ["127.0.0.87", "127.0.0.88", "127.0.0.89"]
P99_LIMIT_MS = 100.0

PROCS = []


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def start(cmd, logpath, cpu=None, **kw):
    if cpu is not None:
        cmd = ["taskset", "-c", cpu] + cmd
    f = open(logpath, "ab")
    p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, **kw)
    f.close()
    PROCS.append(p)
    return p


def stop(p, sig=signal.SIGTERM, wait=10):
    if p.poll() is None:
        try:
            p.send_signal(sig)
            p.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)
    if p in PROCS:
        PROCS.remove(p)


def stop_all():
    for p in list(PROCS):
        try:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGCONT)
        except OSError:
            pass
        stop(p)


def port_open(addr, port):
    try:
        with socket.create_connection((addr, port), timeout=0.3):
            return True
    except OSError:
        return False


def wait_for(fn, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            v = fn()
            if v:
                return v
        except Exception:
            pass
        time.sleep(0.05)
    raise RuntimeError("timed out waiting for " + what)


def http(url, method="GET", body=None, timeout=10):
    h = {"Authorization": "Bearer " + TOKEN}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    req = urllib.request.Request(url, method=method, data=data, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def setup_groups(api, ngroups, prefix="simg"):
    """A launch configuration with room for anything, a policy, and ngroups groups with no
    origin added: the autoscaler leaves them alone, and simulated nodes join them."""
    lc = {"launchconfig": {"name": "sim", "description": "simulated nodes", "image": "sluice",
                           "version": "0.0.1", "targets": {"target": [
                               {"role": "origin", "instanceType": "sim",
                                "connectionCapacity": "100000"},
                               {"role": "edge", "instanceType": "sim",
                                "connectionCapacity": "100000"}]}}}
    sp = {"policy": {"name": "sim", "description": "fixed", "version": "0.0.1", "type": "",
                     "targets": {"target": [
                         {"role": r, "coolDownPeriod": "60000", "estimatedWarmUpTime": "1000",
                          "minLimit": "0", "maxLimit": "1000", "scaleAdjustment": "1"}
                         for r in ("origin", "edge")]}}}
    for path, body in (("/api/v1/launchconfigs", lc), ("/api/v1/scalepolicies", sp)):
        st, out = http(api + path, "POST", body)
        if st not in (200, 201, 409):
            raise RuntimeError("%s: %d %s" % (path, st, out))
    for g in range(ngroups):
        st, out = http(api + "/api/v1/groups", "POST",
                       {"name": "%s-%d" % (prefix, g), "regions": ["local"],
                        "launchConfig": "sim", "scalePolicy": "sim"})
        if st not in (200, 201, 409):
            raise RuntimeError("group %d: %d %s" % (g, st, out))


class Postgres:
    """One PostgreSQL of its own (initdb as user postgres in a temp dir), on CPU 1."""

    def __init__(self, work):
        self.root = tempfile.mkdtemp(prefix="sluice-benchpg-")
        os.chmod(self.root, 0o755)
        self.data = os.path.join(self.root, "data")
        self.sock = os.path.join(self.root, "sock")
        os.mkdir(self.sock)
        pw = os.path.join(self.root, "pw")
        with open(pw, "w") as f:
            f.write("bench-db-password\n")
        for p in (self.root, self.sock, pw):
            shutil.chown(p, "postgres")
        r = self.as_pg([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U", "sluice",
                        "--pwfile", pw, "--auth-host=scram-sha-256", "--auth-local=trust",
                        "-E", "UTF8", "--no-sync"])
        if r.returncode:
            raise RuntimeError("initdb: " + r.stderr[-1000:])
        self.password_file = os.path.join(work, "db-password")
        with open(self.password_file, "w") as f:
            f.write("bench-db-password\n")
        os.chmod(self.password_file, 0o600)
        with socket.socket() as s:
            s.bind((PG_ADDR, 0))
            self.port = s.getsockname()[1]
        self.proc = start(["runuser", "-u", "postgres", "--", os.path.join(PG_BIN, "postgres"),
                           "-D", self.data, "-c", "listen_addresses=" + PG_ADDR,
                           "-p", str(self.port), "-k", self.sock, "-c", "fsync=off",
                           "-c", "max_connections=50"], os.path.join(work, "postgres.log"),
                          cpu=CLI_CPU)
        wait_for(lambda: port_open(PG_ADDR, self.port), 20, "PostgreSQL")
        time.sleep(0.5)
        self.n = 0

    def as_pg(self, args):
        return subprocess.run(["runuser", "-u", "postgres", "--"] + args, capture_output=True,
                              text=True, timeout=60)

    def new_db(self):
        """A fresh database, so every run starts from an empty store."""
        self.n += 1
        name = "bench%d" % self.n
        r = self.as_pg([os.path.join(PG_BIN, "psql"), "-h", self.sock, "-p", str(self.port),
                        "-U", "sluice", "-d", "postgres", "-c", "CREATE DATABASE " + name])
        if r.returncode:
            raise RuntimeError("createdb: " + r.stderr[-500:])
        return "postgresql://sluice@%s:%d/%s" % (PG_ADDR, self.port, name)

    def close(self):
        stop(self.proc, signal.SIGINT, 20)
        shutil.rmtree(self.root, ignore_errors=True)


def manager_cmd(a, addr, db, name, extra=()):
    cmd = [a.sluice, "manager", "--listen", addr + ":5070", "--node-listen", addr + ":5071",
           "--db", db, "--admin-token", TOKEN, "--cluster-secret", SECRET, "--name", name,
           "--log-level", "warn", "--max-connections-per-ip", "0", "--conn-rate-per-ip", "0",
           "--node-max-connections", "8192", "--local-addr-base", "127.0.90",
           "--node-dir", os.path.join(a.out, "nodes")]
    if db.startswith("postgresql:"):
        cmd += ["--db-password-file", a.pg.password_file]
    return cmd + list(extra)


def run_nodesim(a, manager, api, n, outfile, server_pid=None, duration=None, extra=()):
    cmd = [a.nodesim, "--manager", manager, "--api", api, "--token", TOKEN, "--secret", SECRET,
           "--nodes", str(n), "--warmup", str(a.warmup),
           "--duration", str(duration or a.duration), "--register-rate", str(a.register_rate)]
    if server_pid:
        cmd += ["--server-pid", str(server_pid)]
    # A manager that cannot keep up never finishes the registrations: bounded.
    cmd += ["--register-timeout", str(int(15 + 3 * n / a.register_rate))]
    cmd += list(extra)
    with open(outfile, "w") as f, open(outfile + ".err", "w") as e:
        r = subprocess.run(["taskset", "-c", CLI_CPU] + cmd, stdout=f, stderr=e,
                           timeout=60 + n / a.register_rate * 2 + a.warmup + a.duration + 60)
    try:
        with open(outfile) as f:
            return json.load(f)
    except ValueError:
        return {"error": "nodesim exited %d" % r.returncode}


def held(r):
    """A run holds its N: every node registered, p99 under the limit, no false death."""
    return (r.get("registered") == r.get("nodes") and
            r.get("latency_ms", {}).get("p99", 1e9) < P99_LIMIT_MS and
            r.get("false_deaths", {}).get("total", 1) == 0 and
            r.get("heartbeats", {}).get("failed", 1) == 0)


def heartbeat(a):
    ns = [int(x) for x in a.ns.split(",")]
    results = []
    for rep in range(1, a.reps + 1):
        # A store stops ramping in this repetition once two N in a row were not held (one
        # may be a hiccup of a shared machine).
        misses = {"sqlite": 0, "postgresql": 0}
        for n in ns:
            order = ["sqlite", "postgresql"] if (rep + ns.index(n)) % 2 else \
                ["postgresql", "sqlite"]
            for store in order:
                if misses[store] >= 2:
                    continue
                db = ("sqlite:" + os.path.join(a.out, "hb-%d-%d.db" % (rep, n))
                      if store == "sqlite" else a.pg.new_db())
                name = "hb-%s-n%d-r%d" % (store, n, rep)
                mp = start(manager_cmd(a, MGR1, db, "m1"), os.path.join(a.out, name + ".log"),
                           cpu=SRV_CPU)
                wait_for(lambda: port_open(MGR1, 5070) and port_open(MGR1, 5071), 20, "manager")
                api = "http://%s:5070" % MGR1
                setup_groups(api, (n + 99) // 100)
                log("  heartbeat %-10s N=%-6d rep %d ..." % (store, n, rep))
                r = run_nodesim(a, "http://%s:5071" % MGR1, api, n,
                                os.path.join(a.out, name + ".json"), server_pid=mp.pid)
                stop(mp)
                r.update({"store": store, "rep": rep, "load": os.getloadavg()[0]})
                results.append(r)
                ok = held(r)
                log("    p50 %.1f p99 %.1f max %.1f ms, ok %s/s, failed %s, false deaths %s, "
                    "manager CPU %.0f%%, sim CPU %.0f%% -> %s" % (
                        r.get("latency_ms", {}).get("p50", -1),
                        r.get("latency_ms", {}).get("p99", -1),
                        r.get("latency_ms", {}).get("max", -1),
                        r.get("heartbeats", {}).get("ok_per_s", -1),
                        r.get("heartbeats", {}).get("failed", -1),
                        r.get("false_deaths", {}).get("total", -1),
                        r.get("server_cpu_pct", -1), r.get("client_cpu_pct", -1),
                        "held" if ok else "NOT held"))
                misses[store] = 0 if ok else misses[store] + 1
                if store == "sqlite":
                    for suffix in ("", "-wal", "-shm"):
                        try:
                            os.unlink(db[7:] + suffix)
                        except OSError:
                            pass
    return results



# The layout of docs/operations.md, as the e2e tests run it (tests/e2e/pg_util.py), with one
# frontend more: the same backend settings in front of the nginx peers.
HAPROXY_FIXED = """frontend fixed
    bind {lb}:5072
    default_backend nginxes
backend nginxes
    balance roundrobin
    option httpchk GET /healthz
    default-server inter 250ms fall 2 rise 1
{nginx}
"""


def haproxy_cfg(lb, managers, nginxes):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                    "e2e"))
    from pg_util import HAPROXY_CFG
    api = "\n".join("    server m%d %s:5070 check" % (i + 1, x) for i, x in enumerate(managers))
    nodes = "\n".join("    server m%d %s:5071 check" % (i + 1, x) for i, x in enumerate(managers))
    nginx = "\n".join("    server n%d %s:8080 check" % (i + 1, x) for i, x in enumerate(nginxes))
    return (HAPROXY_CFG.format(lb=lb, api_servers=api, node_servers=nodes) +
            HAPROXY_FIXED.format(lb=lb, nginx=nginx))


NGINX_CFG = """daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 65536;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 16384; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    server {{
        listen {addr}:8080 backlog=1024;
        location / {{
            default_type application/json;
            return 200 '{body}';
        }}
    }}
}}
"""

ROUTE_PATH = "/api/v1/streams/live/sim-0?action=subscribe"


class HaCluster:
    """Three managers on one PostgreSQL database behind haproxy, 100 simulated nodes
    heartbeating through it, and three nginx answering the routing answer's bytes."""

    def __init__(self, a):
        self.a = a
        self.db = a.pg.new_db()
        self.mgrs = {}
        for i, addr in enumerate(HA_MGRS):
            self.start_manager("m%d" % (i + 1), addr)
        cfg = os.path.join(a.out, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(haproxy_cfg(LB, HA_MGRS, NGINXES))
        self.haproxy = start([HAPROXY, "-db", "-f", cfg], os.path.join(a.out, "haproxy.log"),
                             cpu=CLI_CPU)
        wait_for(lambda: port_open(LB, 5070) and port_open(LB, 5071), 10, "haproxy")
        wait_for(lambda: self.leader(), 10, "a leader")
        time.sleep(1.0)  # every server has been checked once (the leader backend's state)
        setup_groups("http://%s:5070" % LB, 1)
        self.sim = start(["taskset", "-c", CLI_CPU, a.nodesim, "--manager", "http://%s:5071" % LB,
                          "--secret", SECRET, "--nodes", "100", "--warmup", "2",
                          "--duration", "3600", "--register-rate", "200"],
                         os.path.join(a.out, "ha-nodesim.err"))
        self.sim_out = os.path.join(a.out, "ha-nodesim.json")
        api = "http://%s:5070" % HA_MGRS[0]
        wait_for(lambda: http(api + ROUTE_PATH)[0] == 200, 30, "routing to answer")
        status, answer = http(api + ROUTE_PATH)
        body = json.dumps(answer, separators=(",", ":"))
        self.body_len = len(body) + 1   # the manager ends its JSON with a newline
        self.nginx = []
        for addr in NGINXES:
            d = os.path.join(a.out, "nginx-" + addr)
            os.makedirs(d, exist_ok=True)
            with open(os.path.join(d, "nginx.conf"), "w") as f:
                f.write(NGINX_CFG.format(dir=d, addr=addr, body=body.replace("'", "")))
            self.nginx.append(start([NGINX, "-p", d, "-c", os.path.join(d, "nginx.conf")],
                                    os.path.join(d, "stdout.log"), cpu=SRV_CPU))
        wait_for(lambda: all(port_open(x, 8080) for x in NGINXES), 10, "nginx")
        time.sleep(1.0)

    def start_manager(self, name, addr):
        p = start(manager_cmd(self.a, addr, self.db, name,
                              ["--advertise-url", "http://%s:5071" % LB]),
                  os.path.join(self.a.out, "ha-%s.log" % name), cpu=SRV_CPU)
        wait_for(lambda: port_open(addr, 5070), 20, "manager " + name)
        self.mgrs[name] = (addr, p)

    def leadership(self, addr):
        st, out = http("http://%s:5070/api/v1/manager" % addr, timeout=1)
        return out["leadership"] if st == 200 else None

    def leader(self, among=None):
        lead = []
        for name, (addr, p) in self.mgrs.items():
            if p.poll() is None and (among is None or name in among):
                try:
                    if self.leadership(addr)["isLeader"]:
                        lead.append(name)
                except Exception:
                    pass
        return lead[0] if len(lead) == 1 else None

    def stop_sim(self):
        self.sim.send_signal(signal.SIGINT)
        try:
            self.sim.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.sim.kill()
        # start() wrote its stdout to the .err log with stderr: the report is the JSON in it.
        text = open(os.path.join(self.a.out, "ha-nodesim.err")).read()
        try:
            return json.JSONDecoder().raw_decode(text[text.rindex('{\n "nodes"'):])[0]
        except ValueError:
            return {"error": text[-500:]}


def httpload(a, url, outfile, keepalive=True, duration=None, conns=32):
    cmd = ["taskset", "-c", CLI_CPU, a.httpload, "--url", url, "--conns", str(conns),
           "--warmup", "1", "--duration", str(duration or a.route_seconds)]
    if not keepalive:
        cmd.append("--close")
    return cmd, outfile


def run_load(cmd, outfile, timeout):
    with open(outfile, "w") as f, open(outfile + ".err", "w") as e:
        subprocess.run(cmd, stdout=f, stderr=e, timeout=timeout)
    with open(outfile) as f:
        return json.load(f)


def routing(a):
    c = a.cluster = HaCluster(a)
    results = []
    targets = {
        ("haproxy", "sluice"): "http://%s:5070%s" % (LB, ROUTE_PATH),
        ("haproxy", "nginx"): "http://%s:5072%s" % (LB, ROUTE_PATH),
        ("direct", "sluice"): "http://%s:5070%s" % (HA_MGRS[0], ROUTE_PATH),
        ("direct", "nginx"): "http://%s:8080%s" % (NGINXES[0], ROUTE_PATH),
    }
    for rep in range(1, a.reps + 1):
        for path in ("haproxy", "direct"):
            for ka in (True, False):
                order = ["sluice", "nginx"] if rep % 2 else ["nginx", "sluice"]
                for server in order:
                    name = "route-%s-%s-%s-r%d" % (path, "ka" if ka else "close", server, rep)
                    cmd, out = httpload(a, targets[(path, server)],
                                        os.path.join(a.out, name + ".json"), ka)
                    r = run_load(cmd, out, a.route_seconds + 30)
                    r.pop("timeline", None)
                    r.update({"path": path, "server": server, "rep": rep})
                    results.append(r)
                    log("  routing %-7s %-10s %-6s rep %d: %.0f/s p99 %.2f ms, %d failed, "
                        "body %d B" % (path, "keep-alive" if ka else "close", server, rep,
                                       r["ok_per_s"], r["latency_ms"]["p99"], r["failed"],
                                       r["body_bytes"]))
    return {"body_bytes_sluice": c.body_len, "runs": results}


def failover(a):
    c = getattr(a, "cluster", None) or HaCluster(a)
    a.cluster = c
    per_kill = 9.0
    total = a.kills * per_kill + 10
    out = os.path.join(a.out, "failover-load.json")
    cmd, _ = httpload(a, "http://%s:5070%s" % (LB, ROUTE_PATH), out, True, total, conns=8)
    with open(out, "w") as f, open(out + ".err", "w") as e:
        load = subprocess.Popen(cmd, stdout=f, stderr=e)
    time.sleep(2)
    kills = []
    for k in range(1, a.kills + 1):
        lead = wait_for(lambda: c.leader(), 15, "a leader")
        addr, p = c.mgrs[lead]
        rest = [n for n in c.mgrs if n != lead]
        t_kill = time.time() * 1000.0
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)

        def acted():
            for n in rest:
                ls = c.leadership(c.mgrs[n][0])
                if ls and ls["isLeader"] and ls["firstPassMs"] >= t_kill:
                    return n, ls
            return None
        try:
            new, ls = wait_for(acted, 20, "a new leader to act")
            row = {"kill": k, "killed": lead, "new": new,
                   "acts_ms": ls["firstPassMs"] - t_kill,
                   "elected_ms": ls["leaderSinceMs"] - t_kill, "kill_wall_ms": t_kill}
        except RuntimeError:
            row = {"kill": k, "killed": lead, "new": None, "acts_ms": None,
                   "kill_wall_ms": t_kill}
        kills.append(row)
        log("  failover %d: %s killed, %s acts after %s ms" % (
            k, lead, row["new"], None if row["acts_ms"] is None else "%.0f" % row["acts_ms"]))
        c.start_manager(lead, addr)
        time.sleep(max(0.0, per_kill - 3.0 - (time.time() * 1000.0 - t_kill) / 1000.0))
    load.send_signal(signal.SIGINT)
    load.wait(timeout=30)
    with open(out) as f:
        r = json.load(f)
    tl = r.pop("timeline")
    t0, b = tl["start_wall_ms"], tl["bucket_ms"]
    for i, row in enumerate(kills):
        end = kills[i + 1]["kill_wall_ms"] if i + 1 < len(kills) else t0 + b * len(tl["ok"])
        lo, hi = int((row["kill_wall_ms"] - t0) // b), int((end - t0) // b)
        row["routing_failed"] = sum(tl["failed"][lo:hi])
        row["routing_ok"] = sum(tl["ok"][lo:hi])
    sim = c.stop_sim()
    return {"kills": kills, "load": r, "nodes": sim}



def med(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2.0


def fmt(x, nd=1):
    return "-" if x is None else ("%.*f" % (nd, x))


def summary(out):
    """results.json -> markdown (docs/benchmarks.md, Manager tier)."""
    L = ["machine: %s CPUs, load average at the start %s" % (
        out["machine"]["cpus"], " ".join("%.1f" % x for x in out["machine"]["load"])), ""]
    hb = out.get("heartbeat")
    if hb:
        L += ["### Heartbeats: one manager, N simulated nodes at 1/s (medians over the runs)", "",
              "| store | N | runs | held | heartbeats ok/s | p50 ms | p99 ms | max ms | "
              "failed | false deaths | manager CPU % | manager CPU us per heartbeat | "
              "simulator CPU % | registration s | load average |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        keys = sorted({(r["store"], r["nodes"]) for r in hb})
        best = {}
        for store, n in keys:
            rs = [r for r in hb if r["store"] == store and r["nodes"] == n]
            nheld = sum(1 for r in rs if held(r))
            unreg = sum(1 for r in rs if r.get("registered") != n)
            # Figures only from runs that got as far as the window.
            rs = [r for r in rs if r.get("registered") == n] or rs[:0]
            if nheld * 2 > len(rs):
                best[store] = max(best.get(store, 0), n)
            g = lambda f: med([f(r) for r in rs])
            L.append("| %s | %d | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                store, n, "%d%s" % (len(rs) + unreg, " (%d did not finish registering)" % unreg
                                    if unreg else ""), nheld,
                fmt(g(lambda r: r.get("heartbeats", {}).get("ok_per_s")), 0),
                fmt(g(lambda r: r.get("latency_ms", {}).get("p50"))),
                fmt(g(lambda r: r.get("latency_ms", {}).get("p99"))),
                fmt(g(lambda r: r.get("latency_ms", {}).get("max"))),
                fmt(g(lambda r: r.get("heartbeats", {}).get("failed")), 0),
                fmt(g(lambda r: r.get("false_deaths", {}).get("total")), 0),
                fmt(g(lambda r: r.get("server_cpu_pct")), 0),
                fmt(g(lambda r: 1e4 * r["server_cpu_pct"] / r["heartbeats"]["ok_per_s"]
                      if r.get("server_cpu_pct", -1) >= 0 and
                      r.get("heartbeats", {}).get("ok_per_s") else None), 0),
                fmt(g(lambda r: r.get("client_cpu_pct")), 0),
                fmt(g(lambda r: r.get("register_s"))),
                fmt(g(lambda r: r.get("load")), 1)))
        L += ["", "Largest N held (p99 < %d ms, no failed heartbeat, no false death, in most "
              "runs): %s" % (P99_LIMIT_MS, ", ".join("%s %s" % (k, best.get(k, "none"))
                                                      for k in ("sqlite", "postgresql"))), ""]
        ratios = []
        for n in sorted({k[1] for k in keys}):
            a = [r["latency_ms"]["p99"] for r in hb if r["nodes"] == n and
                 r["store"] == "postgresql" and r.get("registered") == n]
            b = [r["latency_ms"]["p99"] for r in hb if r["nodes"] == n and
                 r["store"] == "sqlite" and r.get("registered") == n]
            if a and b and med(b):
                ratios.append("N=%d %.2f" % (n, med(a) / med(b)))
        if ratios:
            L += ["p99 ratio PostgreSQL / SQLite: " + ", ".join(ratios), ""]
    ro = out.get("routing")
    if ro:
        L += ["### Routing answers: sluice manager(s) against nginx's fixed JSON (%d B vs the "
              "manager's answer)" % ro["body_bytes_sluice"], "",
              "| path | connections | sluice answers/s | nginx answers/s | ratio | sluice p99 ms | "
              "nginx p99 ms | failed (s / n) |", "|---|---|---|---|---|---|---|---|"]
        for path in ("haproxy", "direct"):
            for ka in (True, False):
                rs = {srv: [r for r in ro["runs"] if r["path"] == path and
                            r["keepalive"] == ka and r["server"] == srv]
                      for srv in ("sluice", "nginx")}
                if not rs["sluice"] or not rs["nginx"]:
                    continue
                a = med([r["ok_per_s"] for r in rs["sluice"]])
                b = med([r["ok_per_s"] for r in rs["nginx"]])
                L.append("| %s | %s | %s | %s | %s | %s | %s | %d / %d |" % (
                    "haproxy, 3 managers / 3 nginx" if path == "haproxy" else
                    "direct, 1 manager / 1 nginx",
                    "keep-alive" if ka else "new per request", fmt(a, 0), fmt(b, 0),
                    fmt(a / b if b else None, 2),
                    fmt(med([r["latency_ms"]["p99"] for r in rs["sluice"]]), 2),
                    fmt(med([r["latency_ms"]["p99"] for r in rs["nginx"]]), 2),
                    sum(r["failed"] for r in rs["sluice"]), sum(r["failed"] for r in rs["nginx"])))
        L.append("")
    fo = out.get("failover")
    if fo:
        ks = fo["kills"]
        acts = [k["acts_ms"] for k in ks if k.get("acts_ms") is not None]
        el = [k["elected_ms"] for k in ks if k.get("elected_ms") is not None]
        fails = [k.get("routing_failed", 0) for k in ks]
        L += ["### Leader failover: %d SIGKILLs of the leader under routing load" % len(ks), "",
              "| kill | killed | new leader | elected after ms | first leader pass after ms | "
              "routing ok / failed until the next kill |", "|---|---|---|---|---|---|"]
        for k in ks:
            L.append("| %d | %s | %s | %s | %s | %d / %d |" % (
                k["kill"], k["killed"], k["new"] or "none", fmt(k.get("elected_ms"), 0),
                fmt(k.get("acts_ms"), 0), k.get("routing_ok", 0), k.get("routing_failed", 0)))
        L += ["", "new leader acts after: median %s ms, max %s ms (elected: median %s, max %s); "
              "routing failures per kill: median %s, max %s, of %d answers in all; %s" % (
                  fmt(med(acts), 0), fmt(max(acts) if acts else None, 0), fmt(med(el), 0),
                  fmt(max(el) if el else None, 0), fmt(med(fails), 0), max(fails or [0]),
                  fo["load"].get("ok", 0), ", ".join("%s %d" % kv for kv in
                                                       fo["load"].get("errors", {}).items())
                  or "no error kinds"), ""]
        nd = fo.get("nodes", {})
        if "false_deaths" in nd:
            L += ["100 simulated nodes heartbeating through haproxy meanwhile: %s heartbeats ok, "
                  "%s failed, p99 %s ms, max %s ms; false deaths (strict: no /healthz) %s%s" % (
                      nd["heartbeats"]["ok"], nd["heartbeats"]["failed"],
                      fmt(nd["latency_ms"]["p99"]), fmt(nd["latency_ms"]["max"]),
                      nd["false_deaths"]["total"],
                      (": " + "; ".join(nd["false_deaths"]["examples"][:3]))
                      if nd["false_deaths"]["examples"] else ""), ""]
    return "\n".join(L)


MODES = {"heartbeat": heartbeat, "routing": routing, "failover": failover}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("modes", nargs="*", help="of " + ", ".join(sorted(MODES)))
    ap.add_argument("--summary", help="print the summary of a results.json and exit")
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", required=True)
    ap.add_argument("--ns", default="1000,2000,5000,10000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--register-rate", type=int, default=1000)
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--route-seconds", type=float, default=5)
    a = ap.parse_args()
    if a.summary:
        with open(a.summary) as f:
            print(summary(json.load(f)))
        return
    if not a.modes or set(a.modes) - set(MODES):
        ap.error("modes: one or more of " + ", ".join(sorted(MODES)))
    a.out = os.path.abspath(a.out)
    a.sluice = os.path.abspath(os.path.join(a.build, "sluice"))
    a.nodesim = os.path.abspath(os.path.join(a.build, "bench", "sluice-nodesim"))
    a.httpload = os.path.abspath(os.path.join(a.build, "bench", "sluice-httpload"))
    os.makedirs(a.out, exist_ok=True)
    os.makedirs(os.path.join(a.out, "nodes"), exist_ok=True)
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    out = {"machine": {"cpus": os.cpu_count(), "load": os.getloadavg()}, "args": vars(a)}
    a.pg = None
    try:
        a.pg = Postgres(a.out)
        for m in a.modes:
            out[m] = MODES[m](a)
            with open(os.path.join(a.out, "results.json"), "w") as f:
                json.dump(out, f, indent=1, default=str)
    finally:
        stop_all()
        if a.pg:
            shutil.rmtree(a.pg.root, ignore_errors=True)
    out["args"] = {k: v for k, v in vars(a).items() if k not in ("pg", "cluster")}
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(out, f, indent=1, default=str)
    text = summary(out)
    with open(os.path.join(a.out, "summary.md"), "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
