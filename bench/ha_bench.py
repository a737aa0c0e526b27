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
        stopped = set()
        for n in ns:
            order = ["sqlite", "postgresql"] if (rep + ns.index(n)) % 2 else \
                ["postgresql", "sqlite"]
            for store in order:
                if store in stopped:
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
                r.update({"store": store, "rep": rep})
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
                if not ok:
                    stopped.add(store)
                if store == "sqlite":
                    for suffix in ("", "-wal", "-shm"):
                        try:
                            os.unlink(db[7:] + suffix)
                        except OSError:
                            pass
    return results


MODES = {"heartbeat": heartbeat}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("modes", nargs="+", choices=sorted(MODES))
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", required=True)
    ap.add_argument("--ns", default="1000,2000,5000,10000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--register-rate", type=int, default=2000)
    ap.add_argument("--kills", type=int, default=10)
    ap.add_argument("--route-seconds", type=float, default=5)
    a = ap.parse_args()
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
    out["args"] = {k: v for k, v in vars(a).items() if k != "pg"}
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(out, f, indent=1, default=str)


if __name__ == "__main__":
    main()
