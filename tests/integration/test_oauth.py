"""OAuth 2.0 on auth_service over real HTTP: the RFC 8414 metadata, the
token endpoint (RFC 6749 3.2, 5.1, 5.2), revocation (RFC 7009),
introspection (RFC 7662) and registration. A temp dir holds the keys, the
database and the config; clients are made with jwt-admin, as an operator
would."""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse

import jwt

import harness

AUDIENCE = "resource_service"


class Env:
    """Keys, config copies, a database path and a config file that
    auth_service and jwt-admin both read."""

    def __init__(self, **settings):
        self.dir = tempfile.mkdtemp(prefix="oauth-test-")
        harness.make_keys(self.path("keys"))
        self.secrets = self.path("secrets.json")
        self.permissions = self.path("permissions.json")
        shutil.copy(harness.source("config", "secrets.json"), self.secrets)
        shutil.copy(harness.source("config", "permissions.json"),
                    self.permissions)
        self.db = self.path("data", "auth.db")
        self.config = self.path("auth.json")
        cfg = {"db": self.db,
               "private_key": self.path("keys", "private_key.pem"),
               "secrets": self.secrets, "permissions": self.permissions,
               "common_passwords": harness.source(
                   "config", "common-passwords.txt"),
               "throttle_user_free": 1000, "throttle_addr_free": 1000}
        cfg.update({k: v for k, v in settings.items() if v is not None})
        with open(self.config, "w", encoding="utf-8") as f:
            json.dump(cfg, f)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def stored(self):
        """Every byte the database holds (test_oauth_pg.py: its rows)."""
        with open(self.db, "rb") as f:
            return f.read()

    def daemon(self, *extra):
        return harness.Daemon("auth_service",
                              ["--config", self.config, *extra])

    def admin(self, *args, check=True):
        r = subprocess.run(
            [harness.binary("jwt-admin"), "--config", self.config, *args],
            capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise AssertionError(f"jwt-admin {args}: {r.stderr}")
        return r

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def stop_clean(d):
    status = d.stop()
    log = d.log()
    assert status == 0, f"exit status {status}: {log[-3000:]}"
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert marker not in log, log[-3000:]


class MetadataTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.addCleanup(self.env.cleanup)

    def test_issuer_follows_the_port_and_tokens_agree(self):
        """Left at its default, the issuer is http://BIND:PORT as
        listened, --port 0 included; the token's iss is the same."""
        with self.env.daemon() as d:
            r = d.request("GET", "/.well-known/oauth-authorization-server")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("Content-Type"), "application/json")
            m = r.json()
            base = f"http://127.0.0.1:{d.port}"
            self.assertEqual(m["issuer"], base)
            self.assertEqual(m["token_endpoint"], base + "/token")
            self.assertEqual(m["jwks_uri"], base + "/.well-known/jwks.json")
            self.assertEqual(m["revocation_endpoint"], base + "/revoke")
            self.assertEqual(m["introspection_endpoint"],
                             base + "/introspect")
            self.assertEqual(m["grant_types_supported"],
                             ["password", "refresh_token",
                              "client_credentials"])
            self.assertIn("client_secret_basic",
                          m["token_endpoint_auth_methods_supported"])
            self.assertIn("client_secret_post",
                          m["token_endpoint_auth_methods_supported"])
            self.assertEqual(m["response_types_supported"], [])
            r = d.request("POST", "/login",
                          {"username": "user1", "password": "password123"})
            self.assertEqual(r.status, 200, r)
            c = jwt.decode(r.json()["access_token"],
                           options={"verify_signature": False})
            self.assertEqual(c["iss"], m["issuer"])
            # The URLs it names answer.
            path = urllib.parse.urlsplit(m["jwks_uri"]).path
            self.assertEqual(d.request("GET", path).status, 200)
            stop_clean(d)

    def test_configured_issuer_builds_every_url(self):
        """Behind a proxy the issuer setting names the public URL."""
        with self.env.daemon("--issuer",
                             "https://auth.example/tenant/") as d:
            m = d.request(
                "GET", "/.well-known/oauth-authorization-server").json()
            self.assertEqual(m["issuer"], "https://auth.example/tenant/")
            self.assertEqual(m["token_endpoint"],
                             "https://auth.example/tenant/token")
            self.assertEqual(m["revocation_endpoint"],
                             "https://auth.example/tenant/revoke")
            stop_clean(d)

    def test_password_grant_off_is_not_advertised(self):
        with self.env.daemon("--allow-password-grant", "false") as d:
            m = d.request(
                "GET", "/.well-known/oauth-authorization-server").json()
            self.assertEqual(m["grant_types_supported"],
                             ["refresh_token", "client_credentials"])
            stop_clean(d)

    def test_bad_issuer_is_a_config_error(self):
        for bad in ("ftp://x", "http://x/?q=1", "http://x/#f", "auth"):
            r = subprocess.run(
                [harness.binary("auth_service"), "--config",
                 self.env.config, "--issuer", bad, "--check-config"],
                capture_output=True, text=True)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))
            self.assertIn("issuer", r.stderr)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def basic(client_id, secret):
    raw = (urllib.parse.quote(client_id, safe="") + ":" +
           urllib.parse.quote(secret, safe="")).encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def post_form(d, path, fields, headers=None):
    body = urllib.parse.urlencode(fields)
    return d.request("POST", path, body, dict(FORM, **(headers or {})))


def secret_of(output):
    for line in output.splitlines():
        if line.startswith("client_secret: "):
            return line.split(": ", 1)[1]
    raise AssertionError(f"no secret printed: {output!r}")


def assert_oauth_error(tc, r, status, error):
    tc.assertEqual(r.status, status, r)
    tc.assertEqual(r.header("Content-Type"), "application/json")
    tc.assertEqual(r.header("Cache-Control"), "no-store")
    body = r.json()
    tc.assertEqual(body["error"], error, body)
    tc.assertIsInstance(body["error_description"], str)
    if status == 401:
        tc.assertEqual(r.header("WWW-Authenticate"),
                       'Basic realm="auth_service"')


class OAuthFixture(unittest.TestCase):
    """One daemon per class; clients made with jwt-admin before it
    starts: conf (confidential, every grant, roles admin), svc
    (client_credentials only, roles user), pub (public), short (public,
    30 s tokens)."""

    @classmethod
    def setUpClass(cls):
        cls.env = Env()
        cls.conf = secret_of(cls.env.admin(
            "clients", "add", "conf", "--grants",
            "password,refresh_token,client_credentials",
            "--roles", "admin").stdout)
        cls.svc = secret_of(cls.env.admin(
            "clients", "add", "svc", "--roles", "user").stdout)
        cls.env.admin("clients", "add", "pub", "--public")
        cls.env.admin("clients", "add", "short", "--public",
                      "--access-ttl", "30")
        cls.d = cls.env.daemon().start()

    @classmethod
    def tearDownClass(cls):
        stop_clean(cls.d)
        cls.env.cleanup()

    def claims(self, token):
        header = jwt.get_unverified_header(token)
        keys = self.d.request("GET", "/.well-known/jwks.json").json()["keys"]
        jwk = next(k for k in keys if k["kid"] == header["kid"])
        return jwt.decode(token, jwt.PyJWK(jwk).key,
                          algorithms=[jwk["alg"]], audience=AUDIENCE,
                          issuer=f"http://127.0.0.1:{self.d.port}")

    def password(self, client="conf", secret=None, scope=None,
                 how="basic", username="admin", pw="adminpassword"):
        fields = {"grant_type": "password", "username": username,
                  "password": pw}
        if scope is not None:
            fields["scope"] = scope
        headers = None
        if client == "conf" and secret is None:
            secret = self.conf
        if secret is not None and how == "basic":
            headers = basic(client, secret)
        else:
            fields["client_id"] = client
            if secret is not None:
                fields["client_secret"] = secret
        return post_form(self.d, "/token", fields, headers)

    def refresh(self, token, client="conf", secret=None, scope=None):
        fields = {"grant_type": "refresh_token", "refresh_token": token}
        if scope is not None:
            fields["scope"] = scope
        if client == "conf" and secret is None:
            secret = self.conf
        headers = basic(client, secret) if secret is not None else None
        if headers is None:
            fields["client_id"] = client
        return post_form(self.d, "/token", fields, headers)


class TokenTest(OAuthFixture):
    def test_password_grant_basic_post_and_public(self):
        for client, how in (("conf", "basic"), ("conf", "post"),
                            ("pub", "post"), ("demo-client", "post")):
            secret = self.conf if client == "conf" else None
            r = self.password(client, secret, how=how)
            self.assertEqual(r.status, 200, (client, how, r))
            self.assertEqual(r.header("Cache-Control"), "no-store")
            body = r.json()
            self.assertEqual(body["token_type"], "Bearer")
            self.assertEqual(body["expires_in"], 900)
            self.assertTrue(body["refresh_token"])
            c = self.claims(body["access_token"])
            self.assertEqual(c["client_id"], client)
            self.assertEqual(c["username"], "admin")
            self.assertEqual(c["scope"], " ".join(c["permissions"]))
            self.assertEqual(body["scope"], c["scope"])

    def test_scope_narrows_and_refresh_keeps_it(self):
        r = self.password(scope="read:data delete:users")
        self.assertEqual(r.status, 200, r)
        c = self.claims(r.json()["access_token"])
        self.assertEqual(c["permissions"], ["read:data", "delete:users"])
        self.assertEqual(c["scope"], "read:data delete:users")
        self.assertEqual(r.json()["scope"], "read:data delete:users")
        # A refresh without scope keeps the granted scope (RFC 6749 6).
        r = self.refresh(r.json()["refresh_token"])
        self.assertEqual(r.status, 200, r)
        c = self.claims(r.json()["access_token"])
        self.assertEqual(c["permissions"], ["read:data", "delete:users"])
        # ... and one with scope narrows it further.
        r = self.refresh(r.json()["refresh_token"], scope="read:data")
        self.assertEqual(r.status, 200, r)
        c = self.claims(r.json()["access_token"])
        self.assertEqual(c["permissions"], ["read:data"])
        self.assertEqual(c["scope"], "read:data")
        # More than the user holds.
        assert_oauth_error(self, self.password(
            username="user1", pw="password123", scope="read:data "
            "delete:users"), 400, "invalid_scope")
        assert_oauth_error(self, self.password(scope="read:data  x"),
                           400, "invalid_scope")

    def test_refresh_is_bound_to_its_client(self):
        rt = self.password().json()["refresh_token"]
        for client, secret in (("pub", None), ("demo-client", None),
                               ("svc", self.svc)):
            r = self.refresh(rt, client, secret)
            if client == "svc":
                assert_oauth_error(self, r, 400, "unauthorized_client")
            else:
                assert_oauth_error(self, r, 400, "invalid_grant")
        # Nothing changed for its own client.
        r = self.refresh(rt)
        self.assertEqual(r.status, 200, r)
        # A JSON /login token is the configured client's: /token takes it
        # from demo-client only.
        r = self.d.request("POST", "/login", {"username": "user1",
                                              "password": "password123"})
        jrt = r.json()["refresh_token"]
        assert_oauth_error(self, self.refresh(jrt), 400, "invalid_grant")
        r = self.refresh(jrt, "demo-client")
        self.assertEqual(r.status, 200, r)
        # ... and /refresh takes demo-client's /token tokens, one family.
        r = self.d.request("POST", "/refresh",
                           {"refresh_token": r.json()["refresh_token"]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(set(r.json()), {"access_token", "refresh_token",
                                         "token_type", "expires_in"})

    def test_reuse_revokes_the_family_as_refresh_does(self):
        rt1 = self.password().json()["refresh_token"]
        rt2 = self.refresh(rt1).json()["refresh_token"]
        assert_oauth_error(self, self.refresh(rt1), 400, "invalid_grant")
        assert_oauth_error(self, self.refresh(rt2), 400, "invalid_grant")
        events = self.d.log_events("refresh_reuse_family_revoked")
        self.assertTrue(events)

    def test_client_credentials(self):
        for headers, fields in (
                (basic("svc", self.svc), {}),
                (None, {"client_id": "svc", "client_secret": self.svc})):
            r = post_form(self.d, "/token",
                          dict(grant_type="client_credentials", **fields),
                          headers)
            self.assertEqual(r.status, 200, r)
            body = r.json()
            self.assertNotIn("refresh_token", body)
            c = self.claims(body["access_token"])
            self.assertEqual(c["sub"], "svc")
            self.assertEqual(c["client_id"], "svc")
            self.assertNotIn("username", c)
            self.assertEqual(c["roles"], ["user"])
            self.assertEqual(c["permissions"], ["read:data"])
        r = post_form(self.d, "/token", {"grant_type": "client_credentials",
                                         "scope": "read:admin_panel"},
                      basic("svc", self.svc))
        assert_oauth_error(self, r, 400, "invalid_scope")

    def test_per_client_lifetime(self):
        r = self.password("short")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["expires_in"], 30)
        c = self.claims(r.json()["access_token"])
        self.assertEqual(c["exp"] - c["iat"], 30)

    def test_rfc6749_errors(self):
        d = self.d
        # invalid_request
        for fields, headers in (
                ({"client_id": "pub"}, None),
                ({"grant_type": "password", "client_id": "pub",
                  "password": "x"}, None),
                ({"grant_type": "refresh_token", "client_id": "pub"}, None),
                ({"grant_type": "client_credentials", "client_id": "svc",
                  "client_secret": self.svc}, basic("svc", self.svc)),
                ({"grant_type": "client_credentials", "client_id": "pub"},
                 basic("svc", self.svc))):
            assert_oauth_error(self, post_form(d, "/token", fields, headers),
                               400, "invalid_request")
        r = d.request("POST", "/token", "grant_type=password&grant_type=x"
                      "&client_id=pub", FORM)
        assert_oauth_error(self, r, 400, "invalid_request")
        r = d.request("POST", "/token", {"grant_type": "client_credentials"})
        assert_oauth_error(self, r, 400, "invalid_request")
        r = d.request("POST", "/token", "grant_type=pass%zzword", FORM)
        assert_oauth_error(self, r, 400, "invalid_request")
        # invalid_client: 401 with a Basic challenge
        cc = {"grant_type": "client_credentials"}
        for fields, headers in (
                (cc, None),
                (cc, basic("svc", "wrong")),
                (cc, basic("nobody", self.svc)),
                (dict(cc, client_id="svc", client_secret="wrong"), None),
                (dict(cc, client_id="svc"), None),
                (dict(cc, client_id="pub", client_secret="x"), None),
                (cc, {"Authorization": "Basic !!!"}),
                (cc, {"Authorization": "Bearer abc"})):
            assert_oauth_error(self, post_form(d, "/token", fields, headers),
                               401, "invalid_client")
        # A wrong secret and an unknown client answer alike.
        a = post_form(d, "/token", cc, basic("svc", "x" * 43))
        b = post_form(d, "/token", cc, basic("nobody", "x" * 43))
        self.assertEqual((a.status, a.body), (b.status, b.body))
        # invalid_grant
        assert_oauth_error(self, self.password(pw="wrong"), 400,
                           "invalid_grant")
        assert_oauth_error(self, self.password(username="nobody"), 400,
                           "invalid_grant")
        assert_oauth_error(self, self.refresh("not-a-token"), 400,
                           "invalid_grant")
        # unauthorized_client
        assert_oauth_error(self, self.password("svc", self.svc), 400,
                           "unauthorized_client")
        assert_oauth_error(self, post_form(
            d, "/token", {"grant_type": "client_credentials",
                          "client_id": "pub"}), 400, "unauthorized_client")
        # unsupported_grant_type
        assert_oauth_error(self, post_form(
            d, "/token", {"grant_type": "authorization_code",
                          "client_id": "pub", "code": "x"}), 400,
            "unsupported_grant_type")
        # invalid_scope
        assert_oauth_error(self, self.password(scope="fly"), 400,
                           "invalid_scope")


class PasswordGrantOffTest(unittest.TestCase):
    def test_off(self):
        env = Env(allow_password_grant=False)
        self.addCleanup(env.cleanup)
        with env.daemon() as d:
            r = post_form(d, "/token", {
                "grant_type": "password", "username": "admin",
                "password": "adminpassword", "client_id": "demo-client"})
            assert_oauth_error(self, r, 400, "unsupported_grant_type")
            # The JSON /login is not the password grant's switch.
            r = d.request("POST", "/login", {"username": "admin",
                                             "password": "adminpassword"})
            self.assertEqual(r.status, 200, r)
            stop_clean(d)


class RevokeIntrospectTest(OAuthFixture):
    def introspect(self, token, headers=None, fields=None):
        return post_form(self.d, "/introspect",
                         dict({"token": token}, **(fields or {})),
                         headers if headers is not None
                         else basic("svc", self.svc))

    def revoke(self, token, client="conf", secret=None, hint=None):
        fields = {"token": token}
        if hint:
            fields["token_type_hint"] = hint
        if client == "conf" and secret is None:
            secret = self.conf
        if secret is None:
            fields["client_id"] = client
            return post_form(self.d, "/revoke", fields)
        return post_form(self.d, "/revoke", fields, basic(client, secret))

    def test_refresh_token_revoked(self):
        body = self.password(scope="read:data").json()
        rt = body["refresh_token"]
        # Only the client a refresh token was issued to learns about it.
        self.assertEqual(self.introspect(rt).json(), {"active": False})
        r = self.introspect(rt, basic("conf", self.conf))
        self.assertEqual(r.status, 200, r)
        info = r.json()
        self.assertEqual(info["active"], True)
        self.assertEqual(info["token_type"], "refresh_token")
        self.assertEqual(info["client_id"], "conf")
        self.assertEqual(info["username"], "admin")
        self.assertEqual(info["scope"], "read:data")
        r = self.revoke(rt, hint="refresh_token")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.introspect(rt, basic("conf", self.conf)).json(),
                         {"active": False})
        assert_oauth_error(self, self.refresh(rt), 400, "invalid_grant")

    def test_refresh_token_introspection_has_every_member(self):
        """RFC 7662 2.2, as for an access token: scope (here everything
        the user holds, no scope having been asked), iat/nbf of this
        generation, aud and iss (this issuer), a jti per generation."""
        before = int(time.time())
        rt = self.password().json()["refresh_token"]
        info = self.introspect(rt, basic("conf", self.conf)).json()
        for member in ("active", "scope", "client_id", "username", "sub",
                       "token_type", "exp", "iat", "nbf", "aud", "iss",
                       "jti"):
            self.assertIn(member, info)
        issuer = self.d.request(
            "GET", "/.well-known/oauth-authorization-server").json()["issuer"]
        self.assertEqual(info["iss"], issuer)
        self.assertEqual(info["aud"], issuer)
        self.assertEqual(sorted(info["scope"].split()),
                         ["delete:users", "read:admin_panel", "read:data",
                          "write:admin_panel"])
        self.assertGreaterEqual(info["iat"], before)
        self.assertEqual(info["nbf"], info["iat"])
        self.assertGreater(info["exp"], info["iat"])
        # The next generation is another token: another jti, and an iat
        # no older than the first one's.
        rt2 = self.refresh(rt).json()["refresh_token"]
        info2 = self.introspect(rt2, basic("conf", self.conf)).json()
        self.assertTrue(info2["active"])
        self.assertNotEqual(info2["jti"], info["jti"])
        self.assertGreaterEqual(info2["iat"], info["iat"])
        self.assertEqual(info2["sub"], info["sub"])
        # The spent one is inactive, and says nothing more.
        self.assertEqual(self.introspect(rt, basic("conf", self.conf)).json(),
                         {"active": False})

    def test_public_client_revokes_its_own(self):
        rt = self.password("pub").json()["refresh_token"]
        # Not another client's: refused, and the token still works.
        assert_oauth_error(self, self.revoke(rt), 400, "unauthorized_client")
        r = self.refresh(rt, "pub")
        self.assertEqual(r.status, 200, r)
        rt = r.json()["refresh_token"]
        self.assertEqual(self.revoke(rt, "pub").status, 200)
        assert_oauth_error(self, self.refresh(rt, "pub"), 400,
                           "invalid_grant")

    def test_access_tokens_are_not_revoked(self):
        at = self.password().json()["access_token"]
        assert_oauth_error(self, self.revoke(at, hint="access_token"), 400,
                           "unsupported_token_type")
        info = self.introspect(at).json()
        self.assertEqual(info["active"], True)
        c = self.claims(at)
        for k in ("scope", "client_id", "username", "sub", "exp", "iat",
                  "nbf", "aud", "iss", "jti"):
            self.assertEqual(info[k], c[k], k)
        self.assertEqual(info["token_type"], "Bearer")

    def test_unknown_tokens(self):
        for token in ("abc", "x" * 300):
            self.assertEqual(self.revoke(token).status, 200)
            self.assertEqual(self.introspect(token).json(),
                             {"active": False})

    def test_inactive_is_only_active_false(self):
        body = self.password().json()
        at, rt1 = body["access_token"], body["refresh_token"]
        rt2 = self.refresh(rt1).json()["refresh_token"]
        # Spent (an older generation) - asked without using it.
        own = basic("conf", self.conf)
        self.assertEqual(self.introspect(rt1, own).json(), {"active": False})
        self.assertEqual(self.introspect(rt2, own).json()["active"], True)
        # Forged: another signature.
        head, payload, sig = at.split(".")
        forged = ".".join((head, payload, sig[:-4] + (
            "AAAA" if not sig.endswith("AAAA") else "BBBB")))
        self.assertEqual(self.introspect(forged).json(), {"active": False})
        # Expired, and issued for another audience: signed with the
        # issuer's own key, refused as the resource service would.
        with open(self.env.path("keys", "private_key.pem"), "rb") as f:
            pem = f.read()
        kid = jwt.get_unverified_header(at)["kid"]
        c = self.claims(at)
        for change in ({"exp": c["iat"] - 100, "nbf": c["iat"] - 200,
                        "iat": c["iat"] - 200}, {"aud": "elsewhere"},
                       {"iss": "http://evil.example"}):
            tok = jwt.encode(dict(c, **change), pem, algorithm="RS256",
                             headers={"kid": kid, "typ": "at+jwt"})
            self.assertEqual(self.introspect(tok).json(), {"active": False},
                             change)
        tok = jwt.encode(c, pem, algorithm="RS256",
                         headers={"kid": kid, "typ": "JWT"})
        self.assertEqual(self.introspect(tok).json(), {"active": False})
        # Its positive control: the same claims, signed the same way.
        tok = jwt.encode(c, pem, algorithm="RS256",
                         headers={"kid": kid, "typ": "at+jwt"})
        self.assertEqual(self.introspect(tok).json()["active"], True)

    def test_introspection_needs_a_confidential_client(self):
        at = self.password().json()["access_token"]
        for headers, fields in (({}, {"client_id": "pub"}),
                                ({}, {}),
                                (basic("svc", "wrong"), {})):
            r = self.introspect(at, headers, fields)
            assert_oauth_error(self, r, 401, "invalid_client")
        r = self.introspect(at, {}, {"client_id": "svc",
                                     "client_secret": self.svc})
        self.assertEqual(r.json()["active"], True)
        r = post_form(self.d, "/introspect", {}, basic("svc", self.svc))
        assert_oauth_error(self, r, 400, "invalid_request")
        r = post_form(self.d, "/revoke", {}, basic("svc", self.svc))
        assert_oauth_error(self, r, 400, "invalid_request")

    def test_removed_client_loses_its_tokens(self):
        out = self.env.admin("clients", "add", "gone", "--grants",
                             "password,refresh_token").stdout
        secret = secret_of(out)
        rt = self.password("gone", secret).json()["refresh_token"]
        out = self.env.admin("clients", "remove", "gone").stdout
        self.assertIn("1 refresh token families revoked", out)
        assert_oauth_error(self, self.refresh(rt, "gone", secret), 401,
                           "invalid_client")
        self.assertEqual(self.introspect(rt, basic("conf", self.conf)).json(),
                         {"active": False})


class ClientsCliTest(unittest.TestCase):
    def setUp(self):
        self.env = Env()
        self.addCleanup(self.env.cleanup)

    def test_add_list_secret_remove(self):
        out = self.env.admin("clients", "add", "a1", "--roles",
                             "admin").stdout
        s1 = secret_of(out)
        self.assertGreaterEqual(len(base64.urlsafe_b64decode(s1 + "=")), 32)
        self.env.admin("clients", "add", "p1", "--public")
        listed = json.loads(self.env.admin("clients", "list",
                                           "--json").stdout)
        by_id = {c["client_id"]: c for c in listed}
        self.assertEqual(by_id["a1"]["type"], "confidential")
        self.assertEqual(by_id["a1"]["roles"], ["admin"])
        self.assertEqual(by_id["p1"]["type"], "public")
        # Stored only as a hash: the secret is nowhere in the database.
        self.assertNotIn(s1.encode(), self.env.stored())
        s2 = secret_of(self.env.admin("clients", "secret", "a1").stdout)
        self.assertNotEqual(s1, s2)
        with self.env.daemon() as d:
            cc = {"grant_type": "client_credentials"}
            assert_oauth_error(self, post_form(d, "/token", cc,
                                               basic("a1", s1)),
                               401, "invalid_client")
            r = post_form(d, "/token", cc, basic("a1", s2))
            self.assertEqual(r.status, 200, r)
            stop_clean(d)
        self.env.admin("clients", "remove", "a1")
        r = self.env.admin("clients", "remove", "a1", check=False)
        self.assertEqual(r.returncode, 1)
        r = self.env.admin("clients", "add", "p1", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("taken", r.stderr)
        for bad in (["add", "x y"], ["add", "c", "--grants", "implicit"],
                    ["add", "c", "--access-ttl", "5"],
                    ["add", "c", "--public", "--grants",
                     "client_credentials"]):
            r = self.env.admin("clients", *bad, check=False)
            self.assertEqual(r.returncode, 2, (bad, r.stderr))


class RegisterTest(unittest.TestCase):
    def test_off_by_default(self):
        env = Env()
        self.addCleanup(env.cleanup)
        with env.daemon() as d:
            r = d.request("POST", "/register", {"username": "new",
                                                "password": "tq8-vmx!zz"})
            self.assertEqual(r.status, 404, r)
            self.assertEqual(r.json()["error"], "not_found")
            stop_clean(d)

    def test_register_policy_login_and_throttle(self):
        env = Env(allow_registration=True, registration_roles=["user"],
                  throttle_addr_free=6, throttle_base_delay=60,
                  throttle_max_delay=60)
        self.addCleanup(env.cleanup)
        with env.daemon() as d:
            reg = lambda u, p: d.request(  # noqa: E731
                "POST", "/register", {"username": u, "password": p})
            # Refused by the policy: short, common (any case), the name.
            for pw in ("sh0rt", "Password", "12345678", "newuser1"):
                r = reg("newuser1", pw)
                self.assertEqual(r.status, 400, (pw, r))
                self.assertEqual(r.json()["error"], "invalid_request")
                self.assertNotIn(pw, r.body.decode())
            # A long passphrase is fine; the user can log in at once,
            # with the configured roles, through /login and /token.
            pw = "correct horse battery staple " * 4
            r = reg("newuser1", pw)
            self.assertEqual(r.status, 201, r)
            self.assertEqual(r.json()["username"], "newuser1")
            self.assertEqual(len(r.json()["sub"]), 36)
            r = d.request("POST", "/login", {"username": "newuser1",
                                             "password": pw})
            self.assertEqual(r.status, 200, r)
            c = jwt.decode(r.json()["access_token"],
                           options={"verify_signature": False})
            self.assertEqual(c["roles"], ["user"])
            r = post_form(d, "/token", {
                "grant_type": "password", "username": "newuser1",
                "password": pw, "client_id": "demo-client"})
            self.assertEqual(r.status, 200, r)
            # Taken: a seeded name too.
            self.assertEqual(reg("newuser1", pw).status, 409)
            self.assertEqual(reg("admin", pw).status, 409)
            # Malformed.
            self.assertEqual(reg("", pw).status, 400)
            self.assertEqual(reg("a\nb", pw).status, 400)
            # Six attempts from this address so far: the next waits.
            r = reg("another", pw)
            self.assertEqual(r.status, 429, r)
            # The throttle counts whole seconds: 59 when the last
            # refusal and this request fall on two sides of a second.
            self.assertIn(r.header("Retry-After"), ("59", "60"))
            # Logins are not slowed by registrations.
            r = d.request("POST", "/login", {"username": "user1",
                                             "password": "password123"})
            self.assertEqual(r.status, 200, r)
            stop_clean(d)

    def test_admin_cli_applies_the_policy(self):
        env = Env()
        self.addCleanup(env.cleanup)
        for pw, rc in (("password1", 1), ("sh0rt", 1), ("Bob-bob-7", 0)):
            r = subprocess.run(
                [harness.binary("jwt-admin"), "--config", env.config,
                 "users", "add", "bob", "--password-stdin"],
                input=pw + "\n", capture_output=True, text=True)
            self.assertEqual(r.returncode, rc, (pw, r.stderr))
            if rc:
                self.assertNotIn(pw, r.stderr)
        r = subprocess.run(
            [harness.binary("jwt-admin"), "--config", env.config,
             "users", "passwd", "bob", "--password-stdin"],
            input="qwertyuiop\n", capture_output=True, text=True)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("common", r.stderr)


class KidTest(unittest.TestCase):
    """Keys under a chosen kid: jwt-keygen --kid and jwt-admin keys
    rotate --kid; tokens carry it, the JWKS publishes it, and a rotation
    keeps the old chosen kid verifying."""

    def setUp(self):
        self.env = Env(public_keys_dir=None)
        self.addCleanup(self.env.cleanup)
        keys = self.env.path("keys")
        shutil.rmtree(keys)
        r = subprocess.run([harness.binary("jwt-keygen"), "--out", keys,
                            "--kid", "2026-a"], capture_output=True,
                           text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("kid: 2026-a", r.stdout)
        with open(self.env.config, encoding="utf-8") as f:
            cfg = json.load(f)
        cfg["public_keys_dir"] = os.path.join(keys, "published")
        with open(self.env.config, "w", encoding="utf-8") as f:
            json.dump(cfg, f)

    def kid_of(self, d):
        r = d.request("POST", "/login", {"username": "user1",
                                         "password": "password123"})
        self.assertEqual(r.status, 200, r)
        return r.json()["access_token"], jwt.get_unverified_header(
            r.json()["access_token"])["kid"]

    def test_chosen_kids_through_a_rotation(self):
        import signal
        with self.env.daemon() as d:
            old, kid = self.kid_of(d)
            self.assertEqual(kid, "2026-a")
            kids = [k["kid"] for k in d.request(
                "GET", "/.well-known/jwks.json").json()["keys"]]
            self.assertEqual(kids, ["2026-a"])
            # Taken kids and bad ones are refused.
            for bad in ("2026-a", "a/b", "-x", "x" * 65, ""):
                r = self.env.admin("keys", "rotate", "--kid", bad,
                                   check=False)
                self.assertNotEqual(r.returncode, 0, bad)
            self.env.admin("keys", "rotate", "--kid", "2026-b")
            d.signal(signal.SIGHUP)
            d.wait_event("reload")
            _, kid = self.kid_of(d)
            self.assertEqual(kid, "2026-b")
            keys = d.request("GET", "/.well-known/jwks.json").json()["keys"]
            self.assertEqual([k["kid"] for k in keys], ["2026-b", "2026-a"])
            # The old token still verifies against the published set.
            key = next(k for k in keys if k["kid"] == "2026-a")
            jwt.decode(old, jwt.PyJWK(key).key, algorithms=[key["alg"]],
                       audience=AUDIENCE,
                       issuer=f"http://127.0.0.1:{d.port}")
            # A new key under a kid already published is refused.
            r = subprocess.run(
                [harness.binary("jwt-keygen"), "--out",
                 self.env.path("keys"), "--kid", "2026-a", "--force"],
                capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("already published", r.stderr)
            # jwt-admin token mint signs under the chosen kid too.
            minted = self.env.admin("token", "mint", "--sub", "x",
                                    "--roles", "user").stdout.strip()
            self.assertEqual(jwt.get_unverified_header(minted)["kid"],
                             "2026-b")
            # ... and token inspect --key reads the kid beside the PEM.
            r = self.env.admin("token", "inspect", minted, "--key",
                               self.env.path("keys", "public_key.pem"),
                               "--iss", "http://127.0.0.1:5000")
            self.assertIn("result: VALID", r.stdout)
            listed = self.env.admin("keys", "list").stdout
            self.assertIn("2026-b", listed)
            self.assertIn("2026-a", listed)
            self.env.admin("keys", "retire", "2026-a")
            self.assertTrue(os.path.exists(self.env.path(
                "keys", "retired", "2026-a.kid")))
            stop_clean(d)


if __name__ == "__main__":
    unittest.main()
