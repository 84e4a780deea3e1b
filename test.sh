#!/bin/bash
# Runs every test: installs missing Debian packages (as root), builds the
# normal build (build/) and the ASan+UBSan build (build-asan/), and runs the
# whole ctest suite in both. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/common.sh

# shellcheck disable=SC2086
ensure_packages $BUILD_PACKAGES $TEST_PACKAGES

# Node.js, if the machine has none, and playwright-core and axe-core for
# the demo page's browser test (pinned by the lockfile).
command -v npm >/dev/null || ensure_packages nodejs npm
if [ ! -d tests/e2e/node_modules/playwright-core ] \
	|| [ ! -d tests/e2e/node_modules/axe-core ]; then
	npm ci --prefix tests/e2e --no-audit --no-fund >&2
fi

build build -DCMAKE_BUILD_TYPE=Release
build build-asan -DCMAKE_BUILD_TYPE=Debug

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
for dir in build build-asan; do
	echo "== ctest in $dir"
	ctest --test-dir "$dir" --output-on-failure -j 2 || status=1
done
exit $status
