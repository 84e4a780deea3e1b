"""Several issuers on one PostgreSQL database: two auth_service processes
share the key directory (signing key and refresh-token MAC key) and one
database on a throwaway server (tests/pgserver.py). A refresh token is
single-use across both, a reuse on either revokes the family for both, a
logout on one is seen by the other, and the failed-login throttle counts
across both. Then the server goes away while the daemons run: 503s with
Retry-After, readiness failing, and recovery without a restart."""
import base64
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import jwt  # noqa: E402

import harness  # noqa: E402
import pgserver  # noqa: E402
from test_auth import (AUDIENCE, assert_error, login, refresh,  # noqa: E402
                       stop_clean)

# Issuers behind one front share one public issuer URL (the "issuer"
# setting): left at its default each would name its own port.
ISSUER = "https://auth.scaleout.test"


def claims_of(d, token):
    """Verifies token with PyJWT against d's JWKS and the shared issuer."""
    header = jwt.get_unverified_header(token)
    keys = d.request("GET", "/.well-known/jwks.json").json()["keys"]
    jwk = next(k for k in keys if k["kid"] == header["kid"])
    return header, jwt.decode(token, jwt.PyJWK(jwk).key,
                              algorithms=[jwk["alg"]], audience=AUDIENCE,
                              issuer=ISSUER)


class Cluster:
    """N issuers over one database, one key directory, one config."""

    def __init__(self, server, n=2, extra=lambda c: [], **config):
        self.extra = extra  # more flags, given the cluster (its paths)
        self.server = server
        self.dir = tempfile.mkdtemp(prefix="scaleout-test-")
        self.keys = os.path.join(self.dir, "keys")
        harness.make_keys(self.keys)
        self.db = server.new_database()
        self.dbname = self.db.rsplit("/", 1)[1]
        self.config = os.path.join(self.dir, "auth.json")
        cfg = {"throttle_user_free": 1000, "throttle_addr_free": 1000,
               "log_level": "info", "issuer": ISSUER}
        cfg.update(config)
        with open(self.config, "w", encoding="utf-8") as f:
            json.dump(cfg, f)
        self.daemons = [self.daemon() for _ in range(n)]
        # Started together: both migrate and import the seed at once
        # (the migration lock and the import's retry keep that sane).
        errors = []

        def start(d):
            try:
                d.start()
            except AssertionError as e:
                errors.append(e)

        threads = [threading.Thread(target=start, args=(d,))
                   for d in self.daemons]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            self.stop()
            raise errors[0]

    def daemon(self):
        return harness.Daemon("auth_service", [
            "--config", self.config, "--db", self.db,
            "--private-key", os.path.join(self.keys, "private_key.pem"),
            "--secrets", harness.source("config", "secrets.json"),
            "--permissions", harness.source("config", "permissions.json"),
            *self.extra(self)])

    def stop(self):
        try:
            for d in self.daemons:
                if d.proc is not None and d.proc.poll() is None:
                    stop_clean(d)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    def family(self, what):
        return self.server.psql(f"SELECT {what} FROM families", self.dbname)


def race(daemons, token, n):
    """n concurrent refreshes of one token, spread over the daemons."""
    results = [None] * n
    barrier = threading.Barrier(n)

    def go(i):
        barrier.wait()
        r = refresh(daemons[i % len(daemons)], token)
        results[i] = (r.status, r.json())

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


class TwoIssuersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = pgserver.PgServer().start()
        try:
            cls.c = Cluster(cls.server)
        except BaseException:
            cls.server.stop()
            raise
        cls.a, cls.b = cls.c.daemons

    @classmethod
    def tearDownClass(cls):
        try:
            cls.c.stop()
        finally:
            cls.server.stop()

    def test_one_session_across_both_issuers(self):
        r = login(self.a)
        self.assertEqual(r.status, 200, r)
        # Issued by A, rotated by B, then by A: one family, one key set.
        r = refresh(self.b, r.json()["refresh_token"])
        self.assertEqual(r.status, 200, r)
        _, c = claims_of(self.a, r.json()["access_token"])
        self.assertEqual(c["username"], "user1")
        r = refresh(self.a, r.json()["refresh_token"])
        self.assertEqual(r.status, 200, r)
        # A logout on B ends the session for A too.
        rt = r.json()["refresh_token"]
        self.assertEqual(self.b.request(
            "POST", "/logout", {"refresh_token": rt}).status, 200)
        assert_error(self, refresh(self.a, rt), 400, "invalid_grant")

    def test_32_concurrent_uses_one_winner_then_family_revoked(self):
        rt = login(self.a).json()["refresh_token"]
        results = race([self.a, self.b], rt, 32)
        statuses = [s for s, _ in results]
        self.assertEqual(statuses.count(200), 1, statuses)
        self.assertEqual(statuses.count(400), 31, statuses)
        self.assertTrue(all(b["error"] == "invalid_grant"
                            for s, b in results if s == 400))
        # The race was spread: both issuers refused some.
        for d in (self.a, self.b):
            self.assertTrue(d.log_events("refresh_failed") or
                            d.log_events("refresh_reuse_family_revoked"))
        winner = next(b for s, b in results if s == 200)
        # The losers' reuse revoked the family, winner's token included.
        assert_error(self, refresh(self.a, winner["refresh_token"]), 400,
                     "invalid_grant")
        assert_error(self, refresh(self.b, winner["refresh_token"]), 400,
                     "invalid_grant")
        self.assertIn("reuse", self.c.family("revoked_reason").split())


    def test_throttle_counts_across_issuers(self):
        """Failed logins for one user spread over both issuers are
        throttled at the same count as on one issuer."""
        c = Cluster(self.server, throttle_user_free=4,
                    throttle_base_delay=30, throttle_max_delay=60)
        try:
            a, b = c.daemons

            def guesses(user, daemons):
                return [login(daemons[i % len(daemons)], user,
                              f"wrong-{i}").status for i in range(8)]

            # One issuer: four free failures, the fifth sets a delay,
            # then 429 (the reference).
            one = guesses("admin", [a])
            self.assertEqual(one, [401] * 5 + [429] * 3, one)
            # Spread over both: the same count, not four per issuer.
            both = guesses("user1", [a, b])
            self.assertEqual(both, one)
            for d in (a, b):
                r = login(d)  # even the right password waits
                self.assertEqual(r.status, 429, r)
                self.assertTrue(int(r.header("Retry-After")) > 0)
            # The database holds keyed hashes, never the name.
            keys = self.server.psql("SELECT encode(key, 'escape') FROM"
                                    " login_failures", c.dbname)
            self.assertNotIn("user1", keys)
            self.assertGreaterEqual(int(self.server.psql(
                "SELECT count(*) FROM login_failures"
                " WHERE blocked_until > 0", c.dbname)), 2)
        finally:
            c.stop()

    def test_success_clears_the_shared_count(self):
        c = Cluster(self.server, throttle_user_free=2,
                    throttle_base_delay=30, throttle_max_delay=60)
        try:
            a, b = c.daemons
            self.assertEqual(login(a, "user1", "wrong").status, 401)
            self.assertEqual(login(b, "user1", "wrong").status, 401)
            self.assertEqual(login(a).status, 200)  # forgets the count
            self.assertEqual(login(b, "user1", "wrong").status, 401)
            self.assertEqual(login(a, "user1", "wrong").status, 401)
            self.assertEqual(login(b).status, 200)
        finally:
            c.stop()


class KeyRolloutTest(unittest.TestCase):
    """A signing-key rotation rolled out to two issuers that share one key
    directory, one issuer at a time, as the README says: stage (publish the
    next key on every issuer while the old one signs), wait for the
    verifier's JWKS cache, then activate issuer by issuer. At every step
    tokens from both issuers verify at a JWKS-URL verifier, and it never
    has to refetch for an unknown key."""

    def setUp(self):
        self.server = pgserver.PgServer().start()
        try:
            self.c = Cluster(self.server, extra=lambda c: [
                "--public-keys-dir", os.path.join(c.keys, "published")],
                jwks_max_age=1)
        except BaseException:
            self.server.stop()
            raise

    def tearDown(self):
        try:
            if getattr(self, "v", None) is not None:
                self.v.stop()
            self.c.stop()
        finally:
            self.server.stop()

    def tokens(self):
        return [login(d).json()["access_token"] for d in self.c.daemons]

    def verify_all(self):
        for t in self.tokens():
            r = self.v.request("GET", "/protected", headers=harness.bearer(t))
            self.assertEqual(r.status, 200, r)

    def test_stage_then_activate_one_issuer_at_a_time(self):
        keys = self.c.keys
        a, b = self.c.daemons
        self.v = harness.Daemon("resource_service", [
            "--jwks-url", f"http://127.0.0.1:{a.port}/.well-known/jwks.json",
            "--issuer", ISSUER,
            "--jwks-min-age", "1", "--log-level", "debug",
            "--routes", harness.source("config", "routes.json")]).start()
        self.v.wait_healthy()
        self.verify_all()
        old_kid = jwt_kid(self.tokens()[0])
        # Stage: the next key published everywhere, the old one signs.
        nxt = os.path.join(self.c.dir, "next")
        new_kid = harness.make_keys(nxt)
        os.makedirs(os.path.join(keys, "published"), exist_ok=True)
        shutil.copy(os.path.join(nxt, "public_key.pem"),
                    os.path.join(keys, "published", new_kid + ".pem"))
        self.reload_all()
        for d in (a, b):
            kids = {k["kid"] for k in d.request(
                "GET", "/.well-known/jwks.json").json()["keys"]}
            self.assertEqual(kids, {old_kid, new_kid})
        self.assertEqual({jwt_kid(t) for t in self.tokens()}, {old_kid})
        # Wait for the verifier's cache (max-age 1 s here).
        deadline = time.monotonic() + 30
        while "2 key(s)" not in self.v.log():
            self.assertLess(time.monotonic(), deadline, self.v.log())
            time.sleep(0.1)
        # Activate on A only: A signs with the new key, B with the old.
        shutil.copy(os.path.join(keys, "public_key.pem"),
                    os.path.join(keys, "published", old_kid + ".pem"))
        for name in ("private_key.pem", "public_key.pem"):
            shutil.copy(os.path.join(nxt, name), os.path.join(keys, name))
        self.reload(a)
        self.assertEqual([jwt_kid(t) for t in self.tokens()],
                         [new_kid, old_kid])
        self.verify_all()
        self.reload(b)
        self.assertEqual({jwt_kid(t) for t in self.tokens()}, {new_kid})
        self.verify_all()
        # Never an unknown kid at the verifier: no refetch for one.
        self.assertNotIn("(unknown kid)", self.v.log())

    def reload(self, d):
        n = len(d.log_events("reload"))
        d.signal(signal.SIGHUP)
        d.wait_event("reload", n + 1)

    def reload_all(self):
        for d in self.c.daemons:
            self.reload(d)


def jwt_kid(token):
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))[
        "kid"]


class OutageTest(unittest.TestCase):
    """The database stops while two issuers run, then comes back."""

    def setUp(self):
        self.server = pgserver.PgServer().start()
        try:
            self.c = Cluster(self.server)
        except BaseException:
            self.server.stop()
            raise

    def tearDown(self):
        try:
            self.c.stop()
        finally:
            self.server.stop()

    def wait_ready(self, d, status, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            r = d.request("GET", "/health/ready")
            if r.status == status:
                return r
            if time.monotonic() > deadline:
                raise AssertionError(f"/health/ready stayed {r}")
            time.sleep(0.1)

    def test_connections_ended_while_idle_cost_no_request(self):
        """A database restart or failover that ends the issuers' idle
        connections: the next requests reconnect before they send a
        statement, so none fails."""
        a, b = self.c.daemons
        rts = [login(d).json()["refresh_token"] for d in (a, b) * 4]
        pids = self.server.psql(
            "WITH b AS MATERIALIZED (SELECT pid FROM pg_stat_activity"
            f" WHERE datname = '{self.c.dbname}')"
            " SELECT string_agg(pid::text, ',') FROM b"
            " WHERE pg_terminate_backend(pid)")
        self.assertGreaterEqual(len(pids.split(",")), 2)
        # Those backends gone (a timer's statement may already have
        # opened a new connection: only the ended ones are waited for).
        deadline = time.monotonic() + 60
        while self.server.psql("SELECT count(*) FROM pg_stat_activity"
                               f" WHERE pid IN ({pids})") != "0":
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        for i, rt in enumerate(rts):
            d = (a, b)[i % 2]
            r = refresh(d, rt)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(login(d).status, 200)
        for d in (a, b):
            self.assertEqual(d.request("GET", "/health/ready").status, 200)

    def test_database_down_then_back(self):
        a, b = self.c.daemons
        rt = login(a).json()["refresh_token"]
        self.assertEqual(self.wait_ready(a, 200).json()["database"], "ok")
        self.server.pg_ctl("stop", "-m", "fast")
        for d in (a, b):
            r = refresh(d, rt)
            assert_error(self, r, 503, "temporarily_unavailable")
            self.assertTrue(r.header("Retry-After"))
            r = login(d)
            assert_error(self, r, 503, "temporarily_unavailable")
            self.assertTrue(r.header("Retry-After"))
            # Readiness says so; liveness and the JWKS do not need the
            # database.
            r = self.wait_ready(d, 503)
            self.assertEqual(r.json()["database"], "error")
            self.assertEqual(d.request("GET", "/health/live").status, 200)
            self.assertEqual(
                d.request("GET", "/.well-known/jwks.json").status, 200)
        self.server.pg_ctl("start")
        for d in (a, b):
            self.wait_ready(d, 200)
        # No rotation was committed while it was down: the token still
        # works, once, on either issuer.
        r = refresh(b, rt)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(login(a).status, 200)
        for d in (a, b):
            self.assertIn("database", d.log())
            self.assertNotIn(self.server.password, d.log())


if __name__ == "__main__":
    unittest.main()
