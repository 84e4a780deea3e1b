#!/bin/bash
# bench_resource.sh: requests/s and p50/p99 latency of resource_service's
# GET /protected under wrk on loopback (64 connections), with one worker
# and with all workers, with one token (verified-token cache warm) and with
# 1,000 distinct tokens cycling through a 256-entry cache (every request a
# miss: one full RS256 verification each). The same run measures the two
# one-core ceilings and prints each figure as a ratio to them:
#   verify  = `openssl speed rsa2048` verify/s on one core
#   bare    = bench/bare_evhttp (fixed 200, same request headers) on one core
#   combined = 1 / (1/verify + 1/bare): one RSA verify plus one HTTP
#              exchange per request, the most one core can do.
# Goals (issue 4), one worker: warm >= 0.7 bare; distinct >= 0.7 combined.
#
# Usage: bench/bench_resource.sh [BUILD_DIR]   (default: build)
# Env: DURATION (seconds per wrk run, default 10), CONNECTIONS (64).
# One-worker runs pin the server to CPU 0 and wrk to CPU 1; all-worker runs
# pin nothing. Not a test: the figures depend on the machine and its load.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${1:-build}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
LUA=bench/resource_tokens.lua
PYTHON=/usr/bin/python3

for tool in wrk taskset openssl "$PYTHON"; do
	command -v "$tool" >/dev/null || {
		echo "bench_resource: $tool is required" >&2
		exit 1
	}
done
"$PYTHON" -c 'import jwt, jwcrypto' 2>/dev/null || {
	echo "bench_resource: needs python3-jwt and python3-jwcrypto" >&2
	exit 1
}
cmake --build "$BUILD" -j2 --target resource_service bare_evhttp >/dev/null

tmp=$(mktemp -d /tmp/bench-resource.XXXXXX)
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

# Keys and tokens: RS256 (the default algorithm), signed with PyJWT so the
# benchmark needs no running issuer.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	-out "$tmp/private_key.pem" 2>/dev/null
openssl pkey -in "$tmp/private_key.pem" -pubout -out "$tmp/public_key.pem"
"$PYTHON" - "$tmp" <<'EOF'
import sys, time, uuid
import jwt
from cryptography.hazmat.primitives import serialization
from jwcrypto import jwk
d = sys.argv[1]
with open(f"{d}/public_key.pem", "rb") as f:
    kid = jwk.JWK.from_pem(f.read()).thumbprint()
with open(f"{d}/private_key.pem", "rb") as f:
    key = serialization.load_pem_private_key(f.read(), password=None)
now = int(time.time())
def token(i):
    return jwt.encode({
        "iss": "http://127.0.0.1:5000", "aud": "resource_service",
        "sub": f"user-{i}", "username": f"user{i}",
        "client_id": "demo-client", "iat": now, "nbf": now,
        "exp": now + 3600, "jti": str(uuid.uuid4()), "roles": ["user"],
        "permissions": ["read:data"], "scope": "read:data"},
        key, algorithm="RS256", headers={"kid": kid, "typ": "at+jwt"})
with open(f"{d}/one.txt", "w") as f:
    f.write(token(0) + "\n")
with open(f"{d}/many.txt", "w") as f:
    f.write("\n".join(token(i) for i in range(1000)) + "\n")
EOF

# start_server CPUS PROGRAM ARGS...: starts it (pinned unless CPUS is "-"),
# waits for its "listening on" line, sets port and server_pid.
start_server() {
	local cpus=$1
	shift
	local pin=()
	[ "$cpus" != - ] && pin=(taskset -c "$cpus")
	rm -f "$tmp/stdout"
	"${pin[@]}" "$@" --port 0 >"$tmp/stdout" 2>/dev/null &
	server_pid=$!
	for _ in $(seq 100); do
		grep -qs '^listening on ' "$tmp/stdout" && break
		sleep 0.05
	done
	port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$tmp/stdout")
	[ -n "$port" ] || {
		echo "bench_resource: $* did not start" >&2
		exit 1
	}
}

stop_server() {
	kill -TERM "$server_pid"
	wait "$server_pid" || true
	server_pid=
}

# run_wrk CPUS THREADS TOKENS: one wrk run; sets rps p50 p99.
run_wrk() {
	local cpus=$1 threads=$2 tokens=$3 pin=() line
	[ "$cpus" != - ] && pin=(taskset -c "$cpus")
	line=$("${pin[@]}" wrk -t"$threads" -c"$CONNECTIONS" -d"${DURATION}s" \
		-s "$LUA" "http://127.0.0.1:$port/protected" -- "$tokens" |
		grep '^BENCH ')
	case "$line" in
	*"socket_errors=0 non2xx=0") ;;
	*)
		echo "bench_resource: errors in run: $line" >&2
		exit 1
		;;
	esac
	rps=$(sed 's/.* rps=\([0-9.]*\).*/\1/' <<<"$line")
	p50=$(sed 's/.* p50_us=\([0-9]*\).*/\1/' <<<"$line")
	p99=$(sed 's/.* p99_us=\([0-9]*\).*/\1/' <<<"$line")
}

res() {
	echo "$BUILD/resource_service" --public-keys "$tmp/public_key.pem" \
		--routes config/routes.json --config "$tmp/none.json" "$@"
}
echo '{}' >"$tmp/none.json"
workers=$(nproc)

echo "== ceilings (one core)"
verify=$(taskset -c 0 openssl speed -seconds 3 rsa2048 2>/dev/null |
	awk '/^rsa 2048 bits/ { print $NF }')
start_server 0 "$BUILD/bare_evhttp"
run_wrk 1 1 "$tmp/one.txt"
stop_server
bare=$rps
bare_p50=$p50
bare_p99=$p99
combined=$(awk -v v="$verify" -v b="$bare" 'BEGIN { printf "%.1f", 1 / (1 / v + 1 / b) }')

results=()
# measure LABEL CPUS WRK_CPUS WRK_THREADS TOKENS CEILING_NAME CEILING ARGS...
measure() {
	local label=$1 cpus=$2 wcpus=$3 wthreads=$4 tokens=$5 cname=$6 ceil=$7
	shift 7
	# shellcheck disable=SC2046
	start_server "$cpus" $(res "$@")
	run_wrk "$wcpus" "$wthreads" "$tokens"
	stop_server
	results+=("$(awk -v l="$label" -v r="$rps" -v a="$p50" -v b="$p99" \
		-v cn="$cname" -v c="$ceil" 'BEGIN {
		printf "%-34s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  %.2f x %s\n",
		    l, r, a / 1000, b / 1000, r / c, cn }')")
	echo "${results[-1]}"
}

echo "== resource_service GET /protected, $CONNECTIONS connections, ${DURATION}s each"
measure "1 worker, cache warm" 0 1 1 "$tmp/one.txt" bare "$bare" --workers 1
measure "1 worker, 1000 tokens" 0 1 1 "$tmp/many.txt" combined "$combined" \
	--workers 1 --token-cache-size 256
measure "$workers workers, cache warm" - - 2 "$tmp/one.txt" bare "$bare" \
	--workers "$workers"
measure "$workers workers, 1000 tokens" - - 2 "$tmp/many.txt" combined \
	"$combined" --workers "$workers" --token-cache-size 256

echo
echo "== summary"
printf '%-34s %9.0f verify/s\n' "ceiling: openssl rsa2048 (1 core)" "$verify"
awk -v r="$bare" -v a="$bare_p50" -v b="$bare_p99" 'BEGIN {
	printf "%-34s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms\n",
	    "ceiling: bare evhttp (1 core)", r, a / 1000, b / 1000 }'
printf '%-34s %9.0f req/s\n' "ceiling: combined 1/(1/v+1/b)" "$combined"
printf '%s\n' "${results[@]}"
echo "goals (1 worker): cache warm >= 0.70 x bare; 1000 tokens >= 0.70 x combined"
echo "(access log on, written to /dev/null; token cache 256 entries in the"
echo " 1000-token runs, so every request misses and is verified in full)"
