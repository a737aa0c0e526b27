#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""srvstat.py - what a server spent and sent over a window, from its own side.

    srvstat.py --pid PID --addr ADDR --port PORT --delay S --duration S > out.json

After --delay seconds, takes a snapshot of the server process's CPU (utime + stime
from /proc/PID/stat) and of the kernel's counters on each of the server's established
TCP sockets on ADDR:PORT (`ss -tin`: data_segs_out, segs_out, bytes_sent, bytes_retrans,
retrans), then again --duration seconds later, and writes the differences as JSON.
Only sockets present in both snapshots count; a socket is a viewer if more than 64 KB
left it in the window (the publisher's socket only carries acknowledgements back).
Used by bench/run.sh players, where the viewers are real players that report nothing.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

FIELDS = ("data_segs_out", "segs_out", "bytes_sent", "bytes_retrans")
VIEWER_MIN_BYTES = 64 * 1024


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    # Fields 14 and 15 (utime, stime) are at 11 and 12 after the ")".
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def core(n):
    """(busy, total) jiffies of CPU n from /proc/stat, or None."""
    if n is None:
        return None
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu%d " % n):
                v = [int(x) for x in line.split()[1:]]
                return (sum(v) - v[3] - v[4], sum(v))  # idle and iowait are not busy
    return None


def sockets(addr, port):
    """{(local, peer): {field: value}} for the server's established sockets on addr:port."""
    out = subprocess.run(["ss", "-tinH", "state", "established", "( sport = :%d )" % port],
                         capture_output=True, text=True, timeout=30).stdout
    socks, key = {}, None
    for line in out.splitlines():
        if not line.startswith((" ", "\t")):
            parts = line.split()
            # Recv-Q Send-Q Local Peer (state is left out when filtered on one state)
            key = (parts[2], parts[3]) if len(parts) >= 4 and parts[2].startswith(addr + ":") \
                else None
            continue
        if key is None:
            continue
        c = {f: int(m.group(1)) for f in FIELDS
             for m in [re.search(r"\b%s:(\d+)" % f, line)] if m}
        m = re.search(r"\bretrans:\d+/(\d+)", line)
        c["retrans"] = int(m.group(1)) if m else 0
        socks[key] = c
    return socks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--addr", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--delay", type=float, default=0)
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--core", type=int, help="also report how busy this CPU was (the clients')")
    a = ap.parse_args()
    time.sleep(a.delay)
    t0, c0, s0, k0 = time.monotonic(), cpu_s(a.pid), sockets(a.addr, a.port), core(a.core)
    time.sleep(a.duration)
    t1, c1, s1, k1 = time.monotonic(), cpu_s(a.pid), sockets(a.addr, a.port), core(a.core)
    win = t1 - t0
    tot = {f: 0 for f in FIELDS + ("retrans",)}
    viewers = 0
    for k, v in s1.items():
        if k not in s0:
            continue
        d = {f: v.get(f, 0) - s0[k].get(f, 0) for f in tot}
        if d["bytes_sent"] > VIEWER_MIN_BYTES:
            viewers += 1
            for f in tot:
                tot[f] += d[f]
    cpu_pct = 100.0 * (c1 - c0) / win
    segs = tot["data_segs_out"]
    json.dump({
        "window_s": round(win, 3),
        "cpu_pct_of_core": round(cpu_pct, 3),
        "viewers_counted": viewers,
        "client_core_busy_pct": round(100.0 * (k1[0] - k0[0]) / ((k1[1] - k0[1]) or 1), 1)
        if k0 else None,
        "sockets": len(s1),
        "tcp": tot,
        "segs_per_viewer_per_s": round(segs / viewers / win, 2) if viewers else None,
        "bytes_per_seg": round(tot["bytes_sent"] / segs) if segs else None,
        "mbit_per_viewer": round(tot["bytes_sent"] * 8 / 1e6 / viewers / win, 3)
        if viewers else None,
        "us_per_seg": round(cpu_pct * 1e4 / (segs / win), 2) if segs else None,
    }, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
