"""auth_service end to end: the real daemon on a free port with a temporary
database, keys and config copies, spoken to over HTTP. Tokens are checked
with PyJWT (Debian python3-jwt) against the JWKS the daemon serves."""
import base64
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest

import jwt

import harness

AUDIENCE = "resource_service"
ALL_ADMIN = ["read:data", "read:admin_panel", "write:admin_panel",
             "delete:users"]


class Env:
    """A temp dir with keys, config copies and a database path."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="auth-test-")
        harness.make_keys(os.path.join(self.dir, "keys"))
        self.secrets = self.path("secrets.json")
        self.permissions = self.path("permissions.json")
        shutil.copy(harness.source("config", "secrets.json"), self.secrets)
        shutil.copy(harness.source("config", "permissions.json"),
                    self.permissions)
        self.db = self.path("data", "auth.db")
        self.config = self.path("auth.json")
        # Generous throttling, so that many failures from 127.0.0.1 in
        # one test class do not throttle the next test.
        self.write_json(self.config, {
            "throttle_user_free": 1000, "throttle_addr_free": 1000,
            "log_level": "info"})

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    @staticmethod
    def write_json(path, obj):
        with open(path, "w", encoding="utf-8") as f:
            json.dump(obj, f)

    @staticmethod
    def read_json(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def args(self, *extra):
        return ["--config", self.config, "--db", self.db,
                "--private-key", self.path("keys", "private_key.pem"),
                "--secrets", self.secrets, "--permissions", self.permissions,
                *extra]

    def daemon(self, *extra):
        return harness.Daemon("auth_service", self.args(*extra))

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def stop_clean(d):
    """SIGTERM must end the daemon with status 0 and a log free of
    sanitizer reports (the ASan build runs these tests too)."""
    status = d.stop()
    log = d.log()
    assert status == 0, f"exit status {status}: {log[-3000:]}"
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert marker not in log, log[-3000:]


def login(d, username="user1", password="password123"):
    return d.request("POST", "/login",
                     {"username": username, "password": password})


def refresh(d, token):
    return d.request("POST", "/refresh", {"refresh_token": token})


def issuer_of(d):
    """The issuer left at its default ("") is http://BIND:PORT as
    listened: with --port 0, the port the daemon announced."""
    return f"http://127.0.0.1:{d.port}"


def claims_of(d, token):
    """Verifies token with PyJWT against the daemon's JWKS; iss is the
    derived issuer."""
    header = jwt.get_unverified_header(token)
    keys = d.request("GET", "/.well-known/jwks.json").json()["keys"]
    jwk = next(k for k in keys if k["kid"] == header["kid"])
    key = jwt.PyJWK(jwk)
    return header, jwt.decode(token, key.key, algorithms=[jwk["alg"]],
                              audience=AUDIENCE, issuer=issuer_of(d))


def assert_error(tc, resp, status, error):
    tc.assertEqual(resp.status, status, resp)
    tc.assertEqual(resp.header("Content-Type"), "application/json")
    body = resp.json()
    tc.assertEqual(body["error"], error)
    tc.assertIsInstance(body["error_description"], str)


class LoginTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = Env()
        cls.d = cls.env.daemon().start()

    @classmethod
    def tearDownClass(cls):
        try:
            stop_clean(cls.d)
        finally:
            cls.env.cleanup()

    def test_login_issues_verifiable_tokens(self):
        r = login(self.d)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        body = r.json()
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["expires_in"], 900)
        rt = body["refresh_token"]
        # base64url of version, family, generation and a 256-bit MAC.
        self.assertEqual(len(rt), 76)
        base64.urlsafe_b64decode(rt + "=")
        header, c = claims_of(self.d, body["access_token"])
        self.assertEqual(header["typ"], "at+jwt")
        self.assertEqual(header["alg"], "RS256")
        self.assertEqual(c["username"], "user1")
        self.assertEqual(c["roles"], ["user"])
        self.assertEqual(c["permissions"], ["read:data"])
        self.assertEqual(c["scope"], "read:data")
        self.assertEqual(c["client_id"], "demo-client")
        self.assertEqual(c["exp"] - c["iat"], 900)
        self.assertEqual(c["nbf"], c["iat"])
        self.assertGreaterEqual(len(c["jti"]), 22)
        self.assertRegex(c["sub"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4")
        # The subject is stable across logins; jti is not.
        _, c2 = claims_of(self.d, login(self.d).json()["access_token"])
        self.assertEqual(c2["sub"], c["sub"])
        self.assertNotEqual(c2["jti"], c["jti"])

    def test_admin_permissions_in_file_order(self):
        r = login(self.d, "admin", "adminpassword")
        self.assertEqual(r.status, 200, r)
        _, c = claims_of(self.d, r.json()["access_token"])
        self.assertEqual(c["roles"], ["admin", "user"])
        self.assertEqual(c["permissions"], ALL_ADMIN)
        self.assertEqual(c["scope"], " ".join(ALL_ADMIN))

    def test_wrong_password_and_unknown_user_look_the_same(self):
        wrong = login(self.d, "user1", "password124")
        unknown = login(self.d, "nobody", "password123")
        for r in (wrong, unknown):
            assert_error(self, r, 401, "invalid_credentials")
            self.assertEqual(r.header("WWW-Authenticate"),
                             'Bearer realm="auth_service"')
        self.assertEqual(wrong.body, unknown.body)
        self.assertEqual(login(self.d).status, 200)  # positive control
        events = self.d.log_events("login_failed")
        self.assertTrue(any(e.get("user") == "nobody" for e in events))
        self.assertNotIn("password12", self.d.log())

    def test_embedded_nul_never_shortens_a_password(self):
        r = login(self.d, "user1", "password123\u0000tail")
        assert_error(self, r, 401, "invalid_credentials")
        r = login(self.d, "user1\u0000", "password123")
        assert_error(self, r, 401, "invalid_credentials")
        self.assertEqual(login(self.d).status, 200)

    def test_malformed_bodies(self):
        good = b'{"username":"user1","password":"password123"}'
        bad = [
            good + b" x",                                   # trailing
            good + b"{}",
            b'{"username":"user1",/*c*/"password":"password123"}',
            b'{"username":"user1","password":NaN}',
            b"{'username':'user1','password':'password123'}",
            b'{"username":"us\xff","password":"password123"}',
            b'{"username":"user1","password":"\xc3\x28"}',
            b"[" * 2000 + b"]" * 2000,
            b'{"a":' * 100 + b"1" + b"}" * 100,
            b'{"username":"user1","password":123}',
            b'{"username":["user1"],"password":"password123"}',
            b'{"username":null,"password":"password123"}',
            b'{"username":"user1"}',
            b'{"password":"password123"}',
            b"{}",
            b"",
            b"null",
            b'"user1"',
            b'{"username":"user1","password":"password123",'
            b'"username":"admin"}',                          # duplicate
            b'{"username":"","password":"password123"}',
            b'{"username":"user1","password":""}',
        ]
        for body in bad:
            with self.subTest(body=body[:60]):
                assert_error(self, self.d.request("POST", "/login", body),
                             400, "invalid_request")
        r = self.d.request("POST", "/login", good)
        self.assertEqual(r.status, 200)  # positive control

    def test_huge_body(self):
        body = json.dumps({"username": "user1",
                           "password": "x" * 40000}).encode()
        r = self.d.request("POST", "/login", body)
        self.assertIn(r.status, (400, 413), r)
        self.assertEqual(r.json()["error"], "invalid_request")
        self.assertEqual(self.d.request("GET", "/health").status, 200)

    def test_megabyte_body_is_a_json_413(self):
        """Past max_body but below a megabyte and a bit, the answer is
        ours (JSON), not libevent's HTML page."""
        for size in (100000, 1 << 20):
            with self.subTest(size=size):
                body = json.dumps({"username": "user1",
                                   "password": "x" * size}).encode()
                r = self.d.request("POST", "/login", body)
                assert_error(self, r, 413, "invalid_request")
        self.assertEqual(login(self.d).status, 200)  # positive control

    def test_oversized_headers_are_a_json_400(self):
        """max_headers (8192) bounds the header block with our JSON error,
        not libevent's HTML page; below it, requests pass."""
        for size in (10000, 60000):
            with self.subTest(size=size):
                r = self.d.request("GET", "/health",
                                   headers={"X-Pad": "a" * size})
                assert_error(self, r, 400, "invalid_request")
        r = self.d.request("GET", "/health", headers={"X-Pad": "a" * 7000})
        self.assertEqual(r.status, 200)  # positive control

    def raw(self, data):
        """One raw exchange on a fresh connection, read until it closes."""
        with socket.create_connection(("127.0.0.1", self.d.port),
                                      timeout=10) as s:
            s.sendall(data)
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        return out

    def test_framing_libevent_lets_through_is_refused(self):
        """RFC 9112: a Content-Length that is not 1*DIGIT or differs
        between fields (6.3), no Host or two (3.2), a space before a
        field's colon (5.1): 400, and the connection closes, since a
        proxy may have framed the message otherwise (smuggling)."""
        body = b'{"username":"user1","password":"password123"}'
        n = str(len(body)).encode()

        def login_with(headers):
            return self.raw(b"POST /login HTTP/1.1\r\n" + headers +
                            b"Content-Type: application/json\r\n\r\n" +
                            body + b"GET /health HTTP/1.1\r\nHost: x\r\n"
                            b"Connection: close\r\n\r\n")

        ok = login_with(b"Host: x\r\nContent-Length: " + n + b"\r\n")
        self.assertTrue(ok.startswith(b"HTTP/1.1 200"), ok[:60])
        self.assertEqual(ok.count(b"HTTP/1.1 "), 2)  # and then /health
        for headers in (
                b"Host: x\r\nContent-Length: " + n +
                b"\r\nContent-Length: 5\r\n",
                b"Host: x\r\nContent-Length: +" + n + b"\r\n",
                b"Content-Length: " + n + b"\r\n",
                b"Host: a\r\nHost: b\r\nContent-Length: " + n + b"\r\n",
                b"Host : x\r\nContent-Length: " + n + b"\r\n"):
            with self.subTest(headers=headers):
                out = login_with(headers)
                self.assertTrue(out.startswith(b"HTTP/1.1 400"), out[:60])
                self.assertIn(b'"error":"invalid_request"', out)
                self.assertNotIn(b"access_token", out)
                # Closed after the 400: the rest was never answered.
                self.assertEqual(out.count(b"HTTP/1.1 "), 1, out)
        # HTTP/1.0 needs no Host (RFC 9112 3.2).
        out = self.raw(b"GET /health HTTP/1.0\r\n\r\n")
        self.assertIn(b" 200 ", out.split(b"\r\n")[0])

    def test_head_has_headers_but_no_body(self):
        """RFC 9110 9.3.2: HEAD is GET without content; a body after the
        headers would be read as the next response on the connection."""
        for path, status in (("/health", b"200"),
                             ("/.well-known/jwks.json", b"200"),
                             ("/openapi.json", b"200"),
                             ("/login", b"405"), ("/nothing", b"404")):
            with self.subTest(path=path):
                with socket.create_connection(
                        ("127.0.0.1", self.d.port), timeout=5) as s:
                    s.sendall(f"HEAD {path} HTTP/1.1\r\nHost: x\r\n\r\n"
                              f"GET {path} HTTP/1.1\r\nHost: x\r\n"
                              "Connection: close\r\n\r\n".encode())
                    data = b""
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                head, _, rest = data.partition(b"\r\n\r\n")
                self.assertTrue(head.startswith(b"HTTP/1.1 " + status),
                                head)
                self.assertIn(b"Content-Type: application/json", head)
                # The next thing on the wire is the GET's response.
                self.assertTrue(rest.startswith(b"HTTP/1.1 " + status),
                                rest[:80])
                get_head, _, get_body = rest.partition(b"\r\n\r\n")
                self.assertIsInstance(json.loads(get_body), dict)
                # If HEAD names a length, it is the GET's (RFC 9110 8.6).
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        if path == "/health":  # its body varies a little
                            self.assertGreater(int(line.split(b":")[1]), 0)
                        else:
                            self.assertEqual(int(line.split(b":")[1]),
                                             len(get_body))

    def test_routes_and_methods(self):
        r = self.d.request("GET", "/login")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.header("Allow"), "POST")
        self.assertEqual(self.d.request("GET", "/nope").status, 404)
        self.assertEqual(self.d.request("POST", "/health", b"{}").status,
                         405)

    def test_jwks_and_health(self):
        r = self.d.request("GET", "/.well-known/jwks.json")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Cache-Control"), "public, max-age=300")
        keys = r.json()["keys"]
        self.assertEqual(len(keys), 1)
        self.assertEqual(keys[0]["kty"], "RSA")
        for private in ("d", "p", "q", "dp", "dq", "qi"):
            self.assertNotIn(private, keys[0])
        h = self.d.request("GET", "/health")
        self.assertEqual(h.status, 200)
        self.assertEqual(h.json()["status"], "ok")


class RefreshTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = Env()
        cls.d = cls.env.daemon().start()

    @classmethod
    def tearDownClass(cls):
        try:
            stop_clean(cls.d)
        finally:
            cls.env.cleanup()

    def fresh(self):
        r = login(self.d)
        self.assertEqual(r.status, 200, r)
        return r.json()["refresh_token"]

    def test_rotation(self):
        rt1 = self.fresh()
        r = refresh(self.d, rt1)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        rt2 = r.json()["refresh_token"]
        self.assertNotEqual(rt1, rt2)
        _, c = claims_of(self.d, r.json()["access_token"])
        self.assertEqual(c["username"], "user1")
        r3 = refresh(self.d, rt2)
        self.assertEqual(r3.status, 200)
        ev = self.d.log_events("refresh")
        self.assertTrue(ev and "family_id" in ev[-1])

    def test_reuse_revokes_the_family(self):
        rt1 = self.fresh()
        rt2 = refresh(self.d, rt1).json()["refresh_token"]
        rt3 = refresh(self.d, rt2).json()["refresh_token"]
        assert_error(self, refresh(self.d, rt1), 400, "invalid_grant")
        # The newest token of the family is dead too.
        assert_error(self, refresh(self.d, rt3), 400, "invalid_grant")
        ev = self.d.log_events("refresh_reuse_family_revoked")[-1]
        self.assertEqual(ev["user"], "user1")
        self.assertEqual(ev["client_address"], "127.0.0.1")
        self.assertTrue(ev["family_id"])
        # Nothing secret in the audit trail.
        for line in self.d.log().splitlines():
            for secret in (rt1, rt2, rt3, "password123"):
                self.assertNotIn(secret, line)
        # Another login's family is untouched (positive control).
        self.assertEqual(refresh(self.d, self.fresh()).status, 200)

    def test_concurrent_refreshes_of_one_token(self):
        rt = self.fresh()
        results = []
        barrier = threading.Barrier(8)

        def go():
            barrier.wait()
            results.append(refresh(self.d, rt).status)

        threads = [threading.Thread(target=go) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(results), 8)
        self.assertLessEqual(results.count(200), 1, results)
        self.assertEqual(results.count(200) + results.count(400), 8)

    def test_bad_refresh_requests(self):
        assert_error(self, refresh(self.d, "A" * 43), 400, "invalid_grant")
        # Unknown whatever its length, an access token included: any
        # string is only ever a token this server may not know.
        assert_error(self, refresh(self.d, "A" * 5000), 400, "invalid_grant")
        access = login(self.d).json()["access_token"]
        assert_error(self, refresh(self.d, access), 400, "invalid_grant")
        for body in (b"{}", b'{"refresh_token":1}', b"x",
                     b'{"refresh_token":""}',
                     b'{"refresh_token":"a"} {}', b""):
            assert_error(self, self.d.request("POST", "/refresh", body),
                         400, "invalid_request")
        rt = self.fresh()
        assert_error(self, refresh(self.d, rt + "x"), 400, "invalid_grant")
        assert_error(self, refresh(self.d, rt + "\u0000"), 400,
                     "invalid_grant")
        self.assertEqual(refresh(self.d, rt).status, 200)

    def test_logout(self):
        rt1 = self.fresh()
        rt2 = refresh(self.d, rt1).json()["refresh_token"]
        r = self.d.request("POST", "/logout", {"refresh_token": rt2})
        self.assertIn(r.status, (200, 204))
        assert_error(self, refresh(self.d, rt2), 400, "invalid_grant")
        # Unknown tokens: 200 too (RFC 7009 2.2).
        for unknown in ("A" * 43, "A" * 5000):
            r = self.d.request("POST", "/logout", {"refresh_token": unknown})
            self.assertEqual(r.status, 200)
        assert_error(self, self.d.request("POST", "/logout", b"{}"), 400,
                     "invalid_request")
        self.assertTrue(self.d.log_events("logout"))


class ReloadTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.d = self.env.daemon().start()

    def tearDown(self):
        try:
            stop_clean(self.d)
        finally:
            self.env.cleanup()

    def test_sighup_changes_show_in_the_next_refresh(self):
        rt = login(self.d).json()["refresh_token"]
        perms = self.env.read_json(self.env.permissions)
        perms["roles"]["user"]["permissions"].append("write:notes")
        self.env.write_json(self.env.permissions, perms)
        secrets = self.env.read_json(self.env.secrets)
        secrets["users"]["user1"]["roles"] = ["user", "moderator"]
        secrets["users"]["carol"] = {"password": "carolpass",
                                     "roles": ["user"]}
        self.env.write_json(self.env.secrets, secrets)
        self.d.signal(signal.SIGHUP)
        ev = self.d.wait_event("reload")[-1]
        self.assertEqual((ev["permissions"], ev["users"]), ("ok", "ok"))
        self.assertEqual(ev["created"], 1)
        r = refresh(self.d, rt)
        self.assertEqual(r.status, 200, r)
        _, c = claims_of(self.d, r.json()["access_token"])
        self.assertEqual(c["roles"], ["user", "moderator"])
        self.assertEqual(c["permissions"],
                         ["read:data", "write:notes", "read:admin_panel"])
        self.assertEqual(login(self.d, "carol", "carolpass").status, 200)

    def test_refresh_rereads_changed_permissions_without_sighup(self):
        rt = login(self.d).json()["refresh_token"]
        perms = self.env.read_json(self.env.permissions)
        perms["roles"]["user"]["permissions"] = ["read:data", "read:news"]
        self.env.write_json(self.env.permissions, perms)
        r = refresh(self.d, rt)
        self.assertEqual(r.status, 200, r)
        _, c = claims_of(self.d, r.json()["access_token"])
        self.assertEqual(c["permissions"], ["read:data", "read:news"])
        self.assertEqual(c["scope"], "read:data read:news")
        # A broken file is not taken: the running set stays.
        with open(self.env.permissions, "w") as f:
            f.write('{"roles": ')
        r = refresh(self.d, r.json()["refresh_token"])
        self.assertEqual(r.status, 200, r)
        _, c = claims_of(self.d, r.json()["access_token"])
        self.assertEqual(c["permissions"], ["read:data", "read:news"])

    def test_bad_file_on_reload_keeps_running_config(self):
        rt = login(self.d).json()["refresh_token"]
        with open(self.env.permissions, "w") as f:
            f.write('{"roles": {"user": {"permissions": ["x"]}} trailing')
        with open(self.env.secrets, "w") as f:
            f.write('{"users": {"user1": {}}}')
        self.d.signal(signal.SIGHUP)
        ev = self.d.wait_event("reload")[-1]
        self.assertEqual((ev["permissions"], ev["users"]), ("kept", "kept"))
        r = refresh(self.d, rt)
        self.assertEqual(r.status, 200)
        _, c = claims_of(self.d, r.json()["access_token"])
        self.assertEqual(c["permissions"], ["read:data"])
        self.assertEqual(login(self.d).status, 200)


def check_database(tc, path):
    """integrity_check ok, and every family consistent: one row per login
    whose live token never outlives the family. Returns the families and
    the refreshes they have committed (the sum of their generations)."""
    db = sqlite3.connect(path)
    try:
        tc.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0],
                       "ok")
        tc.assertEqual(db.execute("PRAGMA foreign_key_check").fetchall(),
                       [])
        bad = db.execute(
            "SELECT count(*) FROM families WHERE generation < 0"
            " OR token_expires_at > expires_at").fetchone()[0]
        tc.assertEqual(bad, 0)
        return db.execute("SELECT count(*), coalesce(sum(generation), 0)"
                          " FROM families").fetchone()
    finally:
        db.close()


class PersistenceTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()

    def tearDown(self):
        self.env.cleanup()

    def test_restart_keeps_users_and_families(self):
        with self.env.daemon() as d:
            rt = login(d).json()["refresh_token"]
            rt = refresh(d, rt).json()["refresh_token"]
            stop_clean(d)  # SIGTERM: clean exit, status 0
        with self.env.daemon() as d:
            r = refresh(d, rt)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(login(d, "admin", "adminpassword").status, 200)
            # The seed was not re-imported as new users.
            self.assertIn("0 created", d.log())
            self.assertIn("2 unchanged", d.log())
            stop_clean(d)

    def test_weak_hash_is_upgraded_on_login(self):
        with self.env.daemon("--argon2-opslimit", "1",
                             "--argon2-memlimit-kib", "8192") as d:
            stop_clean(d)
        db = sqlite3.connect(self.env.db)
        try:
            before = db.execute("SELECT password_hash FROM users WHERE"
                                " username = 'user1'").fetchone()[0]
        finally:
            db.close()
        self.assertIn("m=8192,t=1,", before)
        with self.env.daemon() as d:  # default cost: t=2, m=19 MiB
            self.assertEqual(login(d).status, 200)
            stop_clean(d)
        db = sqlite3.connect(self.env.db)
        try:
            after, seed = db.execute(
                "SELECT password_hash, seed_hash FROM users WHERE"
                " username = 'user1'").fetchone()
        finally:
            db.close()
        self.assertIn("m=19456,t=2,p=1$", after)
        # The seed hash follows, so the next start sees the seed entry
        # as unchanged instead of re-importing it.
        self.assertEqual(seed, after)
        with self.env.daemon() as d:
            self.assertEqual(login(d).status, 200)
            self.assertIn("0 password set", d.log())
            stop_clean(d)

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
        # Bounded, and generous for a loaded sanitizer build: the storm
        # must reach 40 refreshes before the kill.
        deadline = time.monotonic() + 60
        while (len(d.log_events("refresh")) < 40
               and time.monotonic() < deadline):
            time.sleep(0.02)
        answered = len(d.log_events("refresh"))
        d.kill9()
        stop.set()
        for t in threads:
            t.join()
        # The storm happened, and every refresh answered 200 was
        # committed first: the database holds at least as many.
        self.assertGreaterEqual(answered, 40)
        families, committed = check_database(self, self.env.db)
        self.assertEqual(families, 4)
        self.assertGreaterEqual(committed, answered)
        with self.env.daemon() as d2:
            self.assertEqual(d2.request("GET", "/health").status, 200)
            self.assertEqual(login(d2).status, 200)
            stop_clean(d2)
        check_database(self, self.env.db)


class HealthTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()

    def tearDown(self):
        self.env.cleanup()

    def test_deleted_database_is_503(self):
        """"SELECT 1" never reads the file: /health must notice that the
        database it writes to is gone."""
        with self.env.daemon() as d:
            self.assertEqual(d.request("GET", "/health").status, 200)
            for suffix in ("", "-wal", "-shm"):
                # The WAL and shm exist only while a connection is open.
                if os.path.exists(self.env.db + suffix):
                    os.unlink(self.env.db + suffix)
            # The health probe (every second, off the loop) notices.
            deadline = time.monotonic() + 10
            r = d.request("GET", "/health")
            while r.status == 200 and time.monotonic() < deadline:
                time.sleep(0.1)
                r = d.request("GET", "/health")
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.header("Content-Type"), "application/json")
            self.assertNotEqual(r.json()["status"], "ok")
            self.assertEqual(r.json()["database"], "error")
            self.assertEqual(d.request("HEAD", "/health").status, 503)
            stop_clean(d)


class ThrottleTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()

    def tearDown(self):
        self.env.cleanup()

    def test_user_throttle_grows_is_capped_and_lets_go(self):
        # The throttle counts whole seconds, so a delay of d lasts between
        # d - 1 and d seconds: 2, so the check right after the third
        # failure cannot find the block already over on a slow machine.
        with self.env.daemon("--throttle-user-free", "2",
                             "--throttle-base-delay", "2",
                             "--throttle-max-delay", "2") as d:
            for _ in range(3):
                assert_error(self, login(d, "user1", "bad"), 401,
                             "invalid_credentials")
            r = login(d)  # even the right password waits
            assert_error(self, r, 429, "too_many_requests")
            wait = int(r.header("Retry-After"))
            self.assertTrue(1 <= wait <= 2, wait)
            # Another user is not held (positive control).
            self.assertEqual(login(d, "admin", "adminpassword").status, 200)
            self.assertTrue(d.log_events("login_throttled"))
            time.sleep(wait + 0.1)  # the delay itself is what is tested
            self.assertEqual(login(d).status, 200)
            stop_clean(d)

    def test_concurrent_guesses_are_throttled_too(self):
        """Failures are known only when a hash ends: once a user has
        failed, attempts still being checked must count, or a burst of
        parallel guesses all get through (here 12 at once against the
        one free failure left)."""
        with self.env.daemon("--throttle-user-free", "2",
                             "--hash-threads", "1") as d:
            self.assertEqual(login(d, "user1", "first-guess").status, 401)
            results = []
            threads = [threading.Thread(target=lambda i=i: results.append(
                login(d, "user1", f"guess{i}"))) for i in range(12)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            codes = sorted(r.status for r in results)
            self.assertLessEqual(codes.count(401), 4, codes)
            self.assertIn(429, codes)
            for r in results:
                if r.status == 429:
                    self.assertGreaterEqual(int(r.header("Retry-After")), 1)
            # Another user is not held (positive control).
            self.assertEqual(login(d, "admin", "adminpassword").status, 200)
            stop_clean(d)

    def test_concurrent_logins_of_one_user_all_pass(self):
        """A user who has not failed is not held: 16 logins at once (16
        devices, a load test) all succeed with the default budget."""
        with self.env.daemon("--hash-threads", "2",
                             "--throttle-user-free", "5",
                             "--throttle-addr-free", "20") as d:
            results = []
            threads = [threading.Thread(target=lambda: results.append(
                login(d).status)) for _ in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(results, [200] * 16)
            stop_clean(d)

    def test_address_throttle(self):
        # A first delay of 10 s (whole seconds: 9 to 10), which the next
        # request cannot outlast however slow the machine.
        with self.env.daemon("--throttle-addr-free", "3",
                             "--throttle-base-delay", "10",
                             "--throttle-max-delay", "30") as d:
            for i in range(4):
                login(d, f"spray{i}", "guess")
            r = login(d, "admin", "adminpassword")
            assert_error(self, r, 429, "too_many_requests")
            self.assertGreaterEqual(int(r.header("Retry-After")), 1)
            stop_clean(d)


class LoadTest(unittest.TestCase):
    """Hashing never blocks the loop; a full queue is 503."""

    def setUp(self):
        self.env = Env()

    def tearDown(self):
        self.env.cleanup()

    def test_jwks_and_health_served_while_logins_hash(self):
        with self.env.daemon("--hash-threads", "1", "--hash-queue",
                             "64") as d:
            t0 = time.monotonic()
            results = []
            threads = [threading.Thread(
                target=lambda: results.append(login(d).status))
                for _ in range(12)]
            for t in threads:
                t.start()
            worst = 0.0
            served = 0
            while any(t.is_alive() for t in threads):
                s = time.monotonic()
                self.assertEqual(
                    d.request("GET", "/.well-known/jwks.json").status, 200)
                self.assertEqual(d.request("GET", "/health").status, 200)
                worst = max(worst, time.monotonic() - s)
                served += 1
            for t in threads:
                t.join()
            total = time.monotonic() - t0
            self.assertEqual(results, [200] * 12)
            self.assertGreater(served, 1)
            # One thread hashes 12 logins one after another; the other
            # requests never wait for that queue.
            self.assertLess(worst, max(total / 3, 0.05), (worst, total))
            # The hashing thread yields to the loop (hash_nice 10).
            nices = []
            for tid in os.listdir(f"/proc/{d.proc.pid}/task"):
                with open(f"/proc/{d.proc.pid}/task/{tid}/stat") as f:
                    stat = f.read()
                nices.append(int(stat.rsplit(")", 1)[1].split()[16]))
            self.assertEqual(nices.count(10), 1, nices)
            self.assertIn(0, nices)
            stop_clean(d)

    def test_full_queue_is_503_with_retry_after(self):
        with self.env.daemon("--hash-threads", "1", "--hash-queue",
                             "1") as d:
            results = []
            threads = [threading.Thread(target=lambda: results.append(
                login(d))) for _ in range(10)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            codes = sorted(r.status for r in results)
            self.assertIn(200, codes)
            self.assertIn(503, codes)
            busy = [r for r in results if r.status == 503]
            self.assertEqual(busy[0].header("Retry-After"), "1")
            self.assertEqual(busy[0].json()["error"],
                             "temporarily_unavailable")
            stop_clean(d)


class KeysTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()

    def tearDown(self):
        self.env.cleanup()

    def test_extra_public_keys_are_published(self):
        old = self.env.path("old")
        harness.make_keys(old)
        own = self.env.path("keys", "public_key.pem")
        with self.env.daemon("--public-keys",
                             f"{old}/public_key.pem,{own}") as d:
            keys = d.request("GET", "/.well-known/jwks.json").json()["keys"]
            self.assertEqual(len(keys), 2)  # the duplicate is listed once
            self.assertEqual(len({k["kid"] for k in keys}), 2)
            header, c = claims_of(d, login(d).json()["access_token"])
            self.assertEqual(header["kid"], keys[0]["kid"])
            stop_clean(d)

    def test_algorithm_follows_the_key(self):
        for alg in ("ES256", "EdDSA"):
            with self.subTest(alg=alg):
                kdir = self.env.path(alg)
                harness.make_keys(kdir, alg)
                with self.env.daemon("--private-key",
                                     f"{kdir}/private_key.pem") as d:
                    header, c = claims_of(
                        d, login(d).json()["access_token"])
                    self.assertEqual(header["alg"], alg)
                    self.assertEqual(c["username"], "user1")
                    stop_clean(d)


class ShutdownTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()

    def tearDown(self):
        self.env.cleanup()

    def test_sigterm_finishes_logins_in_flight(self):
        # All four logins must be in the pool at once before SIGTERM. At
        # the default cost one hash takes ~10 ms, so on a loaded machine
        # the first could finish before the fourth arrived and hash_busy
        # never reach 4 (this failed under a parallel mutation run); at
        # t=8, m=64 MiB each hash takes most of a second, which the four
        # requests never need to arrive.
        d = self.env.daemon("--hash-threads", "1", "--argon2-opslimit", "8",
                            "--argon2-memlimit-kib", "65536").start()
        try:
            results = []
            threads = [threading.Thread(
                target=lambda: results.append(login(d).status))
                for _ in range(4)]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 60
            while d.request("GET", "/health").json()["hash_busy"] < 4:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.005)
            d.signal(signal.SIGTERM)
            for t in threads:
                t.join()
            self.assertEqual(results, [200] * 4)
            self.assertEqual(d.proc.wait(timeout=20), 0)
        finally:
            stop_clean(d)
        # Stopped listening: nobody answers on the port any more.
        with self.assertRaises(OSError):
            d.request("GET", "/health", timeout=2)

    def test_sigint_also_stops_cleanly(self):
        d = self.env.daemon().start()
        self.assertEqual(d.stop(signal.SIGINT), 0)


class ConfigTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()

    def tearDown(self):
        self.env.cleanup()

    def run_cmd(self, *args):
        return subprocess.run([harness.binary("auth_service"), *args],
                              capture_output=True, text=True, timeout=60,
                              cwd=self.env.dir)

    def test_help_and_check_config(self):
        r = self.run_cmd("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--access-ttl", r.stdout)
        r = self.run_cmd(*self.env.args("--check-config"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.exists(self.env.db))

    def test_runs_outside_the_source_tree(self):
        """The demo and OpenAPI defaults are relative paths: started from
        another directory the daemon serves without them; a directory
        named on purpose must exist (one line, status 2, the field)."""
        d = harness.Daemon("auth_service", self.env.args(), cwd=self.env.dir)
        with d:
            self.assertEqual(login(d).status, 200)
            self.assertEqual(d.request("GET", "/demo").status, 404)
            stop_clean(d)
        for field in ("--demo-dir", "--openapi-dir"):
            with self.subTest(field=field):
                # The other page off, so its default warns nothing here.
                other = ("--openapi-dir" if field == "--demo-dir"
                         else "--demo-dir")
                r = self.run_cmd(*self.env.args(
                    field, self.env.path("missing"), other, "",
                    "--port", "0"))
                self.assertEqual(r.returncode, 2, r.stderr)
                lines = r.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, r.stderr)
                self.assertIn(field[2:].replace("-", "_"), lines[0])

    def test_no_more_keys_published_than_a_verifier_reads(self):
        """A JWKS of more than 64 keys is refused by the resource service
        (and by other verifiers' bounds): the issuer must not start with
        one. 63 published keys and the signing key: 64, fine."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        pub = self.env.path("published")
        os.makedirs(pub)
        for i in range(64):
            k = ec.generate_private_key(ec.SECP256R1()).public_key()
            with open(os.path.join(pub, f"k{i:02d}.pem"), "wb") as f:
                f.write(k.public_bytes(
                    serialization.Encoding.PEM,
                    serialization.PublicFormat.SubjectPublicKeyInfo))
        r = self.run_cmd(*self.env.args("--public-keys-dir", pub,
                                        "--check-config"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("at most 64", r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        os.unlink(os.path.join(pub, "k63.pem"))
        r = self.run_cmd(*self.env.args("--public-keys-dir", pub,
                                        "--check-config"))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_private_key_readable_by_others_warns(self):
        args = self.env.args("--check-config")
        key = args[args.index("--private-key") + 1]
        os.chmod(key, 0o640)
        r = self.run_cmd(*args)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("0600 is expected", r.stderr)
        os.chmod(key, 0o600)
        r = self.run_cmd(*args)
        self.assertNotIn("0600 is expected", r.stderr)

    def test_permission_must_be_a_scope_token(self):
        perm = self.env.path("perm.json")
        self.env.write_json(perm, {"roles": {"user": {
            "permissions": ["read data"]}}})
        r = self.run_cmd(*self.env.args("--permissions", perm,
                                        "--check-config"))
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("roles.user.permissions[0]", r.stderr)
        self.env.write_json(perm, {"roles": {"user": {
            "permissions": ["read:data"]}}})
        r = self.run_cmd(*self.env.args("--permissions", perm,
                                        "--check-config"))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_bad_config_is_one_line_and_status_2(self):
        bad = self.env.path("bad.json")
        self.env.write_json(bad, {"access_ttl": "15m"})
        cases = [
            (["--config", bad], "access_ttl"),
            (self.env.args("--port", "70000"), "--port"),
            (self.env.args("--no-such-flag", "1"), "--no-such-flag"),
            (self.env.args("--private-key", self.env.path("none.pem")),
             "private_key"),
            (self.env.args("--refresh-ttl", "3000000"), "refresh_ttl"),
            # Caught as config, not as a failure to listen (status 1,
            # plus libevent's own warning line).
            (self.env.args("--bind", "999.1.1.1"), "bind"),
            (self.env.args("--bind", "999.1.1.1", "--check-config"), "bind"),
            # A missing file names the setting that points at it.
            (self.env.args("--secrets", self.env.path("none.json")),
             "secrets: "),
            (self.env.args("--permissions", self.env.path("none.json")),
             "permissions: "),
        ]
        # Not a key, and readable by others: the error alone, not also
        # the warning about the mode.
        junk = self.env.path("junk.pem")
        with open(junk, "w") as f:
            f.write("not a key\n")
        os.chmod(junk, 0o644)
        cases.append((self.env.args("--private-key", junk), "junk.pem"))
        # A database that cannot be opened is named by its setting too.
        not_db = self.env.path("not-a.db")
        with open(not_db, "w") as f:
            f.write("not a database\n")
        cases.append((self.env.args("--db", not_db), "db: "))
        cases.append((self.env.args("--db", self.env.dir), "db: "))
        for args, field in cases:
            with self.subTest(field=field):
                r = self.run_cmd(*args)
                self.assertEqual(r.returncode, 2, r.stderr)
                lines = r.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, r.stderr)
                self.assertIn(field, lines[0])
        bad_perm = self.env.path("perm.json")
        with open(bad_perm, "w") as f:
            f.write("{'roles': {}}")
        r = self.run_cmd(*self.env.args("--permissions", bad_perm))
        self.assertEqual(r.returncode, 2)
        self.assertIn("perm.json", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
