"""The install target: `cmake --install` into a staging root puts the
programs, the files the daemons read, the documentation and the systemd
units where the units say; every installed program prints the version
CMakeLists.txt's project() names; the installed units pass
`systemd-analyze verify`; and `cpack -G DEB` builds a package whose
`dpkg -c` lists the same files under /usr."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

PROGRAMS = ("auth_service", "resource_service", "jwt-admin", "jwt-keygen")
UNITS = ("auth_service.service", "resource_service.service")
DATA = ("share/jwt-auth-pair/config/auth.json",
        "share/jwt-auth-pair/config/resource.json",
        "share/jwt-auth-pair/config/routes.json",
        "share/jwt-auth-pair/config/permissions.json",
        "share/jwt-auth-pair/web/demo/index.html",
        "share/jwt-auth-pair/docs/openapi/auth.json",
        "share/jwt-auth-pair/docs/openapi/resource.json",
        "share/doc/jwt-auth-pair/README.md",
        "share/doc/jwt-auth-pair/CONFIGURATION.md",
        "share/doc/jwt-auth-pair/OPERATIONS.md")


def project_version():
    with open(harness.source("CMakeLists.txt"), encoding="utf-8") as f:
        m = re.search(r"^project\(\w+ VERSION (\d+\.\d+\.\d+)", f.read(),
                      re.M)
    assert m, "CMakeLists.txt: no project(... VERSION x.y.z)"
    return m.group(1)


def install(prefix, destdir=None):
    env = dict(os.environ)
    if destdir is not None:
        env["DESTDIR"] = destdir
    r = subprocess.run(["cmake", "--install", harness.BUILD_DIR,
                        "--prefix", prefix], env=env, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr


class Install(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="jwt-install-")
        # DESTDIR staging, as a package build does it.
        cls.stage = os.path.join(cls.tmp, "stage")
        install("/usr/local", destdir=cls.stage)
        cls.root = cls.stage + "/usr/local"
        # A prefix that is a real directory, so the paths written into
        # the units exist as written.
        cls.prefix = os.path.join(cls.tmp, "opt")
        install(cls.prefix)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_tree(self):
        for program in PROGRAMS:
            path = os.path.join(self.root, "bin", program)
            self.assertTrue(os.access(path, os.X_OK), path)
        for rel in DATA:
            self.assertTrue(os.path.isfile(os.path.join(self.root, rel)),
                            rel)
        for unit in UNITS:
            self.assertTrue(os.path.isfile(os.path.join(
                self.root, "lib/systemd/system", unit)), unit)

    def test_installed_programs_print_the_version(self):
        version = project_version()
        for program in PROGRAMS:
            r = subprocess.run([os.path.join(self.root, "bin", program),
                                "--version"], capture_output=True, text=True,
                               timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, f"{program} {version}\n")

    def test_unit_paths_are_the_installed_ones(self):
        for root, prefix in ((self.root, "/usr/local"),
                             (self.prefix, self.prefix)):
            for unit in UNITS:
                with open(os.path.join(root, "lib/systemd/system", unit),
                          encoding="utf-8") as f:
                    text = f.read()
                lines = [l for l in text.splitlines()
                         if not l.startswith("#")]
                paths = re.findall(r"(?<![\w/])(/[\w./-]+)", "\n".join(lines))
                mine = [p for p in paths if p.startswith(prefix + "/")]
                self.assertTrue(any(p.endswith("/bin/" + unit.split(".")[0])
                                    for p in mine), mine)
                for p in mine:
                    self.assertTrue(os.path.exists(
                        root + p[len(prefix):]), f"{unit}: {p}")
                if prefix != "/usr/local":
                    self.assertNotIn("/usr/local", "\n".join(lines), unit)
                # Readiness comes from the daemon (sd_notify.c).
                self.assertIn("Type=notify", lines, unit)

    def test_systemd_analyze_verify_installed_units(self):
        units = [os.path.join(self.prefix, "lib/systemd/system", u)
                 for u in UNITS]
        r = subprocess.run(["systemd-analyze", "verify", *units],
                           capture_output=True, text=True, cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.strip(), "", r.stderr)


class DebianPackage(unittest.TestCase):
    def test_cpack_deb(self):
        out = tempfile.mkdtemp(prefix="jwt-cpack-")
        try:
            r = subprocess.run(
                ["cpack", "-G", "DEB", "-B", out, "--config",
                 os.path.join(harness.BUILD_DIR, "CPackConfig.cmake")],
                capture_output=True, text=True, cwd=out, timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            debs = [f for f in os.listdir(out) if f.endswith(".deb")]
            self.assertEqual(len(debs), 1, os.listdir(out))
            deb = os.path.join(out, debs[0])
            listing = subprocess.run(["dpkg", "-c", deb], check=True,
                                     capture_output=True, text=True).stdout
            files = {line.split()[-1].lstrip(".") for line in
                     listing.splitlines()}
            for program in PROGRAMS:
                self.assertIn(f"/usr/bin/{program}", files)
            for rel in DATA:
                self.assertIn(f"/usr/{rel}", files)
            for unit in UNITS:
                self.assertIn(f"/usr/lib/systemd/system/{unit}", files)
            info = subprocess.run(["dpkg", "-I", deb], check=True,
                                  capture_output=True, text=True).stdout
            self.assertRegex(info, rf"Version: {project_version()}")
            self.assertRegex(info, r"Depends:.*libevent")
            unit = subprocess.run(
                ["dpkg-deb", "--fsys-tarfile", deb], check=True,
                capture_output=True).stdout
            self.assertIn(b"ExecStart=/usr/bin/auth_service", unit)
        finally:
            shutil.rmtree(out, ignore_errors=True)


class ContainerImage(unittest.TestCase):
    """The image holds no demo user or password: the runtime stage copies
    no secrets.json, the entry script starts an empty users file, and
    only the demo override mounts the demo users."""

    def read(self, *parts):
        with open(harness.source(*parts), encoding="utf-8") as f:
            return f.read()

    def test_no_demo_secrets_in_the_image(self):
        runtime = self.read("Dockerfile").split("FROM ")[2]
        self.assertNotIn("secrets.json", runtime)
        self.assertNotRegex(runtime, r"COPY config config\b")
        self.assertIn("ENV AUTH_SECRETS=/app/data/users.json", runtime)
        import yaml
        demo = yaml.safe_load(self.read("docker-compose.demo.yml"))
        auth = demo["services"]["auth"]
        self.assertEqual(auth["environment"]["AUTH_SECRETS"],
                         "/app/demo/secrets.json")
        self.assertIn("./config/secrets.json:/app/demo/secrets.json:ro",
                      auth["volumes"])

    def test_entry_script_starts_with_no_users(self):
        """auth-start with the real programs on PATH, in a copy of the
        container's /app: an empty users file, a key pair, a daemon with
        no user to log in."""
        app = tempfile.mkdtemp(prefix="jwt-app-")
        try:
            for d in ("config", "keys", "data"):
                os.makedirs(os.path.join(app, d))
            for f in ("auth.json", "permissions.json"):
                shutil.copy(harness.source("config", f),
                            os.path.join(app, "config", f))
            users = os.path.join(app, "data", "users.json")
            env = {"PATH": harness.BUILD_DIR + ":/usr/bin:/bin",
                   "AUTH_SECRETS": users}
            # The script, not the binary, is the entry point: started
            # here, then watched and stopped as a harness.Daemon.
            d = harness.Daemon("auth_service", [], cwd=app, env=env)
            script = harness.source("deploy", "docker", "auth-start.sh")
            fd, log = tempfile.mkstemp(dir=app)
            proc = subprocess.Popen(
                ["sh", script, "--port", "0", "--config",
                 "config/auth.json"], cwd=app, env=dict(os.environ, **env),
                stdout=subprocess.PIPE, stderr=fd)
            d.proc, d.log_file, d.log_path = proc, os.fdopen(fd, "w"), log
            d.port = d._wait_listening()
            try:
                with open(users, encoding="utf-8") as f:
                    self.assertEqual(json.load(f), {"users": {}})
                self.assertEqual(os.stat(users).st_mode & 0o777, 0o600)
                self.assertTrue(os.path.exists(
                    os.path.join(app, "keys", "private_key.pem")))
                r = d.request("POST", "/login", {"username": "user1",
                                                 "password": "password123"})
                self.assertEqual(r.status, 401)
                self.assertIn("no users yet", d.log())
            finally:
                self.assertEqual(d.stop(), 0, d.log()[-2000:])
        finally:
            shutil.rmtree(app, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
