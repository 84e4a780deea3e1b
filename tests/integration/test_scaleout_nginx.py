"""The scale-out deployment of deploy/nginx/scaleout.conf, run for real:
Debian's nginx in front of two auth_service processes on one PostgreSQL
database (tests/pgserver.py) and two resource_service processes that take
the keys from the issuers' JWKS through nginx. Login, refresh, protected
calls and the reuse race go through nginx; then one issuer is killed in a
refresh storm: the other keeps serving and every rotation answered 200 is
in the database. The file is used as shipped; only its loopback ports are
replaced by free ones."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import pgserver  # noqa: E402
from test_auth import login, refresh, stop_clean  # noqa: E402
from test_scaleout import race  # noqa: E402

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Front:
    """nginx with scaleout.conf, its ports mapped by `ports`."""

    def __init__(self, directory, ports):
        self.dir = directory
        text = open(harness.source("deploy", "nginx", "scaleout.conf"),
                    encoding="utf-8").read()
        for old, new in ports.items():
            text, n = re.subn(rf"127\.0\.0\.1:{old}\b",
                              f"127.0.0.1:{new}", text)
            assert n >= 1, f"port {old} not in scaleout.conf"
        with open(os.path.join(directory, "scaleout.conf"), "w",
                  encoding="utf-8") as f:
            f.write(text)
        self.conf = os.path.join(directory, "nginx.conf")
        d = directory
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(f"""daemon off;
worker_processes 1;
{"user root;" if os.geteuid() == 0 else ""}
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 512; }}
http {{
	access_log {d}/access.log;
	client_body_temp_path {d}/body;
	proxy_temp_path {d}/proxy;
	fastcgi_temp_path {d}/fastcgi;
	uwsgi_temp_path {d}/uwsgi;
	scgi_temp_path {d}/scgi;
	include {d}/scaleout.conf;
}}
""")
        self.proc = None

    def start(self, port):
        check = subprocess.run([NGINX, "-t", "-p", self.dir, "-c", self.conf],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.proc = subprocess.Popen([NGINX, "-p", self.dir, "-c", self.conf],
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:  # nginx prints no "listening" line: poll the port
            try:
                if harness.request(port, "GET", "/health/live").status == 200:
                    return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("nginx did not start: " + self.log())
            time.sleep(0.05)

    def log(self):
        try:
            with open(os.path.join(self.dir, "error.log"),
                      encoding="utf-8") as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class NginxScaleoutTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = pgserver.PgServer().start()
        cls.dir = tempfile.mkdtemp(prefix="nginx-test-")
        cls.procs = []
        cls.front = None
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls):
        keys = os.path.join(cls.dir, "keys")
        harness.make_keys(keys)
        db = cls.server.new_database()
        cls.dbname = db.rsplit("/", 1)[1]
        cls.auth_port, cls.res_port = free_port(), free_port()
        issuer = f"http://127.0.0.1:{cls.auth_port}"
        config = os.path.join(cls.dir, "auth.json")
        with open(config, "w", encoding="utf-8") as f:
            json.dump({"throttle_user_free": 1000,
                       "throttle_addr_free": 1000}, f)
        auth_args = ["--config", config, "--db", db, "--issuer", issuer,
                     "--private-key", os.path.join(keys, "private_key.pem"),
                     "--secrets", harness.source("config", "secrets.json"),
                     "--permissions",
                     harness.source("config", "permissions.json")]
        cls.issuers = [harness.Daemon("auth_service", auth_args).start()
                       for _ in range(2)]
        cls.procs += cls.issuers
        res_args = ["--issuer", issuer, "--jwks-url",
                    f"{issuer}/.well-known/jwks.json",
                    "--routes", harness.source("config", "routes.json")]
        # The verifiers fetch the JWKS through nginx, when a token
        # first needs it; nginx needs their ports: verifiers first.
        cls.verifiers = [harness.Daemon("resource_service", res_args).start()
                         for _ in range(2)]
        cls.procs += cls.verifiers
        cls.front = Front(cls.dir, {
            5000: cls.auth_port, 5001: cls.res_port,
            5010: cls.issuers[0].port, 5011: cls.issuers[1].port,
            5020: cls.verifiers[0].port, 5021: cls.verifiers[1].port})
        cls.front.start(cls.auth_port)
        # Their first JWKS fetch came before nginx listened: they retry
        # within seconds (key_source.c). Ready when they hold the keys.
        for v in cls.verifiers:
            v.wait_healthy(timeout=30)

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.front is not None:
                cls.front.stop()
            for p in cls.procs:
                p.stop()
        finally:
            cls.server.stop()
            shutil.rmtree(cls.dir, ignore_errors=True)

    def protected(self, token):
        return harness.request(self.res_port, "GET", "/protected",
                               headers=harness.bearer(token))

    def test_1_login_refresh_protected_and_reuse_race(self):
        r = harness.request(self.auth_port, "POST", "/login",
                            {"username": "user1", "password": "password123"})
        self.assertEqual(r.status, 200, r)
        tokens = r.json()
        # Both verifiers (nginx alternates) accept the token.
        for _ in range(4):
            r = self.protected(tokens["access_token"])
            self.assertEqual(r.status, 200, r)
        self.assertEqual(self.protected("x.y.z").status, 401)
        r = harness.request(self.auth_port, "POST", "/refresh",
                            {"refresh_token": tokens["refresh_token"]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.protected(r.json()["access_token"]).status, 200)
        # The reuse race through nginx: 32 uses of one token.
        front = harness.Daemon("auth_service", [])
        front.port = self.auth_port
        results = race([front], r.json()["refresh_token"], 32)
        statuses = [s for s, _ in results]
        self.assertEqual(statuses.count(200), 1, statuses)
        self.assertEqual(statuses.count(400), 31, statuses)
        winner = next(b for s, b in results if s == 200)
        r = refresh(front, winner["refresh_token"])
        self.assertEqual(r.status, 400, r)
        # Both issuers took part in the race.
        for d in self.issuers:
            self.assertTrue(d.log_events("refresh_failed") or
                            d.log_events("refresh_reuse_family_revoked"),
                            d.log()[-1000:])

    def test_2_issuer_killed_in_a_refresh_storm(self):
        front = harness.Daemon("auth_service", [])
        front.port = self.auth_port
        chains = [login(front).json()["refresh_token"] for _ in range(4)]
        ok = []  # refreshes answered 200
        stop = threading.Event()

        def storm(rt):
            while not stop.is_set():
                try:
                    r = refresh(front, rt)
                except OSError:
                    return
                if r.status != 200:
                    return  # e.g. 502: the killed issuer's reply lost
                ok.append(1)
                rt = r.json()["refresh_token"]

        threads = [threading.Thread(target=storm, args=(t,)) for t in chains]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(ok) < 40 and time.monotonic() < deadline:
            time.sleep(0.02)
        before_kill = len(ok)
        self.issuers[0].kill9()
        stop.set()
        for t in threads:
            t.join()
        self.assertGreaterEqual(before_kill, 40)
        # Every 200 was committed before it was sent.
        committed = int(self.server.psql(
            "SELECT coalesce(sum(generation), 0) FROM families",
            self.dbname))
        self.assertGreaterEqual(committed, len(ok))
        # The other issuer serves everything now, through nginx.
        for _ in range(4):
            r = login(front)
            self.assertEqual(r.status, 200, r)
            r = refresh(front, r.json()["refresh_token"])
            self.assertEqual(r.status, 200, r)
            self.assertEqual(
                self.protected(r.json()["access_token"]).status, 200)
        stop_clean(self.issuers[1])


if __name__ == "__main__":
    unittest.main()
