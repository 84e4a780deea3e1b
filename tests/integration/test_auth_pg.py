"""auth_service end to end on PostgreSQL: the login, refresh, reuse,
logout, reload and throttle tests of test_auth.py again, each class on a
fresh database of one throwaway server (tests/pgserver.py), plus what only
a server database has: a password in the URL that never reaches a log,
libpq's password file, and a restart or a kill -9 in a refresh storm
that loses no committed rotation."""
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import pgserver  # noqa: E402
import test_auth  # noqa: E402
from test_auth import (Env, login, refresh, stop_clean,  # noqa: E402
                       LoginTest, RefreshTest, ReloadTest, ThrottleTest)

# Started on import, not in setUpModule: the classes imported above keep
# test_auth as their module, and unittest would tear this module's
# fixtures down between them. pgserver stops it at exit.
SERVER = pgserver.PgServer().start()


_env_init = Env.__init__


def _pg_env_init(self):
    """Env as in test_auth.py, its database a new one on the server."""
    _env_init(self)
    self.db = SERVER.new_database()
    self.dbname = self.db.rsplit("/", 1)[1]


Env.__init__ = _pg_env_init
test_auth.Env = Env

# The classes imported above run here, on PostgreSQL.
__all__ = ["LoginTest", "RefreshTest", "ReloadTest", "ThrottleTest"]


class PgOnlyTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()

    def tearDown(self):
        self.env.cleanup()

    def test_password_in_the_url_never_logged(self):
        with self.env.daemon() as d:
            rt = login(d).json()["refresh_token"]
            self.assertEqual(refresh(d, rt).status, 200)
            self.assertEqual(refresh(d, rt).status, 400)  # reuse
            health = d.request("GET", "/health").body.decode()
            stop_clean(d)
        self.assertNotIn(SERVER.password, d.log() + health)
        # A wrong password: the daemon refuses to start, and says why
        # without the password it was given.
        wrong = self.env.db.replace(SERVER.password, "Wr0ng-s3cret")
        r = subprocess.run([harness.binary("auth_service"), "--port", "0",
                            *self.env.args()[:2], "--db", wrong,
                            *self.env.args()[4:]],
                           capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("password authentication failed", r.stderr)
        self.assertNotIn("Wr0ng-s3cret", r.stdout + r.stderr)

    def test_password_file_and_libpq_environment(self):
        """No password in the URL: libpq reads PGPASSFILE (and PGHOST,
        PGPORT...) itself."""
        passfile = self.env.path("pgpass")
        with open(passfile, "w", encoding="utf-8") as f:
            f.write(f"127.0.0.1:{SERVER.port}:*:postgres:{SERVER.password}\n")
        os.chmod(passfile, 0o600)
        url = f"postgresql:///{self.env.dbname}"
        args = self.env.args()
        args[args.index("--db") + 1] = url
        d = harness.Daemon("auth_service", args, env={
            "PGPASSFILE": passfile, "PGHOST": "127.0.0.1",
            "PGPORT": str(SERVER.port), "PGUSER": "postgres"})
        with d:
            r = login(d)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(
                refresh(d, r.json()["refresh_token"]).status, 200)
            stop_clean(d)

    def test_restart_keeps_users_and_families(self):
        with self.env.daemon() as d:
            rt = login(d).json()["refresh_token"]
            rt = refresh(d, rt).json()["refresh_token"]
            stop_clean(d)
        with self.env.daemon() as d:
            self.assertEqual(refresh(d, rt).status, 200)
            self.assertIn("0 created", d.log())
            self.assertIn("2 unchanged", d.log())
            stop_clean(d)
        # Each migration recorded once, however often issuers start.
        self.assertEqual(SERVER.psql(
            "SELECT count(*) = max(version) AND count(*) > 1"
            " FROM schema_migrations", self.env.dbname), "t")

    def test_kill_during_refresh_storm(self):
        d = self.env.daemon().start()
        tokens = [login(d).json()["refresh_token"] for _ in range(4)]
        stop = threading.Event()

        def storm(rt):
            while not stop.is_set():
                try:
                    r = refresh(d, rt)
                except OSError:
                    return
                if r.status != 200:
                    return
                rt = r.json()["refresh_token"]

        threads = [threading.Thread(target=storm, args=(t,))
                   for t in tokens]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while (len(d.log_events("refresh")) < 40
               and time.monotonic() < deadline):
            time.sleep(0.02)
        answered = len(d.log_events("refresh"))
        d.kill9()
        stop.set()
        for t in threads:
            t.join()
        # Every refresh answered 200 was committed first.
        self.assertGreaterEqual(answered, 40)
        families, committed, bad = SERVER.psql(
            "SELECT count(*), coalesce(sum(generation), 0),"
            " count(*) FILTER (WHERE token_expires_at > expires_at)"
            " FROM families", self.env.dbname).split("|")
        self.assertEqual((int(families), int(bad)), (4, 0))
        self.assertGreaterEqual(int(committed), answered)


if __name__ == "__main__":
    unittest.main()
