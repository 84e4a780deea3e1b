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
# The forward-auth rows ask GET /auth about GET /protected (X-Original-*
# headers, as nginx auth_request sends them), next to the direct rows.
#
# Usage: bench/bench_resource.sh [BUILD_DIR]   (default: build)
# Env: DURATION (seconds per wrk run, default 5), REPEAT (runs per row,
# best kept, default 3), CONNECTIONS (64).
# One-worker runs pin the server to CPU 0 and wrk to CPU 1; all-worker runs
# pin nothing. Not a test: the figures depend on the machine and its load.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
# Installs what is missing (as root), like run.sh and test.sh.
ensure_packages wrk openssl util-linux python3-jwt python3-jwcrypto python3-cryptography

BUILD=${1:-build}
DURATION=${DURATION:-5}
REPEAT=${REPEAT:-3}
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

# run_wrk CPUS THREADS TOKENS PATH [auth]: one wrk run; sets rps p50 p99.
run_wrk() {
	local cpus=$1 threads=$2 tokens=$3 path=$4 mode=${5:-} pin=() line
	[ "$cpus" != - ] && pin=(taskset -c "$cpus")
	line=$("${pin[@]}" wrk -t"$threads" -c"$CONNECTIONS" -d"${DURATION}s" \
		-s "$LUA" "http://127.0.0.1:$port$path" -- "$tokens" "$path" \
		$mode | grep '^BENCH ')
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

# Rows: LABEL|SERVER_CPUS|WRK_CPUS|WRK_THREADS|TOKENS|CEILING|ARGS[|auth].
# The
# machine may be shared, so every row (the bare ceiling included) is run
# REPEAT times, round-robin so each row samples different moments, and the
# best run of each row is kept: the same rule for the ceilings and for the
# daemon, so a busy moment can neither flatter nor sink a ratio.
rows=(
	"bare evhttp|0|1|1|one|-|"
	"1 worker, cache warm|0|1|1|one|bare|--workers 1"
	"1 worker, 1000 tokens|0|1|1|many|combined|--workers 1 --token-cache-size 256"
	"$workers workers, cache warm|-|-|2|one|bare|--workers $workers"
	"$workers workers, 1000 tokens|-|-|2|many|combined|--workers $workers --token-cache-size 256"
	"1 worker, cache warm, no access log|0|1|1|one|bare|--workers 1 --access-log false"
	"1 worker, cache warm, no access log, no metrics|0|1|1|one|bare|--workers 1 --access-log false --metrics false"
	"1 worker, 1000 tokens, no access log, no metrics|0|1|1|many|combined|--workers 1 --token-cache-size 256 --access-log false --metrics false"
	"1 worker, cache warm, GET /auth|0|1|1|one|bare|--workers 1|auth"
	"1 worker, 1000 tokens, GET /auth|0|1|1|many|combined|--workers 1 --token-cache-size 256|auth"
)
best_rps=()
best_p50=()
best_p99=()

echo "== openssl speed rsa2048, one core (best of $REPEAT)"
verify=0
for _ in $(seq "$REPEAT"); do
	v=$(taskset -c 0 openssl speed -seconds 3 rsa2048 2>/dev/null |
		awk '/^rsa 2048 bits/ { print $NF }')
	echo "verify/s: $v"
	verify=$(awk -v a="$v" -v b="$verify" 'BEGIN { print (a > b ? a : b) }')
done

echo "== GET /protected (and GET /auth), $CONNECTIONS connections, ${DURATION}s per run, best of $REPEAT"
for rep in $(seq "$REPEAT"); do
	for i in "${!rows[@]}"; do
		IFS='|' read -r label cpus wcpus wthreads tokens cname args mode \
			<<<"${rows[$i]}"
		if [ "$cname" = - ]; then
			start_server "$cpus" "$BUILD/bare_evhttp"
		else
			# shellcheck disable=SC2046,SC2086
			start_server "$cpus" $(res $args)
		fi
		path=/protected
		[ "$mode" = auth ] && path=/auth
		# shellcheck disable=SC2086
		run_wrk "$wcpus" "$wthreads" "$tmp/$tokens.txt" "$path" $mode
		stop_server
		echo "run $rep: $label: $rps req/s (p50 ${p50} us, p99 ${p99} us)"
		if awk -v r="$rps" -v b="${best_rps[$i]:-0}" \
			'BEGIN { exit !(r > b) }'; then
			best_rps[i]=$rps
			best_p50[i]=$p50
			best_p99[i]=$p99
		fi
	done
done

bare=${best_rps[0]}
combined=$(awk -v v="$verify" -v b="$bare" \
	'BEGIN { printf "%.1f", 1 / (1 / v + 1 / b) }')
results=()
for i in "${!rows[@]}"; do
	IFS='|' read -r label _ _ _ _ cname _ <<<"${rows[$i]}"
	ceil=$bare
	[ "$cname" = combined ] && ceil=$combined
	[ "$cname" = - ] && label="ceiling: $label (1 core)" && cname=bare
	results+=("$(awk -v l="$label" -v r="${best_rps[$i]}" \
		-v a="${best_p50[$i]}" -v b="${best_p99[$i]}" -v cn="$cname" \
		-v c="$ceil" 'BEGIN {
		printf "%-38s %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  %.2f x %s",
		    l, r, a / 1000, b / 1000, r / c, cn }')")
done

echo
echo "== summary"
printf '%-38s %7.0f verify/s\n' "ceiling: openssl rsa2048 (1 core)" "$verify"
printf '%-38s %7.0f req/s\n' "ceiling: combined 1/(1/v+1/b)" "$combined"
printf '%s\n' "${results[@]}"
echo "goals (1 worker): cache warm >= 0.70 x bare; 1000 tokens >= 0.70 x combined"
echo "(access log on, written to /dev/null, unless the row says otherwise;"
echo " token cache 256 entries in the 1000-token runs, so every request"
echo " misses and is verified in full)"
