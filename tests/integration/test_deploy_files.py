"""The deployment files, checked without a container engine (none runs on
the build machines): docker-compose.yml parses (python3-yaml) and says
what the README promises, every environment variable it sets is one the
daemons read (their --help lists them), the Dockerfile is multi-stage with
a non-root runtime without -dev packages, and the systemd units pass
`systemd-analyze verify` with the programs of this build. Also: keys/
keeps every key out of git, and flow.puml names only status codes,
error codes, paths and audit events the code has, and docs/flow.svg is
rendered from the current flow.puml."""
import html
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

import yaml  # python3-yaml (TEST_PACKAGES): missing is a failure


def help_of(program):
    return subprocess.run([harness.binary(program), "--help"],
                          capture_output=True, text=True, check=True).stdout


def read(*parts):
    with open(harness.source(*parts), encoding="utf-8") as f:
        return f.read()


def check_env(test, names, usage):
    """PREFIX_NAME is the setting --name (config.h): its flag must be in
    the program's --help."""
    prefix = "AUTH_" if "auth_service" in usage.split("\n")[0] \
        else "RESOURCE_"
    for name in names:
        test.assertTrue(name.startswith(prefix), name)
        flag = "--" + name[len(prefix):].lower().replace("_", "-")
        known = re.search(rf"^\s+{re.escape(flag)}\s", usage, re.M)
        test.assertTrue(known, f"{name}: no setting {flag}")


class Compose(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.doc = yaml.safe_load(read("docker-compose.yml"))
        cls.services = cls.doc["services"]

    def test_services_volumes_and_healthchecks(self):
        default = {n for n, s in self.services.items() if "profiles" not in s}
        self.assertEqual(default, {"auth", "resource"})
        self.assertEqual(set(self.doc["volumes"]), {"keys", "data", "pgdata"})
        auth, res = self.services["auth"], self.services["resource"]
        self.assertIn("keys:/app/keys", auth["volumes"])
        self.assertIn("data:/app/data", auth["volumes"])
        for svc, port in ((auth, 5000), (res, 5001)):
            test = " ".join(svc["healthcheck"]["test"])
            self.assertIn(f"http://127.0.0.1:{port}/health", test)
        self.assertEqual(res["depends_on"]["auth"]["condition"],
                         "service_healthy")

    def test_resource_uses_the_jwks_url_and_both_bind_all(self):
        auth = self.services["auth"]["environment"]
        res = self.services["resource"]["environment"]
        self.assertEqual(res["RESOURCE_JWKS_URL"],
                         "http://auth:5000/.well-known/jwks.json")
        self.assertEqual(auth["AUTH_BIND"], "0.0.0.0")
        self.assertEqual(res["RESOURCE_BIND"], "0.0.0.0")
        # The verifier accepts exactly the issuer the issuer writes.
        self.assertEqual(auth["AUTH_ISSUER"], res["RESOURCE_ISSUER"])

    def test_scaleout_profile(self):
        """Two issuers on one PostgreSQL service, one key set, the
        password only as a secret (never in the environment)."""
        scaleout = {n for n, s in self.services.items()
                    if "scaleout" in s.get("profiles", [])}
        self.assertEqual(scaleout, {"postgres", "auth-a", "auth-b"})
        a, b = self.services["auth-a"], self.services["auth-b"]
        self.assertEqual(a["environment"], b["environment"])
        self.assertTrue(a["environment"]["AUTH_DB"].startswith(
            "postgresql://jwt@postgres:5432/"))
        for svc in (a, b):
            self.assertIn("keys:/app/keys", svc["volumes"])
            self.assertIn("db_password", svc["secrets"])
            self.assertIn("/health/ready", " ".join(svc["healthcheck"]["test"]))
            self.assertNotIn("PASSWORD", " ".join(svc["environment"]))
        self.assertEqual(a["depends_on"]["postgres"]["condition"],
                         "service_healthy")
        self.assertIn("db_password", read("deploy", "docker", "auth-start.sh"))

    def test_every_variable_is_a_setting(self):
        for name in ("auth", "auth-a", "auth-b"):
            check_env(self, self.services[name]["environment"],
                      help_of("auth_service"))
        check_env(self, self.services["resource"]["environment"],
                  help_of("resource_service"))


class Dockerfile(unittest.TestCase):
    def test_multi_stage_non_root(self):
        text = read("Dockerfile")
        froms = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M)
        self.assertEqual(len(froms), 2, froms)
        self.assertTrue(all(f[0].startswith("debian:bookworm")
                            for f in froms))
        runtime = text.split("FROM ")[2]
        self.assertNotRegex(runtime, r"-dev\b")
        self.assertIn("COPY --from=build", runtime)
        users = re.findall(r"^USER\s+(\S+)", runtime, re.M)
        self.assertTrue(users and users[-1] not in ("root", "0"), users)
        for program in ("auth_service", "resource_service", "jwt-admin"):
            self.assertIn(f"/src/build/{program}", runtime)
            harness.binary(program)  # a target this build makes

    def test_build_stage_has_what_cmake_requires(self):
        """CMakeLists.txt stops at configure time without python3."""
        build = read("Dockerfile").split("FROM ")[1]
        if re.search(r"find_program\(SYSTEM_PYTHON python3 REQUIRED\)",
                     read("CMakeLists.txt")):
            self.assertRegex(build, r"\bpython3(-minimal)?\b")
        for pkg in ("cmake", "pkg-config", "libevent-dev", "libssl-dev",
                    "libjson-c-dev", "libsodium-dev", "libsqlite3-dev",
                    "libpq-dev"):
            self.assertIn(pkg, build)
        # Every directory CMakeLists.txt globs or names is in the context.
        for d in ("common", "auth_service", "resource_service", "tools",
                  "tests", "bench"):
            self.assertRegex(build, rf"COPY {d} {d}\b")

    def test_entrypoint_script(self):
        r = subprocess.run(["sh", "-n", harness.source(
            "deploy", "docker", "auth-start.sh")], capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)


class Systemd(unittest.TestCase):
    UNITS = ("auth_service.service", "resource_service.service")

    def test_hardening_and_credentials(self):
        auth = read("deploy", "systemd", "auth_service.service")
        self.assertIn("LoadCredential=private_key.pem:", auth)
        self.assertIn("--private-key %d/private_key.pem", auth)
        self.assertIn("StateDirectory=jwt-auth", auth)
        for unit in self.UNITS:
            text = read("deploy", "systemd", unit)
            for line in ("ProtectSystem=strict", "NoNewPrivileges=yes",
                         "PrivateTmp=yes", "ProtectHome=yes",
                         "SystemCallFilter=@system-service",
                         "DynamicUser=yes"):
                self.assertIn(line, text, unit)
            self.assertRegex(text, r"RestrictAddressFamilies=AF_INET AF_INET6")
            check_env(self, re.findall(r"Environment=(\w+)=", text),
                      help_of(unit.split(".")[0]))

    def test_systemd_analyze_verify(self):
        # Package systemd (TEST_PACKAGES); missing fails, never skips.
        self.assertIsNotNone(shutil.which("systemd-analyze"),
                             "systemd-analyze is not installed")
        tmp = tempfile.mkdtemp(prefix="units-")
        try:
            paths = []
            for unit in self.UNITS:
                text = read("deploy", "systemd", unit).replace(
                    "/usr/local/bin/", harness.BUILD_DIR + "/")
                path = os.path.join(tmp, unit)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
                paths.append(path)
            r = subprocess.run(["systemd-analyze", "verify", *paths],
                               capture_output=True, text=True, cwd=tmp)
            # verify exits 0 on a value it ignores; it says so on stderr.
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr.strip(), "", r.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class Keys(unittest.TestCase):
    def test_keys_stay_out_of_git(self):
        # Package git (TEST_PACKAGES); missing fails, never skips. In a
        # worktree .git is a file, and a tarball has none: the ignore
        # rules are then checked in a scratch repository holding the
        # tree's .gitignore files, so this never silently tests nothing.
        self.assertIsNotNone(shutil.which("git"), "git is not installed")
        src = harness.source()
        inside = subprocess.run(
            ["git", "-C", src, "rev-parse", "--show-toplevel"],
            capture_output=True, text=True)
        if (inside.returncode != 0 or os.path.realpath(
                inside.stdout.strip()) != os.path.realpath(src)):
            scratch = tempfile.mkdtemp(prefix="ignore-")
            self.addCleanup(shutil.rmtree, scratch, ignore_errors=True)
            subprocess.run(["git", "init", "-q", scratch], check=True)
            for rel in (".gitignore", "keys/.gitignore"):
                if os.path.exists(harness.source(*rel.split("/"))):
                    os.makedirs(os.path.join(scratch, "keys"),
                                exist_ok=True)
                    shutil.copy(harness.source(*rel.split("/")),
                                os.path.join(scratch, rel))
            shutil.copy(harness.source("keys", "README.md"),
                        os.path.join(scratch, "keys", "README.md"))
            src = scratch
        keys = ["keys/private_key.pem", "keys/public_key.pem",
                "keys/jwks.json", "keys/published/k.pem",
                "keys/retired/k.pem", "keys/private_key.pem.bak"]
        r = subprocess.run(["git", "-C", src, "check-ignore", "--no-index",
                            *keys], capture_output=True, text=True)
        self.assertEqual(sorted(r.stdout.split()), sorted(keys), r.stderr)
        for kept in ("keys/README.md",):
            r = subprocess.run(["git", "-C", src, "check-ignore",
                                "--no-index", kept], capture_output=True)
            self.assertEqual(r.returncode, 1, kept)
        tracked = subprocess.run(["git", "-C", src, "ls-files", "keys"],
                                 capture_output=True, text=True).stdout
        self.assertFalse([f for f in tracked.split()
                          if f.endswith((".pem", ".key", ".jwk"))], tracked)


class FlowDiagram(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.puml = read("flow.puml")
        cls.messages = [m.group(1) for m in re.finditer(
            r"^\s*\w+\s+-+>\s*\w+\s*:\s*(.*)$", cls.puml, re.M)]
        cls.code = "".join(read(*p.split("/")) for p in (
            "common/http_util.c", "auth_service/routes.c",
            "resource_service/routes.c", "config/routes.json"))

    def test_error_codes_and_statuses(self):
        codes = {v: int(k) for k, v in re.findall(
            r"\{\s*(\d{3}),\s*\"([a-z_]+)\"", read("common", "http_util.c"))}
        seen = 0
        for text in self.messages:
            for status, code in re.findall(
                    r"\b([1-5]\d\d)\s+\{?\"?(?:\"error\":\")?([a-z_]+)",
                    text):
                if code in codes:
                    seen += 1
                    self.assertEqual(codes[code], int(status), text)
            for code in re.findall(r'error="([a-z_]+)"', text):
                self.assertIn(code, codes, text)
        self.assertGreaterEqual(seen, 5)
        for code in ("invalid_request", "invalid_credentials",
                     "too_many_requests", "temporarily_unavailable",
                     "invalid_grant", "invalid_token", "insufficient_scope"):
            self.assertIn(code, self.puml)
            self.assertIn(f'"{code}"', read("common", "http_util.c"))

    def test_paths_and_audit_events(self):
        for text in self.messages:
            for path in re.findall(r"\b(?:GET|POST|DELETE) (/[\w./-]*)",
                                   text):
                self.assertIn(f'"{path}"', self.code, text)
        for event in re.findall(r'audit "([a-z_]+)"', self.puml):
            self.assertIn(f'"{event}"', read("auth_service", "session.c"))
        for section in ("Startup", "Login", "A protected call", "A 403",
                        "Refresh with rotation", "Reuse detection",
                        "Logout"):
            self.assertTrue(re.search(rf"^== {section}", self.puml, re.M),
                            section)

    def test_svg_is_rendered_from_this_puml(self):
        svg = read("docs", "flow.svg")
        text = {html.unescape(t) for t in
                re.findall(r"<text[^>]*>([^<]*)</text>", svg)}
        for message in self.messages:
            for line in message.split("\\n"):
                line = line.strip()
                if line:
                    self.assertTrue(any(line in t for t in text),
                                    f"docs/flow.svg lacks {line!r}: "
                                    "run plantuml -tsvg -o docs flow.puml")


class ConfigReference(unittest.TestCase):
    """README.md and docs/CONFIGURATION.md list every setting of both
    daemons with the default --help prints and the bounds the C table
    enforces."""
    SOURCES = {"auth_service": "auth_service/auth_config.c",
               "resource_service": "resource_service/resource_config.c"}

    def rows(self, doc, section):
        text = read(doc)
        if section is not None:
            text = text[text.index(section):]
            end = text.find("\n#", 1)
            text = text if end == -1 else text[:end]
        return {m.group(1): [c.strip() for c in m.group(2).split("|")]
                for m in re.finditer(r"^\| `(\w+)` \|(.*)\|\s*$", text,
                                     re.M)}

    def check(self, program, readme_section, conf_section):
        usage = help_of(program)
        fields = {}
        for m in re.finditer(r"^  --([a-z0-9-]+)\s{2,}(.*)$", usage, re.M):
            name = m.group(1).replace("-", "_")
            if name in ("config", "check_config", "help", "version"):
                continue
            d = re.search(r"\(([^()]*)\)$", m.group(2))
            fields[name] = d.group(1) if d else None
        bounds = {n: (lo, hi) for n, lo, hi in re.findall(
            r"F\((\w+), CONFIG_INT, (\d+), (\d+),",
            read(*self.SOURCES[program].split("/")))}
        self.assertGreater(len(fields), 15, usage)
        for doc, section in (("README.md", readme_section),
                             ("docs/CONFIGURATION.md", conf_section)):
            rows = self.rows(doc, section)
            for name, default in fields.items():
                with self.subTest(doc=doc, field=name):
                    self.assertTrue(name in rows, f"{doc}: no row for {name}")
                    cells = " ".join(rows[name][:2])
                    if default and re.fullmatch(r"\d+", default.split()[0]):
                        self.assertIn(f"`{default.split()[0]}`", cells)
                    if name in bounds:
                        lo, hi = bounds[name]
                        self.assertIn(f"{lo}..{hi}", cells)

    def test_config_files_use_documented_fields(self):
        import json
        for name, section in (("auth.json", "### config/auth.json"),
                              ("resource.json", "### config/resource.json")):
            rows = self.rows("README.md", section)
            for field in json.loads(read("config", name)):
                self.assertTrue(field in rows, f"{name}: {field}")

    def test_auth_service(self):
        self.check("auth_service", "### config/auth.json",
                   "## auth_service")

    def test_resource_service(self):
        self.check("resource_service", "### config/resource.json",
                   "## resource_service")


if __name__ == "__main__":
    unittest.main(verbosity=2)
