"""The demo page's two read-only views of the running configuration:
GET /demo/info.json on auth_service (demo_resource_origin and the
role -> permission map of permissions.json, the map a SIGHUP or a changed
file shows at once; 404 with the demo off) and GET /demo/routes.json on
resource_service (routes.json as dispatched, a SIGHUP reload included,
with the CORS headers of every other route; 404 with cors_origin off)."""
import json
import os
import shutil
import signal
import tempfile
import time
import unittest

import harness

ORIGIN = "http://127.0.0.1:5999"


def load(*parts):
    with open(harness.source(*parts), encoding="utf-8") as f:
        return json.load(f)


class AuthInfo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="demo-info-")
        harness.make_keys(os.path.join(cls.tmp, "keys"))
        cls.perms = os.path.join(cls.tmp, "permissions.json")
        shutil.copyfile(harness.source("config", "permissions.json"),
                        cls.perms)
        cls.base = [
            "--db", os.path.join(cls.tmp, "auth.db"),
            "--private-key", os.path.join(cls.tmp, "keys", "private_key.pem"),
            "--secrets", harness.source("config", "secrets.json"),
            "--permissions", cls.perms]
        cls.auth = harness.Daemon("auth_service", cls.base + [
            "--demo-dir", harness.source("web", "demo"),
            "--demo-resource-origin", ORIGIN]).start()

    @classmethod
    def tearDownClass(cls):
        cls.auth.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_01_configuration(self):
        r = self.auth.request("GET", "/demo/info.json")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertEqual(r.json()["resource_origin"], ORIGIN)
        roles = {k: v["permissions"] for k, v in
                 load("config", "permissions.json")["roles"].items()}
        self.assertEqual(r.json()["roles"], roles)
        # The page's own CSP names the same origin.
        csp = self.auth.request("GET", "/demo").header(
            "Content-Security-Policy")
        self.assertIn(f"connect-src 'self' {ORIGIN};", csp)

    def test_02_a_changed_file_shows_after_sighup(self):
        with open(self.perms, encoding="utf-8") as f:
            doc = json.load(f)
        doc["roles"]["moderator"]["permissions"].append("delete:users")
        doc["roles"]["auditor"] = {"permissions": ["read:data"]}
        with open(self.perms, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        self.auth.signal(signal.SIGHUP)
        self.auth.wait_event("reload")
        roles = self.auth.request("GET", "/demo/info.json").json()["roles"]
        self.assertEqual(roles["moderator"],
                         ["read:data", "read:admin_panel", "delete:users"])
        self.assertEqual(roles["auditor"], ["read:data"])

    def test_03_off_with_the_demo(self):
        with harness.Daemon("auth_service", self.base + [
                "--db", os.path.join(self.tmp, "auth2.db"),
                "--demo-dir", ""]) as off:
            self.assertEqual(off.request("GET", "/demo").status, 404)
            r = off.request("GET", "/demo/info.json")
            self.assertEqual(r.status, 404, r)
            self.assertEqual(r.json()["error"], "not_found")
            self.assertEqual(off.request("POST", "/demo/info.json",
                                         {}).status, 405)


class ResourceRoutes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="demo-routes-")
        harness.make_keys(os.path.join(cls.tmp, "keys"))
        cls.routes = os.path.join(cls.tmp, "routes.json")
        shutil.copyfile(harness.source("config", "routes.json"), cls.routes)
        cls.resource = harness.Daemon("resource_service", [
            "--public-keys", os.path.join(cls.tmp, "keys", "public_key.pem"),
            "--routes", cls.routes, "--cors-origin", ORIGIN]).start()
        cls.resource.wait_healthy()

    @classmethod
    def tearDownClass(cls):
        cls.resource.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_01_the_route_table(self):
        r = self.resource.request("GET", "/demo/routes.json",
                                  headers={"Origin": ORIGIN})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        self.assertEqual(r.header("Access-Control-Allow-Origin"), ORIGIN)
        want = [{"method": x["method"], "path": x["path"],
                 "permission": x["permission"], "mode": "all_of"}
                for x in load("config", "routes.json")]
        self.assertEqual(r.json()["routes"], want)
        # Another origin is never allowed.
        r = self.resource.request("GET", "/demo/routes.json",
                                  headers={"Origin": "http://evil.test"})
        self.assertIsNone(r.header("Access-Control-Allow-Origin"))

    def test_03_off_without_cors(self):
        with harness.Daemon("resource_service", [
                "--public-keys", os.path.join(self.tmp, "keys",
                                              "public_key.pem"),
                "--routes", harness.source("config", "routes.json"),
                "--cors-origin", ""]) as off:
            off.wait_healthy()
            r = off.request("GET", "/demo/routes.json")
            self.assertEqual(r.status, 404, r)
            self.assertEqual(r.json()["error"], "not_found")

    def test_02_a_reload_shows(self):
        with open(self.routes, "w", encoding="utf-8") as f:
            json.dump([{"method": "GET", "path": "/reports",
                        "permission": "read:reports"},
                       {"method": "GET", "path": "/status",
                        "public": True}], f)
        self.resource.signal(signal.SIGHUP)
        # The control thread posts the table to every worker, then logs;
        # each worker takes it before its next request.
        deadline = time.monotonic() + 20
        while "reload: 2 route(s)" not in self.resource.log():
            self.assertLess(time.monotonic(), deadline, self.resource.log())
            time.sleep(0.05)
        for _ in range(4):  # whichever worker answers
            r = self.resource.request("GET", "/demo/routes.json")
            self.assertEqual(r.json()["routes"], [
                {"method": "GET", "path": "/reports",
                 "permission": "read:reports", "mode": "all_of"},
                {"method": "GET", "path": "/status", "permission": None,
                 "mode": "public"}])

if __name__ == "__main__":
    unittest.main(verbosity=2)
