#!/bin/bash
# bench_pg.sh [BUILD_DIR]: auth_service refreshes on PostgreSQL, each
# figure printed with the command that made it:
#   1. the cost of one rotation statement alone (pgbench, per statement)
#   2. refreshes/s and p99 with ONE issuer process
#   3. refreshes/s and p99 with TWO issuer processes on one database and
#      one key directory, a load generator on each
# A throwaway server (tests/pgserver.py, fsync on unless JWT_PG_FSYNC=off)
# on this machine: the issuers, the server and wrk share its cores, so the
# figures show where the time goes on one box, not what a separate
# database host gives.
# Not a test: figures depend on the machine. Needs wrk (Debian "wrk").
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
if [ -z "${JWT_TEST_PG_URL:-}" ]; then
	ensure_packages wrk curl postgresql
	exec env JWT_PG_FSYNC="${JWT_PG_FSYNC:-on}" python3 tests/pgserver.py "$0" "$@"
fi
build=${1:-build}
secs=${BENCH_SECONDS:-10}
threads=${BENCH_DB_THREADS:-8}
db=$JWT_TEST_PG_URL
work=$(mktemp -d)
pids=()
urls=()

cleanup() {
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

run() {
	echo "\$ $*"
	"$@" 2>&1 | tee "$work/last"
}

start_issuer() { # one more issuer on $db; appends to pids and urls
	local n=${#pids[@]}
	"$build/auth_service" --config "$work/auth.json" --port 0 --db "$db" \
		--db-threads "$threads" \
		--private-key "$work/keys/private_key.pem" \
		--secrets config/secrets.json --permissions config/permissions.json \
		>"$work/out$n" 2>"$work/log$n" &
	pids+=($!)
	for _ in $(seq 600); do
		if grep -q '^listening on ' "$work/out$n"; then break; fi
		sleep 0.05
	done
	if ! grep -q '^listening on ' "$work/out$n"; then
		echo "auth_service did not start:" >&2
		cat "$work/log$n" >&2
		exit 1
	fi
	urls+=("http://$(sed -n 's/^listening on //p' "$work/out$n")")
	echo "# issuer $n: pid ${pids[$n]} at ${urls[$n]} (--db-threads $threads)"
}

tokens() { # tokens URL FILE: 32 logins' refresh tokens
	: >"$2"
	for _ in $(seq 32); do
		curl -s -X POST -H 'Content-Type: application/json' \
			-d '{"username":"user1","password":"password123"}' "$1/login" |
			sed -n 's/.*"refresh_token":"\([^"]*\)".*/\1/p' >>"$2"
	done
}

"$build/jwt-keygen" --alg RS256 --out "$work/keys" >/dev/null
echo '{"throttle_addr_free": 1000000, "log_level": "warn"}' >"$work/auth.json"
echo "# $(nproc) CPUs; PostgreSQL $(psql -X -At -c 'SHOW server_version' "$db")," \
	"fsync $(psql -X -At -c 'SHOW fsync' "$db")"

start_issuer # migrates and imports the users
echo
echo "## 1. one rotation statement (the UPDATE ... FROM users of pg_families.c)"
psql -X -q "$db" -c "INSERT INTO families (id, user_id, client_id,
	created_at, expires_at, generation, token_expires_at) SELECT
	'bench-family', id, 'bench', 0, 9000000000, 0, 9000000000 FROM users
	WHERE username = 'user1'"
cat >"$work/rotate.sql" <<'SQL'
SELECT generation AS g FROM families WHERE id = 'bench-family' \gset
UPDATE families f SET generation = f.generation + 1, token_expires_at = least(1000 + 604800, f.expires_at) FROM users u WHERE f.id = 'bench-family' AND u.id = f.user_id AND f.generation = :g AND f.revoked_at IS NULL AND f.expires_at > 1000 AND f.token_expires_at > 1000 AND f.client_id = 'bench' RETURNING f.user_id, f.expires_at, f.token_expires_at, f.generation, false, u.username, f.client_id, f.scope, u.id, u.sub, u.username, u.password_hash, u.roles;
SQL
run "$JWT_TEST_PG_BIN/pgbench" -n -r -c 1 -T 5 -f "$work/rotate.sql" "$db"

echo
echo "## 2. refreshes/s, one issuer"
tokens "${urls[0]}" "$work/tokens0"
TOKENS="$work/tokens0" WRK_THREADS=1 run wrk -t1 -c16 -d"${secs}s" \
	--latency -s bench/refresh.lua "${urls[0]}/refresh"
one=$(sed -n 's/^Requests\/sec:[[:space:]]*//p' "$work/last")
p99one=$(sed -n 's/^[[:space:]]*99%[[:space:]]*//p' "$work/last")
echo "=> one issuer: $one refreshes/s, p99 $p99one"

echo
echo "## 3. refreshes/s, two issuers on the same database"
start_issuer
tokens "${urls[0]}" "$work/tokens0"
tokens "${urls[1]}" "$work/tokens1"
loads=()
for i in 0 1; do
	echo "\$ wrk -t1 -c16 -d${secs}s --latency -s bench/refresh.lua ${urls[$i]}/refresh &"
	TOKENS="$work/tokens$i" WRK_THREADS=1 wrk -t1 -c16 -d"${secs}s" \
		--latency -s bench/refresh.lua "${urls[$i]}/refresh" \
		>"$work/wrk$i" 2>&1 &
	loads+=($!)
done
wait "${loads[@]}"
for i in 0 1; do
	echo "# issuer $i: $(grep Requests/sec "$work/wrk$i"), p99 $(sed -n 's/^[[:space:]]*99%[[:space:]]*//p' "$work/wrk$i"), non-2xx: $(grep -c 'Non-2xx' "$work/wrk$i" || true)"
done
awk '/^Requests\/sec:/ { s += $2 } END {
	printf "=> two issuers: %.1f refreshes/s in all\n", s }' "$work/wrk0" "$work/wrk1"
