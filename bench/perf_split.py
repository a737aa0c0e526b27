#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""perf_split.py - where a server's CPU went, from `perf record -g` (bench/run.sh players
with P_PERF=1): each sample goes to the first of these its call chain matches.

    perf_split.py FILE.perf.data...      a markdown table, one column per file

  user space       the sample's own frame is not the kernel's (sluice, libuv, libc)
  rx: wake reader  the receiving side of loopback waking the player (sock_def_readable)
  rx: other        the rest of the receiving side run in the sender's context
                   (net_rx_action ... tcp_v4_rcv)
  skb free         freeing skbs the reader consumed, deferred back (skb_defer_free_flush)
  tcp send         tcp_sendmsg and below (skb allocation, copy, transmit)
  io_uring         io_uring's own submission work outside tcp_sendmsg
  syscall + rest   system-call entry and exit, epoll, VFS, timers, everything else
"""
import subprocess
import sys

ORDER = ("user space", "rx: wake reader", "rx: other", "skb free", "tcp send", "io_uring",
         "syscall + rest")
RX = ("net_rx_action", "__netif_receive_skb", "tcp_v4_rcv", "process_backlog",
      "ip_rcv", "__napi_poll")


def classify(frames, user):
    """frames: symbols leaf first; user: the leaf is not in the kernel."""
    if user:
        return "user space"
    s = set(frames)
    if s.intersection(RX):
        return "rx: wake reader" if "sock_def_readable" in s else "rx: other"
    if "skb_defer_free_flush" in s:
        return "skb free"
    if "tcp_sendmsg" in s or "tcp_sendmsg_locked" in s:
        return "tcp send"
    if any(f.startswith(("io_submit_sqes", "io_issue_sqe", "__do_sys_io_uring_enter",
                         "io_uring_")) for f in frames):
        return "io_uring"
    return "syscall + rest"


def split(path):
    out = subprocess.run(["perf", "script", "-i", path, "-F", "ip,sym,dso"],
                         capture_output=True, text=True, timeout=600).stdout
    counts = dict.fromkeys(ORDER, 0)
    frames, user = [], None
    for line in out.splitlines() + [""]:
        line = line.strip()
        if not line:
            if frames:
                counts[classify(frames, user)] += 1
            frames, user = [], None
            continue
        parts = line.split(None, 1)
        rest = parts[1] if len(parts) > 1 else ""
        sym = rest.rsplit(" (", 1)[0].split("+", 1)[0]
        dso = rest.rsplit(" (", 1)[1].rstrip(")") if " (" in rest else ""
        if user is None:
            user = "kernel" not in dso
        frames.append(sym)
    return counts


def main():
    paths = sys.argv[1:]
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    cols = [split(p) for p in paths]
    print("| share of samples | " + " | ".join(p.rsplit("/", 1)[-1] for p in paths) + " |")
    print("|---|" + "---|" * len(paths))
    for k in ORDER:
        print("| %s | %s |" % (k, " | ".join(
            "%.0f %%" % (100.0 * c[k] / (sum(c.values()) or 1)) for c in cols)))
    print("| samples | %s |" % " | ".join(str(sum(c.values())) for c in cols))
    return 0


if __name__ == "__main__":
    sys.exit(main())
