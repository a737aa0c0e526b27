#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench/run.sh - sluice against nginx-rtmp, side by side, same input, same load.
#
#   bench/run.sh quick    50 and 200 RTMP viewers, 1 run each (a few minutes)
#   bench/run.sh full     100, 500, 1000, 2000 viewers, 3 runs each (median reported)
#   bench/run.sh hop      only the origin->edge hop, as in full (about 3 minutes)
#   bench/run.sh webrtc   WebRTC (WHEP) viewers against RTMP viewers of the same sluice,
#                         50, 100, 150, 200, 300 each (WEBRTC_NS to change), 3 runs (15 minutes)
#   bench/run.sh players  real players (rtmpdump, ffmpeg) beside sluice-load, the floor;
#                         3 runs each (bench/players.sh says how; about 15 minutes)
#   bench/run.sh rtspin   an RTSP-published stream against an RTMP-published one, each to
#                         0, 10, 50 WHEP viewers (R_NS), 3 runs (bench/rtspin.sh; 8 minutes)
#
# Three servers: "sluice" on its defaults (30 ms write merge), "smerge" the same sluice with
# --viewer-write-merge $MERGE_MS (default 50ms: writes gathered per viewer, more latency,
# less CPU), and "nginx" (nginx-rtmp).  EXTRA adds more sluice settings to the rotation:
# "shold" (--viewer-write-merge 0 --viewer-audio-hold $HOLD_MS, default 40ms) and "swritev"
# (--io-uring false).  `players` compares the zero-delay mode too (bench/players.sh).
#
# For each N and run, both servers (alternating which goes first) get a publisher pushing
# the same cached ~2 Mbit/s FLV at real time and N viewers, all from one sluice-load
# process pinned to core 1; the server is pinned to core 0. sluice-load stamps each video
# frame with its send time (H.264 SEI), so lag is measured the same way on both servers.
# Also measured: a publisher-only baseline, and the latency one origin->edge hop adds
# (nginx-rtmp `pull` against sluice's edge role, when sluice has one).
#
# Results: one JSON per run and summary.md under build/bench-results/MODE-DATE/.
# Every process is started by this script, bounded by `timeout`, and stopped by its PID.
set -euo pipefail

MODE=${1:-quick}
EXTRA=${EXTRA:-}
for x in $EXTRA; do
	case "$x" in shold | swritev) ;; *) echo "run.sh: EXTRA takes shold, swritev" >&2; exit 2 ;; esac
done
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}

case "$MODE" in
quick) NS="50 200"; RUNS=1; DURATION=15; BASE_DURATION=8; HOP_N=20; HOP_DURATION=8 ;;
full) NS="100 500 1000 2000"; RUNS=3; DURATION=30; BASE_DURATION=15; HOP_N=50; HOP_DURATION=20 ;;
hop) NS=""; RUNS=3; DURATION=0; BASE_DURATION=0; HOP_N=50; HOP_DURATION=20 ;;
webrtc) NS=${WEBRTC_NS:-50 100 150 200 300}; RUNS=${RUNS:-3}; DURATION=15; BASE_DURATION=8; HOP_N=0
	HOP_DURATION=0 ;;
players) NS=""; RUNS=${RUNS:-3}; DURATION=0; BASE_DURATION=0 ;;
rtspin) NS=""; RUNS=${RUNS:-3}; DURATION=0; BASE_DURATION=0 ;;
*) echo "usage: bench/run.sh quick|full|hop|webrtc|players|rtspin" >&2; exit 2 ;;
esac

scripts/deps.sh bench
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" >/dev/null
ninja -C "$BUILD" >/dev/null
SLUICE=$ROOT/$BUILD/sluice
LOAD=$ROOT/$BUILD/bench/sluice-load
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
NGINX_MOD=/usr/lib/nginx/modules/ngx_rtmp_module.so
[ -f "$NGINX_MOD" ] || { echo "run.sh: $NGINX_MOD missing (libnginx-mod-rtmp)" >&2; exit 1; }

if [ "$(nproc)" -ge 2 ]; then SRV_CPU=0; CLI_CPU=1; else SRV_CPU=0; CLI_CPU=0; fi
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

CACHE=${SLUICE_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sluice-bench}
MEDIA=$CACHE/stream-720p30-2mbit-g2s-60s.flv
OUT=$ROOT/$BUILD/bench-results/$MODE-$(date +%Y%m%d-%H%M%S)
WORK=$(mktemp -d /tmp/sluice-bench.XXXXXX)
mkdir -p "$CACHE" "$OUT"

PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The input: made once with ffmpeg (x264 + AAC, 2 s GOP) and cached.
if [ ! -s "$MEDIA" ]; then
	echo "run.sh: making the benchmark stream once: $MEDIA" >&2
	timeout 600 nice ffmpeg -v error -y -f lavfi -i testsrc2=size=1280x720:rate=30 \
		-f lavfi -i sine=frequency=440:sample_rate=48000 -t 60 -map 0:v -map 1:a \
		-c:v libx264 -preset veryfast -b:v 1850k -maxrate 1850k -bufsize 3700k \
		-pix_fmt yuv420p -x264-params keyint=60:min-keyint=60:scenecut=0 \
		-c:a aac -b:a 128k -ac 2 -f flv "$MEDIA.tmp"
	mv "$MEDIA.tmp" "$MEDIA"
fi

stop_pid() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	local keep=()
	for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	PIDS=("${keep[@]+"${keep[@]}"}")
}

wait_port() {
	local addr=$1 port=$2
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "run.sh: nothing listening on $addr:$port" >&2
	return 1
}

# start_sluice NAME ADDR RTMP_PORT HTTP_PORT [ARGS...]  -> sets SRV_PID
# Every viewer comes from the load client's one address, so sluice's per-address limits
# (2000 held, 200 new per second, 50 WebRTC sessions; nginx-rtmp has none) are lifted here,
# or they would refuse the load itself; so is admission by the machine's CPU and memory load
# (100: off), which counts the whole machine, the load client's and other work's included.
start_sluice() {
	local name=$1 addr=$2 rport=$3 hport=$4
	shift 4
	taskset -c "$SRV_CPU" "$SLUICE" node --bind "$addr" --rtmp-port "$rport" \
		--http-port "$hport" --name "$name" --log-level warn \
		--max-connections-per-ip 0 --conn-rate-per-ip 0 --cpu-limit 100 --memory-limit 100 \
		--webrtc-max-sessions 100000 --webrtc-max-sessions-per-ip 0 "$@" \
		>"$WORK/$name.log" 2>&1 &
	SRV_PID=$!
	SRV_HTTP=$addr:$hport
	PIDS+=("$SRV_PID")
	wait_port "$addr" "$rport"
}

# start_nginx NAME ADDR PORT [PULL_URL]  -> sets SRV_PID
# One process (master_process off), so its PID is the one doing the work.
start_nginx() {
	local name=$1 addr=$2 port=$3 pull=${4:-}
	local dir=$WORK/$name
	mkdir -p "$dir"
	cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 65536;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
load_module $NGINX_MOD;
events { worker_connections 16384; }
rtmp {
    server {
        listen $addr:$port;
        chunk_size 4096;
        application live {
            live on;
            ${pull:+pull $pull;}
        }
    }
}
EOF
	taskset -c "$SRV_CPU" "$NGINX" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" \
		>"$dir/stdout.log" 2>&1 &
	SRV_PID=$!
	SRV_HTTP=
	PIDS+=("$SRV_PID")
	wait_port "$addr" "$port"
}

# load OUTFILE SERVER_PID ARGS...: one bounded sluice-load run on the client core.
load() {
	local out=$1 pid=$2
	shift 2
	if ! timeout -k 5 300 taskset -c "$CLI_CPU" "$LOAD" --server-pid "$pid" "$@" \
		>"$out" 2>"$out.err"; then
		echo "run.sh: sluice-load failed for $(basename "$out"): $(tail -c 300 "$out.err")" >&2
	fi
}

# one_run SERVER CASE N RUN: a server, a publisher, N viewers.
one_run() {
	local server=$1 case=$2 n=$3 run=$4 dur=$5
	local out=$OUT/$case-$server-n$n-r$run.json
	local url
	if [ "$server" = sluice ]; then
		start_sluice bench-sluice 127.0.0.71 19371 18071
		url=rtmp://127.0.0.71:19371/live/bench
	elif [ "$server" = smerge ]; then
		start_sluice bench-smerge 127.0.0.77 19377 18077 --viewer-write-merge "${MERGE_MS:-50ms}"
		url=rtmp://127.0.0.77:19377/live/bench
	elif [ "$server" = shold ]; then
		start_sluice bench-shold 127.0.0.78 19378 18078 --viewer-write-merge 0 \
			--viewer-audio-hold "${HOLD_MS:-40ms}"
		url=rtmp://127.0.0.78:19378/live/bench
	elif [ "$server" = swebrtc ]; then
		start_sluice bench-swebrtc 127.0.0.80 19380 18080
		url=rtmp://127.0.0.80:19380/live/bench
	elif [ "$server" = swritev ]; then
		start_sluice bench-swritev 127.0.0.79 19379 18079 --io-uring false
		url=rtmp://127.0.0.79:19379/live/bench
	else
		start_nginx bench-nginx 127.0.0.72 19372
		url=rtmp://127.0.0.72:19372/live/bench
	fi
	local viewers=() ramp=500
	[ "$n" -gt 0 ] && viewers=(--rtmp "$url" --rtmp-viewers "$n")
	if [ "$server" = swebrtc ] && [ "$n" -gt 0 ]; then
		# Each WebRTC viewer costs a WHEP POST, an ICE check and a DTLS handshake to start.
		viewers=(--whep http://127.0.0.80:18080/live/bench/whep --whep-viewers "$n")
		ramp=100
	fi
	printf '  %-7s %-5s N=%-5s run %s ... ' "$server" "$case" "$n" "$run" >&2
	# What else the machine was doing: its load average as the run ends, kept beside it.
	load "$out" "$SRV_PID" --publish "$url" --file "$MEDIA" "${viewers[@]}" \
		--warmup 3 --settle 3 --duration "$dur" --ramp "$ramp"
	cut -d' ' -f1 /proc/loadavg >"$out.loadavg" 2>/dev/null || true
	# The node's own count of WebRTC skips and send errors (the client sees skips too).
	[ -z "$SRV_HTTP" ] || curl -s -m 5 "http://$SRV_HTTP/metrics" >"$out.metrics" 2>/dev/null || true
	stop_pid "$SRV_PID"
	# Its warnings (why sessions ended, refusals) stay with the results.
	[ -z "$SRV_HTTP" ] || cp "$WORK/bench-$server.log" "$out.log" 2>/dev/null || true
	python3 "$ROOT/bench/summarize.py" --one "$out" >&2 || echo "(no result)" >&2
	# The kernel is still tearing down a large run's sockets; let that not land in the
	# next server's window.
	[ "$n" -lt 1000 ] || sleep 3
}

if [ "$MODE" = players ]; then
	. "$ROOT/bench/players.sh"
	exit 0
fi
if [ "$MODE" = rtspin ]; then
	. "$ROOT/bench/rtspin.sh"
	exit 0
fi

echo "run.sh: $MODE: N in {$NS}, $RUNS run(s) each, ${DURATION}s measured; server on CPU" \
     "$SRV_CPU, load client on CPU $CLI_CPU; results in $OUT" >&2

if [ "$MODE" = webrtc ]; then BASE_SERVERS="sluice"; ROTATION="sluice swebrtc"
else BASE_SERVERS="sluice nginx"; ROTATION="sluice nginx smerge $EXTRA"; fi
for run in $(seq "$RUNS"); do
	[ -n "$NS" ] || break   # hop mode
	# Rotate which server goes first, so drift in the machine hits all alike.
	# shellcheck disable=SC2086
	set -- $ROTATION
	for _ in $(seq $(((run - 1) % $#))); do set -- "${@:2}" "$1"; done
	order="$*"
	for server in $BASE_SERVERS; do
		one_run "$server" base 0 "$run" "$BASE_DURATION"
	done
	for n in $NS; do
		for server in $order; do
			one_run "$server" load "$n" "$run" "$DURATION"
		done
	done
done

# One origin->edge hop: viewers on the edge against viewers on the origin, both at once, so
# whatever the machine does in that window hits both alike; RUNS times.
hop() {
	local server=$1 run=$2
	local o_url e_url o_pid e_pid
	printf '  %-7s hop   N=%-5s run %s ... ' "$server" "$HOP_N" "$run" >&2
	if [ "$server" = sluice ]; then
		start_sluice hop-origin 127.0.0.73 19373 18073 --role origin --cluster-secret bench-cluster-secret ||
			return 1
		o_pid=$SRV_PID
		start_sluice hop-edge 127.0.0.74 19374 18074 --role edge \
			--origins 127.0.0.73:19373 --cluster-secret bench-cluster-secret || return 1
		e_pid=$SRV_PID
		o_url=rtmp://127.0.0.73:19373/live/hop
		e_url=rtmp://127.0.0.74:19374/live/hop
	else
		start_nginx hop-origin 127.0.0.75 19375 || return 1
		o_pid=$SRV_PID
		start_nginx hop-edge 127.0.0.76 19376 rtmp://127.0.0.75:19375/live || return 1
		e_pid=$SRV_PID
		o_url=rtmp://127.0.0.75:19375/live/hop
		e_url=rtmp://127.0.0.76:19376/live/hop
	fi
	# Two load clients on the client core: the first publishes and plays from the origin; the
	# second plays from the edge, its viewers joining half a second later (the stream is
	# live by then) and its window opening with the first's.  Lag comes from the same stamps.
	load "$OUT/hop-$server-direct-r$run.json" "$o_pid" --publish "$o_url" --file "$MEDIA" \
		--rtmp "$o_url" --rtmp-viewers "$HOP_N" --warmup 3 --settle 2 --duration "$HOP_DURATION" &
	local direct=$!
	load "$OUT/hop-$server-edge-r$run.json" "$e_pid" \
		--rtmp "$e_url" --rtmp-viewers "$HOP_N" --warmup 3.5 --settle 1.5 --duration "$HOP_DURATION"
	wait "$direct"
	stop_pid "$e_pid"
	stop_pid "$o_pid"
	echo "done" >&2
}

# (The help is read whole first: with pipefail, grep -q closing the pipe early would fail it.)
sluice_help=$("$SLUICE" node --help 2>&1 || true)
for run in $(seq "$RUNS"); do
	[ "$HOP_N" -gt 0 ] || break   # webrtc mode
	hop nginx "$run" || echo "hop: nginx failed" >&2
	if grep -q -- --role <<<"$sluice_help"; then
		hop sluice "$run" || echo "hop: sluice failed (see above)" >&2
	else
		echo "hop: skipped (sluice has no edge role yet)" | tee "$OUT/hop-sluice-skipped.txt" >&2
	fi
done

python3 "$ROOT/bench/summarize.py" --mode "$MODE" --runs "$RUNS" "$OUT" | tee "$OUT/summary.md"
