#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""udp_loss.py - a lossy UDP path between WebRTC viewers and a node, in user space.

    udp_loss.py [--up] LISTEN_ADDR:PORT NODE_ADDR:PORT LOSS_PERCENT SECONDS [SEED]

It stands where a NAT would: the node advertises LISTEN_ADDR as its public address
(webrtc-public-ip), viewers send to it, and each viewer's datagrams go on to the node
from a socket of their own, so the node sees one peer per viewer. Datagrams from the
node back to a viewer are dropped at random, LOSS_PERCENT of them, if they are RTP or
RTCP (first byte 128..191, RFC 7983): media loss is what the test is about, and STUN
and DTLS recover by their own retransmissions anyway, only slower. The random
sequence is seeded, so a run is repeatable. With --up the loss is on the other way, from
the peers up to the node (a WHIP publisher's media, which the node must NACK). After SECONDS, or on SIGTERM, it prints
{"forwarded_up", "forwarded_down", "dropped"} and exits.

tc netem would be the usual tool; the kernels some of our CI runs on lack sch_netem
(and iptables), so the path is made here instead. At most MAX_PEERS viewers.
"""
import json
import random
import selectors
import signal
import socket
import sys
import time

MAX_PEERS = 16
MAX_DATAGRAM = 2048


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def main():
    args = sys.argv[1:]
    up_loss = bool(args) and args[0] == "--up"
    if up_loss:
        args = args[1:]
    if len(args) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    listen, node = addr(args[0]), addr(args[1])
    loss = float(args[2]) / 100.0
    deadline = time.monotonic() + float(args[3])
    rng = random.Random(int(args[4]) if len(args) == 5 else 1)
    stats = {"forwarded_up": 0, "forwarded_down": 0, "dropped": 0, "peers": 0}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))

    sel = selectors.DefaultSelector()
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind(listen)
    sel.register(front, selectors.EVENT_READ, None)
    upstream = {}  # viewer address -> its socket towards the node
    print(json.dumps({"listening": "%s:%d" % listen}), flush=True)

    while not stop and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.2):
            sock, viewer = key.fileobj, key.data
            try:
                data, src = sock.recvfrom(MAX_DATAGRAM)
            except OSError:
                continue
            if viewer is None:  # from a viewer, up to the node
                up = upstream.get(src)
                if up is None:
                    if len(upstream) >= MAX_PEERS:
                        continue
                    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    up.bind((listen[0], 0))
                    sel.register(up, selectors.EVENT_READ, src)
                    upstream[src] = up
                    stats["peers"] += 1
                if up_loss and data and 128 <= data[0] <= 191 and rng.random() < loss:
                    stats["dropped"] += 1
                    continue
                up.sendto(data, node)
                stats["forwarded_up"] += 1
            else:  # from the node, down to its viewer
                if not up_loss and data and 128 <= data[0] <= 191 and rng.random() < loss:
                    stats["dropped"] += 1
                    continue
                front.sendto(data, viewer)
                stats["forwarded_down"] += 1
    print(json.dumps(stats), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
