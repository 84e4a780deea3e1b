#!/bin/bash
# request_cost.sh: the figures of bench_resource.sh's "1 worker, 1000
# tokens" row as instruction counts, which the machine's load does not move.
# Under valgrind --tool=callgrind, counting only while wrk runs (after a
# warm-up), it measures:
#   resource  = instructions per GET /protected of resource_service (one
#               worker, 1000 distinct RS256 tokens, 256-entry cache: every
#               request a full verification), all threads;
#   bare      = instructions per request of bench/bare_evhttp;
#   rsa       = instructions per EVP_PKEY_verify (RS256, 2048 bits) and
#   verify    = instructions per verify_access_token, both from
#               bench/verify_cost;
# and prints (rsa + bare) / resource, the share of the one-core ceiling
# 1/(1/verify + 1/bare) in instructions. It is an estimate of the wall-clock
# ratio: it assumes the RSA code and the HTTP code retire instructions at
# the same rate, which they need not.
#
# Usage: bench/request_cost.sh [BUILD_DIR [RESOURCE_ARGS...]]
#   (default: build; RESOURCE_ARGS are added to resource_service's, e.g.
#   --access-log false, as bench_resource.sh's rows do)
# Env: SECONDS_PER_RUN (wrk seconds under valgrind, default 20); TOKENS
# ("many", the default: 1000 tokens, every request a full verification;
# "one": one token, every request from the verified-token cache).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
ensure_packages valgrind wrk openssl python3-jwt python3-jwcrypto \
	python3-cryptography

BUILD=${1:-build}
shift || true
TOKENS=${TOKENS:-many}
case "$TOKENS" in
one | many) ;;
*)
	echo "request_cost: TOKENS is one or many" >&2
	exit 2
	;;
esac
RUN=${SECONDS_PER_RUN:-20}
LUA=bench/resource_tokens.lua
cmake --build "$BUILD" -j2 --target resource_service bare_evhttp \
	verify_cost >/dev/null

tmp=$(mktemp -d /tmp/request-cost.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	-out "$tmp/private_key.pem" 2>/dev/null
openssl pkey -in "$tmp/private_key.pem" -pubout -out "$tmp/public_key.pem"
# The same tokens as bench_resource.sh.
sed -n '/^"\$PYTHON" - "\$tmp" <<.EOF.$/,/^EOF$/p' bench/bench_resource.sh |
	sed '1d;$d' >"$tmp/gen.py"
/usr/bin/python3 "$tmp/gen.py" "$tmp"
echo '{}' >"$tmp/none.json"

# sum_ir FILE: the instructions callgrind counted.
sum_ir() {
	awk '/^totals:/ { s += $2 } END { printf "%.0f", s }' "$1"
}

# per_request LABEL PROGRAM ARGS...: instructions per request under wrk.
per_request() {
	local label=$1 line n
	shift
	valgrind --tool=callgrind --instr-atstart=no \
		--callgrind-out-file="$tmp/$label.cg" "$@" --port 0 \
		>"$tmp/$label.out" 2>"$tmp/$label.vg" &
	pid=$!
	for _ in $(seq 600); do
		grep -qs '^listening on ' "$tmp/$label.out" && break
		sleep 0.1
	done
	port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$tmp/$label.out")
	[ -n "$port" ] || {
		echo "request_cost: $label did not start" >&2
		exit 1
	}
	# Warm-up uncounted: first verifications, caches, connections.
	wrk -t1 -c4 -d3s -s "$LUA" "http://127.0.0.1:$port/protected" \
		-- "$tmp/$TOKENS.txt" /protected >/dev/null
	callgrind_control -i on "$pid" >/dev/null 2>&1
	line=$(wrk -t1 -c4 -d"${RUN}s" -s "$LUA" \
		"http://127.0.0.1:$port/protected" -- "$tmp/$TOKENS.txt" \
		/protected | grep '^BENCH ')
	callgrind_control -i off "$pid" >/dev/null 2>&1
	kill -TERM "$pid"
	wait "$pid" || true
	pid=
	case "$line" in
	*"socket_errors=0 non2xx=0") ;;
	*)
		echo "request_cost: errors in run: $line" >&2
		exit 1
		;;
	esac
	n=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$line")
	awk -v a="$(sum_ir "$tmp/$label.cg")" -v b="$n" \
		'BEGIN { printf "%.0f", a / b }'
}

# per_call FUNCTION: instructions per call of FUNCTION in verify_cost.
per_call() {
	valgrind --tool=callgrind --toggle-collect="$1" \
		--callgrind-out-file="$tmp/$1.cg" "$BUILD/verify_cost" 200 \
		>/dev/null 2>&1
	awk -v a="$(sum_ir "$tmp/$1.cg")" 'BEGIN { printf "%.0f", a / 200 }'
}

rsa=$(per_call EVP_PKEY_verify)
verify=$(per_call verify_access_token)
bare=$(per_request bare "$BUILD/bare_evhttp")
resource=$(per_request resource "$BUILD/resource_service" \
	--public-keys "$tmp/public_key.pem" --routes config/routes.json \
	--config "$tmp/none.json" --workers 1 --token-cache-size 256 "$@")
printf '%-44s %8s Ir\n' "EVP_PKEY_verify (RS256, 2048 bits)" "$rsa" \
	"verify_access_token" "$verify" \
	"bare evhttp, per request" "$bare" \
	"resource_service, 1 worker, $TOKENS token(s)" "$resource"
awk -v r="$rsa" -v b="$bare" -v s="$resource" 'BEGIN {
	printf "%-44s %8.2f x combined (in instructions)\n",
	    "(rsa + bare) / resource", (r + b) / s }'
