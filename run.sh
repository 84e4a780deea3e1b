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
BUILD_TARGETS="auth_service resource_service jwt-keygen jwt-admin" \
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

build/auth_service &
pids+=($!)

# The resource service takes its keys from the issuer's JWKS, so a key
# rotation (jwt-admin keys rotate, then SIGHUP to auth_service) reaches it
# without a restart. Start it once the issuer is ready (/health/ready:
# database and keys usable), not merely accepting connections.
auth_port=${AUTH_PORT:-5000}
auth_ready() {
	local status
	exec 3<>"/dev/tcp/127.0.0.1/$auth_port" || return 1
	printf 'GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
	read -r -t 2 _ status _ <&3 || status=
	exec 3<&-
	[ "$status" = 200 ]
}
for _ in $(seq 1 300); do
	if auth_ready 2>/dev/null; then
		break
	fi
	if ! kill -0 "${pids[0]}" 2>/dev/null; then
		wait "${pids[0]}"
		exit $?
	fi
	sleep 0.1
done
# The issuer left at its default is http://127.0.0.1:<its port>: the
# verifier accepts that iss unless told otherwise.
RESOURCE_ISSUER=${RESOURCE_ISSUER:-${AUTH_ISSUER:-http://127.0.0.1:$auth_port}} \
	build/resource_service \
	--jwks-url "http://127.0.0.1:$auth_port/.well-known/jwks.json" &
pids+=($!)

# If either daemon exits on its own, stop the other and report failure.
set +e
wait -n
status=$?
stop
exit $status
