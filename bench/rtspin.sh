# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2153  # sourced by bench/run.sh, which sets RUNS
# bench/rtspin.sh - `bench/run.sh rtspin`: the node's CPU for an RTSP-published stream played
# by WebRTC (WHEP) viewers, against the same stream published over RTMP (issue #17).
# Sourced by bench/run.sh after its setup (start_sluice, load, stop_pid, PIDS, MEDIA).
#
# For each run (RUNS=3), each N in R_NS (0 10 50) and each ingest (rtsp, rtmp; which goes
# first alternates between runs): a fresh node pinned to core 0; ffmpeg on core 1 publishing
# the cached benchmark stream (the FLV of "Method", H.264 + AAC, 2 Mbit/s) at real time with
# `-c copy`, over RTSP (interleaved TCP, ANNOUNCE/RECORD) or over RTMP; once the stream is
# up, N WHEP viewers from sluice-load on core 1.  The node's CPU (utime + stime, /proc) is
# taken over R_DURATION (15) s after the viewers have joined and settled (3 s): by
# sluice-load for N > 0, by bench/srvstat.py for N = 0 (no viewers: the ingest alone, HLS
# and DASH packaging included, as always).  The AAC -> Opus transcode starts with the first
# WebRTC viewer and is paid once per stream, so it is in every N > 0 figure and not in N = 0.
# bench/rtspin_summary.py turns the runs into the table (medians over runs).

R_NS=${R_NS:-0 10 50}
R_DURATION=${R_DURATION:-15}
R_ADDR=${R_ADDR:-127.0.0.111}
R_RTMP=19411
R_HTTP=18411
R_RTSP=18454
R_RTSP_UDP=18456

# rtspin_one INGEST N RUN
rtspin_one() {
	local ingest=$1 n=$2 run=$3
	local out=$OUT/rtspin-$ingest-n$n-r$run.json url pub
	start_sluice bench-rtspin "$R_ADDR" "$R_RTMP" "$R_HTTP" --rtsp-port "$R_RTSP" \
		--rtsp-udp-port "$R_RTSP_UDP"
	if [ "$ingest" = rtsp ]; then
		url=(-rtsp_transport tcp -f rtsp "rtsp://$R_ADDR:$R_RTSP/live/bench")
	else
		url=(-f flv "rtmp://$R_ADDR:$R_RTMP/live/bench")
	fi
	# The 60 s input outlasts the run; timeout bounds it all the same.
	timeout -k 5 120 taskset -c "$CLI_CPU" ffmpeg -hide_banner -nostdin -loglevel error -re \
		-i "$MEDIA" -c copy "${url[@]}" >"$out.ffmpeg.log" 2>&1 &
	pub=$!
	PIDS+=("$pub")
	printf '  %-5s N=%-3s run %s ... ' "$ingest" "$n" "$run" >&2
	local up=0
	for _ in $(seq 100); do
		if curl -sf -m 2 -o /dev/null "http://$R_ADDR:$R_HTTP/live/bench/index.m3u8"; then
			up=1
			break
		fi
		sleep 0.1
	done
	if [ "$up" = 0 ]; then
		echo "the stream did not come up ($(tail -c 300 "$out.ffmpeg.log"))" >&2
	elif [ "$n" -gt 0 ]; then
		load "$out" "$SRV_PID" --whep "http://$R_ADDR:$R_HTTP/live/bench/whep" \
			--whep-viewers "$n" --warmup 0 --settle 3 --duration "$R_DURATION" --ramp 100
	else
		timeout 60 python3 "$ROOT/bench/srvstat.py" --pid "$SRV_PID" --addr "$R_ADDR" \
			--port "$R_RTMP" --delay 3 --duration "$R_DURATION" >"$out" || true
	fi
	cut -d' ' -f1 /proc/loadavg >"$out.loadavg" 2>/dev/null || true
	curl -s -m 5 "http://$R_ADDR:$R_HTTP/metrics" >"$out.metrics" 2>/dev/null || true
	stop_pid "$pub"
	stop_pid "$SRV_PID"
	cp "$WORK/bench-rtspin.log" "$out.log" 2>/dev/null || true
	python3 "$ROOT/bench/rtspin_summary.py" --one "$out" >&2 || echo "(no result)" >&2
}

echo "run.sh: rtspin: N in {$R_NS}, $RUNS run(s), ${R_DURATION}s measured; node on CPU" \
	"$SRV_CPU, ffmpeg and sluice-load on CPU $CLI_CPU; results in $OUT" >&2
for run in $(seq "$RUNS"); do
	order="rtsp rtmp"
	[ $((run % 2)) = 1 ] || order="rtmp rtsp"
	for n in $R_NS; do
		for ingest in $order; do
			rtspin_one "$ingest" "$n" "$run"
		done
	done
done
python3 "$ROOT/bench/rtspin_summary.py" --runs "$RUNS" "$OUT" | tee "$OUT/summary.md"
