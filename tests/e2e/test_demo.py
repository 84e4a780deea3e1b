"""The teaching demo page in a real browser: starts auth_service (which
serves /demo) and resource_service (CORS for exactly the demo's origin)
on loopback, then runs demo.mjs in Debian's headless chromium through
playwright-core. ./test.sh installs what it needs (`apt-get install
chromium nodejs npm`, `npm ci --prefix tests/e2e`); when something is
missing the test fails saying what, since a silent pass would hide that
the page was never tested. JWT_E2E_OPTIONAL=1 turns that into a skip
(exit 0) for machines without a browser.

Two configurations, each on ports other than 5000/5001, and the page is
opened without ?resource=, so it must find the resource service from the
running configuration:
- "desktop" (1280 px): both daemons configured with flags
  (--demo-resource-origin, --cors-origin), keys from a PEM file;
- "phone" (390 px): the README's custom-port recipe, environment only
  (AUTH_PORT, RESOURCE_PORT, AUTH_DEMO_RESOURCE_ORIGIN,
  RESOURCE_CORS_ORIGIN) over the shipped config files, the resource
  service following the issuer's JWKS as run.sh starts it; this run also
  changes permissions.json and rotates the signing key, each followed by
  a SIGHUP, and watches the page show it.
DEMO_SCREENSHOTS=DIR writes the screenshots the tutorial shows into DIR
(docs/img to refresh them)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM = "/usr/bin/chromium"
NODE_MODULES = ("playwright-core", "axe-core")


def missing():
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    if shutil.which("node") is None:
        return "node is not installed (apt-get install nodejs)"
    for m in NODE_MODULES:
        if not os.path.isfile(os.path.join(HERE, "node_modules", m,
                                           "package.json")):
            return (f"tests/e2e/node_modules/{m} is missing "
                    "(npm ci --prefix tests/e2e)")
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EnvDaemon(harness.Daemon):
    """A daemon whose port comes from its environment (AUTH_PORT,
    RESOURCE_PORT), as the README's recipe sets it: no --port flag."""

    def start(self):
        fd, self.log_path = tempfile.mkstemp(dir=harness.LOG_DIR,
                                             prefix=self.program + "-",
                                             suffix=".log")
        self.log_file = os.fdopen(fd, "w")
        self.proc = subprocess.Popen(
            [harness.binary(self.program), *self.args], cwd=self.cwd,
            env=self.env, stdout=subprocess.PIPE, stderr=self.log_file,
            stdin=subprocess.DEVNULL)
        self.port = self._wait_listening()
        return self


def run_browser(opts):
    r = subprocess.run(["node", os.path.join(HERE, "demo.mjs"),
                        json.dumps(opts)], cwd=HERE, timeout=300)
    return r.returncode


def stop_all(daemons):
    """Both daemons must stop cleanly, without a sanitizer report (the
    ASan build runs this too)."""
    status = 0
    for d in daemons:
        code = d.stop()
        log = d.log()
        if code != 0 or any(m in log for m in (
                "AddressSanitizer", "LeakSanitizer", "runtime error:")):
            print(f"{d.program} exited {code}")
            status = 1
    return status


def logs(daemons):
    for d in daemons:
        print(f"{d.program} log:\n" + d.log()[-3000:])


def flags_run(tmp, shots):
    kid_dir = os.path.join(tmp, "keys")
    harness.make_keys(kid_dir)
    # The resource service's port is chosen first: the demo page's
    # Content-Security-Policy must name it before auth_service starts.
    rport = free_port()
    resource_url = f"http://127.0.0.1:{rport}"
    daemons = []
    try:
        auth = harness.Daemon("auth_service", [
            "--db", os.path.join(tmp, "auth.db"),
            "--private-key", os.path.join(kid_dir, "private_key.pem"),
            "--secrets", harness.source("config", "secrets.json"),
            "--permissions", harness.source("config", "permissions.json"),
            "--demo-dir", harness.source("web", "demo"),
            "--demo-resource-origin", resource_url]).start()
        daemons.append(auth)
        auth_url = f"http://127.0.0.1:{auth.port}"
        resource = harness.Daemon("resource_service", [
            "--public-keys", os.path.join(kid_dir, "public_key.pem"),
            "--routes", harness.source("config", "routes.json"),
            "--cors-origin", auth_url, "--port", str(rport),
            # The issuer is http://127.0.0.1:<the port it listens on>.
            "--issuer", auth_url]).start()
        daemons.insert(0, resource)
        auth.wait_healthy()
        resource.wait_healthy()
        status = run_browser({"auth": auth_url, "resource": resource_url,
                              "name": "desktop", "width": 1280,
                              "height": 900, "shots": shots})
        status |= stop_all(daemons)
        if status:
            logs(daemons)
        return status
    finally:
        for d in daemons:
            d.stop()


def env_run(tmp, shots):
    kid_dir = os.path.join(tmp, "keys")
    harness.make_keys(kid_dir)
    perms = os.path.join(tmp, "permissions.json")
    shutil.copyfile(harness.source("config", "permissions.json"), perms)
    aport, rport = free_port(), free_port()
    auth_url = f"http://127.0.0.1:{aport}"
    resource_url = f"http://127.0.0.1:{rport}"
    # The README: AUTH_PORT=6000 RESOURCE_PORT=6001 with
    # AUTH_DEMO_RESOURCE_ORIGIN and RESOURCE_CORS_ORIGIN naming each
    # other and RESOURCE_ISSUER the issuer (which follows AUTH_PORT); the rest keeps the database and keys in this test's own dir.
    auth_env = {
        "AUTH_PORT": str(aport),
        "AUTH_DEMO_RESOURCE_ORIGIN": resource_url,
        "AUTH_DB": os.path.join(tmp, "auth.db"),
        "AUTH_PRIVATE_KEY": os.path.join(kid_dir, "private_key.pem"),
        "AUTH_PUBLIC_KEYS_DIR": os.path.join(kid_dir, "published"),
        "AUTH_PERMISSIONS": perms,
    }
    daemons = []
    try:
        auth = EnvDaemon("auth_service", [
            "--config", harness.source("config", "auth.json")],
            env=auth_env).start()
        daemons.append(auth)
        if auth.port != aport:
            print(f"AUTH_PORT={aport} but auth_service listens on {auth.port}")
            return 1
        resource = EnvDaemon("resource_service", [
            "--config", harness.source("config", "resource.json"),
            "--jwks-url", f"{auth_url}/.well-known/jwks.json"],
            env={"RESOURCE_PORT": str(rport),
                 "RESOURCE_CORS_ORIGIN": auth_url,
                 "RESOURCE_ISSUER": auth_url}).start()
        daemons.insert(0, resource)
        if resource.port != rport:
            print(f"RESOURCE_PORT={rport} but resource_service listens "
                  f"on {resource.port}")
            return 1
        auth.wait_healthy()
        resource.wait_healthy()
        rotate = {"argv": [harness.binary("jwt-admin"), "--config",
                           harness.source("config", "auth.json"),
                           "keys", "rotate", "--dir", kid_dir],
                  "env": auth_env}
        status = run_browser({"auth": auth_url, "resource": resource_url,
                              "name": "phone", "width": 390, "height": 844,
                              "shots": shots, "reload_pid": auth.proc.pid,
                              "perms_file": perms, "rotate": rotate})
        status |= stop_all(daemons)
        if status:
            logs(daemons)
        return status
    finally:
        for d in daemons:
            d.stop()


def main():
    why = missing()
    if why and os.environ.get("JWT_E2E_OPTIONAL") == "1":
        print(f"skipped (JWT_E2E_OPTIONAL=1): {why}")
        return 0
    if why:
        print(f"FAIL: {why}; set JWT_E2E_OPTIONAL=1 to skip", file=sys.stderr)
        return 1
    shots = os.environ.get("DEMO_SCREENSHOTS", "")
    if shots:
        shots = os.path.abspath(shots)
        os.makedirs(shots, exist_ok=True)
    status = 0
    for run in (flags_run, env_run):
        tmp = tempfile.mkdtemp(prefix="demo-e2e-")
        try:
            status |= run(tmp, shots)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
