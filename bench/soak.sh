#!/bin/bash
# soak.sh: both daemons under a mixed load on loopback for a bounded time,
# printing their resident memory and open descriptors every few seconds.
# Flat series mean no leak of memory or descriptors. Not a test: the load
# and the figures depend on the machine.
#
# The load (python3, standard library only): logins and refreshes on the
# issuer; verified, forged and unknown-kid tokens on the verifier; idle
# connections opened and dropped; slow clients that send a partial head
# (closed at header_timeout); a SIGHUP to both every 10 s.
#
# Env: DURATION (seconds, default 60), INTERVAL (seconds between samples,
# default 5), BUILD_DIR (default build), THREADS (load threads, default 4).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-60}
INTERVAL=${INTERVAL:-5}
BUILD_DIR=${BUILD_DIR:-build}
THREADS=${THREADS:-4}

for p in auth_service resource_service jwt-keygen; do
	[ -x "$BUILD_DIR/$p" ] || {
		echo "soak: $BUILD_DIR/$p not built (cmake --build $BUILD_DIR)" >&2
		exit 1
	}
done
command -v python3 >/dev/null || {
	echo "soak: python3 missing (apt-get install python3)" >&2
	exit 1
}

work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

"$BUILD_DIR/jwt-keygen" --out "$work/keys" >/dev/null

# start NAME ARGS...: starts a daemon on a free loopback port; sets PORT
# and PID once it printed "listening on 127.0.0.1:PORT".
start() {
	local name=$1
	shift
	mkfifo "$work/$name.out"
	"$BUILD_DIR/$name" --bind 127.0.0.1 --port 0 --log-level warn "$@" \
		>"$work/$name.out" 2>"$work/$name.log" &
	PID=$!
	pids+=("$PID")
	local line
	read -r -t 20 line <"$work/$name.out" || true
	case $line in
	"listening on "*) PORT=${line##*:} ;;
	*)
		echo "soak: $name did not start: $(tail -3 "$work/$name.log")" >&2
		exit 1
		;;
	esac
}

start auth_service --private-key "$work/keys/private_key.pem" \
	--db "$work/auth.db" --argon2-memlimit-kib 8 --argon2-opslimit 1 \
	--header-timeout 2
auth_pid=$PID auth_port=$PORT
start resource_service --access-log false --header-timeout 2 \
	--jwks-url "http://127.0.0.1:$auth_port/.well-known/jwks.json"
res_pid=$PID res_port=$PORT

sample() {
	local pid=$1 rss fds
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
	fds=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
	printf '%8s %6s' "$rss" "$fds"
}

echo "soak: auth_service pid $auth_pid port $auth_port, resource_service pid $res_pid port $res_port, ${DURATION}s"
printf '%6s %8s %6s %8s %6s\n' "t(s)" "auth_kB" "fds" "res_kB" "fds"

python3 - "$auth_port" "$res_port" "$DURATION" "$THREADS" \
	"$auth_pid" "$res_pid" <<'EOF' &
import base64, http.client, json, os, signal, socket, sys, threading, time

auth, res, duration, threads = (int(a) for a in sys.argv[1:5])
pids = [int(p) for p in sys.argv[5:7]]
end = time.monotonic() + duration
counts = {}
lock = threading.Lock()


def count(name):
    with lock:
        counts[name] = counts.get(name, 0) + 1


def call(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        c.request(method, path, body=json.dumps(body) if body else None,
                  headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mixed():
    while time.monotonic() < end:
        try:
            s, body = call(auth, "POST", "/login",
                           {"username": "user1", "password": "password123"},
                           {"Content-Type": "application/json"})
            count(f"login {s}")
            if s != 200:
                continue
            pair = json.loads(body)
            bearer = {"Authorization": "Bearer " + pair["access_token"]}
            for _ in range(20):
                count("protected %d" % call(res, "GET", "/protected",
                                            None, bearer)[0])
            s, _ = call(auth, "POST", "/refresh",
                        {"refresh_token": pair["refresh_token"]},
                        {"Content-Type": "application/json"})
            count(f"refresh {s}")
            head, payload, sig = pair["access_token"].split(".")
            junk = b64(json.dumps({"alg": "RS256", "typ": "at+jwt",
                                   "kid": os.urandom(8).hex()}).encode())
            count("junk kid %d" % call(
                res, "GET", "/protected", None,
                {"Authorization": f"Bearer {junk}.{payload}.{sig}"})[0])
            count("forged %d" % call(
                res, "GET", "/protected", None,
                {"Authorization": f"Bearer {head}.{payload}.{sig[:-4]}AAAA"}
            )[0])
        except OSError as e:
            count(f"error {type(e).__name__}")


def idle_and_slow():
    while time.monotonic() < end:
        socks = []
        for port in (auth, res):
            for _ in range(50):
                try:
                    s = socket.create_connection(("127.0.0.1", port))
                    s.sendall(b"GET /health HTTP/1.1\r\nHo")  # never ends
                    socks.append(s)
                except OSError:
                    count("idle refused")
        time.sleep(3)
        for s in socks:
            s.close()


def hup():
    while time.monotonic() < end:
        time.sleep(10)
        for pid in pids:
            os.kill(pid, signal.SIGHUP)


workers = [threading.Thread(target=mixed) for _ in range(threads)]
workers += [threading.Thread(target=idle_and_slow), threading.Thread(target=hup)]
for t in workers:
    t.daemon = True
    t.start()
for t in workers:
    t.join(timeout=max(0, end - time.monotonic()) + 20)
print("load: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())),
      file=sys.stderr)
EOF
load=$!

t=0
while kill -0 "$load" 2>/dev/null; do
	printf '%6d %s %s\n' "$t" "$(sample "$auth_pid")" "$(sample "$res_pid")"
	sleep "$INTERVAL"
	t=$((t + INTERVAL))
done
wait "$load" || true
printf '%6s %s %s\n' "end" "$(sample "$auth_pid")" "$(sample "$res_pid")"
for name in auth_service resource_service; do
	if grep -q "rror" "$work/$name.log"; then
		echo "soak: $name logged errors:" >&2
		grep "rror" "$work/$name.log" | tail -5 >&2
	fi
done
