"""Integration tests of resource_service (issue 4), end to end over HTTP.

Tokens come from the real auth_service where the issue asks for them, and
otherwise are signed here with python3-jwt (PyJWT) using the test keys, so
expired, not-yet-valid, wrong-issuer, wrong-audience and other-key tokens
need no test hook in the daemon. JWKS mode is exercised against a tiny
JWKS server run by this test (so keys can be added, removed and the issuer
"stopped" at will) and against the real auth_service.
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from jwcrypto import jwk as jwcrypto_jwk

import harness

ISSUER = "http://127.0.0.1:5000"
AUDIENCE = "resource_service"
REALM = 'Bearer realm="resource_service"'


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class KeyPair:
    """An RSA key pair in PEM files, with its RFC 7638 kid."""

    def __init__(self, directory):
        os.makedirs(directory, exist_ok=True)
        self.dir = directory
        self.private_path = os.path.join(directory, "private_key.pem")
        self.public_path = os.path.join(directory, "public_key.pem")
        subprocess.run(
            ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
             "rsa_keygen_bits:2048", "-out", self.private_path],
            check=True, capture_output=True)
        subprocess.run(
            ["openssl", "pkey", "-in", self.private_path, "-pubout", "-out",
             self.public_path], check=True, capture_output=True)
        with open(self.private_path, "rb") as f:
            self.private_pem = f.read()
        # Loaded once: parsing (and checking) an RSA private key costs far
        # more than signing with it.
        self.private_key = serialization.load_pem_private_key(
            self.private_pem, password=None)
        with open(self.public_path, "rb") as f:
            self.public_pem = f.read()
        key = jwcrypto_jwk.JWK.from_pem(self.public_pem)
        self.kid = key.thumbprint()
        self.jwk = dict(key.export_public(as_dict=True), kid=self.kid,
                        alg="RS256", use="sig")

    def sign(self, kid=None, headers=None, **overrides):
        now = int(time.time())
        claims = {
            "iss": ISSUER, "aud": AUDIENCE, "sub": "user-1",
            "username": "user1", "client_id": "demo-client",
            "iat": now, "nbf": now, "exp": now + 900,
            "jti": str(uuid.uuid4()), "roles": ["user"],
            "permissions": ["read:data"], "scope": "read:data",
        }
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        hdr = {"kid": kid or self.kid, "typ": "at+jwt"}
        hdr.update(headers or {})
        return jwt.encode(claims, self.private_key, algorithm="RS256",
                          headers=hdr)


def admin_claims():
    return {"sub": "admin-1", "username": "admin",
            "roles": ["admin", "user"],
            "permissions": ["read:data", "read:admin_panel",
                            "write:admin_panel", "delete:users"],
            "scope": "read:data read:admin_panel write:admin_panel "
                     "delete:users"}


def refusing_port():
    """A socket bound to a loopback port and never listening: connections
    to it are refused, and while the caller holds it no other process can
    take the port (a port merely found free and closed again could be
    taken and answer)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s


def wait_for(predicate, timeout=15, what="condition"):
    """Polls predicate (bounded); returns its last truthy value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class ResourceDaemon(harness.Daemon):
    """resource_service, which must exit 0 on every stop (SIGTERM or
    SIGINT): a crash, or a leak under ASan, fails the test that stops
    it."""

    def stop(self, sig=None, timeout=20):
        first = self.proc is not None and self.proc.returncode is None
        status = super().stop(sig, timeout)
        if first and status != 0:
            raise AssertionError(
                f"resource_service exited {status}: {self.log()[-3000:]}")
        if first and self.log_path is not None:
            os.unlink(self.log_path)  # kept only when the stop failed
            self.log_path = None
        return status

    def log(self):
        if self.log_path is None:
            return ""
        if self.log_file.closed:
            with open(self.log_path, encoding="utf-8",
                      errors="replace") as f:
                return f.read()
        return super().log()


def resource(args, cwd=None, env=None):
    return ResourceDaemon("resource_service", args, cwd=cwd, env=env)


def challenge_of(resp):
    values = resp.header_all("WWW-Authenticate")
    assert len(values) == 1, values
    return values[0]


class JwksServer:
    """A JWKS endpoint this test controls: the keys it publishes, its
    Cache-Control max-age, whether it answers at all, and how often it was
    asked."""

    def __init__(self, keys, max_age=300, host="127.0.0.1"):
        self.keys = list(keys)
        self.max_age = max_age
        self.fetches = 0
        self.hosts = []  # the Host header of each fetch
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with outer.lock:
                    outer.fetches += 1
                    outer.hosts.append(self.headers.get("Host"))
                    body = json.dumps(
                        {"keys": [k.jwk for k in outer.keys]}).encode()
                    max_age = outer.max_age
                if self.path != "/jwks.json":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control",
                                 f"public, max-age={max_age}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server_class = http.server.ThreadingHTTPServer
        if ":" in host:
            class Server6(http.server.ThreadingHTTPServer):
                address_family = socket.AF_INET6
            server_class = Server6
        self.server = server_class((host, 0), Handler)
        self.port = self.server.server_address[1]
        authority = f"[{host}]" if ":" in host else host
        self.authority = f"{authority}:{self.port}"
        self.url = f"http://{self.authority}/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def count(self):
        with self.lock:
            return self.fetches

    def set_keys(self, keys):
        with self.lock:
            self.keys = list(keys)

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="resource-test-")
        cls.key_a = KeyPair(os.path.join(cls.tmp, "a"))
        cls.key_b = KeyPair(os.path.join(cls.tmp, "b"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def get(self, daemon, path, token=None, method="GET", headers=None):
        hdrs = list((headers or {}).items())
        if token is not None:
            hdrs.append(("Authorization", f"Bearer {token}"))
        return daemon.request(method, path, headers=hdrs)

    def assert_invalid_token(self, resp):
        self.assertEqual(resp.status, 401, resp)
        ch = challenge_of(resp)
        self.assertTrue(ch.startswith(REALM + ", "), ch)
        self.assertIn('error="invalid_token"', ch)
        self.assertIn('error_description="', ch)
        self.assertEqual(resp.json()["error"], "invalid_token")


class PemModeTests(Base):
    """Keys from a PEM file; tokens signed here."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.daemon = resource(["--public-keys", cls.key_a.public_path,
                               "--workers", "2"]).start()
        cls.daemon.wait_healthy()

    @classmethod
    def tearDownClass(cls):
        status = cls.daemon.stop()
        super().tearDownClass()
        assert status == 0, f"exit status {status}"

    def test_protected_user(self):
        r = self.get(self.daemon, "/protected", self.key_a.sign())
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(set(body), {"message", "user", "roles",
                                     "permissions", "data"})
        self.assertEqual(body["user"], "user1")
        self.assertEqual(body["roles"], ["user"])
        self.assertEqual(body["permissions"], ["read:data"])
        self.assertEqual(body["data"], [1, 2, 3, 4, 5])
        self.assertEqual(r.header("Content-Type"), "application/json")

    def test_body_escapes_claims(self):
        odd = 'a"b\\c\n\u0001\u007f/\u00e9\U0001F600</script>'
        token = self.key_a.sign(username=odd, roles=['r"1', "\\"],
                                permissions=["read:data", "x\u0000y"])
        r = self.get(self.daemon, "/protected", token)
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual(body["user"], odd)
        self.assertEqual(body["roles"], ['r"1', "\\"])
        self.assertEqual(body["permissions"], ["read:data", "x\u0000y"])
        # Without a username claim the user is the subject.
        r = self.get(self.daemon, "/protected",
                     self.key_a.sign(username=None, sub="only-sub"))
        self.assertEqual(r.json()["user"], "only-sub")

    def test_admin_forbidden_for_user(self):
        r = self.get(self.daemon, "/admin", self.key_a.sign())
        self.assertEqual(r.status, 403, r)
        ch = challenge_of(r)
        self.assertTrue(ch.startswith(REALM + ", "), ch)
        self.assertIn('error="insufficient_scope"', ch)
        self.assertIn('scope="read:admin_panel"', ch)
        body = r.json()
        self.assertEqual(body["error"], "insufficient_scope")
        self.assertIn("read:admin_panel", body["error_description"])

    def test_admin_allowed_for_admin(self):
        token = self.key_a.sign(**admin_claims())
        r = self.get(self.daemon, "/admin", token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["user"], "admin")

    def test_delete_users_by_role(self):
        admin = self.key_a.sign(**admin_claims())
        r = self.get(self.daemon, "/admin/users", admin, method="DELETE")
        self.assertEqual(r.status, 200, r)
        r = self.get(self.daemon, "/admin/users", self.key_a.sign(),
                     method="DELETE")
        self.assertEqual(r.status, 403, r)
        self.assertIn('scope="delete:users"', challenge_of(r))
        # A moderator can read the admin panel but not delete users.
        mod = self.key_a.sign(permissions=["read:data", "read:admin_panel"])
        self.assertEqual(self.get(self.daemon, "/admin", mod).status, 200)
        self.assertEqual(self.get(self.daemon, "/admin/users", mod,
                                  method="DELETE").status, 403)

    def test_no_token(self):
        r = self.get(self.daemon, "/protected")
        self.assertEqual(r.status, 401, r)
        self.assertEqual(challenge_of(r), REALM)
        # Another scheme is no Bearer credential at all (RFC 6750 3.1).
        r = self.get(self.daemon, "/protected",
                     headers={"Authorization": "Basic dXNlcjE6eA=="})
        self.assertEqual(r.status, 401, r)
        self.assertEqual(challenge_of(r), REALM)

    def test_expired_and_not_yet_valid(self):
        now = int(time.time())
        self.assertEqual(self.get(self.daemon, "/protected",
                                  self.key_a.sign(exp=now + 5)).status, 200)
        # Beyond the 30 s leeway.
        expired = self.key_a.sign(iat=now - 1000, nbf=now - 1000,
                                  exp=now - 60)
        r = self.get(self.daemon, "/protected", expired)
        self.assert_invalid_token(r)
        self.assertIn("expired", challenge_of(r))
        early = self.key_a.sign(nbf=now + 600, iat=now)
        self.assert_invalid_token(self.get(self.daemon, "/protected", early))

    def test_tampered_payload(self):
        token = self.key_a.sign()
        self.assertEqual(self.get(self.daemon, "/protected", token).status,
                         200)
        head, payload, sig = token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "==="))
        claims["permissions"] = ["read:data", "read:admin_panel"]
        forged = ".".join([head, b64url(json.dumps(claims).encode()), sig])
        self.assert_invalid_token(self.get(self.daemon, "/admin", forged))
        self.assert_invalid_token(self.get(self.daemon, "/protected",
                                           forged))

    def test_other_key(self):
        # Signed by B, naming B's kid (unknown) or A's kid (forged).
        self.assert_invalid_token(self.get(self.daemon, "/protected",
                                           self.key_b.sign()))
        self.assert_invalid_token(self.get(
            self.daemon, "/protected", self.key_b.sign(kid=self.key_a.kid)))

    def test_wrong_issuer_or_audience(self):
        self.assert_invalid_token(self.get(
            self.daemon, "/protected", self.key_a.sign(iss="http://evil")))
        self.assert_invalid_token(self.get(
            self.daemon, "/protected", self.key_a.sign(aud="other")))
        self.assert_invalid_token(self.get(
            self.daemon, "/protected", self.key_a.sign(aud=["other"])))
        self.assertEqual(self.get(
            self.daemon, "/protected",
            self.key_a.sign(aud=["other", AUDIENCE])).status, 200)

    def test_rfc9068_required_claims(self):
        # RFC 9068 2.2: iat, jti, client_id and sub are REQUIRED.
        for name in ("iat", "jti", "client_id", "sub"):
            with self.subTest(missing=name):
                r = self.get(self.daemon, "/protected",
                             self.key_a.sign(**{name: None}))
                self.assert_invalid_token(r)
        # nbf, username and roles are not (positive control).
        self.assertEqual(self.get(
            self.daemon, "/protected",
            self.key_a.sign(nbf=None, username=None, roles=None)).status,
            200)

    def test_wrong_typ(self):
        self.assert_invalid_token(self.get(
            self.daemon, "/protected",
            self.key_a.sign(headers={"typ": "JWT"})))

    def test_alg_none_and_hmac_confusion(self):
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x",
                  "iat": now, "nbf": now, "exp": now + 600,
                  "permissions": ["read:data"]}
        body = b64url(json.dumps(claims).encode())
        none_head = b64url(json.dumps(
            {"alg": "none", "typ": "at+jwt", "kid": self.key_a.kid}).encode())
        self.assert_invalid_token(self.get(self.daemon, "/protected",
                                           f"{none_head}.{body}."))
        # HS256 keyed with the public key PEM: the classic confusion.
        hs_head = b64url(json.dumps(
            {"alg": "HS256", "typ": "at+jwt", "kid": self.key_a.kid}).encode())
        mac = hmac.new(self.key_a.public_pem, f"{hs_head}.{body}".encode(),
                       hashlib.sha256).digest()
        self.assert_invalid_token(self.get(
            self.daemon, "/protected", f"{hs_head}.{body}.{b64url(mac)}"))

    def test_jku_is_never_followed(self):
        token = self.key_b.sign(
            headers={"jku": "http://127.0.0.1:1/jwks.json"})
        self.assert_invalid_token(self.get(self.daemon, "/protected", token))

    def test_unknown_path_and_method(self):
        token = self.key_a.sign()
        r = self.get(self.daemon, "/nothing", token)
        self.assertEqual(r.status, 404, r)
        r = self.get(self.daemon, "/protected", token, method="POST")
        self.assertEqual(r.status, 405, r)
        allow = [m.strip() for m in r.header("Allow").split(",")]
        self.assertIn("GET", allow)
        self.assertNotIn("POST", allow)
        r = self.get(self.daemon, "/admin/users", token, method="GET")
        self.assertEqual(r.status, 405, r)
        self.assertIn("DELETE", r.header("Allow"))
        # Methods libevent would answer 501 for by itself reach us too.
        for method in ("PUT", "PATCH", "OPTIONS"):
            r = self.get(self.daemon, "/protected", token, method=method)
            self.assertEqual(r.status, 405, (method, r))
        r = self.get(self.daemon, "/health", method="POST")
        self.assertEqual(r.status, 405, r)

    def raw_exchange(self, requests):
        """Sends raw requests on one connection; returns the replies as
        (status, headers dict, body), each framed by its Content-Length:
        a reply without one would make this wait for the timeout."""
        replies = []
        with socket.create_connection(("127.0.0.1", self.daemon.port),
                                      timeout=5) as s:
            buf = b""
            for req in requests:
                s.sendall(req)
                while b"\r\n\r\n" not in buf:
                    chunk = s.recv(65536)
                    self.assertTrue(chunk, f"closed before a reply: {buf!r}")
                    buf += chunk
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode().split("\r\n")
                headers = {}
                for line in lines[1:]:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
                self.assertIn("content-length", headers, head)
                n = int(headers["content-length"])
                if req.startswith(b"HEAD "):
                    n = 0  # the length GET would send; no content
                while len(buf) < n:
                    chunk = s.recv(65536)
                    self.assertTrue(chunk, "closed inside a body")
                    buf += chunk
                replies.append((int(lines[0].split()[1]), headers, buf[:n]))
                buf = buf[n:]
        return replies

    def test_connect_is_framed(self):
        # libevent sends a reply to CONNECT as if a tunnel followed: no
        # Content-Length and the connection kept open. Only a 2xx opens a
        # tunnel (RFC 9110 9.3.6), so these must be framed normally, and
        # the connection must stay usable for the next request.
        token = self.key_a.sign()
        replies = self.raw_exchange([
            b"CONNECT /protected HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + token.encode() + b"\r\n\r\n",
            b"CONNECT /nothing HTTP/1.1\r\nHost: x\r\n\r\n",
            b"CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: x\r\n\r\n",
            b"TRACE /protected HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"])
        (s1, h1, b1), (s2, _, b2), (s3, _, b3), (s4, h4, _), (s5, _, b5) = \
            replies
        self.assertEqual(s1, 405, b1)
        self.assertEqual(h1.get("allow"), "GET, HEAD")
        self.assertEqual(json.loads(b1)["error"], "method_not_allowed")
        self.assertEqual(s2, 404, b2)
        self.assertEqual(json.loads(b2)["error"], "not_found")
        self.assertEqual(s3, 400, b3)
        self.assertEqual(json.loads(b3)["error"], "invalid_request")
        self.assertEqual(s4, 405)
        self.assertEqual(h4.get("allow"), "GET, HEAD")
        self.assertEqual(s5, 200, b5)
        methods = wait_for(lambda: {
            e["method"] for e in self.daemon.log_events("access")
            if e["method"] in ("CONNECT", "TRACE")} == {"CONNECT", "TRACE"},
            what="CONNECT and TRACE named in the access log")
        self.assertTrue(methods)

    def test_framing_libevent_lets_through_is_refused(self):
        # RFC 9112 3.2, 5.1, 6.3: 400 and the connection closed, even for
        # a CORS preflight, which is answered before the routes.
        token = self.key_a.sign()
        auth = b"Authorization: Bearer " + token.encode() + b"\r\n"
        tail = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        ok = self.raw_exchange([b"GET /protected HTTP/1.1\r\nHost: x\r\n" +
                                auth + b"Content-Length: 0\r\n\r\n", tail])
        self.assertEqual([r[0] for r in ok], [200, 200])
        for head in (b"GET /protected HTTP/1.1\r\n" + auth,
                     b"GET /protected HTTP/1.1\r\nHost: a\r\nHost: b\r\n" +
                     auth,
                     b"GET /protected HTTP/1.1\r\nHost: x\r\n" + auth +
                     b"Content-Length: 0\r\nContent-Length: 5\r\n",
                     b"GET /protected HTTP/1.1\r\nHost : x\r\n" + auth,
                     b"OPTIONS /protected HTTP/1.1\r\nHost: x\r\n"
                     b"Origin: http://127.0.0.1:5000\r\n"
                     b"Access-Control-Request-Method: GET\r\n"
                     b"Content-Length: +0\r\n"):
            with self.subTest(head=head[:40]):
                with socket.create_connection(
                        ("127.0.0.1", self.daemon.port), timeout=5) as s:
                    s.sendall(head + b"\r\n" + tail)
                    out = b""
                    while chunk := s.recv(65536):
                        out += chunk
                self.assertTrue(out.startswith(b"HTTP/1.1 400"), out[:60])
                self.assertIn(b'"error":"invalid_request"', out)
                self.assertEqual(out.count(b"HTTP/1.1 "), 1, out)

    def test_head_has_no_body(self):
        # HEAD gets GET's status and Content-Length without the content
        # (RFC 9110 9.3.2): a body would be read as the next response.
        token = self.key_a.sign()
        auth = b"Authorization: Bearer " + token.encode() + b"\r\n"
        replies = self.raw_exchange([
            b"GET /protected HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n",
            b"HEAD /protected HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n",
            b"HEAD /protected HTTP/1.1\r\nHost: x\r\n\r\n",
            b"HEAD /nothing HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"])
        (s1, h1, b1), (s2, h2, _), (s3, _, _), (s4, _, _), (s5, _, b5) = \
            replies
        self.assertEqual((s1, s2, s3, s4, s5), (200, 200, 401, 404, 200))
        self.assertEqual(h2["content-length"], h1["content-length"])
        self.assertEqual(json.loads(b1)["data"], [1, 2, 3, 4, 5])
        self.assertEqual(json.loads(b5)["status"], "ok")

    def test_large_tokens(self):
        # A token as long as the verifier accepts (JWT_MAX_TOKEN_LEN,
        # 8192) fits in the default header limit, and one just beyond it
        # gets the RFC 6750 answer, not libevent's HTML 400.
        pad = 4000
        token = self.key_a.sign(padding="x" * pad)
        while len(token) < 8190:
            pad += max(1, (8192 - len(token)) * 3 // 4)
            token = self.key_a.sign(padding="x" * pad)
        self.assertLessEqual(len(token), 8192)
        r = self.get(self.daemon, "/protected", token)
        self.assertEqual(r.status, 200, r)
        self.assert_invalid_token(
            self.get(self.daemon, "/protected", token + "A" * 2000))
        # Past max_header_size (16384): our JSON 400, not libevent's HTML.
        for size in (20000, 60000):
            r = self.get(self.daemon, "/protected", "A" * size)
            self.assertEqual(r.status, 400, r)
            self.assertEqual(r.header("Content-Type"), "application/json")
            self.assertEqual(r.json()["error"], "invalid_request")

    def test_path_matched_as_received(self):
        admin = self.key_a.sign(**admin_claims())
        for path in ("/%61dmin", "/admin/", "/Admin", "//admin",
                     "/admin/./users", "/protected/../admin"):
            r = self.get(self.daemon, path, admin)
            self.assertEqual(r.status, 404, (path, r))
        # The query string is not part of the path.
        r = self.get(self.daemon, "/protected?x=1", self.key_a.sign())
        self.assertEqual(r.status, 200, r)

    def test_two_authorization_headers(self):
        token = self.key_a.sign()
        r = self.daemon.request("GET", "/protected", headers=[
            ("Authorization", f"Bearer {token}"),
            ("Authorization", f"Bearer {token}")])
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json()["error"], "invalid_request")
        self.assertIn("error=\"invalid_request\"", challenge_of(r))

    def test_query_token(self):
        # RFC 6750 2.3 (URI query) is not supported: a token there alone
        # is no credential at all, and next to the header it is "more
        # than one method", invalid_request (RFC 6750 3.1), not ignored.
        token = self.key_a.sign()
        r = self.get(self.daemon, f"/protected?access_token={token}")
        self.assertEqual(r.status, 401, r)
        self.assertEqual(challenge_of(r), REALM)
        for query in (f"access_token={token}", f"x=1&access_token={token}",
                      "access_token"):
            r = self.get(self.daemon, f"/protected?{query}", token)
            self.assertEqual(r.status, 400, (query, r))
            self.assertIn('error="invalid_request"', challenge_of(r))
        # Positive controls: other parameters, or the name as a value; a
        # prefix of the name, or an empty name, is another parameter.
        for query in ("x=1", "x=access_token", "access_tokens=1",
                      "access=1", "a", "=x", "&&x=1"):
            r = self.get(self.daemon, f"/protected?{query}", token)
            self.assertEqual(r.status, 200, (query, r))

    def test_malformed_bearer(self):
        token = self.key_a.sign()
        for value in (f"Bearer {token} {token}", "Bearer", "Bearer ",
                      f"Bearer  {token},x"):
            r = self.get(self.daemon, "/protected",
                         headers={"Authorization": value})
            self.assertIn(r.status, (400, 401), (value, r))
            self.assertIsNotNone(r.header("WWW-Authenticate"))

    def test_lower_case_scheme(self):
        r = self.get(self.daemon, "/protected", headers={
            "Authorization": f"bearer {self.key_a.sign()}"})
        self.assertEqual(r.status, 200, r)

    def test_head(self):
        r = self.get(self.daemon, "/protected", self.key_a.sign(),
                     method="HEAD")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"")

    def test_health(self):
        r = self.get(self.daemon, "/health")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["status"], "ok")

    def test_cache_hit_still_checks_permission(self):
        token = self.key_a.sign()
        for _ in range(3):
            self.assertEqual(self.get(self.daemon, "/protected",
                                      token).status, 200)
        self.assertEqual(self.get(self.daemon, "/admin", token).status, 403)

    def test_concurrent_clients(self):
        tokens = [self.key_a.sign(sub=f"user-{i}") for i in range(20)]
        results = []

        def client(tok):
            for _ in range(10):
                results.append(self.get(self.daemon, "/protected",
                                        tok).status)

        threads = [threading.Thread(target=client, args=(t,))
                   for t in tokens]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [200] * 200)

    def test_access_log(self):
        token = self.key_a.sign(sub="log-subject")
        self.get(self.daemon, "/protected", token)
        self.get(self.daemon, "/admin", token)
        self.get(self.daemon, "/nothing")

        def mine():  # the lines of two workers, each flushed on its own
            found = [e for e in self.daemon.log_events("access")
                     if e.get("sub") == "log-subject"]
            nothing = [e for e in self.daemon.log_events("access")
                       if e["path"] == "/nothing"]
            return found if len(found) >= 2 and nothing else None

        events = wait_for(mine, what="access log lines")
        ok = [e for e in events if e["path"] == "/protected"][0]
        for field in ("time", "method", "path", "status", "sub",
                      "latency_us", "error"):
            self.assertIn(field, ok)
        self.assertEqual(ok["method"], "GET")
        self.assertEqual(ok["status"], 200)
        self.assertIsNone(ok["error"])
        self.assertIsInstance(ok["latency_us"], int)
        denied = [e for e in events if e["path"] == "/admin"][0]
        self.assertEqual(denied["status"], 403)
        self.assertEqual(denied["error"], "insufficient_scope")
        self.assertTrue(any(e["path"] == "/nothing" and e["status"] == 404
                            for e in self.daemon.log_events("access")))
        # Never the token, nor its signature, anywhere in the log.
        log = self.daemon.log()
        self.assertNotIn(token, log)
        self.assertNotIn(token.split(".")[2], log)


class ExpiryTests(Base):
    """The verified-token cache never serves an expired token."""

    def test_cache_never_serves_expired_token(self):
        with resource(["--public-keys", self.key_a.public_path,
                       "--leeway", "0", "--workers", "1"]) as d:
            d.wait_healthy()
            exp = int(time.time()) + 2
            token = self.key_a.sign(exp=exp)
            for _ in range(5):
                self.assertEqual(self.get(d, "/protected", token).status,
                                 200)
            # The condition is the wall clock itself: wait past exp.
            while time.time() < exp + 0.05:
                time.sleep(0.05)
            r = self.get(d, "/protected", token)
            self.assert_invalid_token(r)
            self.assertIn("expired", challenge_of(r))

    def test_cache_off(self):
        with resource(["--public-keys", self.key_a.public_path,
                       "--token-cache-size", "0"]) as d:
            d.wait_healthy()
            token = self.key_a.sign()
            for _ in range(3):
                self.assertEqual(self.get(d, "/protected", token).status,
                                 200)
            self.assert_invalid_token(self.get(d, "/protected",
                                               self.key_b.sign()))


class ConfigTests(Base):
    def run_daemon(self, *args, env=None):
        return subprocess.run(
            [harness.binary("resource_service"), *args],
            cwd=harness.SOURCE_DIR, capture_output=True, text=True,
            timeout=30, env=dict(os.environ, **(env or {})))

    def test_help(self):
        r = self.run_daemon("--help")
        self.assertEqual(r.returncode, 0)
        for flag in ("--port", "--bind", "--workers", "--jwks-url",
                     "--public-keys", "--token-cache-size", "--routes"):
            self.assertIn(flag, r.stdout)

    def test_check_config(self):
        r = self.run_daemon("--check-config", "--public-keys",
                            self.key_a.public_path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("config ok", r.stdout)

    def test_runs_outside_the_source_tree(self):
        # The default openapi_dir is relative: started elsewhere the
        # daemon serves without it; a directory set on purpose must load.
        routes = harness.source("config", "routes.json")
        with resource(["--public-keys", self.key_a.public_path,
                       "--routes", routes], cwd=self.tmp) as d:
            d.wait_healthy()
            self.assertEqual(d.request("GET", "/openapi.json").status, 404)
            self.assertEqual(
                self.get(d, "/protected", self.key_a.sign()).status, 200)
        r = subprocess.run(
            [harness.binary("resource_service"), "--check-config",
             "--public-keys", self.key_a.public_path, "--routes", routes,
             "--openapi-dir", os.path.join(self.tmp, "none")],
            cwd=self.tmp, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("openapi_dir: ", r.stderr)

    def test_port_in_use_is_refused(self):
        # Each worker's socket shares the port with SO_REUSEPORT; a second
        # daemon must not join them and take half the connections.
        with resource(["--public-keys", self.key_a.public_path]) as d:
            d.wait_healthy()
            r = self.run_daemon("--public-keys", self.key_a.public_path,
                                "--port", str(d.port))
            self.assertNotEqual(r.returncode, 0, r.stderr)
            self.assertIn("Address already in use", r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1,
                             r.stderr)
            self.assertEqual(d.request("GET", "/health").status, 200)

    def test_bad_values_exit_2(self):
        cases = [
            (["--port", "http"], "--port"),
            (["--workers", "-1"], "--workers"),
            (["--leeway", "100000"], "--leeway"),
            (["--no-such-flag", "1"], "--no-such-flag"),
            (["--public-keys", os.path.join(self.tmp, "missing.pem")],
             "missing.pem"),
            (["--jwks-url", "ftp://issuer.example/jwks"], "jwks_url"),
            # Not even a URL: libevent's parser gives up (this crashed).
            (["--jwks-url", "http://["], "jwks_url: not a URL"),
            (["--jwks-url", "http://issuer/jwks#kid"], "jwks_url"),
            (["--jwks-min-age", "100", "--jwks-max-age", "10"],
             "jwks_max_age"),
            (["--routes", os.path.join(self.tmp, "none.json")],
             "none.json"),
            (["--openapi-dir", os.path.join(self.tmp, "no-dir")],
             "openapi_dir: "),
        ]
        for args, named in cases:
            r = self.run_daemon("--check-config", "--public-keys",
                                self.key_a.public_path, *args)
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(named, r.stderr, args)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1,
                             r.stderr)

    def test_bad_files_at_start_are_one_line(self):
        """Without --check-config too: a start that fails on its config
        says so in one line naming the field and the file, and nothing
        else (no log line of a start that never happened)."""
        missing = os.path.join(self.tmp, "missing.pem")
        junk = os.path.join(self.tmp, "junk.pem")
        with open(junk, "w") as f:
            f.write("not a key\n")
        cases = [
            (["--public-keys", missing], ["public_keys: ", "missing.pem"]),
            (["--public-keys", junk], ["public_keys: ", "junk.pem"]),
            (["--public-keys", self.key_a.public_path, "--routes",
              os.path.join(self.tmp, "none.json")],
             ["routes: ", "none.json"]),
        ]
        for args, named in cases:
            with self.subTest(args=args):
                r = self.run_daemon("--port", "0", *args)
                self.assertEqual(r.returncode, 2, r.stderr)
                lines = r.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, r.stderr)
                for text in named:
                    self.assertIn(text, lines[0])
                self.assertEqual(r.stdout, "")

    def test_bad_config_file(self):
        path = os.path.join(self.tmp, "resource.json")
        with open(path, "w") as f:
            json.dump({"leeway": "30s"}, f)
        r = self.run_daemon("--config", path, "--check-config")
        self.assertEqual(r.returncode, 2)
        self.assertIn("resource.json: leeway", r.stderr)
        with open(path, "w") as f:
            json.dump({"leeway": 30, "public_keys":
                       [self.key_a.public_path]}, f)
        r = self.run_daemon("--config", path, "--check-config")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_environment(self):
        r = self.run_daemon("--check-config", env={
            "RESOURCE_PUBLIC_KEYS": self.key_a.public_path})
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.run_daemon("--check-config", env={
            "RESOURCE_PUBLIC_KEYS": self.key_a.public_path,
            "RESOURCE_LEEWAY": "forever"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("RESOURCE_LEEWAY", r.stderr)

    def test_bad_routes_file(self):
        path = os.path.join(self.tmp, "routes-bad.json")
        with open(path, "w") as f:
            json.dump([{"method": "GET", "path": "/x",
                        "permission": "a \"b"}], f)
        r = self.run_daemon("--check-config", "--public-keys",
                            self.key_a.public_path, "--routes", path)
        self.assertEqual(r.returncode, 2)
        self.assertIn("[0].permission", r.stderr)

    def test_sigint_stops_cleanly(self):
        d = resource(["--public-keys", self.key_a.public_path]).start()
        d.wait_healthy()
        self.assertEqual(d.stop(signal.SIGINT), 0)

    def test_one_listening_line_with_many_workers(self):
        d = resource(["--public-keys", self.key_a.public_path,
                      "--workers", "4"]).start()
        try:
            d.wait_healthy()
            token = self.key_a.sign()
            statuses = [self.get(d, "/protected", token).status
                        for _ in range(40)]
            self.assertEqual(statuses, [200] * 40)
        finally:
            self.assertEqual(d.stop(), 0)


class ReloadTests(Base):
    """SIGHUP re-reads routes.json and the key files; a bad file is logged
    and the running configuration kept."""

    def test_sighup(self):
        routes = os.path.join(self.tmp, "routes.json")
        keyfile = os.path.join(self.tmp, "current.pem")
        shutil.copy(harness.source("config", "routes.json"), routes)
        shutil.copy(self.key_a.public_path, keyfile)
        with resource(["--public-keys", keyfile, "--routes", routes,
                       "--workers", "2"]) as d:
            d.wait_healthy()
            a = self.key_a.sign()
            self.assertEqual(self.get(d, "/extra", a).status, 404)
            with open(routes) as f:
                table = json.load(f)
            table.append({"method": "GET", "path": "/extra",
                          "permission": "read:data"})
            with open(routes, "w") as f:
                json.dump(table, f)
            d.signal(signal.SIGHUP)
            # Both workers pick the new table up.
            wait_for(lambda: all(self.get(d, "/extra", a).status == 200
                                 for _ in range(8)), what="new route")
            self.assertEqual(self.get(d, "/extra", a).json()["permission"],
                             "read:data")
            # A bad file: logged, the running routes kept.
            with open(routes, "w") as f:
                f.write("[{\"method\": \"GET\",")
            d.signal(signal.SIGHUP)
            wait_for(lambda: "keeping the running routes" in d.log(),
                     what="reload error logged")
            self.assertEqual(self.get(d, "/extra", a).status, 200)
            # Keys: the file now holds B; A's tokens stop verifying.
            shutil.copy(self.key_b.public_path, keyfile)
            d.signal(signal.SIGHUP)
            b = self.key_b.sign()
            wait_for(lambda: all(self.get(d, "/protected", b).status == 200
                                 for _ in range(8)), what="new key")
            self.assert_invalid_token(self.get(d, "/protected", a))
            # A broken key file keeps B.
            with open(keyfile, "w") as f:
                f.write("not a key\n")
            d.signal(signal.SIGHUP)
            wait_for(lambda: "keeping the running key set" in d.log(),
                     what="key reload error logged")
            self.assertEqual(self.get(d, "/protected", b).status, 200)
            self.assertEqual(d.stop(), 0)

    def test_removed_key_file_is_retired_on_sighup(self):
        """PEM mode: a key file deleted (its key retired) stops verifying
        at the next SIGHUP instead of keeping the old set alive; with no
        file left the running set is kept."""
        a_file = os.path.join(self.tmp, "a.pem")
        b_file = os.path.join(self.tmp, "b.pem")
        shutil.copy(self.key_a.public_path, a_file)
        shutil.copy(self.key_b.public_path, b_file)
        with resource(["--public-keys", f"{a_file},{b_file}",
                       "--workers", "2"]) as d:
            d.wait_healthy()
            a, b = self.key_a.sign(), self.key_b.sign()
            self.assertEqual(self.get(d, "/protected", b).status, 200)
            os.unlink(b_file)
            d.signal(signal.SIGHUP)
            wait_for(lambda: all(self.get(d, "/protected", b).status == 401
                                 for _ in range(8)), what="b retired")
            self.assertIn("no longer verifies", d.log())
            self.assertEqual(self.get(d, "/protected", a).status, 200)
            os.unlink(a_file)
            d.signal(signal.SIGHUP)
            wait_for(lambda: "keeping the running key set" in d.log(),
                     what="empty set refused")
            self.assertEqual(self.get(d, "/protected", a).status, 200)

    def test_rotation_with_two_files(self):
        with resource(["--public-keys",
                       f"{self.key_a.public_path},{self.key_b.public_path}"]
                      ) as d:
            d.wait_healthy()
            self.assertEqual(d.request("GET", "/health").json()["keys"], 2)
            for key in (self.key_a, self.key_b):
                self.assertEqual(self.get(d, "/protected",
                                          key.sign()).status, 200)


class JwksTests(Base):
    """Keys from a JWKS URL served by this test."""

    def start(self, server, *extra):
        d = resource(["--jwks-url", server.url, "--jwks-min-age", "1",
                      "--jwks-max-age", "600", "--jwks-refetch-interval",
                      "2", "--workers", "2", *extra]).start()
        try:
            d.wait_healthy()
        except AssertionError:
            d.stop()
            raise
        return d

    def test_new_key_old_key_and_issuer_down(self):
        server = JwksServer([self.key_a], max_age=600)
        d = self.start(server)
        try:
            a = self.key_a.sign()
            self.assertEqual(self.get(d, "/protected", a).status, 200)
            fetched = server.count()
            # The issuer publishes B; a B token triggers a refetch.
            server.set_keys([self.key_b, self.key_a])
            b = self.key_b.sign()
            wait_for(lambda: self.get(d, "/protected", b).status == 200,
                     what="new key verifies after the refetch")
            self.assertGreater(server.count(), fetched)
            self.assertEqual(self.get(d, "/protected", a).status, 200)
            # Issuer down: the cached keys keep serving, health stays ok.
            server.stop()
            c = KeyPair(os.path.join(self.tmp, "c"))

            def refetch_failed():
                self.assert_invalid_token(self.get(d, "/protected",
                                                   c.sign()))
                return "JWKS fetch from" in d.log()

            wait_for(refetch_failed, what="failed fetch logged")
            for token in (a, b, self.key_a.sign(), self.key_b.sign()):
                self.assertEqual(self.get(d, "/protected", token).status,
                                 200)
            self.assertEqual(self.get(d, "/health").status, 200)
        finally:
            server.stop()
            self.assertEqual(d.stop(), 0)

    def test_forward_auth_waits_for_a_new_kid(self):
        """The forward-auth endpoint holds an unknown kid like a direct
        route: the first request of a freshly published key is granted
        after one refetch, and a kid that refetch did not bring is 401."""
        server = JwksServer([self.key_a], max_age=600)
        d = self.start(server)

        def auth(token):
            return self.get(d, "/auth", token, headers={
                "X-Original-Method": "GET",
                "X-Original-URI": "/protected"})
        try:
            self.assertEqual(auth(self.key_a.sign()).status, 200)
            n = server.count()
            server.set_keys([self.key_b, self.key_a])
            r = auth(self.key_b.sign())
            self.assertEqual(r.status, 200, r)
            self.assertEqual(server.count(), n + 1)
            # Negative control: a kid no refetch brings is refused.
            self.assert_invalid_token(auth(self.key_a.sign(kid="yy" * 20)))
            self.assertEqual(server.count(), n + 2)
            # Each request logged once, the held ones when answered (a
            # line may trail its answer by up to access_log_flush_ms, and
            # the two workers' lines need not come in answer order).

            def logged():
                return [e.get("status") for e in d.log_events("access")
                        if e.get("target") == "GET /protected"]
            wait_for(lambda: len(logged()) >= 3, what="access lines")
            self.assertEqual(sorted(logged()), [200, 200, 401])
        finally:
            server.stop()
            self.assertEqual(d.stop(), 0)

    def test_ipv6_literal_url(self):
        # http://[::1]:port/...: the brackets belong to the URL and the
        # Host header (RFC 3986 3.2.2, RFC 9110 7.2), not to the address
        # connected to.
        # No IPv6 loopback is a failure, not a skip: a skip would pass
        # having tested nothing.
        server = JwksServer([self.key_a], max_age=600, host="::1")
        try:
            d = self.start(server)
            try:
                self.assertEqual(
                    self.get(d, "/protected", self.key_a.sign()).status, 200)
                self.assertEqual(server.hosts[0], server.authority)
            finally:
                self.assertEqual(d.stop(), 0)
        finally:
            server.stop()

    def test_unknown_kid_flood_is_rate_limited(self):
        interval = 3
        server = JwksServer([self.key_a], max_age=600)
        d = self.start(server, "--jwks-refetch-interval", str(interval))
        try:
            self.assertEqual(server.count(), 1)
            # Forty requests with forty random kids at once: each waits
            # for the next refetch instead of a 401 on the spot, and one
            # refetch answers them all.
            results = []

            def junk(kid):
                token = self.key_a.sign(kid=kid)
                results.append(self.get(d, "/protected", token))

            threads = [threading.Thread(
                target=junk, args=(b64url(os.urandom(32)),))
                for _ in range(40)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertEqual(len(results), 40)
            for r in results:
                self.assert_invalid_token(r)
            self.assertEqual(server.count(), 2)
            # A kid that refetch did not bring is refused at once from now
            # on (the negative cache): no refetch, however many times.
            kid = "zz" * 20
            self.assert_invalid_token(self.get(
                d, "/protected", self.key_a.sign(kid=kid)))
            n = server.count()
            for _ in range(20):
                self.assert_invalid_token(self.get(
                    d, "/protected", self.key_a.sign(kid=kid)))
            self.assertEqual(server.count(), n)
            # Positive control: a new kid still refetches, and its key
            # verifies on the first request.
            server.set_keys([self.key_b, self.key_a])
            self.assertEqual(
                self.get(d, "/protected", self.key_b.sign()).status, 200)
            self.assertEqual(server.count(), n + 1)
        finally:
            server.stop()
            d.stop()

    def test_background_refresh_and_retirement(self):
        server = JwksServer([self.key_a, self.key_b], max_age=1)
        d = self.start(server)
        try:
            a = self.key_a.sign()
            self.assertEqual(self.get(d, "/protected", a).status, 200)
            # max-age=1: refetched in the background without any token.
            n = server.count()
            wait_for(lambda: server.count() >= n + 2,
                     what="background refetches")
            # A retired from the JWKS: its tokens stop verifying, cached
            # or not, once the refresh lands.
            server.set_keys([self.key_b])
            wait_for(lambda: self.get(d, "/protected", a).status == 401,
                     what="retired key refused")
            self.assertEqual(self.get(d, "/protected",
                                      self.key_b.sign()).status, 200)
        finally:
            server.stop()
            d.stop()

    def test_new_key_under_an_existing_kid(self):
        # The issuer publishes another key under a kid the verifier
        # already holds (keys may carry a chosen kid). The refreshed set
        # must replace the key, not be taken for "unchanged" because the
        # kids and algorithms match: tokens of the old key stop verifying,
        # cached or not, and the new key's verify (RFC 7517 4.5: the kid
        # names a key, it does not prove it is the same one).
        kid = "shared-kid"

        class Relabeled:
            def __init__(self, key):
                self.jwk = dict(key.jwk, kid=kid)

        server = JwksServer([Relabeled(self.key_a)], max_age=1)
        d = self.start(server)
        try:
            old = self.key_a.sign(kid=kid)
            new = self.key_b.sign(kid=kid)
            self.assertEqual(self.get(d, "/protected", old).status, 200)
            self.assert_invalid_token(self.get(d, "/protected", new))
            server.set_keys([Relabeled(self.key_b)])
            n = server.count()
            # max-age=1: the background refetch brings the new set.
            wait_for(lambda: server.count() >= n + 1,
                     what="background refetch")
            wait_for(lambda: self.get(d, "/protected", new).status == 200,
                     what="the new key under the old kid verifies")
            self.assert_invalid_token(self.get(d, "/protected", old))
            self.assert_invalid_token(
                self.get(d, "/protected", self.key_a.sign(kid=kid)))
        finally:
            server.stop()
            self.assertEqual(d.stop(), 0)

    def test_not_ready_until_first_fetch(self):
        holder = refusing_port()
        self.addCleanup(holder.close)
        url = f"http://127.0.0.1:{holder.getsockname()[1]}/jwks.json"
        d = resource(["--jwks-url", url, "--jwks-min-age", "1"]).start()
        try:
            r = d.request("GET", "/health")
            self.assertEqual(r.status, 503, r)
            r = self.get(d, "/protected", self.key_a.sign())
            self.assertEqual(r.status, 503, r)
            self.assertIsNotNone(r.header("Retry-After"))
        finally:
            self.assertEqual(d.stop(), 0)


class WithAuthServiceTests(Base):
    """Both real daemons: tokens from auth_service's /login."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.auth_dir = os.path.join(cls.tmp, "auth")
        os.makedirs(cls.auth_dir)
        cls.kid1 = harness.make_keys(os.path.join(cls.auth_dir, "k1"))
        cls.kid2 = harness.make_keys(os.path.join(cls.auth_dir, "k2"))

    def auth(self, keydir, extra=(), port=0):
        # --port 0 (a port no other process can hold); only a restart
        # that must come back at the same URL passes the port it had.
        d = harness.Daemon("auth_service", [
            "--port", str(port), "--issuer", ISSUER,
            "--private-key", os.path.join(keydir, "private_key.pem"),
            "--db", os.path.join(self.auth_dir, "auth.db"),
            "--argon2-memlimit-kib", "8", "--argon2-opslimit", "1",
            *extra]).start()
        d.wait_healthy()
        return d

    def login(self, auth, user, password):
        r = auth.request("POST", "/login",
                         {"username": user, "password": password})
        self.assertEqual(r.status, 200, r)
        return r.json()["access_token"]

    def test_pem_mode_demo_flow(self):
        k1 = os.path.join(self.auth_dir, "k1")
        auth = self.auth(k1)
        try:
            res = resource(["--public-keys",
                            os.path.join(k1, "public_key.pem")]).start()
            try:
                user = self.login(auth, "user1", "password123")
                admin = self.login(auth, "admin", "adminpassword")
                r = self.get(res, "/protected", user)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.json()["user"], "user1")
                self.assertEqual(r.json()["data"], [1, 2, 3, 4, 5])
                self.assertIn("read:data", r.json()["permissions"])
                r = self.get(res, "/admin", user)
                self.assertEqual(r.status, 403, r)
                self.assertIn('scope="read:admin_panel"', challenge_of(r))
                self.assertEqual(self.get(res, "/admin", admin).status, 200)
                self.assertEqual(self.get(res, "/admin/users", admin,
                                          method="DELETE").status, 200)
                self.assertEqual(self.get(res, "/admin/users", user,
                                          method="DELETE").status, 403)
                head, payload, sig = user.split(".")
                claims = json.loads(
                    base64.urlsafe_b64decode(payload + "==="))
                claims["permissions"].append("read:admin_panel")
                forged = ".".join(
                    [head, b64url(json.dumps(claims).encode()), sig])
                self.assert_invalid_token(self.get(res, "/admin", forged))
            finally:
                self.assertEqual(res.stop(), 0)
        finally:
            auth.stop()

    def test_jwks_mode_rotation_and_issuer_down(self):
        k1 = os.path.join(self.auth_dir, "k1")
        k2 = os.path.join(self.auth_dir, "k2")
        auth = self.auth(k1)
        port = auth.port
        url = f"http://127.0.0.1:{port}/.well-known/jwks.json"
        res = None
        try:
            res = resource(["--jwks-url", url, "--jwks-min-age", "1",
                            "--jwks-refetch-interval", "1"]).start()
            res.wait_healthy()
            old = self.login(auth, "user1", "password123")
            self.assertEqual(self.get(res, "/protected", old).status, 200)
            # Issuer stopped: the cached keys keep serving.
            auth.stop()
            auth = None
            self.assertEqual(self.get(res, "/protected", old).status, 200)
            self.assertEqual(self.get(res, "/health").status, 200)
            # The issuer comes back with a new signing key, still
            # publishing the old one.
            auth = self.auth(k2, ["--public-keys",
                                  os.path.join(k1, "public_key.pem")],
                             port=port)
            new = self.login(auth, "user1", "password123")
            self.assertNotEqual(jwt.get_unverified_header(new)["kid"],
                                jwt.get_unverified_header(old)["kid"])
            wait_for(lambda: self.get(res, "/protected", new).status == 200,
                     what="token of the new key verifies after refetch")
            self.assertEqual(self.get(res, "/protected", old).status, 200)
        finally:
            if auth is not None:
                auth.stop()
            if res is not None:
                self.assertEqual(res.stop(), 0)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or result.testsRun == 0 else 0)
