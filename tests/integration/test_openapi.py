"""docs/openapi/*.json kept true: each document is checked for shape (every
$ref resolves, every operation has responses), then compared with the
running daemons' route tables: every documented path and method is routed
(never 404 or 405) and answers one of its documented statuses, and the
Allow header of a 405 lists exactly the documented methods. The resource
side's protected routes must match config/routes.json one to one, and
the route tables in the C sources (auth_service/routes.c auth_routes[],
resource_service/routes.c routes_builtin[]) must match the documents."""
import json
import os
import re
import shutil
import tempfile
import unittest

import harness

METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
# The demo page's own files, documented under /demo (its summary names
# them).
DEMO_FILES = ("/demo/", "/demo/demo.css", "/demo/demo.js")
ROUTE_ROW = re.compile(r'\{\s*EVHTTP_REQ_([A-Z]+),\s*"([^"]+)",\s*\w+\s*\}')


def load(name):
    with open(harness.source("docs", "openapi", name), encoding="utf-8") as f:
        return json.load(f)


def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


def resolve(doc, ref):
    assert ref.startswith("#/"), ref
    node = doc
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def source_table(path, table):
    """{(path, METHOD)} of one `static const struct route NAME[]` table."""
    with open(harness.source(*path.split("/")), encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"static const struct route " + table +
                  r"\[\]\s*=\s*\{(.*?)\n\};", text, re.S)
    assert m, f"no table {table} in {path}"
    rows = {(p, method) for method, p in ROUTE_ROW.findall(m.group(1))}
    assert rows, f"empty table {table} in {path}"
    return rows


def documented(doc):
    """{path: {METHOD: operation}}"""
    return {path: {m.upper(): op for m, op in item.items() if m in METHODS}
            for path, item in doc["paths"].items()}


class Shape(unittest.TestCase):
    def test_documents(self):
        for name in ("auth.json", "resource.json"):
            doc = load(name)
            self.assertTrue(doc["openapi"].startswith("3.0."), name)
            for ref in refs(doc):
                self.assertIsInstance(resolve(doc, ref), dict, (name, ref))
            ids = []
            for path, ops in documented(doc).items():
                self.assertTrue(path.startswith("/"), path)
                for method, op in ops.items():
                    self.assertTrue(op.get("responses"), (name, path, method))
                    ids.append(op["operationId"])
            self.assertEqual(len(ids), len(set(ids)), name)


class Base(unittest.TestCase):
    doc_name = None

    def request_for(self, method, path, op):
        body = None
        if "requestBody" in op:
            body = {"username": "user1", "password": "password123"}
            if path != "/login":
                body = {"refresh_token": "not-a-real-token"}
        return self.daemon.request(method, path, body)

    def check_table(self):
        doc = documented(load(self.doc_name))
        for path, ops in doc.items():
            for method, op in ops.items():
                with self.subTest(path=path, method=method):
                    r = self.request_for(method, path, op)
                    self.assertNotIn(r.status, (404, 405), (path, r))
                    self.assertIn(str(r.status), op["responses"],
                                  (path, method, r))
                    if path == "/openapi.json":
                        self.assertEqual(r.json(), load(self.doc_name))
            # A method no route has: 405 naming exactly the documented
            # methods (HEAD comes with GET).
            with self.subTest(path=path, method="PUT"):
                r = self.daemon.request("PUT", path, "{}")
                self.assertEqual(r.status, 405, (path, r))
                allow = {m.strip() for m in r.header("Allow").split(",")}
                self.assertEqual(allow - {"HEAD"}, set(ops), path)
        # Nothing routed beyond the document: a path it does not list is
        # 404, with any method.
        r = self.daemon.request("GET", "/not-documented")
        self.assertEqual(r.status, 404)
        return doc


class Auth(Base):
    doc_name = "auth.json"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="openapi-auth-")
        harness.make_keys(os.path.join(cls.tmp, "keys"))
        cls.daemon = harness.Daemon("auth_service", [
            "--db", os.path.join(cls.tmp, "auth.db"),
            "--private-key", os.path.join(cls.tmp, "keys", "private_key.pem"),
            "--secrets", harness.source("config", "secrets.json"),
            "--permissions", harness.source("config", "permissions.json"),
            "--throttle-user-free", "1000", "--throttle-addr-free", "1000",
            # /register answers 404 while it is off: on, to be routed.
            "--allow-registration", "true",
        ]).start()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_route_table(self):
        doc = self.check_table()
        self.assertEqual(set(doc["/login"]), {"POST"})
        self.assertEqual(set(doc["/.well-known/jwks.json"]), {"GET"})
        for path in DEMO_FILES:
            r = self.daemon.request("GET", path)
            self.assertEqual(r.status, 200, (path, r))

    def test_source_table(self):
        rows = source_table("auth_service/routes.c", "auth_routes")
        for path in DEMO_FILES:
            self.assertIn((path, "GET"), rows)
        rows = {(p, m) for p, m in rows if p not in DEMO_FILES}
        doc = documented(load(self.doc_name))
        self.assertEqual(rows, {(p, m) for p, ops in doc.items()
                                for m in ops})


class Resource(Base):
    doc_name = "resource.json"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="openapi-resource-")
        harness.make_keys(os.path.join(cls.tmp, "keys"))
        cls.daemon = harness.Daemon("resource_service", [
            "--public-keys", os.path.join(cls.tmp, "keys", "public_key.pem"),
            "--routes", harness.source("config", "routes.json"),
        ]).start()
        cls.daemon.wait_healthy()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_route_table(self):
        doc = self.check_table()
        with open(harness.source("config", "routes.json"),
                  encoding="utf-8") as f:
            rules = json.load(f)
        guarded = {(p, m) for p, ops in doc.items() for m, op in ops.items()
                   if op.get("security")}
        self.assertEqual(guarded,
                         {(r["path"], r["method"].upper()) for r in rules})
        # The permission each operation documents is the one routes.json
        # requires.
        for r in rules:
            op = doc[r["path"]][r["method"].upper()]
            self.assertIn(r["permission"], op["description"])
            self.assertIn(f'scope="{r["permission"]}"',
                          op["responses"]["403"]["headers"]
                          ["WWW-Authenticate"]["description"])

    def test_source_table(self):
        """Built-in routes from the C table, protected ones from
        routes.json: together exactly the documented operations."""
        rows = source_table("resource_service/routes.c", "routes_builtin")
        with open(harness.source("config", "routes.json"),
                  encoding="utf-8") as f:
            rows |= {(r["path"], r["method"].upper()) for r in json.load(f)}
        doc = documented(load(self.doc_name))
        self.assertEqual(rows, {(p, m) for p, ops in doc.items()
                                for m in ops})


if __name__ == "__main__":
    unittest.main(verbosity=2)
