#!/bin/bash
# clock_check.sh: the whole ctest suite with the wall clock faked by
# libfaketime (Debian package faketime), on demand and not in CI. Tests
# must not depend on the date or the hour; two instants catch most of it:
#   - 00:30 UTC: "an hour ago" is on the previous date, so anything that
#     prints or parses a time of day without its date shows;
#   - 23:59:59 UTC on 31 December: the day, the month and the year all
#     turn while the suite runs (the fake clock starts there and advances).
# Each runs in a local time zone on another date than UTC (America/Adak,
# UTC-10, at 00:30 UTC; Pacific/Kiritimati, UTC+14, at the year's end), so
# a test or a program that mixes local time and UTC shows as well.
# Builds what is missing (Release build/, ASan build-asan/), then runs each
# build's ctest at each instant and prints one verdict line per run.
#
# usage: tests/clock_check.sh [--release-only] [ctest arguments...]
# The ASan build runs with ASAN_OPTIONS verify_asan_link_order=0: faketime
# works by LD_PRELOAD, which puts libfaketime before the ASan runtime, and
# ASan refuses to start in that order unless told it is deliberate.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

dirs=(build build-asan)
if [ "${1:-}" = "--release-only" ]; then
	dirs=(build)
	shift
fi

# shellcheck disable=SC2086
ensure_packages faketime tzdata $BUILD_PACKAGES $TEST_PACKAGES
command -v npm >/dev/null || ensure_packages nodejs npm
if [ ! -d tests/e2e/node_modules/playwright-core ]; then
	npm ci --prefix tests/e2e --no-audit --no-fund >&2
fi
build build -DCMAKE_BUILD_TYPE=Release
for dir in "${dirs[@]}"; do
	[ "$dir" = build-asan ] && build build-asan -DCMAKE_BUILD_TYPE=Debug
done

# UTC instant, then the zone it runs in.
instants=("$(date -u +%F) 00:30:00" "$(date -u +%Y)-12-31 23:59:59")
zones=(America/Adak Pacific/Kiritimati)

# faketime reads its start time in the local zone: the UTC instant as the
# zone's wall clock shows it.
local_time() { # local_time UTC_INSTANT ZONE
	TZ=$2 date -d "@$(date -u -d "$1 UTC" +%s)" '+%F %T'
}
asan=detect_leaks=1:abort_on_error=1:verify_asan_link_order=0
ubsan=print_stacktrace=1:halt_on_error=1

# Positive control: the fake clock reaches both a C program and Python
# (a faketime that silently did nothing would make every run pass).
for i in "${!instants[@]}"; do
	t=${instants[$i]} zone=${zones[$i]}
	want=${t%:*}
	got=$(TZ=$zone faketime "$(local_time "$t" "$zone")" date -u '+%F %H:%M')
	py=$(TZ=$zone faketime "$(local_time "$t" "$zone")" /usr/bin/python3 -c \
		'import time; print(time.strftime("%Y-%m-%d %H:%M", time.gmtime()))')
	if [ "$got" != "$want" ] || [ "$py" != "$want" ]; then
		echo "clock_check: faketime at $t UTC in $zone gave date" \
			"'$got', python '$py'" >&2
		exit 1
	fi
done

verdicts=() status=0
for dir in "${dirs[@]}"; do
	for i in "${!instants[@]}"; do
		t=${instants[$i]} zone=${zones[$i]}
		what="$dir at $t UTC (TZ=$zone)"
		echo "== ctest in $what"
		if TZ=$zone ASAN_OPTIONS=$asan UBSAN_OPTIONS=$ubsan \
			faketime "$(local_time "$t" "$zone")" \
			ctest --test-dir "$dir" --output-on-failure -j 2 "$@"; then
			verdicts+=("PASS  $what")
		else
			verdicts+=("FAIL  $what")
			status=1
		fi
	done
done
echo
echo "== clock check"
printf '%s\n' "${verdicts[@]}"
if [ $status -eq 0 ]; then
	echo "verdict: the suite does not depend on the wall clock's date or hour"
else
	echo "verdict: FAILED: some test depends on the wall clock (see above)"
fi
exit $status
