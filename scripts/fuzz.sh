#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each one for a while.
#
# Usage: scripts/fuzz.sh [--seconds N] [--cpu-seconds C] [--jobs J] [--timeout T]
#                        [--build-dir DIR] [TARGET...]
#
#   --seconds N    how long each target runs, wall clock (default 60; 0: no run,
#                  only the build and, with --merge, the merge)
#   --cpu-seconds C  run each target again, N seconds at a time, until it has had C
#                  CPU seconds in all (the long run: --cpu-seconds 3600): on a shared
#                  machine a wall-clock limit says little about how long it really ran
#   --timeout T    an input that takes longer than T seconds (wall clock) is a finding
#                  (default 10; a long run under nice on a busy machine wants more: a
#                  starved process looks hung)
#   --jobs J       how many targets run at once (default 2)
#   --build-dir D  where to build (default build-fuzz/)
#   --merge        after the runs, add to each target's seed corpus the inputs of
#                  its working corpus that reach new coverage (libFuzzer's
#                  -merge=1), so a commit keeps what a long run found
#   TARGET...      some of: snapshot config schedule tzif control alert outbox migrate
#                  (default: all)
#
# Each target starts from its seed corpus, tests/fuzz/corpus/TARGET/ (written
# only by --merge), and grows a working corpus in BUILD_DIR/corpus/TARGET/, kept
# between runs so a long run builds on the short ones.  A crash, leak, timeout
# or sanitizer report stops that target and leaves the input in
# BUILD_DIR/artifacts/TARGET/.  Prints one line per target: executions,
# coverage (edges), corpus size, and what it found.  Exit status: 0 when no
# target found anything, 1 when one did, 2 when the build failed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
seconds=60
cpu_seconds=0
jobs=2
timeout=10
build=$repo/build-fuzz
merge=0
all=(snapshot config schedule tzif control alert outbox migrate)
targets=()
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift ;;
	--cpu-seconds) cpu_seconds=$2; shift ;;
	--jobs) jobs=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--build-dir) build=$2; shift ;;
	--merge) merge=1 ;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
		exit 0
		;;
	-*) echo "fuzz.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
	*) targets+=("$1") ;;
	esac
	shift
done
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

cmake -S "$repo" -B "$build" -DCMAKE_C_COMPILER=clang -DFUZZ=ON -DSANITIZE=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF -DBUILD_BENCH=OFF >/dev/null ||
	exit 2
cmake --build "$build" -j "$jobs" --target "${targets[@]/#/fuzz_}" >/dev/null || exit 2

# Leaks count as findings; libFuzzer stops a target at its first one.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

run_one() {
	local t=$1 dir=$build/corpus/$1 art=$build/artifacts/$1/ log=$build/logs/$1.log
	local TIMEFORMAT='%U %S' rc=0 cpu=0 execs=0 slices=0 n
	mkdir -p "$dir" "$art" "$build/logs"
	# The CPU seconds it used (user + system) go to logs/TARGET.cpu, the
	# executions to logs/TARGET.execs, summed over the slices of a --cpu-seconds
	# run (each one starts from the corpus the last one grew).
	while :; do
		{ time "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout="$timeout" \
			-rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 -artifact_prefix="$art" \
			"$dir" "$repo/tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?; } 2>"$build/logs/$t.slice"
		slices=$((slices + 1))
		cpu=$(awk -v c="$cpu" '{ printf "%.3f", c + $1 + $2 }' "$build/logs/$t.slice")
		n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
		execs=$((execs + ${n:-0}))
		printf '%s\n' "$cpu" >"$build/logs/$t.cpu"
		printf '%s %s\n' "$execs" "$slices" >"$build/logs/$t.execs"
		[ "$rc" = 0 ] && awk -v c="$cpu" -v w="$cpu_seconds" 'BEGIN { exit !(c < w) }' || break
	done
	return "$rc"
}

pids=()
names=()
status=0
targets_run=()
[ "$seconds" -gt 0 ] && targets_run=("${targets[@]}")
for t in "${targets_run[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n || true
	done
	run_one "$t" &
	pids+=($!)
	names+=("$t")
done
[ ${#targets_run[@]} = 0 ] ||
	printf '%-10s %8s %12s %8s %8s %6s  %s\n' TARGET CPU_S EXECUTIONS COVERAGE CORPUS SLICES RESULT
for i in "${!pids[@]}"; do
	t=${names[$i]}
	rc=0
	wait "${pids[$i]}" || rc=$?
	log=$build/logs/$t.log
	read -r execs slices 2>/dev/null <"$build/logs/$t.execs" || true
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	corp=$(find "$build/corpus/$t" -type f | wc -l)
	cpu=$(awk '{ printf "%.0f", $1 }' "$build/logs/$t.cpu" 2>/dev/null || true)
	if [ "$rc" = 0 ]; then
		result="ok"
	else
		result="FOUND SOMETHING (exit $rc): $(ls "$build/artifacts/$t" | head -n 3 | tr '\n' ' ')see $log"
		status=1
	fi
	printf '%-10s %8s %12s %8s %8s %6s  %s\n' "$t" "${cpu:-?}" "${execs:-?}" "${cov:-?}" "$corp" \
		"${slices:-?}" "$result"
done
if [ "$merge" = 1 ] && [ "$status" = 0 ]; then
	for t in "${targets[@]}"; do
		seeds=$repo/tests/fuzz/corpus/$t
		before=$(find "$seeds" -type f | wc -l)
		"$build/tests/fuzz/fuzz_$t" -merge=1 -timeout="$timeout" -rss_limit_mb=2048 \
			-max_len=65536 "$seeds" "$build/corpus/$t" >"$build/logs/$t.merge" 2>&1 || {
			echo "fuzz.sh: merging $t's corpus failed, see $build/logs/$t.merge" >&2
			exit 2
		}
		echo "merged $t: $before seed inputs, now $(find "$seeds" -type f | wc -l)" \
			"($(du -sk "$seeds" | cut -f1) KiB)"
	done
fi
exit "$status"
