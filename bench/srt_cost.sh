#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/srt_cost.sh - SRT against RTMP on one node, same run: CPU per SRT viewer, and the lag
# of RTMP viewers when the stream comes in over SRT instead of RTMP.
#
#   bench/srt_cost.sh ["N..."] [RUNS]   viewer counts (default "50 100"), RUNS per count (3)
#
# One node with SRT on. For each N, RUNS times, alternating which goes first, sluice-load
# publishes the cached ~2 Mbit/s stream of bench/run.sh over RTMP and N viewers play it
# over rtmp:// or over SRT (MPEG-TS, demuxed by the client; lag from the same SEI stamp);
# the node's CPU over the measured window, divided by the viewers, is the cost. A
# publisher-only run each round gives the ingest's share, reported apart. Then, RUNS times
# alternating, LAT_VIEWERS RTMP viewers watch a stream published over SRT (the stamped tags
# TS-muxed by sluice-load) or over RTMP: the lag p50/p99 is SRT ingest -> RTMP viewer. Node
# pinned to core 0, the load client to core 1. Results: one JSON per run and summary.md
# under build/bench-results/srt-DATE/. Every process is started here and stopped by its PID.
set -euo pipefail
NS=${1:-50 100}
RUNS=${2:-3}
DURATION=${DURATION:-10}
LAT_VIEWERS=${LAT_VIEWERS:-10}
SRT_LATENCY=${SRT_LATENCY:-120}
cd "$(dirname "$0")/.."
. bench/cost_common.sh
cost_setup srt
ADDR=${ADDR:-127.0.0.82}
RTMP=19391
SRT=19791

taskset -c "$SRV_CPU" "$SLUICE" node --bind "$ADDR" --rtmp-port "$RTMP" --http-port 18091 \
	--srt true --srt-port "$SRT" --srt-latency "${SRT_LATENCY}ms" \
	--log-level warn --max-connections-per-ip 0 --conn-rate-per-ip 0 --cpu-limit 100 \
	--memory-limit 100 >"$WORK/node.log" 2>&1 &
NODE_PID=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/$ADDR/$RTMP") 2>/dev/null && break; sleep 0.1; done

load() {  # load OUTFILE ARGS...
	local f=$1
	shift
	timeout $((DURATION + 60)) taskset -c "$CLI_CPU" "$LOAD" --file "$MEDIA" --ramp 200 \
		--duration "$DURATION" --srt-latency "$SRT_LATENCY" --server-pid "$NODE_PID" "$@" >"$f"
}
view() {  # view KIND N RUN: N viewers over KIND of an RTMP-published stream
	local kind=$1 n=$2 r=$3 s="live/v$1$2r$3"
	local pub=(--publish "rtmp://$ADDR:$RTMP/$s")
	case $kind in
	rtmp) load "$OUT/view-rtmp-n$n-r$r.json" "${pub[@]}" --rtmp "rtmp://$ADDR:$RTMP/$s" --rtmp-viewers "$n" ;;
	srt) load "$OUT/view-srt-n$n-r$r.json" "${pub[@]}" --srt "srt://$ADDR:$SRT?streamid=#!::r=$s,m=request" --srt-viewers "$n" ;;
	none) load "$OUT/view-none-n$n-r$r.json" "${pub[@]}" ;;
	esac
}
ingest() {  # ingest KIND RUN: LAT_VIEWERS RTMP viewers of a stream published over KIND
	local kind=$1 r=$2 s="live/i$1r$2" url
	if [ "$kind" = srt ]; then url="srt://$ADDR:$SRT?streamid=#!::r=$s,m=publish"; else url="rtmp://$ADDR:$RTMP/$s"; fi
	load "$OUT/ingest-$kind-r$r.json" --publish "$url" --rtmp "rtmp://$ADDR:$RTMP/$s" \
		--rtmp-viewers "$LAT_VIEWERS"
}
for n in $NS; do
	for r in $(seq "$RUNS"); do
		if [ $((r % 2)) = 1 ]; then view rtmp "$n" "$r"; view srt "$n" "$r"; else view srt "$n" "$r"; view rtmp "$n" "$r"; fi
		view none "$n" "$r"
	done
done
for r in $(seq "$RUNS"); do
	if [ $((r % 2)) = 1 ]; then ingest rtmp "$r"; ingest srt "$r"; else ingest srt "$r"; ingest rtmp "$r"; fi
done

python3 - "$OUT" "$NS" "$LAT_VIEWERS" "$SRT_LATENCY" <<'PY'
import json, os, sys, statistics
out, ns, latv, srtlat = sys.argv[1], [int(x) for x in sys.argv[2].split()], sys.argv[3], sys.argv[4]
med = statistics.median
def load(name):
    p = os.path.join(out, name)
    return json.load(open(p)) if os.path.exists(p) else None
def runs(prefix):
    return [r for r in (load(f) for f in sorted(os.listdir(out)) if f.startswith(prefix)) if r]
lines = ["# SRT against RTMP, one node, same runs (SRT latency %s ms)" % srtlat, "",
         "## CPU per viewer (node on one core; medians over the runs)", "",
         "| N | protocol | runs | node % of a core | % per viewer | % per viewer, ingest taken out | alive at end (min) | lag p50 / p99 ms | client % of a core |",
         "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
for n in ns:
    base = [r["server"]["cpu_pct_of_core"] for r in runs("view-none-n%d-" % n)]
    b = med(base) if base else 0
    per = {}
    for k in ("rtmp", "srt"):
        v = runs("view-%s-n%d-" % (k, n))
        if not v:
            continue
        cpu = med(r["server"]["cpu_pct_of_core"] for r in v)
        alive = min(r["viewers"]["alive_at_end"] for r in v)
        net = (cpu - b) / alive if alive else 0
        per[k] = (med(r["server"]["cpu_pct_of_core_per_viewer"] for r in v), net)
        lines.append("| %d | %s | %d | %.1f | %.4f | %.4f | %d | %.0f / %.0f | %.0f |" % (
            n, k, len(v), cpu, per[k][0], net, alive,
            med(r["lag_ms"]["p50"] for r in v), med(r["lag_ms"]["p99"] for r in v),
            med(r["client"]["cpu_pct_of_core"] for r in v)))
    lines.append("| %d | (publisher only) | %d | %.1f | | | | | |" % (n, len(base), b))
    if "rtmp" in per and "srt" in per and per["rtmp"][0] > 0:
        # The net figure is a difference of /proc tick counts (10 ms): no ratio under 0.2 %.
        net_ok = per["rtmp"][1] * n >= 0.2
        lines.append("| %d | **SRT / RTMP** | | | **%.2fx** | %s | | | |" % (
            n, per["srt"][0] / per["rtmp"][0],
            "**%.2fx**" % (per["srt"][1] / per["rtmp"][1]) if net_ok else "(too small)"))
lines += ["", "## Ingest -> RTMP viewer lag (%s RTMP viewers; medians over the runs)" % latv, "",
          "| ingest | runs | lag p50 ms | lag p99 ms | max ms | viewers alive (min) |",
          "| --- | ---: | ---: | ---: | ---: | ---: |"]
for k in ("rtmp", "srt"):
    v = [r for r in runs("ingest-%s-" % k) if "lag_ms" in r]
    if v:
        lines.append("| %s | %d | %.1f | %.1f | %.1f | %d |" % (
            k, len(v), med(r["lag_ms"]["p50"] for r in v), med(r["lag_ms"]["p99"] for r in v),
            med(r["lag_ms"]["max"] for r in v), min(r["viewers"]["alive_at_end"] for r in v)))
open(os.path.join(out, "summary.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "results: $OUT"
