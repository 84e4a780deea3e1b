"""The verifier as a gateway, on the resource service alone (issue 12):
the forward-auth endpoint decides exactly as the routes themselves do
(same rule, same refusals, same challenge), denies what no rule names,
reads the forwarded method and target strictly, escapes the user headers,
answers only trusted peers; the route patterns, permission lists and
public rules over real HTTP; a conflicting table exits 2 with one line.
nginx in front of it: test_nginx.py."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import gateway_util as gw
import harness


def fa_headers(method, uri, token=None, extra=None):
    h = [("X-Original-Method", method), ("X-Original-URI", uri)]
    if token is not None:
        h.append(("Authorization", f"Bearer {token}"))
    return h + list(extra or [])


def non_loopback_address():
    """An address of this host that is not loopback: the peer address a
    connection to it has."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))  # no packet is sent (RFC 5737 net)
        addr = s.getsockname()[0]
    except OSError:  # no route at all: ask for the interfaces' addresses
        addr = "127.0.0.1"
    finally:
        s.close()
    if addr.startswith("127."):
        out = subprocess.run(["hostname", "-I"], capture_output=True,
                             text=True).stdout.split()
        addr = next((a for a in out if "." in a and
                     not a.startswith("127.")), None)
    if addr is None:
        raise AssertionError("this host has no non-loopback IPv4 address "
                             "to test the trusted-peer check with")
    return addr


class Gateway(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gateway-test-")
        cls.keys = gw.Keys(os.path.join(cls.tmp, "keys"))
        cls.routes = gw.write_routes(cls.tmp)
        cls.daemon = harness.Daemon("resource_service", [
            "--public-keys", cls.keys.public_path, "--routes", cls.routes,
            "--workers", "2"]).start()
        cls.user = cls.keys.sign()
        cls.admin = cls.keys.admin()

    @classmethod
    def tearDownClass(cls):
        status = cls.daemon.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert status == 0, cls.daemon.log()[-2000:]

    def auth(self, method, uri, token=None, extra=None, path="/auth"):
        return self.daemon.request("GET", path,
                                   headers=fa_headers(method, uri, token,
                                                      extra))

    def direct(self, method, path, token=None):
        h = {"Authorization": f"Bearer {token}"} if token else {}
        return self.daemon.request(method, path, headers=h)

    def assert_same_refusal(self, method, path, token):
        """The forward-auth answer is the direct route's: status, challenge
        and error body."""
        d = self.direct(method, path, token)
        f = self.auth(method, path, token)
        self.assertIn(d.status, (400, 401, 403), d)
        self.assertEqual(f.status, d.status, (f, d))
        self.assertEqual(f.header_all("WWW-Authenticate"),
                         d.header_all("WWW-Authenticate"))
        self.assertEqual(f.json(), d.json())
        return f

    def test_granted_with_user_headers(self):
        r = self.auth("GET", "/protected", self.user)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("X-Auth-Request-User"), "user1")
        self.assertEqual(r.header("X-Auth-Request-Sub"), "user-1")
        self.assertEqual(r.header("X-Auth-Request-Permissions"), "read:data")
        self.assertEqual(r.header("Cache-Control"), "no-store")
        r = self.auth("DELETE", "/admin/users", self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("X-Auth-Request-User"), "admin")
        self.assertEqual(r.header("X-Auth-Request-Permissions"),
                         " ".join(gw.ADMIN_PERMS))
        # The direct routes agree.
        self.assertEqual(self.direct("GET", "/protected", self.user).status,
                         200)
        self.assertEqual(
            self.direct("DELETE", "/admin/users", self.admin).status, 200)

    def test_refusals_are_the_routes(self):
        # 403 insufficient_scope naming the permission.
        r = self.assert_same_refusal("GET", "/admin", self.user)
        self.assertEqual(r.status, 403)
        self.assertIn('scope="read:admin_panel"',
                      r.header("WWW-Authenticate"))
        self.assertIsNone(r.header("X-Auth-Request-User"))
        r = self.assert_same_refusal("DELETE", "/admin/users", self.user)
        self.assertIn('scope="delete:users"', r.header("WWW-Authenticate"))
        # 401 bare challenge with no token (RFC 6750 3.1).
        r = self.assert_same_refusal("GET", "/protected", None)
        self.assertEqual(r.status, 401)
        self.assertEqual(r.header("WWW-Authenticate"), gw.REALM)
        # 401 invalid_token: expired, tampered.
        expired = self.keys.sign(exp=1000, iat=900, nbf=900)
        r = self.assert_same_refusal("GET", "/protected", expired)
        self.assertIn('error="invalid_token"', r.header("WWW-Authenticate"))
        head, payload, sig = self.user.split(".")
        r = self.assert_same_refusal(
            "GET", "/protected", f"{head}.{payload}.{sig[:-4]}AAAA")
        self.assertEqual(r.status, 401)
        # 400: a malformed bearer.
        r = self.daemon.request("GET", "/auth", headers=fa_headers(
            "GET", "/protected", extra=[("Authorization", "Bearer a b")]))
        self.assertEqual(r.status, 400, r)

    def test_permission_lists_and_public(self):
        # any_of: read:data is enough; all_of needs write:orders too.
        r = self.auth("GET", "/api/orders/7", self.user)
        self.assertEqual(r.status, 200, r)
        r = self.assert_same_refusal("POST", "/api/orders/7", self.user)
        self.assertEqual(r.status, 403)
        self.assertIn('scope="read:data write:orders"',
                      r.header("WWW-Authenticate"))
        both = self.keys.sign(permissions=["read:data", "write:orders"])
        self.assertEqual(self.auth("POST", "/api/orders/7", both).status,
                         200)
        self.assertEqual(self.direct("POST", "/api/orders/7", both).status,
                         200)
        # Public: 200 with no token and no user headers, even with a
        # forged token (none is looked at).
        for token in (None, "forged.token.here"):
            r = self.auth("GET", "/public/a/b", token)
            self.assertEqual(r.status, 200, r)
            self.assertIsNone(r.header("X-Auth-Request-User"))
            d = self.direct("GET", "/public/a/b", token)
            self.assertEqual(d.status, 200, d)
            self.assertIsNone(d.json()["user"])
        # /users/me (public literal) beats /users/{id} (admin only).
        self.assertEqual(self.auth("GET", "/users/me").status, 200)
        self.assertEqual(self.auth("GET", "/users/42", self.user).status,
                         403)
        self.assertEqual(self.auth("GET", "/users/42", self.admin).status,
                         200)
        self.assertEqual(self.direct("GET", "/users/me").status, 200)
        self.assertEqual(self.direct("GET", "/users/42", self.user).status,
                         403)

    def test_direct_patterns_404_405(self):
        r = self.direct("PUT", "/api/orders/7", self.admin)
        self.assertEqual(r.status, 405, r)
        self.assertEqual({m.strip() for m in r.header("Allow").split(",")},
                         {"GET", "HEAD", "POST"})
        self.assertEqual(self.direct("GET", "/api/orders", self.admin).status,
                         404)
        self.assertEqual(self.direct("GET", "/users/", self.admin).status,
                         404)
        r = self.direct("HEAD", "/api/orders/7", self.user)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body, b"")

    def test_deny_by_default(self):
        for method, uri in (("GET", "/nothing"), ("GET", "/"),
                            ("PUT", "/protected"),
                            ("DELETE", "/api/orders/1"),
                            ("PROPFIND", "/protected"),
                            ("TRACE", "/protected"),
                            ("get", "/protected"),
                            ("GET", "/health"), ("GET", "/auth")):
            with self.subTest(method=method, uri=uri):
                r = self.auth(method, uri, self.admin)
                self.assertEqual(r.status, 403, r)
                self.assertEqual(r.json()["error"], "access_denied")
                self.assertIsNone(r.header("X-Auth-Request-User"))
        # HEAD follows the GET rule, as on the routes.
        self.assertEqual(self.auth("HEAD", "/protected", self.user).status,
                         200)

    def test_path_tricks(self):
        """The path is matched raw and only when canonical: no spelling
        reaches a rule another would (the admin token could reach /admin
        itself, so each 403 is the path's doing)."""
        self.assertEqual(self.auth("GET", "/admin", self.admin).status, 200)
        tricks = ["//admin", "/admin/", "/ADMIN", "/%61dmin", "/admin;x=1",
                  "/public/../admin", "/public/%2e%2e/admin",
                  "/public/%2E%2E/admin", "/public/..;/admin",
                  "/public/./x", "/public//x", "/public%2fx",
                  "/public/x%5c..%5cadmin", "/public/%00",
                  "/public/..%3b/admin", "/public/%252e%252e/admin",
                  "http://evil.example/admin#x", "admin", "*",
                  "/public/" + "a" * 1100]
        for uri in tricks:
            with self.subTest(uri=uri[:60]):
                r = self.auth("GET", uri, self.admin)
                self.assertEqual(r.status, 403, r)
                self.assertEqual(r.json()["error"], "access_denied")
        # Positive controls: queries, absolute-form, parameters on a
        # public prefix, long queries.
        for uri in ("/protected?x=/admin", "/protected?" + "q" * 3000,
                    "http://upstream.example/protected",
                    "/public/x;y=1", "/public/%C3%A9"):
            with self.subTest(uri=uri[:60]):
                self.assertEqual(self.auth("GET", uri, self.user).status,
                                 200)

    def test_forwarded_headers(self):
        # Traefik's X-Forwarded-Method / X-Forwarded-Uri.
        r = self.daemon.request("GET", "/auth", headers=[
            ("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/protected"),
            ("Authorization", f"Bearer {self.user}")])
        self.assertEqual(r.status, 200, r)
        # Missing, repeated or disagreeing: 400, never a guess.
        bad = [
            [("X-Original-URI", "/protected")],
            [("X-Original-Method", "GET")],
            [("X-Original-Method", "GET"), ("X-Original-URI", "/protected"),
             ("X-Forwarded-Uri", "/public/x")],
            [("X-Original-Method", "GET"), ("X-Original-URI", "/public/x"),
             ("X-Original-URI", "/public/x")],
            [("X-Original-Method", ""), ("X-Original-URI", "/protected")],
        ]
        for h in bad:
            with self.subTest(headers=h):
                r = self.daemon.request("GET", "/auth", headers=h + [
                    ("Authorization", f"Bearer {self.user}")])
                self.assertEqual(r.status, 400, r)
                self.assertEqual(r.json()["error"], "invalid_request")
        # A token in the forwarded query beside the header: 400 (RFC 6750
        # 3.1), as on the route.
        r = self.auth("GET", "/protected?access_token=x", self.user)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(
            self.direct("GET", "/protected?access_token=x", self.user).status,
            400)
        # Only GET (and HEAD) on the endpoint itself.
        r = self.daemon.request("POST", "/auth", headers=fa_headers(
            "GET", "/protected", self.user))
        self.assertEqual(r.status, 405)

    def test_claims_cannot_inject_headers(self):
        token = self.keys.sign(username="eve\r\nX-Injected: 1",
                               sub="s\u00e9 %41",
                               permissions=["read:data", "a b", "c\nd"])
        r = self.auth("GET", "/protected", token)
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header("X-Injected"))
        self.assertEqual(r.header("X-Auth-Request-User"),
                         "eve%0D%0AX-Injected:%201")
        self.assertEqual(r.header("X-Auth-Request-Sub"), "s%C3%A9%20%2541")
        self.assertEqual(r.header("X-Auth-Request-Permissions"),
                         "read:data a%20b c%0Ad")

    def test_access_log_names_the_target(self):
        self.auth("GET", "/protected?log=1", self.user)
        self.direct("GET", "/protected", self.user)
        self.auth("DELETE", "/admin/users?log=2", self.user)
        deadline = time.monotonic() + 10
        while True:  # lines trail answers by up to access_log_flush_ms
            access = self.daemon.log_events("access")
            targets = {e.get("target") for e in access}
            if ({"GET /protected?log=1", "DELETE /admin/users?log=2"} <=
                    targets and any(e.get("path") != "/auth"
                                    for e in access)) or \
                    time.monotonic() > deadline:
                break
            time.sleep(0.05)
        lines = [e for e in self.daemon.log_events("access")
                 if e.get("path") == "/auth"]
        ok = [e for e in lines if e["target"] == "GET /protected?log=1"]
        self.assertEqual(ok[-1]["status"], 200)
        self.assertEqual(ok[-1]["sub"], "user-1")
        denied = [e for e in lines
                  if e["target"] == "DELETE /admin/users?log=2"]
        self.assertEqual(denied[-1]["status"], 403)
        self.assertEqual(denied[-1]["error"], "insufficient_scope")
        # Other lines carry "target": null.
        direct = [e for e in self.daemon.log_events("access")
                  if e.get("path") != "/auth"]
        self.assertTrue(direct)
        self.assertTrue(all(e["target"] is None for e in direct))


class Settings(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gateway-settings-")
        cls.keys = gw.Keys(os.path.join(cls.tmp, "keys"))
        cls.routes = gw.write_routes(cls.tmp)
        cls.user = cls.keys.sign()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def start(self, *args):
        d = harness.Daemon("resource_service", [
            "--public-keys", self.keys.public_path, "--routes", self.routes,
            "--workers", "1", *args]).start()
        self.addCleanup(d.stop)
        return d

    def test_path_is_configurable(self):
        d = self.start("--forward-auth-path", "/_gateway/check")
        h = fa_headers("GET", "/protected", self.user)
        self.assertEqual(d.request("GET", "/_gateway/check",
                                   headers=h).status, 200)
        self.assertEqual(d.request("GET", "/auth", headers=h).status, 404)
        d = self.start("--forward-auth-path", "")
        self.assertEqual(d.request("GET", "/auth", headers=h).status, 404)

    def test_untrusted_peer(self):
        addr = non_loopback_address()
        h = fa_headers("GET", "/protected", self.user)
        d = self.start("--bind", "0.0.0.0")
        r = harness.request(d.port, "GET", "/auth", headers=h, host=addr)
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json()["error"], "access_denied")
        # Loopback is always trusted; the direct routes stay open to all.
        self.assertEqual(d.request("GET", "/auth", headers=h).status, 200)
        self.assertEqual(harness.request(d.port, "GET", "/protected",
                                         headers=h, host=addr).status, 200)
        d = self.start("--bind", "0.0.0.0", "--forward-auth-peers",
                       f"10.255.255.0/24,{addr}/32")
        r = harness.request(d.port, "GET", "/auth", headers=h, host=addr)
        self.assertEqual(r.status, 200, r)

    def test_bad_settings_exit_2(self):
        cases = [
            (["--forward-auth-path", "auth"], "forward_auth_path"),
            (["--forward-auth-path", "/a/{id}"], "forward_auth_path"),
            (["--forward-auth-path", "/health"], "forward_auth_path"),
            (["--forward-auth-peers", "10.0.0.0/33"], "forward_auth_peers"),
            (["--forward-auth-peers", "gateway.local"], "forward_auth_peers"),
        ]
        for args, field in cases:
            with self.subTest(args=args):
                p = subprocess.run(
                    [harness.binary("resource_service"), "--port", "0",
                     "--public-keys", self.keys.public_path,
                     "--routes", self.routes, *args],
                    capture_output=True, text=True, timeout=30,
                    cwd=harness.SOURCE_DIR)
                self.assertEqual(p.returncode, 2, p.stderr)
                lines = p.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, p.stderr)
                self.assertIn(f": {field}: ", lines[0])

    def test_route_on_the_endpoint_refused(self):
        routes = gw.write_routes(self.tmp, gw.ROUTES + [
            {"method": "GET", "path": "/auth", "public": True}])
        p = subprocess.run(
            [harness.binary("resource_service"), "--port", "0",
             "--public-keys", self.keys.public_path, "--routes", routes],
            capture_output=True, text=True, timeout=30,
                    cwd=harness.SOURCE_DIR)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("[8].path: /auth is a built-in route", p.stderr)
        gw.write_routes(self.tmp)

    def test_conflicts_exit_2_with_one_line(self):
        bad = [
            ([{"method": "GET", "path": "/u/{id}", "permission": "a"},
              {"method": "GET", "path": "/u/{name}", "permission": "b"}],
             "[1].path: GET /u/{name} is already routed by [0] (/u/{id})"),
            ([{"method": "GET", "path": "/o/*", "public": True},
              {"method": "GET", "path": "/o/*", "any_of": ["x"]}],
             "[1].path: GET /o/* is already routed by [0]"),
            ([{"method": "GET", "path": "/a/*/b", "permission": "a"}],
             "[0].path: expected"),
            ([{"method": "GET", "path": "/a", "permission": "a",
               "public": True}], "[0].public: not together with permission"),
            ([{"method": "GET", "path": "/a", "all_of": []}],
             "[0].all_of: expected a list"),
        ]
        for i, (routes, want) in enumerate(bad):
            with self.subTest(want=want):
                d = os.path.join(self.tmp, f"bad{i}")
                os.makedirs(d, exist_ok=True)
                path = gw.write_routes(d, routes)
                p = subprocess.run(
                    [harness.binary("resource_service"), "--port", "0",
                     "--public-keys", self.keys.public_path,
                     "--routes", path], capture_output=True, text=True,
                    timeout=30, cwd=harness.SOURCE_DIR)
                self.assertEqual(p.returncode, 2, p.stderr)
                lines = p.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, p.stderr)
                self.assertIn(f"{path}: {want}", lines[0])

    def test_sighup_new_rules_and_a_conflict(self):
        d = os.path.join(self.tmp, "reload")
        os.makedirs(d, exist_ok=True)
        routes = gw.write_routes(d)
        daemon = harness.Daemon("resource_service", [
            "--public-keys", self.keys.public_path, "--routes", routes,
            "--workers", "2"]).start()
        self.addCleanup(daemon.stop)
        h = fa_headers("GET", "/reports/7", self.user)

        def forward_status():
            return daemon.request("GET", "/auth", headers=h).status

        self.assertEqual(forward_status(), 403)  # no rule yet
        gw.write_routes(d, gw.ROUTES + [
            {"method": "GET", "path": "/reports/{id}",
             "permission": "read:data"}])
        daemon.signal(signal.SIGHUP)
        # Both workers take the new table (each asked several times).
        deadline = time.monotonic() + 20
        while not all(forward_status() == 200 for _ in range(8)):
            self.assertLess(time.monotonic(), deadline, "new rule")
            time.sleep(0.05)
        # A conflicting table is refused and the running one kept.
        gw.write_routes(d, gw.ROUTES + [
            {"method": "GET", "path": "/reports/{id}", "public": True},
            {"method": "GET", "path": "/reports/{n}", "any_of": ["x"]}])
        daemon.signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while "keeping the running routes" not in daemon.log():
            self.assertLess(time.monotonic(), deadline, "reload error")
            time.sleep(0.05)
        self.assertIn("[9].path: GET /reports/{n} is already routed by [8]",
                      daemon.log())
        self.assertTrue(all(forward_status() == 200 for _ in range(8)))

    def test_check_config_reads_the_patterns(self):
        p = subprocess.run(
            [harness.binary("resource_service"), "--check-config",
             "--public-keys", self.keys.public_path, "--routes",
             self.routes], capture_output=True, text=True, timeout=30,
                    cwd=harness.SOURCE_DIR)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f"{len(gw.ROUTES)} route(s)", p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
