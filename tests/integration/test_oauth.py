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
        cfg.update(settings)
        with open(self.config, "w", encoding="utf-8") as f:
            json.dump(cfg, f)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

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


if __name__ == "__main__":
    unittest.main()
