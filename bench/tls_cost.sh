#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/tls_cost.sh - CPU per RTMPS viewer against plain RTMP, same node, same run.
#
#   bench/tls_cost.sh [N] [RUNS]     N viewers (default 100), RUNS pairs (default 2)
#
# One node with a test certificate (made here with openssl) serves both ports. Each run,
# alternating which goes first, sluice-load publishes the cached ~2 Mbit/s stream of
# bench/run.sh and N viewers play it over rtmp:// or rtmps://; the node's CPU over the
# measured window, divided by the viewers, is the cost. Node pinned to core 0, the load
# client to core 1. Results: one JSON per run and summary.md under
# build/bench-results/tls-DATE/. Every process is started here and stopped by its PID.
set -euo pipefail
N=${1:-100}
RUNS=${2:-2}
DURATION=${DURATION:-10}
cd "$(dirname "$0")/.."
. bench/cost_common.sh
cost_setup tls
ADDR=127.0.0.81

(cd "$WORK" &&
 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
	-out ca.pem -days 1 -subj "/CN=bench CA" &&
 openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout node.key \
	-out node.csr -subj "/CN=$ADDR" &&
 echo "subjectAltName=IP:$ADDR" >ext &&
 openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out node.pem \
	-days 1 -extfile ext) >/dev/null 2>&1

taskset -c "$SRV_CPU" "$SLUICE" node --bind "$ADDR" --rtmp-port 19381 --http-port 18081 \
	--rtmps-port 19382 --https-port 0 --tls-cert "$WORK/node.pem" --tls-key "$WORK/node.key" \
	--log-level warn --max-connections-per-ip 0 --conn-rate-per-ip 0 --cpu-limit 100 \
	--memory-limit 100 >"$WORK/node.log" 2>&1 &
NODE_PID=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/$ADDR/19382") 2>/dev/null && break; sleep 0.1; done

run() {  # run KIND RUN
	local kind=$1 r=$2 url
	if [ "$kind" = rtmps ]; then url="rtmps://$ADDR:19382"; else url="rtmp://$ADDR:19381"; fi
	timeout $((DURATION + 60)) taskset -c "$CLI_CPU" "$LOAD" \
		--publish "rtmp://$ADDR:19381/live/$kind$r" --file "$MEDIA" \
		--rtmp "$url/live/$kind$r" --rtmp-viewers "$N" --tls-ca "$WORK/ca.pem" \
		--ramp 200 --duration "$DURATION" --server-pid "$NODE_PID" >"$OUT/$kind-r$r.json"
}
for r in $(seq "$RUNS"); do
	if [ $((r % 2)) = 1 ]; then run rtmp "$r"; run rtmps "$r"; else run rtmps "$r"; run rtmp "$r"; fi
done

python3 - "$OUT" "$N" <<'PY'
import json, os, sys, statistics
out, n = sys.argv[1], int(sys.argv[2])
rows = {}
for f in sorted(os.listdir(out)):
    if f.endswith(".json"):
        r = json.load(open(os.path.join(out, f)))
        kind = f.split("-")[0]
        rows.setdefault(kind, []).append((r["server"]["cpu_pct_of_core_per_viewer"],
                                          r["viewers"]["alive_at_end"],
                                          r["lag_ms"]["p99"] if "lag_ms" in r else None))
lines = ["# CPU per viewer, RTMPS against RTMP (%d viewers, same node, same run)" % n, "",
         "| protocol | runs | % of a core per viewer (median) | alive at end | lag p99 ms |",
         "| --- | ---: | ---: | ---: | ---: |"]
med = {}
for k in ("rtmp", "rtmps"):
    v = rows.get(k, [])
    if not v:
        continue
    med[k] = statistics.median(x[0] for x in v)
    lines.append("| %s | %d | %.4f | %s | %s |" % (k, len(v), med[k], min(x[1] for x in v),
                                                    max(x[2] or 0 for x in v)))
if "rtmp" in med and med["rtmp"] > 0 and "rtmps" in med:
    lines += ["", "RTMPS / RTMP: %.2fx" % (med["rtmps"] / med["rtmp"])]
open(os.path.join(out, "summary.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "results: $OUT"
