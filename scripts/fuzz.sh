#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# fuzz.sh - replays or runs every libFuzzer target.
#
#   scripts/fuzz.sh replay BUILD_DIR          every file of fuzz/corpora/<target>/ once
#   scripts/fuzz.sh run BUILD_DIR SECONDS     a campaign of SECONDS per target
#
# A campaign grows its working corpus under BUILD_DIR/corpus/<target> (not
# committed) and writes crashes and timeouts into fuzz/corpora/<target>/ as
# crash-*, timeout-*, oom-*: commit them with the fix, so CI replays them forever.
#
# Targets run FUZZ_JOBS at a time (default: the number of CPUs), each on one core, so a
# campaign of N targets takes about N * SECONDS / FUZZ_JOBS.
set -eu
mode=${1:?replay or run}
dir=${2:?build directory}
secs=${3:-60}
root=$(cd "$(dirname "$0")/.." && pwd)

# One target: 0 when it passed, 1 when not (what went wrong on stderr).
one() {
	bin=$1
	target=$(basename "$bin" | sed 's/^fuzz_//')
	corpus="$root/fuzz/corpora/$target"
	if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
		echo "fuzz: $target has no corpus in fuzz/corpora/$target" >&2
		return 1
	fi
	case "$mode" in
	replay)
		n=$(ls "$corpus" | wc -l)
		if "$bin" -runs=0 -timeout=10 -rss_limit_mb=2048 "$corpus" >"$dir/replay-$target.log" 2>&1; then
			echo "fuzz replay: $target ok ($n inputs)"
		else
			echo "fuzz replay: $target FAILED; see $dir/replay-$target.log" >&2
			tail -n 30 "$dir/replay-$target.log" >&2
			return 1
		fi
		;;
	run)
		work="$dir/corpus/$target"
		mkdir -p "$work"
		dict=""
		[ -f "$root/fuzz/$target.dict" ] && dict="-dict=$root/fuzz/$target.dict"
		if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			$dict -artifact_prefix="$corpus/" "$work" "$corpus" >"$dir/run-$target.log" 2>&1; then
			execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$dir/run-$target.log" | grep -o '[0-9]*$' || echo '?')
			echo "fuzz run: $target ok, $execs executions in ${secs}s"
		else
			echo "fuzz run: $target found a failure; input saved in fuzz/corpora/$target/" >&2
			tail -n 40 "$dir/run-$target.log" >&2
			return 1
		fi
		;;
	*) echo "fuzz.sh: mode must be replay or run" >&2; exit 2 ;;
	esac
	return 0
}

if [ "$mode" = "--one" ]; then
	# Internal: scripts/fuzz.sh --one MODE DIR SECS BIN, one job of the pool below.
	mode=$2 dir=$3 secs=$4
	one "$5"
	exit $?
fi
case "$mode" in replay | run) ;; *) echo "fuzz.sh: mode must be replay or run" >&2; exit 2 ;; esac
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
ls "$dir"/fuzz_* 2>/dev/null | while read -r bin; do
	[ -f "$bin" ] && [ -x "$bin" ] && printf '%s\n' "$bin"
done | xargs -r -P "$jobs" -I{} "$0" --one "$mode" "$dir" "$secs" {}
