"""TLS on both daemons, with a CA and certificates made here by the
openssl CLI: both listeners serve HTTPS (TLS 1.2 and later), the resource
service fetches the issuer's JWKS over https checked against
jwks_ca_file, a certificate from another CA or for another host is
refused with a clear log line, and SIGHUP loads a new certificate."""
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import unittest

import harness
from test_auth import Env
from test_resource import ResourceDaemon, wait_for


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   capture_output=True)


class Pki:
    """A throwaway CA and leaf certificates signed by it."""

    def __init__(self, directory, name):
        self.dir = directory
        self.name = name
        self.ca = os.path.join(directory, name + "-ca.pem")
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-keyout", name + "-ca.key", "-out", self.ca, "-days", "30",
                "-subj", f"/CN={name} test CA", cwd=directory)

    def leaf(self, stem, san):
        key = os.path.join(self.dir, stem + ".key")
        cert = os.path.join(self.dir, stem + ".pem")
        ext = os.path.join(self.dir, stem + ".ext")
        with open(ext, "w", encoding="utf-8") as f:
            f.write(f"subjectAltName={san}\n"
                    "extendedKeyUsage=serverAuth\n")
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                "-out", stem + ".csr", "-subj", f"/CN={stem}", cwd=self.dir)
        openssl("x509", "-req", "-in", stem + ".csr", "-CA", self.ca,
                "-CAkey", self.name + "-ca.key", "-CAcreateserial",
                "-out", cert, "-days", "30", "-extfile", ext, cwd=self.dir)
        return cert, key


def https(port, method, path, ca, body=None, context=None):
    ctx = context or ssl.create_default_context(cafile=ca)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx,
                                       timeout=10)
    try:
        headers = {}
        if body is not None:
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        cert = conn.sock.getpeercert(binary_form=True)
        return r.status, data, cert
    finally:
        conn.close()


class Tls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tls-test-")
        cls.pki = Pki(cls.tmp, "good")
        cls.other = Pki(cls.tmp, "other")
        cls.cert, cls.key = cls.pki.leaf(
            "server", "IP:127.0.0.1,DNS:localhost")
        cls.env = Env()
        cls.auth = cls.env.daemon("--tls-cert", cls.cert,
                                  "--tls-key", cls.key).start()
        cls.jwks_url = (f"https://127.0.0.1:{cls.auth.port}"
                        "/.well-known/jwks.json")
        cls.daemons = []

    @classmethod
    def tearDownClass(cls):
        try:
            for d in cls.daemons:
                d.stop()
            cls.auth.stop()
        finally:
            cls.env.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def resource(self, *args):
        d = ResourceDaemon("resource_service", [
            "--routes", harness.source("config", "routes.json"),
            "--jwks-min-age", "1", *args]).start()
        self.daemons.append(d)
        return d

    def test_auth_serves_https_only(self):
        status, body, _ = https(self.auth.port, "GET", "/health/live",
                                self.pki.ca)
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["status"], "ok")
        # Plain HTTP on the TLS port gets no HTTP answer.
        with self.assertRaises((OSError, http.client.HTTPException)):
            self.auth.request("GET", "/health/live", timeout=5)
        # A client trusting another CA refuses the certificate.
        with self.assertRaises(ssl.SSLCertVerificationError):
            https(self.auth.port, "GET", "/health/live", self.other.ca)

    def test_tls_1_1_refused(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.pki.ca)
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        try:
            ctx.set_ciphers("ALL:@SECLEVEL=0")
        except ssl.SSLError:
            pass
        with self.assertRaises(ssl.SSLError):
            https(self.auth.port, "GET", "/health/live", None, context=ctx)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        self.assertEqual(https(self.auth.port, "GET", "/health/live", None,
                               context=ctx)[0], 200)

    def test_resource_over_https_with_jwks_over_https(self):
        # The issuer left unset names the HTTPS listener it serves on.
        issuer = f"https://127.0.0.1:{self.auth.port}"
        res = self.resource("--jwks-url", self.jwks_url,
                            "--jwks-ca-file", self.pki.ca, "--issuer", issuer,
                            "--tls-cert", self.cert, "--tls-key", self.key)
        status, body, _ = https(self.auth.port, "POST", "/login",
                                self.pki.ca, {"username": "user1",
                                              "password": "password123"})
        self.assertEqual(status, 200, body)
        token = json.loads(body)["access_token"]
        status, body, _ = https(self.auth.port, "GET",
                                "/.well-known/oauth-authorization-server",
                                self.pki.ca)
        self.assertEqual(json.loads(body)["issuer"], issuer)
        wait_for(lambda: https(res.port, "GET", "/health/ready",
                               self.pki.ca)[0] == 200,
                 what="keys fetched over https")
        ctx = ssl.create_default_context(cafile=self.pki.ca)
        conn = http.client.HTTPSConnection("127.0.0.1", res.port,
                                           context=ctx, timeout=10)
        conn.request("GET", "/protected",
                     headers={"Authorization": "Bearer " + token})
        r = conn.getresponse()
        body = r.read()
        self.assertEqual(r.status, 200, body)
        self.assertEqual(json.loads(body)["user"], "user1")
        conn.close()

    def test_jwks_from_an_untrusted_ca_is_refused(self):
        res = self.resource("--jwks-url", self.jwks_url,
                            "--jwks-ca-file", self.other.ca)
        wait_for(lambda: "TLS certificate refused" in res.log(),
                 what="the TLS refusal in the log")
        self.assertIn("unable to get local issuer certificate", res.log())
        self.assertEqual(res.request("GET", "/health/ready").status, 503)

    def test_jwks_from_a_certificate_for_another_host_is_refused(self):
        cert, key = self.pki.leaf("elsewhere", "DNS:other.example")
        env = Env()
        try:
            auth = env.daemon("--tls-cert", cert, "--tls-key", key).start()
            self.daemons.append(auth)
            res = self.resource(
                "--jwks-url", f"https://127.0.0.1:{auth.port}/"
                ".well-known/jwks.json", "--jwks-ca-file", self.pki.ca)
            wait_for(lambda: "TLS certificate refused" in res.log(),
                     what="the TLS refusal in the log")
            self.assertIn("IP address mismatch", res.log())
            self.assertEqual(res.request("GET", "/health/ready").status,
                             503)
        finally:
            env.cleanup()

    def test_bad_tls_files_are_a_config_error(self):
        r = subprocess.run(
            [harness.binary("resource_service"), "--port", "0",
             "--public-keys", self.cert, "--tls-cert", self.cert],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("tls_cert, tls_key", r.stderr)
        r = subprocess.run(
            [harness.binary("auth_service"), *self.env.args(
                "--port", "0", "--tls-cert", self.key,
                "--tls-key", self.key)],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("tls_cert: ", r.stderr)

    def test_sighup_loads_a_new_certificate(self):
        dir2 = os.path.join(self.tmp, "reload")
        os.makedirs(dir2)
        cert = os.path.join(dir2, "live.pem")
        key = os.path.join(dir2, "live.key")
        shutil.copy(self.cert, cert)
        shutil.copy(self.key, key)
        env = Env()
        try:
            auth = env.daemon("--tls-cert", cert, "--tls-key", key).start()
            self.daemons.append(auth)
            _, _, before = https(auth.port, "GET", "/health/live",
                                 self.pki.ca)
            new_cert, new_key = self.pki.leaf("renewed", "IP:127.0.0.1")
            shutil.copy(new_cert, cert)
            shutil.copy(new_key, key)
            auth.signal(signal.SIGHUP)
            wait_for(lambda: "reload: TLS certificate" in auth.log(),
                     what="the reload line")
            _, _, after = https(auth.port, "GET", "/health/live",
                                self.pki.ca)
            self.assertNotEqual(before, after)
            with open(new_cert, "rb") as f:
                self.assertEqual(after, ssl.PEM_cert_to_DER_cert(
                    f.read().decode()))
        finally:
            env.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
