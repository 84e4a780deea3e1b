"""Interop: a real OAuth 2.0 client library, Debian's python3-authlib,
drives auth_service as an application would, configured only with the
issuer URL, a client id and a secret: discovery (RFC 8414), the password
and client_credentials grants with client_secret_basic and
client_secret_post, refresh (asked for, and automatic when the access
token has expired), revocation (RFC 7009) and introspection (RFC 7662).
The access tokens it gets are accepted by the resource service (which
follows the issuer's JWKS) and verify with python3-jwt and
python3-jwcrypto."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
import jwt
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from jwcrypto import jwk as jc_jwk
from jwcrypto import jwt as jc_jwt

AUDIENCE = "resource_service"


class AuthlibTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="authlib-test-")
        harness.make_keys(os.path.join(cls.dir, "keys"))
        cls.config = os.path.join(cls.dir, "auth.json")
        with open(cls.config, "w", encoding="utf-8") as f:
            json.dump({
                "db": os.path.join(cls.dir, "auth.db"),
                "private_key": os.path.join(cls.dir, "keys",
                                            "private_key.pem"),
                "secrets": harness.source("config", "secrets.json"),
                "permissions": harness.source("config",
                                              "permissions.json"),
                "demo_dir": "", "openapi_dir": ""}, f)
        cls.secret = cls.client("add", "app", "--grants",
                                "password,refresh_token,client_credentials",
                                "--roles", "user")
        cls.auth = harness.Daemon("auth_service",
                                  ["--config", cls.config]).start()
        # Configured with nothing but the issuer URL from here on.
        cls.issuer = f"http://127.0.0.1:{cls.auth.port}"
        cls.resource = harness.Daemon("resource_service", [
            "--jwks-url", cls.issuer + "/.well-known/jwks.json",
            "--issuer", cls.issuer, "--audience", AUDIENCE,
            "--routes", harness.source("config", "routes.json"),
            "--openapi-dir", "", "--cors-origin", ""]).start()

    @classmethod
    def tearDownClass(cls):
        for d in (cls.resource, cls.auth):
            status = d.stop()
            assert status == 0, d.log()[-2000:]
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def client(cls, *args):
        out = subprocess.run(
            [harness.binary("jwt-admin"), "--config", cls.config,
             "clients", *args],
            check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("client_secret: "):
                return line.split(": ", 1)[1]
        return None

    def metadata(self):
        r = requests.get(
            self.issuer + "/.well-known/oauth-authorization-server",
            timeout=10)
        self.assertEqual(r.status_code, 200)
        meta = AuthorizationServerMetadata(r.json())
        # authlib's own RFC 8414 checks, member by member. Waived: its
        # demand for https (this test speaks http on loopback), and its
        # reading of an empty response_types_supported as missing: there
        # is no authorization endpoint, so the list is present and empty.
        self.assertEqual(meta["response_types_supported"], [])
        for key in meta.REGISTRY_KEYS:
            if key == "response_types_supported":
                continue
            try:
                getattr(meta, "validate_" + key)()
            except ValueError as exc:
                self.assertIn('MUST use "https"', str(exc), key)
        self.assertEqual(meta["issuer"], self.issuer)
        return meta

    def session(self, method="client_secret_basic", **kw):
        meta = self.metadata()
        self.assertIn(method, meta["token_endpoint_auth_methods_supported"])
        return meta, OAuth2Session(
            "app", self.secret, token_endpoint_auth_method=method,
            token_endpoint=meta["token_endpoint"], **kw)

    def assert_verifies_everywhere(self, access_token, sub=None):
        # The resource service accepts it.
        r = requests.get(f"http://127.0.0.1:{self.resource.port}/protected",
                         headers={"Authorization": "Bearer " + access_token},
                         timeout=10)
        self.assertEqual(r.status_code, 200, r.text)
        # PyJWT and jwcrypto, from the JWKS the metadata names.
        jwks = requests.get(self.metadata()["jwks_uri"], timeout=10).json()
        kid = jwt.get_unverified_header(access_token)["kid"]
        key = next(k for k in jwks["keys"] if k["kid"] == kid)
        claims = jwt.decode(access_token, jwt.PyJWK(key).key,
                            algorithms=[key["alg"]], audience=AUDIENCE,
                            issuer=self.issuer)
        t = jc_jwt.JWT(jwt=access_token,
                       key=jc_jwk.JWKSet.from_json(json.dumps(jwks)),
                       check_claims={"iss": self.issuer, "aud": AUDIENCE})
        self.assertEqual(json.loads(t.claims)["jti"], claims["jti"])
        if sub is not None:
            self.assertEqual(claims["sub"], sub)
        return claims

    def test_password_refresh_revoke_introspect(self):
        for method in ("client_secret_basic", "client_secret_post"):
            meta, s = self.session(method)
            token = s.fetch_token(meta["token_endpoint"],
                                  grant_type="password", username="user1",
                                  password="password123")
            c = self.assert_verifies_everywhere(token["access_token"])
            self.assertEqual(c["client_id"], "app")
            self.assertEqual(c["username"], "user1")
            # The session's own requests carry the token.
            r = s.get(f"http://127.0.0.1:{self.resource.port}/protected")
            self.assertEqual(r.status_code, 200, r.text)
            # Refresh, asked for.
            new = s.refresh_token(meta["token_endpoint"])
            self.assertNotEqual(new["refresh_token"], token["refresh_token"])
            self.assert_verifies_everywhere(new["access_token"])
            # Introspection of both tokens.
            r = s.introspect_token(meta["introspection_endpoint"],
                                   token=new["access_token"])
            self.assertEqual(r.status_code, 200)
            self.assertEqual(r.json()["active"], True)
            self.assertEqual(r.json()["sub"], c["sub"])
            r = s.introspect_token(meta["introspection_endpoint"],
                                   token=new["refresh_token"],
                                   token_type_hint="refresh_token")
            self.assertEqual(r.json()["active"], True)
            # The spent refresh token is not active.
            r = s.introspect_token(meta["introspection_endpoint"],
                                   token=token["refresh_token"])
            self.assertEqual(r.json(), {"active": False})
            # Revocation ends the session.
            r = s.revoke_token(meta["revocation_endpoint"],
                               token=new["refresh_token"],
                               token_type_hint="refresh_token")
            self.assertEqual(r.status_code, 200)
            r = s.introspect_token(meta["introspection_endpoint"],
                                   token=new["refresh_token"])
            self.assertEqual(r.json(), {"active": False})
            with self.assertRaises(Exception) as cm:
                s.refresh_token(meta["token_endpoint"])
            self.assertIn("invalid_grant", str(cm.exception))

    def test_automatic_refresh_when_expired(self):
        updated = []
        meta, s = self.session(update_token=lambda t, **kw: updated.append(t))
        token = s.fetch_token(meta["token_endpoint"], grant_type="password",
                              username="admin", password="adminpassword")
        # The client believes the token has expired: its next request
        # refreshes first (authlib's ensure_active_token).
        s.token = dict(token, expires_at=int(time.time()) - 60)
        r = s.get(f"http://127.0.0.1:{self.resource.port}/admin")
        self.assertEqual(r.status_code, 200, r.text)
        self.assertEqual(len(updated), 1)
        self.assertNotEqual(updated[0]["refresh_token"],
                            token["refresh_token"])
        self.assert_verifies_everywhere(updated[0]["access_token"])

    def test_client_credentials(self):
        for method in ("client_secret_basic", "client_secret_post"):
            meta, s = self.session(method)
            token = s.fetch_token(meta["token_endpoint"],
                                  grant_type="client_credentials")
            self.assertNotIn("refresh_token", token)
            c = self.assert_verifies_everywhere(token["access_token"],
                                                sub="app")
            self.assertEqual(c["permissions"], ["read:data"])
            # The client's roles do not reach the admin route.
            r = s.get(f"http://127.0.0.1:{self.resource.port}/admin")
            self.assertEqual(r.status_code, 403)
            r = s.introspect_token(meta["introspection_endpoint"],
                                   token=token["access_token"])
            self.assertEqual(r.json()["client_id"], "app")
            # An access token is not revocable here (README).
            r = s.revoke_token(meta["revocation_endpoint"],
                               token=token["access_token"],
                               token_type_hint="access_token")
            self.assertEqual(r.status_code, 400)
            self.assertEqual(r.json()["error"], "unsupported_token_type")

    def test_wrong_secret(self):
        meta = self.metadata()
        s = OAuth2Session("app", "not-the-secret",
                          token_endpoint=meta["token_endpoint"])
        with self.assertRaises(Exception) as cm:
            s.fetch_token(meta["token_endpoint"],
                          grant_type="client_credentials")
        self.assertIn("invalid_client", str(cm.exception))


if __name__ == "__main__":
    unittest.main()
