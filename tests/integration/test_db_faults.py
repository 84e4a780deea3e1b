"""The event loop never waits on the database. Another process holds
SQLite's write lock: /health, /health/live and the JWKS answer at once,
a refresh waits for the lock or, past db_busy_timeout_ms, gets 503 with
Retry-After, and nothing is lost. The disk fills up (a small tmpfs, as
root): readiness says so from the probe, writes get 503, never a 200 for
an unsaved token, and both recover when space comes back, without a
restart."""
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from test_auth import Env, login, refresh, assert_error, stop_clean

# Well under a lock's length: the answer comes from the pool's record.
FAST = 1.0


def hold_write_lock(path, seconds, held, release=None):
    """BEGIN IMMEDIATE from another connection, as another process's
    writer would, for seconds, or until release is set (at most 60 s):
    a test whose requests must all meet the lock holds it until they
    are answered, however slowly a loaded machine sends them."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        held.set()
        if release is None:
            time.sleep(seconds)
        else:
            release.wait(60)
        db.execute("COMMIT")
    finally:
        db.close()


def timed(fn):
    t0 = time.monotonic()
    r = fn()
    return r, time.monotonic() - t0


class LockTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()

    def tearDown(self):
        self.env.cleanup()

    def test_lock_held_elsewhere(self):
        with self.env.daemon("--db-busy-timeout-ms", "1000") as d:
            rt = login(d).json()["refresh_token"]
            held, release = threading.Event(), threading.Event()
            self.addCleanup(release.set)  # also when an assertion fails
            locker = threading.Thread(target=hold_write_lock,
                                      args=(self.env.db, 0, held, release))
            locker.start()
            self.assertTrue(held.wait(10))
            # A refresh queues behind the lock on a database thread...
            result = {}
            waiter = threading.Thread(target=lambda: result.setdefault(
                "r", refresh(d, rt)))
            waiter.start()
            time.sleep(0.2)
            # ...while the loop answers everything else at once.
            for path in ("/health", "/health/live",
                         "/.well-known/jwks.json"):
                r, took = timed(lambda: d.request("GET", path))
                self.assertEqual(r.status, 200, (path, r))
                self.assertLess(took, FAST, path)
            waiter.join()
            release.set()
            # The lock outlasted the busy timeout: 503, retry later, and
            # the token was not spent.
            r = result["r"]
            assert_error(self, r, 503, "temporarily_unavailable")
            self.assertEqual(r.header("Retry-After"), "1")
            locker.join()
            self.assertEqual(refresh(d, rt).status, 200)
            stop_clean(d)

    def test_refusals_leave_readiness_alone(self):
        """A refused refresh (a reused token, then its revoked family) is
        the client's fault, not the database's: /health/ready stays 200
        right after each one (the probe would mend a wrong record only
        a second later, so each is checked at once)."""
        with self.env.daemon() as d:
            rt = login(d).json()["refresh_token"]
            self.assertEqual(refresh(d, rt).status, 200)
            for _ in range(5):
                assert_error(self, refresh(d, rt), 400, "invalid_grant")
                r = d.request("GET", "/health/ready")
                self.assertEqual(r.status, 200, r)
            stop_clean(d)

    def test_queued_writes_give_up_unspent(self):
        """Writes queued behind a long lock wait at most their deadline
        (db_busy_timeout_ms) for their turn: every one is 503, and every
        token is still good: nothing was committed for a client that had
        gone."""
        with self.env.daemon("--db-busy-timeout-ms", "1000") as d:
            tokens = [login(d).json()["refresh_token"] for _ in range(4)]
            held, release = threading.Event(), threading.Event()
            self.addCleanup(release.set)  # also when an assertion fails
            locker = threading.Thread(target=hold_write_lock,
                                      args=(self.env.db, 0, held, release))
            locker.start()
            self.assertTrue(held.wait(10))
            results = [None] * 4

            def use(i):
                results[i] = refresh(d, tokens[i])
            threads = [threading.Thread(target=use, args=(i,))
                       for i in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            release.set()
            for r in results:
                assert_error(self, r, 503, "temporarily_unavailable")
            locker.join()
            for t in tokens:
                self.assertEqual(refresh(d, t).status, 200)
            stop_clean(d)

    def test_sigterm_answers_the_write_in_flight(self):
        """SIGTERM while a refresh waits on a lock: the answer still
        reaches the client (never an empty reply), and what it says is
        what the database holds."""
        d = self.env.daemon("--db-busy-timeout-ms", "2000",
                            "--shutdown-grace", "1").start()
        try:
            rt = login(d).json()["refresh_token"]
            held = threading.Event()
            locker = threading.Thread(target=hold_write_lock,
                                      args=(self.env.db, 3, held))
            locker.start()
            self.assertTrue(held.wait(10))
            result = {}
            waiter = threading.Thread(target=lambda: result.setdefault(
                "r", refresh(d, rt)))
            waiter.start()
            time.sleep(0.3)
            d.signal(signal.SIGTERM)
            waiter.join()
            locker.join()
            self.assertEqual(d.proc.wait(timeout=30), 0)
            self.assertIn(result["r"].status, (200, 503), result["r"])
        finally:
            stop_clean(d)
        with self.env.daemon() as d2:
            # 503: the token was not spent; 200: the new one was saved.
            r = refresh(d2, rt)
            if result["r"].status == 503:
                self.assertEqual(r.status, 200, r)
            else:
                assert_error(self, r, 400, "invalid_grant")
            stop_clean(d2)

    def test_short_lock_only_delays(self):
        with self.env.daemon("--db-busy-timeout-ms", "5000") as d:
            rt = login(d).json()["refresh_token"]
            held = threading.Event()
            locker = threading.Thread(target=hold_write_lock,
                                      args=(self.env.db, 1, held))
            locker.start()
            self.assertTrue(held.wait(10))
            r = refresh(d, rt)
            self.assertEqual(r.status, 200, r)
            locker.join()
            stop_clean(d)


@unittest.skipUnless(os.geteuid() == 0, "mounting a tmpfs needs root")
class FullDiskTest(unittest.TestCase):
    """A 2 MiB tmpfs holds the database; a filler file takes the rest."""

    def setUp(self):
        self.env = Env()
        self.mnt = tempfile.mkdtemp(prefix="jwt-fulldisk-")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m",
                            "tmpfs", self.mnt], capture_output=True)
        if r.returncode != 0:
            # Root without the right to mount (a container): say so.
            self.skipTest("cannot mount a tmpfs here: "
                          + r.stderr.decode(errors="replace").strip())

    def tearDown(self):
        subprocess.run(["umount", self.mnt], capture_output=True)
        shutil.rmtree(self.mnt, ignore_errors=True)
        self.env.cleanup()

    def fill(self):
        filler = os.path.join(self.mnt, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        return filler

    def test_full_disk_is_not_ready_then_recovers(self):
        db = os.path.join(self.mnt, "auth.db")
        with self.env.daemon("--db", db) as d:
            tokens = [login(d).json()["refresh_token"] for _ in range(3)]
            filler = self.fill()
            # Writes fail: 503, never a 200 for a token not saved. Keep
            # going until one fails (SQLite may still fit a page or two).
            failed = None
            for i in range(50):
                r = refresh(d, tokens[0])
                if r.status != 200:
                    failed = r
                    break
                tokens[0] = r.json()["refresh_token"]
            self.assertIsNotNone(failed, "no write failed on a full disk")
            assert_error(self, failed, 503, "temporarily_unavailable")
            # Readiness follows (the write failed, and the probe writes
            # while writes fail); liveness does not.
            deadline = time.monotonic() + 10
            while (d.request("GET", "/health/ready").status != 503
                   and time.monotonic() < deadline):
                time.sleep(0.1)
            r = d.request("GET", "/health/ready")
            self.assertEqual(r.status, 503, r)
            self.assertFalse(r.json()["database_writable"])
            self.assertEqual(d.request("GET", "/health/live").status, 200)
            # Space comes back: the probe's write succeeds, ready again,
            # and the same token (never spent) refreshes.
            os.unlink(filler)
            deadline = time.monotonic() + 15
            while (d.request("GET", "/health/ready").status != 200
                   and time.monotonic() < deadline):
                time.sleep(0.1)
            self.assertEqual(d.request("GET", "/health/ready").status, 200)
            self.assertEqual(refresh(d, tokens[0]).status, 200)
            for t in tokens[1:]:
                self.assertEqual(refresh(d, t).status, 200)
            stop_clean(d)
        check = sqlite3.connect(db)
        try:
            self.assertEqual(
                check.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        finally:
            check.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
