#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run-ha.sh - the manager tier's measurements (docs/benchmarks.md, "Manager tier").
#
#   bench/run-ha.sh quick      N 1000, 2000, 5000 once; routing 1 run; 3 leader kills (~5 min)
#   bench/run-ha.sh full       N 1000 ... 10000, 3 runs each; routing 3 runs; 10 kills (~20 min)
#   bench/run-ha.sh heartbeat|routing|failover   one part, as in full
#
# heartbeat: sluice-nodesim (build/bench) registers N signed nodes with one manager and
#   heartbeats each once a second; SQLite and PostgreSQL take turns (A,B,B,A...), N grows
#   until p99 >= 100 ms, a heartbeat fails or a node is falsely declared dead.
# routing:   sluice-httpload against three managers behind haproxy and against three nginx
#   answering the same bytes behind the same haproxy layout, and one against one directly;
#   keep-alive and a connection per request; sluice and nginx take turns.
# failover:  the leader SIGKILLed under routing load through haproxy; time until another
#   manager has run its first leader pass (GET /api/v1/manager: firstPassMs); routing
#   failures around each kill; 100 simulated nodes heartbeating through haproxy meanwhile.
#
# Managers and nginx on CPU 0; clients, haproxy and PostgreSQL on CPU 1.  Needs PostgreSQL
# 15, haproxy and nginx (scripts/deps.sh), and root (PostgreSQL runs as user postgres).
# Results: build/bench-results/ha-MODE-DATE/{results.json,summary.md} and each run's JSON.
set -euo pipefail

MODE=${1:-quick}
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case "$MODE" in
quick) MODES="heartbeat routing failover"; ARGS=(--ns 1000,2000,5000 --reps 1 --duration 8
	--route-seconds 3 --kills 3) ;;
full) MODES="heartbeat routing failover"; ARGS=(--ns 1000,2000,5000,10000 --reps 3
	--duration 10 --route-seconds 5 --kills 10) ;;
heartbeat | routing | failover) MODES=$MODE; ARGS=(--ns 1000,2000,5000,10000 --reps 3
	--duration 10 --route-seconds 5 --kills 10) ;;
*) echo "usage: bench/run-ha.sh quick|full|heartbeat|routing|failover" >&2; exit 2 ;;
esac

scripts/deps.sh bench
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD" >/dev/null
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
OUT=$BUILD/bench-results/ha-$MODE-$(date +%Y%m%d-%H%M%S)
echo "run-ha.sh: $MODE ($MODES); load average $(cut -d' ' -f1-3 /proc/loadavg); results in $OUT" >&2
# shellcheck disable=SC2086
exec timeout -k 10 3600 python3 bench/ha_bench.py $MODES --build "$BUILD" --out "$OUT" "${ARGS[@]}"
