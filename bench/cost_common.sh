# SPDX-License-Identifier: Apache-2.0
# bench/cost_common.sh - sourced by the side-by-side cost scripts (tls_cost.sh, srt_cost.sh):
# builds, finds the binaries and the cached stream of bench/run.sh, makes the results folder
# build/bench-results/KIND-DATE ($OUT) and a scratch folder ($WORK), and picks the cores
# (node on SRV_CPU, load client on CLI_CPU); on exit the node started as $NODE_PID is stopped
# and $WORK removed.  Call: cost_setup KIND (from the tree's root).
cost_setup() {
	ROOT=$PWD
	BUILD=${BUILD:-build}
	ninja -C "$BUILD" >/dev/null
	SLUICE=$ROOT/$BUILD/sluice
	LOAD=$ROOT/$BUILD/bench/sluice-load
	CACHE=${SLUICE_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice-bench}
	MEDIA=$CACHE/stream-720p30-2mbit-g2s-60s.flv
	[ -s "$MEDIA" ] || { echo "$1_cost.sh: run bench/run.sh once first (it makes $MEDIA)" >&2; exit 1; }
	OUT=$ROOT/$BUILD/bench-results/$1-$(date +%Y%m%d-%H%M%S)
	WORK=$(mktemp -d "/tmp/sluice-$1-bench.XXXXXX")
	mkdir -p "$OUT"
	if [ "$(nproc)" -ge 2 ]; then SRV_CPU=0; CLI_CPU=1; else SRV_CPU=0; CLI_CPU=0; fi
	ulimit -n 65536 2>/dev/null || true
	NODE_PID=
	trap cost_cleanup EXIT
	trap 'exit 130' INT TERM
}

cost_cleanup() {
	if [ -n "$NODE_PID" ]; then kill -TERM "$NODE_PID" 2>/dev/null || true; wait "$NODE_PID" 2>/dev/null || true; fi
	rm -rf "$WORK"
}
