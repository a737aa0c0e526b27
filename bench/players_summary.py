# SPDX-License-Identifier: Apache-2.0
"""players_summary.py - the tables of `bench/run.sh players` (docs/benchmarks.md).

    summarize.py --players --one FILE.json  one line about one run (srvstat.py's report)
    summarize.py --players [--runs R] DIR   the markdown summary of a results directory

Per kind of viewer and server: medians over the runs of the server's CPU per viewer (its
CPU over the viewers the kernel counted sending to), the ratio to nginx-rtmp's, the
kernel's segments and bytes per viewer, CPU per segment, retransmits, the lag sluice-load's
viewers measured, and the p99 lag each mode adds over the zero-delay mode (szero) of the
same run.
"""
import glob
import os
import re

from summarize import fmt, load, med  # bench/summarize.py: the same helpers

NAME = re.compile(r"players-(\w+)-(\w+)-n(\d+)-r(\d+)\.json$")


def figures(path):
    s = load(path)
    if not s:
        return None
    f = {"cpu": s["cpu_pct_of_core"], "viewers": s["viewers_counted"],
         "segs": s["segs_per_viewer_per_s"], "seg_bytes": s["bytes_per_seg"],
         "us_seg": s["us_per_seg"], "mbit": s["mbit_per_viewer"],
         "retrans": s["tcp"]["retrans"], "client": s.get("client_core_busy_pct"),
         "p50": None, "p99": None}
    f["per_viewer"] = f["cpu"] / f["viewers"] if f["viewers"] else None
    lag = load(path[:-len(".json")] + "-lag.json")
    if lag and lag.get("lag_ms", {}).get("samples"):
        f["p50"], f["p99"] = lag["lag_ms"]["p50"], lag["lag_ms"]["p99"]
        f["lag_viewers"] = lag["viewers"]["alive_at_end"]
    return f


def one_line(path):
    f = figures(path)
    if not f:
        print("(no report)")
        return
    print("server %.1f%% of a core over %d viewers (%s%% each), %s segs/viewer/s of %s B, "
          "%s us/seg, retrans %d, lag p50 %s p99 %s ms, client core %s%%" % (
              f["cpu"], f["viewers"], fmt(f["per_viewer"], "%.3f"), fmt(f["segs"], "%.1f"),
              fmt(f["seg_bytes"], "%.0f"), fmt(f["us_seg"]), f["retrans"],
              fmt(f["p50"], "%.1f"), fmt(f["p99"], "%.1f"), fmt(f["client"], "%.0f")))


def ratio(a, b):
    return "-" if a is None or not b else "%.2f" % (a / b)


def summary(d, runs):
    rows = {}
    for path in glob.glob(os.path.join(d, "players-*.json")):
        m = NAME.search(os.path.basename(path))
        if not m:
            continue
        f = figures(path)
        if f:
            rows.setdefault((m.group(1), m.group(2), int(m.group(3))), {})[int(m.group(4))] = f
    out = ["## Results: bench/run.sh players (%s run(s) per figure, medians)\n" % runs]
    kinds = [k for k in ("rtmpdump", "ffmpeg", "load", "floor") if any(r[0] == k for r in rows)]
    for kind in kinds:
        keys = sorted((k for k in rows if k[0] == kind), key=lambda k: (k[2], k[1]))
        out.append("Viewers: %s\n" % {
            "rtmpdump": "`rtmpdump -v -r URL -o /dev/null` processes (+ sluice-load's lag probes)",
            "ffmpeg": "`ffmpeg -i URL -c copy -f null -` processes (+ sluice-load's lag probes)",
            "load": "sluice-load viewers",
            "floor": "sluice-floor readers (blocking 16 KB reads, one process each)"}[kind])
        out.append("| server | N | viewers counted | server CPU % | CPU % per viewer | vs nginx-rtmp "
                   "| segs per viewer per s | bytes per seg | CPU us per seg | retrans "
                   "| Mbit/s per viewer | lag p50 / p99 ms | adds p99 ms vs szero | client core % |")
        out.append("|" + "---|" * 14)
        for k in keys:
            runs_f = rows[k]
            a = {x: med([f.get(x) for f in runs_f.values()]) for x in (
                "viewers", "cpu", "per_viewer", "segs", "seg_bytes", "us_seg", "retrans",
                "mbit", "p50", "p99", "client")}
            g = rows.get((kind, "nginx", k[2]))
            gpv = med([f["per_viewer"] for f in g.values()]) if g else None
            z = rows.get((kind, "szero", k[2]))
            adds = med([f["p99"] - z[r]["p99"] for r, f in runs_f.items()
                        if z and r in z and f["p99"] is not None and z[r]["p99"] is not None])
            out.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s |"
                       % (k[1], k[2], fmt(a["viewers"], "%d"), fmt(a["cpu"], "%.1f"),
                          fmt(a["per_viewer"], "%.4f"),
                          "" if k[1] == "nginx" else ratio(a["per_viewer"], gpv),
                          fmt(a["segs"], "%.1f"), fmt(a["seg_bytes"], "%.0f"),
                          fmt(a["us_seg"]), fmt(a["retrans"], "%d"), fmt(a["mbit"]),
                          fmt(a["p50"], "%.1f"), fmt(a["p99"], "%.1f"),
                          "" if k[1] in ("szero", "nginx") or kind == "floor" else fmt(adds, "%+.1f"),
                          fmt(a["client"], "%.0f")))
        out.append("")
    out.append("Raw reports: %s" % d)
    print("\n".join(out))
