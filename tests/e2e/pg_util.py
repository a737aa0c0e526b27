# SPDX-License-Identifier: Apache-2.0
"""pg_util.py - several `sluice manager`s on a real PostgreSQL behind a real haproxy, for the
tests of docs/operations.md: the database (initdb as user postgres through runuser, the
postmaster a child of the test running as postgres, in a temp dir, on 127.X.0.N and a free
port), haproxy (its config written here), the managers, and the load
balancer's address as a Manager-like endpoint.  Everything is stopped by PID at the end.

PostgreSQL and haproxy are installed by scripts/deps.sh: a missing binary fails the test
with a message saying so, never skips it."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness import ADDR_BLOCK, SLUICE, TestFailure, check, log_text, new_addr, port_open, \
    wait_for
from manager_util import SECRET, TOKEN, Manager

PG_BIN = os.environ.get("SLUICE_PG_BIN", "/usr/lib/postgresql/15/bin")
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
DB_USER = "sluice"
DB_PASSWORD = "e2e-db-password-0123"
# Short lease and sync so failover fits a test; the defaults are 2s and 500ms.
LEASE = "2s"
SYNC = "250ms"
DEAD_AFTER = "3s"


def need_binaries():
    missing = [p for p in (os.path.join(PG_BIN, "initdb"), os.path.join(PG_BIN, "pg_isready"),
                           os.path.join(PG_BIN, "postgres"), HAPROXY) if not os.access(p, os.X_OK)]
    if missing or not shutil.which("runuser"):
        raise TestFailure("missing %s: these tests need PostgreSQL 15 and haproxy "
                          "(scripts/deps.sh installs them)" % (missing or ["runuser"]))


def free_port(addr):
    with socket.socket() as s:
        s.bind((addr, 0))
        return s.getsockname()[1]


def _as_postgres(args, **kw):
    return subprocess.run(["runuser", "-u", "postgres", "--"] + args, capture_output=True,
                          text=True, timeout=60, **kw)


class Postgres:
    """A PostgreSQL cluster of its own: a superuser `sluice` with a password (scram), a
    database `sluice`, listening on addr:port only."""

    def __init__(self, t):
        need_binaries()
        self.t = t
        self.addr = new_addr()
        self.port = free_port(self.addr)
        # The test's own tmpdir is 0700 (root's): postgres needs a directory it can reach.
        self.root = tempfile.mkdtemp(prefix="sluice-pg-")
        os.chmod(self.root, 0o755)
        self.data = os.path.join(self.root, "data")
        self.sock = os.path.join(self.root, "sock")
        os.mkdir(self.sock)
        pwfile = os.path.join(self.root, "pw")
        with open(pwfile, "w") as f:
            f.write(DB_PASSWORD + "\n")
        shutil.chown(self.root, "postgres")
        shutil.chown(self.sock, "postgres")
        shutil.chown(pwfile, "postgres")
        r = _as_postgres([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U", DB_USER,
                          "--pwfile", pwfile, "--auth-host=scram-sha-256",
                          "--auth-local=trust", "-E", "UTF8", "--no-sync"])
        check(r.returncode == 0, "initdb failed: %s" % r.stderr[-2000:])
        os.unlink(pwfile)
        self.password_file = t.path("db-password")
        with open(self.password_file, "w") as f:
            f.write(DB_PASSWORD + "\n")
        os.chmod(self.password_file, 0o600)
        self.start()
        r = _as_postgres([os.path.join(PG_BIN, "psql"), "-h", self.sock, "-p", str(self.port),
                          "-U", DB_USER, "-d", "postgres", "-c", "CREATE DATABASE sluice"])
        check(r.returncode == 0, "createdb failed: %s" % r.stderr[-2000:])

    def psql(self, sql):
        r = _as_postgres([os.path.join(PG_BIN, "psql"), "-h", self.sock, "-p", str(self.port),
                          "-U", DB_USER, "-d", "sluice", "-v", "ON_ERROR_STOP=1", "-c", sql])
        check(r.returncode == 0, "psql %r failed: %s" % (sql, r.stderr[-1000:]))
        return r.stdout

    @property
    def url(self):
        return "postgresql://%s@%s:%d/sluice" % (DB_USER, self.addr, self.port)

    def start(self):
        """The postmaster as this test's own child (user postgres), so the runner stops it
        by PID even if the test dies; waits until it takes connections."""
        self.proc = self.t.procs.start(
            [os.path.join(PG_BIN, "postgres"), "-D", self.data, "-c",
             "listen_addresses=" + self.addr, "-p", str(self.port), "-k", self.sock,
             "-c", "fsync=off", "-c", "max_connections=40"], "postgres", user="postgres",
            group="postgres")
        self.pid = self.proc.pid
        ready = os.path.join(PG_BIN, "pg_isready")
        wait_for(lambda: self.proc.poll() is not None or subprocess.run(
            [ready, "-q", "-h", self.addr, "-p", str(self.port)], timeout=5).returncode == 0, 20,
            "PostgreSQL to take connections")
        check(self.proc.poll() is None, "postgres exited: %s" % log_text(self.proc)[-2000:])

    def stop(self):
        """Fast shutdown by PID (SIGINT to the postmaster); waits until it is gone."""
        if not self.pid:
            return
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGINT)
            self.proc.wait(timeout=20)
        self.pid = None

    def cleanup(self):
        try:
            self.stop()
        except Exception:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


class Endpoint(Manager):
    """The API at an address (the load balancer, or a manager reached directly) with the
    helpers of Manager, starting nothing."""

    def __init__(self, t, addr, port):
        self.t = t
        self.addr = addr
        self.port = port
        self.pids = set()
        self.proc = None

    def manager(self):
        return self.ok("/api/v1/manager")

    def leadership(self):
        return self.manager()["leadership"]


class HaManager(Manager):
    """A manager on the shared PostgreSQL; nodes reach it through the load balancer."""

    def __init__(self, t, pg, lb_addr, name, args=()):
        self.pg = pg
        self.lb_addr = lb_addr
        self.mname = name
        super().__init__(t, args=args, name=name)

    def start(self, name=None):
        cmd = [SLUICE, "manager", "--listen", "%s:%d" % (self.addr, self.port),
               "--db", self.pg.url, "--db-password-file", self.pg.password_file,
               "--name", self.mname, "--admin-token", TOKEN, "--cluster-secret", SECRET,
               "--advertise-url", "http://%s:5071" % self.lb_addr,
               "--local-addr-base", self.base, "--node-dir", self.t.path("nodes"),
               "--lease", LEASE, "--sync-interval", SYNC, "--dead-after", DEAD_AFTER] + self.args
        self.proc = self.t.procs.start(cmd, name or self.mname)
        wait_for(lambda: self.proc.poll() is not None or port_open(self.addr, self.port), 15,
                 "manager %s to listen" % self.mname)
        check(self.proc.poll() is None, "manager exited at start:\n" + log_text(self.proc))

    def leadership(self):
        return self.ok("/api/v1/manager")["leadership"]


HAPROXY_CFG = """# written by tests/e2e/pg_util.py
global
    maxconn 4000
defaults
    mode http
    timeout connect 300ms
    timeout client 10s
    timeout server 3s
    timeout check 300ms
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response response-timeout
frontend api
    bind {lb}:5070
    # Writes go to the leader (node and group actions start and stop nodes); routing and
    # reads to any manager.
    acl write method POST PUT DELETE
    use_backend leader if write
    default_backend managers
frontend nodes
    bind {lb}:5071
    default_backend node_listeners
backend managers
    balance roundrobin
    option httpchk GET /healthz
    default-server inter 250ms fall 2 rise 1
{api_servers}
backend leader
    option httpchk GET /healthz/leader
    default-server inter 250ms fall 1 rise 1
{api_servers}
backend node_listeners
    balance roundrobin
    option httpchk GET /healthz
    default-server inter 250ms fall 2 rise 1
{node_servers}
"""


class Cluster:
    """PostgreSQL, haproxy and n managers; .lb is the API through haproxy."""

    def __init__(self, t, n=3):
        self.t = t
        self.pg = Postgres(t)
        self.lb_addr = new_addr()
        self.managers = []
        self.haproxy = None
        try:
            for i in range(n):
                self.managers.append(HaManager(t, self.pg, self.lb_addr, "m%d" % (i + 1)))
            api = "\n".join("    server %s %s:5070 check" % (m.mname, m.addr)
                            for m in self.managers)
            node = "\n".join("    server %s %s:5071 check" % (m.mname, m.addr)
                             for m in self.managers)
            cfg = t.path("haproxy.cfg")
            with open(cfg, "w") as f:
                f.write(HAPROXY_CFG.format(lb=self.lb_addr, api_servers=api, node_servers=node))
            r = subprocess.run([HAPROXY, "-c", "-f", cfg], capture_output=True, text=True,
                               timeout=10)
            check(r.returncode == 0, "haproxy config refused: %s" % (r.stdout + r.stderr))
            self.haproxy = t.procs.start([HAPROXY, "-db", "-f", cfg], "haproxy")
            wait_for(lambda: port_open(self.lb_addr, 5070) and port_open(self.lb_addr, 5071), 10,
                     "haproxy to listen")
            self.lb = Endpoint(t, self.lb_addr, 5070)
            self.wait_leader()
            # haproxy 2.6 starts every server as up: the leader backend holds only the
            # leader once each server has failed one check (inter 250ms).
            time.sleep(1.0)
        except Exception:
            self.cleanup()
            raise

    def by_name(self, name):
        return next(m for m in self.managers if m.mname == name)

    def leaders(self, among=None):
        """The managers (among those given, default all running) that say they lead."""
        out = []
        for m in among or [m for m in self.managers if m.proc.poll() is None]:
            try:
                if m.leadership()["isLeader"]:
                    out.append(m)
            except Exception:
                pass
        return out

    def wait_leader(self, among=None, timeout=10):
        return wait_for(lambda: (lambda ls: ls[0] if len(ls) == 1 else None)(
            self.leaders(among)), timeout, "exactly one leader")

    def cleanup(self):
        """Managers first (their nodes' PIDs noted), then the nodes, haproxy, PostgreSQL."""
        pids = set()
        for m in self.managers:
            pids |= m.pids
        try:
            if self.managers:
                self.lb.nodes()
                pids |= self.lb.pids
        except Exception:
            pass
        for m in self.managers:
            try:
                if m.proc.poll() is None:
                    os.kill(m.proc.pid, signal.SIGCONT)
                    m.proc.send_signal(signal.SIGTERM)
                    m.proc.wait(timeout=10)
            except Exception:
                pass
        for pid, ident in pids:
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    if ident.encode() in f.read():
                        os.kill(pid, signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass
        if self.haproxy and self.haproxy.poll() is None:
            self.haproxy.terminate()
            try:
                self.haproxy.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.haproxy.kill()
        self.pg.cleanup()


def events_of(ep, kind):
    return [e for e in ep.events() if e.get("kind") == kind]
