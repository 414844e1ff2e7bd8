#!/usr/bin/env bash
# The whole test suite: deps, a -Werror build + ctest, then an ASan+UBSan build + ctest.
#
# Usage: scripts/test.sh [--no-asan | --asan-only] [--pg-versions LIST] [--pg-servers LIST]
#                       [--jobs N] [-- CTEST_ARGS...]
#
#   --no-asan     only the -Werror build (build-test/)
#   --asan-only   only the AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/)
#   --pg-versions 13,14,15,16,17,18
#                 the PostgreSQL majors the -Werror build runs the drift cases
#                 and the catalog tests against (default: 15, Debian's); the
#                 others come from scripts/pg-server.sh (fetched once, cached).
#                 The ASan build stays on 15.
#   --pg-servers 13,14,18
#                 majors whose servers only the tests comparing two majors get
#                 (test_pg_versions, test_daemon_upgrade, test_check_pg18)
#   --jobs N      tests ctest runs at once (default: the cores plus one; a test
#                 waits on its servers and daemons most of the time)
#   -- ARGS       passed to both ctest runs, whole, e.g. `-- -L unit` or `-- -R drift/`
#
# Stages: scripts/deps.sh; configure + build with -DWERROR=ON into build-test/
# (the drift cases 25 to a test, one server per test) and `ctest --output-on-failure -jN`
# there; scripts/packages.sh (beside the ASan flavour when that runs: its output is
# printed when it ends); then configure + build with
# -DSANITIZE=ON -DCMAKE_BUILD_TYPE=Debug into build-asan/ and ctest there, with
# leak detection on and every sanitizer report fatal.  With both flavours and no
# CTEST_ARGS, each test runs in one of them: the default major's (15) under ASan,
# the unit tests in both, the other majors' and those a sanitized build cannot
# run (ctest label plain-build) in build-test/; --no-asan or --asan-only runs
# every test in the one build.  The second
# flavour runs even when the first fails.  With it (and no CTEST_ARGS), every
# libFuzzer target runs for 60 s (scripts/fuzz.sh, build-fuzz/).  Each stage's time
# is printed, and a summary at the end, with each PostgreSQL major's passed tests
# (ctest label pgNN).  Exit status: 0 when everything passed, 1 when a
# build or a test failed, 2 when the dependencies could not be installed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

run_main=1
run_asan=1
pg_versions=15
pg_servers=
test_jobs=
ctest_extra=()
while [ $# -gt 0 ]; do
	case $1 in
	--no-asan) run_asan=0 ;;
	--asan-only) run_main=0 ;;
	--pg-versions)
		[ $# -ge 2 ] || { echo "test.sh: --pg-versions needs a list (13,14,...)" >&2; exit 2; }
		pg_versions=$2
		shift
		;;
	--pg-versions=*) pg_versions=${1#*=} ;;
	--pg-servers)
		[ $# -ge 2 ] || { echo "test.sh: --pg-servers needs a list (13,14,...)" >&2; exit 2; }
		pg_servers=$2
		shift
		;;
	--jobs)
		[ $# -ge 2 ] || { echo "test.sh: --jobs needs a number" >&2; exit 2; }
		test_jobs=$2
		shift
		;;
	--jobs=*) test_jobs=${1#*=} ;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
		exit 0
		;;
	--)
		shift
		ctest_extra=("$@")
		break
		;;
	*)
		echo "test.sh: unknown argument '$1' (try --help)" >&2
		exit 2
		;;
	esac
	shift
done
if ! [[ $pg_versions =~ ^(1[3-8])(,1[3-8])*$ ]]; then
	echo "test.sh: --pg-versions takes majors from 13 to 18, comma-separated (got '$pg_versions')" >&2
	exit 2
fi
if [ "$run_main" = 0 ] && [ "$run_asan" = 0 ]; then
	echo "test.sh: --no-asan and --asan-only together leave nothing to run" >&2
	exit 2
fi

jobs=$(nproc 2>/dev/null || echo 2)
if [ -z "$test_jobs" ]; then
	test_jobs=$((jobs + 1))
elif ! [[ $test_jobs =~ ^[1-9][0-9]?$ ]]; then
	echo "test.sh: --jobs takes a number from 1 to 99 (got '$test_jobs')" >&2
	exit 2
fi
summary=()
majors=()
failed=0
total_passed=0
total_failed=0
total_skipped=0
suite_start=$EPOCHREALTIME

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# stage NAME COMMAND...: runs one timed stage; records and returns its status.
stage() {
	local name=$1 t0=$EPOCHREALTIME rc=0 secs
	shift
	printf '\n== [test.sh] %s\n' "$name"
	"$@" || rc=$?
	secs=$(elapsed "$t0")
	if [ "$rc" = 0 ]; then
		printf '== [test.sh] %s: ok in %s s\n' "$name" "$secs"
		summary+=("$(printf '  %-24s %8s s  ok' "$name" "$secs")")
	else
		printf '== [test.sh] %s: FAILED (exit %d) after %s s\n' "$name" "$rc" "$secs"
		summary+=("$(printf '  %-24s %8s s  FAILED (exit %d)' "$name" "$secs" "$rc")")
	fi
	return "$rc"
}

# run_ctest BUILD_DIR: ctest there, its output kept in BUILD_DIR/ctest.log (and
# every test's own output in BUILD_DIR/ctest-output.log);
# adds its counts to the totals.  (Called through stage.)
# shellcheck disable=SC2317
run_ctest() {
	local dir=$1 rc=0 line n_failed n_total n_skipped
	(cd "$dir" && ctest --output-on-failure --no-tests=error -j"$test_jobs" \
		"${flavour_filter[@]}" "${ctest_extra[@]}") 2>&1 |
		tee "$dir/ctest.log" || rc=$?
	# Every test's output (count_majors reads the drift cases' lines there); the
	# `ctest -N` below would write over Testing/Temporary/LastTest.log.
	cp "$dir/Testing/Temporary/LastTest.log" "$dir/ctest-output.log" 2>/dev/null || true
	# "100% tests passed, 0 tests failed out of 57"
	line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$dir/ctest.log" | tail -n 1 || true)
	if [ -n "$line" ]; then
		n_failed=$(sed -E 's/.*passed, ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
		n_total=$(sed -E 's/.*failed out of ([0-9]+).*/\1/' <<<"$line")
		# ctest counts a skipped test among the passed ones; here it is not.
		# "The following tests did not run:" / "	 27 - integration/x (Skipped)"
		n_skipped=$(grep -cE '^[[:space:]]+[0-9]+ - .* \((Skipped|Disabled)\)$' "$dir/ctest.log" || true)
		total_failed=$((total_failed + n_failed))
		total_skipped=$((total_skipped + n_skipped))
		total_passed=$((total_passed + n_total - n_failed - n_skipped))
	fi
	count_majors "$dir" "$(basename "$dir")"
	return "$rc"
}

# count_majors BUILD_DIR NAME: a summary line per PostgreSQL major (label
# pgNN): the tests that ran against it and those that passed, from ctest's
# own record of the run (skipped ones are not passed).
# shellcheck disable=SC2317
count_majors() {
	local dir=$1 name=$2 major label n_run n_ok
	for major in $(tr ',' '\n' <<<"$pg_versions" | sort -un); do
		label=pg$major
		n_run=$(cd "$dir" && ctest -N -L "^$label\$" "${flavour_filter[@]}" "${ctest_extra[@]}" 2>/dev/null |
			sed -nE 's/^Total Tests: ([0-9]+)/\1/p')
		[ -n "$n_run" ] && [ "$n_run" != 0 ] || continue
		# "  3/194 Test  #24: pg18/drift/column_add .........   Passed    1.01 sec"
		n_ok=$(grep -cxFf <(sed -nE 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([^ ]+) .* Passed .*/\1/p' \
			"$dir/ctest.log") <(cd "$dir" && ctest -N -L "^$label\$" "${flavour_filter[@]}" "${ctest_extra[@]}" \
			2>/dev/null | sed -nE 's/^ *Test +#[0-9]+: (.*)$/\1/p') || true)
		# The drift cases, several to a test: each says "ok   drift/CASE on PostgreSQL N".
		n_cases=$(grep -cE "^ok   drift/[^ ]+ on PostgreSQL $major\$" \
			"$dir/ctest-output.log" 2>/dev/null || true)
		majors+=("$(printf '  %-24s PostgreSQL %s: %d of %d passed (%d drift cases ok)' \
			"$name" "$major" "$n_ok" "$n_run" "${n_cases:-0}")")
	done
}

# flavour NAME BUILD_DIR CMAKE_ARGS...: configure, build and test one build.
flavour() {
	local name=$1 dir=$repo/$2
	shift 2
	stage "$name: configure" cmake -S "$repo" -B "$dir" "$@" || { failed=1; return; }
	stage "$name: build" cmake --build "$dir" -j "$jobs" || { failed=1; return; }
	stage "$name: ctest" run_ctest "$dir" || failed=1
}

stage "deps" bash "$here/deps.sh" || exit 2

# With both flavours and no CTEST_ARGS, a test on Debian's 15 runs once, under ASan
# (the sanitizers watch every line it runs); the -Werror build runs the unit
# tests, the other majors' tests and those a sanitized build cannot run (label
# plain-build: valgrind's memcheck, the tests comparing two majors).  Several
# ctest -L options must all match (ctest >= 3.21).
flavour_filter=()
split_flavours=0
if [ "$run_main" = 1 ] && [ "$run_asan" = 1 ] && [ ${#ctest_extra[@]} -eq 0 ]; then
	split_flavours=1
fi

# Drift cases per ctest test, each test one server for its cases (tests/CMakeLists.txt):
# a case is half server start and stop when it has one of its own.
drift_batch=25

# The majors besides Debian's 15, for CMake (SCHEMADRIFT_PG_VERSIONS).
other_majors=$(tr ',' '\n' <<<"$pg_versions" | grep -vx 15 | sort -u | paste -sd ';' || true)
if [ "$run_main" = 1 ]; then
	if [ -n "$other_majors" ]; then
		stage "postgresql servers" bash -c 'for m in ${1//;/ }; do "$0" "$m" >/dev/null || exit; done' \
			"$here/pg-server.sh" "$other_majors" || exit 2
	fi
	server_majors=$(tr ',' '\n' <<<"$pg_servers" | grep -vx 15 | sort -u | paste -sd ';' || true)
	if [ "$split_flavours" = 1 ]; then
		flavour_filter=(-L "^(unit|plain-build${other_majors:+|pg${other_majors//;/|pg}})\$")
	fi
	flavour "build-test" build-test -DWERROR=ON -DSANITIZE=OFF \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DSCHEMADRIFT_PG_VERSIONS=$other_majors" \
		"-DSCHEMADRIFT_PG_SERVERS=$server_majors" "-DSCHEMADRIFT_DRIFT_BATCH=$drift_batch"
	# The .deb and the RPM built, linted, the .deb installed and purged (needs root).
	# Beside the ASan flavour when that runs: dpkg, lintian and rpmlint leave a
	# core idle most of the time, and nothing there touches the build trees.
	if [ "$run_asan" = 1 ]; then
		packages_log=$repo/build-test/packages.log
		printf '\n== [test.sh] packages: started beside build-asan (its output: %s)\n' \
			"$packages_log"
		stage "packages" bash "$here/packages.sh" >"$packages_log" 2>&1 &
		packages_pid=$!
	else
		stage "packages" bash "$here/packages.sh" || failed=1
	fi
fi

if [ "$run_asan" = 1 ]; then
	# Leaks, ASan and UBSan reports all fail the test that triggers them
	# (the build has -fno-sanitize-recover=all as well).
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	# The benchmark is never a test: no need to build it a second time.
	# 15 alone: the matrix exercises the catalog SQL, which the sanitizers do not see.
	pg_versions=15
	flavour_filter=()
	[ "$split_flavours" = 0 ] || flavour_filter=(-LE '^plain-build$')
	flavour "build-asan" build-asan -DSANITIZE=ON -DWERROR=OFF \
		-DCMAKE_BUILD_TYPE=Debug -DBUILD_BENCH=OFF "-DSCHEMADRIFT_PG_VERSIONS=" \
		"-DSCHEMADRIFT_DRIFT_BATCH=$drift_batch"
fi

if [ -n "${packages_pid:-}" ]; then
	# The stage ran in a subshell: its summary line is taken from its output.
	wait "$packages_pid" || failed=1
	cat "$packages_log"
	line=$(grep -E '^== \[test.sh\] packages: (ok in|FAILED)' "$packages_log" | tail -n 1 || true)
	secs=$(sed -nE 's/.* ([0-9.]+) s$/\1/p' <<<"$line")
	case $line in
	*": ok in "*) result=ok ;;
	*) result=FAILED ;;
	esac
	summary+=("$(printf '  %-24s %8s s  %s (beside build-asan)' packages "${secs:-?}" "$result")")
fi

if [ "$run_asan" = 1 ] && [ ${#ctest_extra[@]} -eq 0 ]; then
	# Every libFuzzer target for 60 s on a clang ASan + UBSan build, two at a
	# time (docs/fuzzing.md); a finding fails the suite.  Not with a ctest filter.
	stage "fuzz (60 s per target)" bash "$here/fuzz.sh" --seconds 60 --jobs 2 || failed=1
fi

printf '\n== [test.sh] summary (%s s in all)\n' "$(elapsed "$suite_start")"
printf '%s\n' "${summary[@]}"
if [ "$failed" = 0 ]; then
	echo "== [test.sh] all passed"
else
	echo "== [test.sh] FAILED (ctest logs: build-*/ctest.log)"
fi
[ ${#majors[@]} -eq 0 ] || printf '%s\n' "${majors[@]}"
echo "total: $total_passed passed, $total_failed failed, $total_skipped skipped (listed under \"did not run\" in build-*/ctest.log)"
exit "$failed"
