"""Cost stays flat as data grows, on PostgreSQL: tens of thousands of
long-expired logins are purged in batches in the background while /health
and refreshes keep answering at once, and a refresh token a thousand
generations old is still recognised as reuse and ends its family. One
issuer per test on a database of one throwaway server
(tests/pgserver.py), filled the way the schema itself writes families."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pgserver  # noqa: E402
from test_auth import Env, login, refresh, assert_error, stop_clean  # noqa

EXPIRED = 30000
SERVER = pgserver.PgServer().start()  # stopped at exit by pgserver


def pg_env():
    env = Env()
    env.db = SERVER.new_database()
    env.dbname = env.db.rsplit("/", 1)[1]
    return env


def count_families(env):
    return int(SERVER.psql("SELECT count(*) FROM families", env.dbname))


class PgPurgeTest(unittest.TestCase):
    def setUp(self):
        self.env = pg_env()

    def tearDown(self):
        self.env.cleanup()

    def test_purge_runs_beside_requests(self):
        with self.env.daemon() as d:  # creates the schema and users
            stop_clean(d)
        old = int(time.time()) - 2 * 86400
        SERVER.psql(
            "INSERT INTO families (id, user_id, client_id, created_at,"
            " expires_at, generation, token_expires_at)"
            " SELECT 'expired' || lpad(i::text, 15, '0'), u.id,"
            f" 'demo-client', {old - 3600}, {old}, 3, {old}"
            f" FROM users u, generate_series(1, {EXPIRED}) i"
            " WHERE u.username = 'user1'", self.env.dbname)
        self.assertEqual(count_families(self.env), EXPIRED)
        with self.env.daemon() as d:
            rt = login(d).json()["refresh_token"]
            slowest = {"/health": 0.0, "/refresh": 0.0}
            statuses = set()
            deadline = time.monotonic() + 60
            while count_families(self.env) > 1:
                self.assertLess(time.monotonic(), deadline, "purge stuck")
                t0 = time.monotonic()
                statuses.add(d.request("GET", "/health").status)
                slowest["/health"] = max(slowest["/health"],
                                         time.monotonic() - t0)
                t0 = time.monotonic()
                r = refresh(d, rt)
                slowest["/refresh"] = max(slowest["/refresh"],
                                          time.monotonic() - t0)
                statuses.add(r.status)
                rt = r.json()["refresh_token"]
            self.assertEqual(statuses, {200})
            # Nothing waited for the whole purge (seconds).
            for path, s in slowest.items():
                self.assertLess(s, 0.5, f"{path} waited {s:.3f} s")
            said = f"purge: {EXPIRED} expired families deleted"
            while said not in d.log() and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertIn(said, d.log())
            stop_clean(d)


class PgOldGenerationTest(unittest.TestCase):
    def setUp(self):
        self.env = pg_env()

    def tearDown(self):
        self.env.cleanup()

    def test_token_a_thousand_generations_old_is_reuse(self):
        with self.env.daemon() as d:
            first = rt = login(d).json()["refresh_token"]
            for _ in range(1000):
                r = refresh(d, rt)
                self.assertEqual(r.status, 200, r)
                rt = r.json()["refresh_token"]
            self.assertEqual(count_families(self.env), 1)
            assert_error(self, refresh(d, first), 400, "invalid_grant")
            self.assertEqual(
                len(d.log_events("refresh_reuse_family_revoked")), 1)
            assert_error(self, refresh(d, rt), 400, "invalid_grant")
            stop_clean(d)


if __name__ == "__main__":
    unittest.main(verbosity=2)
