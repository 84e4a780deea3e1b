"""A real nginx (Debian's package) in front of an upstream, with
auth_request to the resource service's forward-auth endpoint, configured
by deploy/nginx/gateway.conf itself (only its three addresses are changed
to this test's ports): an allowed request reaches the upstream with the
user headers; 401 and 403 come back to the client with the challenge and
never reach the upstream; every path trick is decided as the route table
says. nginx runs in the foreground with its pid, logs and temp files in a
temp directory, on a free loopback port."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import gateway_util as gw
import harness

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render(conf, listen, resource, upstream):
    """deploy/nginx/gateway.conf with this test's three ports; each
    address must be there exactly once, so the test follows the file."""
    for old, new in (("listen 127.0.0.1:8000;", f"listen 127.0.0.1:{listen};"),
                     ("server 127.0.0.1:5001;", f"server 127.0.0.1:{resource};"),
                     ("server 127.0.0.1:8080;", f"server 127.0.0.1:{upstream};")):
        assert conf.count(old) == 1, f"gateway.conf: {old!r} not once"
        conf = conf.replace(old, new)
    return conf


MAIN_CONF = """daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/gateway.conf;
}}
"""


class Nginx:
    def __init__(self, tmp, resource_port, upstream_port):
        self.tmp = tmp
        with open(harness.source("deploy", "nginx", "gateway.conf"),
                  encoding="utf-8") as f:
            self.template = f.read()
        with open(os.path.join(tmp, "nginx.conf"), "w") as f:
            f.write(MAIN_CONF.format(tmp=tmp))
        self.proc = None
        # A port probed free may be taken before nginx binds it: try again.
        for _ in range(3):
            self.port = free_port()
            with open(os.path.join(tmp, "gateway.conf"), "w") as f:
                f.write(render(self.template, self.port, resource_port,
                               upstream_port))
            if self._start():
                return
        raise AssertionError(f"nginx did not start: {self.error_log()}")

    def _start(self):
        if not os.path.exists(NGINX):
            raise AssertionError("nginx is not installed (Debian package "
                                 "nginx, in scripts/common.sh)")
        self.proc = subprocess.Popen(
            [NGINX, "-p", self.tmp, "-c", os.path.join(self.tmp, "nginx.conf"),
             "-e", os.path.join(self.tmp, "error.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return True
            except OSError:
                time.sleep(0.02)
        self.stop()
        return False

    def error_log(self):
        try:
            with open(os.path.join(self.tmp, "error.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful stop
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def echoed(resp):
    """The upstream's echo: {header name lower-case: [values]}."""
    seen = resp.json()
    headers = {}
    for k, v in seen["headers"]:
        headers.setdefault(k.lower(), []).append(v)
    return seen, headers


class BehindNginx(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nginx-test-")
        cls.keys = gw.Keys(os.path.join(cls.tmp, "keys"))
        cls.resource = harness.Daemon("resource_service", [
            "--public-keys", cls.keys.public_path,
            "--routes", gw.write_routes(cls.tmp), "--workers", "1"]).start()
        cls.upstream = gw.EchoUpstream()
        try:
            cls.nginx = Nginx(cls.tmp, cls.resource.port, cls.upstream.port)
        except Exception:
            cls.upstream.stop()
            cls.resource.stop()
            raise
        cls.user = cls.keys.sign()
        cls.admin = cls.keys.admin()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.stop()
        cls.upstream.stop()
        status = cls.resource.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert status == 0, cls.resource.log()[-2000:]

    def setUp(self):
        self.upstream.take()

    def get(self, path, token=None, method="GET", headers=None, body=None):
        h = list(headers or [])
        if token is not None:
            h.append(("Authorization", f"Bearer {token}"))
        return harness.request(self.nginx.port, method, path, body=body,
                               headers=h)

    def assert_refused(self, resp, status):
        self.assertEqual(resp.status, status, (resp, self.nginx.error_log()))
        self.assertEqual(self.upstream.take(), [],
                         "a refused request reached the upstream")

    def test_allowed_reaches_upstream_with_user(self):
        r = self.get("/protected?page=2", self.user)
        self.assertEqual(r.status, 200, (r, self.nginx.error_log()))
        seen, h = echoed(r)
        self.assertEqual(seen["method"], "GET")
        self.assertEqual(seen["target"], "/protected?page=2")
        self.assertEqual(h["x-auth-request-user"], ["user1"])
        self.assertEqual(h["x-auth-request-sub"], ["user-1"])
        self.assertEqual(h["x-auth-request-permissions"], ["read:data"])
        self.assertEqual(h["authorization"], [f"Bearer {self.user}"])
        self.assertEqual(len(self.upstream.take()), 1)
        r = self.get("/admin/users", self.admin, method="DELETE")
        self.assertEqual(r.status, 200, r)
        seen, h = echoed(r)
        self.assertEqual(seen["method"], "DELETE")
        self.assertEqual(h["x-auth-request-user"], ["admin"])
        self.assertEqual(h["x-auth-request-permissions"],
                         [" ".join(gw.ADMIN_PERMS)])

    def test_401_with_challenge(self):
        r = self.get("/protected")
        self.assert_refused(r, 401)
        self.assertEqual(r.header_all("WWW-Authenticate"), [gw.REALM])
        r = self.get("/protected", self.keys.sign(exp=1000, iat=900,
                                                  nbf=900))
        self.assert_refused(r, 401)
        self.assertEqual(len(r.header_all("WWW-Authenticate")), 1)
        self.assertIn('error="invalid_token"', r.header("WWW-Authenticate"))
        self.assertIn(gw.REALM, r.header("WWW-Authenticate"))

    def test_403_with_challenge(self):
        r = self.get("/admin", self.user)
        self.assert_refused(r, 403)
        self.assertEqual(len(r.header_all("WWW-Authenticate")), 1)
        self.assertIn('error="insufficient_scope"',
                      r.header("WWW-Authenticate"))
        self.assertIn('scope="read:admin_panel"',
                      r.header("WWW-Authenticate"))
        r = self.get("/api/orders/7", self.user, method="POST", body=b"{}")
        self.assert_refused(r, 403)
        self.assertIn('scope="read:data write:orders"',
                      r.header("WWW-Authenticate"))
        # Deny by default: no rule, no challenge to give.
        r = self.get("/elsewhere", self.admin)
        self.assert_refused(r, 403)
        self.assertIsNone(r.header("WWW-Authenticate"))

    def test_patterns_and_public(self):
        r = self.get("/api/orders/7/lines", self.user)
        self.assertEqual(r.status, 200, r)
        both = self.keys.sign(permissions=["read:data", "write:orders"])
        r = self.get("/api/orders/7", both, method="POST", body=b'{"n":1}')
        self.assertEqual(r.status, 200, r)
        self.assertEqual(echoed(r)[0]["method"], "POST")
        self.assertEqual(self.get("/users/42", self.user).status, 403)
        self.assertEqual(self.get("/users/42", self.admin).status, 200)
        # Public: no token needed, and no user header reaches the
        # upstream, not even one the client sent itself.
        r = self.get("/users/me", headers=[("X-Auth-Request-User", "admin"),
                                           ("X-Auth-Request-Permissions",
                                            "delete:users")])
        self.assertEqual(r.status, 200, r)
        _, h = echoed(r)
        self.assertNotIn("x-auth-request-user", h)
        self.assertNotIn("x-auth-request-permissions", h)
        r = self.get("/public/x;y=1")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(echoed(r)[0]["target"], "/public/x;y=1")

    def test_client_cannot_speak_for_nginx(self):
        # A spoofed user header is replaced by the decision's.
        r = self.get("/protected", self.user,
                     headers=[("X-Auth-Request-User", "admin")])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(echoed(r)[1]["x-auth-request-user"], ["user1"])
        self.upstream.take()
        # A spoofed forwarded target cannot turn /admin into a public path.
        r = self.get("/admin", headers=[("X-Forwarded-Uri", "/public/x"),
                                        ("X-Forwarded-Method", "GET"),
                                        ("X-Original-URI", "/public/x")])
        self.assert_refused(r, 401)

    def test_claims_escaped_on_the_way_up(self):
        token = self.keys.sign(username="eve\r\nX-Injected: 1",
                               permissions=["read:data", "a b"])
        r = self.get("/protected", token)
        self.assertEqual(r.status, 200, r)
        _, h = echoed(r)
        self.assertNotIn("x-injected", h)
        self.assertEqual(h["x-auth-request-user"],
                         ["eve%0D%0AX-Injected:%201"])
        self.assertEqual(h["x-auth-request-permissions"], ["read:data a%20b"])

    def test_path_tricks(self):
        """nginx normalises all of these to /admin (or under /public) for
        its own routing, but decides on $request_uri, and no rule names any
        of them: 403 even with the admin token, and the upstream sees
        nothing."""
        self.assertEqual(self.get("/admin", self.admin).status, 200)
        self.upstream.take()
        for path in ("/public/%2e%2e/admin", "/public/%2E%2E/admin",
                     "/public/../admin", "/public/x/../../admin",
                     "/public/..;/admin", "//admin", "/admin/", "/ADMIN",
                     "/%61dmin", "/admin;x=1", "/admin%3bx=1",
                     "/public%2f..%2fadmin", "/public/.%2e/admin",
                     "/public/..%3b/admin", "/public/%252e%252e/admin"):
            for token in (self.admin, None):
                with self.subTest(path=path, token=token is not None):
                    r = self.get(path, token)
                    self.assert_refused(r, 403)
        # A very long URI: a path over the verifier's limit is denied even
        # under the public prefix; a long query is fine; past nginx's own
        # header buffers nginx refuses the line itself.
        self.assert_refused(self.get("/public/" + "a" * 1100), 403)
        r = self.get("/protected?q=" + "a" * 3000, self.user)
        self.assertEqual(r.status, 200, r)
        self.upstream.take()
        self.assert_refused(self.get("/public/" + "a" * 9000), 414)

    def test_head(self):
        r = self.get("/protected", self.user, method="HEAD")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.upstream.take()[0]["method"], "HEAD")
        self.assert_refused(self.get("/admin", self.user, method="HEAD"), 403)


if __name__ == "__main__":
    unittest.main(verbosity=2)
