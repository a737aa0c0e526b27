#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""rtspin_summary.py - the table of `bench/run.sh rtspin` (bench/rtspin.sh).

    rtspin_summary.py --one FILE.json        one run's line
    rtspin_summary.py --runs 3 DIR           the table, medians over the runs

Each file is rtspin-INGEST-nN-rRUN.json: sluice-load's report for N > 0 (the node's CPU in
server.cpu_pct_of_core), bench/srvstat.py's for N = 0 (cpu_pct_of_core).  Per run and ingest,
with the two largest N (a, b): per viewer = (CPU(b) - CPU(a)) / (b - a); per stream, the
transcode included = CPU(a) - a x per viewer (the line through both back to no viewer);
the ingest alone = CPU(0).  Medians over the runs of each.
"""
import argparse
import glob
import json
import os
import re
import statistics

NAME = re.compile(r"rtspin-(\w+)-n(\d+)-r(\d+)\.json$")


def facts(path):
    with open(path) as f:
        r = json.load(f)
    srv = r.get("server", r)
    w = r.get("webrtc") or {}
    v = r.get("viewers") or {}
    out = {"cpu": srv.get("cpu_pct_of_core"), "waited": srv.get("waited_for_cpu_pct"),
           "alive": v.get("alive_at_end"), "requested": v.get("requested"),
           "gaps": w.get("video_gaps_in_window"), "jumps": w.get("jumps_in_window"),
           "client": (r.get("client") or {}).get("cpu_pct_of_core")}
    try:
        with open(path + ".loadavg") as f:
            out["loadavg"] = float(f.read().strip() or "nan")
    except (OSError, ValueError):
        out["loadavg"] = None
    return out


def fmt(x, f="%.2f"):
    return "-" if x is None else f % x


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--one")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("dir", nargs="?")
    a = ap.parse_args()
    if a.one:
        f = facts(a.one)
        print("CPU %s %% of a core, viewers %s/%s, video gaps %s, load %s" % (
            fmt(f["cpu"]), fmt(f["alive"], "%d"), fmt(f["requested"], "%d"),
            fmt(f["gaps"], "%d"), fmt(f["loadavg"], "%.1f")))
        return
    runs = {}
    for p in glob.glob(os.path.join(a.dir, "rtspin-*.json")):
        m = NAME.search(p)
        if m:
            runs[(m.group(1), int(m.group(2)), int(m.group(3)))] = facts(p)
    ns = sorted({k[1] for k in runs})
    ingests = [i for i in ("rtsp", "rtmp") if any(k[0] == i for k in runs)]
    label = {"rtsp": "RTSP (TCP) in", "rtmp": "RTMP in"}
    print("| ingest | " + " | ".join("N=%d: CPU %% of a core" % n for n in ns) +
          " | viewers ok (largest N) | video gaps | CPU % per viewer | per stream, transcode "
          "included | ingest alone (N=0) |")
    print("|---" * (len(ns) + 6) + "|")
    lv = [n for n in ns if n > 0][-2:]
    for i in ingests:
        cells = [fmt(med([runs[k]["cpu"] for k in runs if k[0] == i and k[1] == n]))
                 for n in ns]
        pv, ps = [], []
        for run in range(1, a.runs + 1):
            if len(lv) == 2 and (i, lv[0], run) in runs and (i, lv[1], run) in runs:
                c0, c1 = runs[(i, lv[0], run)]["cpu"], runs[(i, lv[1], run)]["cpu"]
                if c0 is not None and c1 is not None:
                    per = (c1 - c0) / (lv[1] - lv[0])
                    pv.append(per)
                    ps.append(c0 - lv[0] * per)
        top = [runs[k] for k in runs if k[0] == i and lv and k[1] == lv[-1]]
        print("| %s | %s | %s | %s | %s | %s | %s |" % (
            label[i], " | ".join(cells),
            ", ".join(fmt(t["alive"], "%d") for t in top),
            ", ".join(fmt(t["gaps"], "%d") for t in top),
            fmt(med(pv), "%.3f"), fmt(med(ps)),
            fmt(med([runs[k]["cpu"] for k in runs if k[0] == i and k[1] == 0]))))
    loads = [f["loadavg"] for f in runs.values() if f["loadavg"] is not None]
    if loads:
        print("\nLoad average (1 min) at the end of each run: min %.1f, median %.1f, max %.1f." %
              (min(loads), statistics.median(loads), max(loads)))


if __name__ == "__main__":
    main()
