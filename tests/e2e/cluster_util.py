# SPDX-License-Identifier: Apache-2.0
"""cluster_util.py - starting cluster nodes and reading their cluster state in tests."""
import socket
import threading

from harness import Node, wait_for

SECRET = "e2e-cluster-secret-0123"


def origin(procs, name, secret=SECRET, args=()):
    return Node(procs, name=name, args=["--role", "origin", "--cluster-secret", secret] +
                list(args))


def downstream(procs, name, role, upstreams, secret=SECRET, args=()):
    ups = ",".join("%s:%d" % (u.addr, u.rtmp_port) if hasattr(u, "addr") else u
                   for u in upstreams)
    return Node(procs, name=name, args=["--role", role, "--origins", ups,
                                         "--cluster-secret", secret] + list(args))


def pulls(node):
    return node.api("/api/v1/node")["cluster"]["pulls"]


def pull_of(node, app, stream):
    for p in pulls(node):
        if p["app"] == app and p["stream"] == stream:
            return p
    return None


def playing_from(node, app, stream, upstream):
    p = pull_of(node, app, stream)
    return p is not None and p["state"] == "playing" and p["upstream"] == upstream


def member_names(node):
    return sorted(m["name"] for m in node.api("/api/v1/node")["cluster"]["members"])


def wait_members(nodes, names, timeout=15):
    want = sorted(names)
    for n in nodes:
        wait_for(lambda: member_names(n) == want, timeout,
                 "%s to know every member %s" % (n.name, want))


class Recorder:
    """A TCP proxy that records every byte both ways (what a packet capture would see)."""

    def __init__(self, listen_addr, target_addr, target_port, listen_port=1935):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((listen_addr, listen_port))
        self.sock.listen(16)
        self.sock.settimeout(0.5)
        self.addr, self.rtmp_port = listen_addr, listen_port
        self.target = (target_addr, target_port)
        self.up = []      # bytes from the connecting node, one bytearray per connection
        self.down = []
        self.stopping = False
        self.threads = [threading.Thread(target=self._accept, daemon=True)]
        self.threads[0].start()

    def _pipe(self, src, dst, sink):
        try:
            while not self.stopping:
                data = src.recv(65536)
                if not data:
                    break
                sink.extend(data)
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                c = self.wrap_accepted(c)
                u = self.wrap_upstream(socket.create_connection(self.target, timeout=5))
                u.settimeout(None)
            except OSError:
                c.close()
                continue
            up, down = bytearray(), bytearray()
            self.up.append(up)
            self.down.append(down)
            for args in ((c, u, up), (u, c, down)):
                t = threading.Thread(target=self._pipe, args=args, daemon=True)
                t.start()
                self.threads.append(t)

    def wrap_accepted(self, c):
        """The accepted socket as the proxy speaks on it (a subclass may end TLS here)."""
        return c

    def wrap_upstream(self, u):
        """The upstream socket as the proxy speaks on it (a subclass may start TLS here)."""
        return u

    def everything(self):
        return b"".join(bytes(x) for x in self.up + self.down)

    def close(self):
        self.stopping = True
        self.sock.close()


def new_addr_for_proxy():
    from harness import new_addr
    return new_addr()
