#!/usr/bin/python3
"""login_timing.py [BUILD_DIR]: does a login for an unknown username take
as long as one with a wrong password? Not a test (figures depend on the
machine and its load; run it by hand, never in CI). tests/test_service.c
checks the property that makes the times equal (the dummy hash has the
configured cost); this measures the times themselves.

Starts auth_service (--port 0, default argon2id cost, one hashing thread,
throttle out of the way), then alternates N logins of each kind, one at a
time, and compares the medians. Verdict: PASS when the medians differ by
less than BOUND (default 25%) of the wrong-password median, a bound far
wider than the noise (a 19 MiB argon2id verify takes tens of ms) and far
narrower than the gap a cheap dummy hash leaves (a cost of t=1, m=8 MiB
answers several times faster). BENCH_LOGINS=N, BENCH_BOUND=0.25."""
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
if len(sys.argv) > 1:
    os.environ["JWT_BUILD_DIR"] = os.path.abspath(sys.argv[1])
import harness  # noqa: E402

N = int(os.environ.get("BENCH_LOGINS", "40"))
BOUND = float(os.environ.get("BENCH_BOUND", "0.25"))


def timed_login(d, username, password):
    body = json.dumps({"username": username, "password": password})
    t0 = time.perf_counter()
    r = d.request("POST", "/login", body=body,
                  headers=[("Content-Type", "application/json")])
    elapsed = time.perf_counter() - t0
    if r.status != 401:
        raise SystemExit(f"login {username!r}: want 401, got {r.status}")
    return elapsed


def main():
    work = tempfile.mkdtemp(prefix="login-timing-")
    try:
        harness.make_keys(os.path.join(work, "keys"))
        config = os.path.join(work, "auth.json")
        with open(config, "w", encoding="utf-8") as f:
            json.dump({"throttle_user_free": 1000000,
                       "throttle_addr_free": 1000000,
                       "log_level": "warn"}, f)
        args = ["--config", config, "--db", os.path.join(work, "auth.db"),
                "--private-key", os.path.join(work, "keys",
                                              "private_key.pem"),
                "--secrets", harness.source("config", "secrets.json"),
                "--permissions", harness.source("config",
                                                "permissions.json"),
                "--hash-threads", "1"]
        with harness.Daemon("auth_service", args) as d:
            # Warm-up: the first hashes pay for page faults.
            for _ in range(3):
                timed_login(d, "user1", "wrong password")
                timed_login(d, "nobody-here", "wrong password")
            wrong, unknown = [], []
            for i in range(N):
                wrong.append(timed_login(d, "user1", f"wrong {i}"))
                unknown.append(timed_login(d, f"nobody-{i}", f"wrong {i}"))
            d.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    mw, mu = statistics.median(wrong), statistics.median(unknown)
    diff = abs(mu - mw) / mw
    print(f"$ {' '.join(sys.argv)}  (BENCH_LOGINS={N}, BENCH_BOUND={BOUND})")
    print(f"wrong password: median {mw * 1000:.1f} ms "
          f"(min {min(wrong) * 1000:.1f}, max {max(wrong) * 1000:.1f})")
    print(f"unknown user:   median {mu * 1000:.1f} ms "
          f"(min {min(unknown) * 1000:.1f}, max {max(unknown) * 1000:.1f})")
    print(f"difference of the medians: {diff * 100:.1f}% "
          f"(bound {BOUND * 100:.0f}%)")
    if diff < BOUND:
        print("PASS: unknown users cost what wrong passwords cost")
        return 0
    print("FAIL: the two answer at different speeds: usernames can be "
          "told apart by timing")
    return 1


if __name__ == "__main__":
    sys.exit(main())
