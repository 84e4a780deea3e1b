#!/bin/bash
# fuzz/run.sh SECONDS: builds the libFuzzer targets (fuzz/fuzz_*.c) with
# clang, ASan and UBSan in build-fuzz/, then runs every target for SECONDS at
# the same time, one process each. The committed seeds in
# fuzz/corpus/<target>/ are copied into a scratch corpus under build-fuzz/
# (the committed ones are never modified); crashes, leaks and timeouts go to
# build-fuzz/artifacts/. Exits non-zero if any target found anything.
#
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS for the build
# (default 2), FUZZ_TARGETS to run a subset ("fuzz_verify").
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
	echo "usage: fuzz/run.sh SECONDS" >&2
	exit 2
}
[ $# -eq 1 ] || usage
case "$1" in
'' | *[!0-9]*) usage ;;
esac
seconds=$1
build=${FUZZ_BUILD_DIR:-build-fuzz}

if ! command -v clang >/dev/null; then
	echo "fuzz/run.sh: clang is required (apt-get install clang" \
		"libclang-rt-dev)" >&2
	exit 2
fi

# Optimized but with debug info: sanitizer reports keep their line numbers.
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DJWT_FUZZ=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build.configure.log" 2>&1 ||
	{ cat "$build.configure.log" >&2; exit 1; }
rm -f "$build.configure.log"

if [ -n "${FUZZ_TARGETS:-}" ]; then
	read -r -a targets <<<"$FUZZ_TARGETS"
else
	targets=()
	for src in fuzz/fuzz_*.c; do
		targets+=("$(basename "$src" .c)")
	done
fi
cmake --build "$build" -j "${FUZZ_JOBS:-2}" --target "${targets[@]}"

# The largest input worth generating: a bit past the size each target
# refuses outright, so the boundary itself is exercised.
max_len() {
	case "$1" in
	fuzz_verify) echo 8300 ;; # JWT_MAX_TOKEN_LEN is 8192
	*) echo 4096 ;;
	esac
}

mkdir -p "$build/artifacts" "$build/logs"
pids=()
for t in "${targets[@]}"; do
	corpus="$build/corpus/$t"
	mkdir -p "$corpus"
	if [ -d "fuzz/corpus/$t" ]; then
		cp -f "fuzz/corpus/$t"/* "$corpus"/
	fi
	if [ "$t" = fuzz_verify ]; then
		# Fresh tokens signed with the fuzzer's own test keys.
		FUZZ_VERIFY_SEED_DIR="$corpus" "$build/$t" -runs=0 \
			>"$build/logs/$t.seeds.log" 2>&1
	fi
	rm -f "$build/artifacts/$t"-*
	echo "== $t: ${seconds}s, log in $build/logs/$t.log"
	"$build/$t" "$corpus" \
		-dict=fuzz/jose.dict \
		-max_total_time="$seconds" \
		-max_len="$(max_len "$t")" \
		-timeout=10 \
		-rss_limit_mb=2048 \
		-print_final_stats=1 \
		-artifact_prefix="$build/artifacts/$t-" \
		>"$build/logs/$t.log" 2>&1 &
	pids+=("$!")
done

status=0
for i in "${!targets[@]}"; do
	t=${targets[$i]}
	rc=0
	wait "${pids[$i]}" || rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		"$build/logs/$t.log" | tail -n 1)
	found=$(find "$build/artifacts" -name "$t-*" -type f | wc -l)
	echo "== $t: exit $rc, ${execs:-?} executions in ${seconds}s," \
		"$found artifact(s)"
	if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
		status=1
		tail -n 40 "$build/logs/$t.log" >&2
		find "$build/artifacts" -name "$t-*" -type f >&2
	fi
done
exit $status
