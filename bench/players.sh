# SPDX-License-Identifier: Apache-2.0
# bench/players.sh - `bench/run.sh players`: CPU per viewer with real players (issue #22).
# Sourced by bench/run.sh after its setup (start_sluice, start_nginx, load, stop_pid, PIDS).
#
# For each run (RUNS=3), each kind of viewer and each server, in turn (the servers' order
# rotates between runs, so drift in the machine hits all alike):
#   rtmpdump  P_N (100) `rtmpdump -v -r URL -o /dev/null` processes
#   ffmpeg    P_FF (30) `ffmpeg -i URL -c copy -f null -` processes
#   load      P_N viewers of sluice-load (bench/loadclient.c)
# all on the client core, the server on core 0.  sluice-load publishes the benchmark stream
# (and, for the player kinds, plays P_PROBES more viewers that measure lag the same way on
# every server).  bench/srvstat.py measures the server's CPU and the kernel's counters on
# its sockets (segments out, bytes out, retransmits) over the window.
#
# P_PERF=1 also records `perf record -g` of the server over each window (players-*.perf.data;
# bench/perf_split.py sorts the samples into where they went).
#
# Servers (P_SERVERS): sluice (its defaults), szero (--viewer-write-merge 0
# --viewer-audio-hold 0: the strict zero-delay mode), mNN (--viewer-write-merge NNms),
# hNN (--viewer-audio-hold NNms, no merge), szwritev (szero with --io-uring false), nginx
# (nginx-rtmp), floorNN (sluice-floor sending the same bytes with NN ms of merging to P_N
# sluice-floor readers, through io_uring; floorNNs: with one send() each; run once per run,
# with the first kind).

P_N=${P_N:-100}
P_FF=${P_FF:-30} # 100 ffmpegs did not all start in time on a busy client core
P_PROBES=${P_PROBES:-5}
P_KINDS=${P_KINDS:-"rtmpdump ffmpeg load"}
P_SERVERS=${P_SERVERS:-"sluice szero nginx floor0"}
P_DURATION=${P_DURATION:-12}
P_SPAWN_GAP=0.02 # players start 50 a second: a process start costs the client core
P_FF_SPAWN_GAP=${P_FF_SPAWN_GAP:-0.1}
FLOOR=$ROOT/$BUILD/bench/sluice-floor
command -v rtmpdump >/dev/null || { echo "run.sh players: rtmpdump missing" >&2; exit 1; }

# start_player_server NAME INDEX -> SRV_PID, URL, SRV_ADDR, SRV_PORT
start_player_server() {
	local name=$1 i=$2 ms
	SRV_ADDR=127.0.0.$((90 + i))
	SRV_PORT=$((19390 + i))
	URL=rtmp://$SRV_ADDR:$SRV_PORT/live/bench
	case "$name" in
	sluice) start_sluice "p-$name" "$SRV_ADDR" "$SRV_PORT" $((18090 + i)) ;;
	szero) start_sluice "p-$name" "$SRV_ADDR" "$SRV_PORT" $((18090 + i)) \
		--viewer-write-merge 0 --viewer-audio-hold 0 ;;
	m[0-9]*) ms=${name#m}
		start_sluice "p-$name" "$SRV_ADDR" "$SRV_PORT" $((18090 + i)) \
			--viewer-write-merge "${ms}ms" --viewer-audio-hold 0 ;;
	szwritev) start_sluice "p-$name" "$SRV_ADDR" "$SRV_PORT" $((18090 + i)) \
		--viewer-write-merge 0 --viewer-audio-hold 0 --io-uring false ;;
	h[0-9]*) ms=${name#h}
		start_sluice "p-$name" "$SRV_ADDR" "$SRV_PORT" $((18090 + i)) \
			--viewer-write-merge 0 --viewer-audio-hold "${ms}ms" ;;
	nginx) start_nginx "p-$name" "$SRV_ADDR" "$SRV_PORT" ;;
	*) echo "run.sh players: unknown server $name" >&2; return 1 ;;
	esac
}

# stop_all PID...: TERM all, then wait for each (KILL after 5 s); removes them from PIDS.
stop_all() {
	local pid
	for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "$@"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	local keep=() p q drop
	for p in "${PIDS[@]}"; do
		drop=0
		for q in "$@"; do [ "$p" = "$q" ] && drop=1 && break; done
		[ $drop = 1 ] || keep+=("$p")
	done
	PIDS=("${keep[@]+"${keep[@]}"}")
}

# floor_run NAME INDEX RUN: sluice-floor sending to P_N sluice-floor readers.
floor_run() {
	local name=$1 i=$2 run=$3 ms=${1#floor} uring=1
	case "$ms" in *s) ms=${ms%s}; uring=0 ;; esac
	local out=$OUT/players-floor-$name-n$P_N-r$run
	local addr=127.0.0.$((90 + i)) port=$((19390 + i))
	local settle=$(awk "BEGIN{print $P_N * 0.002 + 3}")
	local total=$(awk "BEGIN{print $settle + $P_DURATION + 2}")
	printf '  %-8s %-8s N=%-5s run %s ... ' "$name" floor "$P_N" "$run" >&2
	# No timeout wrapper: its PID must be the sender's (it bounds itself with an alarm); and
	# nothing may probe its port first, or the probe would take a viewer's place.
	taskset -c "$SRV_CPU" "$FLOOR" send --bind "$addr" --port "$port" --viewers "$P_N" \
		--file "$MEDIA" --merge-ms "$ms" --io-uring "$uring" --duration "$total" \
		>"$out-send.json" 2>"$out.err" &
	local spid=$!
	PIDS+=("$spid")
	sleep 0.5
	timeout -k 5 $((${total%.*} + 60)) taskset -c "$CLI_CPU" "$FLOOR" recv --addr "$addr" \
		--port "$port" --viewers "$P_N" --duration "$total" >"$out-recv.json" 2>>"$out.err" &
	local rpid=$!
	PIDS+=("$rpid")
	python3 "$ROOT/bench/srvstat.py" --pid "$spid" --addr "$addr" --port "$port" \
		--delay "$settle" --duration "$P_DURATION" --core "$CLI_CPU" >"$out.json" || true
	wait "$spid" || true
	wait "$rpid" || true
	stop_all "$spid" "$rpid"
	python3 "$ROOT/bench/summarize.py" --players --one "$out.json" >&2 || echo "(no result)" >&2
}

# player_run SERVER INDEX KIND RUN
player_run() {
	local server=$1 i=$2 kind=$3 run=$4
	local n=$P_N
	[ "$kind" = ffmpeg ] && n=$P_FF
	local out=$OUT/players-$kind-$server-n$n-r$run
	start_player_server "$server" "$i" || return 1
	local viewers settle gap=$P_SPAWN_GAP
	# An ffmpeg takes about 0.1 s of the client core to start (libraries, probing the input).
	[ "$kind" = ffmpeg ] && gap=$P_FF_SPAWN_GAP
	if [ "$kind" = load ]; then
		viewers=$n
		settle=3
	else
		viewers=$P_PROBES
		settle=$(awk "BEGIN{print $n * $gap + 4}")
	fi
	printf '  %-8s %-8s N=%-5s run %s ... ' "$server" "$kind" "$n" "$run" >&2
	# The window: sluice-load's (lag) and srvstat's (CPU, segments) open together.
	local delay=$(awk "BEGIN{print 2 + $viewers / 500 + $settle}")
	# sluice-load's window runs 2 s longer: a stream ends with its publisher, and srvstat's
	# last look must find the viewers still there.
	load "$out-lag.json" "$SRV_PID" --publish "$URL" --file "$MEDIA" --rtmp "$URL" \
		--rtmp-viewers "$viewers" --warmup 2 --settle "$settle" --duration "$((P_DURATION + 2))" \
		--ramp 500 &
	local lpid=$!
	python3 "$ROOT/bench/srvstat.py" --pid "$SRV_PID" --addr "$SRV_ADDR" --port "$SRV_PORT" \
		--delay "$delay" --duration "$P_DURATION" --core "$CLI_CPU" >"$out.json" &
	local spid=$!
	local ppid=
	if [ -n "${P_PERF:-}" ]; then
		# perf record -g over the same window (the profile of where the CPU goes)
		(sleep "$delay" && exec perf record -q -g -o "$out.perf.data" -p "$SRV_PID" \
			-- sleep "$P_DURATION") >/dev/null 2>&1 &
		ppid=$!
	fi
	local players=()
	if [ "$kind" != load ]; then
		sleep 2.5 # the stream is live
		local limit=$(awk "BEGIN{print int($delay + $P_DURATION + 10)}")
		for _ in $(seq "$n"); do
			if [ "$kind" = rtmpdump ]; then
				timeout -k 2 "$limit" taskset -c "$CLI_CPU" rtmpdump -q -v -r "$URL" \
					-o /dev/null >/dev/null 2>&1 &
			else
				timeout -k 2 "$limit" taskset -c "$CLI_CPU" ffmpeg -nostdin -v error \
					-i "$URL" -c copy -f null - >/dev/null 2>&1 &
			fi
			players+=($!)
			PIDS+=($!)
			sleep "$gap"
		done
	fi
	wait "$spid" || true
	[ -z "$ppid" ] || wait "$ppid" || true
	wait "$lpid" || true
	# The server first: its players then see the end of the stream and leave by themselves.
	stop_pid "$SRV_PID"
	stop_all "${players[@]+"${players[@]}"}"
	python3 "$ROOT/bench/summarize.py" --players --one "$out.json" >&2 || echo "(no result)" >&2
}

echo "run.sh players: $RUNS run(s); $P_N rtmpdump / $P_FF ffmpeg / $P_N sluice-load viewers" \
     "(+$P_PROBES lag probes with players); servers: $P_SERVERS; kinds: $P_KINDS;" \
     "${P_DURATION}s windows; results in $OUT" >&2
for run in $(seq "$RUNS"); do
	set -- $P_SERVERS
	for _ in $(seq $(((run - 1) % $#))); do set -- "${@:2}" "$1"; done
	for kind in $P_KINDS; do
		for server in "$@"; do
			idx=$(($(echo " $P_SERVERS " | sed "s/ $server .*//" | wc -w)))
			case "$server" in
			floor*) if [ "$kind" = "${P_KINDS%% *}" ]; then floor_run "$server" "$idx" "$run"; fi ;;
			*) player_run "$server" "$idx" "$kind" "$run" ||
				echo "run.sh players: $server $kind failed" >&2 ;;
			esac
		done
	done
done
python3 "$ROOT/bench/summarize.py" --players --runs "$RUNS" "$OUT" | tee "$OUT/summary.md"
