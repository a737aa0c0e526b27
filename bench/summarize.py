#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""summarize.py - turns bench/run.sh's sluice-load reports into the tables of
docs/benchmarks.md: medians over runs per (server, N), and sluice/nginx ratios.

    summarize.py --one FILE.json            one line about one run
    summarize.py [--mode M --runs R] DIR    the markdown summary of a results directory
    summarize.py --players ...              the same for bench/run.sh players
"""
import argparse
import glob
import json
import os
import re
import statistics
import sys


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


# The servers bench/run.sh runs (file-name key: what it is).
SERVERS = {
    "sluice": "default",
    "swritev": "default without io_uring",
    "shold": "audio hold",
    "smerge": "write merge",
    "nginx": "nginx-rtmp",
    "swebrtc": "WebRTC viewers (WHEP)",
}


def node_metric(path, name):
    """A counter from the /metrics the node answered at the end of the run (run.sh saves it)."""
    try:
        with open(path + ".metrics") as f:
            for line in f:
                if line.startswith(name + " "):
                    return float(line.split()[1])
    except OSError:
        pass
    return None


def figures(r):
    """The figures we compare, from one sluice-load report."""
    srv = r.get("server", {})
    segs = r.get("tcp_segments", {})
    alive = r["viewers"]["alive_at_end"]
    return {
        "alive": alive,
        "requested": r["viewers"]["requested"],
        "cpu_pct": srv.get("cpu_pct_of_core", 0.0),
        "waited_pct": srv.get("waited_for_cpu_pct"),
        "cpu_s_per_vmin": srv.get("cpu_s_per_viewer_minute", 0.0),
        "rss_mb": srv.get("peak_rss_kb", 0) / 1024.0,
        "lag_p50": r["lag_ms"]["p50"],
        "lag_p99": r["lag_ms"]["p99"],
        "lag_samples": r["lag_ms"]["samples"],
        "alag_p50": r.get("audio_lag_ms", {}).get("p50"),
        "alag_p99": r.get("audio_lag_ms", {}).get("p99"),
        "ttff_p50": r["ttff_ms"].get("p50"),
        "stalls": r["stalls"]["total"],
        "client_cpu": r["client"]["cpu_pct_of_core"],
        "mbit": r["bytes"]["mbit_per_s_per_viewer_in_window"],
        "segs": segs.get("per_viewer_per_s") or None,
        "seg_bytes": segs.get("bytes_per_segment") or None,
        # Server CPU per segment it sent, in us: % of a core = 1e4 us per s, over the
        # segments per second of the viewers whose segments were counted.
        "us_per_seg": (srv.get("cpu_pct_of_core", 0.0) * 1e4 /
                       (segs["per_viewer_per_s"] * segs["viewers"])
                       if segs.get("per_viewer_per_s") and segs.get("viewers") else None),
        "errors": r["viewers"]["errors"],
        # WebRTC viewers only: sequence gaps (what a player would NACK), pictures lost whole
        # as the viewers saw them (RTP time jumps), time from the POST to SRTP keys.
        "gaps": r.get("webrtc", {}).get("gaps_in_window"),
        "skips": r.get("webrtc", {}).get("jumps_in_window",
                                         r.get("webrtc", {}).get("skips_in_window")),
        "setup_p50": r.get("webrtc", {}).get("setup_ms", {}).get("p50"),
    }


def one_line(path):
    r = load(path)
    if r is None:
        print("(no report)")
        return
    f = figures(r)
    ttff = "%.1f" % f["ttff_p50"] if f["ttff_p50"] is not None else "-"
    print("viewers %d/%d, server %.1f%% of a core (waited %s%%), peak RSS %.0f MB, lag p50 %.1f ms p99 %.1f ms, "
          "ttff p50 %s ms, stalls %d, client %.0f%%%s" % (
              f["alive"], f["requested"], f["cpu_pct"], fmt(f["waited_pct"], "%.0f"), f["rss_mb"], f["lag_p50"], f["lag_p99"],
              ttff, f["stalls"], f["client_cpu"],
              (", errors %s" % f["errors"]) if f["errors"] else "") +
          ("" if f["gaps"] is None else ", WebRTC: %d packets missing, %d RTP time jumps, "
           "setup p50 %.0f ms"
           % (f["gaps"], f["skips"], f["setup_p50"] or 0)))


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    r = a / b
    return "%.2f" % r if r >= 0.1 else "%.4f" % r


def fmt(v, spec="%.2f"):
    return "-" if v is None else spec % v


def segment_table(out, ns, agg):
    """CPU per viewer split into segments per viewer and CPU per segment."""
    out.append("")
    out.append("TCP segments (counted by the viewers' kernel): CPU per viewer = segments per viewer "
               "x CPU per segment; ratios sluice / nginx-rtmp:\n")
    out.append("| N | server | segments per viewer per s | bytes per segment "
               "| server CPU us per segment | segments ratio | CPU per segment ratio |")
    out.append("|---|---|---|---|---|---|---|")
    for n in ns:
        for s in SERVERS:
            a, g = agg.get((s, n)), agg.get(("nginx", n))
            if not a or a["segs"] is None:
                continue
            same = s == "nginx" or not g or g["segs"] is None
            out.append("| %d | %s | %.1f | %.0f | %s | %s | %s |" % (
                n, s, a["segs"], a["seg_bytes"] or 0, fmt(a["us_per_seg"], "%.2f"),
                "" if same else ratio(a["segs"], g["segs"]),
                "" if same else ratio(a["us_per_seg"], g["us_per_seg"])))


def load_tables(out, rows):
    """The tables of the load runs: figures per (server, N), ratios, segments, N held."""
    base = {s: med([f["cpu_pct"] for f in rows.get(("base", s, 0), [])])
            for s in ("sluice", "nginx")}
    out.append("Publisher only, no viewers: sluice %s%%, nginx-rtmp %s%% of a core.\n" % (
        fmt(base["sluice"]), fmt(base["nginx"])))
    out.append("| N | server | viewers ok | CPU % of core | CPU % per viewer | marginal % per viewer "
               "| CPU s per viewer-min | peak RSS MB | lag p50 ms | lag p99 ms "
               "| audio lag p50 / p99 ms | ttff p50 ms | stalls | Mbit/s per viewer "
               "| client CPU % |")
    out.append("|" + "---|" * 15)
    ns = sorted({k[2] for k in rows if k[0] == "load"})
    agg = {}
    for n in ns:
        for s in SERVERS:
            fs = rows.get(("load", s, n), [])
            if not fs:
                continue
            a = {k: med([f[k] for f in fs]) for k in (
                "alive", "cpu_pct", "cpu_s_per_vmin", "rss_mb", "lag_p50", "lag_p99", "alag_p50",
                "alag_p99", "ttff_p50", "stalls", "mbit", "client_cpu", "segs", "seg_bytes", "us_per_seg",
                "gaps", "skips", "setup_p50", "node_skips", "waited_pct")}
            a["per_viewer"] = a["cpu_pct"] / n if n else None
            b0 = base["nginx" if s == "nginx" else "sluice"]
            a["marginal"] = (a["cpu_pct"] - b0) / n if n and b0 is not None else None
            agg[(s, n)] = a
            out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s "
                       "| %s |" % (
                n, s, fmt(a["alive"], "%d"), fmt(a["cpu_pct"], "%.1f"),
                fmt(a["per_viewer"], "%.3f"), fmt(a["marginal"], "%.3f"),
                fmt(a["cpu_s_per_vmin"], "%.4f"), fmt(a["rss_mb"], "%.1f"),
                fmt(a["lag_p50"], "%.1f"), fmt(a["lag_p99"], "%.1f"), fmt(a["alag_p50"], "%.1f"),
                fmt(a["alag_p99"], "%.1f"), fmt(a["ttff_p50"], "%.1f"),
                fmt(a["stalls"], "%d"), fmt(a["mbit"], "%.2f"), fmt(a["client_cpu"], "%.0f")))
    out.append("")
    out.append("Ratios sluice / nginx-rtmp (same runs; below 1 means sluice uses less or is faster):\n")
    out.append("| N | sluice mode | CPU per viewer | marginal CPU per viewer | peak RSS | lag p50 "
               "| lag p99 | audio lag p50 | audio lag p99 | ttff p50 |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for n, mode in ((n, m) for n in ns for m in SERVERS if m != "nginx"):
        s, g = agg.get((mode, n)), agg.get(("nginx", n))
        if not s or not g:
            continue
        out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            n, SERVERS[mode], ratio(s["per_viewer"], g["per_viewer"]),
            ratio(s["marginal"], g["marginal"]), ratio(s["rss_mb"], g["rss_mb"]),
            ratio(s["lag_p50"], g["lag_p50"]), ratio(s["lag_p99"], g["lag_p99"]),
            ratio(s["alag_p50"], g["alag_p50"]), ratio(s["alag_p99"], g["alag_p99"]),
            ratio(s["ttff_p50"], g["ttff_p50"])))
    if any(a["segs"] is not None for a in agg.values()):
        segment_table(out, ns, agg)
    out.append("")
    if any(s == "swebrtc" for s, _ in agg):
        webrtc_table(out, ns, agg)
    out.append("Largest N held (every viewer connected to the end, lag p99 under 500 ms; WebRTC: "
               "and no packet missing, no picture lost, no skip; medians):\n")
    out.append("| server | largest N held of those run | its lag p99 ms | its server CPU % | "
               "its client CPU % |")
    out.append("|---|---|---|---|---|")
    for s in (s for s in SERVERS if any((s, n) in agg for n in ns)):
        held = [n for n in ns if (s, n) in agg and agg[(s, n)]["alive"] == n and
                agg[(s, n)]["lag_p99"] is not None and agg[(s, n)]["lag_p99"] < 500 and
                not agg[(s, n)]["gaps"] and not agg[(s, n)]["skips"] and
                not agg[(s, n)]["node_skips"]]
        if not held:
            out.append("| %s | none | | | |" % s)
            continue
        a = agg[(s, max(held))]
        out.append("| %s | %d | %.1f | %.1f | %.0f |" % (s, max(held), a["lag_p99"],
                                                       a["cpu_pct"], a["client_cpu"]))
    out.append("")


def webrtc_table(out, ns, agg):
    """WebRTC viewers against RTMP viewers of the same sluice, per N."""
    out.append("WebRTC viewers against RTMP viewers of the same sluice (medians over runs):\n")
    out.append("| N | WebRTC CPU % per viewer | RTMP CPU % per viewer | ratio WebRTC / RTMP "
               "| WebRTC lag p50 / p99 ms | packets missing | RTP time jumps / node skips "
               "| setup p50 ms (POST to SRTP keys) | client CPU % "
               "| WebRTC / RTMP node waited for its CPU, % of the window |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for n in ns:
        w, r = agg.get(("swebrtc", n)), agg.get(("sluice", n))
        if not w:
            continue
        out.append("| %d | %s | %s | %s | %s / %s | %s | %s / %s | %s | %s | %s / %s |" % (
            n, fmt(w["per_viewer"], "%.3f"), fmt(r and r["per_viewer"], "%.3f"),
            ratio(w["per_viewer"], r and r["per_viewer"]), fmt(w["lag_p50"], "%.1f"),
            fmt(w["lag_p99"], "%.1f"), fmt(w["gaps"], "%d"), fmt(w["skips"], "%d"),
            fmt(w["node_skips"], "%d"), fmt(w["setup_p50"], "%.0f"),
            fmt(w["client_cpu"], "%.0f"), fmt(w["waited_pct"], "%.0f"),
            fmt(r and r["waited_pct"], "%.0f")))
    out.append("")


def summary(d, mode, runs):
    rows = {}
    for path in glob.glob(os.path.join(d, "*.json")):
        m = re.match(r"(load|base)-(%s)-n(\d+)-r(\d+)\.json$" % "|".join(SERVERS),
                     os.path.basename(path))
        r = load(path)
        if not m or r is None:
            continue
        f = figures(r)
        f["node_skips"] = node_metric(path, "sluice_webrtc_skips_total")
        rows.setdefault((m.group(1), m.group(2), int(m.group(3))), []).append(f)
    out = []
    out.append("## Results: bench/run.sh %s (%s run(s) per figure, medians)\n" % (mode, runs))
    if rows:
        load_tables(out, rows)
    loads = []
    for path in glob.glob(os.path.join(d, "*.json.loadavg")):
        try:
            with open(path) as f:
                loads.append(float(f.read().split()[0]))
        except (OSError, ValueError, IndexError):
            pass
    if loads:
        out.append("The machine's 1-minute load average as each run ended (%d cores): "
                   "min %.1f, median %.1f, max %.1f.\n" % (os.cpu_count() or 0, min(loads),
                                                           statistics.median(loads), max(loads)))
    if not glob.glob(os.path.join(d, "hop-*")):
        out.append("Raw reports: %s" % d)
        print("\n".join(out))
        return
    out.append("One origin->edge hop (as many viewers on the edge as on the origin, at the same "
               "time; medians over runs of each figure and of each run's difference):\n")
    out.append("| server | runs | viewers | direct lag p50 / p99 ms | via edge lag p50 / p99 ms "
               "| hop adds p50 / p99 ms | edge ttff p50 ms |")
    out.append("|---|---|---|---|---|---|---|")
    for s in ("nginx", "sluice"):
        if os.path.exists(os.path.join(d, "hop-%s-skipped.txt" % s)):
            out.append("| %s | - | - | hop: skipped (sluice has no edge role yet) | | | |" % s)
            continue
        pairs = []
        for dp in sorted(glob.glob(os.path.join(d, "hop-%s-direct*.json" % s))):
            name = os.path.basename(dp)
            dr, er = load(dp), load(os.path.join(d, name.replace("-direct", "-edge", 1)))
            if dr and er:
                pairs.append((figures(dr), figures(er)))
        if not pairs:
            out.append("| %s | 0 | - | (no result) | | | |" % s)
            continue
        m = {k: med([p[i][f] for p in pairs]) for k, i, f in (
            ("d50", 0, "lag_p50"), ("d99", 0, "lag_p99"), ("e50", 1, "lag_p50"),
            ("e99", 1, "lag_p99"), ("ttff", 1, "ttff_p50"), ("alive", 1, "alive"),
            ("req", 1, "requested"))}
        add50 = med([b["lag_p50"] - a["lag_p50"] for a, b in pairs])
        add99 = med([b["lag_p99"] - a["lag_p99"] for a, b in pairs])
        out.append("| %s | %d | %d / %d | %.1f / %.1f | %.1f / %.1f | %.1f / %.1f | %s |" % (
            s, len(pairs), m["alive"], m["req"], m["d50"], m["d99"], m["e50"], m["e99"],
            add50, add99, fmt(m["ttff"], "%.1f")))
    out.append("")
    out.append("Raw reports: %s" % d)
    print("\n".join(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--one")
    ap.add_argument("--mode", default="?")
    ap.add_argument("--runs", default="?")
    ap.add_argument("--players", action="store_true",
                    help="the reports of bench/run.sh players (bench/players_summary.py)")
    ap.add_argument("dir", nargs="?")
    a = ap.parse_args()
    if a.players:
        import players_summary  # it uses this file's helpers
        one, whole = players_summary.one_line, lambda: players_summary.summary(a.dir, a.runs)
    else:
        one, whole = one_line, lambda: summary(a.dir, a.mode, a.runs)
    if a.one:
        one(a.one)
    elif a.dir:
        whole()
    else:
        ap.error("--one FILE or DIR")
    return 0


if __name__ == "__main__":
    sys.exit(main())
