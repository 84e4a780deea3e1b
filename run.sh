#!/bin/bash
# Runs the pair in the foreground: auth_service on 127.0.0.1:5000 and
# resource_service on 127.0.0.1:5001. On first use it installs missing
# Debian packages (as root), builds, and creates demo keys in keys/; the
# auth service creates its SQLite database (data/auth.db) and imports
# config/secrets.json. Ctrl-C or SIGTERM stops both cleanly.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/common.sh

# shellcheck disable=SC2086
ensure_packages $BUILD_PACKAGES
build build -DCMAKE_BUILD_TYPE=Release

if [ ! -f keys/private_key.pem ]; then
	echo "creating demo keys in keys/ (RS256)"
	build/jwt-keygen --alg "${JWT_ALG:-RS256}" --out keys
fi

pids=()
stop() {
	trap - INT TERM
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
}
trap 'stop; exit 0' INT TERM

build/auth_service "$@" &
pids+=($!)
build/resource_service &
pids+=($!)

# If either daemon exits on its own, stop the other and report failure.
set +e
wait -n
status=$?
stop
exit $status
