#!/bin/bash
# bench_growth.sh [BUILD_DIR]: the issuer's cost as its data grows (start-up,
# purge beside live traffic, refreshes/s and p99, file sizes) for SIZES
# (default "0 100000 1000000" live + as many expired logins). Prints a
# table (bench/bench_growth.py). Not a test. Needs wrk.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
ensure_packages wrk python3
exec python3 bench/bench_growth.py "${1:-build}"
