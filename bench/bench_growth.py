"""bench_growth.py BUILD_DIR: does the issuer's cost stay flat as its data
grows? For each size N (SIZES, default "0 100000 1000000"): a database
with N live logins and N logins expired two days ago (the schema's own
rows, filled by SQL while the daemon is stopped), then start-up to
/health/ready, the start-up purge of the N expired logins (duration, per
family, the slowest /health and refresh answered while it ran as the
client saw them and as the issuer's access lines say, and the WAL's
length when it ended), the slowest answers of the same client loop for as
long again without a purge (the machine's own noise), refreshes/s and p99
under wrk, and file sizes. Prints a table. Not a test: the figures depend
on the machine."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

BUILD = sys.argv[1] if len(sys.argv) > 1 else "build"
SIZES = [int(n) for n in os.environ.get("SIZES", "0 100000 1000000").split()]
SECS = int(os.environ.get("BENCH_SECONDS", "10"))
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def post(url, path, body):
    req = urllib.request.Request(url + path, json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)


def ready(url):
    try:
        with urllib.request.urlopen(url + "/health/ready", timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


class Issuer:
    def __init__(self, work):
        self.work = work

    def start(self):
        self.log = open(os.path.join(self.work, "log"), "w")
        self.proc = subprocess.Popen(
            [os.path.join(BUILD, "auth_service"), "--port", "0",
             "--db", os.path.join(self.work, "auth.db"),
             "--private-key", os.path.join(self.work, "keys",
                                           "private_key.pem"),
             "--secrets", os.path.join(ROOT, "config", "secrets.json"),
             "--permissions", os.path.join(ROOT, "config",
                                           "permissions.json"),
             "--throttle-addr-free", "1000000", "--log-level", "info"],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        self.url = "http://" + line.split("listening on ")[1].strip()

    def log_text(self):
        with open(os.path.join(self.work, "log")) as f:
            return f.read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self.log.close()


def fill(path, n):
    import sqlite3
    db = sqlite3.connect(path)
    uid = db.execute("SELECT id FROM users WHERE username='user1'"
                     ).fetchone()[0]
    now = int(time.time())
    db.executemany(
        "INSERT INTO families (id, user_id, client_id, created_at,"
        " expires_at, generation, token_expires_at)"
        " VALUES (?, ?, 'demo-client', ?, ?, 1, ?)",
        (row for i in range(n) for row in (
            (f"live{i:018d}", uid, now, now + 86400 * 20, now + 86400),
            (f"gone{i:018d}", uid, now - 86400 * 40, now - 86400 * 2,
             now - 86400 * 2))))
    db.commit()
    db.close()


def mb(path):
    return os.path.getsize(path) / 2**20 if os.path.exists(path) else 0.0


def wal_pages(db):
    """Frames the WAL file has room for: the most it held since its
    last truncation (32-byte header, 24 + 4096 bytes a frame)."""
    return max(0, int(mb(db + "-wal") * 2**20) - 32) // (24 + 4096)


def client_loop(iss, rt, until):
    """/health then /refresh, one at a time, until until(): the slowest
    of each in ms, and the last refresh token."""
    worst = {"/health": 0.0, "/refresh": 0.0}
    while True:
        t = time.monotonic()
        urllib.request.urlopen(iss.url + "/health", timeout=120).read()
        worst["/health"] = max(worst["/health"], time.monotonic() - t)
        t = time.monotonic()
        rt = post(iss.url, "/refresh", {"refresh_token": rt}
                  )["refresh_token"]
        worst["/refresh"] = max(worst["/refresh"], time.monotonic() - t)
        if until():
            return {k: v * 1000 for k, v in worst.items()}, rt


def server_worst(log, path):
    """The slowest access line for path (latency_us) before the purge's
    end line, in ms: the issuer's own part of the client's figure."""
    worst = 0
    for line in log.splitlines():
        if "expired families deleted" in line:
            break
        if line.startswith("{") and '"event":"access"' in line:
            a = json.loads(line)
            if a["path"] == path:
                worst = max(worst, a["latency_us"])
    return worst / 1000


def main():
    work = tempfile.mkdtemp(prefix="bench-growth-")
    subprocess.run([os.path.join(BUILD, "jwt-keygen"), "--out",
                    os.path.join(work, "keys")], check=True,
                   capture_output=True)
    db = os.path.join(work, "auth.db")
    print(f"{'families':>9} {'db MB':>7} {'ready s':>8} {'purge s':>8} "
          f"{'us/fam':>7} {'health':>7} {'refresh':>8} {'issuer':>7} "
          f"{'wal pg':>7} {'no purge':>8} {'refresh/s':>10} {'p99':>9} "
          f"{'wal MB':>7} {'db MB after':>11}")
    for n in SIZES:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)
        iss = Issuer(work)
        iss.start()
        iss.stop()
        fill(db, n)
        size = mb(db)
        t0 = time.monotonic()
        iss.start()
        while not ready(iss.url):
            time.sleep(0.01)
        ready_s = time.monotonic() - t0
        # While the start-up purge runs: the slowest /health and refresh.
        rt = post(iss.url, "/login", {"username": "user1",
                                      "password": "password123"}
                  )["refresh_token"]
        worst = {"/health": 0.0, "/refresh": 0.0}
        purge_s, deleted, issuer, pages, quiet = 0.0, 0, 0.0, 0, 0.0
        if n > 0:
            worst, rt = client_loop(iss, rt, lambda: re.search(
                r"purge: \d+ expired families deleted", iss.log_text()))
            purge_s = time.monotonic() - t0
            log = iss.log_text()
            deleted = int(re.search(
                r"purge: (\d+) expired families deleted", log).group(1))
            issuer = server_worst(log, "/refresh")
            pages = wal_pages(db)
            # The same loop without a purge, as long again (at most
            # 20 s): what the machine alone adds to the slowest answer.
            end = time.monotonic() + min(purge_s, 20)
            noise, rt = client_loop(iss, rt, lambda: time.monotonic() > end)
            quiet = max(noise.values())
        tokens = os.path.join(work, "tokens")
        with open(tokens, "w") as f:
            for _ in range(32):
                f.write(post(iss.url, "/login",
                             {"username": "user1",
                              "password": "password123"}
                             )["refresh_token"] + "\n")
        out = subprocess.run(
            ["wrk", "-t1", "-c16", f"-d{SECS}s", "--latency", "-s",
             os.path.join(ROOT, "bench", "refresh.lua"),
             iss.url + "/refresh"],
            env=dict(os.environ, TOKENS=tokens, WRK_THREADS="1"),
            capture_output=True, text=True).stdout
        rate = re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)
        p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)
        wal = mb(db + "-wal")
        iss.stop()
        per = purge_s * 1e6 / deleted if deleted else 0
        print(f"{n:>9} {size:>7.1f} {ready_s:>8.2f} {purge_s:>8.1f} "
              f"{per:>7.0f} {worst['/health']:>7.1f} "
              f"{worst['/refresh']:>8.1f} {issuer:>7.1f} {pages:>7} "
              f"{quiet:>8.1f} {float(rate):>10.0f} "
              f"{p99:>9} {wal:>7.1f} {mb(db):>11.1f}")
    print(f"(families: N live + N expired; purge s: start to the purge's "
          f"log line; health, refresh: the slowest answer in ms during the "
          f"purge, as the client saw it; issuer: the slowest refresh's "
          f"latency_us in ms; wal pg: the WAL's most pages by the purge's "
          f"end (SQLite's automatic checkpoint mark: 1000); no purge: the "
          f"slowest answer in ms of the same loop after the purge, as long "
          f"again (at most 20 s); refresh/s, p99: wrk -t1 -c16 -d{SECS}s)")
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
