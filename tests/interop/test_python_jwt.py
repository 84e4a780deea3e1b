"""Interop: our tokens, keys and JWKs against two independent JOSE
implementations from Debian, python3-jwt (PyJWT) and python3-jwcrypto.

For RS256, ES256 and EdDSA, both ways: what we sign verifies there, what they
sign (with our keys and with keys they generate) verifies here, and what they
compute about our keys (RFC 7638 thumbprint, JWK members) equals ours. Forged
variants they produce (HS256 with our public key as the secret, none, other
algorithms, embedded keys) are refused by our verifier.

Our side is driven through two programs: jwt-keygen and jwt-interop (a small
CLI over libjwtcommon: "sign KEY PAYLOAD" and "verify KEYS TOKEN ISS AUD").
"""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import harness
import jwt
from jwcrypto import jwk as jc_jwk
from jwcrypto import jws as jc_jws
from jwcrypto import jwt as jc_jwt

ISS = "https://auth.example"
AUD = "resource_service"
ALGS = {
    # alg: (jwcrypto generate() arguments, JWK members beyond kty)
    "RS256": ({"kty": "RSA", "size": 2048}, ("n", "e")),
    "ES256": ({"kty": "EC", "crv": "P-256"}, ("crv", "x", "y")),
    "EdDSA": ({"kty": "OKP", "crv": "Ed25519"}, ("crv", "x")),
}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(obj):
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def claims(**extra):
    now = int(time.time())
    c = {
        "iss": ISS, "aud": AUD, "sub": "42", "username": "user1",
        "client_id": "web", "iat": now, "nbf": now, "exp": now + 600,
        "jti": "jti-1", "roles": ["user"], "permissions": ["read:data"],
        "scope": "read:data",
    }
    c.update(extra)
    return c


class OurSide:
    """Keys made by jwt-keygen in a temporary directory, and our CLI."""

    def __init__(self, directory, alg):
        self.dir = os.path.join(directory, alg)
        self.jwks_path = os.path.join(self.dir, "jwks.json")
        self.kid = harness.make_keys(self.dir, alg,
                                     extra=("--jwks", self.jwks_path))
        self.private_pem = self.read("private_key.pem")
        self.public_pem = self.read("public_key.pem")
        self.public_path = os.path.join(self.dir, "public_key.pem")
        with open(self.jwks_path) as f:
            self.jwks = json.load(f)

    def read(self, name):
        with open(os.path.join(self.dir, name), "rb") as f:
            return f.read()

    def sign(self, payload):
        path = os.path.join(self.dir, "payload.json")
        with open(path, "w") as f:
            json.dump(payload, f)
        out = subprocess.run(
            [harness.binary("jwt-interop"), "sign",
             os.path.join(self.dir, "private_key.pem"), path],
            capture_output=True, text=True, check=True)
        return out.stdout.strip()


def verify(keys_path, token, iss=ISS, aud=AUD):
    """Runs our verifier: (True, claims) or (False, error code name)."""
    out = subprocess.run(
        [harness.binary("jwt-interop"), "verify", keys_path, token, iss, aud],
        capture_output=True, text=True)
    if out.returncode == 0:
        return True, json.loads(out.stdout)
    if out.returncode != 1:
        raise AssertionError(
            f"jwt-interop exited {out.returncode}: {out.stderr}")
    return False, out.stdout.strip()


class InteropTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="jwt-interop-")
        cls.ours = {alg: OurSide(cls.tmp.name, alg) for alg in ALGS}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def write(self, name, data):
        path = os.path.join(self.tmp.name, name)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return path

    def assert_ok(self, keys_path, token, **expect):
        ok, result = verify(keys_path, token)
        self.assertTrue(ok, f"our verifier refused it: {result}")
        for name, value in expect.items():
            self.assertEqual(result[name], value)
        return result

    def assert_refused(self, keys_path, token, code):
        ok, result = verify(keys_path, token)
        self.assertFalse(ok, "our verifier accepted a forged token")
        self.assertEqual(result, code)

    # Ours -> theirs.

    def test_our_tokens_verify_in_pyjwt_and_jwcrypto(self):
        for alg, our in self.ours.items():
            with self.subTest(alg=alg):
                token = our.sign(claims())
                header = jwt.get_unverified_header(token)
                self.assertEqual(
                    header, {"alg": alg, "typ": "at+jwt", "kid": our.kid})
                got = jwt.decode(token, our.public_pem, algorithms=[alg],
                                 audience=AUD, issuer=ISS)
                self.assertEqual(got, claims(iat=got["iat"], nbf=got["nbf"],
                                             exp=got["exp"]))
                # PyJWT again, with the key taken from our JWKS.
                key = jwt.PyJWK(our.jwks["keys"][0])
                jwt.decode(token, key.key, algorithms=[alg], audience=AUD,
                           issuer=ISS)
                # jwcrypto, with our public key.
                pub = jc_jwk.JWK.from_pem(our.public_pem)
                parsed = jc_jwt.JWT(jwt=token, key=pub)
                self.assertEqual(json.loads(parsed.claims)["sub"], "42")
                # A tampered token must fail there too (the check above
                # can fail).
                head, body, sig = token.split(".")
                forged = ".".join([head, b64url_json(claims(sub="0")), sig])
                with self.assertRaises(jwt.InvalidSignatureError):
                    jwt.decode(forged, our.public_pem, algorithms=[alg],
                               audience=AUD, issuer=ISS)

    def test_kid_and_jwk_equal_jwcrypto(self):
        for alg, our in self.ours.items():
            with self.subTest(alg=alg):
                theirs = jc_jwk.JWK.from_pem(our.public_pem)
                self.assertEqual(theirs.thumbprint(), our.kid)
                exported = theirs.export_public(as_dict=True)
                entry = our.jwks["keys"][0]
                _, members = ALGS[alg]
                for name in ("kty",) + members:
                    self.assertEqual(entry[name], exported[name], name)
                self.assertEqual(entry["kid"], our.kid)
                self.assertEqual(entry["alg"], alg)
                self.assertEqual(entry["use"], "sig")
                # Public members only.
                self.assertEqual(
                    set(entry), {"kty", "kid", "alg", "use", *members})
                # And jwcrypto reads our JWK back as the same key.
                back = jc_jwk.JWK(**entry)
                self.assertEqual(back.thumbprint(), our.kid)
                self.assertEqual(back.export_to_pem(), our.public_pem)

    # Theirs -> ours.

    def test_pyjwt_tokens_with_our_keys_verify_here(self):
        for alg, our in self.ours.items():
            with self.subTest(alg=alg):
                token = jwt.encode(claims(), our.private_pem, algorithm=alg,
                                   headers={"kid": our.kid, "typ": "at+jwt"})
                got = self.assert_ok(our.public_path, token, sub="42",
                                     kid=our.kid, username="user1",
                                     permissions=["read:data"])
                self.assertEqual(got["roles"], ["user"])
                self.assert_ok(our.jwks_path, token, sub="42")
                # Without a kid: fine with a single key.
                token = jwt.encode(claims(), our.private_pem, algorithm=alg,
                                   headers={"typ": "at+jwt"})
                self.assert_ok(our.public_path, token)

    def test_jwcrypto_tokens_with_our_keys_verify_here(self):
        for alg, our in self.ours.items():
            with self.subTest(alg=alg):
                key = jc_jwk.JWK.from_pem(our.private_pem)
                t = jc_jwt.JWT(
                    header={"alg": alg, "typ": "at+jwt", "kid": our.kid},
                    claims=claims())
                t.make_signed_token(key)
                self.assert_ok(our.public_path, t.serialize(), sub="42")
                self.assert_ok(our.jwks_path, t.serialize(), sub="42")

    def test_their_keys_and_tokens_verify_here(self):
        for alg, (params, _) in ALGS.items():
            with self.subTest(alg=alg):
                key = jc_jwk.JWK.generate(**params)
                kid = key.thumbprint()
                pub_path = self.write(f"their-{alg}.pem",
                                      key.export_to_pem())
                priv_pem = key.export_to_pem(private_key=True, password=None)
                jwks = {"keys": [dict(key.export_public(as_dict=True),
                                      kid=kid, alg=alg, use="sig")]}
                jwks_path = self.write(f"their-{alg}.json", json.dumps(jwks))
                # PyJWT signs with the key jwcrypto made and exported.
                token = jwt.encode(claims(sub="7"), priv_pem, algorithm=alg,
                                   headers={"kid": kid, "typ": "at+jwt"})
                self.assert_ok(pub_path, token, sub="7", kid=kid)
                self.assert_ok(jwks_path, token, sub="7", kid=kid)
                # jwcrypto signs too.
                t = jc_jwt.JWT(header={"alg": alg, "typ": "at+jwt",
                                       "kid": kid}, claims=claims(sub="8"))
                t.make_signed_token(key)
                self.assert_ok(jwks_path, t.serialize(), sub="8")
                # Their token is no token for our key.
                self.assert_refused(self.ours[alg].public_path, token,
                                    "token_kid")
                token = jwt.encode(claims(), priv_pem, algorithm=alg,
                                   headers={"typ": "at+jwt"})
                self.assert_refused(self.ours[alg].public_path, token,
                                    "token_signature")

    # Forgeries made by them, refused by us.

    def test_hs256_with_our_public_key_as_secret(self):
        """RFC 8725 section 2.1: the classic algorithm confusion."""

        class RawHMAC(jwt.algorithms.HMACAlgorithm):
            # PyJWT refuses PEM text as an HMAC secret; an attacker's
            # library would not.
            def prepare_key(self, key):
                return key if isinstance(key, bytes) else key.encode()

        forger = jwt.PyJWS()
        forger.unregister_algorithm("HS256")
        forger.register_algorithm("HS256", RawHMAC(RawHMAC.SHA256))
        for alg, our in self.ours.items():
            with self.subTest(alg=alg):
                payload = json.dumps(claims()).encode()
                for headers in ({"kid": our.kid, "typ": "at+jwt"},
                                {"typ": "at+jwt"}):
                    token = forger.encode(payload, our.public_pem,
                                          algorithm="HS256", headers=headers)
                    # The forgery is a valid HS256 token for that secret.
                    head, body, sig = token.split(".")
                    mac = hmac.new(our.public_pem, f"{head}.{body}".encode(),
                                   hashlib.sha256).digest()
                    self.assertEqual(b64url(mac), sig)
                    self.assert_refused(our.public_path, token, "token_alg")
                    self.assert_refused(our.jwks_path, token, "token_alg")

    def test_none_and_swapped_algorithms(self):
        for alg, our in self.ours.items():
            with self.subTest(alg=alg):
                token = jwt.encode(claims(), None, algorithm="none",
                                   headers={"typ": "at+jwt", "kid": our.kid})
                self.assertTrue(token.endswith("."))
                self.assert_refused(our.public_path, token,
                                    "token_malformed")
                head, body, _ = token.split(".")
                self.assert_refused(our.public_path,
                                    f"{head}.{body}.AAAA", "token_alg")
                # Our own valid token with only "alg" changed.
                good = our.sign(claims())
                _, body, sig = good.split(".")
                self.assert_ok(our.public_path, good)
                for other in ("RS384", "PS256", "ES384", "HS256", "EdDSA",
                              "RS256", "ES256", "Ed25519"):
                    if other == alg:
                        continue
                    head = b64url_json({"alg": other, "typ": "at+jwt",
                                        "kid": our.kid})
                    self.assert_refused(our.public_path,
                                        f"{head}.{body}.{sig}", "token_alg")

    def test_real_signature_with_another_algorithm(self):
        """PyJWT signs with our RSA key, but PS256 / RS384: refused."""
        our = self.ours["RS256"]
        for other in ("PS256", "RS384", "RS512"):
            with self.subTest(alg=other):
                token = jwt.encode(claims(), our.private_pem, algorithm=other,
                                   headers={"kid": our.kid, "typ": "at+jwt"})
                jwt.decode(token, our.public_pem, algorithms=[other],
                           audience=AUD, issuer=ISS)
                self.assert_refused(our.public_path, token, "token_alg")

    def test_embedded_key_headers(self):
        """jwk / jku / x5u: the token must never choose its own key."""
        attacker = jc_jwk.JWK.generate(kty="EC", crv="P-256")
        our = self.ours["ES256"]
        for extra in ({"jwk": attacker.export_public(as_dict=True)},
                      {"jku": "https://evil.example/jwks.json"},
                      {"x5u": "https://evil.example/cert.pem"}):
            with self.subTest(header=list(extra)[0]):
                header = {"alg": "ES256", "typ": "at+jwt", "kid": our.kid}
                header.update(extra)
                # Signed by our real key, so only the header is wrong.
                key = jc_jwk.JWK.from_pem(our.private_pem)
                s = jc_jws.JWS(json.dumps(claims()).encode())
                s.add_signature(key, protected=json.dumps(header))
                self.assert_refused(our.public_path, s.serialize(compact=True),
                                    "token_header")
                # And signed by the attacker's embedded key.
                s = jc_jws.JWS(json.dumps(claims()).encode())
                s.add_signature(attacker, protected=json.dumps(header))
                self.assertIn(
                    verify(our.public_path, s.serialize(compact=True))[1],
                    ("token_header", "token_signature"))

    def test_claims_checked_on_their_tokens(self):
        our = self.ours["EdDSA"]
        now = int(time.time())
        cases = [
            (claims(exp=now - 120, iat=now - 900, nbf=now - 900),
             "token_expired", {"typ": "at+jwt"}),
            (claims(nbf=now + 600, exp=now + 900), "token_not_yet_valid",
             {"typ": "at+jwt"}),
            (claims(aud="someone-else"), "token_audience", {"typ": "at+jwt"}),
            (claims(iss="https://evil.example"), "token_issuer",
             {"typ": "at+jwt"}),
            (claims(), "token_header", {}),  # PyJWT's default typ "JWT"
            (claims(permissions="read:data"), "token_claims",
             {"typ": "at+jwt"}),
        ]
        for payload, code, headers in cases:
            with self.subTest(code=code):
                token = jwt.encode(payload, our.private_pem, algorithm="EdDSA",
                                   headers=dict(headers, kid=our.kid))
                self.assert_refused(our.public_path, token, code)
        # Control: the same construction with valid claims passes.
        token = jwt.encode(claims(), our.private_pem, algorithm="EdDSA",
                           headers={"kid": our.kid, "typ": "at+jwt"})
        self.assert_ok(our.public_path, token)


if __name__ == "__main__":
    unittest.main(verbosity=2)
